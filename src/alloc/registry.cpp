#include "aquant/alloc/allocator.h"
#include "aquant/core/error.h"

#include <fmt/format.h>

namespace aquant::alloc {

#define AQUANT_ALLOCATOR(id, name, summary) std::unique_ptr<Allocator> make_allocator_##id();
#include "alloc/builtin_allocators.inc"
#undef AQUANT_ALLOCATOR

const std::vector<AllocatorInfo>& allocators() {
    static const std::vector<AllocatorInfo> entries = {
#define AQUANT_ALLOCATOR(id, name, summary) {name, summary, &make_allocator_##id},
#include "alloc/builtin_allocators.inc"
#undef AQUANT_ALLOCATOR
    };
    return entries;
}

std::unique_ptr<Allocator> make_allocator(const std::string& name) {
    std::vector<std::string> names;
    for (const AllocatorInfo& a : allocators()) {
        if (a.name == name)
            return a.make();
        names.push_back(a.name);
    }
    throw ConfigError(
        fmt::format("unknown allocator '{}'; valid: {}", name, fmt::join(names, ", ")));
}

}  // namespace aquant::alloc
