#include "aquant/quant/scheme.h"

#include "aquant/core/error.h"

#include <fmt/format.h>

#include <cmath>

namespace aquant::quant {

const char* granularity_name(Granularity g) {
    switch (g) {
        case Granularity::kTensor:
            return "tensor";
        case Granularity::kChannel:
            return "channel";
        case Granularity::kBlock:
            return "block";
    }
    return "?";
}

bool QuantScheme::operator==(const QuantScheme& o) const {
    if (bits != o.bits || is_signed != o.is_signed || symmetric != o.symmetric ||
        granularity != o.granularity || narrow_range != o.narrow_range) {
        return false;
    }
    if (granularity == Granularity::kTensor)
        return true;
    if (axis != o.axis)
        return false;
    return granularity != Granularity::kBlock || block_size == o.block_size;
}

std::string scheme_str(const QuantScheme& s) {
    std::string out = fmt::format("{}{} {}{}", s.is_signed ? "int" : "uint", s.bits,
                                  s.symmetric ? "sym" : "asym", s.narrow_range ? " narrow" : "");
    switch (s.granularity) {
        case Granularity::kTensor:
            return out + " per-tensor";
        case Granularity::kChannel:
            return out + fmt::format(" per-channel(axis={})", s.axis);
        case Granularity::kBlock:
            return out + fmt::format(" per-block(axis={},{})", s.axis, s.block_size);
    }
    return out;
}

void validate_scheme(const QuantScheme& s) {
    if (s.bits < 1 || s.bits > 8) {
        throw ConfigError(fmt::format("quant scheme: bits expected in 1..8, got {}", s.bits));
    }
    if (s.narrow_range && !s.is_signed) {
        throw ConfigError("quant scheme: narrow_range needs a signed scheme, got unsigned");
    }
    if (s.narrow_range && s.bits < 2) {
        throw ConfigError("quant scheme: narrow_range needs bits >= 2, got 1");
    }
    if (s.granularity == Granularity::kBlock && s.block_size < 1) {
        throw ConfigError(
            fmt::format("quant scheme: per-block block_size expected >= 1, got {}", s.block_size));
    }
}

int q_min(const QuantScheme& s) {
    if (!s.is_signed)
        return 0;
    const int half = 1 << (s.bits - 1);
    return s.narrow_range ? -(half - 1) : -half;
}

int q_max(const QuantScheme& s) {
    return s.is_signed ? (1 << (s.bits - 1)) - 1 : (1 << s.bits) - 1;
}

DType storage_dtype(const QuantScheme& s) {
    if (s.bits <= 4)
        return s.is_signed ? DType::kI4 : DType::kU4;
    return s.is_signed ? DType::kI8 : DType::kU8;
}

int dtype_min(DType t) {
    switch (t) {
        case DType::kI8:
            return -128;
        case DType::kU8:
            return 0;
        case DType::kI4:
            return -8;
        case DType::kU4:
            return 0;
        case DType::kI32:
            return INT32_MIN;
        default:
            throw InternalError(
                fmt::format("quant: {} is not a quantized storage type", dtype_name(t)));
    }
}

int dtype_max(DType t) {
    switch (t) {
        case DType::kI8:
            return 127;
        case DType::kU8:
            return 255;
        case DType::kI4:
            return 7;
        case DType::kU4:
            return 15;
        case DType::kI32:
            return INT32_MAX;
        default:
            throw InternalError(
                fmt::format("quant: {} is not a quantized storage type", dtype_name(t)));
    }
}

int normalize_axis(int axis, std::size_t rank) {
    const int r = static_cast<int>(rank);
    if (axis < -r || axis >= r) {
        throw ConfigError(fmt::format("quant: axis expected in [{}, {}), got {}", -r, r, axis));
    }
    return axis < 0 ? axis + r : axis;
}

Dims scale_dims_for(const QuantScheme& s, const Dims& x_dims) {
    if (s.granularity == Granularity::kTensor)
        return {};
    if (x_dims.empty()) {
        throw ConfigError(
            fmt::format("quant: {} needs a tensor of rank >= 1, got a scalar", scheme_str(s)));
    }
    const int axis = normalize_axis(s.axis, x_dims.size());
    if (s.granularity == Granularity::kChannel)
        return {x_dims[static_cast<std::size_t>(axis)]};
    if (s.block_size < 1) {
        throw ConfigError(
            fmt::format("quant: per-block block_size expected >= 1, got {}", s.block_size));
    }
    Dims d = x_dims;
    const std::int64_t dim = d[static_cast<std::size_t>(axis)];
    d[static_cast<std::size_t>(axis)] = (dim + s.block_size - 1) / s.block_size;
    return d;
}

std::optional<std::string> params_mismatch(const QuantParams& p, const Dims& x_dims) {
    try {
        validate_scheme(p.scheme);
        const Dims want = scale_dims_for(p.scheme, x_dims);
        if (p.scale_dims != want) {
            return fmt::format("scale dims {}, expected {} for x {} {}", dims_str(p.scale_dims),
                               dims_str(want), dims_str(x_dims), scheme_str(p.scheme));
        }
    } catch (const ConfigError& e) {
        return std::string(e.what());
    }
    const auto groups = static_cast<std::size_t>(dims_numel(p.scale_dims));
    if (p.scale.size() != groups || p.zero_point.size() != groups) {
        return fmt::format("{} scales and {} zero points, expected {} for scale dims {}",
                           p.scale.size(), p.zero_point.size(), groups, dims_str(p.scale_dims));
    }
    const int lo = q_min(p.scheme);
    const int hi = q_max(p.scheme);
    for (std::size_t g = 0; g < groups; ++g) {
        if (!(std::isfinite(p.scale[g]) && p.scale[g] > 0.0f)) {
            return fmt::format("scale[{}] expected finite and > 0, got {}", g, p.scale[g]);
        }
        if (p.zero_point[g] < lo || p.zero_point[g] > hi) {
            return fmt::format("zero_point[{}] expected in [{}, {}] for {}, got {}", g, lo, hi,
                               scheme_str(p.scheme), p.zero_point[g]);
        }
        if (p.scheme.symmetric && p.zero_point[g] != 0) {
            return fmt::format("zero_point[{}] expected 0 for a symmetric scheme, got {}", g,
                               p.zero_point[g]);
        }
    }
    return std::nullopt;
}

QuantParams params_from_onnx(std::vector<float> scale, const Dims& scale_dims,
                             std::vector<std::int32_t> zero_point, const Dims& x_dims, int axis,
                             int block_size, DType storage) {
    QuantParams p;
    switch (storage) {
        case DType::kI8:
            p.scheme.bits = 8;
            p.scheme.is_signed = true;
            break;
        case DType::kU8:
            p.scheme.bits = 8;
            p.scheme.is_signed = false;
            break;
        case DType::kI4:
            p.scheme.bits = 4;
            p.scheme.is_signed = true;
            break;
        case DType::kU4:
            p.scheme.bits = 4;
            p.scheme.is_signed = false;
            break;
        default:
            throw ModelError(fmt::format(
                "quantized type expected int8, uint8, int4 or uint4, got {}", dtype_name(storage)));
    }
    if (zero_point.empty())
        zero_point.assign(scale.size(), 0);
    if (zero_point.size() != scale.size()) {
        throw ModelError(fmt::format("zero_point has {} values, expected {} (as many as scale)",
                                     zero_point.size(), scale.size()));
    }
    const bool one = dims_numel(scale_dims) == 1 && scale_dims.size() <= 1;
    if (block_size > 0) {
        p.scheme.granularity = Granularity::kBlock;
        p.scheme.block_size = block_size;
        p.scheme.axis = axis;
    } else if (!one) {
        if (scale_dims.size() != 1) {
            throw ModelError(
                fmt::format("scale dims {}: expected a scalar or 1-D scale without "
                            "block_size, got rank {}",
                            dims_str(scale_dims), scale_dims.size()));
        }
        p.scheme.granularity = Granularity::kChannel;
        p.scheme.axis = axis;
    }
    p.scheme.symmetric = true;
    for (auto z : zero_point)
        p.scheme.symmetric = p.scheme.symmetric && z == 0;
    p.scale = std::move(scale);
    p.zero_point = std::move(zero_point);
    // A one-element 1-D scale is per tensor (ONNX Runtime treats [1] like a scalar).
    p.scale_dims = one && block_size <= 0 ? Dims{} : scale_dims;
    if (auto why = params_mismatch(p, x_dims))
        throw ModelError(*why);
    return p;
}

}  // namespace aquant::quant
