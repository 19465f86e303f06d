// The Kernel behind QLinearMatMul, MatMulInteger and ai.aquant.QLinearGemm: validation, B
// packed at build time when it and its zero point are constant 2-D tensors, batching, and
// dispatch over the activation and output types (qmatmul.h does the arithmetic).
#include "qmatmul_kernel.h"

#include <optional>

#include "kernel_util.h"
#include "qmatmul.h"
#include "qparams.h"

namespace aquant::engine {
namespace {

constexpr std::size_t kNone = 99;

struct Config {
    std::size_t a, a_scale, a_zp, b, b_scale, b_zp, y_scale, y_zp, bias;
    bool requantize;
    bool a_zp_per_row;  // MatMulInteger: a_zero_point may hold one value per row of A
    bool gemm;          // QLinearGemm: 2-D B (transB), A flattened to [rows, K], bias input
};

constexpr Config kQLinearMatMul{0, 1, 2, 3, 4, 5, 6, 7, kNone, true, false, false};
constexpr Config kMatMulInteger{0, kNone, 2, 1, kNone, 3, kNone, kNone, kNone, false, true, false};
constexpr Config kQLinearGemm{0, 1, 2, 3, 4, 5, 6, 7, 8, true, false, true};

const Tensor* optional_input(const KernelContext& ctx, std::size_t i) {
    return i != kNone && ctx.has_input(i) ? &ctx.input(i) : nullptr;
}

// Packs one [K, N] (or [N, K] when trans_b) matrix of b.
std::string pack(const Tensor& b, std::int64_t offset, std::int64_t k, std::int64_t n,
                 bool trans_b, const Tensor* b_zp, const Config& cfg,
                 std::optional<qmatmul::PackedB>* out) {
    if (!qparams::is_8bit(b.dtype())) {
        return qparams::input_label(cfg.b, "b") + ": expected uint8 or int8, got '" +
               std::string(dtype_name(b.dtype())) + "'";
    }
    std::vector<std::int32_t> zps;
    std::string err = qparams::read_zero_points(b_zp, cfg.b_zp, "b_zero_point", b.dtype(), n, &zps);
    if (!err.empty()) return err;
    visit_type<std::uint8_t, std::int8_t>(b.dtype(), [&](auto tag) {
        using B = typename decltype(tag)::type;
        out->emplace(qmatmul::pack_b(b.data<B>() + offset, k, n, trans_b, zps));
    });
    return "";
}

class MatMulKernel final : public Kernel {
public:
    MatMulKernel(Config cfg, bool trans_b, std::optional<qmatmul::PackedB> packed)
        : cfg_(cfg), trans_b_(trans_b), packed_(std::move(packed)) {}

    void run(KernelContext& ctx) const override {
        const Tensor& a = ctx.input(cfg_.a);
        const Tensor& b = ctx.input(cfg_.b);
        if (!qparams::is_8bit(a.dtype())) fail_type(ctx, cfg_.a);
        qmatmul::Shape s;
        if (cfg_.gemm) {
            s = gemm_shape(ctx, a, b);
        } else {
            const std::string err = qmatmul::resolve_shape(a.dims(), b.dims(), &s);
            if (!err.empty()) ctx.fail(err);
        }
        std::vector<std::int32_t> a_zp;
        check(ctx, qparams::read_zero_points(optional_input(ctx, cfg_.a_zp), cfg_.a_zp,
                                             "a_zero_point", a.dtype(),
                                             cfg_.a_zp_per_row ? s.m : 0, &a_zp));
        std::int64_t max_a = 0;
        for (auto z : a_zp) max_a = std::max(max_a, qparams::max_abs_offset(a.dtype(), z));

        qgemm::OutputStage stage;
        std::vector<float> multiplier;
        DType y_type = DType::kI32;
        std::int64_t max_bias = 0;
        if (cfg_.requantize) {
            std::vector<float> a_scale, b_scale, y_scale;
            std::vector<std::int32_t> y_zp;
            check(ctx, qparams::read_scales(ctx.input(cfg_.a_scale), cfg_.a_scale, "a_scale", 0,
                                            &a_scale));
            check(ctx, qparams::read_scales(ctx.input(cfg_.b_scale), cfg_.b_scale, "b_scale", s.n,
                                            &b_scale));
            check(ctx, qparams::read_scales(ctx.input(cfg_.y_scale), cfg_.y_scale, "y_scale", 0,
                                            &y_scale));
            const Tensor* y_zp_t = optional_input(ctx, cfg_.y_zp);
            y_type = y_zp_t ? y_zp_t->dtype() : DType::kU8;
            if (!qparams::is_8bit(y_type)) fail_type(ctx, cfg_.y_zp);
            check(ctx, qparams::read_zero_points(y_zp_t, cfg_.y_zp, "y_zero_point", y_type, 0,
                                                 &y_zp));
            const std::int32_t* bias = nullptr;
            if (const Tensor* c = optional_input(ctx, cfg_.bias)) {
                if (c->dtype() != DType::kI32 || c->numel() != s.n) {
                    ctx.fail(qparams::input_label(cfg_.bias, "bias") + ": expected " +
                             std::to_string(s.n) + " int32 values, got " +
                             std::string(dtype_name(c->dtype())) + dims_str(c->dims()));
                }
                bias = c->data<std::int32_t>();
                for (std::int64_t i = 0; i < s.n; ++i) {
                    max_bias = std::max<std::int64_t>(max_bias, std::abs(std::int64_t{bias[i]}));
                }
            }
            multiplier = qparams::multipliers(a_scale[0], b_scale, y_scale[0]);
            stage = qparams::requant_stage(multiplier, bias, y_zp[0], y_type);
        }
        Tensor& y = ctx.allocate_output(0, y_type, s.out_dims);
        if (y.numel() == 0) return;
        const std::int64_t period = a_zp.size() > 1 ? s.m : 1;
        auto product = [&](const qmatmul::PackedB& pb, std::int64_t a_off, std::int64_t rows,
                           std::int64_t y_off) {
            if (!qgemm::fits_int32(s.k, max_a, pb.max_abs, max_bias)) {
                ctx.fail("the int32 accumulator could overflow: reduction length " +
                         std::to_string(s.k) + " with b magnitude " + std::to_string(pb.max_abs));
            }
            visit_type<std::uint8_t, std::int8_t>(a.dtype(), [&](auto at) {
                using A = typename decltype(at)::type;
                visit_type<std::uint8_t, std::int8_t, std::int32_t>(y_type, [&](auto yt) {
                    using Y = typename decltype(yt)::type;
                    qmatmul::run(a.data<A>() + a_off, rows, s.k, a_zp.data(), period, pb, stage,
                                 y.data<Y>() + y_off, s.n);
                });
            });
        };
        const bool b_2d = cfg_.gemm || b.rank() <= 2;
        if (b_2d) {
            // One product over every row of A (B is shared by all batches).
            std::optional<qmatmul::PackedB> local;
            const qmatmul::PackedB* pb = packed_ ? &*packed_ : nullptr;
            if (!pb) {
                check(ctx, pack(b, 0, s.k, s.n, trans_b_, optional_input(ctx, cfg_.b_zp), cfg_,
                                &local));
                pb = &*local;
            }
            product(*pb, 0, a.numel() / s.k, 0);
            return;
        }
        for (std::int64_t i = 0; i < s.batch_count(); ++i) {
            std::optional<qmatmul::PackedB> pb;
            check(ctx, pack(b, s.b_index(i) * s.k * s.n, s.k, s.n, false,
                            optional_input(ctx, cfg_.b_zp), cfg_, &pb));
            product(*pb, s.a_index(i) * s.m * s.k, s.m, i * s.m * s.n);
        }
    }

private:
    qmatmul::Shape gemm_shape(const KernelContext& ctx, const Tensor& a, const Tensor& b) const {
        if (a.rank() < 1 || b.rank() != 2) {
            ctx.fail("expected a of rank >= 1 and a 2-D b, got " + dims_str(a.dims()) + " and " +
                     dims_str(b.dims()));
        }
        qmatmul::Shape s;
        s.k = a.dims().back();
        s.m = s.k == 0 ? 0 : a.numel() / s.k;
        const std::int64_t bk = trans_b_ ? b.dim(1) : b.dim(0);
        s.n = trans_b_ ? b.dim(0) : b.dim(1);
        if (bk != s.k) {
            ctx.fail("inner dimensions differ: a " + dims_str(a.dims()) + ", b " +
                     dims_str(b.dims()) + (trans_b_ ? " (transB)" : ""));
        }
        s.out_dims = a.dims();
        s.out_dims.back() = s.n;
        return s;
    }

    static void check(const KernelContext& ctx, const std::string& err) {
        if (!err.empty()) ctx.fail(err);
    }

    Config cfg_;
    bool trans_b_;
    std::optional<qmatmul::PackedB> packed_;
};

KernelPtr make(const KernelBuildInfo& info, const Config& cfg, const char* expected) {
    const std::size_t needed = cfg.requantize ? 8 : 2;
    if (info.node.num_inputs() < needed) {
        info.fail(std::string("expected inputs ") + expected + ", got " +
                  std::to_string(info.node.num_inputs()));
    }
    bool trans_b = false;
    if (cfg.gemm) {
        const std::int64_t t = info.node.attr_int("transB", 0);
        if (t != 0 && t != 1) info.fail("attribute 'transB': expected 0 or 1, got " + std::to_string(t));
        trans_b = t == 1;
    }
    std::optional<qmatmul::PackedB> packed;
    const Tensor* b = info.constant_input(cfg.b);
    const bool zp_known = !info.node.has_input(cfg.b_zp) || info.constant_input(cfg.b_zp);
    if (b && zp_known && b->rank() == 2) {
        const std::int64_t k = trans_b ? b->dim(1) : b->dim(0);
        const std::int64_t n = trans_b ? b->dim(0) : b->dim(1);
        const std::string err =
            pack(*b, 0, k, n, trans_b, info.constant_input(cfg.b_zp), cfg, &packed);
        if (!err.empty()) info.fail(err);
    } else if (cfg.gemm && b && b->rank() != 2) {
        info.fail("input 3 (b): expected a 2-D tensor, got " + dims_str(b->dims()));
    }
    return std::make_unique<MatMulKernel>(cfg, trans_b, std::move(packed));
}

}  // namespace

KernelPtr make_qlinear_matmul(const KernelBuildInfo& info) {
    return make(info, kQLinearMatMul,
                "a, a_scale, a_zero_point, b, b_scale, b_zero_point, y_scale, y_zero_point");
}

KernelPtr make_matmul_integer(const KernelBuildInfo& info) {
    return make(info, kMatMulInteger, "A and B");
}

KernelPtr make_qlinear_gemm(const KernelBuildInfo& info) {
    return make(info, kQLinearGemm,
                "a, a_scale, a_zero_point, b, b_scale, b_zero_point, y_scale, y_zero_point and "
                "optional bias");
}

}  // namespace aquant::engine
