// ONNX MatMul-1/9/13 (fp32): numpy matmul. 1-D operands are promoted ([K] -> [1,K] for A,
// [K] -> [K,1] for B) and the promoted axis is dropped from the output; batch dims broadcast.
// When B has no batch (a weight), A's batch folds into M and the product is one GEMM; a constant
// 2-D B is packed once at build time.
#include <algorithm>
#include <optional>

#include "aquant/core/parallel.h"
#include "aquant/engine/gemm.h"
#include "aquant/engine/kernel_registry.h"
#include "kernel_util.h"

namespace aquant::engine {
namespace {

// Batched products below this many multiply-adds per chunk run on one thread.
constexpr std::int64_t kMinChunkMacs = std::int64_t{1} << 15;

class MatMul final : public Kernel {
public:
    explicit MatMul(std::optional<PackedB> packed_b) : packed_b_(std::move(packed_b)) {}

    void run(KernelContext& ctx) const override {
        const Tensor& ta = ctx.input(0);
        const Tensor& tb = ctx.input(1);
        if (ta.dtype() != DType::kF32) fail_type(ctx, 0);
        if (tb.dtype() != DType::kF32) fail_type(ctx, 1);
        if (ta.rank() == 0 || tb.rank() == 0) {
            ctx.fail("inputs must have rank >= 1, got " + dims_str(ta.dims()) + " and " +
                     dims_str(tb.dims()));
        }
        Dims da = ta.dims(), db = tb.dims();
        const bool a_vec = da.size() == 1, b_vec = db.size() == 1;
        if (a_vec) da.insert(da.begin(), 1);
        if (b_vec) db.push_back(1);
        const std::int64_t m = da[da.size() - 2], k = da.back(), n = db.back();
        if (db[db.size() - 2] != k) {
            ctx.fail("inner dimensions differ: A " + dims_str(ta.dims()) + ", B " +
                     dims_str(tb.dims()));
        }
        // Broadcast batch dims.
        const std::size_t ra = da.size() - 2, rb = db.size() - 2, r = std::max(ra, rb);
        Dims batch(r), ba(r, 1), bb(r, 1);
        for (std::size_t i = 0; i < r; ++i) {
            if (i + ra >= r) ba[i] = da[i + ra - r];
            if (i + rb >= r) bb[i] = db[i + rb - r];
            if (ba[i] != bb[i] && ba[i] != 1 && bb[i] != 1) {
                ctx.fail("batch dims do not broadcast: A " + dims_str(ta.dims()) + ", B " +
                         dims_str(tb.dims()));
            }
            batch[i] = std::max(ba[i], bb[i]);
            if (ba[i] == 0 || bb[i] == 0) batch[i] = 0;
        }
        Dims out_dims = batch;
        if (!a_vec) out_dims.push_back(m);
        if (!b_vec) out_dims.push_back(n);
        Tensor& y = ctx.allocate_output_uninit(0, DType::kF32, out_dims);
        if (y.numel() == 0) return;
        const float* a = ta.data<float>();
        const float* b = tb.data<float>();
        float* c = y.data<float>();
        const std::int64_t nbatch = dims_numel(batch);
        const std::int64_t bb_numel = dims_numel(bb), ba_numel = dims_numel(ba);
        if (bb_numel == 1 && (ba_numel == nbatch)) {
            // B is shared by every batch entry and A's batch is not broadcast: one GEMM.
            if (packed_b_ && tb.rank() == 2 && packed_b_->k() == k && packed_b_->n() == n) {
                OperandA oa;
                oa.matrix = MatrixRef{a, k, false};
                OperandB ob;
                ob.packed = &*packed_b_;
                gemm(nbatch * m, n, k, oa, ob, c, n);
            } else {
                gemm_f32(args(nbatch * m, n, k, a, b, c));
            }
            return;
        }
        // General case: per batch entry, with broadcast offsets.
        const auto sa = strides_of(ba), sb = strides_of(bb), so = strides_of(batch);
        const std::int64_t macs = std::max<std::int64_t>(1, m * n * k);
        const std::int64_t grain = std::max<std::int64_t>(1, kMinChunkMacs / macs);
        parallel_for(nbatch, grain, [&](std::int64_t begin, std::int64_t end) {
            for (std::int64_t i = begin; i < end; ++i) {
                std::int64_t oa = 0, ob = 0, rem = i;
                for (std::size_t d = 0; d < r; ++d) {
                    const std::int64_t idx = rem / so[d];
                    rem %= so[d];
                    if (ba[d] != 1) oa += idx * sa[d];
                    if (bb[d] != 1) ob += idx * sb[d];
                }
                gemm_f32(args(m, n, k, a + oa * m * k, b + ob * k * n, c + i * m * n));
            }
        });
    }

private:
    static GemmArgs args(std::int64_t m, std::int64_t n, std::int64_t k, const float* a,
                         const float* b, float* c) {
        GemmArgs g;
        g.m = m;
        g.n = n;
        g.k = k;
        g.a = a;
        g.lda = k;
        g.b = b;
        g.ldb = n;
        g.c = c;
        g.ldc = n;
        return g;
    }

    std::optional<PackedB> packed_b_;  // a constant 2-D B (weights), packed once
};

}  // namespace

void register_matmul(KernelRegistry& registry) {
    registry.add("MatMul", [](const KernelBuildInfo& info) -> KernelPtr {
        if (info.node.num_inputs() != 2) info.fail("expected inputs A and B");
        std::optional<PackedB> packed;
        const Tensor* b = info.constant_input(1);
        if (b && b->dtype() == DType::kF32 && b->rank() == 2) {
            packed.emplace(b->dim(0), b->dim(1), MatrixRef{b->data<float>(), b->dim(1), false});
        }
        return std::make_unique<MatMul>(std::move(packed));
    });
}

}  // namespace aquant::engine
