// The Kernel behind QLinearConv (requantized uint8/int8 output) and ConvInteger (int32 output):
// input validation, weight packing at build time when the weights and their zero point are
// constants (else per run), and dispatch over the activation and output types.
#include "qconv_kernel.h"

#include <optional>

#include "aquant/engine/kernel_registry.h"
#include "kernel_util.h"
#include "qconv.h"
#include "qparams.h"

namespace aquant::engine {
namespace {

struct Inputs {  // input indices per op
    std::size_t x, x_scale, x_zp, w, w_scale, w_zp, y_scale, y_zp, bias;
};
constexpr std::size_t kNone = 99;
constexpr Inputs kQLinear{0, 1, 2, 3, 4, 5, 6, 7, 8};
constexpr Inputs kInteger{0, kNone, 2, 1, kNone, 3, kNone, kNone, kNone};

const Tensor* optional_input(const KernelContext& ctx, std::size_t i) {
    return i != kNone && ctx.has_input(i) ? &ctx.input(i) : nullptr;
}

// Packs `w` with its zero point; empty optional + error text on a bad input.
std::string pack(const Tensor& w, const Tensor* w_zp, std::int64_t group, std::size_t w_index,
                 std::size_t zp_index, std::optional<qconv::PackedWeights>* out) {
    const std::string where = qparams::input_label(w_index, "w");
    if (!qparams::is_8bit(w.dtype())) {
        return where + ": expected uint8 or int8, got '" + std::string(dtype_name(w.dtype())) + "'";
    }
    if (w.rank() < 3 || w.rank() > 2 + spatial::kMaxRank) {
        return where + ": expected rank 3 to 5, got " + dims_str(w.dims());
    }
    if (w.dim(0) % group != 0) {
        return where + " " + dims_str(w.dims()) + ": output channels not divisible by group " +
               std::to_string(group);
    }
    std::vector<std::int32_t> zps;
    std::string err = qparams::read_zero_points(w_zp, zp_index, "w_zero_point", w.dtype(),
                                                w.dim(0), &zps);
    if (!err.empty()) return err;
    visit_type<std::uint8_t, std::int8_t>(w.dtype(), [&](auto tag) {
        using W = typename decltype(tag)::type;
        out->emplace(qconv::pack_weights(w.data<W>(), w.dims(), group, zps));
    });
    return "";
}

class ConvKernel final : public Kernel {
public:
    ConvKernel(Inputs in, bool requantize, spatial::WindowAttrs attrs, std::int64_t group,
               std::optional<qconv::PackedWeights> packed)
        : in_(in), requantize_(requantize), attrs_(std::move(attrs)), group_(group),
          packed_(std::move(packed)) {}

    void run(KernelContext& ctx) const override {
        const Tensor& x = ctx.input(in_.x);
        if (!qparams::is_8bit(x.dtype())) fail_type(ctx, in_.x);
        std::vector<std::int32_t> x_zp;
        check(ctx, qparams::read_zero_points(optional_input(ctx, in_.x_zp), in_.x_zp,
                                             "x_zero_point", x.dtype(), 0, &x_zp));
        std::optional<qconv::PackedWeights> local;
        const qconv::PackedWeights* w = packed_ ? &*packed_ : nullptr;
        if (!w) {
            check(ctx, pack(ctx.input(in_.w), optional_input(ctx, in_.w_zp), group_, in_.w,
                            in_.w_zp, &local));
            w = &*local;
        }
        qconv::Shape s;
        const std::string err = qconv::resolve_shape(attrs_, x.dims(), *w, &s);
        if (!err.empty()) ctx.fail(err);

        qgemm::OutputStage stage;
        std::vector<float> multiplier;
        DType y_type = DType::kI32;
        std::int64_t max_bias = 0;
        if (requantize_) {
            std::vector<float> x_scale, w_scale, y_scale;
            std::vector<std::int32_t> y_zp;
            check(ctx, qparams::read_scales(ctx.input(in_.x_scale), in_.x_scale, "x_scale", 0,
                                            &x_scale));
            check(ctx, qparams::read_scales(ctx.input(in_.w_scale), in_.w_scale, "w_scale", s.m,
                                            &w_scale));
            check(ctx, qparams::read_scales(ctx.input(in_.y_scale), in_.y_scale, "y_scale", 0,
                                            &y_scale));
            const Tensor* y_zp_t = optional_input(ctx, in_.y_zp);
            y_type = y_zp_t ? y_zp_t->dtype() : DType::kU8;
            if (!qparams::is_8bit(y_type)) fail_type(ctx, in_.y_zp);
            check(ctx, qparams::read_zero_points(y_zp_t, in_.y_zp, "y_zero_point", y_type, 0,
                                                 &y_zp));
            const std::int32_t* bias = nullptr;
            if (const Tensor* b = optional_input(ctx, in_.bias)) {
                if (b->dtype() != DType::kI32 || b->numel() != s.m) {
                    ctx.fail(qparams::input_label(in_.bias, "B") + ": expected " +
                             std::to_string(s.m) + " int32 values, got " +
                             std::string(dtype_name(b->dtype())) + dims_str(b->dims()));
                }
                bias = b->data<std::int32_t>();
                for (std::int64_t i = 0; i < s.m; ++i) {
                    max_bias = std::max<std::int64_t>(max_bias, std::abs(std::int64_t{bias[i]}));
                }
            }
            multiplier = qparams::multipliers(x_scale[0], w_scale, y_scale[0]);
            stage = qparams::requant_stage(multiplier, bias, y_zp[0], y_type);
        }
        if (!qgemm::fits_int32(w->depth, qparams::max_abs_offset(x.dtype(), x_zp[0]), w->max_abs,
                               max_bias)) {
            ctx.fail("the int32 accumulator could overflow: reduction length " +
                     std::to_string(w->depth) + " with weight magnitude " +
                     std::to_string(w->max_abs));
        }
        Tensor& y = ctx.allocate_output(0, y_type, s.out_dims);
        visit_type<std::uint8_t, std::int8_t>(x.dtype(), [&](auto xt) {
            using X = typename decltype(xt)::type;
            visit_type<std::uint8_t, std::int8_t, std::int32_t>(y_type, [&](auto yt) {
                using Y = typename decltype(yt)::type;
                qconv::run(s, x.data<X>(), x_zp[0], *w, stage, y.data<Y>());
            });
        });
    }

private:
    static void check(const KernelContext& ctx, const std::string& err) {
        if (!err.empty()) ctx.fail(err);
    }

    Inputs in_;
    bool requantize_;
    spatial::WindowAttrs attrs_;
    std::int64_t group_;
    std::optional<qconv::PackedWeights> packed_;
};

KernelPtr make(const KernelBuildInfo& info, Inputs in, bool requantize) {
    const std::int64_t group = info.node.attr_int("group", 1);
    if (group < 1) {
        info.fail("attribute 'group': expected a positive value, got " + std::to_string(group));
    }
    auto attrs = spatial::read_window_attrs(info);
    std::optional<qconv::PackedWeights> packed;
    const Tensor* w = info.constant_input(in.w);
    const bool zp_known = !info.node.has_input(in.w_zp) || info.constant_input(in.w_zp);
    if (w && zp_known) {
        const std::string err = pack(*w, info.constant_input(in.w_zp), group, in.w, in.w_zp,
                                     &packed);
        if (!err.empty()) info.fail(err);
    }
    return std::make_unique<ConvKernel>(in, requantize, std::move(attrs), group,
                                        std::move(packed));
}

}  // namespace

KernelPtr make_qlinear_conv(const KernelBuildInfo& info) {
    if (info.node.num_inputs() < 8) {
        info.fail("expected inputs x, x_scale, x_zero_point, w, w_scale, w_zero_point, y_scale, "
                  "y_zero_point and optional B, got " +
                  std::to_string(info.node.num_inputs()));
    }
    return make(info, kQLinear, true);
}

KernelPtr make_conv_integer(const KernelBuildInfo& info) {
    if (info.node.num_inputs() < 2) info.fail("expected inputs x and w");
    return make(info, kInteger, false);
}

}  // namespace aquant::engine
