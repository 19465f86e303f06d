// ONNX Gemm-7/9/11/13 (fp32): Y = alpha * op(A) * op(B) + beta * C, C unidirectionally broadcast
// to (M, N) and optional since opset 11.
#include <algorithm>

#include "aquant/engine/gemm.h"
#include "aquant/engine/kernel_registry.h"
#include "kernel_util.h"

namespace aquant::engine {
namespace {

class Gemm final : public Kernel {
public:
    Gemm(float alpha, float beta, bool trans_a, bool trans_b)
        : alpha_(alpha), beta_(beta), trans_a_(trans_a), trans_b_(trans_b) {}

    void run(KernelContext& ctx) const override {
        const Tensor& a = ctx.input(0);
        const Tensor& b = ctx.input(1);
        if (a.dtype() != DType::kF32) fail_type(ctx, 0);
        if (b.dtype() != DType::kF32) fail_type(ctx, 1);
        if (a.rank() != 2 || b.rank() != 2) {
            ctx.fail("inputs A and B: expected rank 2, got " + dims_str(a.dims()) + " and " +
                     dims_str(b.dims()));
        }
        const std::int64_t m = trans_a_ ? a.dim(1) : a.dim(0);
        const std::int64_t k = trans_a_ ? a.dim(0) : a.dim(1);
        const std::int64_t kb = trans_b_ ? b.dim(1) : b.dim(0);
        const std::int64_t n = trans_b_ ? b.dim(0) : b.dim(1);
        if (k != kb) {
            ctx.fail("inner dimensions differ: A " + dims_str(a.dims()) + (trans_a_ ? "^T" : "") +
                     ", B " + dims_str(b.dims()) + (trans_b_ ? "^T" : ""));
        }
        Tensor& y = ctx.allocate_output(0, DType::kF32, {m, n});
        if (m == 0 || n == 0) return;
        float* out = y.data<float>();
        GemmArgs g;
        g.m = m;
        g.n = n;
        g.k = k;
        g.a = a.data<float>();
        g.lda = a.dim(1);
        g.trans_a = trans_a_;
        g.b = b.data<float>();
        g.ldb = b.dim(1);
        g.trans_b = trans_b_;
        g.c = out;
        g.ldc = n;
        g.alpha = alpha_;
        if (ctx.has_input(2) && beta_ != 0.0f) {
            fill_c(ctx, ctx.input(2), m, n, out);
            g.beta = 1.0f;
        }
        gemm_f32(g);
    }

private:
    // Writes beta * C broadcast to (m, n) into out.
    void fill_c(const KernelContext& ctx, const Tensor& c, std::int64_t m, std::int64_t n,
                float* out) const {
        if (c.dtype() != DType::kF32) fail_type(ctx, 2);
        std::int64_t cm = 1, cn = 1;
        if (c.rank() == 1) {
            cn = c.dim(0);
        } else if (c.rank() == 2) {
            cm = c.dim(0);
            cn = c.dim(1);
        } else if (c.rank() != 0) {
            ctx.fail("input 2 (C): expected rank 0 to 2, got " + dims_str(c.dims()));
        }
        if ((cm != 1 && cm != m) || (cn != 1 && cn != n)) {
            ctx.fail("input 2 (C) " + dims_str(c.dims()) + " does not broadcast to [" +
                     std::to_string(m) + "," + std::to_string(n) + "]");
        }
        const float* cv = c.data<float>();
        for (std::int64_t i = 0; i < m; ++i) {
            const float* row = cv + (cm == 1 ? 0 : i * cn);
            float* o = out + i * n;
            if (cn == 1) {
                std::fill(o, o + n, beta_ * row[0]);
            } else {
                for (std::int64_t j = 0; j < n; ++j) o[j] = beta_ * row[j];
            }
        }
    }

    float alpha_, beta_;
    bool trans_a_, trans_b_;
};

}  // namespace

void register_gemm(KernelRegistry& registry) {
    registry.add("Gemm", [](const KernelBuildInfo& info) -> KernelPtr {
        const ir::Node& n = info.node;
        if (n.num_inputs() < 2) info.fail("expected inputs A and B");
        if (info.opset < 11 && !n.has_input(2)) info.fail("input 2 (C) is required before opset 11");
        return std::make_unique<Gemm>(n.attr_float("alpha", 1.0f), n.attr_float("beta", 1.0f),
                                      n.attr_int("transA", 0) != 0, n.attr_int("transB", 0) != 0);
    });
}

}  // namespace aquant::engine
