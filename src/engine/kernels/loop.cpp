// ONNX Loop: runs `body` while i < M and cond. Body inputs (i, cond, carried...), outputs
// (cond, carried..., scan outputs...). Loop outputs: the final carried values, then each scan
// output stacked along a new first axis.
#include "kernel_util.h"

#include "aquant/engine/executor.h"
#include "aquant/engine/kernel_registry.h"

#include <cstring>
#include <limits>

namespace aquant::engine {
namespace {

class Loop final : public Kernel {
public:
    explicit Loop(std::unique_ptr<Executor> body) : body_(std::move(body)) {}

    void run(KernelContext& ctx) const override {
        const ir::Graph& g = body_->graph();
        const std::size_t num_carried = ctx.num_inputs() >= 2 ? ctx.num_inputs() - 2 : 0;
        if (g.inputs.size() != num_carried + 2 || g.outputs.size() < num_carried + 1) {
            ctx.fail("body has " + std::to_string(g.inputs.size()) + " inputs and " +
                     std::to_string(g.outputs.size()) + " outputs for " +
                     std::to_string(num_carried) + " loop-carried values");
        }
        const std::size_t num_scan = g.outputs.size() - 1 - num_carried;
        std::int64_t max_trip = std::numeric_limits<std::int64_t>::max();
        if (ctx.has_input(0)) {
            max_trip = read_ints(ctx.input(0)).at(0);
        }
        bool cond = !ctx.has_input(1) || ctx.input(1).get_f64(0) != 0.0;

        std::vector<Tensor> carried;
        for (std::size_t k = 0; k < num_carried; ++k) {
            carried.push_back(ctx.input(2 + k));
        }
        std::vector<std::vector<Tensor>> scans(num_scan);
        std::map<std::string, Tensor> feeds;
        for (std::int64_t i = 0; i < max_trip && cond; ++i) {
            feeds[g.value(g.inputs[0]).name] = Tensor::scalar<std::int64_t>(i);
            feeds[g.value(g.inputs[1]).name] = Tensor::scalar<bool>(cond);
            for (std::size_t k = 0; k < num_carried; ++k) {
                feeds[g.value(g.inputs[2 + k]).name] = carried[k];
            }
            std::vector<Tensor> outs = body_->run_with_outer(ctx.outer_scope(), feeds);
            cond = outs[0].get_f64(0) != 0.0;
            for (std::size_t k = 0; k < num_carried; ++k) {
                carried[k] = std::move(outs[1 + k]);
            }
            for (std::size_t k = 0; k < num_scan; ++k) {
                scans[k].push_back(std::move(outs[1 + num_carried + k]));
            }
        }
        for (std::size_t k = 0; k < num_carried; ++k) {
            ctx.set_output(k, carried[k]);
        }
        for (std::size_t k = 0; k < num_scan; ++k) {
            ctx.set_output(num_carried + k,
                           stack(ctx, scans[k], g.value(g.outputs[1 + num_carried + k])));
        }
    }

private:
    static Tensor stack(const KernelContext& ctx, const std::vector<Tensor>& parts,
                        const ir::Value& v) {
        if (parts.empty()) {
            const DType dt = v.type ? v.type->elem_type : DType::kF32;
            return Tensor(dt, {0});
        }
        const Tensor& first = parts[0];
        Dims dims = first.dims();
        dims.insert(dims.begin(), static_cast<std::int64_t>(parts.size()));
        Tensor out(first.dtype(), dims);
        auto* dst = static_cast<std::byte*>(out.raw());
        for (const Tensor& p : parts) {
            if (p.dims() != first.dims() || p.dtype() != first.dtype()) {
                ctx.fail("scan output '" + v.name + "' changes shape across iterations: " +
                         dims_str(first.dims()) + " then " + dims_str(p.dims()));
            }
            if (p.size_bytes()) {
                std::memcpy(dst, p.raw(), p.size_bytes());
            }
            dst += p.size_bytes();
        }
        return out;
    }

    std::unique_ptr<Executor> body_;
};

}  // namespace

void register_loop(KernelRegistry& registry) {
    registry.add("Loop", [](const KernelBuildInfo& info) -> KernelPtr {
        const ir::Attribute* a = info.node.find_attr("body");
        if (!a || !a->g) {
            info.fail("attribute 'body' (a graph) is missing");
        }
        static const std::map<std::string, std::int64_t> kNoOpsets;
        return std::make_unique<Loop>(std::make_unique<Executor>(
            std::shared_ptr<const ir::Graph>(a->g), info.opsets ? *info.opsets : kNoOpsets));
    });
}

}  // namespace aquant::engine
