// Report files by extension (PRODUCT.md "The per-layer report"): the same layers and figures in
// JSON, Markdown, CSV and a self-contained HTML page with inline SVG charts.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <sstream>

#include "aquant/core/error.h"
#include "aquant/pipeline/quantize.h"

namespace aquant::pipeline {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

nlohmann::json sample_report() {
    using nlohmann::json;
    json r;
    r["model"] = "q.onnx";
    r["command"] = "aquant quantize m.onnx --target-acc 0.9";
    json layers = json::array();
    layers.push_back({{"name", "/conv1/Conv"}, {"op", "Conv"}, {"params", 150}, {"weight_bits", 8},
                      {"act_bits", 8}, {"storage", "int8"}, {"weight_sqnr_db", 45.894},
                      {"bytes_stored", 252}, {"bytes_packed", 252}});
    layers.push_back({{"name", "/fc, \"odd\" <name>"}, {"op", "Gemm"}, {"params", 48000},
                      {"weight_bits", 3}, {"act_bits", 8}, {"storage", "int4"},
                      {"weight_sqnr_db", 12.293}, {"bytes_stored", 25980}, {"bytes_packed", 19965}});
    r["plan"] = {{"layers", layers},
                 {"totals", {{"layers", 2}, {"quantized_layers", 2}, {"params", 48150},
                             {"avg_weight_bits", 3.016}, {"bytes_fp32", 192600},
                             {"bytes_stored", 26232}, {"bytes_packed", 20217}}}};
    json al = json::array();
    al.push_back({{"name", "/conv1/Conv"}, {"bits", 8}, {"cost", 2.3e-5}, {"predicted_drop", 0.0},
                  {"cost_per_bits", {0.5, 0.1, 0.01, 2.3e-5}}});
    al.push_back({{"name", "/fc, \"odd\" <name>"}, {"bits", 3}, {"cost", 0.0065},
                  {"predicted_drop", 0.0137}, {"cost_per_bits", {0.2, 0.0065, 0.001, 1e-6}}});
    r["allocation"] = {{"allocator", "loss-aware"}, {"estimator", "loss-aware"}, {"cost", "kl"},
                       {"candidate_bits", {2, 3, 4, 8}}, {"layers", al},
                       {"target", {{"kind", "target-acc"}, {"value", 0.9}, {"goal", 0.9},
                                   {"metric", "top1"}, {"fp32", 0.9025}, {"met", true}}},
                       {"search", json::array({{{"avg_weight_bits", 8.0}, {"metric", 0.9025}},
                                               {{"avg_weight_bits", 2.0}, {"metric", 0.79}},
                                               {{"avg_weight_bits", 3.016}, {"metric", 0.9011}}})}};
    r["metrics"] = {{"fp32", {{"top1", 0.9025}, {"samples", 10000}}},
                    {"quantized", {{"top1", 0.9011}, {"samples", 10000}}}};
    return r;
}

std::size_t count(const std::string& s, const std::string& what) {
    std::size_t n = 0;
    for (auto p = s.find(what); p != std::string::npos; p = s.find(what, p + 1)) ++n;
    return n;
}

TEST(ReportFormats, CsvHasOneQuotedRowPerLayerWithSensitivity) {
    const std::string csv = report_as(sample_report(), "r.csv");
    std::istringstream in(csv);
    std::string header, a, b, extra;
    std::getline(in, header);
    std::getline(in, a);
    std::getline(in, b);
    EXPECT_FALSE(std::getline(in, extra));
    EXPECT_THAT(header, HasSubstr("sensitivity,predicted_top1_drop"));
    EXPECT_EQ(a, "/conv1/Conv,Conv,150,8,8,int8,2.3e-05,0,45.894,252,252");
    EXPECT_THAT(b, HasSubstr("\"/fc, \"\"odd\"\" <name>\",Gemm,48000,3,8,int4,0.0065,0.0137,"));
}

TEST(ReportFormats, MarkdownTableAndTotals) {
    const std::string md = report_as(sample_report(), "R.MD");
    EXPECT_THAT(md, HasSubstr("| `/conv1/Conv` | Conv | 150 | 8 | 8 | int8 | 2.3e-05 | +0.00 |"));
    EXPECT_THAT(md, HasSubstr("| 3 | 8 | int4 | 0.0065 | -1.37 |"));
    EXPECT_THAT(md, HasSubstr("top-1: fp32 90.25 % -> quantized 90.11 %"));
}

TEST(ReportFormats, HtmlIsSelfContainedWithThreeCharts) {
    const std::string html = report_as(sample_report(), "r.html");
    EXPECT_EQ(count(html, "<svg"), 3u);
    EXPECT_EQ(count(html, "</svg>"), 3u);
    EXPECT_THAT(html, Not(HasSubstr("<script")));
    EXPECT_THAT(html, Not(HasSubstr("http")));  // nothing fetched: opens with no network
}

TEST(ReportFormats, NamesAreEscapedInHtml) {
    const std::string html = report_as(sample_report(), "r.html");
    EXPECT_THAT(html, HasSubstr("&quot;odd&quot; &lt;name&gt;"));
    EXPECT_THAT(html, Not(HasSubstr("\"odd\" <name>")));
}

TEST(ReportFormats, UnknownExtensionIsAUsageError) {
    EXPECT_THROW(report_as(sample_report(), "r.pdf"), ConfigError);
    EXPECT_EQ(nlohmann::json::parse(report_as(sample_report(), "r.json")), sample_report());
}

}  // namespace
}  // namespace aquant::pipeline
