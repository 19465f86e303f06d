#include "aquant/export/provenance.h"

#include <cmath>

#include <nlohmann/json.hpp>

namespace aquant::qdq {

PlanTotals plan_totals(const std::vector<LayerRecord>& layers) {
    PlanTotals t;
    double bits_sum = 0, bits_all = 0;
    for (const LayerRecord& l : layers) {
        ++t.layers;
        t.params += l.params;
        t.bytes_fp32 += l.bytes_fp32;
        t.bytes_stored += l.bytes_stored;
        t.bytes_packed += l.bytes_packed;
        const double p = static_cast<double>(l.params);
        if (l.weight_bits > 0) {
            ++t.quantized_layers;
            t.quantized_params += l.params;
            bits_sum += l.weight_bits * p;
        }
        bits_all += (l.weight_bits > 0 ? l.weight_bits : 32) * p;
    }
    if (t.quantized_params > 0) bits_sum /= static_cast<double>(t.quantized_params);
    t.avg_weight_bits = bits_sum;
    t.avg_weight_bits_all = t.params > 0 ? bits_all / static_cast<double>(t.params) : 0.0;
    return t;
}

namespace {

nlohmann::json layer_json(const LayerRecord& l) {
    nlohmann::json j;
    j["name"] = l.name;
    j["op"] = l.op;
    j["weight"] = l.weight;
    j["params"] = l.params;
    j["weight_bits"] = l.weight_bits;
    j["act_bits"] = l.act_bits;
    j["scheme"] = l.scheme;
    j["storage"] = l.storage;
    j["weight_sqnr_db"] =
        std::isfinite(l.weight_sqnr_db) ? nlohmann::json(l.weight_sqnr_db) : nlohmann::json();
    j["bytes_fp32"] = l.bytes_fp32;
    j["bytes_stored"] = l.bytes_stored;
    j["bytes_packed"] = l.bytes_packed;
    j["bias_quantized"] = l.bias_quantized;
    return j;
}

nlohmann::json totals_json(const PlanTotals& t) {
    nlohmann::json j;
    j["layers"] = t.layers;
    j["quantized_layers"] = t.quantized_layers;
    j["params"] = t.params;
    j["quantized_params"] = t.quantized_params;
    j["avg_weight_bits"] = t.avg_weight_bits;
    j["avg_weight_bits_all"] = t.avg_weight_bits_all;
    j["bytes_fp32"] = t.bytes_fp32;
    j["bytes_stored"] = t.bytes_stored;
    j["bytes_packed"] = t.bytes_packed;
    return j;
}

}  // namespace

std::string plan_json(const ExportPlan& plan, const ExportResult& result) {
    nlohmann::json j;
    j["schema"] = 1;
    j["weights"] = {{"granularity", quant::granularity_name(plan.weights.granularity)},
                    {"block_size", plan.weights.granularity == quant::Granularity::kBlock
                                       ? plan.weights.block_size
                                       : 0},
                    {"range", plan.weights.range},
                    {"symmetric", true},
                    {"narrow_range", true}};
    nlohmann::json act;
    act["bits"] = plan.act_bits;
    if (plan.act_bits > 0) {
        act["scheme"] = quant::scheme_str(activation_scheme());
        act["range"] = plan.activation_range;
        act["tensors"] = result.activation_pairs;
    }
    j["activations"] = act;
    j["max_opset"] = plan.max_opset;
    nlohmann::json layers = nlohmann::json::array();
    for (const LayerRecord& l : result.layers) layers.push_back(layer_json(l));
    j["layers"] = layers;
    j["totals"] = totals_json(plan_totals(result.layers));
    return j.dump();
}

std::string decisions_json(const std::vector<Decision>& decisions) {
    nlohmann::json j = nlohmann::json::array();
    for (const Decision& d : decisions) {
        j.push_back({{"kind", d.kind}, {"node", d.node}, {"what", d.what}});
    }
    return j.dump();
}

void write_provenance(ir::Model& model, const ExportPlan& plan, const ExportResult& result,
                      const std::string& command) {
    model.set_metadata(kMetaVersion, AQUANT_VERSION);
    model.set_metadata(kMetaCommand, command);
    model.set_metadata(kMetaPlan, plan_json(plan, result));
    model.set_metadata(kMetaDecisions, decisions_json(result.decisions));
}

}  // namespace aquant::qdq
