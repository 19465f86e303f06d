// Builds small ir::Models in tests: inputs with (symbolic) shapes, initializers, nodes with
// attributes, outputs.
#pragma once

#include "aquant/ir/graph.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

namespace aquant::test {

inline ir::Attribute attr_int(const std::string& name, std::int64_t v) {
    ir::Attribute a;
    a.name = name;
    a.type = ir::AttrType::kInt;
    a.i = v;
    return a;
}

inline ir::Attribute attr_float(const std::string& name, float v) {
    ir::Attribute a;
    a.name = name;
    a.type = ir::AttrType::kFloat;
    a.f = v;
    return a;
}

inline ir::Attribute attr_ints(const std::string& name, std::vector<std::int64_t> v) {
    ir::Attribute a;
    a.name = name;
    a.type = ir::AttrType::kInts;
    a.ints = std::move(v);
    return a;
}

inline ir::Attribute attr_string(const std::string& name, const std::string& v) {
    ir::Attribute a;
    a.name = name;
    a.type = ir::AttrType::kString;
    a.s = v;
    return a;
}

inline ir::Attribute attr_graph(const std::string& name, std::shared_ptr<ir::Graph> g) {
    ir::Attribute a;
    a.name = name;
    a.type = ir::AttrType::kGraph;
    a.g = std::move(g);
    return a;
}

/// One dim of an input's declared shape: a size, or a symbolic name.
struct DimSpec {
    DimSpec(std::int64_t v) : dim{v, {}} {}  // NOLINT: implicit on purpose

    DimSpec(const char* p) : dim{-1, p} {}  // NOLINT

    ir::Dim dim;
};

class GraphBuilder {
public:
    explicit GraphBuilder(std::shared_ptr<ir::Graph> g = std::make_shared<ir::Graph>())
        : g_(std::move(g)) {}

    ir::ValueId input(const std::string& name, DType t, std::vector<DimSpec> dims) {
        ir::ValueId id = g_->value_named(name);
        ir::TypeInfo ti;
        ti.elem_type = t;
        std::vector<ir::Dim> shape;
        for (const auto& d : dims) {
            shape.push_back(d.dim);
        }
        ti.shape = shape;
        g_->value(id).type = ti;
        g_->inputs.push_back(id);
        return id;
    }

    /// An input without a declared type (sub-graph inputs in some models).
    ir::ValueId untyped_input(const std::string& name) {
        ir::ValueId id = g_->value_named(name);
        g_->inputs.push_back(id);
        return id;
    }

    ir::ValueId initializer(const std::string& name, Tensor t) {
        return g_->add_initializer(name, std::move(t));
    }

    ir::NodeId node(const std::string& op, const std::vector<std::string>& inputs,
                    const std::vector<std::string>& outputs, std::vector<ir::Attribute> attrs = {},
                    const std::string& name = "", const std::string& domain = "") {
        ir::Node n;
        n.op_type = op;
        n.domain = domain;
        n.name = name.empty() ? op + "_" + std::to_string(g_->num_nodes()) : name;
        for (const auto& in : inputs) {
            n.inputs.push_back(in.empty() ? ir::ValueId{} : g_->value_named(in));
        }
        for (const auto& out : outputs) {
            n.outputs.push_back(g_->value_named(out));
        }
        n.attributes = std::move(attrs);
        return g_->add_node(std::move(n));
    }

    void output(const std::string& name) { g_->outputs.push_back(g_->value_named(name)); }

    ir::ValueId id(const std::string& name) const { return *g_->find_value(name); }

    std::shared_ptr<ir::Graph> graph() {
        g_->rebuild_uses();
        return g_;
    }

    std::shared_ptr<ir::Model> model(std::int64_t opset = 17) {
        auto m = std::make_shared<ir::Model>();
        m->ir_version = 8;
        m->set_opset("", opset);
        m->graph = graph();
        return m;
    }

private:
    std::shared_ptr<ir::Graph> g_;
};

inline Tensor tensor_f32(Dims dims, std::vector<float> v) {
    return Tensor::from_vector<float>(std::move(dims), v);
}

inline Tensor tensor_i64(Dims dims, std::vector<std::int64_t> v) {
    return Tensor::from_vector<std::int64_t>(std::move(dims), v);
}

/// gtest assertion: `text` contains `part` (prints both otherwise).
inline ::testing::AssertionResult contains(const std::string& text, const std::string& part) {
    if (text.find(part) != std::string::npos) {
        return ::testing::AssertionSuccess();
    }
    return ::testing::AssertionFailure() << "'" << text << "' does not contain '" << part << "'";
}

/// Deterministic pseudo-random floats in [-1, 1) (fixed seed per call site).
inline std::vector<float> random_floats(std::size_t n, std::uint32_t seed) {
    std::vector<float> v(n);
    std::uint32_t s = seed * 2654435761u + 1u;
    for (auto& x : v) {
        s = s * 1664525u + 1013904223u;
        x = static_cast<float>(s >> 8) / static_cast<float>(1u << 23) - 1.0f;
    }
    return v;
}

}  // namespace aquant::test
