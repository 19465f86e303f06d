// ONNX Scan: runs `body` once per slice of the scan inputs, threading N state values through;
// scan outputs are stacked along their axis. Scan-9+ (axes, directions) and Scan-8 (leading
// batch dim, optional sequence_lens that must then be the full length).
#include "kernel_util.h"

#include "aquant/engine/executor.h"
#include "aquant/engine/kernel_registry.h"

#include <algorithm>
#include <cstring>

namespace aquant::engine {
namespace {

struct ScanAttrs {
    std::int64_t num_scan_inputs = 0;
    std::vector<std::int64_t> in_axes, in_dirs, out_axes, out_dirs;
    bool batched = false;  // Scan-8
};

std::size_t elem_bytes(const KernelContext& ctx, const Tensor& t) {
    if (t.dtype() == DType::kString || dtype_is_4bit(t.dtype())) {
        ctx.fail("element type '" + std::string(dtype_name(t.dtype())) + "' is not supported");
    }
    return static_cast<std::size_t>(dtype_traits(t.dtype()).bits / 8);
}

// t[..., i, ...] along `axis`, with that axis removed.
Tensor take(const KernelContext& ctx, const Tensor& t, std::size_t axis, std::int64_t i) {
    const std::size_t eb = elem_bytes(ctx, t);
    std::int64_t outer = 1, inner = 1;
    for (std::size_t d = 0; d < axis; ++d) {
        outer *= t.dim(d);
    }
    for (std::size_t d = axis + 1; d < t.rank(); ++d) {
        inner *= t.dim(d);
    }
    Dims dims = t.dims();
    dims.erase(dims.begin() + static_cast<std::ptrdiff_t>(axis));
    Tensor out(t.dtype(), dims);
    const auto* src = static_cast<const std::byte*>(t.raw());
    auto* dst = static_cast<std::byte*>(out.raw());
    const std::size_t block = static_cast<std::size_t>(inner) * eb;
    for (std::int64_t o = 0; o < outer; ++o) {
        std::memcpy(dst + static_cast<std::size_t>(o) * block,
                    src + static_cast<std::size_t>(o * t.dim(axis) + i) * block, block);
    }
    return out;
}

// Stacks equal-shaped parts along a new `axis`.
Tensor stack(const KernelContext& ctx, const std::vector<Tensor>& parts, std::size_t axis) {
    const Tensor& first = parts.at(0);
    const std::size_t eb = elem_bytes(ctx, first);
    Dims dims = first.dims();
    dims.insert(dims.begin() + static_cast<std::ptrdiff_t>(axis),
                static_cast<std::int64_t>(parts.size()));
    Tensor out(first.dtype(), dims);
    std::int64_t outer = 1;
    for (std::size_t d = 0; d < axis; ++d) {
        outer *= first.dim(d);
    }
    const std::size_t block = outer ? first.size_bytes() / static_cast<std::size_t>(outer) : 0;
    auto* dst = static_cast<std::byte*>(out.raw());
    for (std::size_t p = 0; p < parts.size(); ++p) {
        if (parts[p].dims() != first.dims() || parts[p].dtype() != first.dtype()) {
            ctx.fail("scan output changes shape across iterations: " + dims_str(first.dims()) +
                     " then " + dims_str(parts[p].dims()));
        }
        const auto* src = static_cast<const std::byte*>(parts[p].raw());
        for (std::int64_t o = 0; o < outer; ++o) {
            std::memcpy(dst + (static_cast<std::size_t>(o) * parts.size() + p) * block,
                        src + static_cast<std::size_t>(o) * block, block);
        }
    }
    (void)eb;
    return out;
}

class Scan final : public Kernel {
public:
    Scan(std::unique_ptr<Executor> body, ScanAttrs attrs)
        : body_(std::move(body)), a_(std::move(attrs)) {}

    void run(KernelContext& ctx) const override {
        const std::size_t first = a_.batched ? 1 : 0;  // Scan-8: input 0 is sequence_lens
        const std::size_t m = static_cast<std::size_t>(a_.num_scan_inputs);
        if (ctx.num_inputs() < first + m) {
            ctx.fail("fewer inputs than num_scan_inputs");
        }
        const std::size_t n = ctx.num_inputs() - first - m;
        std::vector<Tensor> states, scans;
        for (std::size_t i = 0; i < n; ++i) {
            states.push_back(ctx.input(first + i));
        }
        for (std::size_t j = 0; j < m; ++j) {
            scans.push_back(ctx.input(first + n + j));
        }
        if (!a_.batched) {
            auto outs = scan(ctx, states, scans);
            for (std::size_t k = 0; k < outs.size(); ++k) {
                ctx.set_output(k, std::move(outs[k]));
            }
            return;
        }
        // Scan-8: every input has a leading batch dim; run each batch entry separately.
        const std::int64_t batch = scans.empty() ? 1 : scans[0].dim(0);
        std::vector<std::vector<Tensor>> per_batch;
        for (std::int64_t b = 0; b < batch; ++b) {
            std::vector<Tensor> s, x;
            for (const Tensor& t : states) {
                s.push_back(take(ctx, t, 0, b));
            }
            for (const Tensor& t : scans) {
                x.push_back(take(ctx, t, 0, b));
            }
            if (ctx.has_input(0)) {
                const auto lens = read_ints(ctx.input(0));
                if (!x.empty() && lens.at(static_cast<std::size_t>(b)) != x[0].dim(0)) {
                    ctx.fail("sequence_lens shorter than the scan length is not supported");
                }
            }
            per_batch.push_back(scan(ctx, s, x));
        }
        for (std::size_t k = 0; k < per_batch.at(0).size(); ++k) {
            std::vector<Tensor> parts;
            for (auto& r : per_batch) {
                parts.push_back(std::move(r[k]));
            }
            ctx.set_output(k, stack(ctx, parts, 0));
        }
    }

private:
    std::int64_t axis_of(const std::vector<std::int64_t>& axes, std::size_t j) const {
        return j < axes.size() ? axes[j] : 0;
    }

    std::vector<Tensor> scan(const KernelContext& ctx, std::vector<Tensor> states,
                             const std::vector<Tensor>& scans) const {
        const ir::Graph& g = body_->graph();
        const std::size_t n = states.size(), m = scans.size();
        if (g.inputs.size() != n + m || g.outputs.size() < n) {
            ctx.fail("body has " + std::to_string(g.inputs.size()) + " inputs and " +
                     std::to_string(g.outputs.size()) + " outputs for " + std::to_string(n) +
                     " states and " + std::to_string(m) + " scan inputs");
        }
        std::vector<std::size_t> axes(m);
        std::int64_t len = -1;
        for (std::size_t j = 0; j < m; ++j) {
            std::int64_t ax = axis_of(a_.in_axes, j);
            if (!normalize_axis(ax, static_cast<std::int64_t>(scans[j].rank()))) {
                ctx.fail("scan_input_axes is out of range for scan input " + std::to_string(j));
            }
            axes[j] = static_cast<std::size_t>(ax);
            const std::int64_t l = scans[j].dim(axes[j]);
            if (len >= 0 && l != len) {
                ctx.fail("scan inputs have different lengths");
            }
            len = l;
        }
        const std::size_t k_out = g.outputs.size() - n;
        std::vector<std::vector<Tensor>> collected(k_out);
        std::map<std::string, Tensor> feeds;
        for (std::int64_t t = 0; t < std::max<std::int64_t>(len, 0); ++t) {
            for (std::size_t i = 0; i < n; ++i) {
                feeds[g.value(g.inputs[i]).name] = states[i];
            }
            for (std::size_t j = 0; j < m; ++j) {
                const std::int64_t pos = axis_of(a_.in_dirs, j) ? len - 1 - t : t;
                feeds[g.value(g.inputs[n + j]).name] = take(ctx, scans[j], axes[j], pos);
            }
            std::vector<Tensor> outs = body_->run_with_outer(ctx.outer_scope(), feeds);
            for (std::size_t i = 0; i < n; ++i) {
                states[i] = std::move(outs[i]);
            }
            for (std::size_t k = 0; k < k_out; ++k) {
                collected[k].push_back(std::move(outs[n + k]));
            }
        }
        std::vector<Tensor> result = std::move(states);
        for (std::size_t k = 0; k < k_out; ++k) {
            auto& parts = collected[k];
            if (parts.empty()) {
                ctx.fail("scan of length 0 has no scan output shape");
            }
            if (axis_of(a_.out_dirs, k)) {
                std::reverse(parts.begin(), parts.end());
            }
            std::int64_t ax = axis_of(a_.out_axes, k);
            if (!normalize_axis(ax, static_cast<std::int64_t>(parts[0].rank()) + 1)) {
                ctx.fail("scan_output_axes is out of range for scan output " + std::to_string(k));
            }
            result.push_back(stack(ctx, parts, static_cast<std::size_t>(ax)));
        }
        return result;
    }

    std::unique_ptr<Executor> body_;
    ScanAttrs a_;
};

}  // namespace

void register_scan(KernelRegistry& registry) {
    registry.add("Scan", [](const KernelBuildInfo& info) -> KernelPtr {
        const ir::Attribute* body = info.node.find_attr("body");
        if (!body || !body->g) {
            info.fail("attribute 'body' (a graph) is missing");
        }
        if (!info.node.find_attr("num_scan_inputs")) {
            info.fail("attribute 'num_scan_inputs' is missing");
        }
        ScanAttrs a;
        a.num_scan_inputs = info.node.attr_int("num_scan_inputs", 0);
        a.batched = info.opset < 9;
        a.in_axes = info.node.attr_ints("scan_input_axes");
        a.in_dirs = info.node.attr_ints(a.batched ? "directions" : "scan_input_directions");
        a.out_axes = info.node.attr_ints("scan_output_axes");
        a.out_dirs = info.node.attr_ints("scan_output_directions");
        static const std::map<std::string, std::int64_t> kNoOpsets;
        return std::make_unique<Scan>(
            std::make_unique<Executor>(std::shared_ptr<const ir::Graph>(body->g),
                                       info.opsets ? *info.opsets : kNoOpsets),
            std::move(a));
    });
}

}  // namespace aquant::engine
