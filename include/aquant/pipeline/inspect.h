#pragma once

#include <string>

#include <nlohmann/json.hpp>

namespace aquant::pipeline {

/// `aquant inspect`: opsets, inputs/outputs with shapes, op histogram, parameters, quantizable
/// layers and the nodes the engine cannot run. The JSON is the --json output; its keys are
/// documented in README.md.
nlohmann::json inspect_model(const std::string& path);
std::string format_inspect(const nlohmann::json& info);

}  // namespace aquant::pipeline
