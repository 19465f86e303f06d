// ONNX backend conformance: runs the libonnx-testdata cases listed in node_tests.txt through the
// reference engine and compares every output with the stored one. Float outputs use ONNX's own
// backend-test tolerance (rtol 1e-3, atol 1e-5); integer, bool and string outputs must be exact.
//
// node_tests.txt: one case per line, relative to kDataRoot (`node/test_relu`), with an optional
// `# comment`; a line `skip: <case>  # reason` names a case deliberately not run (the reason is
// required).
#include "aquant/engine/executor.h"
#include "aquant/engine/kernel_registry.h"
#include "aquant/io/onnx_reader.h"
#include "aquant/io/tensor_pb.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

namespace fs = std::filesystem;

namespace aquant {
namespace {

constexpr const char* kDataRoot = "/usr/share/libonnx-testdata/data";
constexpr double kRtol = 1e-3;  // onnx/backend/test/case/node: default rtol
constexpr double kAtol = 1e-5;  // ... and atol (onnx.backend.test.runner)

struct CaseList {
    std::vector<std::string> run;
    std::map<std::string, std::string> skipped;  // case -> reason
    std::vector<std::string> errors;             // malformed lines
};

std::string trim(const std::string& s) {
    const auto b = s.find_first_not_of(" \t\r");
    if (b == std::string::npos) {
        return "";
    }
    const auto e = s.find_last_not_of(" \t\r");
    return s.substr(b, e - b + 1);
}

const CaseList& case_list() {
    static const CaseList list = [] {
        CaseList l;
        const std::string path =
            std::string(AQUANT_SOURCE_DIR) + "/tests/conformance/node_tests.txt";
        std::ifstream in(path);
        if (!in) {
            l.errors.push_back("cannot open " + path);
            return l;
        }
        std::string line;
        int line_no = 0;
        std::set<std::string> seen;
        while (std::getline(in, line)) {
            ++line_no;
            std::string comment;
            if (auto hash = line.find('#'); hash != std::string::npos) {
                comment = trim(line.substr(hash + 1));
                line = line.substr(0, hash);
            }
            line = trim(line);
            if (line.empty()) {
                continue;
            }
            bool skip = false;
            if (line.rfind("skip:", 0) == 0) {
                skip = true;
                line = trim(line.substr(5));
            }
            const std::string where = "node_tests.txt:" + std::to_string(line_no) + ": ";
            if (!seen.insert(line).second) {
                l.errors.push_back(where + "'" + line + "' is listed twice");
                continue;
            }
            if (skip) {
                if (comment.empty()) {
                    l.errors.push_back(where + "skip of '" + line + "' has no reason");
                }
                l.skipped[line] = comment;
            } else {
                l.run.push_back(line);
            }
        }
        return l;
    }();
    return list;
}

std::string test_name(const std::string& c) {
    std::string s = c;
    for (char& ch : s) {
        if (!std::isalnum(static_cast<unsigned char>(ch))) {
            ch = '_';
        }
    }
    return s;
}

std::string folder_of(const std::string& c) {
    return c.substr(0, c.find('/'));
}

// Pass/fail counts per folder, printed once at exit (the figures the README quotes).
struct Tally {
    std::mutex m;
    std::map<std::string, std::pair<int, int>> by_folder;  // folder -> (passed, run)

    void add(const std::string& c, bool passed) {
        std::lock_guard<std::mutex> g(m);
        auto& t = by_folder[folder_of(c)];
        t.first += passed ? 1 : 0;
        t.second += 1;
    }
};

Tally& tally() {
    static Tally t;
    return t;
}

class TallyPrinter : public ::testing::Environment {
public:
    void TearDown() override {
        std::map<std::string, int> skips;
        for (const auto& kv : case_list().skipped) {
            ++skips[folder_of(kv.first)];
        }
        for (const auto& [folder, t] : tally().by_folder) {
            std::printf("[conformance] %s: %d/%d passed (%d skip-listed)\n", folder.c_str(),
                        t.first, t.second, skips[folder]);
        }
    }
};

const ::testing::Environment* const kTallyPrinter =
    ::testing::AddGlobalTestEnvironment(new TallyPrinter);

bool is_float(DType t) {
    return t == DType::kF32 || t == DType::kF64 || t == DType::kF16 || t == DType::kBF16;
}

// Empty when equal within tolerance; otherwise a description of the first mismatch.
std::string compare(const Tensor& expected, const Tensor& got) {
    if (expected.dtype() != got.dtype() || expected.dims() != got.dims()) {
        return "expected " + std::string(dtype_name(expected.dtype())) + dims_str(expected.dims()) +
               ", got " + std::string(dtype_name(got.dtype())) + dims_str(got.dims());
    }
    if (expected.dtype() == DType::kString) {
        return expected.strings() == got.strings() ? "" : "string values differ";
    }
    std::int64_t bad = 0, first = -1;
    for (std::int64_t i = 0; i < expected.numel(); ++i) {
        const double e = expected.get_f64(i), g = got.get_f64(i);
        bool ok;
        if (is_float(expected.dtype())) {
            ok = (std::isnan(e) && std::isnan(g)) || e == g ||
                 std::abs(e - g) <= kAtol + kRtol * std::abs(e);
        } else {
            ok = e == g;
        }
        if (!ok && bad++ == 0) {
            first = i;
        }
    }
    if (bad == 0) {
        return "";
    }
    std::ostringstream os;
    os.precision(9);
    os << bad << " of " << expected.numel() << " elements differ; first at flat index " << first
       << ": expected " << expected.get_f64(first) << ", got " << got.get_f64(first);
    return os.str();
}

// libonnx-testdata 1.12 stores bfloat16 tensors as uint16 (numpy has no bfloat16); the bits
// are bfloat16, so relabel them when the model says bfloat16.
Tensor as_bf16_if(const Tensor& t, bool want_bf16) {
    if (!want_bf16 || t.dtype() != DType::kU16) {
        return t;
    }
    Tensor r(DType::kBF16, t.dims());
    if (t.size_bytes()) {
        std::memcpy(r.raw(), t.raw(), t.size_bytes());
    }
    return r;
}

bool declared_bf16(const ir::Value& v) {
    return v.type && v.type->elem_type == DType::kBF16;
}

std::vector<fs::path> sorted_files(const fs::path& dir, const std::string& prefix) {
    std::vector<fs::path> out;
    for (const auto& e : fs::directory_iterator(dir)) {
        const std::string name = e.path().filename().string();
        if (name.rfind(prefix, 0) == 0 && e.path().extension() == ".pb") {
            out.push_back(e.path());
        }
    }
    // input_10.pb sorts after input_9.pb.
    std::sort(out.begin(), out.end(), [](const fs::path& a, const fs::path& b) {
        const std::string sa = a.stem().string(), sb = b.stem().string();
        return std::make_pair(sa.size(), sa) < std::make_pair(sb.size(), sb);
    });
    return out;
}

// Runs one case; returns the failure descriptions (empty: passed).
std::vector<std::string> run_case(const std::string& c) {
    std::vector<std::string> failures;
    const fs::path dir = fs::path(kDataRoot) / c;
    auto model = io::read_model((dir / "model.onnx").string());
    engine::Executor exec(model);
    const ir::Graph& g = *model->graph;
    const std::vector<ir::ValueId> inputs = g.real_inputs();

    std::vector<fs::path> sets;
    for (const auto& e : fs::directory_iterator(dir)) {
        if (e.is_directory() && e.path().filename().string().rfind("test_data_set_", 0) == 0) {
            sets.push_back(e.path());
        }
    }
    std::sort(sets.begin(), sets.end());
    if (sets.empty()) {
        failures.push_back("no test_data_set_* folder");
    }
    for (const fs::path& set : sets) {
        std::map<std::string, Tensor> feeds;
        const auto input_files = sorted_files(set, "input_");
        for (std::size_t k = 0; k < input_files.size(); ++k) {
            std::string name;
            Tensor t = io::read_tensor_pb(input_files[k].string(), &name);
            const auto id = g.find_value(name);
            if (name.empty() || !id || !g.is_graph_input(*id)) {
                if (k >= inputs.size()) {
                    failures.push_back(set.filename().string() + ": more input files than inputs");
                    break;
                }
                name = g.value(inputs[k]).name;
            }
            feeds[name] = as_bf16_if(t, declared_bf16(g.value(*g.find_value(name))));
        }
        const std::vector<Tensor> outs = exec.run(feeds);
        const auto output_files = sorted_files(set, "output_");
        if (output_files.size() != outs.size()) {
            failures.push_back(set.filename().string() + ": " +
                               std::to_string(output_files.size()) +
                               " expected outputs, model has " + std::to_string(outs.size()));
        }
        for (std::size_t k = 0; k < std::min(outs.size(), output_files.size()); ++k) {
            const Tensor expected = as_bf16_if(io::read_tensor_pb(output_files[k].string()),
                                               outs[k].dtype() == DType::kBF16);
            const std::string why = compare(expected, outs[k]);
            if (!why.empty()) {
                failures.push_back(set.filename().string() + ": output " + std::to_string(k) +
                                   " '" + g.value(g.outputs[k]).name + "': " + why);
            }
        }
    }
    return failures;
}

class OnnxNodeTest : public ::testing::TestWithParam<std::string> {};

TEST_P(OnnxNodeTest, MatchesReferenceOutputs) {
    const std::string& c = GetParam();
    if (!fs::exists(fs::path(kDataRoot) / c / "model.onnx")) {
        GTEST_SKIP() << "libonnx-testdata case " << c << " is not installed under " << kDataRoot;
    }
    std::vector<std::string> failures;
    try {
        failures = run_case(c);
    } catch (const std::exception& e) {
        failures.push_back(std::string("exception: ") + e.what());
    }
    tally().add(c, failures.empty());
    for (const auto& f : failures) {
        ADD_FAILURE() << c << ": " << f;
    }
}

INSTANTIATE_TEST_SUITE_P(Listed, OnnxNodeTest, ::testing::ValuesIn(case_list().run),
                         [](const ::testing::TestParamInfo<std::string>& info) {
                             return test_name(info.param);
                         });

TEST(ConformanceList, IsWellFormed) {
    for (const auto& e : case_list().errors) {
        ADD_FAILURE() << e;
    }
    EXPECT_FALSE(case_list().run.empty());
    for (const auto& c : case_list().run) {
        if (!fs::exists(fs::path(kDataRoot))) {
            break;
        }
        EXPECT_TRUE(fs::exists(fs::path(kDataRoot) / c / "model.onnx"))
            << c << " is listed but has no model.onnx under " << kDataRoot;
    }
}

// Every op with a registered kernel is exercised by at least one listed case (run or
// skip-listed with a reason).
TEST(ConformanceList, CoversEveryRegisteredOp) {
    if (!fs::exists(fs::path(kDataRoot))) {
        GTEST_SKIP() << kDataRoot << " is not installed";
    }
    std::set<std::string> covered;
    std::vector<std::string> cases = case_list().run;
    for (const auto& kv : case_list().skipped) {
        cases.push_back(kv.first);
    }
    for (const auto& c : cases) {
        try {
            auto model = io::read_model((fs::path(kDataRoot) / c / "model.onnx").string(),
                                        io::ReadOptions{true, false});
            for (const auto& kv : ir::op_histogram(*model->graph)) {
                covered.insert(kv.first);
            }
        } catch (const std::exception&) {
            // A skip-listed case may use types the reader rejects; it covers nothing then.
        }
    }
    for (const auto& op : engine::kernel_registry().op_types()) {
        // Ops outside the ONNX domain ("ai.aquant.*" fused integer ops, "com.microsoft.*"
        // contrib ops) have no ONNX backend case; their unit tests in tests/engine cover them.
        if (op.find('.') != std::string::npos) {
            continue;
        }
        EXPECT_TRUE(covered.count(op)) << "op '" << op << "' has a kernel but no case in "
                                       << "tests/conformance/node_tests.txt";
    }
}

}  // namespace
}  // namespace aquant
