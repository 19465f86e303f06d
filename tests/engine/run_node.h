// Runs one node on given inputs through the Executor (the public path every kernel takes).
#pragma once

#include "engine/model_builder.h"

#include "aquant/engine/executor.h"

#include <map>
#include <string>
#include <vector>

namespace aquant::test {

/// Inputs are fed as graph inputs with their exact shapes; an undefined Tensor is an omitted
/// optional input.
inline std::vector<Tensor> run_node(const std::string& op, const std::vector<Tensor>& inputs,
                                    std::int64_t opset = 17, std::vector<ir::Attribute> attrs = {},
                                    int num_outputs = 1) {
    GraphBuilder b;
    std::vector<std::string> names;
    std::map<std::string, Tensor> feeds;
    for (std::size_t i = 0; i < inputs.size(); ++i) {
        if (!inputs[i].defined()) {
            names.emplace_back();
            continue;
        }
        names.push_back("in" + std::to_string(i));
        std::vector<DimSpec> dims;
        for (auto d : inputs[i].dims()) {
            dims.emplace_back(d);
        }
        b.input(names.back(), inputs[i].dtype(), dims);
        feeds[names.back()] = inputs[i];
    }
    std::vector<std::string> outs;
    for (int k = 0; k < num_outputs; ++k) {
        outs.push_back("out" + std::to_string(k));
    }
    b.node(op, names, outs, std::move(attrs), "n");
    for (const auto& o : outs) {
        b.output(o);
    }
    engine::Executor exec(b.model(opset));
    return exec.run(feeds);
}

}  // namespace aquant::test
