#include "export/qdq_nodes.h"

#include <algorithm>

#include "aquant/quant/quantize.h"

namespace aquant::qdq::detail {
namespace {

ir::Attribute int_attr(const std::string& name, std::int64_t value) {
    ir::Attribute a;
    a.name = name;
    a.type = ir::AttrType::kInt;
    a.i = value;
    return a;
}

ir::Node make_node(const std::string& op, const std::string& name,
                   std::vector<ir::ValueId> inputs, ir::ValueId output) {
    ir::Node n;
    n.op_type = op;
    n.name = name;
    n.inputs = std::move(inputs);
    n.outputs = {output};
    return n;
}

bool is_graph_output(const ir::Graph& g, ir::ValueId v) {
    return std::find(g.outputs.begin(), g.outputs.end(), v) != g.outputs.end();
}

}  // namespace

ir::ValueId add_dequantized_constant(ir::GraphPatch& patch, const std::string& base,
                                     const Tensor& codes, const quant::QuantParams& params,
                                     ir::ValueId* scale) {
    const ir::ValueId q = patch.add_initializer(base + "_quantized", codes);
    const ir::ValueId s = patch.add_initializer(base + "_scale", quant::scale_tensor(params));
    if (scale) *scale = s;
    const ir::ValueId z = patch.add_initializer(base + "_zero_point",
                                                quant::zero_point_tensor(params, codes.dtype()));
    const ir::ValueId out = patch.add_value(base + "_DequantizeLinear_Output");
    ir::Node dq = make_node("DequantizeLinear", base + "_DequantizeLinear", {q, s, z}, out);
    if (params.scheme.granularity != quant::Granularity::kTensor) {
        dq.attributes.push_back(int_attr("axis", params.scheme.axis));
    }
    if (params.scheme.granularity == quant::Granularity::kBlock) {
        dq.attributes.push_back(int_attr("block_size", params.scheme.block_size));
    }
    patch.add_node(std::move(dq));
    return out;
}

ir::ValueId add_int8_requantization(ir::GraphPatch& patch, const std::string& base,
                                    ir::ValueId dq_out, ir::ValueId s,
                                    const quant::QuantParams& params) {
    const ir::ValueId z = patch.add_initializer(
        base + "_int8_zero_point", quant::zero_point_tensor(params, DType::kI8));
    const ir::ValueId q_out = patch.add_value(base + "_int8");
    const ir::ValueId out = patch.add_value(base + "_int8_DequantizeLinear_Output");
    ir::Node q = make_node("QuantizeLinear", base + "_int8_QuantizeLinear", {dq_out, s, z}, q_out);
    ir::Node dq = make_node("DequantizeLinear", base + "_int8_DequantizeLinear", {q_out, s, z}, out);
    if (params.scheme.granularity == quant::Granularity::kChannel) {
        q.attributes.push_back(int_attr("axis", params.scheme.axis));
        dq.attributes.push_back(int_attr("axis", params.scheme.axis));
    }
    patch.add_node(std::move(q));
    patch.add_node(std::move(dq));
    return out;
}

ir::ValueId add_dequantized_bias(ir::GraphPatch& patch, const std::string& base,
                                 const Tensor& codes, const std::vector<float>& scale) {
    const Dims scale_dims = scale.size() == 1 ? Dims{} : Dims{static_cast<std::int64_t>(scale.size())};
    const ir::ValueId q = patch.add_initializer(base + "_quantized", codes);
    const ir::ValueId s =
        patch.add_initializer(base + "_scale", Tensor::from_vector<float>(scale_dims, scale));
    const ir::ValueId z =
        patch.add_initializer(base + "_zero_point", Tensor(DType::kI32, scale_dims));
    const ir::ValueId out = patch.add_value(base + "_DequantizeLinear_Output");
    ir::Node dq = make_node("DequantizeLinear", base + "_DequantizeLinear", {q, s, z}, out);
    if (scale.size() != 1) dq.attributes.push_back(int_attr("axis", 0));
    patch.add_node(std::move(dq));
    return out;
}

void insert_activation_pair(ir::Graph& g, ir::GraphPatch& patch, ir::ValueId v,
                            const quant::QuantParams& params) {
    const std::string name = g.value(v).name;
    const ir::ValueId s = patch.add_initializer(name + "_scale", quant::scale_tensor(params));
    const ir::ValueId z = patch.add_initializer(name + "_zero_point",
                                                quant::zero_point_tensor(params));
    ir::ValueId src = v;
    ir::ValueId dq_out;
    const ir::NodeId producer = g.producer(v);
    if (is_graph_output(g, v) && producer.valid()) {
        src = patch.add_value(name + "_QuantizeLinear_Input", g.value(v).type);
        patch.set_output(producer, static_cast<std::size_t>(g.value(v).producer_slot), src);
        dq_out = v;
    } else {
        dq_out = patch.add_value(name + "_DequantizeLinear_Output", g.value(v).type);
        patch.replace_uses(v, dq_out);
    }
    const ir::ValueId q_out = patch.add_value(name + "_QuantizeLinear_Output");
    patch.add_node(make_node("QuantizeLinear", name + "_QuantizeLinear", {src, s, z}, q_out));
    patch.add_node(make_node("DequantizeLinear", name + "_DequantizeLinear", {q_out, s, z}, dq_out));
}

}  // namespace aquant::qdq::detail
