#include "aquant/pipeline/evaluate.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <sstream>

#include "aquant/core/log.h"
#include "aquant/data/sidecar.h"

namespace aquant::pipeline {

data::DatasetPtr open_model_data(const ir::Graph& graph, const std::string& model_path,
                                 const DataOptions& options, Split split) {
    data::DataSpec spec;
    if (!options.path.empty()) {
        spec.path = options.path;
        spec.labels_path = options.labels_path;
        if (!options.format.empty()) {
            auto f = data::data_format_from_name(options.format);
            if (!f) throw ConfigError("--format: unknown data format '" + options.format + "'");
            spec.format = *f;
        }
    } else {
        const auto sidecar = data::find_sidecar(model_path);
        if (!sidecar) {
            throw ConfigError(model_path +
                              ": no data given (--data) and no sidecar file next to the model");
        }
        const auto& chosen = split == Split::kEval ? sidecar->eval : sidecar->calib;
        if (!chosen) {
            throw ConfigError(sidecar->path + ": has no '" +
                              std::string(split == Split::kEval ? "eval" : "calib") +
                              "' data entry; pass --data");
        }
        spec = *chosen;
        spec.preprocess = sidecar->preprocess;
    }
    if (options.scale) spec.preprocess.scale = options.scale;
    if (!options.mean.empty()) spec.preprocess.mean = options.mean;
    if (!options.std.empty()) spec.preprocess.std = options.std;
    if (!options.layout.empty()) {
        auto l = data::layout_from_name(options.layout);
        if (!l) throw ConfigError("--layout: expected NCHW or NHWC, got '" + options.layout + "'");
        spec.preprocess.layout = *l;
    }
    spec.inputs = data::model_input_specs(graph);
    spec.offset = options.offset;
    spec.limit = options.limit;
    return data::open_dataset(spec);
}

nlohmann::json Metrics::to_json() const {
    nlohmann::json j;
    j["samples"] = samples;
    if (top1) j["top1"] = *top1;
    if (top5) j["top5"] = *top5;
    if (agreement) j["agreement"] = *agreement;
    if (kl) j["kl"] = *kl;
    if (sqnr_db) j["sqnr_db"] = *sqnr_db;
    j["elapsed_ms"] = elapsed_ms;
    return j;
}

namespace {

// Rows of logits as [rows, classes] in double.
struct Rows {
    std::int64_t rows = 0, classes = 0;
    std::vector<double> v;
};

Rows as_rows(const Tensor& logits) {
    Rows r;
    if (logits.rank() == 0) throw DataError("model output is a scalar, expected [batch, classes]");
    r.rows = logits.dim(0);
    r.classes = r.rows == 0 ? 0 : logits.numel() / r.rows;
    r.v = logits.to_f64();
    return r;
}

std::int64_t argmax(const double* x, std::int64_t n) {
    return std::max_element(x, x + n) - x;
}

void softmax(const double* x, std::int64_t n, std::vector<double>& p) {
    p.resize(static_cast<std::size_t>(n));
    const double m = *std::max_element(x, x + n);
    double s = 0;
    for (std::int64_t i = 0; i < n; ++i) s += (p[i] = std::exp(x[i] - m));
    for (auto& q : p) q /= s;
}

}  // namespace

void MetricAccumulator::add(const Tensor& logits, const std::optional<Tensor>& labels,
                            const Tensor* reference_logits) {
    const Rows r = as_rows(logits);
    std::vector<double> lab;
    if (labels) {
        lab = labels->to_f64();
        if (static_cast<std::int64_t>(lab.size()) != r.rows) {
            throw DataError("labels: expected " + std::to_string(r.rows) + ", got " +
                            std::to_string(lab.size()));
        }
    }
    Rows ref;
    if (reference_logits) {
        ref = as_rows(*reference_logits);
        if (ref.rows != r.rows || ref.classes != r.classes) {
            throw DataError("reference output " + dims_str(reference_logits->dims()) +
                            " does not match model output " + dims_str(logits.dims()));
        }
    }
    std::vector<double> p, q;
    for (std::int64_t i = 0; i < r.rows; ++i) {
        const double* x = r.v.data() + i * r.classes;
        const std::int64_t top = argmax(x, r.classes);
        if (labels) {
            const auto y = static_cast<std::int64_t>(lab[static_cast<std::size_t>(i)]);
            ++labelled_;
            if (top == y) ++correct1_;
            if (y >= 0 && y < r.classes) {
                // top-5: fewer than 5 classes score strictly higher than the label
                int higher = 0;
                for (std::int64_t c = 0; c < r.classes; ++c) higher += x[c] > x[y];
                if (higher < 5) ++correct5_;
            }
        }
        if (reference_logits) {
            const double* xr = ref.v.data() + i * r.classes;
            ++compared_;
            if (argmax(xr, r.classes) == top) ++agree_;
            softmax(xr, r.classes, p);
            softmax(x, r.classes, q);
            double kl = 0;
            for (std::int64_t c = 0; c < r.classes; ++c) {
                if (p[c] > 0) kl += p[c] * (std::log(p[c]) - std::log(std::max(q[c], 1e-300)));
            }
            kl_sum_ += kl;
            for (std::int64_t c = 0; c < r.classes; ++c) {
                signal_ += xr[c] * xr[c];
                noise_ += (xr[c] - x[c]) * (xr[c] - x[c]);
            }
        }
        ++n_;
    }
}

Metrics MetricAccumulator::result() const {
    Metrics m;
    m.samples = n_;
    if (labelled_ > 0) {
        m.top1 = static_cast<double>(correct1_) / static_cast<double>(labelled_);
        m.top5 = static_cast<double>(correct5_) / static_cast<double>(labelled_);
    }
    if (compared_ > 0) {
        m.agreement = static_cast<double>(agree_) / static_cast<double>(compared_);
        m.kl = kl_sum_ / static_cast<double>(compared_);
        m.sqnr_db = noise_ > 0 ? 10.0 * std::log10(signal_ / noise_)
                               : std::numeric_limits<double>::infinity();
    }
    return m;
}

Metrics evaluate(ModelRunner& runner, const data::Dataset& data, std::size_t output_index,
                 std::int64_t batch, ModelRunner* reference) {
    const auto t0 = std::chrono::steady_clock::now();
    MetricAccumulator acc;
    data::for_each_batch(data, batch, [&](const data::Batch& b) {
        const auto outs = runner.run(b.inputs);
        if (reference) {
            const auto ref = reference->run(b.inputs);
            acc.add(outs.at(output_index), b.labels, &ref.at(output_index));
        } else {
            acc.add(outs.at(output_index), b.labels, nullptr);
        }
    });
    Metrics m = acc.result();
    m.elapsed_ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    return m;
}

Metrics evaluate(const EvalOptions& options) {
    ModelRunner runner = ModelRunner::from_file(options.model_path, options.runner);
    std::string output = options.output_name;
    if (output.empty()) {
        if (const auto sc = data::find_sidecar(options.model_path)) output = sc->output;
    }
    const std::size_t out_index = runner.output_index(output);
    const auto data =
        open_model_data(runner.graph(), options.model_path, options.data, Split::kEval);
    logger().info("eval: {}", data->description());
    std::unique_ptr<ModelRunner> reference;
    if (!options.reference_path.empty()) {
        reference = std::make_unique<ModelRunner>(ModelRunner::from_file(options.reference_path, options.runner));
    }
    if (!data->has_labels() && !reference) {
        throw ConfigError("the data has no labels: pass labels, or --reference MODEL for "
                          "label-free fidelity");
    }
    return evaluate(runner, *data, out_index, options.batch, reference.get());
}

std::string format_metrics(const Metrics& m) {
    std::ostringstream os;
    os.setf(std::ios::fixed);
    os.precision(2);
    os << "samples: " << m.samples << "\n";
    if (m.top1) os << "top-1: " << 100.0 * *m.top1 << " %\n";
    if (m.top5) os << "top-5: " << 100.0 * *m.top5 << " %\n";
    if (m.agreement) os << "top-1 agreement with reference: " << 100.0 * *m.agreement << " %\n";
    if (m.kl) {
        os.precision(6);
        os << "KL(reference || model): " << *m.kl << " nats\n";
        os.precision(2);
    }
    if (m.sqnr_db) os << "output SQNR: " << *m.sqnr_db << " dB\n";
    os << "time: " << m.elapsed_ms / 1000.0 << " s\n";
    return os.str();
}

}  // namespace aquant::pipeline
