#include "aquant/pipeline/sensitivity.h"

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <sstream>

#include "aquant/core/log.h"
#include "aquant/data/sidecar.h"
#include "aquant/io/onnx_reader.h"
#include "aquant/ir/layers.h"
#include "aquant/sensitivity/estimator.h"
#include "quantize_steps.h"

namespace aquant::pipeline {

std::string weight_config_str(const quant::WeightQuantConfig& w) {
    std::string g = quant::granularity_name(w.granularity);
    if (w.granularity == quant::Granularity::kBlock) g += ":" + std::to_string(w.block_size);
    return g + " " + w.range;
}

namespace detail {

sensitivity::SensitivityTable estimate_table(std::shared_ptr<const ir::Model> model,
                                             const std::string& model_path,
                                             const data::Dataset& calib,
                                             const SensitivityOptions& options) {
    const auto t0 = std::chrono::steady_clock::now();
    sensitivity::EstimatorInput in;
    in.model = model;
    in.layers = ir::quantizable_layers(*model->graph);
    if (in.layers.empty()) {
        throw ModelError(model_path + ": no quantizable layers (Conv, ConvTranspose, Gemm, "
                                      "MatMul with constant weights)");
    }
    const auto estimator = sensitivity::make_estimator(options.estimator);
    if (options.candidate_bits.empty()) throw ConfigError("--weight-bits: no candidate bit-width");
    for (std::size_t i = 0; i < options.candidate_bits.size(); ++i) {
        const int b = options.candidate_bits[i];
        if (b < 2 || b > 8 || (i > 0 && b <= options.candidate_bits[i - 1])) {
            throw ConfigError("--weight-bits: expected ascending bit-widths in 2..8, got " +
                              std::to_string(b) + " at position " + std::to_string(i + 1));
        }
    }
    in.candidate_bits = options.candidate_bits;
    in.weights = options.weights;
    in.seed = options.seed;
    in.loss = options.loss;
    std::string output;
    if (const auto sc = data::find_sidecar(model_path)) output = sc->output;
    for (std::size_t i = 0; i < model->graph->outputs.size(); ++i) {
        if (model->graph->value(model->graph->outputs[i]).name == output) in.output_index = i;
    }
    // A model with a fixed batch dimension (e.g. 1, with Reshape shapes baked in) is probed in
    // batches of exactly that size.
    std::int64_t batch = options.batch;
    if (const auto inputs = model->graph->real_inputs(); !inputs.empty()) {
        const auto& type = model->graph->value(inputs[0]).type;
        if (type && type->shape && !type->shape->empty() && (*type->shape)[0].known()) {
            batch = (*type->shape)[0].value;
        }
    }
    std::int64_t samples = 0;
    data::for_each_batch(calib, batch, [&](const data::Batch& b) {
        if (samples >= options.calib_samples) return;
        data::Batch part = b;
        const std::int64_t rows = b.inputs.begin()->second.dim(0);
        const std::int64_t keep = std::min(rows, options.calib_samples - samples);
        if (keep < rows) {
            for (auto& [name, t] : part.inputs) t = slice_rows(t, 0, keep);
            if (part.labels) part.labels = slice_rows(*part.labels, 0, keep);
        }
        samples += keep;
        in.calib.push_back({part.inputs, part.labels});
    });
    auto table = estimator->estimate(in);
    table.weights = weight_config_str(options.weights);
    sensitivity::measure_top1_drop(in, table);
    const double s =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    logger().info("sensitivity: {} layers, {}, {} samples, {:.1f} s", table.layers.size(),
                  table.estimator, samples, s);
    return table;
}

}  // namespace detail

sensitivity::SensitivityTable measure_sensitivity(const SensitivityOptions& options) {
    auto model = io::read_model(options.model_path);
    std::vector<qdq::Decision> decisions;
    detail::prepare_float_model(*model, decisions);
    DataOptions calib = options.calib;
    if (!calib.limit) calib.limit = options.calib_samples;
    const auto data = open_model_data(*model->graph, options.model_path, calib, Split::kCalib);
    auto table = detail::estimate_table(model, options.model_path, *data, options);
    if (!options.output_path.empty()) write_profile(table, options.model_path, options.output_path);
    return table;
}

nlohmann::json profile_json(const sensitivity::SensitivityTable& table,
                            const std::string& model_path) {
    nlohmann::json j;
    j["aquant_profile"] = 1;
    j["model"] = std::filesystem::path(model_path).filename().string();
    j["estimator"] = table.estimator;
    j["metric"] = table.metric;
    j["weights"] = table.weights;
    j["candidate_bits"] = table.candidate_bits;
    if (!table.layers.empty() && !table.layers[0].top1_drop.empty()) {
        j["fp32_top1"] = table.fp32_top1;
        j["top1_with_labels"] = table.top1_with_labels;
    }
    j["layers"] = nlohmann::json::array();
    for (const auto& l : table.layers) {
        nlohmann::json lj;
        lj["name"] = l.name;
        lj["op"] = l.op_type;
        lj["weight"] = l.weight;
        lj["params"] = l.params;
        lj["cost"] = l.cost;
        lj["weight_error"] = l.weight_error;
        lj["size_bits"] = l.size_bits;
        lj["gain"] = l.gain;
        if (!l.top1_drop.empty()) lj["top1_drop"] = l.top1_drop;
        j["layers"].push_back(lj);
    }
    return j;
}

sensitivity::SensitivityTable profile_from_json(const nlohmann::json& j, const std::string& where) {
    try {
        if (!j.contains("aquant_profile")) {
            throw DataError(where + ": not an aquant sensitivity profile (no 'aquant_profile')");
        }
        sensitivity::SensitivityTable t;
        t.estimator = j.at("estimator").get<std::string>();
        t.metric = j.at("metric").get<std::string>();
        t.weights = j.value("weights", "");
        t.candidate_bits = j.at("candidate_bits").get<std::vector<int>>();
        t.fp32_top1 = j.value("fp32_top1", 0.0);
        t.top1_with_labels = j.value("top1_with_labels", false);
        for (const auto& lj : j.at("layers")) {
            sensitivity::LayerSensitivity l;
            l.name = lj.at("name").get<std::string>();
            l.op_type = lj.at("op").get<std::string>();
            l.weight = lj.at("weight").get<std::string>();
            l.params = lj.at("params").get<std::int64_t>();
            l.cost = lj.at("cost").get<std::vector<double>>();
            l.weight_error = lj.at("weight_error").get<std::vector<double>>();
            l.size_bits = lj.at("size_bits").get<std::vector<double>>();
            l.gain = lj.value("gain", 0.0);
            l.top1_drop = lj.value("top1_drop", std::vector<double>{});
            const std::size_t n = t.candidate_bits.size();
            if (l.cost.size() != n || l.weight_error.size() != n || l.size_bits.size() != n ||
                (!l.top1_drop.empty() && l.top1_drop.size() != n)) {
                throw DataError(where + ": layer '" + l.name + "': expected " +
                                std::to_string(n) + " values per candidate list");
            }
            t.layers.push_back(std::move(l));
        }
        return t;
    } catch (const nlohmann::json::exception& e) {
        throw DataError(where + ": malformed profile: " + e.what());
    }
}

void write_profile(const sensitivity::SensitivityTable& table, const std::string& model_path,
                   const std::string& path) {
    const std::string tmp = path + ".tmp";
    {
        std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
        if (!out) throw IoError(path + ": cannot write");
        out << profile_json(table, model_path).dump(2) << "\n";
        if (!out) throw IoError(path + ": write failed");
    }
    if (std::rename(tmp.c_str(), path.c_str()) != 0) {
        std::remove(tmp.c_str());
        throw IoError(path + ": cannot rename temporary file into place");
    }
}

sensitivity::SensitivityTable read_profile(const std::string& path) {
    std::ifstream in(path);
    if (!in) throw IoError(path + ": no such file");
    nlohmann::json j;
    try {
        j = nlohmann::json::parse(in);
    } catch (const nlohmann::json::exception& e) {
        throw DataError(path + ": not JSON: " + e.what());
    }
    return profile_from_json(j, path);
}

std::string format_sensitivity(const sensitivity::SensitivityTable& t) {
    std::ostringstream os;
    os << "estimator " << t.estimator << " (cost: " << t.metric << ")\n";
    os << std::left << std::setw(28) << "layer" << std::setw(8) << "op" << std::right
       << std::setw(9) << "params";
    for (int b : t.candidate_bits) os << std::setw(12) << ("cost@" + std::to_string(b) + "b");
    os << "\n";
    for (const auto& l : t.layers) {
        os << std::left << std::setw(28) << l.name.substr(0, 27) << std::setw(8) << l.op_type
           << std::right << std::setw(9) << l.params;
        for (double c : l.cost) os << std::setw(12) << std::setprecision(4) << c;
        os << "\n";
    }
    return os.str();
}

}  // namespace aquant::pipeline
