#include <regex>

#include "aquant/ir/layers.h"
#include "quantize_steps.h"

namespace aquant::pipeline::detail {

std::regex compile_regex(const std::string& flag, const std::string& pattern) {
    try {
        return std::regex(pattern, std::regex::ECMAScript);
    } catch (const std::regex_error& e) {
        throw ConfigError(flag + ": invalid regular expression '" + pattern + "': " + e.what());
    }
}

namespace {

void check_bits(const std::string& flag, int bits, bool allow_float) {
    if ((allow_float && bits == 0) || (bits >= 2 && bits <= 8)) return;
    throw ConfigError(flag + ": weight bits " + std::to_string(bits) + ", expected 2..8" +
                      (allow_float ? " or 0 (float)" : ""));
}

}  // namespace

qdq::ExportPlan uniform_plan(const ir::Graph& g, const QuantizeOptions& o,
                             std::vector<qdq::Decision>& decisions) {
    if (!o.bits) throw ConfigError("no target: pass --bits N (uniform weight bits)");
    check_bits("--bits", *o.bits, false);
    std::vector<std::pair<std::string, std::regex>> excludes;
    for (const auto& e : o.exclude) excludes.emplace_back(e, compile_regex("--exclude", e));
    std::vector<std::tuple<std::string, std::regex, int>> overrides;
    for (const auto& [pattern, bits] : o.overrides) {
        check_bits("--override " + pattern, bits, true);
        overrides.emplace_back(pattern, compile_regex("--override", pattern), bits);
    }
    qdq::ExportPlan plan;
    for (const ir::Layer& layer : ir::quantizable_layers(g)) {
        const std::string& name = g.node(layer.node).name;
        int bits = *o.bits;
        for (const auto& [pattern, re, b] : overrides) {
            if (!std::regex_search(name, re)) continue;
            bits = b;
            decisions.push_back({"override", name,
                                 "--override '" + pattern + "=" + std::to_string(b) + "'"});
        }
        for (const auto& [pattern, re] : excludes) {
            if (!std::regex_search(name, re)) continue;
            bits = 0;
            decisions.push_back({"excluded", name, "--exclude '" + pattern + "': kept float"});
            break;
        }
        plan.weight_bits[name] = bits;
    }
    set_plan_options(plan, o);
    return plan;
}

void set_plan_options(qdq::ExportPlan& plan, const QuantizeOptions& o) {
    plan.act_bits = o.act_bits;
    plan.weights = o.weights;
    plan.max_opset = o.max_opset;
    plan.int4_int8_compute = o.int4_int8_compute;
    plan.activation_range = o.act_range;
}

}  // namespace aquant::pipeline::detail
