#include "aquant/pipeline/runner.h"

#include <cstring>

#include "aquant/core/log.h"
#include "aquant/io/onnx_reader.h"

namespace aquant::pipeline {

namespace {

bool has_qdq(const ir::Graph& g) {
    for (const ir::Node& n : g.nodes()) {
        if (!n.removed && (n.op_type == "QuantizeLinear" || n.op_type == "DequantizeLinear") &&
            (n.domain.empty() || n.domain == "ai.onnx")) {
            return true;
        }
    }
    return false;
}

}  // namespace

ModelRunner::ModelRunner(std::shared_ptr<const ir::Model> model, RunnerOptions options)
    : model_(std::move(model)) {
    if (options.integer && has_qdq(*model_->graph)) {
        auto copy = std::make_shared<ir::Model>(*model_);
        copy->graph = std::make_shared<ir::Graph>(*model_->graph);
        fusion_ = engine::fuse_qdq(*copy);
        fused_ = true;
        const std::string& where = model_->graph->source_path;
        logger().info("{}: integer execution: {}", where.empty() ? "model" : where,
                      fusion_.summary());
        for (const auto& s : fusion_.skipped) {
            logger().debug("  kept in float: '{}' ({}): {}", s.node, s.op_type, s.reason);
        }
        model_ = std::move(copy);
    }
    exec_ = std::make_unique<engine::Executor>(model_);
    const ir::Graph& g = *model_->graph;
    const auto inputs = g.real_inputs();
    if (!inputs.empty()) {
        const auto& type = g.value(inputs[0]).type;
        if (type && type->shape && !type->shape->empty() && (*type->shape)[0].known()) {
            fixed_batch_ = (*type->shape)[0].value;
        }
    }
}

ModelRunner ModelRunner::from_file(const std::string& path, RunnerOptions options) {
    return ModelRunner(io::read_model(path), options);
}

std::vector<std::string> ModelRunner::output_names() const {
    std::vector<std::string> names;
    for (ir::ValueId v : graph().outputs) names.push_back(graph().value(v).name);
    return names;
}

std::size_t ModelRunner::output_index(const std::string& name) const {
    const auto names = output_names();
    if (name.empty()) return 0;
    for (std::size_t i = 0; i < names.size(); ++i) {
        if (names[i] == name) return i;
    }
    std::string have;
    for (const auto& n : names) have += (have.empty() ? "'" : ", '") + n + "'";
    throw ConfigError(path() + ": no output named '" + name + "'; outputs: " + have);
}

Tensor slice_rows(const Tensor& t, std::int64_t begin, std::int64_t end) {
    Dims dims = t.dims();
    const std::int64_t rows = dims.empty() ? 1 : dims[0];
    if (begin < 0 || end > rows || begin > end) {
        throw InternalError("slice_rows: [" + std::to_string(begin) + "," + std::to_string(end) +
                            ") of " + dims_str(t.dims()));
    }
    dims[0] = end - begin;
    Tensor out(t.dtype(), dims);
    const std::int64_t row_elems = rows == 0 ? 0 : t.numel() / rows;
    if (t.dtype() == DType::kString) {
        for (std::int64_t i = 0; i < (end - begin) * row_elems; ++i) {
            out.strings()[static_cast<std::size_t>(i)] =
                t.strings()[static_cast<std::size_t>(begin * row_elems + i)];
        }
        return out;
    }
    if (dtype_is_4bit(t.dtype())) throw InternalError("slice_rows on packed 4-bit data");
    const std::size_t row_bytes = dtype_storage_bytes(t.dtype(), row_elems);
    std::memcpy(out.raw(), static_cast<const char*>(t.raw()) + begin * row_bytes,
                row_bytes * static_cast<std::size_t>(end - begin));
    return out;
}

Tensor concat_rows(const std::vector<Tensor>& parts) {
    if (parts.size() == 1) return parts[0];
    Dims dims = parts.at(0).dims();
    std::int64_t rows = 0;
    for (const auto& p : parts) rows += p.dims().at(0);
    dims[0] = rows;
    Tensor out(parts[0].dtype(), dims);
    char* dst = static_cast<char*>(out.raw());
    for (const auto& p : parts) {
        std::memcpy(dst, p.raw(), p.size_bytes());
        dst += p.size_bytes();
    }
    return out;
}

std::vector<Tensor> ModelRunner::run(const std::map<std::string, Tensor>& inputs) {
    std::int64_t rows = -1;
    for (const auto& [name, t] : inputs) {
        if (!t.dims().empty()) rows = t.dims()[0];
    }
    if (fixed_batch_ <= 0 || rows < 0 || rows == fixed_batch_) return exec_->run(inputs);
    if (rows % fixed_batch_ != 0) {
        throw DataError(path() + ": the model has a fixed batch of " +
                        std::to_string(fixed_batch_) + ", got " + std::to_string(rows) + " rows");
    }
    std::vector<std::vector<Tensor>> per_output;
    for (std::int64_t r = 0; r < rows; r += fixed_batch_) {
        std::map<std::string, Tensor> part;
        for (const auto& [name, t] : inputs) part[name] = slice_rows(t, r, r + fixed_batch_);
        auto outs = exec_->run(part);
        per_output.resize(outs.size());
        for (std::size_t i = 0; i < outs.size(); ++i) per_output[i].push_back(std::move(outs[i]));
    }
    std::vector<Tensor> result;
    for (auto& parts : per_output) result.push_back(concat_rows(parts));
    return result;
}

}  // namespace aquant::pipeline
