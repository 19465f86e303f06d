#include "aquant/pipeline/quantize.h"

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <fmt/format.h>

#include "aquant/core/log.h"
#include "aquant/data/sidecar.h"
#include "aquant/export/provenance.h"
#include "aquant/io/onnx_reader.h"
#include "aquant/io/onnx_writer.h"
#include "quantize_steps.h"
#include "quantize_target.h"

namespace aquant::pipeline {
namespace {

namespace fs = std::filesystem;

void check_paths(const QuantizeOptions& o) {
    if (o.output_path.empty()) {
        if (o.dry_run) return;
        throw ConfigError("-o: an output path is needed");
    }
    std::error_code ec;
    if (fs::equivalent(o.model_path, o.output_path, ec) ||
        fs::weakly_canonical(o.model_path, ec) == fs::weakly_canonical(o.output_path, ec)) {
        throw ConfigError("-o: '" + o.output_path + "' is the input model; refusing to overwrite it");
    }
    if (!o.report_path.empty()) report_as(nlohmann::json::object(), o.report_path);  // extension
}

// Exactly one target, each in its range.
void check_target(const QuantizeOptions& o) {
    const int n = o.bits.has_value() + o.target_acc.has_value() + o.max_drop.has_value() +
                  o.avg_bits.has_value() + o.size_bytes.has_value();
    if (n == 0) {
        throw ConfigError("no target: pass one of --target-acc A, --max-drop D, --avg-bits B, "
                          "--size BYTES or --bits N");
    }
    if (n > 1) {
        throw ConfigError("several targets: pass only one of --target-acc, --max-drop, "
                          "--avg-bits, --size, --bits");
    }
    if (o.target_acc && !(*o.target_acc > 0 && *o.target_acc <= 1)) {
        throw ConfigError(fmt::format("--target-acc: expected a fraction in (0, 1], got {}",
                                      *o.target_acc));
    }
    if (o.max_drop && !(*o.max_drop >= 0 && *o.max_drop < 1)) {
        throw ConfigError(fmt::format("--max-drop: expected a fraction in [0, 1), got {}",
                                      *o.max_drop));
    }
    if (o.avg_bits && !(*o.avg_bits > 0 && *o.avg_bits <= 32)) {
        throw ConfigError(fmt::format("--avg-bits: expected bits per weight in (0, 32], got {}",
                                      *o.avg_bits));
    }
    if (o.size_bytes && *o.size_bytes <= 0) {
        throw ConfigError("--size: expected a positive number of bytes, got " +
                          std::to_string(*o.size_bytes));
    }
    if (o.max_evals < 2) {
        throw ConfigError("--max-evals: expected >= 2, got " + std::to_string(o.max_evals));
    }
    if (o.bits && (!o.profile_path.empty() || !o.estimator.empty())) {
        throw ConfigError("--bits is a uniform plan: --profile and --estimator need a target "
                          "(--target-acc, --max-drop, --avg-bits or --size)");
    }
}

// One line for a missed accuracy target: what was reached and what would reach it.
std::string miss_message(const detail::Allocation& a) {
    std::vector<std::size_t> order;
    for (std::size_t i = 0; i < a.table.layers.size(); ++i) {
        if (!a.table.layers[i].fixed) order.push_back(i);
    }
    // The most sensitive layers at the largest candidate: keeping them float is the next step.
    std::stable_sort(order.begin(), order.end(), [&](std::size_t x, std::size_t y) {
        return a.table.layers[x].cost.back() > a.table.layers[y].cost.back();
    });
    std::string names;
    for (std::size_t i = 0; i < order.size() && i < 3; ++i) {
        names += (i ? "|" : "") + a.table.layers[order[i]].name;
    }
    return fmt::format("target {} >= {:.4f} not met: the best candidate reached {:.4f} with "
                       "every layer at its largest candidate ({} bits; fp32 {:.4f}); to reach "
                       "it, keep the most sensitive layers float (e.g. --exclude '{}'), add "
                       "larger --weight-bits, or lower the target",
                       a.metric_name, *a.goal, a.measured_metric.value_or(0),
                       a.table.candidate_bits.back(), a.fp32_metric.value_or(0), names);
}

std::string granularity_flag(const QuantizeOptions& o) {
    if (o.weights.granularity == quant::Granularity::kBlock) {
        return "block:" + std::to_string(o.weights.block_size);
    }
    return quant::granularity_name(o.weights.granularity);
}

void append_data_flags(std::ostringstream& os, const std::string& flag, const DataOptions& d) {
    if (!d.path.empty()) os << " " << flag << " " << d.path;
    if (!d.labels_path.empty()) os << " --labels " << d.labels_path;
    if (!d.format.empty()) os << " --format " << d.format;
    if (d.offset) os << " --offset " << d.offset;
    if (d.limit) os << " --limit " << *d.limit;
}

// Metrics without timings, so the recorded metadata is the same for every run.
nlohmann::json stable_metrics(const Metrics& m) {
    nlohmann::json j = m.to_json();
    j.erase("elapsed_ms");
    return j;
}

struct Measured {
    Metrics fp32;
    Metrics quantized;
};

// The float model and the quantized one over the same evaluation batches.
Measured measure(const QuantizeOptions& o, std::shared_ptr<const ir::Model> quantized,
                 const data::Dataset& eval) {
    const auto t0 = std::chrono::steady_clock::now();
    ModelRunner fp32 = ModelRunner::from_file(o.model_path);
    ModelRunner q(std::move(quantized));
    std::string output;
    if (const auto sc = data::find_sidecar(o.model_path)) output = sc->output;
    const std::size_t fi = fp32.output_index(output);
    const std::size_t qi = q.output_index(output);
    MetricAccumulator acc_f, acc_q;
    data::for_each_batch(eval, o.batch, [&](const data::Batch& b) {
        const auto f = fp32.run(b.inputs);
        const auto y = q.run(b.inputs);
        acc_f.add(f.at(fi), b.labels, nullptr);
        acc_q.add(y.at(qi), b.labels, &f.at(fi));
    });
    Measured m{acc_f.result(), acc_q.result()};
    m.quantized.elapsed_ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    logger().info("evaluate: {} samples, {:.1f} s", m.quantized.samples,
                  m.quantized.elapsed_ms / 1000.0);
    return m;
}

// --dry-run: the plan with its per-layer storage and SQNR (the weights are quantized on a copy,
// activations are not calibrated), the predicted size and metric; nothing is written.
QuantizeResult dry_run_result(const QuantizeOptions& o, const ir::Model& prepared,
                              const qdq::ExportPlan& plan,
                              const std::optional<detail::Allocation>& allocation) {
    auto m = std::make_shared<ir::Model>(prepared);
    m->graph = std::make_shared<ir::Graph>(*prepared.graph);
    qdq::ExportPlan weights_only = plan;
    weights_only.act_bits = 0;
    weights_only.activation_params.clear();
    std::vector<qdq::Decision> decisions;
    detail::raise_opset_for_plan(*m, weights_only, decisions);
    const qdq::ExportResult exported = qdq::export_qdq(*m, weights_only);
    QuantizeResult result;
    nlohmann::json plan_j = nlohmann::json::parse(qdq::plan_json(plan, exported));
    for (auto& l : plan_j["layers"]) l["act_bits"] = plan.act_bits;
    result.report["dry_run"] = true;
    result.report["source"] = o.model_path;
    result.report["command"] = quantize_command_line(o);
    result.report["plan"] = plan_j;
    const qdq::PlanTotals t = qdq::plan_totals(exported.layers);
    nlohmann::json pred{{"bytes_packed", t.bytes_packed}, {"bytes_stored", t.bytes_stored},
                        {"avg_weight_bits", t.avg_weight_bits}};
    if (allocation) {
        result.report["allocation"] = detail::allocation_json(*allocation, o);
        if (allocation->predicted_metric) {
            pred["metric"] = *allocation->predicted_metric;
            pred["metric_name"] = allocation->metric_name.empty()
                                      ? (allocation->table.top1_with_labels ? "top1" : "agreement")
                                      : allocation->metric_name;
        }
        if (allocation->goal) {
            result.target_met = allocation->met;
            pred["goal"] = *allocation->goal;
        }
    }
    result.report["predicted"] = pred;
    return result;
}

std::int64_t file_size(const std::string& path) {
    std::error_code ec;
    const auto n = fs::file_size(path, ec);
    return ec ? 0 : static_cast<std::int64_t>(n);
}

}  // namespace

std::string quantize_command_line(const QuantizeOptions& o) {
    std::ostringstream os;
    os << "aquant quantize " << o.model_path;
    if (o.bits) os << " --bits " << *o.bits;
    if (o.target_acc) os << " --target-acc " << *o.target_acc;
    if (o.max_drop) os << " --max-drop " << *o.max_drop;
    if (o.avg_bits) os << " --avg-bits " << *o.avg_bits;
    if (o.size_bytes) os << " --size " << *o.size_bytes;
    if (!o.bits) {
        os << " --allocator " << o.allocator << " --estimator "
           << (o.estimator.empty() ? detail::default_estimator(o.allocator) : o.estimator);
        os << " --weight-bits ";
        for (std::size_t i = 0; i < o.candidate_bits.size(); ++i) {
            os << (i ? "," : "") << o.candidate_bits[i];
        }
        if (!o.profile_path.empty()) os << " --profile " << fs::path(o.profile_path).filename().string();
        if (o.estimator == "loss-aware" || (o.estimator.empty() && o.allocator == "loss-aware")) {
            os << " --loss " << o.loss;
        }
        if (o.target_acc || o.max_drop) os << " --max-evals " << o.max_evals;
    }
    os << " --act-bits " << (o.act_bits ? std::to_string(o.act_bits) : "none");
    os << " --granularity " << granularity_flag(o) << " --weight-range " << o.weights.range;
    if (o.act_bits) os << " --act-range " << o.act_range;
    append_data_flags(os, "--calib", o.calib);
    os << " --calib-samples " << o.calib_samples;
    append_data_flags(os, "--eval", o.eval);
    if (o.max_opset) os << " --max-opset " << o.max_opset;
    if (!o.int4_int8_compute) os << " --int4-compute float";
    for (const auto& e : o.exclude) os << " --exclude '" << e << "'";
    for (const auto& [re, bits] : o.overrides) os << " --override '" << re << "=" << bits << "'";
    if (o.seed) os << " --seed " << *o.seed;
    return os.str();
}

QuantizeResult quantize(const QuantizeOptions& o) {
    check_paths(o);
    check_target(o);
    const auto t_start = std::chrono::steady_clock::now();
    auto model = io::read_model(o.model_path);
    std::vector<qdq::Decision> decisions;
    detail::prepare_float_model(*model, decisions);
    const detail::QuantizeData data = detail::open_quantize_data(*model->graph, o);
    logger().info("calibration data: {}", data.calib->description());
    qdq::ExportPlan plan;
    std::optional<detail::Allocation> allocation;
    if (o.bits) {
        plan = detail::uniform_plan(*model->graph, o, decisions);
    } else {
        allocation = detail::allocate(model, o, data, plan, decisions);
    }
    if (o.dry_run) {
        // No model is written; a --report asked for explicitly still is.
        QuantizeResult r = dry_run_result(o, *model, plan, allocation);
        if (!o.report_path.empty()) write_report_file(r.report, o.report_path);
        return r;
    }
    if (plan.act_bits > 0 && plan.activation_params.empty()) {
        CalibrationOptions co;
        co.act_range = o.act_range;
        co.batch = o.batch;
        const auto tensors = qdq::activation_tensors(*model->graph, plan);
        plan.activation_params = calibrate_activations(model, tensors, *data.calib,
                                                       qdq::activation_scheme(), co)
                                     .params;
    }
    detail::raise_opset_for_plan(*model, plan, decisions);
    qdq::ExportResult exported = qdq::export_qdq(*model, plan);
    decisions.insert(decisions.end(), exported.decisions.begin(), exported.decisions.end());
    exported.decisions = decisions;
    qdq::write_provenance(*model, plan, exported, quantize_command_line(o));
    model->producer_name = "aquant";
    model->producer_version = AQUANT_VERSION;

    if (allocation) {
        model->set_metadata(qdq::kMetaAllocation, detail::allocation_json(*allocation, o).dump());
    }

    QuantizeResult result;
    double seconds_eval = 0;
    if (data.eval) {
        logger().info("evaluation data: {}", data.eval->description());
        auto written = io::read_model_from_bytes(io::serialize_model(*model), o.output_path);
        const Measured m = measure(o, written, *data.eval);
        seconds_eval = m.quantized.elapsed_ms / 1000.0;
        result.fp32 = m.fp32;
        result.quantized = m.quantized;
        nlohmann::json metrics{{"fp32", stable_metrics(m.fp32)},
                               {"quantized", stable_metrics(m.quantized)}};
        if (allocation && allocation->goal) {
            const std::optional<double> reached =
                allocation->metric_name == "top1" ? m.quantized.top1 : m.quantized.agreement;
            result.target_met = reached && *reached >= *allocation->goal;
            metrics["target"] = {{"metric", allocation->metric_name},
                                 {"goal", *allocation->goal},
                                 {"reached", reached.value_or(0)},
                                 {"met", result.target_met}};
            if (!result.target_met) {
                detail::Allocation a = *allocation;
                a.measured_metric = reached;
                result.target_message = miss_message(a);
            } else {
                result.target_message = fmt::format(
                    "target {} >= {:.4f} met: {:.4f} at {:.2f} average weight bits", 
                    allocation->metric_name, *allocation->goal, reached.value_or(0),
                    allocation->plan.avg_weight_bits);
            }
        }
        model->set_metadata(qdq::kMetaMetrics, metrics.dump());
    }
    io::write_model(*model, o.output_path, {}, o.model_path);
    result.report = detail::report_from_metadata(*model);
    nlohmann::json secs;
    if (allocation) {
        secs["sensitivity"] = allocation->seconds_sensitivity;
        secs["calibration"] = allocation->seconds_calibration;
        secs["search"] = allocation->seconds_search;
    }
    secs["evaluation"] = seconds_eval;
    secs["total"] = std::chrono::duration<double>(std::chrono::steady_clock::now() - t_start).count();
    result.report["seconds"] = secs;
    result.report["model"] = o.output_path;
    result.report["source"] = o.model_path;
    result.report["file_bytes"] = {{"fp32", file_size(o.model_path)},
                                   {"quantized", file_size(o.output_path)}};
    if (!o.report_path.empty()) write_report_file(result.report, o.report_path);
    return result;
}

}  // namespace aquant::pipeline
