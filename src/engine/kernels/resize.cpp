// ONNX Resize-10/11/13/18/19 and Upsample-7/9 (fp32 for every mode; nearest also for int8,
// uint8, int32, int64). Modes nearest, linear (n-linear) and cubic; every
// coordinate_transformation_mode and nearest_mode; sizes or scales; axes and
// keep_aspect_ratio_policy (opset 18). Not supported: antialias=1.
// Arithmetic follows ONNX Runtime's CPU kernel: coordinates in float; linear clamps the source
// coordinate to [0, in - 1]; cubic clamps tap indices (edge padding); Resize-10 and Upsample use
// asymmetric coordinates and their own nearest rounding (ceil when downsampling, else truncate).
// One exception, after the ONNX reference implementation and its backend tests: align_corners
// and tf_crop_and_resize divide by (length_resized - 1) with length_resized = scale * in, which
// is fractional when scales give a non-integer size (ONNX Runtime 1.30 uses the integer output
// size: downsampling [1, 2, 3, 4] by 0.6 gives [1, 3.142857] here and in ONNX, [1, 4] in ORT).
// Each axis gets a table of (index, weight) taps per output index; an output element is the sum
// over the product of its axes' taps.
#include <algorithm>
#include <cmath>

#include "aquant/core/parallel.h"
#include "aquant/engine/kernel_registry.h"
#include "kernel_util.h"

namespace aquant::engine {
namespace {

enum class Mode { kNearest, kLinear, kCubic };
enum class Coord {
    kHalfPixel,
    kHalfPixelSymmetric,
    kPytorchHalfPixel,
    kAlignCorners,
    kAsymmetric,
    kTfHalfPixelForNn,
    kTfCropAndResize
};
enum class Nearest { kSimple, kRoundPreferFloor, kRoundPreferCeil, kFloor, kCeil };
enum class Policy { kStretch, kNotLarger, kNotSmaller };

struct ResizeAttrs {
    Mode mode = Mode::kNearest;
    Coord coord = Coord::kHalfPixel;
    Nearest nearest = Nearest::kRoundPreferFloor;
    Policy policy = Policy::kStretch;
    float cubic_a = -0.75f;
    bool exclude_outside = false;
    float extrapolation_value = 0.0f;
    std::vector<std::int64_t> axes;
    int roi_input = -1, scales_input = -1, sizes_input = -1;
    std::vector<float> attr_scales;  // Upsample-7
};

// Taps of one axis: for output index o, taps[o * ntaps + t] (flat input offset along the axis
// times the axis stride, and weight); extrapolate[o] marks outputs outside the crop box.
struct AxisTaps {
    int ntaps = 1;
    std::vector<std::int64_t> offset;
    std::vector<float> weight;
    std::vector<char> extrapolate;
};

// out_len: the output size; resized_len: scale * in_len, fractional when the scale gives a
// non-integer size (equal to out_len when `sizes` was given).
float source_coord(Coord c, float o, float scale, float out_len, float resized_len, float in_len,
                   float roi_start, float roi_end) {
    switch (c) {
        case Coord::kAsymmetric: return o / scale;
        case Coord::kPytorchHalfPixel: return out_len > 1 ? (o + 0.5f) / scale - 0.5f : 0.0f;
        case Coord::kTfHalfPixelForNn: return (o + 0.5f) / scale;
        case Coord::kAlignCorners:
            return resized_len == 1 ? 0.0f : o * (in_len - 1) / (resized_len - 1);
        case Coord::kTfCropAndResize:
            return resized_len > 1 ? roi_start * (in_len - 1) + o * (roi_end - roi_start) *
                                                                    (in_len - 1) / (resized_len - 1)
                                   : 0.5f * (roi_start + roi_end) * (in_len - 1);
        case Coord::kHalfPixelSymmetric: {
            const float adjustment = out_len / (scale * in_len);
            const float offset = in_len / 2 * (1 - adjustment);
            return offset + (o + 0.5f) / scale - 0.5f;
        }
        case Coord::kHalfPixel: break;
    }
    return (o + 0.5f) / scale - 0.5f;
}

std::int64_t nearest_index(Nearest m, float x, bool downsample) {
    switch (m) {
        case Nearest::kSimple:
            return downsample ? static_cast<std::int64_t>(std::ceil(x)) : static_cast<std::int64_t>(x);
        case Nearest::kRoundPreferCeil: return static_cast<std::int64_t>(std::round(x));
        case Nearest::kFloor: return static_cast<std::int64_t>(std::floor(x));
        case Nearest::kCeil: return static_cast<std::int64_t>(std::ceil(x));
        case Nearest::kRoundPreferFloor: break;
    }
    if (x == std::floor(x) + 0.5f) return static_cast<std::int64_t>(std::floor(x));
    return static_cast<std::int64_t>(std::round(x));
}

void cubic_coeffs(float s, float a, float c[4]) {
    c[0] = ((a * (s + 1) - 5 * a) * (s + 1) + 8 * a) * (s + 1) - 4 * a;
    c[1] = ((a + 2) * s - (a + 3)) * s * s + 1;
    c[2] = ((a + 2) * (1 - s) - (a + 3)) * (1 - s) * (1 - s) + 1;
    c[3] = ((a * (2 - s) - 5 * a) * (2 - s) + 8 * a) * (2 - s) - 4 * a;
}

AxisTaps axis_taps(const ResizeAttrs& at, std::int64_t in, std::int64_t out, float resized_len,
                   float scale, float roi_start, float roi_end, std::int64_t stride) {
    AxisTaps t;
    t.ntaps = at.mode == Mode::kNearest ? 1 : at.mode == Mode::kLinear ? 2 : 4;
    t.offset.resize(static_cast<std::size_t>(out * t.ntaps));
    t.weight.resize(static_cast<std::size_t>(out * t.ntaps));
    t.extrapolate.assign(static_cast<std::size_t>(out), 0);
    const float in_f = static_cast<float>(in), out_f = static_cast<float>(out);
    auto clamp_idx = [&](std::int64_t i) { return std::clamp<std::int64_t>(i, 0, in - 1); };
    for (std::int64_t o = 0; o < out; ++o) {
        const float x =
            source_coord(at.coord, static_cast<float>(o), scale, out_f, resized_len, in_f,
                         roi_start, roi_end);
        std::int64_t* off = t.offset.data() + o * t.ntaps;
        float* w = t.weight.data() + o * t.ntaps;
        if (at.coord == Coord::kTfCropAndResize && (x < 0 || x > in_f - 1)) {
            t.extrapolate[static_cast<std::size_t>(o)] = 1;
            std::fill(off, off + t.ntaps, 0);
            std::fill(w, w + t.ntaps, 0.0f);
            continue;
        }
        if (at.mode == Mode::kNearest) {
            off[0] = clamp_idx(nearest_index(at.nearest, x, scale < 1.0f)) * stride;
            w[0] = 1.0f;
        } else if (at.mode == Mode::kLinear) {
            const float xc = std::clamp(x, 0.0f, in_f - 1);
            const std::int64_t x1 = std::min(static_cast<std::int64_t>(xc), in - 1);
            const std::int64_t x2 = std::min(x1 + 1, in - 1);
            const float frac = x1 == x2 ? 0.5f : xc - static_cast<float>(x1);
            off[0] = x1 * stride;
            off[1] = x2 * stride;
            w[0] = 1.0f - frac;
            w[1] = frac;
        } else {
            const float xf = std::floor(x);
            const std::int64_t x0 = static_cast<std::int64_t>(xf) - 1;
            cubic_coeffs(x - xf, at.cubic_a, w);
            if (at.exclude_outside) {
                float sum = 0.0f;
                for (int i = 0; i < 4; ++i) {
                    if (x0 + i < 0 || x0 + i >= in) w[i] = 0.0f;
                    sum += w[i];
                }
                for (int i = 0; i < 4; ++i) w[i] = sum != 0.0f ? w[i] / sum : 0.0f;
            }
            for (int i = 0; i < 4; ++i) off[i] = clamp_idx(x0 + i) * stride;
        }
    }
    return t;
}

template <typename T>
void resample(const T* x, const Dims& out_dims, const std::vector<AxisTaps>& taps, float extrap,
              T* y) {
    const std::size_t r = out_dims.size();
    const std::int64_t inner = out_dims.back();
    const std::int64_t rows = inner == 0 ? 0 : dims_numel(out_dims) / inner;
    std::vector<std::size_t> active;  // axes with more than one tap
    for (std::size_t a = 0; a < r; ++a) {
        if (taps[a].ntaps > 1) active.push_back(a);
    }
    std::int64_t combos = 1;
    for (auto a : active) combos *= taps[a].ntaps;
    const std::int64_t grain = std::max<std::int64_t>(1, 4096 / (inner * combos + 1));
    parallel_for(rows, grain, [&](std::int64_t begin, std::int64_t end) {
        std::vector<std::int64_t> idx(r, 0);
        for (std::int64_t row = begin; row < end; ++row) {
            std::int64_t rem = row;
            for (std::size_t a = r - 1; a-- > 0;) {
                idx[a] = rem % out_dims[a];
                rem /= out_dims[a];
            }
            for (std::int64_t o = 0; o < inner; ++o) {
                idx[r - 1] = o;
                bool extrapolate = false;
                std::int64_t base = 0;
                for (std::size_t a = 0; a < r; ++a) {
                    const auto i = static_cast<std::size_t>(idx[a]);
                    extrapolate |= taps[a].extrapolate[i] != 0;
                    if (taps[a].ntaps == 1) base += taps[a].offset[i];
                }
                T* out = y + row * inner + o;
                if (extrapolate) {
                    *out = static_cast<T>(extrap);
                    continue;
                }
                if (active.empty()) {
                    *out = x[base];
                    continue;
                }
                float acc = 0.0f;
                for (std::int64_t c = 0; c < combos; ++c) {
                    std::int64_t rest = c, off = base;
                    float w = 1.0f;
                    for (auto a : active) {
                        const int nt = taps[a].ntaps;
                        const auto k = static_cast<std::size_t>(idx[a] * nt + rest % nt);
                        rest /= nt;
                        off += taps[a].offset[k];
                        w *= taps[a].weight[k];
                    }
                    acc += w * static_cast<float>(x[off]);
                }
                *out = static_cast<T>(acc);
            }
        }
    });
}

class Resize final : public Kernel {
public:
    explicit Resize(ResizeAttrs a) : at_(std::move(a)) {}

    void run(KernelContext& ctx) const override {
        const Tensor& x = ctx.input(0);
        const DType dt = x.dtype();
        const bool float_only = at_.mode != Mode::kNearest;
        if (dt != DType::kF32 && (float_only || (dt != DType::kU8 && dt != DType::kI8 &&
                                                 dt != DType::kI32 && dt != DType::kI64))) {
            fail_type(ctx, 0);
        }
        const std::size_t r = x.rank();
        if (r == 0) ctx.fail("input 0 (X): expected rank >= 1, got a scalar");
        std::vector<float> scales(r, 1.0f), roi_start(r, 0.0f), roi_end(r, 1.0f), resized(r);
        for (std::size_t a = 0; a < r; ++a) resized[a] = static_cast<float>(x.dim(a));
        Dims out_dims = x.dims();
        resolve_sizes(ctx, x, &scales, &out_dims, &resized);
        if (at_.coord == Coord::kTfCropAndResize) read_roi(ctx, r, &roi_start, &roi_end);
        Tensor& y = ctx.allocate_output(0, dt, out_dims);
        if (y.numel() == 0) return;
        if (x.numel() == 0) ctx.fail("input 0 (X) is empty but the output " + dims_str(out_dims) +
                                     " is not");
        const auto strides = strides_of(x.dims());
        std::vector<AxisTaps> taps(r);
        for (std::size_t a = 0; a < r; ++a) {
            taps[a] = axis_taps(at_, x.dim(a), out_dims[a], resized[a], scales[a], roi_start[a],
                                roi_end[a], strides[a]);
        }
        visit_type<float, std::uint8_t, std::int8_t, std::int32_t, std::int64_t>(dt, [&](auto tag) {
            using T = typename decltype(tag)::type;
            resample<T>(x.data<T>(), out_dims, taps, at_.extrapolation_value, y.data<T>());
        });
    }

private:
    // Axes the scales/sizes/roi inputs refer to (all axes unless `axes` is set).
    std::vector<std::size_t> target_axes(const KernelContext& ctx, std::size_t r) const {
        std::vector<std::size_t> out;
        if (at_.axes.empty()) {
            for (std::size_t a = 0; a < r; ++a) out.push_back(a);
            return out;
        }
        for (std::int64_t a : at_.axes) {
            if (!normalize_axis(a, static_cast<std::int64_t>(r))) {
                ctx.fail("attribute 'axes' has " + std::to_string(a) + ", out of range for rank " +
                         std::to_string(r));
            }
            out.push_back(static_cast<std::size_t>(a));
        }
        return out;
    }

    // Output dims, scales and the resized lengths (scale * in, fractional for scales that do
    // not give whole sizes) of the target axes.
    void resolve_sizes(const KernelContext& ctx, const Tensor& x, std::vector<float>* scales,
                       Dims* out_dims, std::vector<float>* resized) const {
        const std::size_t r = x.rank();
        const auto axes = target_axes(ctx, r);
        const bool has_sizes = at_.sizes_input >= 0 && ctx.has_input(at_.sizes_input) &&
                               ctx.input(at_.sizes_input).numel() > 0;
        if (has_sizes) {
            const auto sizes = read_ints(ctx.input(at_.sizes_input));
            if (sizes.size() != axes.size()) {
                ctx.fail("input 'sizes' has " + std::to_string(sizes.size()) + " values, expected " +
                         std::to_string(axes.size()));
            }
            for (std::size_t i = 0; i < axes.size(); ++i) {
                const std::size_t a = axes[i];
                (*out_dims)[a] = sizes[i];
                (*resized)[a] = static_cast<float>(sizes[i]);
                (*scales)[a] = x.dim(a) == 0 ? 1.0f
                                             : static_cast<float>(sizes[i]) /
                                                   static_cast<float>(x.dim(a));
            }
            if (at_.policy != Policy::kStretch) {
                float s = (*scales)[axes[0]];
                for (auto a : axes) {
                    s = at_.policy == Policy::kNotLarger ? std::min(s, (*scales)[a])
                                                         : std::max(s, (*scales)[a]);
                }
                for (auto a : axes) {
                    (*scales)[a] = s;
                    (*resized)[a] = s * static_cast<float>(x.dim(a));
                    (*out_dims)[a] = static_cast<std::int64_t>(std::round((*resized)[a]));
                }
            }
            return;
        }
        std::vector<float> given = at_.attr_scales;
        if (at_.scales_input >= 0 && ctx.has_input(at_.scales_input)) {
            const Tensor& s = ctx.input(at_.scales_input);
            if (s.dtype() != DType::kF32) fail_type(ctx, at_.scales_input);
            given.assign(s.data<float>(), s.data<float>() + s.numel());
        }
        if (given.empty()) ctx.fail("neither 'scales' nor 'sizes' is given");
        if (given.size() != axes.size()) {
            ctx.fail("'scales' has " + std::to_string(given.size()) + " values, expected " +
                     std::to_string(axes.size()));
        }
        for (std::size_t i = 0; i < axes.size(); ++i) {
            if (!(given[i] > 0.0f)) {
                ctx.fail("'scales' must be positive, got " + std::to_string(given[i]));
            }
            const std::size_t a = axes[i];
            (*scales)[a] = given[i];
            (*resized)[a] = given[i] * static_cast<float>(x.dim(a));
            (*out_dims)[a] = static_cast<std::int64_t>((*resized)[a]);
        }
    }

    void read_roi(const KernelContext& ctx, std::size_t r, std::vector<float>* start,
                  std::vector<float>* end) const {
        if (at_.roi_input < 0 || !ctx.has_input(at_.roi_input)) {
            ctx.fail("coordinate_transformation_mode 'tf_crop_and_resize' needs input 'roi'");
        }
        const Tensor& roi = ctx.input(at_.roi_input);
        const auto axes = target_axes(ctx, r);
        if (roi.numel() != static_cast<std::int64_t>(2 * axes.size())) {
            ctx.fail("input 'roi' " + dims_str(roi.dims()) + ": expected " +
                     std::to_string(2 * axes.size()) + " values");
        }
        for (std::size_t i = 0; i < axes.size(); ++i) {
            (*start)[axes[i]] = static_cast<float>(roi.get_f64(static_cast<std::int64_t>(i)));
            (*end)[axes[i]] =
                static_cast<float>(roi.get_f64(static_cast<std::int64_t>(i + axes.size())));
        }
    }

    ResizeAttrs at_;
};

template <typename E>
E parse(const KernelBuildInfo& info, const char* attr, const std::string& value,
        std::initializer_list<std::pair<const char*, E>> table) {
    std::string valid;
    for (const auto& [name, e] : table) {
        if (value == name) return e;
        valid += (valid.empty() ? "" : ", ") + std::string(name);
    }
    info.fail(std::string("attribute '") + attr + "': expected one of " + valid + ", got '" +
              value + "'");
}

KernelPtr make_resize(const KernelBuildInfo& info, bool upsample) {
    const ir::Node& n = info.node;
    ResizeAttrs a;
    const std::string mode = n.attr_string("mode", "nearest");
    a.mode = parse<Mode>(info, "mode", mode,
                         {{"nearest", Mode::kNearest},
                          {"linear", Mode::kLinear},
                          {"bilinear", Mode::kLinear},
                          {"cubic", Mode::kCubic}});
    const bool legacy = upsample || info.opset <= 10;
    if (legacy) {
        if (a.mode == Mode::kCubic) info.fail("mode 'cubic' needs Resize-11 or later");
        a.coord = Coord::kAsymmetric;
        a.nearest = Nearest::kSimple;
        if (upsample && info.opset < 9) {
            a.attr_scales = n.attr_floats("scales");
        } else {
            a.scales_input = 1;
        }
    } else {
        a.coord = parse<Coord>(info, "coordinate_transformation_mode",
                               n.attr_string("coordinate_transformation_mode", "half_pixel"),
                               {{"half_pixel", Coord::kHalfPixel},
                                {"half_pixel_symmetric", Coord::kHalfPixelSymmetric},
                                {"pytorch_half_pixel", Coord::kPytorchHalfPixel},
                                {"align_corners", Coord::kAlignCorners},
                                {"asymmetric", Coord::kAsymmetric},
                                {"tf_half_pixel_for_nn", Coord::kTfHalfPixelForNn},
                                {"tf_crop_and_resize", Coord::kTfCropAndResize}});
        a.nearest = parse<Nearest>(info, "nearest_mode",
                                   n.attr_string("nearest_mode", "round_prefer_floor"),
                                   {{"round_prefer_floor", Nearest::kRoundPreferFloor},
                                    {"round_prefer_ceil", Nearest::kRoundPreferCeil},
                                    {"floor", Nearest::kFloor},
                                    {"ceil", Nearest::kCeil}});
        a.policy = parse<Policy>(info, "keep_aspect_ratio_policy",
                                 n.attr_string("keep_aspect_ratio_policy", "stretch"),
                                 {{"stretch", Policy::kStretch},
                                  {"not_larger", Policy::kNotLarger},
                                  {"not_smaller", Policy::kNotSmaller}});
        a.cubic_a = n.attr_float("cubic_coeff_a", -0.75f);
        a.exclude_outside = n.attr_int("exclude_outside", 0) != 0;
        a.extrapolation_value = n.attr_float("extrapolation_value", 0.0f);
        a.axes = n.attr_ints("axes");
        if (n.attr_int("antialias", 0) != 0) info.fail("attribute 'antialias' = 1 is not supported");
        a.roi_input = 1;
        a.scales_input = 2;
        a.sizes_input = 3;
    }
    return std::make_unique<Resize>(std::move(a));
}

}  // namespace

void register_resize(KernelRegistry& registry) {
    registry.add("Resize",
                 [](const KernelBuildInfo& info) { return make_resize(info, /*upsample=*/false); });
    registry.add("Upsample",
                 [](const KernelBuildInfo& info) { return make_resize(info, /*upsample=*/true); });
}

}  // namespace aquant::engine
