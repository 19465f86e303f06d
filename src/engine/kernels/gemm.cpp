// ONNX Gemm-7/9/11/13 (fp32): Y = alpha * op(A) * op(B) + beta * C, C unidirectionally broadcast
// to (M, N) and optional since opset 11. A constant B (the weights) is packed once at build time.
#include <algorithm>
#include <optional>

#include "aquant/engine/gemm.h"
#include "aquant/engine/kernel_registry.h"
#include "kernel_util.h"

namespace aquant::engine {
namespace {

class Gemm final : public Kernel {
public:
    Gemm(float alpha, float beta, bool trans_a, bool trans_b, std::optional<PackedB> packed_b)
        : alpha_(alpha),
          beta_(beta),
          trans_a_(trans_a),
          trans_b_(trans_b),
          packed_b_(std::move(packed_b)) {}

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
        Tensor& y = ctx.allocate_output_uninit(0, DType::kF32, {m, n});
        if (m == 0 || n == 0) return;
        float* out = y.data<float>();
        OperandA oa;
        oa.matrix = MatrixRef{a.data<float>(), a.dim(1), trans_a_};
        OperandB ob;
        if (packed_b_ && packed_b_->k() == k && packed_b_->n() == n) {
            ob.packed = &*packed_b_;
        } else {
            ob.matrix = MatrixRef{b.data<float>(), b.dim(1), trans_b_};
        }
        float beta = 0.0f;
        if (ctx.has_input(2) && beta_ != 0.0f) {
            fill_c(ctx, ctx.input(2), m, n, out);
            beta = 1.0f;
        }
        gemm(m, n, k, oa, ob, out, n, alpha_, beta);
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
    std::optional<PackedB> packed_b_;  // B when it is a constant (weights), packed once
};

}  // namespace

void register_gemm(KernelRegistry& registry) {
    registry.add("Gemm", [](const KernelBuildInfo& info) -> KernelPtr {
        const ir::Node& n = info.node;
        if (n.num_inputs() < 2) info.fail("expected inputs A and B");
        if (info.opset < 11 && !n.has_input(2)) info.fail("input 2 (C) is required before opset 11");
        const bool trans_b = n.attr_int("transB", 0) != 0;
        std::optional<PackedB> packed;
        const Tensor* b = info.constant_input(1);
        if (b && b->dtype() == DType::kF32 && b->rank() == 2) {
            const std::int64_t k = trans_b ? b->dim(1) : b->dim(0);
            const std::int64_t cols = trans_b ? b->dim(0) : b->dim(1);
            packed.emplace(k, cols, MatrixRef{b->data<float>(), b->dim(1), trans_b});
        }
        return std::make_unique<Gemm>(n.attr_float("alpha", 1.0f), n.attr_float("beta", 1.0f),
                                      n.attr_int("transA", 0) != 0, trans_b, std::move(packed));
    });
}

}  // namespace aquant::engine
