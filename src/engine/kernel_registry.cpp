#include "aquant/engine/kernel_registry.h"

#include "aquant/core/error.h"

namespace aquant::engine {

#define AQUANT_KERNEL(name) void register_##name(KernelRegistry& registry);
#include "kernels/builtin_kernels.inc"
#undef AQUANT_KERNEL

namespace {
std::string normalise_domain(const std::string& domain) {
    return domain == "ai.onnx" ? std::string() : domain;
}
}  // namespace

void KernelRegistry::add(const std::string& op_type, KernelFactory factory,
                         const std::string& domain) {
    auto key = std::make_pair(normalise_domain(domain), op_type);
    if (factories_.count(key)) {
        throw InternalError("kernel for '" + op_type + "' registered twice");
    }
    factories_.emplace(std::move(key), std::move(factory));
}

const KernelFactory* KernelRegistry::find(const std::string& op_type,
                                          const std::string& domain) const {
    auto it = factories_.find({normalise_domain(domain), op_type});
    return it == factories_.end() ? nullptr : &it->second;
}

std::vector<std::string> KernelRegistry::op_types() const {
    std::vector<std::string> out;
    for (const auto& [key, factory] : factories_) {
        out.push_back(key.first.empty() ? key.second : key.first + "." + key.second);
    }
    return out;
}

const KernelRegistry& kernel_registry() {
    static const KernelRegistry registry = [] {
        KernelRegistry r;
#define AQUANT_KERNEL(name) register_##name(r);
#include "kernels/builtin_kernels.inc"
#undef AQUANT_KERNEL
        return r;
    }();
    return registry;
}

}  // namespace aquant::engine
