// The CLI is a shell: each cmd_*.cpp fills an options struct from flags and calls pipeline::.
#pragma once

#include <string>

#include <CLI/CLI.hpp>

namespace aquant::cli {

struct GlobalOptions {
    int threads = 0;  // 0: all cores
    bool verbose = false;
    bool quiet = false;
    bool json = false;
};

/// Sets the exit code main() returns after the subcommand callback (0 by default).
void set_exit_code(int code);

#define AQUANT_COMMAND(name) void add_##name##_command(CLI::App& app, GlobalOptions& global);
#include "cli/commands.inc"
#undef AQUANT_COMMAND

}  // namespace aquant::cli
