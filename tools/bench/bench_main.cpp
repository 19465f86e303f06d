// aquant_bench: benchmarks kept beside the code, not part of the test suite (README in
// tools/bench/CMakeLists.txt).
#include <iostream>

#include <CLI/CLI.hpp>

#include "aquant/core/error.h"
#include "aquant/core/parallel.h"
#include "aquant/pipeline/profile.h"
#include "gemm_bench.h"

int main(int argc, char** argv) {
    using namespace aquant;
    CLI::App app{"aquant_bench: engine benchmarks", "aquant_bench"};
    app.require_subcommand(1);
    int threads = 1;
    bool json = false;
    app.add_option("--threads", threads, "Worker threads (default 1)")->check(CLI::PositiveNumber);
    app.add_flag("--json", json, "JSON on stdout");
    app.fallthrough();

    pipeline::ProfileOptions prof;
    auto* ops = app.add_subcommand("ops", "Per-node and per-op time of the reference engine");
    ops->add_option("model", prof.model_path, "ONNX model")->required();
    ops->add_option("--batch", prof.batch, "Value of a symbolic axis 0")
        ->check(CLI::PositiveNumber);
    ops->add_option("--runs", prof.runs, "Timed runs")->check(CLI::PositiveNumber);
    ops->add_option("--warmup", prof.warmup, "Untimed runs first")->check(CLI::NonNegativeNumber);
    ops->callback([&] {
        set_num_threads(threads);
        const auto r = pipeline::profile_model(prof);
        std::cout << (json ? r.dump(2) + "\n" : pipeline::format_profile(r));
    });

    bench::GemmBenchOptions gb;
    auto* gemm = app.add_subcommand("gemm", "The engine's sgemm vs Eigen on the models' shapes");
    gemm->add_option("models", gb.models, "ONNX models (default: the four models/*_fmnist.onnx)");
    gemm->add_option("--batch", gb.batches, "Batch sizes (default 1 64)");
    gemm->add_option("--runs", gb.runs, "Timed runs per shape")->check(CLI::PositiveNumber);
    gemm->callback([&] {
        if (gb.models.empty()) {
            for (const char* m : {"lenet5", "resnet", "mobilenetv2", "vit"}) {
                gb.models.push_back(std::string(AQUANT_SOURCE_DIR) + "/models/" + m +
                                    "_fmnist.onnx");
            }
        }
        set_num_threads(threads);
        const auto r = bench::gemm_bench(gb);
        std::cout << (json ? r.dump(2) + "\n" : bench::format_gemm_bench(r));
    });

    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        return app.exit(e);
    } catch (const Error& e) {
        std::cerr << "aquant_bench: error: " << e.what() << "\n";
        return e.exit_code();
    }
    return 0;
}
