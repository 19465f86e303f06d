// The report files `quantize --report FILE` and `report MODEL --output FILE` write, by extension:
// .json (the report object), .md (Markdown tables), .csv (one row per layer), .html (one
// self-contained page: tables and inline SVG charts of bits per layer, sensitivity per layer
// and bit-width, and the size/accuracy trade-off the search measured; no scripts, no network).
#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <fmt/format.h>

#include "aquant/core/error.h"
#include "aquant/pipeline/quantize.h"

namespace aquant::pipeline {
namespace {

using nlohmann::json;

std::string ext_of(const std::string& path) {
    std::string e = std::filesystem::path(path).extension().string();
    std::transform(e.begin(), e.end(), e.begin(), [](unsigned char c) { return std::tolower(c); });
    return e;
}

std::string esc_html(const std::string& s) {
    std::string o;
    for (char c : s) {
        switch (c) {
            case '&': o += "&amp;"; break;
            case '<': o += "&lt;"; break;
            case '>': o += "&gt;"; break;
            case '"': o += "&quot;"; break;
            default: o += c;
        }
    }
    return o;
}

std::string csv_cell(const std::string& s) {
    if (s.find_first_of(",\"\n") == std::string::npos) return s;
    std::string o = "\"";
    for (char c : s) o += c == '"' ? std::string("\"\"") : std::string(1, c);
    return o + "\"";
}

// One row per layer with the allocation's sensitivity merged in.
struct Row {
    std::string name, op, storage;
    std::int64_t params = 0, bytes = 0, packed = 0;
    int bits = 0, act = 0;
    std::optional<double> sqnr, cost, drop;
    std::vector<double> cost_per_bits;
};

std::vector<Row> rows_of(const json& r) {
    std::map<std::string, json> alloc;
    for (const auto& l : r.value("allocation", json::object()).value("layers", json::array())) {
        alloc[l.value("name", "")] = l;
    }
    std::vector<Row> rows;
    for (const auto& l : r.value("plan", json::object()).value("layers", json::array())) {
        Row w;
        w.name = l.value("name", "");
        w.op = l.value("op", "");
        w.storage = l.value("storage", "");
        w.params = l.value("params", std::int64_t{0});
        w.bytes = l.value("bytes_stored", std::int64_t{0});
        w.packed = l.value("bytes_packed", std::int64_t{0});
        w.bits = l.value("weight_bits", 0);
        w.act = l.value("act_bits", 0);
        if (l.contains("weight_sqnr_db") && l["weight_sqnr_db"].is_number()) {
            w.sqnr = l["weight_sqnr_db"].get<double>();
        }
        if (const auto it = alloc.find(w.name); it != alloc.end()) {
            if (it->second.contains("cost")) w.cost = it->second["cost"].get<double>();
            if (it->second.contains("predicted_drop")) {
                w.drop = it->second["predicted_drop"].get<double>();
            }
            w.cost_per_bits = it->second.value("cost_per_bits", std::vector<double>{});
        }
        rows.push_back(std::move(w));
    }
    return rows;
}

std::string opt_num(const std::optional<double>& v, const char* f) {
    return v ? fmt::format(fmt::runtime(f), *v) : std::string("");
}

std::string to_csv(const json& r) {
    std::ostringstream os;
    os << "layer,op,params,weight_bits,act_bits,storage,sensitivity,predicted_top1_drop,"
          "weight_sqnr_db,bytes_stored,bytes_packed\n";
    for (const Row& w : rows_of(r)) {
        os << csv_cell(w.name) << "," << w.op << "," << w.params << "," << w.bits << "," << w.act
           << "," << w.storage << "," << opt_num(w.cost, "{:.6g}") << ","
           << opt_num(w.drop, "{:.6g}") << "," << opt_num(w.sqnr, "{:.3f}") << "," << w.bytes
           << "," << w.packed << "\n";
    }
    return os.str();
}

std::string summary_lines(const json& r) {
    // The terminal report's lines after the layer table (totals, metrics, target, time).
    const std::string text = format_report(r);
    std::istringstream in(text);
    std::ostringstream os;
    std::string line;
    bool after_table = false;
    while (std::getline(in, line)) {
        if (line.rfind("layers:", 0) == 0) after_table = true;
        if (after_table) os << line << "\n";
    }
    return os.str();
}

std::string to_markdown(const json& r) {
    std::ostringstream os;
    os << "# aquant report: " << r.value("model", r.value("source", "")) << "\n\n";
    if (!r.value("command", "").empty()) os << "`" << r["command"].get<std::string>() << "`\n\n";
    os << "| layer | op | params | bits | act | storage | sensitivity | pred. top-1 pt | SQNR dB | "
          "bytes | packed |\n|---|---|---:|---:|---:|---|---:|---:|---:|---:|---:|\n";
    for (const Row& w : rows_of(r)) {
        os << "| `" << w.name << "` | " << w.op << " | " << w.params << " | "
           << (w.bits ? std::to_string(w.bits) : "fp32") << " | "
           << (w.act ? std::to_string(w.act) : "-") << " | " << w.storage << " | "
           << opt_num(w.cost, "{:.3g}") << " | "
           << (w.drop ? fmt::format("{:+.2f}", -100 * *w.drop + 0.0) : "") << " | "
           << opt_num(w.sqnr, "{:.2f}") << " | " << w.bytes << " | " << w.packed << " |\n";
    }
    os << "\n```\n" << summary_lines(r) << "```\n";
    return os.str();
}

// --- HTML with inline SVG --------------------------------------------------------------------

const char* kPalette[] = {"#4c78a8", "#f58518", "#54a24b", "#e45756", "#72b7b2", "#b279a2"};

std::string bar_chart_bits(const std::vector<Row>& rows) {
    const int w = 720, bar = 18, left = 210, h = static_cast<int>(rows.size()) * (bar + 4) + 30;
    std::ostringstream s;
    s << fmt::format("<svg width='{}' height='{}' "
                     "font-family='sans-serif' font-size='11'>",
                     w, h);
    const double scale = (w - left - 40) / 8.0;
    for (int b = 0; b <= 8; b += 2) {
        const double x = left + b * scale;
        s << fmt::format("<line x1='{0:.1f}' y1='0' x2='{0:.1f}' y2='{1}' stroke='#ddd'/>"
                         "<text x='{0:.1f}' y='{2}' text-anchor='middle'>{3}</text>",
                         x, h - 20, h - 6, b);
    }
    for (std::size_t i = 0; i < rows.size(); ++i) {
        const int y = static_cast<int>(i) * (bar + 4) + 2;
        const int bits = rows[i].bits;
        const double bw = (bits ? bits : 8) * scale;
        s << fmt::format("<text x='{}' y='{}' text-anchor='end'>{}</text>", left - 6,
                         y + bar - 5, esc_html(rows[i].name.substr(0, 32)));
        s << fmt::format("<rect x='{}' y='{}' width='{:.1f}' height='{}' fill='{}'>"
                         "<title>{}: {} ({} params)</title></rect>",
                         left, y, bw, bar, bits ? kPalette[(bits - 1) % 6] : "#bbb",
                         esc_html(rows[i].name), bits ? std::to_string(bits) + " bits" : "fp32",
                         rows[i].params);
        s << fmt::format("<text x='{:.1f}' y='{}'>{}</text>", left + bw + 4, y + bar - 5,
                         bits ? std::to_string(bits) : "fp32");
    }
    s << "</svg>";
    return s.str();
}

// Sensitivity (log10 of cost) per layer, one polyline per candidate bit-width.
std::string sensitivity_chart(const std::vector<Row>& rows, const std::vector<int>& cands) {
    if (rows.empty() || cands.empty() || rows[0].cost_per_bits.size() != cands.size()) return "";
    double lo = 1e300, hi = -1e300;
    for (const Row& r : rows) {
        for (double c : r.cost_per_bits) {
            if (c > 0) {
                lo = std::min(lo, std::log10(c));
                hi = std::max(hi, std::log10(c));
            }
        }
    }
    if (!(hi >= lo)) return "";
    if (hi - lo < 1e-9) hi = lo + 1;
    const int w = 720, h = 260, left = 50, bottom = 30;
    const double dx = rows.size() > 1 ? (w - left - 20.0) / (rows.size() - 1) : 0.0;
    auto ypos = [&](double c) {
        const double v = c > 0 ? std::log10(c) : lo;
        return 10 + (h - bottom - 10) * (1 - (v - lo) / (hi - lo));
    };
    std::ostringstream s;
    s << fmt::format("<svg width='{}' height='{}' "
                     "font-family='sans-serif' font-size='11'>",
                     w, h);
    for (int e = static_cast<int>(std::floor(lo)); e <= static_cast<int>(std::ceil(hi)); ++e) {
        const double y = ypos(std::pow(10.0, e));
        if (y < 5 || y > h - bottom + 1) continue;
        s << fmt::format("<line x1='{}' y1='{:.1f}' x2='{}' y2='{:.1f}' stroke='#eee'/>"
                         "<text x='4' y='{:.1f}'>1e{}</text>",
                         left, y, w - 10, y, y + 4, e);
    }
    for (std::size_t k = 0; k < cands.size(); ++k) {
        std::string pts;
        for (std::size_t i = 0; i < rows.size(); ++i) {
            pts += fmt::format("{:.1f},{:.1f} ", left + i * dx, ypos(rows[i].cost_per_bits[k]));
        }
        s << fmt::format("<polyline fill='none' stroke='{}' stroke-width='2' points='{}'/>",
                         kPalette[k % 6], pts);
        s << fmt::format("<text x='{}' y='{}' fill='{}'>{} bits</text>", left + 10 + 60 * k,
                         h - 8, kPalette[k % 6], cands[k]);
    }
    for (std::size_t i = 0; i < rows.size(); ++i) {
        const int bits = rows[i].bits;
        const auto it = std::find(cands.begin(), cands.end(), bits);
        if (it == cands.end()) continue;
        const std::size_t k = static_cast<std::size_t>(it - cands.begin());
        s << fmt::format("<circle cx='{:.1f}' cy='{:.1f}' r='4' fill='black'><title>{}: {} bits, "
                         "cost {:.3g}</title></circle>",
                         left + i * dx, ypos(rows[i].cost_per_bits[k]), esc_html(rows[i].name),
                         bits, rows[i].cost_per_bits[k]);
    }
    s << "</svg>";
    return s.str();
}

// The candidates the search measured: size (average weight bits) against the metric.
std::string tradeoff_chart(const json& r) {
    const auto& a = r.value("allocation", json::object());
    const auto& pts = a.value("search", json::array());
    if (pts.empty()) return "";
    double x0 = 1e300, x1 = -1e300, y0 = 1e300, y1 = -1e300;
    for (const auto& p : pts) {
        x0 = std::min(x0, p.value("avg_weight_bits", 0.0));
        x1 = std::max(x1, p.value("avg_weight_bits", 0.0));
        y0 = std::min(y0, p.value("metric", 0.0));
        y1 = std::max(y1, p.value("metric", 0.0));
    }
    const auto& t = a.value("target", json::object());
    const std::optional<double> goal =
        t.contains("goal") ? std::optional<double>(t["goal"].get<double>()) : std::nullopt;
    if (goal) {
        y0 = std::min(y0, *goal);
        y1 = std::max(y1, *goal);
    }
    if (x1 - x0 < 1e-9) x1 = x0 + 1;
    if (y1 - y0 < 1e-9) y1 = y0 + 0.01;
    const int w = 720, h = 300, left = 60, bottom = 40;
    auto X = [&](double v) { return left + (w - left - 20) * (v - x0) / (x1 - x0); };
    auto Y = [&](double v) { return 10 + (h - bottom - 10) * (1 - (v - y0) / (y1 - y0)); };
    const double chosen = r.value("plan", json::object())
                              .value("totals", json::object())
                              .value("avg_weight_bits", -1.0);
    std::ostringstream s;
    s << fmt::format("<svg width='{}' height='{}' "
                     "font-family='sans-serif' font-size='11'>",
                     w, h);
    s << fmt::format("<text x='{}' y='{}' text-anchor='middle'>average weight bits</text>",
                     (w + left) / 2, h - 6);
    s << fmt::format("<text x='4' y='{:.1f}'>{:.2f} %</text><text x='4' y='{:.1f}'>{:.2f} %</text>",
                     Y(y1) + 4, 100 * y1, Y(y0), 100 * y0);
    s << fmt::format("<text x='{:.1f}' y='{}'>{:.2f}</text><text x='{:.1f}' y='{}' "
                     "text-anchor='end'>{:.2f}</text>",
                     X(x0), h - bottom + 14, x0, X(x1), h - bottom + 14, x1);
    if (goal) {
        s << fmt::format("<line x1='{}' y1='{:.1f}' x2='{}' y2='{:.1f}' stroke='#e45756' "
                         "stroke-dasharray='4 3'/><text x='{}' y='{:.1f}' fill='#e45756'>target "
                         "{:.2f} %</text>",
                         left, Y(*goal), w - 20, Y(*goal), w - 120, Y(*goal) - 4, 100 * *goal);
    }
    for (const auto& p : pts) {
        const double x = p.value("avg_weight_bits", 0.0), y = p.value("metric", 0.0);
        const bool is_chosen = std::abs(x - chosen) < 1e-6;
        s << fmt::format("<circle cx='{:.1f}' cy='{:.1f}' r='{}' fill='{}'><title>{:.3f} bits: "
                         "{:.2f} %</title></circle>",
                         X(x), Y(y), is_chosen ? 7 : 4, is_chosen ? "#f58518" : "#4c78a8", x,
                         100 * y);
    }
    s << "</svg>";
    return s.str();
}

std::string to_html(const json& r) {
    const std::vector<Row> rows = rows_of(r);
    std::vector<int> cands =
        r.value("allocation", json::object()).value("candidate_bits", std::vector<int>{});
    std::ostringstream os;
    os << "<!DOCTYPE html>\n<html><head><meta charset='utf-8'><title>aquant report</title>"
          "<style>body{font-family:sans-serif;margin:24px;max-width:1000px}"
          "table{border-collapse:collapse;font-size:13px}td,th{border:1px solid #ccc;"
          "padding:3px 8px;text-align:right}td:first-child,th:first-child{text-align:left}"
          "pre{background:#f6f6f6;padding:8px}</style></head><body>\n";
    os << "<h1>aquant report</h1><p><b>" << esc_html(r.value("model", r.value("source", "")))
       << "</b></p>\n";
    if (!r.value("command", "").empty()) {
        os << "<pre>" << esc_html(r["command"].get<std::string>()) << "</pre>\n";
    }
    os << "<pre>" << esc_html(summary_lines(r)) << "</pre>\n";
    os << "<h2>Bits per layer</h2>\n" << bar_chart_bits(rows) << "\n";
    if (const std::string sc = sensitivity_chart(rows, cands); !sc.empty()) {
        os << "<h2>Sensitivity per layer and bit-width (log scale; dots: chosen)</h2>\n"
           << sc << "\n";
    }
    if (const std::string tc = tradeoff_chart(r); !tc.empty()) {
        os << "<h2>Size / accuracy trade-off (candidates measured; large dot: chosen)</h2>\n"
           << tc << "\n";
    }
    os << "<h2>Layers</h2><table><tr><th>layer</th><th>op</th><th>params</th><th>bits</th>"
          "<th>act</th><th>storage</th><th>sensitivity</th><th>pred. top-1 pt</th>"
          "<th>SQNR dB</th><th>bytes</th><th>packed</th></tr>\n";
    for (const Row& w : rows) {
        os << "<tr><td>" << esc_html(w.name) << "</td><td>" << w.op << "</td><td>" << w.params
           << "</td><td>" << (w.bits ? std::to_string(w.bits) : "fp32") << "</td><td>"
           << (w.act ? std::to_string(w.act) : "-") << "</td><td>" << w.storage << "</td><td>"
           << opt_num(w.cost, "{:.3g}") << "</td><td>"
           << (w.drop ? fmt::format("{:+.2f}", -100 * *w.drop + 0.0) : "") << "</td><td>"
           << opt_num(w.sqnr, "{:.2f}") << "</td><td>" << w.bytes << "</td><td>" << w.packed
           << "</td></tr>\n";
    }
    os << "</table>\n</body></html>\n";
    return os.str();
}

}  // namespace

std::string report_as(const nlohmann::json& report, const std::string& path) {
    const std::string e = ext_of(path);
    if (e == ".json") return report.dump(2) + "\n";
    if (e == ".md") return to_markdown(report);
    if (e == ".csv") return to_csv(report);
    if (e == ".html" || e == ".htm") return to_html(report);
    throw ConfigError("--report: '" + path + "': expected a .json, .md, .csv or .html file");
}

void write_report_file(const nlohmann::json& report, const std::string& path) {
    const std::string text = report_as(report, path);
    const std::string tmp = path + ".tmp";
    {
        std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
        f << text;
        if (!f) throw IoError(path + ": cannot write the report");
    }
    std::error_code ec;
    std::filesystem::rename(tmp, path, ec);
    if (ec) {
        std::filesystem::remove(tmp, ec);
        throw IoError(path + ": cannot write the report: " + ec.message());
    }
}

}  // namespace aquant::pipeline
