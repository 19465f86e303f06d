#include "aquant/pipeline/quantize.h"

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "aquant/core/log.h"
#include "aquant/data/sidecar.h"
#include "aquant/export/provenance.h"
#include "aquant/io/onnx_reader.h"
#include "aquant/io/onnx_writer.h"
#include "quantize_steps.h"

namespace aquant::pipeline {
namespace {

namespace fs = std::filesystem;

void check_paths(const QuantizeOptions& o) {
    if (o.output_path.empty()) throw ConfigError("-o: an output path is needed");
    std::error_code ec;
    if (fs::equivalent(o.model_path, o.output_path, ec) ||
        fs::weakly_canonical(o.model_path, ec) == fs::weakly_canonical(o.output_path, ec)) {
        throw ConfigError("-o: '" + o.output_path + "' is the input model; refusing to overwrite it");
    }
    if (!o.report_path.empty() && fs::path(o.report_path).extension() != ".json") {
        throw ConfigError("--report: only .json reports are written so far, got '" +
                          o.report_path + "'");
    }
}

std::string granularity_flag(const QuantizeOptions& o) {
    if (o.granularity == quant::Granularity::kBlock) return "block:" + std::to_string(o.block_size);
    return quant::granularity_name(o.granularity);
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

void write_json_file(const std::string& path, const nlohmann::json& j) {
    const std::string tmp = path + ".tmp";
    {
        std::ofstream f(tmp, std::ios::binary);
        f << j.dump(2) << "\n";
        if (!f) throw IoError(path + ": cannot write the report");
    }
    std::error_code ec;
    fs::rename(tmp, path, ec);
    if (ec) throw IoError(path + ": cannot write the report: " + ec.message());
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
    os << " --act-bits " << (o.act_bits ? std::to_string(o.act_bits) : "none");
    os << " --granularity " << granularity_flag(o) << " --weight-range " << o.weight_range;
    if (o.act_bits) os << " --act-range " << o.act_range;
    append_data_flags(os, "--calib", o.calib);
    os << " --calib-samples " << o.calib_samples;
    append_data_flags(os, "--eval", o.eval);
    if (o.max_opset) os << " --max-opset " << o.max_opset;
    for (const auto& e : o.exclude) os << " --exclude '" << e << "'";
    for (const auto& [re, bits] : o.overrides) os << " --override '" << re << "=" << bits << "'";
    if (o.seed) os << " --seed " << *o.seed;
    return os.str();
}

QuantizeResult quantize(const QuantizeOptions& o) {
    check_paths(o);
    auto model = io::read_model(o.model_path);
    std::vector<qdq::Decision> decisions;
    detail::prepare_float_model(*model, decisions);
    qdq::ExportPlan plan = detail::uniform_plan(*model->graph, o, decisions);
    const detail::QuantizeData data = detail::open_quantize_data(*model->graph, o);
    logger().info("calibration data: {}", data.calib->description());
    if (plan.act_bits > 0) {
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

    QuantizeResult result;
    if (data.eval) {
        logger().info("evaluation data: {}", data.eval->description());
        auto written = io::read_model_from_bytes(io::serialize_model(*model), o.output_path);
        const Measured m = measure(o, written, *data.eval);
        result.fp32 = m.fp32;
        result.quantized = m.quantized;
        model->set_metadata(qdq::kMetaMetrics,
                            nlohmann::json{{"fp32", stable_metrics(m.fp32)},
                                           {"quantized", stable_metrics(m.quantized)}}
                                .dump());
    }
    io::write_model(*model, o.output_path, {}, o.model_path);
    result.report = detail::report_from_metadata(*model);
    result.report["model"] = o.output_path;
    result.report["source"] = o.model_path;
    result.report["file_bytes"] = {{"fp32", file_size(o.model_path)},
                                   {"quantized", file_size(o.output_path)}};
    if (!o.report_path.empty()) write_json_file(o.report_path, result.report);
    return result;
}

}  // namespace aquant::pipeline
