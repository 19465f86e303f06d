#include <cmath>
#include <map>
#include <sstream>

#include <fmt/format.h>

#include "aquant/export/provenance.h"
#include "aquant/io/onnx_reader.h"
#include "quantize_steps.h"

namespace aquant::pipeline {
namespace detail {
namespace {

nlohmann::json parse_meta(const ir::Model& m, const char* key, nlohmann::json fallback) {
    const auto text = m.metadata(key);
    if (!text) return fallback;
    try {
        return nlohmann::json::parse(*text);
    } catch (const nlohmann::json::exception& e) {
        throw ModelError(m.graph->source_path + ": metadata '" + key + "' is not valid JSON: " +
                         e.what());
    }
}

}  // namespace

nlohmann::json report_from_metadata(const ir::Model& m) {
    if (!m.metadata(qdq::kMetaPlan)) {
        throw ModelError(m.graph->source_path + ": no '" + qdq::kMetaPlan +
                         "' metadata; not a model written by aquant quantize");
    }
    nlohmann::json r;
    r["model"] = m.graph->source_path;
    r["aquant_version"] = m.metadata(qdq::kMetaVersion).value_or("");
    r["command"] = m.metadata(qdq::kMetaCommand).value_or("");
    r["plan"] = parse_meta(m, qdq::kMetaPlan, nlohmann::json::object());
    r["metrics"] = parse_meta(m, qdq::kMetaMetrics, nlohmann::json::object());
    r["decisions"] = parse_meta(m, qdq::kMetaDecisions, nlohmann::json::array());
    if (m.metadata(qdq::kMetaAllocation)) {
        r["allocation"] = parse_meta(m, qdq::kMetaAllocation, nlohmann::json::object());
    }
    return r;
}

}  // namespace detail

nlohmann::json read_report(const std::string& model_path) {
    io::ReadOptions ro;
    ro.infer_shapes = false;
    return detail::report_from_metadata(*io::read_model(model_path, ro));
}

namespace {

std::string with_commas(std::int64_t v) {
    std::string s = std::to_string(v < 0 ? -v : v);
    for (int i = static_cast<int>(s.size()) - 3; i > 0; i -= 3) s.insert(static_cast<std::size_t>(i), ",");
    return v < 0 ? "-" + s : s;
}

std::string sqnr_cell(const nlohmann::json& v) {
    return v.is_number() ? fmt::format("{:.2f}", v.get<double>()) : std::string("-");
}

std::string sci_cell(const nlohmann::json& v) {
    return v.is_number() ? fmt::format("{:.3g}", v.get<double>()) : std::string("-");
}

std::string pct_cell(const nlohmann::json& v) {
    return v.is_number() ? fmt::format("{:+.2f}", -100.0 * v.get<double>() + 0.0) : std::string("-");
}

// With an allocation: the sensitivity (the estimator's cost at the chosen bits) and the
// predicted top-1 change (points) of each layer quantized alone.
void layer_table(std::ostream& os, const nlohmann::json& layers, const nlohmann::json& alloc) {
    std::map<std::string, nlohmann::json> sens;
    for (const auto& l : alloc.value("layers", nlohmann::json::array())) {
        sens[l.value("name", "")] = l;
    }
    const bool with_sens = !sens.empty();
    std::size_t w = 5;
    for (const auto& l : layers) w = std::max(w, l.value("name", "").size());
    os << fmt::format("{:<{}}  {:<13} {:>10} {:>4} {:>4} {:<7}", "layer", w, "op", "params", "bits",
                      "act", "storage");
    if (with_sens) os << fmt::format(" {:>10} {:>8}", "sensitiv.", "pred pt");
    os << fmt::format(" {:>8} {:>10} {:>10}\n", "SQNR dB", "bytes", "packed");
    for (const auto& l : layers) {
        const int bits = l.value("weight_bits", 0);
        const int act = l.value("act_bits", 0);
        const std::string name = l.value("name", "");
        os << fmt::format("{:<{}}  {:<13} {:>10} {:>4} {:>4} {:<7}", name, w, l.value("op", ""),
                          with_commas(l.value("params", std::int64_t{0})),
                          bits ? std::to_string(bits) : "fp32", act ? std::to_string(act) : "-",
                          l.value("storage", ""));
        if (with_sens) {
            const auto it = sens.find(name);
            const nlohmann::json s = it == sens.end() ? nlohmann::json::object() : it->second;
            os << fmt::format(" {:>10} {:>8}", sci_cell(s.value("cost", nlohmann::json())),
                              pct_cell(s.value("predicted_drop", nlohmann::json())));
        }
        os << fmt::format(" {:>8} {:>10} {:>10}\n",
                          sqnr_cell(l.value("weight_sqnr_db", nlohmann::json())),
                          with_commas(l.value("bytes_stored", std::int64_t{0})),
                          with_commas(l.value("bytes_packed", std::int64_t{0})));
    }
}

void allocation_lines(std::ostream& os, const nlohmann::json& a) {
    if (a.empty()) return;
    os << fmt::format("allocation: {} allocator on the {} estimator's {} (candidates",
                      a.value("allocator", ""), a.value("estimator", ""), a.value("cost", ""));
    for (const auto& b : a.value("candidate_bits", nlohmann::json::array())) os << " " << b.get<int>();
    os << fmt::format(" bits), solver {}", a.value("solver", ""));
    if (a.contains("profile")) os << ", profile " << a["profile"].get<std::string>();
    os << "\n";
    const auto& t = a.value("target", nlohmann::json::object());
    if (t.contains("goal")) {
        os << fmt::format("target: {} {} -> {} >= {:.4f} (fp32 {:.4f}); {} candidates {}\n",
                          t.value("kind", ""), t.value("value", 0.0), t.value("metric", ""),
                          t.value("goal", 0.0), t.value("fp32", 0.0),
                          a.value("search", nlohmann::json::array()).size(),
                          a.value("predicted_search", false) ? "predicted" : "measured");
    } else if (t.contains("kind")) {
        os << fmt::format("target: {} {}\n", t.value("kind", ""), t["value"].dump());
    }
}

double pct(std::int64_t part, std::int64_t whole) {
    return whole > 0 ? 100.0 * static_cast<double>(part) / static_cast<double>(whole) : 0.0;
}

void totals(std::ostream& os, const nlohmann::json& t) {
    const auto fp32 = t.value("bytes_fp32", std::int64_t{0});
    const auto stored = t.value("bytes_stored", std::int64_t{0});
    const auto packed = t.value("bytes_packed", std::int64_t{0});
    os << fmt::format("layers: {} ({} quantized), {} weights ({} quantized)\n",
                      t.value("layers", 0), t.value("quantized_layers", 0),
                      with_commas(t.value("params", std::int64_t{0})),
                      with_commas(t.value("quantized_params", std::int64_t{0})));
    os << fmt::format("average weight bits: {:.2f} over quantized layers, {:.2f} with float "
                      "layers at 32\n",
                      t.value("avg_weight_bits", 0.0), t.value("avg_weight_bits_all", 0.0));
    os << fmt::format("layer weights: {} B fp32 -> {} B stored ({:.1f} %), {} B packed at the "
                      "true bit-width ({:.1f} %)\n",
                      with_commas(fp32), with_commas(stored), pct(stored, fp32),
                      with_commas(packed), pct(packed, fp32));
}

void metrics(std::ostream& os, const nlohmann::json& m) {
    if (m.contains("target")) {
        const auto& t = m["target"];
        os << fmt::format("target {} >= {:.2f} %: reached {:.2f} %, {}\n", t.value("metric", ""),
                          100 * t.value("goal", 0.0), 100 * t.value("reached", 0.0),
                          t.value("met", false) ? "met" : "NOT MET");
    }
    if (!m.contains("fp32") || !m.contains("quantized")) return;
    const auto& f = m["fp32"];
    const auto& q = m["quantized"];
    if (f.contains("top1") && q.contains("top1")) {
        const double a = f["top1"].get<double>(), b = q["top1"].get<double>();
        os << fmt::format("top-1: fp32 {:.2f} % -> quantized {:.2f} % ({:+.2f} points) on {} "
                          "samples\n",
                          100 * a, 100 * b, 100 * (b - a), q.value("samples", 0));
    }
    if (q.contains("agreement")) {
        os << fmt::format("against fp32: top-1 agreement {:.2f} %, KL {:.6f} nats, output SQNR "
                          "{:.2f} dB\n",
                          100 * q["agreement"].get<double>(), q.value("kl", 0.0),
                          q.value("sqnr_db", 0.0));
    }
}

}  // namespace

std::string format_report(const nlohmann::json& r) {
    std::ostringstream os;
    const auto& plan = r.value("plan", nlohmann::json::object());
    if (r.contains("model")) os << "model: " << r["model"].get<std::string>() << "\n";
    if (!r.value("command", "").empty()) os << "command: " << r["command"].get<std::string>() << "\n";
    if (plan.contains("weights")) {
        const auto& w = plan["weights"];
        os << "weights: symmetric, per " << w.value("granularity", "")
           << (w.value("block_size", 0) > 0 ? " " + std::to_string(w.value("block_size", 0)) : "")
           << ", range " << w.value("range", "") << "; activations: ";
        const auto& a = plan.value("activations", nlohmann::json::object());
        if (a.value("bits", 0) > 0) {
            os << a.value("scheme", "") << ", range " << a.value("range", "") << ", "
               << a.value("tensors", 0) << " tensors\n";
        } else {
            os << "float (weight-only)\n";
        }
    }
    const auto& alloc = r.value("allocation", nlohmann::json::object());
    allocation_lines(os, alloc);
    layer_table(os, plan.value("layers", nlohmann::json::array()), alloc);
    totals(os, plan.value("totals", nlohmann::json::object()));
    if (r.value("dry_run", false)) {
        const auto& p = r.value("predicted", nlohmann::json::object());
        os << "dry run: nothing written";
        if (p.contains("metric")) {
            os << fmt::format("; predicted {} {:.2f} %", p.value("metric_name", ""),
                              100 * p.value("metric", 0.0));
            if (p.contains("goal")) os << fmt::format(" (target {:.2f} %)", 100 * p.value("goal", 0.0));
        }
        os << "\n";
    }
    if (r.contains("file_bytes")) {
        const auto& fb = r["file_bytes"];
        const auto a = fb.value("fp32", std::int64_t{0}), b = fb.value("quantized", std::int64_t{0});
        os << fmt::format("file: {} B fp32 -> {} B ({:.1f} %)\n", with_commas(a), with_commas(b),
                          pct(b, a));
    }
    metrics(os, r.value("metrics", nlohmann::json::object()));
    if (r.contains("seconds")) {
        const auto& s = r["seconds"];
        os << "time:";
        for (const char* k : {"sensitivity", "calibration", "search", "evaluation", "total"}) {
            if (s.contains(k)) os << fmt::format(" {} {:.1f} s", k, s[k].get<double>());
        }
        os << "\n";
    }
    const auto& d = r.value("decisions", nlohmann::json::array());
    if (!d.empty()) {
        os << "decisions (" << d.size() << "):\n";
        for (const auto& x : d) {
            os << "  " << x.value("kind", "");
            if (!x.value("node", "").empty()) os << " '" << x["node"].get<std::string>() << "'";
            os << ": " << x.value("what", "") << "\n";
        }
    }
    return os.str();
}

}  // namespace aquant::pipeline
