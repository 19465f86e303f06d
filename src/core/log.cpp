#include "aquant/core/log.h"

#include <spdlog/sinks/stdout_color_sinks.h>

namespace aquant {

spdlog::logger& logger() {
    static std::shared_ptr<spdlog::logger> instance = [] {
        auto existing = spdlog::get("aquant");
        if (existing) return existing;
        auto l = spdlog::stderr_color_mt("aquant");
        l->set_pattern("aquant: %l: %v");
        l->set_level(spdlog::level::warn);
        return l;
    }();
    return *instance;
}

}  // namespace aquant
