// ONNX BatchNormalization-6/7/9/14/15 (fp32). Inference:
//   y = (x - mean) / sqrt(var + epsilon) * scale + B, folded to y = x * a + b per channel
// (precomputed at build time when the four parameters are constant). Opset 6-8 `spatial=0`
// takes parameters of shape [C, D1, ...] (one per element of a sample). Training mode
// (training_mode=1, opset 14+) normalises with the batch statistics and also writes
// running_mean = mean * momentum + batch_mean * (1 - momentum) (same for var, population var).
#include <cmath>
#include <optional>
#include <string>
#include <vector>

#include "aquant/core/parallel.h"
#include "aquant/engine/kernel_registry.h"
#include "kernel_util.h"

namespace aquant::engine {
namespace {

struct Folded {
    std::vector<float> a, b;  // per channel (or per channel element when spatial == 0)
};

// Returns an error message, or empty when the parameters fit `count` entries.
std::string fold(const Tensor* scale, const Tensor* bias, const Tensor* mean, const Tensor* var,
                 float epsilon, std::int64_t count, Folded* out) {
    const Tensor* params[4] = {scale, bias, mean, var};
    static const char* kNames[4] = {"scale", "B", "input_mean", "input_var"};
    for (int i = 0; i < 4; ++i) {
        if (params[i]->dtype() != DType::kF32) {
            return std::string("input '") + kNames[i] + "': expected float, got " +
                   std::string(dtype_name(params[i]->dtype()));
        }
        if (count >= 0 && params[i]->numel() != count) {
            return std::string("input '") + kNames[i] + "' " + dims_str(params[i]->dims()) +
                   ": expected " + std::to_string(count) + " values";
        }
    }
    const std::int64_t n = scale->numel();
    for (int i = 1; i < 4; ++i) {
        if (params[i]->numel() != n) {
            return std::string("input '") + kNames[i] + "' " + dims_str(params[i]->dims()) +
                   " does not match scale " + dims_str(scale->dims());
        }
    }
    out->a.resize(static_cast<std::size_t>(n));
    out->b.resize(static_cast<std::size_t>(n));
    const float *s = scale->data<float>(), *bi = bias->data<float>();
    const float *mu = mean->data<float>(), *v = var->data<float>();
    for (std::int64_t c = 0; c < n; ++c) {
        const float a = s[c] / std::sqrt(v[c] + epsilon);
        out->a[static_cast<std::size_t>(c)] = a;
        out->b[static_cast<std::size_t>(c)] = bi[c] - mu[c] * a;
    }
    return {};
}

class BatchNormalization final : public Kernel {
public:
    BatchNormalization(float epsilon, float momentum, bool spatial, bool training,
                       std::optional<Folded> folded)
        : epsilon_(epsilon),
          momentum_(momentum),
          spatial_(spatial),
          training_(training),
          folded_(std::move(folded)) {}

    void run(KernelContext& ctx) const override {
        const Tensor& x = ctx.input(0);
        if (x.dtype() != DType::kF32) fail_type(ctx, 0);
        if (x.rank() < 2) ctx.fail("input 0 (X): expected rank >= 2, got " + dims_str(x.dims()));
        const std::int64_t n = x.dim(0), c = x.dim(1);
        const std::int64_t inner = c == 0 || n == 0 ? 0 : x.numel() / (n * c);
        Tensor& y = ctx.allocate_output_uninit(0, DType::kF32, x.dims());
        if (training_) return run_training(ctx, x, y, n, c, inner);
        const std::int64_t count = spatial_ ? c : c * inner;
        Folded local;
        const Folded* f = folded_ ? &*folded_ : &local;
        if (!folded_) {
            const std::string err = fold(&ctx.input(1), &ctx.input(2), &ctx.input(3),
                                         &ctx.input(4), epsilon_, count, &local);
            if (!err.empty()) ctx.fail(err);
        } else if (static_cast<std::int64_t>(f->a.size()) != count) {
            ctx.fail("parameters have " + std::to_string(f->a.size()) + " values, expected " +
                     std::to_string(count) + " for input " + dims_str(x.dims()));
        }
        const float* xp = x.data<float>();
        float* yp = y.data<float>();
        const std::int64_t grain = std::max<std::int64_t>(1, kElementwiseGrain / (inner + 1));
        parallel_for(n * c, grain, [&](std::int64_t begin, std::int64_t end) {
            for (std::int64_t i = begin; i < end; ++i) {
                const std::int64_t ch = i % c;
                const float* src = xp + i * inner;
                float* dst = yp + i * inner;
                if (spatial_) {
                    const float a = f->a[static_cast<std::size_t>(ch)];
                    const float b = f->b[static_cast<std::size_t>(ch)];
                    for (std::int64_t j = 0; j < inner; ++j) dst[j] = src[j] * a + b;
                } else {
                    const float* a = f->a.data() + ch * inner;
                    const float* b = f->b.data() + ch * inner;
                    for (std::int64_t j = 0; j < inner; ++j) dst[j] = src[j] * a[j] + b[j];
                }
            }
        });
    }

private:
    void run_training(KernelContext& ctx, const Tensor& x, Tensor& y, std::int64_t n,
                      std::int64_t c, std::int64_t inner) const {
        for (std::size_t i = 1; i <= 4; ++i) {
            if (ctx.input(i).dtype() != DType::kF32) fail_type(ctx, i);
            if (ctx.input(i).numel() != c) {
                ctx.fail("input " + std::to_string(i) + ": expected " + std::to_string(c) +
                         " values, got " + dims_str(ctx.input(i).dims()));
            }
        }
        const float* xp = x.data<float>();
        float* yp = y.data<float>();
        const float *scale = ctx.input(1).data<float>(), *bias = ctx.input(2).data<float>();
        const float *rmean = ctx.input(3).data<float>(), *rvar = ctx.input(4).data<float>();
        std::vector<float> mean(static_cast<std::size_t>(c)), var(static_cast<std::size_t>(c));
        const double count = static_cast<double>(n * inner);
        for (std::int64_t ch = 0; ch < c; ++ch) {
            double sum = 0.0, sq = 0.0;
            for (std::int64_t b = 0; b < n; ++b) {
                const float* p = xp + (b * c + ch) * inner;
                for (std::int64_t j = 0; j < inner; ++j) sum += p[j];
            }
            const double mu = count > 0 ? sum / count : 0.0;
            for (std::int64_t b = 0; b < n; ++b) {
                const float* p = xp + (b * c + ch) * inner;
                for (std::int64_t j = 0; j < inner; ++j) sq += (p[j] - mu) * (p[j] - mu);
            }
            const double v = count > 0 ? sq / count : 0.0;
            mean[static_cast<std::size_t>(ch)] = static_cast<float>(mu);
            var[static_cast<std::size_t>(ch)] = static_cast<float>(v);
            const double a = scale[ch] / std::sqrt(v + epsilon_);
            for (std::int64_t b = 0; b < n; ++b) {
                const float* p = xp + (b * c + ch) * inner;
                float* q = yp + (b * c + ch) * inner;
                for (std::int64_t j = 0; j < inner; ++j) {
                    q[j] = static_cast<float>((p[j] - mu) * a + bias[ch]);
                }
            }
        }
        const float mom = momentum_;
        if (ctx.num_outputs() > 1) {
            float* out = ctx.allocate_output(1, DType::kF32, {c}).data<float>();
            for (std::int64_t ch = 0; ch < c; ++ch) {
                out[ch] = rmean[ch] * mom + mean[static_cast<std::size_t>(ch)] * (1.0f - mom);
            }
        }
        if (ctx.num_outputs() > 2) {
            float* out = ctx.allocate_output(2, DType::kF32, {c}).data<float>();
            for (std::int64_t ch = 0; ch < c; ++ch) {
                out[ch] = rvar[ch] * mom + var[static_cast<std::size_t>(ch)] * (1.0f - mom);
            }
        }
    }

    float epsilon_, momentum_;
    bool spatial_, training_;
    std::optional<Folded> folded_;
};

}  // namespace

void register_batch_normalization(KernelRegistry& registry) {
    registry.add("BatchNormalization", [](const KernelBuildInfo& info) -> KernelPtr {
        const ir::Node& n = info.node;
        if (n.num_inputs() != 5) {
            info.fail("expected 5 inputs (X, scale, B, input_mean, input_var), got " +
                      std::to_string(n.num_inputs()));
        }
        const float epsilon = n.attr_float("epsilon", 1e-5f);
        const float momentum = n.attr_float("momentum", 0.9f);
        const bool spatial = info.opset >= 9 || n.attr_int("spatial", 1) != 0;
        // Before opset 14 the extra outputs (mean, var, saved_mean, saved_var) mean training.
        const bool training = info.opset >= 14 ? n.attr_int("training_mode", 0) != 0
                                               : (info.opset >= 7 && n.outputs.size() > 1 &&
                                                  n.attr_int("is_test", 0) == 0);
        if (training && info.opset < 14) {
            info.fail("training-mode BatchNormalization before opset 14 is not supported");
        }
        if (!training && n.outputs.size() > 1) {
            info.fail("outputs beyond Y need training_mode=1, got " +
                      std::to_string(n.outputs.size()) + " outputs");
        }
        std::optional<Folded> folded;
        const Tensor *s = info.constant_input(1), *b = info.constant_input(2);
        const Tensor *m = info.constant_input(3), *v = info.constant_input(4);
        if (!training && s && b && m && v) {
            folded.emplace();
            const std::string err = fold(s, b, m, v, epsilon, -1, &*folded);
            if (!err.empty()) info.fail(err);
        }
        return std::make_unique<BatchNormalization>(epsilon, momentum, spatial, training,
                                                    std::move(folded));
    });
}

}  // namespace aquant::engine
