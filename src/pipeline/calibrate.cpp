#include "aquant/pipeline/calibrate.h"

#include <chrono>

#include "aquant/core/log.h"
#include "aquant/engine/executor.h"
#include "aquant/pipeline/runner.h"
#include "aquant/quant/observer.h"

namespace aquant::pipeline {
namespace {

// Observers indexed by value id, so the hook finds a node output's observer in O(1).
class ObserverSet {
public:
    ObserverSet(const ir::Graph& g, const std::vector<std::string>& tensors) {
        by_value_.assign(g.num_values(), -1);
        for (const std::string& name : tensors) {
            const auto id = g.find_value(name);
            if (!id) {
                throw ConfigError(g.source_path + ": calibration tensor '" + name +
                                  "' is not in the model");
            }
            by_value_[static_cast<std::size_t>(id->index)] = static_cast<int>(ids_.size());
            ids_.push_back(*id);
            observers_.emplace_back();
        }
    }

    const std::vector<ir::ValueId>& ids() const { return ids_; }

    void observe(ir::ValueId v, const Tensor& t) {
        const int i = v.valid() ? by_value_[static_cast<std::size_t>(v.index)] : -1;
        if (i < 0 || t.dtype() != DType::kF32) return;
        observers_[static_cast<std::size_t>(i)].observe(t);
        seen_[i] = true;
    }

    const quant::HistogramObserver& observer(std::size_t i) const { return observers_[i]; }

    bool seen(std::size_t i) const { return seen_.count(static_cast<int>(i)) > 0; }

private:
    std::vector<int> by_value_;
    std::vector<ir::ValueId> ids_;
    std::vector<quant::HistogramObserver> observers_;
    std::map<int, bool> seen_;
};

// Row chunks a model with a fixed batch dimension accepts (the whole batch otherwise).
std::vector<std::map<std::string, Tensor>> chunks(const std::map<std::string, Tensor>& inputs,
                                                  std::int64_t fixed_batch) {
    if (fixed_batch <= 0 || inputs.empty()) return {inputs};
    const std::int64_t rows = inputs.begin()->second.dim(0);
    std::vector<std::map<std::string, Tensor>> out;
    for (std::int64_t r = 0; r < rows; r += fixed_batch) {
        std::map<std::string, Tensor> part;
        for (const auto& [name, t] : inputs) {
            part[name] = slice_rows(t, r, std::min(rows, r + fixed_batch));
        }
        out.push_back(std::move(part));
    }
    return out;
}

std::int64_t fixed_batch_of(const ir::Graph& g) {
    const auto inputs = g.real_inputs();
    if (inputs.empty()) return 0;
    const auto& type = g.value(inputs[0]).type;
    if (type && type->shape && !type->shape->empty() && (*type->shape)[0].known()) {
        return (*type->shape)[0].value;
    }
    return 0;
}

}  // namespace

CalibrationResult calibrate_activations(std::shared_ptr<const ir::Model> model,
                                        const std::vector<std::string>& tensors,
                                        const data::Dataset& data,
                                        const quant::QuantScheme& scheme,
                                        const CalibrationOptions& options) {
    const auto t0 = std::chrono::steady_clock::now();
    const quant::RangeEstimator& est = quant::range_estimator(options.act_range);
    quant::validate_range_options(options.range_options);
    if (data.size() == 0) throw DataError("calibration data is empty");
    engine::Executor exec(model);
    const ir::Graph& g = exec.graph();
    ObserverSet obs(g, tensors);
    const std::int64_t fixed = fixed_batch_of(g);
    engine::RunOptions run;
    run.hook = [&](const ir::Node& n, const std::vector<Tensor>& outs) {
        for (std::size_t i = 0; i < outs.size() && i < n.outputs.size(); ++i) {
            obs.observe(n.outputs[i], outs[i]);
        }
    };
    CalibrationResult result;
    data::for_each_batch(data, options.batch, [&](const data::Batch& b) {
        for (const auto& part : chunks(b.inputs, fixed)) {
            engine::ValueMap values;
            for (const auto& [name, t] : part) {
                const auto id = g.find_value(name);
                if (!id) continue;
                values[id->index] = t;
                obs.observe(*id, t);
            }
            exec.run(values, obs.ids(), run);
        }
        result.samples += b.size();
    });
    for (std::size_t i = 0; i < obs.ids().size(); ++i) {
        const std::string& name = tensors[i];
        if (!obs.seen(i)) {
            throw ConfigError(g.source_path + ": calibration tensor '" + name +
                              "' was never computed (not a float tensor on the way to it)");
        }
        result.params[name] = obs.observer(i).params(scheme, est, options.range_options);
        result.nonfinite += obs.observer(i).nonfinite_count();
    }
    if (result.nonfinite > 0) {
        logger().warn("calibration: {} non-finite activation values skipped", result.nonfinite);
    }
    const double s =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    logger().info("calibration: {} tensors, {} samples, {}, {:.1f} s", tensors.size(),
                  result.samples, options.act_range, s);
    return result;
}

}  // namespace aquant::pipeline
