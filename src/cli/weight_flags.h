#pragma once

#include <string>

#include "aquant/core/error.h"
#include "aquant/quant/weight.h"

namespace aquant::cli {

/// --granularity tensor | channel | block:N into the weight config.
inline void parse_granularity(const std::string& v, quant::WeightQuantConfig& w) {
    if (v == "tensor") {
        w.granularity = quant::Granularity::kTensor;
    } else if (v == "channel") {
        w.granularity = quant::Granularity::kChannel;
    } else if (v.rfind("block:", 0) == 0) {
        w.granularity = quant::Granularity::kBlock;
        try {
            w.block_size = std::stoi(v.substr(6));
        } catch (const std::exception&) {
            w.block_size = 0;
        }
        if (w.block_size < 1) {
            throw ConfigError("--granularity: block size in '" + v + "' must be >= 1");
        }
    } else {
        throw ConfigError("--granularity: expected tensor, channel or block:N, got '" + v + "'");
    }
}

}  // namespace aquant::cli
