#pragma once

#include <spdlog/spdlog.h>

namespace aquant {

/// The library's one logger ("aquant"). The library never sets sinks or levels; the CLI does.
spdlog::logger& logger();

}  // namespace aquant
