// Per-layer bit allocation for `quantize` with a target (--target-acc, --max-drop, --avg-bits,
// --size): sensitivity table (measured, or a --profile), fixed layers, allocator, and for
// accuracy targets the budget search with every candidate exported and measured.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>

#include <fmt/format.h>

#include "aquant/core/log.h"
#include "aquant/data/sidecar.h"
#include "aquant/ir/layers.h"
#include "aquant/pipeline/calibrate.h"
#include "quantize_steps.h"
#include "quantize_target.h"

namespace aquant::pipeline::detail {
namespace {

double seconds_since(std::chrono::steady_clock::time_point t0) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

std::int64_t argmax_row(const float* p, std::int64_t n) {
    return static_cast<std::int64_t>(std::max_element(p, p + n) - p);
}

// The metric accuracy targets are checked with, on the evaluation data: top-1 accuracy with
// labels, else top-1 agreement with the fp32 model. The fp32 model runs once; only its argmax
// per sample is kept.
class CandidateMeter {
public:
    CandidateMeter(std::shared_ptr<const ir::Model> fp32, const std::string& output,
                   const data::Dataset& eval, std::int64_t batch)
        : eval_(eval), batch_(batch), output_(output) {
        ModelRunner runner(std::move(fp32));
        const std::size_t oi = runner.output_index(output_);
        with_labels_ = eval.has_labels();
        data::for_each_batch(eval_, batch_, [&](const data::Batch& b) {
            const Tensor y = runner.run(b.inputs).at(oi);
            if (with_labels_) {
                for (double v : b.labels->to_f64()) labels_.push_back(static_cast<std::int64_t>(v));
            }
            append_argmax(y, fp32_top_);
        });
        const std::vector<std::int64_t>& want = with_labels_ ? labels_ : fp32_top_;
        fp32_metric_ = score(fp32_top_, want);
    }

    bool with_labels() const { return with_labels_; }
    const char* metric_name() const { return with_labels_ ? "top1" : "agreement"; }
    double fp32_metric() const { return fp32_metric_; }

    /// The metric of a quantized candidate. A candidate that cannot reach `goal` any more
    /// (more misses than 1 - goal allows) stops early: the result is then the best it could
    /// still have reached, which is below the goal, so the pass/fail answer is exact.
    double measure(std::shared_ptr<const ir::Model> quantized,
                   std::optional<double> goal = std::nullopt) const {
        ModelRunner runner(std::move(quantized));
        const std::size_t oi = runner.output_index(output_);
        const std::vector<std::int64_t>& want = with_labels_ ? labels_ : fp32_top_;
        const auto n = static_cast<std::int64_t>(want.size());
        // Largest number of misses that still allows hits / n >= goal.
        const std::int64_t allowed =
            goal ? n - static_cast<std::int64_t>(std::ceil(*goal * static_cast<double>(n) - 1e-9))
                 : n;
        std::vector<std::int64_t> top;
        top.reserve(want.size());
        std::int64_t misses = 0;
        bool stopped = false;
        data::for_each_batch(eval_, batch_, [&](const data::Batch& b) {
            if (stopped) return;
            const std::size_t first = top.size();
            append_argmax(runner.run(b.inputs).at(oi), top);
            for (std::size_t i = first; i < top.size() && i < want.size(); ++i) {
                misses += top[i] != want[i];
            }
            stopped = misses > allowed;
        });
        if (stopped) {
            logger().debug("candidate stopped after {} of {} samples: {} misses", top.size(), n,
                           misses);
            return static_cast<double>(n - misses) / static_cast<double>(n);
        }
        return score(top, want);
    }

private:
    static void append_argmax(const Tensor& y, std::vector<std::int64_t>& out) {
        const std::vector<float> v = y.to_f32();
        const std::int64_t rows = y.rank() == 0 ? 1 : y.dim(0);
        const std::int64_t cols = rows ? y.numel() / rows : 0;
        for (std::int64_t i = 0; i < rows; ++i) out.push_back(argmax_row(v.data() + i * cols, cols));
    }
    static double score(const std::vector<std::int64_t>& got, const std::vector<std::int64_t>& want) {
        if (got.size() != want.size() || got.empty()) {
            throw InternalError("candidate meter: " + std::to_string(got.size()) +
                                " predictions for " + std::to_string(want.size()) + " samples");
        }
        std::int64_t hits = 0;
        for (std::size_t i = 0; i < got.size(); ++i) hits += got[i] == want[i];
        return static_cast<double>(hits) / static_cast<double>(got.size());
    }

    const data::Dataset& eval_;
    std::int64_t batch_;
    std::string output_;
    bool with_labels_ = false;
    std::vector<std::int64_t> labels_, fp32_top_;
    double fp32_metric_ = 0;
};

std::shared_ptr<ir::Model> clone_model(const ir::Model& m) {
    auto c = std::make_shared<ir::Model>(m);
    c->graph = std::make_shared<ir::Graph>(*m.graph);
    return c;
}

// The profile must describe this model: the same quantizable layers, in order, with the same
// sizes. Names the profile file and the first layer that differs.
void check_profile(const sensitivity::SensitivityTable& t, const ir::Graph& g,
                   const std::string& profile, const std::string& model) {
    const auto layers = ir::quantizable_layers(g);
    if (layers.size() != t.layers.size()) {
        throw ConfigError(fmt::format("--profile {}: {} layers, but {} has {} quantizable layers "
                                      "(a profile of another model?)",
                                      profile, t.layers.size(), model, layers.size()));
    }
    for (std::size_t i = 0; i < layers.size(); ++i) {
        const ir::Node& n = g.node(layers[i].node);
        if (n.name != t.layers[i].name || layers[i].params != t.layers[i].params) {
            throw ConfigError(fmt::format(
                "--profile {}: layer {} is '{}' with {} weights, expected '{}' with {} as in {}",
                profile, i + 1, t.layers[i].name, t.layers[i].params, n.name, layers[i].params,
                model));
        }
    }
}

SensitivityOptions sensitivity_options(const QuantizeOptions& o, const std::string& estimator) {
    SensitivityOptions s;
    s.model_path = o.model_path;
    s.estimator = estimator;
    s.candidate_bits = o.candidate_bits;
    s.weights = o.weights;
    s.calib_samples = o.calib_samples;
    s.batch = o.batch;
    s.loss = o.loss;
    s.seed = o.seed.value_or(1);
    return s;
}

// fp32 metric minus the sum of the per-layer measured drops at the chosen bits.
double predicted_metric(const sensitivity::SensitivityTable& t, const alloc::BitPlan& p,
                        double base) {
    double m = base;
    for (std::size_t i = 0; i < t.layers.size(); ++i) {
        const auto& l = t.layers[i];
        const int k = t.candidate_index(p.bits[i]);
        if (k >= 0 && !l.top1_drop.empty()) m -= l.top1_drop[static_cast<std::size_t>(k)];
    }
    return std::clamp(m, 0.0, 1.0);
}

}  // namespace

std::string default_estimator(const std::string& allocator) {
    if (allocator == "adaptive") return "adaptive";
    if (allocator == "mmse") return "mmse";
    return "loss-aware";
}

Allocation allocate(std::shared_ptr<ir::Model> model, const QuantizeOptions& o,
                    const QuantizeData& data, qdq::ExportPlan& plan,
                    std::vector<qdq::Decision>& decisions) {
    Allocation a;
    const auto allocator = alloc::make_allocator(o.allocator);
    const std::string estimator = o.estimator.empty() ? default_estimator(o.allocator) : o.estimator;
    if (o.allocator == "adaptive" && estimator != "adaptive") {
        throw ConfigError("--estimator " + estimator +
                          ": the adaptive allocator needs the adaptive estimator's noise gains");
    }
    auto t0 = std::chrono::steady_clock::now();
    if (!o.profile_path.empty()) {
        a.table = read_profile(o.profile_path);
        check_profile(a.table, *model->graph, o.profile_path, o.model_path);
        if (a.table.weights != weight_config_str(o.weights)) {
            throw ConfigError("--profile " + o.profile_path + ": measured with weights '" +
                              a.table.weights + "', but this run quantizes them as '" +
                              weight_config_str(o.weights) +
                              "' (pass the same --granularity and --weight-range)");
        }
        if (a.table.candidate_bits != o.candidate_bits) {
            logger().info("--profile: using the profile's candidate bits");
        }
        if (o.allocator == "adaptive" && a.table.estimator != "adaptive") {
            throw ConfigError("--profile " + o.profile_path + ": made by the " +
                              a.table.estimator +
                              " estimator; the adaptive allocator needs an adaptive profile");
        }
        logger().info("sensitivity: profile {} ({}, {} layers)", o.profile_path,
                      a.table.estimator, a.table.layers.size());
    } else {
        a.table = estimate_table(model, o.model_path, *data.calib, sensitivity_options(o, estimator));
    }
    a.seconds_sensitivity = seconds_since(t0);
    apply_fixed_layers(a.table, o.exclude, o.overrides);
    for (const auto& l : a.table.layers) {
        if (!l.fixed) continue;
        decisions.push_back({l.fixed_bits ? "override" : "excluded", l.name,
                             l.fixed_bits ? "fixed at " + std::to_string(l.fixed_bits) + " bits"
                                          : "kept float"});
    }

    TargetSpec spec;
    if (o.avg_bits) spec.avg_bits = *o.avg_bits;
    if (o.size_bytes) spec.size_bits_total = 8.0 * static_cast<double>(*o.size_bytes);
    const bool metric_target = o.target_acc || o.max_drop;

    // The plan with every non-fixed layer at the largest candidate: the activation tensors of
    // every candidate plan (allocators never put a non-fixed layer in float).
    set_plan_options(plan, o);
    for (const auto& l : a.table.layers) {
        plan.weight_bits[l.name] = l.fixed ? l.fixed_bits : a.table.candidate_bits.back();
    }

    std::string output;
    if (const auto sc = data::find_sidecar(o.model_path)) output = sc->output;
    std::unique_ptr<CandidateMeter> meter;
    if (metric_target && !data.eval) {
        throw ConfigError("--target-acc/--max-drop need evaluation data (--eval)");
    }
    if (data.eval && (metric_target || o.dry_run)) {
        // The fp32 metric on the evaluation data: the base of targets and predictions.
        t0 = std::chrono::steady_clock::now();
        meter = std::make_unique<CandidateMeter>(model, output, *data.eval, o.batch);
        a.metric_name = meter->metric_name();
        a.fp32_metric = meter->fp32_metric();
        a.seconds_search += seconds_since(t0);
    }
    if (metric_target) {
        spec.min_metric = o.target_acc ? *o.target_acc : meter->fp32_metric() - *o.max_drop;
        a.goal = spec.min_metric;
        logger().info("target: {} >= {:.4f} on {} evaluation samples (fp32 {:.4f})",
                      a.metric_name, *a.goal, data.eval->size(), meter->fp32_metric());
    }
    const double base = a.fp32_metric ? *a.fp32_metric : a.table.fp32_top1;
    const bool can_predict =
        !a.table.layers.empty() && !a.table.layers.front().top1_drop.empty();

    if (plan.act_bits > 0 && !(o.dry_run)) {
        t0 = std::chrono::steady_clock::now();
        CalibrationOptions co;
        co.act_range = o.act_range;
        co.batch = o.batch;
        plan.activation_params = calibrate_activations(model, qdq::activation_tensors(*model->graph, plan),
                                                       *data.calib, qdq::activation_scheme(), co)
                                     .params;
        a.seconds_calibration = seconds_since(t0);
    }

    MeasureFn measure;
    if (metric_target && o.dry_run) {
        if (!can_predict) {
            throw ConfigError("--dry-run with an accuracy target: the profile '" + o.profile_path +
                              "' has no top-1 drops to predict with; make it again with this "
                              "version of aquant sensitivity");
        }
        measure = [&](const alloc::BitPlan& bp) { return predicted_metric(a.table, bp, base); };
    } else if (metric_target) {
        measure = [&](const alloc::BitPlan& bp) {
            qdq::ExportPlan p = plan;
            for (std::size_t i = 0; i < a.table.layers.size(); ++i) {
                p.weight_bits[a.table.layers[i].name] = bp.bits[i];
            }
            auto m = clone_model(*model);
            std::vector<qdq::Decision> scratch;
            raise_opset_for_plan(*m, p, scratch);
            qdq::export_qdq(*m, p);
            return meter->measure(m, spec.min_metric);
        };
    }
    t0 = std::chrono::steady_clock::now();
    SearchResult r = search_target(a.table, *allocator, spec, measure, o.max_evals);
    a.seconds_search += seconds_since(t0);
    a.plan = r.plan;
    a.trace = r.trace;
    a.met = r.met;
    a.measured_metric = r.metric;
    if (can_predict) a.predicted_metric = predicted_metric(a.table, a.plan, base);
    for (std::size_t i = 0; i < a.table.layers.size(); ++i) {
        plan.weight_bits[a.table.layers[i].name] = a.plan.bits[i];
    }
    return a;
}

nlohmann::json allocation_json(const Allocation& a, const QuantizeOptions& o) {
    nlohmann::json j;
    j["allocator"] = o.allocator;
    j["estimator"] = a.table.estimator;
    j["cost"] = a.table.metric;
    j["candidate_bits"] = a.table.candidate_bits;
    if (!o.profile_path.empty()) j["profile"] = std::filesystem::path(o.profile_path).filename().string();
    nlohmann::json t;
    if (o.target_acc) t = {{"kind", "target-acc"}, {"value", *o.target_acc}};
    if (o.max_drop) t = {{"kind", "max-drop"}, {"value", *o.max_drop}};
    if (o.avg_bits) t = {{"kind", "avg-bits"}, {"value", *o.avg_bits}};
    if (o.size_bytes) t = {{"kind", "size"}, {"value", *o.size_bytes}};
    if (a.goal) {
        t["metric"] = a.metric_name;
        t["goal"] = *a.goal;
        t["fp32"] = *a.fp32_metric;
        t["met"] = a.met;
    }
    j["target"] = t;
    j["solver"] = a.plan.solver;
    j["predicted_cost"] = a.plan.predicted_cost;
    if (a.plan.lower_bound) j["lower_bound"] = *a.plan.lower_bound;
    if (a.predicted_metric) j["predicted_metric"] = *a.predicted_metric;
    j["avg_size_bits"] = a.plan.avg_size_bits;
    j["layers"] = nlohmann::json::array();
    for (std::size_t i = 0; i < a.table.layers.size(); ++i) {
        const auto& l = a.table.layers[i];
        const int k = a.table.candidate_index(a.plan.bits[i]);
        nlohmann::json lj{{"name", l.name}, {"bits", a.plan.bits[i]}, {"fixed", l.fixed}};
        if (k >= 0) {
            lj["cost"] = l.cost[static_cast<std::size_t>(k)];
            if (!l.top1_drop.empty()) lj["predicted_drop"] = l.top1_drop[static_cast<std::size_t>(k)];
        }
        lj["cost_per_bits"] = l.cost;
        j["layers"].push_back(lj);
    }
    j["predicted_search"] = o.dry_run && a.goal.has_value();
    j["search"] = nlohmann::json::array();
    for (const auto& p : a.trace) {
        j["search"].push_back({{"budget_avg_bits", p.budget_avg_bits},
                               {"avg_weight_bits", p.plan.avg_weight_bits},
                               {"size_bits", p.plan.total_size_bits},
                               {"metric", p.metric}});
    }
    return j;
}

}  // namespace aquant::pipeline::detail
