#include <iostream>

#include "aquant/core/error.h"
#include "aquant/core/log.h"
#include "aquant/core/parallel.h"
#include "cli/cli.h"

namespace aquant::cli {
namespace {
int g_exit_code = 0;
}

void set_exit_code(int code) { g_exit_code = code; }

}  // namespace aquant::cli

int main(int argc, char** argv) {
    using namespace aquant;
    cli::GlobalOptions global;
    CLI::App app{"aquant: post-training quantization of ONNX models", "aquant"};
    app.set_version_flag("--version", std::string("aquant ") + AQUANT_VERSION);
    app.require_subcommand(1);
    app.fallthrough();
    app.add_option("--threads", global.threads, "Worker threads (default: all cores)")
        ->check(CLI::NonNegativeNumber);
    app.add_flag("-v,--verbose", global.verbose, "More detail on stderr");
    app.add_flag("-q,--quiet", global.quiet, "Only errors on stderr");
    app.add_flag("--json", global.json, "Machine-readable JSON on stdout");
#define AQUANT_COMMAND(name) cli::add_##name##_command(app, global);
#include "cli/commands.inc"
#undef AQUANT_COMMAND
    app.parse_complete_callback([&] {
        auto& log = logger();
        log.set_level(global.quiet ? spdlog::level::err
                                   : (global.verbose ? spdlog::level::debug : spdlog::level::info));
        if (global.threads > 0) set_num_threads(global.threads);
    });
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        const int rc = app.exit(e);
        return rc == 0 ? 0 : 2;
    } catch (const Error& e) {
        std::cerr << "aquant: error: " << e.what() << "\n";
        return e.exit_code();
    } catch (const std::bad_alloc&) {
        std::cerr << "aquant: error: out of memory\n";
        return 1;
    } catch (const std::exception& e) {
        std::cerr << "aquant: internal error: " << e.what() << "\n";
        return 1;
    }
    return cli::g_exit_code;
}
