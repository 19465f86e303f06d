#pragma once

#include <map>
#include <string>
#include <vector>

#include "aquant/engine/kernel.h"

namespace aquant::engine {

class KernelRegistry {
public:
    /// domain "" is the default ONNX domain ("ai.onnx" is normalised to "").
    void add(const std::string& op_type, KernelFactory factory, const std::string& domain = "");
    const KernelFactory* find(const std::string& op_type, const std::string& domain) const;
    bool supports(const std::string& op_type, const std::string& domain) const {
        return find(op_type, domain) != nullptr;
    }
    std::vector<std::string> op_types() const;  // "Conv", "com.microsoft.X", sorted

private:
    std::map<std::pair<std::string, std::string>, KernelFactory> factories_;
};

/// The registry with every built-in kernel (builtin_kernels.inc).
const KernelRegistry& kernel_registry();

}  // namespace aquant::engine
