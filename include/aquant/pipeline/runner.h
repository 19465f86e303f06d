// A loaded model ready to run batches: reads the model once, builds the executor, and feeds
// models with a fixed batch dimension (e.g. 1) row by row, concatenating the outputs.
//
// QDQ models (QuantizeLinear / DequantizeLinear in the main graph) run through the integer
// kernels by default: engine::fuse_qdq rewrites a copy of the graph so that each
// DequantizeLinear -> Conv / Gemm / MatMul -> QuantizeLinear layer becomes one QLinearConv /
// ai.aquant.QLinearGemm node (int32 accumulation, requantization as ONNX Runtime does it). The
// caller's model is not modified. RunnerOptions{.integer = false} runs the graph as written
// (the float simulation of the quantized model).
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "aquant/data/dataset.h"
#include "aquant/engine/executor.h"
#include "aquant/engine/qdq_fusion.h"
#include "aquant/ir/graph.h"

namespace aquant::pipeline {

struct RunnerOptions {
    /// Fuse QDQ layers into integer kernels (see the file comment); false: run them in float.
    bool integer = true;
};

class ModelRunner {
public:
    explicit ModelRunner(std::shared_ptr<const ir::Model> model, RunnerOptions options = {});
    static ModelRunner from_file(const std::string& path, RunnerOptions options = {});

    /// The model as executed: after QDQ fusion when that applied, else the model given.
    const ir::Model& model() const { return *model_; }
    const ir::Graph& graph() const { return *model_->graph; }
    /// True when the model had QuantizeLinear / DequantizeLinear nodes and options.integer was
    /// set, i.e. fuse_qdq ran (fusion().fused may still be empty).
    bool fused() const { return fused_; }
    /// What fuse_qdq did: layers fused and layers kept in float with the reason. Empty when
    /// fused() is false.
    const engine::QdqFusionReport& fusion() const { return fusion_; }
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
    bool fused_ = false;
    engine::QdqFusionReport fusion_;
};

/// Rows of a [B, ...] tensor (shares nothing; copies the rows).
Tensor slice_rows(const Tensor& t, std::int64_t begin, std::int64_t end);
/// Concatenates tensors along axis 0.
Tensor concat_rows(const std::vector<Tensor>& parts);

}  // namespace aquant::pipeline
