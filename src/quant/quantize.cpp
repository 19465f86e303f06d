// Fast paths: the tensor is cut into runs of contiguous elements that share one parameter group
// (run_const) or step through consecutive groups (run_vec), so the inner loops vectorise.
// Results equal the _ref oracles exactly (tests/quant/quantize_test.cpp).
#include "aquant/quant/quantize.h"

#include "quant/layout.h"
#include "quant/round.h"

#include "aquant/core/error.h"
#include "aquant/core/parallel.h"
#include "aquant/quant/int4_pack.h"

#include <fmt/format.h>

#include <algorithm>
#include <limits>

namespace aquant::quant {

namespace {

constexpr std::int64_t kGrain = 1 << 15;  // elements per parallel chunk

using detail::round_clamped;

template <typename Op>
void for_each_run(const detail::GroupLayout& L, const Op& op) {
    auto rows_grain = [](std::int64_t len) {
        return std::max<std::int64_t>(1, kGrain / std::max<std::int64_t>(1, len));
    };
    switch (L.granularity) {
        case Granularity::kTensor:
            parallel_for(L.numel, kGrain, [&](std::int64_t b, std::int64_t e) {
                RoundToNearestGuard guard;
                op.run_const(b, e - b, 0);
            });
            return;
        case Granularity::kChannel:
            if (L.inner == 1) {
                parallel_for(L.outer, rows_grain(L.dim), [&](std::int64_t b, std::int64_t e) {
                    RoundToNearestGuard guard;
                    for (std::int64_t o = b; o < e; ++o)
                        op.run_vec(o * L.dim, L.dim, 0);
                });
            } else {
                parallel_for(L.outer * L.dim, rows_grain(L.inner),
                             [&](std::int64_t b, std::int64_t e) {
                                 RoundToNearestGuard guard;
                                 for (std::int64_t r = b; r < e; ++r) {
                                     op.run_const(r * L.inner, L.inner, r % L.dim);
                                 }
                             });
            }
            return;
        case Granularity::kBlock:
            if (L.inner == 1) {
                parallel_for(L.outer * L.num_blocks, rows_grain(L.block),
                             [&](std::int64_t b, std::int64_t e) {
                                 RoundToNearestGuard guard;
                                 for (std::int64_t r = b; r < e; ++r) {
                                     const std::int64_t o = r / L.num_blocks;
                                     const std::int64_t start = (r % L.num_blocks) * L.block;
                                     const std::int64_t len = std::min(L.block, L.dim - start);
                                     op.run_const(o * L.dim + start, len, r);
                                 }
                             });
            } else {
                parallel_for(
                    L.outer * L.dim, rows_grain(L.inner), [&](std::int64_t b, std::int64_t e) {
                        RoundToNearestGuard guard;
                        for (std::int64_t r = b; r < e; ++r) {
                            const std::int64_t o = r / L.dim;
                            const std::int64_t d = r % L.dim;
                            const std::int64_t g0 = (o * L.num_blocks + d / L.block) * L.inner;
                            op.run_vec(r * L.inner, L.inner, g0);
                        }
                    });
            }
            return;
    }
}

template <typename Out>
struct QuantizeOp {
    const float* x;
    Out* q;
    const float* scale;
    const std::int32_t* zero_point;
    int q_lo, q_hi;

    void run_const(std::int64_t at, std::int64_t n, std::int64_t g) const {
        const float s = scale[g];
        const std::int32_t z = zero_point[g];
        const auto lo = static_cast<float>(q_lo - z);
        const auto hi = static_cast<float>(q_hi - z);
        const float* xs = x + at;
        Out* qs = q + at;
        for (std::int64_t i = 0; i < n; ++i) {
            qs[i] =
                static_cast<Out>(static_cast<std::int32_t>(round_clamped(xs[i], s, lo, hi)) + z);
        }
    }

    void run_vec(std::int64_t at, std::int64_t n, std::int64_t g0) const {
        const float* xs = x + at;
        const float* ss = scale + g0;
        const std::int32_t* zs = zero_point + g0;
        Out* qs = q + at;
        for (std::int64_t i = 0; i < n; ++i) {
            const auto lo = static_cast<float>(q_lo - zs[i]);
            const auto hi = static_cast<float>(q_hi - zs[i]);
            qs[i] = static_cast<Out>(
                static_cast<std::int32_t>(round_clamped(xs[i], ss[i], lo, hi)) + zs[i]);
        }
    }
};

template <typename In>
struct DequantizeOp {
    const In* q;
    float* y;
    const float* scale;
    const std::int32_t* zero_point;

    void run_const(std::int64_t at, std::int64_t n, std::int64_t g) const {
        const float s = scale[g];
        const std::int32_t z = zero_point[g];
        for (std::int64_t i = at; i < at + n; ++i) {
            y[i] = static_cast<float>(static_cast<std::int32_t>(q[i]) - z) * s;
        }
    }

    void run_vec(std::int64_t at, std::int64_t n, std::int64_t g0) const {
        for (std::int64_t i = 0; i < n; ++i) {
            y[at + i] =
                static_cast<float>(static_cast<std::int32_t>(q[at + i]) - zero_point[g0 + i]) *
                scale[g0 + i];
        }
    }
};

struct FakeQuantizeOp {
    const float* x;
    float* y;
    const float* scale;
    const std::int32_t* zero_point;
    int q_lo, q_hi;

    void run_const(std::int64_t at, std::int64_t n, std::int64_t g) const {
        const float s = scale[g];
        const std::int32_t z = zero_point[g];
        const auto lo = static_cast<float>(q_lo - z);
        const auto hi = static_cast<float>(q_hi - z);
        for (std::int64_t i = at; i < at + n; ++i)
            y[i] = round_clamped(x[i], s, lo, hi) * s;
    }

    void run_vec(std::int64_t at, std::int64_t n, std::int64_t g0) const {
        for (std::int64_t i = 0; i < n; ++i) {
            const float s = scale[g0 + i];
            const std::int32_t z = zero_point[g0 + i];
            const auto lo = static_cast<float>(q_lo - z);
            const auto hi = static_cast<float>(q_hi - z);
            y[at + i] = round_clamped(x[at + i], s, lo, hi) * s;
        }
    }
};

template <typename Out>
void quantize_into(const float* x, const Dims& dims, const QuantParams& p, Out* q) {
    detail::check_params(p, dims);
    const int lo = q_min(p.scheme);
    const int hi = q_max(p.scheme);
    if (lo < std::numeric_limits<Out>::min() || hi > std::numeric_limits<Out>::max()) {
        throw InternalError(
            fmt::format("quantize: codes of {} do not fit the output type", scheme_str(p.scheme)));
    }
    const auto L = detail::make_layout(p.scheme, dims);
    for_each_run(L, QuantizeOp<Out>{x, q, p.scale.data(), p.zero_point.data(), lo, hi});
}

template <typename In>
void dequantize_from(const In* q, const Dims& dims, const QuantParams& p, float* y) {
    detail::check_params(p, dims);
    const auto L = detail::make_layout(p.scheme, dims);
    for_each_run(L, DequantizeOp<In>{q, y, p.scale.data(), p.zero_point.data()});
}

void check_float(const Tensor& x, const char* what) {
    if (x.dtype() != DType::kF32) {
        throw InternalError(
            fmt::format("{}: expected a float tensor, got {}", what, dtype_name(x.dtype())));
    }
}

}  // namespace

void quantize(const float* x, const Dims& dims, const QuantParams& p, std::int32_t* q) {
    quantize_into(x, dims, p, q);
}

void quantize(const float* x, const Dims& dims, const QuantParams& p, std::int8_t* q) {
    quantize_into(x, dims, p, q);
}

void quantize(const float* x, const Dims& dims, const QuantParams& p, std::uint8_t* q) {
    quantize_into(x, dims, p, q);
}

std::vector<std::int32_t> quantize(const std::vector<float>& x, const Dims& dims,
                                   const QuantParams& p) {
    if (static_cast<std::int64_t>(x.size()) != dims_numel(dims)) {
        throw InternalError(
            fmt::format("quantize: {} values for dims {}", x.size(), dims_str(dims)));
    }
    std::vector<std::int32_t> q(x.size());
    quantize_into(x.data(), dims, p, q.data());
    return q;
}

Tensor quantize(const Tensor& x, const QuantParams& p) {
    return quantize(x, p, storage_dtype(p.scheme));
}

Tensor quantize(const Tensor& x, const QuantParams& p, DType out) {
    check_float(x, "quantize");
    const float* xs = x.data<float>();
    const int lo = q_min(p.scheme);
    const int hi = q_max(p.scheme);
    if (lo < dtype_min(out) || hi > dtype_max(out)) {
        throw InternalError(fmt::format("quantize: codes of {} in [{}, {}] do not fit {}",
                                        scheme_str(p.scheme), lo, hi, dtype_name(out)));
    }
    Tensor q(out, x.dims());
    switch (out) {
        case DType::kI8:
            quantize_into(xs, x.dims(), p, q.data<std::int8_t>());
            break;
        case DType::kU8:
            quantize_into(xs, x.dims(), p, q.data<std::uint8_t>());
            break;
        case DType::kI32:
            quantize_into(xs, x.dims(), p, q.data<std::int32_t>());
            break;
        case DType::kI4: {
            std::vector<std::int8_t> codes(static_cast<std::size_t>(x.numel()));
            quantize_into(xs, x.dims(), p, codes.data());
            pack_int4(codes.data(), x.numel(), static_cast<std::uint8_t*>(q.raw()));
            break;
        }
        case DType::kU4: {
            std::vector<std::uint8_t> codes(static_cast<std::size_t>(x.numel()));
            quantize_into(xs, x.dims(), p, codes.data());
            pack_uint4(codes.data(), x.numel(), static_cast<std::uint8_t*>(q.raw()));
            break;
        }
        default:
            break;  // dtype_min rejected it
    }
    return q;
}

void dequantize(const std::int32_t* q, const Dims& dims, const QuantParams& p, float* y) {
    dequantize_from(q, dims, p, y);
}

void dequantize(const std::int8_t* q, const Dims& dims, const QuantParams& p, float* y) {
    dequantize_from(q, dims, p, y);
}

void dequantize(const std::uint8_t* q, const Dims& dims, const QuantParams& p, float* y) {
    dequantize_from(q, dims, p, y);
}

std::vector<float> dequantize(const std::vector<std::int32_t>& q, const Dims& dims,
                              const QuantParams& p) {
    if (static_cast<std::int64_t>(q.size()) != dims_numel(dims)) {
        throw InternalError(
            fmt::format("dequantize: {} codes for dims {}", q.size(), dims_str(dims)));
    }
    std::vector<float> y(q.size());
    dequantize_from(q.data(), dims, p, y.data());
    return y;
}

Tensor dequantize(const Tensor& q, const QuantParams& p) {
    Tensor y(DType::kF32, q.dims());
    float* ys = y.data<float>();
    const auto* raw = static_cast<const std::uint8_t*>(q.raw());
    switch (q.dtype()) {
        case DType::kI8:
            dequantize_from(q.data<std::int8_t>(), q.dims(), p, ys);
            break;
        case DType::kU8:
            dequantize_from(q.data<std::uint8_t>(), q.dims(), p, ys);
            break;
        case DType::kI32:
            dequantize_from(q.data<std::int32_t>(), q.dims(), p, ys);
            break;
        case DType::kI4: {
            std::vector<std::int8_t> codes(static_cast<std::size_t>(q.numel()));
            unpack_int4(raw, q.numel(), codes.data());
            dequantize_from(codes.data(), q.dims(), p, ys);
            break;
        }
        case DType::kU4: {
            std::vector<std::uint8_t> codes(static_cast<std::size_t>(q.numel()));
            unpack_uint4(raw, q.numel(), codes.data());
            dequantize_from(codes.data(), q.dims(), p, ys);
            break;
        }
        default:
            throw InternalError(
                fmt::format("dequantize: expected int8, uint8, int4, uint4 or "
                            "int32 codes, got {}",
                            dtype_name(q.dtype())));
    }
    return y;
}

void fake_quantize(const float* x, const Dims& dims, const QuantParams& p, float* y) {
    detail::check_params(p, dims);
    const auto L = detail::make_layout(p.scheme, dims);
    for_each_run(L, FakeQuantizeOp{x, y, p.scale.data(), p.zero_point.data(), q_min(p.scheme),
                                   q_max(p.scheme)});
}

std::vector<float> fake_quantize(const std::vector<float>& x, const Dims& dims,
                                 const QuantParams& p) {
    if (static_cast<std::int64_t>(x.size()) != dims_numel(dims)) {
        throw InternalError(
            fmt::format("fake_quantize: {} values for dims {}", x.size(), dims_str(dims)));
    }
    std::vector<float> y(x.size());
    fake_quantize(x.data(), dims, p, y.data());
    return y;
}

Tensor fake_quantize(const Tensor& x, const QuantParams& p) {
    check_float(x, "fake_quantize");
    Tensor y(DType::kF32, x.dims());
    fake_quantize(x.data<float>(), x.dims(), p, y.data<float>());
    return y;
}

Tensor scale_tensor(const QuantParams& p) {
    return Tensor::from_vector(p.scale_dims, p.scale);
}

Tensor zero_point_tensor(const QuantParams& p) {
    return zero_point_tensor(p, storage_dtype(p.scheme));
}

Tensor zero_point_tensor(const QuantParams& p, DType storage) {
    const int lo = dtype_min(storage);
    const int hi = dtype_max(storage);
    for (auto z : p.zero_point) {
        if (z < lo || z > hi) {
            throw InternalError(fmt::format("zero_point_tensor: zero point {} does not fit {}", z,
                                            dtype_name(storage)));
        }
    }
    const auto n = static_cast<std::int64_t>(p.zero_point.size());
    Tensor t(storage, p.scale_dims);
    if (t.numel() != n) {
        throw InternalError(fmt::format("zero_point_tensor: {} zero points for scale dims {}", n,
                                        dims_str(p.scale_dims)));
    }
    auto* raw = static_cast<std::uint8_t*>(t.raw());
    switch (storage) {
        case DType::kI4: {
            const std::vector<std::int8_t> v(p.zero_point.begin(), p.zero_point.end());
            pack_int4(v.data(), n, raw);
            break;
        }
        case DType::kU4: {
            const std::vector<std::uint8_t> v(p.zero_point.begin(), p.zero_point.end());
            pack_uint4(v.data(), n, raw);
            break;
        }
        case DType::kI8:
            for (std::int64_t i = 0; i < n; ++i)
                t.data<std::int8_t>()[i] = static_cast<std::int8_t>(p.zero_point[i]);
            break;
        case DType::kU8:
            for (std::int64_t i = 0; i < n; ++i)
                t.data<std::uint8_t>()[i] = static_cast<std::uint8_t>(p.zero_point[i]);
            break;
        case DType::kI32:
            for (std::int64_t i = 0; i < n; ++i)
                t.data<std::int32_t>()[i] = p.zero_point[i];
            break;
        default:
            break;  // dtype_min rejected it
    }
    return t;
}

}  // namespace aquant::quant
