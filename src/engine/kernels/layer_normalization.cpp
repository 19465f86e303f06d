// ONNX LayerNormalization-17 (fp32, stash_type 1): each row of X.shape[axis:] is normalised,
//   y = (x - mean) * inv_std_dev * Scale + B,  inv_std_dev = 1 / sqrt(var + epsilon),
// with mean and population variance accumulated in float (8 partial sums). Scale and B broadcast to
// X.shape[axis:]. Optional outputs Mean and InvStdDev have shape X.shape[:axis] + [1, ...].
#include <cmath>

#include "aquant/core/parallel.h"
#include "aquant/engine/kernel_registry.h"
#include "kernel_util.h"

namespace aquant::engine {
namespace {

// `t` broadcast (numpy, right-aligned) to `dims`; false when it does not broadcast.
bool expand_to(const Tensor& t, const Dims& dims, std::vector<float>* out) {
    if (t.rank() > dims.size()) return false;
    const std::size_t shift = dims.size() - t.rank();
    for (std::size_t i = 0; i < t.rank(); ++i) {
        if (t.dim(i) != 1 && t.dim(i) != dims[shift + i]) return false;
    }
    const std::int64_t total = dims_numel(dims);
    out->resize(static_cast<std::size_t>(total));
    const auto so = strides_of(dims);
    const auto st = strides_of(t.dims());
    const float* src = t.data<float>();
    for (std::int64_t i = 0; i < total; ++i) {
        std::int64_t off = 0;
        for (std::size_t d = 0; d < t.rank(); ++d) {
            const std::int64_t idx = (i / so[shift + d]) % dims[shift + d];
            if (t.dim(d) != 1) off += idx * st[d];
        }
        (*out)[static_cast<std::size_t>(i)] = src[off];
    }
    return true;
}

// Row sums in float with 8 interleaved partial sums combined in a fixed order: vectorisable,
// and the same for any thread count. f maps an element to the summed term.
template <typename F>
float lane_sum(const float* x, std::int64_t n, F f) {
    float acc[8] = {};
    std::int64_t j = 0;
    for (; j + 8 <= n; j += 8) {
        for (int l = 0; l < 8; ++l) acc[l] += f(x[j + l]);
    }
    for (; j < n; ++j) acc[j % 8] += f(x[j]);
    return ((acc[0] + acc[4]) + (acc[2] + acc[6])) + ((acc[1] + acc[5]) + (acc[3] + acc[7]));
}

class LayerNormalization final : public Kernel {
public:
    LayerNormalization(std::int64_t axis, float epsilon) : axis_(axis), epsilon_(epsilon) {}

    void run(KernelContext& ctx) const override {
        const Tensor& x = ctx.input(0);
        if (x.dtype() != DType::kF32) fail_type(ctx, 0);
        std::int64_t axis = axis_;
        if (!normalize_axis(axis, static_cast<std::int64_t>(x.rank()))) {
            ctx.fail("attribute 'axis' " + std::to_string(axis_) + " is out of range for input " +
                     dims_str(x.dims()));
        }
        const Dims norm_dims(x.dims().begin() + axis, x.dims().end());
        const std::int64_t cols = dims_numel(norm_dims);
        const std::int64_t rows = cols == 0 ? 0 : x.numel() / cols;
        std::vector<float> scale_buf, bias_buf;
        const float* scale = param(ctx, 1, norm_dims, &scale_buf);
        const float* bias = ctx.has_input(2) ? param(ctx, 2, norm_dims, &bias_buf) : nullptr;
        Tensor& y = ctx.allocate_output_uninit(0, DType::kF32, x.dims());
        Dims stat_dims(x.dims().begin(), x.dims().begin() + axis);
        stat_dims.resize(x.rank(), 1);
        float* mean_out = nullptr;
        float* inv_out = nullptr;
        if (ctx.num_outputs() > 1 && ctx.node().outputs[1].valid()) {
            mean_out = ctx.allocate_output(1, DType::kF32, stat_dims).data<float>();
        }
        if (ctx.num_outputs() > 2 && ctx.node().outputs[2].valid()) {
            inv_out = ctx.allocate_output(2, DType::kF32, stat_dims).data<float>();
        }
        const float* xp = x.data<float>();
        float* yp = y.data<float>();
        const std::int64_t grain = std::max<std::int64_t>(1, kElementwiseGrain / (cols + 1));
        parallel_for(rows, grain, [&](std::int64_t begin, std::int64_t end) {
            for (std::int64_t r = begin; r < end; ++r) {
                const float* src = xp + r * cols;
                const float mf =
                    lane_sum(src, cols, [](float v) { return v; }) / static_cast<float>(cols);
                const float var =
                    lane_sum(src, cols, [mf](float v) { return (v - mf) * (v - mf); }) /
                    static_cast<float>(cols);
                const float inf = 1.0f / std::sqrt(var + epsilon_);
                float* dst = yp + r * cols;
                if (bias) {
                    for (std::int64_t j = 0; j < cols; ++j) {
                        dst[j] = (src[j] - mf) * inf * scale[j] + bias[j];
                    }
                } else {
                    for (std::int64_t j = 0; j < cols; ++j) dst[j] = (src[j] - mf) * inf * scale[j];
                }
                if (mean_out) mean_out[r] = mf;
                if (inv_out) inv_out[r] = inf;
            }
        });
    }

private:
    static const float* param(const KernelContext& ctx, std::size_t i, const Dims& norm_dims,
                              std::vector<float>* buf) {
        const Tensor& t = ctx.input(i);
        if (t.dtype() != DType::kF32) fail_type(ctx, i);
        if (t.dims() == norm_dims) return t.data<float>();
        if (!expand_to(t, norm_dims, buf)) {
            ctx.fail("input " + std::to_string(i) + " " + dims_str(t.dims()) +
                     " does not broadcast to the normalized shape " + dims_str(norm_dims));
        }
        return buf->data();
    }

    std::int64_t axis_;
    float epsilon_;
};

}  // namespace

void register_layer_normalization(KernelRegistry& registry) {
    registry.add("LayerNormalization", [](const KernelBuildInfo& info) -> KernelPtr {
        const ir::Node& n = info.node;
        if (n.num_inputs() < 2) info.fail("expected inputs X and Scale");
        const std::int64_t stash = n.attr_int("stash_type", 1);
        if (stash != 1) {
            info.fail("attribute 'stash_type': only 1 (float) is supported, got " +
                      std::to_string(stash));
        }
        return std::make_unique<LayerNormalization>(n.attr_int("axis", -1),
                                                    n.attr_float("epsilon", 1e-5f));
    });
}

}  // namespace aquant::engine
