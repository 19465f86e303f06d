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

sensitivity::SensitivityTable measure_sensitivity(const SensitivityOptions& options) {
    const auto t0 = std::chrono::steady_clock::now();
    auto model = io::read_model(options.model_path);
    std::vector<qdq::Decision> decisions;
    detail::prepare_float_model(*model, decisions);
    sensitivity::EstimatorInput in;
    in.model = model;
    in.layers = ir::quantizable_layers(*model->graph);
    if (in.layers.empty()) {
        throw ModelError(options.model_path + ": no quantizable layers (Conv, ConvTranspose, "
                                              "Gemm, MatMul with constant weights)");
    }
    in.candidate_bits = options.candidate_bits;
    in.weights = options.weights;
    in.seed = options.seed;
    in.loss = options.loss;
    std::string output;
    if (const auto sc = data::find_sidecar(options.model_path)) output = sc->output;
    for (std::size_t i = 0; i < model->graph->outputs.size(); ++i) {
        if (model->graph->value(model->graph->outputs[i]).name == output) in.output_index = i;
    }
    DataOptions calib = options.calib;
    if (!calib.limit) calib.limit = options.calib_samples;
    const auto data = open_model_data(*model->graph, options.model_path, calib, Split::kCalib);
    data::for_each_batch(*data, options.batch, [&](const data::Batch& b) {
        in.calib.push_back({b.inputs, b.labels});
    });
    auto table = sensitivity::make_estimator(options.estimator)->estimate(in);
    const double s =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    logger().info("sensitivity: {} layers, {}, {} samples, {:.1f} s", table.layers.size(),
                  table.estimator, data->size(), s);
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
    j["candidate_bits"] = table.candidate_bits;
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
        t.candidate_bits = j.at("candidate_bits").get<std::vector<int>>();
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
            const std::size_t n = t.candidate_bits.size();
            if (l.cost.size() != n || l.weight_error.size() != n || l.size_bits.size() != n) {
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
