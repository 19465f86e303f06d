// Helpers for the integer-kernel tests (*int*_test.cpp): seeded random integer data, running one
// node of any domain through its registered kernel, and exact comparison with a printed first
// mismatch.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "aquant/core/tensor.h"
#include "aquant/engine/kernel.h"
#include "aquant/engine/kernel_registry.h"
#include "aquant/ir/graph.h"

namespace aquant::engine::inttest {

/// n integers uniform in [lo, hi] from a fixed seed, as T.
template <typename T>
std::vector<T> random_ints(std::size_t n, std::uint32_t seed, int lo, int hi) {
    std::mt19937 rng(seed);
    std::uniform_int_distribution<int> dist(lo, hi);
    std::vector<T> v(n);
    for (auto& x : v) x = static_cast<T>(dist(rng));
    return v;
}

template <typename T>
std::vector<T> elements(const Tensor& t) {
    const T* p = t.data<T>();
    return std::vector<T>(p, p + t.numel());
}

/// Exact equality; on failure names the first differing flat index and the case.
template <typename T>
::testing::AssertionResult same_ints(const std::vector<T>& got, const std::vector<T>& want,
                                     const std::string& what) {
    if (got.size() != want.size()) {
        return ::testing::AssertionFailure() << what << ": " << got.size() << " values, expected "
                                             << want.size();
    }
    std::size_t bad = 0, first = 0;
    for (std::size_t i = 0; i < got.size(); ++i) {
        if (got[i] != want[i] && bad++ == 0) first = i;
    }
    if (bad == 0) return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure()
           << what << ": " << bad << " of " << got.size() << " differ; first at " << first
           << ": got " << +got[first] << ", expected " << +want[first];
}

/// One node of `op_type` in `domain`, run through its registered kernel (no executor).
class Runner {
public:
    Runner(std::string op_type, std::string domain = "")
        : op_type_(std::move(op_type)), domain_(std::move(domain)) {}

    Runner& input(Tensor t, bool constant = false) {
        inputs_.push_back({std::move(t), constant, true});
        return *this;
    }
    Runner& absent() {
        inputs_.push_back({Tensor(), false, false});
        return *this;
    }
    Runner& attr_int(const std::string& name, std::int64_t v) {
        ir::Attribute a;
        a.name = name;
        a.type = ir::AttrType::kInt;
        a.i = v;
        attrs_.push_back(a);
        return *this;
    }
    Runner& attr_ints(const std::string& name, std::vector<std::int64_t> v) {
        ir::Attribute a;
        a.name = name;
        a.type = ir::AttrType::kInts;
        a.ints = std::move(v);
        attrs_.push_back(a);
        return *this;
    }
    Runner& outputs(int n) {
        num_outputs_ = n;
        return *this;
    }

    std::vector<Tensor> run() const {
        ir::Graph g;
        g.name = "test";
        g.source_path = "int_test.onnx";
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
        KernelBuildInfo info{g, n, 13, nullptr};
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
    std::string op_type_, domain_;
    std::vector<In> inputs_;
    std::vector<ir::Attribute> attrs_;
    int num_outputs_ = 1;
};

template <typename T>
Tensor tensor(Dims dims, const std::vector<T>& v) {
    return Tensor::from_vector<T>(std::move(dims), v);
}

inline Tensor scalar_f32(float v) { return Tensor::scalar<float>(v); }

}  // namespace aquant::engine::inttest
