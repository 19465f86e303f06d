// Small models built through the IR for io tests (no files needed).
#pragma once

#include "aquant/ir/graph.h"

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace aquant::iotest {

inline ir::Attribute attr_int(const std::string& name, std::int64_t v) {
    ir::Attribute a;
    a.name = name;
    a.type = ir::AttrType::kInt;
    a.i = v;
    return a;
}

inline ir::Attribute attr_ints(const std::string& name, std::vector<std::int64_t> v) {
    ir::Attribute a;
    a.name = name;
    a.type = ir::AttrType::kInts;
    a.ints = std::move(v);
    return a;
}

inline ir::TypeInfo tensor_type(DType dt, std::vector<ir::Dim> dims) {
    ir::TypeInfo t;
    t.elem_type = dt;
    t.shape = std::move(dims);
    return t;
}

inline ir::NodeId add(ir::Graph& g, const std::string& name, const std::string& op,
                      const std::vector<std::string>& inputs,
                      const std::vector<std::string>& outputs,
                      std::vector<ir::Attribute> attrs = {}) {
    ir::Node n;
    n.name = name;
    n.op_type = op;
    for (const auto& i : inputs) {
        n.inputs.push_back(i.empty() ? ir::ValueId{} : g.value_named(i));
    }
    for (const auto& o : outputs) {
        n.outputs.push_back(g.value_named(o));
    }
    n.attributes = std::move(attrs);
    return g.add_node(std::move(n));
}

/// Deterministic float weights: value i is ((i * 37) % 101 - 50) / 64.
inline Tensor weights(Dims dims) {
    Tensor t(DType::kF32, std::move(dims));
    float* p = t.data<float>();
    for (std::int64_t i = 0; i < t.numel(); ++i) {
        p[i] = static_cast<float>((i * 37) % 101 - 50) / 64.0f;
    }
    return t;
}

/// x f32[N,1,8,8] -> Conv(4x1x3x3, pads 1) -> Relu -> MaxPool(2, stride 2) -> Flatten ->
/// Gemm(64x10) -> QuantizeLinear/DequantizeLinear (uint8) -> Softmax -> y. Only x and y are typed.
inline std::shared_ptr<ir::Model> conv_model(std::int64_t opset = 13, std::int64_t ir_version = 8) {
    auto m = std::make_shared<ir::Model>();
    m->ir_version = ir_version;
    m->producer_name = "io_test";
    m->set_opset("", opset);
    ir::Graph& g = *m->graph;
    g.name = "conv_model";
    const ir::ValueId x = g.value_named("x");
    g.value(x).type = tensor_type(DType::kF32, {ir::Dim{-1, "N"}, {1, {}}, {8, {}}, {8, {}}});
    g.inputs.push_back(x);
    g.add_initializer("conv.w", weights({4, 1, 3, 3}));
    g.add_initializer("conv.b", weights({4}));
    g.add_initializer("fc.w", weights({64, 10}));
    g.add_initializer("fc.b", weights({10}));
    g.add_initializer("q.scale", Tensor::scalar(0.05f));
    g.add_initializer("q.zero_point", Tensor::scalar<std::uint8_t>(128));
    add(g, "conv", "Conv", {"x", "conv.w", "conv.b"}, {"conv_out"},
        {attr_ints("kernel_shape", {3, 3}), attr_ints("pads", {1, 1, 1, 1})});
    add(g, "relu", "Relu", {"conv_out"}, {"relu_out"});
    add(g, "pool", "MaxPool", {"relu_out"}, {"pool_out"},
        {attr_ints("kernel_shape", {2, 2}), attr_ints("strides", {2, 2})});
    add(g, "flatten", "Flatten", {"pool_out"}, {"flat"}, {attr_int("axis", 1)});
    add(g, "fc", "Gemm", {"flat", "fc.w", "fc.b"}, {"logits"});
    add(g, "quant", "QuantizeLinear", {"logits", "q.scale", "q.zero_point"}, {"logits_q"});
    add(g, "dequant", "DequantizeLinear", {"logits_q", "q.scale", "q.zero_point"}, {"logits_dq"});
    add(g, "softmax", "Softmax", {"logits_dq"}, {"y"}, {attr_int("axis", 1)});
    const ir::ValueId y = g.value_named("y");
    g.value(y).type = tensor_type(DType::kF32, {ir::Dim{-1, "N"}, {10, {}}});
    g.outputs.push_back(y);
    g.rebuild_uses();
    return m;
}

}  // namespace aquant::iotest
