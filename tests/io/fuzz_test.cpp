// Robustness without libFuzzer: 200 deterministic corruptions (bit flips, byte writes,
// truncations, insertions, chunk copies) of small real models. read_model_from_bytes must either
// succeed or throw aquant::Error; any other exception or a crash fails the test. Inference is on,
// so ONNX 1.12 shape inference and the own rules see the corrupt graphs too.
#include "io_test_models.h"
#include "io_test_util.h"

#include "aquant/core/log.h"
#include "aquant/io/onnx_reader.h"
#include "aquant/io/onnx_writer.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <random>

namespace aquant::io {
namespace {

namespace fs = std::filesystem;

constexpr int kMutations = 200;
constexpr std::uint32_t kSeed = 20240611;  // fixed: every run tries the same 200 files

std::string mutate(const std::string& in, std::mt19937& rng) {
    std::string s = in;
    auto pick = [&](std::size_t n) {
        return std::uniform_int_distribution<std::size_t>(0, n - 1)(rng);
    };
    const int kind = static_cast<int>(pick(5));
    const int edits = 1 + static_cast<int>(pick(4));
    for (int e = 0; e < edits && !s.empty(); ++e) {
        switch (kind) {
            case 0:
                s[pick(s.size())] ^= static_cast<char>(1 << pick(8));
                break;  // bit flip
            case 1:
                s[pick(s.size())] = static_cast<char>(pick(256));
                break;  // byte write
            case 2:
                s.resize(pick(s.size()));
                break;  // truncate
            case 3:
                s.insert(pick(s.size()), 1 + pick(8), static_cast<char>(pick(256)));
                break;
            default: {  // copy a chunk over another place (duplicates tags and lengths)
                const std::size_t from = pick(s.size()), to = pick(s.size());
                const std::size_t n = std::min({1 + pick(64), s.size() - from, s.size() - to});
                s.replace(to, n, s.substr(from, n));
            }
        }
    }
    return s;
}

struct Outcome {
    int ok = 0, errors = 0;
};

Outcome fuzz(const std::string& base, const std::string& name, std::uint32_t seed) {
    // Corrupt files legitimately warn (unknown fields); keep the test output readable.
    const auto level = logger().level();
    logger().set_level(spdlog::level::err);

    struct Restore {
        spdlog::level::level_enum level;

        ~Restore() { logger().set_level(level); }
    } restore{level};

    std::mt19937 rng(seed);
    Outcome out;
    for (int i = 0; i < kMutations; ++i) {
        const std::string bytes = mutate(base, rng);
        try {
            const auto m = read_model_from_bytes(bytes, name);
            (void)serialize_model(*m);  // what was accepted can be written
            ++out.ok;
        } catch (const Error&) {
            ++out.errors;
        } catch (const std::exception& e) {
            ADD_FAILURE() << name << " mutation " << i << " (seed " << seed
                          << "): non-aquant exception: " << e.what();
        }
    }
    return out;
}

void run(const std::string& base, const std::string& name) {
    const Outcome o = fuzz(base, name, kSeed);
    std::cout << "[ fuzz ] " << name << ": " << kMutations << " mutations, " << o.ok << " read, "
              << o.errors << " rejected with aquant::Error\n";
    EXPECT_EQ(o.ok + o.errors, kMutations);
    EXPECT_GT(o.errors, 0);  // the mutations do damage; all-accepted would mean no fuzzing
}

TEST(Fuzz, ConvModelOnnxInferencePath) {
    run(serialize_model(*iotest::conv_model(13, 8)), "conv13.onnx");
}

TEST(Fuzz, ConvModelOwnInferencePath) {
    run(serialize_model(*iotest::conv_model(21, 10)), "conv21.onnx");
}

// Found by this fuzzing: a Scan whose num_scan_inputs attribute name was corrupted made ONNX
// 1.12's Scan shape inference dereference null (SIGSEGV). Nodes are now checked against their
// schema before ONNX inference runs; the model loads, typed by the own rules only.
TEST(Fuzz, ScanWithoutNumScanInputsRegression) {
    using namespace iotest;
    using namespace iotest::onnxpb;
    const Pb body = Pb().m(kNode, node("add", "Add", {"sum_in", "next"}, {"sum_out"}))
                        .m(kNode, node("id", "Identity", {"sum_out"}, {"scan_out"}))
                        .s(kGraphName, "scan_body")
                        .m(kInput, value_info("sum_in", 1, {2}))
                        .m(kInput, value_info("next", 1, {2}))
                        .m(kOutput, value_info("sum_out", 1, {2}))
                        .m(kOutput, value_info("scan_out", 1, {2}));
    const Pb scan =
        node("scan", "Scan", {"initial", "x"}, {"y", "z"})
            .m(kAttribute, Pb().s(kAttrName, "body").m(kAttrG, body).i(kAttrType, 5))
            .m(kAttribute, Pb().s(kAttrName, "num_scan\244inputs").i(kAttrI, 1).i(kAttrType, 2));
    const Pb graph = Pb().m(kNode, scan)
                         .m(kInput, value_info("initial", 1, {2}))
                         .m(kInput, value_info("x", 1, {3, 2}))
                         .m(kOutput, Pb().s(kViName, "y"))
                         .m(kOutput, Pb().s(kViName, "z"));
    const auto m = read_model_from_bytes(model(graph, 9, 4).str(), "scan.onnx");
    EXPECT_EQ(m->graph->num_nodes(), 1u);
}

// Also found by fuzzing: ONNX 1.12's LayerNormalization inference indexes the input shape with
// an unchecked axis when the Mean output is present (SIGSEGV for axis 1966081). The schema check
// cannot see that; ONNX inference runs in a child process, so the load survives.
TEST(Fuzz, LayerNormalizationAxisOutOfRangeRegression) {
    using namespace iotest;
    using namespace iotest::onnxpb;
    const Pb ln = node("ln", "LayerNormalization", {"X", "W"}, {"Y", "Mean", "InvStdDev"})
                      .m(kAttribute, Pb().s(kAttrName, "axis").i(kAttrI, 1966081).i(kAttrType, 2));
    const Pb graph = Pb().m(kNode, ln)
                         .m(kNode, node("relu", "Relu", {"X"}, {"Z"}))
                         .m(kInput, value_info("X", 1, {2, 3, 5}))
                         .m(kInput, value_info("W", 1, {5}))
                         .m(kOutput, Pb().s(kViName, "Y"))
                         .m(kOutput, Pb().s(kViName, "Mean"))
                         .m(kOutput, Pb().s(kViName, "InvStdDev"))
                         .m(kOutput, Pb().s(kViName, "Z"));
    const auto m = read_model_from_bytes(model(graph, 17, 8).str(), "ln.onnx");
    const auto z = m->graph->value(*m->graph->find_value("Z")).type;
    ASSERT_TRUE(z.has_value());  // typed by the own rules after ONNX inference failed
    EXPECT_EQ(z->str(), "float[2,3,5]");
}

TEST(Fuzz, RealModels) {
    const std::vector<fs::path> candidates = {
        "/usr/share/libonnx-testdata/data/pytorch-converted/test_Conv2d/model.onnx",
        "/usr/share/libonnx-testdata/data/node/test_if_seq/model.onnx",
        fs::path(AQUANT_SOURCE_DIR) / ".." / "shared" / "models" / "mnist8_zoo" / "model.onnx",
    };
    int found = 0;
    for (const auto& p : candidates) {
        if (!fs::exists(p)) {
            continue;
        }
        ++found;
        run(iotest::read_file(p.string()), p.parent_path().filename().string());
    }
    if (found == 0) {
        GTEST_SKIP() << "no libonnx-testdata or shared models installed";
    }
}

}  // namespace
}  // namespace aquant::io
