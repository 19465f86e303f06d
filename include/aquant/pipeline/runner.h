// A loaded model ready to run batches: reads the model once, builds the executor, and feeds
// models with a fixed batch dimension (e.g. 1) row by row, concatenating the outputs.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "aquant/data/dataset.h"
#include "aquant/engine/executor.h"
#include "aquant/ir/graph.h"

namespace aquant::pipeline {

class ModelRunner {
public:
    explicit ModelRunner(std::shared_ptr<const ir::Model> model);
    static ModelRunner from_file(const std::string& path);

    const ir::Model& model() const { return *model_; }
    const ir::Graph& graph() const { return *model_->graph; }
    const std::string& path() const { return model_->graph->source_path; }
    /// The fixed batch size of the first input's axis 0, or 0 when it is symbolic.
    std::int64_t fixed_batch() const { return fixed_batch_; }
    std::vector<std::string> output_names() const;
    /// Index of the graph output named `name` (the first when empty); ConfigError otherwise.
    std::size_t output_index(const std::string& name) const;

    /// Runs one batch of any size; returns the graph outputs in order.
    std::vector<Tensor> run(const std::map<std::string, Tensor>& inputs);

    engine::Executor& executor() { return *exec_; }

private:
    std::shared_ptr<const ir::Model> model_;
    std::unique_ptr<engine::Executor> exec_;
    std::int64_t fixed_batch_ = 0;
};

/// Rows of a [B, ...] tensor (shares nothing; copies the rows).
Tensor slice_rows(const Tensor& t, std::int64_t begin, std::int64_t end);
/// Concatenates tensors along axis 0.
Tensor concat_rows(const std::vector<Tensor>& parts);

}  // namespace aquant::pipeline
