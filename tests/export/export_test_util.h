// Hand-built models for export and pipeline tests: a small builder over ir::Model, seeded
// random tensors, and a helper that runs a model through the reference engine.
#pragma once

#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "aquant/core/tensor.h"
#include "aquant/engine/executor.h"
#include "aquant/ir/graph.h"

namespace aquant::testing {

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

/// Uniform floats in [lo, hi) from a fixed seed.
inline Tensor random_tensor(Dims dims, unsigned seed, float lo = -1.0f, float hi = 1.0f) {
    Tensor t(DType::kF32, std::move(dims));
    std::mt19937 rng(seed);
    std::uniform_real_distribution<float> dist(lo, hi);
    float* p = t.data<float>();
    for (std::int64_t i = 0; i < t.numel(); ++i) p[i] = dist(rng);
    return t;
}

class ModelBuilder {
public:
    explicit ModelBuilder(std::int64_t opset = 17, std::int64_t ir_version = 8)
        : model_(std::make_shared<ir::Model>()) {
        model_->ir_version = ir_version;
        model_->set_opset("", opset);
        model_->graph->name = "test";
    }

    ir::Graph& graph() { return *model_->graph; }

    ir::ValueId input(const std::string& name, const Dims& dims) {
        ir::Value v;
        v.name = name;
        ir::TypeInfo t;
        t.elem_type = DType::kF32;
        std::vector<ir::Dim> shape;
        for (auto d : dims) shape.push_back(ir::Dim{d, {}});
        t.shape = shape;
        v.type = t;
        const ir::ValueId id = graph().add_value(std::move(v));
        graph().inputs.push_back(id);
        return id;
    }

    ir::ValueId init(const std::string& name, Tensor t) {
        return graph().add_initializer(name, std::move(t));
    }

    /// Adds a node; outputs are named "<name>_out" (and "<name>_out<k>" for k >= 1).
    std::vector<ir::ValueId> node_n(const std::string& op, const std::string& name,
                                    std::vector<ir::ValueId> inputs,
                                    std::vector<ir::Attribute> attrs = {}, int outputs = 1) {
        ir::Node n;
        n.op_type = op;
        n.name = name;
        n.inputs = std::move(inputs);
        n.attributes = std::move(attrs);
        for (int k = 0; k < outputs; ++k) {
            n.outputs.push_back(
                graph().value_named(name + "_out" + (k ? std::to_string(k) : std::string())));
        }
        const auto outs = n.outputs;
        graph().add_node(std::move(n));
        return outs;
    }

    ir::ValueId node(const std::string& op, const std::string& name,
                     std::vector<ir::ValueId> inputs, std::vector<ir::Attribute> attrs = {}) {
        return node_n(op, name, std::move(inputs), std::move(attrs))[0];
    }

    void output(ir::ValueId v) { graph().outputs.push_back(v); }

    std::shared_ptr<ir::Model> build() {
        graph().rebuild_uses();
        return model_;
    }

private:
    std::shared_ptr<ir::Model> model_;
};

/// Deep copy through the graph's value semantics (tensors share buffers, which no pass mutates).
inline std::shared_ptr<ir::Model> copy_model(const ir::Model& m) {
    auto c = std::make_shared<ir::Model>(m);
    c->graph = std::make_shared<ir::Graph>(*m.graph);
    return c;
}

inline std::vector<Tensor> run_model(std::shared_ptr<const ir::Model> m,
                                     const std::map<std::string, Tensor>& feeds) {
    engine::Executor exec(std::move(m));
    return exec.run(feeds);
}

/// Max |a - b| / max(|b|, floor) over all elements.
inline double max_rel_diff(const Tensor& a, const Tensor& b, double floor = 1e-3) {
    const auto x = a.to_f64();
    const auto y = b.to_f64();
    double worst = 0;
    for (std::size_t i = 0; i < x.size() && i < y.size(); ++i) {
        worst = std::max(worst, std::abs(x[i] - y[i]) / std::max(std::abs(y[i]), floor));
    }
    return worst;
}

/// The nodes of a type, in storage order.
inline std::vector<const ir::Node*> nodes_of(const ir::Graph& g, const std::string& op) {
    std::vector<const ir::Node*> out;
    for (const ir::Node& n : g.nodes()) {
        if (!n.removed && n.op_type == op) out.push_back(&n);
    }
    return out;
}

}  // namespace aquant::testing
