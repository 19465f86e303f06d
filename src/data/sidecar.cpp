#include "aquant/data/sidecar.h"

#include "data/util.h"

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

namespace aquant::data {
namespace {

using detail::fail;
using nlohmann::json;

std::string resolve(const std::string& dir, const std::string& path) {
    return path.empty() || path[0] == '/' ? path : detail::join_path(dir, path);
}

std::string get_string(const json& j, const char* key, const std::string& where, bool required) {
    const auto it = j.find(key);
    if (it == j.end() || it->is_null()) {
        if (required)
            fail(where, std::string("missing key '") + key + "'");
        return "";
    }
    if (!it->is_string())
        fail(where, std::string("'") + key + "' must be a string");
    return it->get<std::string>();
}

std::vector<double> get_numbers(const json& j, const char* key, const std::string& where) {
    const auto it = j.find(key);
    if (it == j.end() || it->is_null())
        return {};
    if (it->is_number())
        return {it->get<double>()};
    if (!it->is_array())
        fail(where, std::string("'") + key + "' must be a number or a list");
    std::vector<double> out;
    for (const auto& v : *it) {
        if (!v.is_number())
            fail(where, std::string("'") + key + "' must hold numbers");
        out.push_back(v.get<double>());
    }
    return out;
}

Preprocess parse_preprocess(const json& j, const std::string& where) {
    Preprocess p;
    if (!j.is_object())
        fail(where, "'preprocess' must be an object");
    const std::string w = where + ": preprocess";
    if (j.contains("scale") && !j["scale"].is_null()) {
        if (!j["scale"].is_number())
            fail(w, "'scale' must be a number");
        p.scale = j["scale"].get<double>();
    }
    p.mean = get_numbers(j, "mean", w);
    p.std = get_numbers(j, "std", w);
    const std::string layout = get_string(j, "layout", w, false);
    if (!layout.empty()) {
        p.layout = layout_from_name(layout);
        if (!p.layout)
            fail(w, "unknown layout '" + layout + "'; expected NCHW or NHWC");
    }
    return p;
}

DataSpec parse_data_entry(const json& j, const std::string& where, const std::string& dir,
                          DataFormat format) {
    DataSpec spec;
    spec.format = format;
    if (j.is_string()) {
        spec.path = resolve(dir, j.get<std::string>());
        return spec;
    }
    if (!j.is_object())
        fail(where, "must be a path or an object with \"images\" or \"path\"");
    std::string path = get_string(j, "images", where, false);
    if (path.empty())
        path = get_string(j, "path", where, false);
    if (path.empty())
        fail(where, "needs \"images\" or \"path\"");
    spec.path = resolve(dir, path);
    spec.labels_path = resolve(dir, get_string(j, "labels", where, false));
    return spec;
}

}  // namespace

Sidecar read_sidecar(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in)
        throw IoError(path + ": cannot open: " + detail::errno_text());
    std::stringstream buf;
    buf << in.rdbuf();
    json j;
    try {
        j = json::parse(buf.str());
    } catch (const json::parse_error& e) {
        fail(path, std::string("invalid JSON: ") + e.what());
    }
    if (!j.is_object())
        fail(path, "expected a JSON object");
    const std::string dir = detail::parent_dir(path);
    Sidecar s;
    s.path = path;
    s.model = get_string(j, "model", path, false);
    if (!s.model.empty())
        s.model = resolve(dir, s.model);
    s.task = get_string(j, "task", path, false);
    s.input = get_string(j, "input", path, false);
    s.output = get_string(j, "output", path, false);
    if (j.contains("preprocess") && !j["preprocess"].is_null()) {
        s.preprocess = parse_preprocess(j["preprocess"], path);
    }
    if (j.contains("fp32_top1") && !j["fp32_top1"].is_null()) {
        if (!j["fp32_top1"].is_number())
            fail(path, "'fp32_top1' must be a number");
        s.fp32_top1 = j["fp32_top1"].get<double>();
    }
    if (j.contains("data") && !j["data"].is_null()) {
        const json& d = j["data"];
        if (!d.is_object())
            fail(path, "'data' must be an object");
        DataFormat format = DataFormat::kAuto;
        const std::string fmt = get_string(d, "format", path + ": data", false);
        if (!fmt.empty()) {
            const auto parsed = data_format_from_name(fmt);
            if (!parsed) {
                fail(path, "data: unknown format '" + fmt +
                               "'; expected idx, npy, npz, npy-folder or onnx-test-data");
            }
            format = *parsed;
        }
        for (const char* part : {"calib", "eval"}) {
            if (!d.contains(part) || d[part].is_null())
                continue;
            DataSpec spec = parse_data_entry(d[part], path + ": data." + part, dir, format);
            spec.preprocess = s.preprocess;
            if (!s.input.empty())
                spec.inputs.push_back(InputSpec{s.input, DType::kUndefined, {}});
            (std::string(part) == "calib" ? s.calib : s.eval) = std::move(spec);
        }
    }
    return s;
}

std::optional<Sidecar> find_sidecar(const std::string& model_path) {
    std::string base = model_path;
    if (detail::ends_with(base, ".onnx"))
        base.resize(base.size() - 5);
    const std::string path = base + ".aquant.json";
    if (!std::filesystem::is_regular_file(path))
        return std::nullopt;
    return read_sidecar(path);
}

}  // namespace aquant::data
