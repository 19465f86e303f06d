// Test helpers for the NN kernels: run one node through its registered kernel (a hand-built
// ir::Graph with one node, no executor), random data, and an oracle comparison that prints
// where and how much a result is off.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "aquant/core/tensor.h"
#include "aquant/engine/kernel.h"
#include "aquant/engine/kernel_registry.h"
#include "aquant/ir/graph.h"

namespace aquant::engine::testing {

/// Builds a graph holding one node of `op_type`, runs its kernel, returns the outputs.
class NodeRunner {
public:
    explicit NodeRunner(std::string op_type, std::int64_t opset = 17)
        : op_type_(std::move(op_type)), opset_(opset) {}

    /// Adds the next input; `constant` makes it an initializer the factory can see.
    NodeRunner& input(Tensor t, bool constant = false) {
        inputs_.push_back({std::move(t), constant, true});
        return *this;
    }
    /// An omitted optional input ("").
    NodeRunner& absent() {
        inputs_.push_back({Tensor(), false, false});
        return *this;
    }
    NodeRunner& attr(const std::string& name, std::int64_t v) {
        ir::Attribute a = named(name, ir::AttrType::kInt);
        a.i = v;
        attrs_.push_back(std::move(a));
        return *this;
    }
    NodeRunner& attr(const std::string& name, int v) { return attr(name, std::int64_t{v}); }
    NodeRunner& attr(const std::string& name, float v) {
        ir::Attribute a = named(name, ir::AttrType::kFloat);
        a.f = v;
        attrs_.push_back(std::move(a));
        return *this;
    }
    NodeRunner& attr(const std::string& name, const std::string& v) {
        ir::Attribute a = named(name, ir::AttrType::kString);
        a.s = v;
        attrs_.push_back(std::move(a));
        return *this;
    }
    NodeRunner& attr(const std::string& name, const char* v) { return attr(name, std::string(v)); }
    NodeRunner& attr(const std::string& name, std::vector<std::int64_t> v) {
        ir::Attribute a = named(name, ir::AttrType::kInts);
        a.ints = std::move(v);
        attrs_.push_back(std::move(a));
        return *this;
    }
    NodeRunner& attr(const std::string& name, std::vector<float> v) {
        ir::Attribute a = named(name, ir::AttrType::kFloats);
        a.floats = std::move(v);
        attrs_.push_back(std::move(a));
        return *this;
    }
    NodeRunner& attr(const std::string& name, std::vector<std::string> v) {
        ir::Attribute a = named(name, ir::AttrType::kStrings);
        a.strings = std::move(v);
        attrs_.push_back(std::move(a));
        return *this;
    }
    /// The node's domain ("" is the default ONNX domain).
    NodeRunner& domain(std::string d) {
        domain_ = std::move(d);
        return *this;
    }
    NodeRunner& outputs(int n) {
        num_outputs_ = n;
        return *this;
    }

    std::vector<Tensor> run() const {
        ir::Graph g;
        g.name = "test";
        ir::Node node;
        node.name = "n0";
        node.op_type = op_type_;
        node.domain = domain_;
        node.attributes = attrs_;
        std::vector<const Tensor*> feeds;
        for (std::size_t i = 0; i < inputs_.size(); ++i) {
            const In& in = inputs_[i];
            if (!in.present) {
                node.inputs.push_back(ir::ValueId{});
                feeds.push_back(nullptr);
                continue;
            }
            const std::string name = "in" + std::to_string(i);
            node.inputs.push_back(in.constant ? g.add_initializer(name, in.value)
                                              : g.value_named(name));
            feeds.push_back(&in.value);
        }
        for (int i = 0; i < num_outputs_; ++i) {
            node.outputs.push_back(g.value_named("out" + std::to_string(i)));
        }
        const ir::NodeId id = g.add_node(std::move(node));
        const ir::Node& n = g.node(id);
        const KernelFactory* f = kernel_registry().find(op_type_, domain_);
        if (!f) throw InternalError("no kernel registered for " + op_type_);
        KernelBuildInfo info{g, n, opset_, nullptr};
        KernelPtr k = (*f)(info);
        std::vector<Tensor> outs(static_cast<std::size_t>(num_outputs_));
        KernelContext ctx(g, n, feeds, outs, nullptr);
        k->run(ctx);
        return outs;
    }

    Tensor run1() const { return run().at(0); }

private:
    struct In {
        Tensor value;
        bool constant;
        bool present;
    };

    static ir::Attribute named(const std::string& name, ir::AttrType t) {
        ir::Attribute a;
        a.name = name;
        a.type = t;
        return a;
    }

    std::string op_type_;
    std::string domain_;
    std::int64_t opset_;
    std::vector<In> inputs_;
    std::vector<ir::Attribute> attrs_;
    int num_outputs_ = 1;
};

/// n floats uniform in [lo, hi) from a fixed seed.
inline std::vector<float> random_floats(std::size_t n, std::uint32_t seed, float lo = -1.0f,
                                        float hi = 1.0f) {
    std::mt19937 rng(seed);
    std::uniform_real_distribution<float> dist(lo, hi);
    std::vector<float> v(n);
    for (auto& x : v) x = dist(rng);
    return v;
}

inline Tensor f32(Dims dims, const std::vector<float>& v) { return Tensor::from_vector(dims, v); }

inline std::vector<float> values(const Tensor& t) {
    const float* p = t.data<float>();
    return std::vector<float>(p, p + t.numel());
}

/// Passes when max_i |got_i - want_i| <= tol * max(1, max_i |want_i|) (error relative to the
/// output's magnitude, which suits sums whose terms cancel). Reports the worst element.
inline ::testing::AssertionResult near_rel(const std::vector<float>& got,
                                           const std::vector<float>& want, double tol,
                                           const std::string& what) {
    if (got.size() != want.size()) {
        return ::testing::AssertionFailure() << what << ": " << got.size() << " values, expected "
                                             << want.size();
    }
    double scale = 1.0, worst = 0.0;
    std::size_t at = 0;
    for (float w : want) scale = std::max(scale, static_cast<double>(std::fabs(w)));
    for (std::size_t i = 0; i < got.size(); ++i) {
        const double e = std::fabs(static_cast<double>(got[i]) - want[i]);
        if (!(e <= worst) || std::isnan(got[i])) {
            worst = std::isnan(got[i]) ? INFINITY : e;
            at = i;
        }
    }
    if (worst <= tol * scale) return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure()
           << what << ": max error " << worst << " at element " << at << " (got " << got[at]
           << ", expected " << want[at] << "), allowed " << tol * scale;
}

inline std::string dims_list(const std::vector<std::int64_t>& v) { return dims_str(Dims(v)); }

}  // namespace aquant::engine::testing
