// The flags of `aquant quantize`, shared with `aquant batch` (one quantize command line per job).
#pragma once

#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "aquant/pipeline/quantize.h"

namespace aquant::cli {

struct QuantizeFlags {
    pipeline::QuantizeOptions opt;
    std::string act_bits = "8";
    std::string granularity = "channel";
    std::vector<std::string> overrides;
    std::string calib_path;
    std::string size;
    std::string int4_compute = "int8";
};

/// Every quantize flag and the model positional (not --json, a global flag).
void add_quantize_options(CLI::App* cmd, QuantizeFlags& flags);
/// Turns the parsed strings into options (granularity, --size, overrides, calib preprocessing).
void finish_quantize_flags(QuantizeFlags& flags);

}  // namespace aquant::cli
