#include "aquant/quant/projection.h"

#include "quant/layout.h"

#include "aquant/quant/quantize.h"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace aquant::quant {

namespace {

QuantScheme int2_scheme(std::optional<int> axis, bool narrow) {
    QuantScheme s;
    s.bits = 2;
    s.is_signed = true;
    s.symmetric = true;
    s.narrow_range = narrow;
    if (axis) {
        s.granularity = Granularity::kChannel;
        s.axis = *axis;
    }
    return s;
}

// Runs fn(values, codes) -> (alpha, kept) per group and scatters the codes back.
template <typename Fn>
Projection project(const float* w, const Dims& dims, std::optional<int> axis, bool narrow, Fn fn) {
    Projection out;
    out.scheme = int2_scheme(axis, narrow);
    const auto L = detail::make_layout(out.scheme, dims);
    const std::int64_t groups = L.num_groups();
    out.codes.assign(static_cast<std::size_t>(L.numel), 0);
    out.alpha.assign(static_cast<std::size_t>(groups), 1.0f);
    out.kept.assign(static_cast<std::size_t>(groups), 0);
    std::vector<float> values;
    std::vector<float> codes;
    std::vector<float> scattered(static_cast<std::size_t>(L.numel), 0.0f);
    for (std::int64_t g = 0; g < groups; ++g) {
        detail::gather_group(w, L, g, values);
        codes.assign(values.size(), 0.0f);
        const auto [alpha, kept] = fn(values, codes);
        if (kept > 0 && alpha > 0.0) {
            out.alpha[static_cast<std::size_t>(g)] = static_cast<float>(alpha);
            out.kept[static_cast<std::size_t>(g)] = kept;
        } else {
            std::fill(codes.begin(), codes.end(), 0.0f);  // all-zero group: exact with alpha 1
        }
        detail::scatter_group(codes.data(), L, g, scattered.data());
    }
    for (std::size_t i = 0; i < scattered.size(); ++i) {
        out.codes[i] = static_cast<std::int8_t>(scattered[i]);
    }
    return out;
}

struct GroupResult {
    double alpha;
    std::int64_t kept;
};

}  // namespace

QuantParams Projection::params(const Dims& dims) const {
    QuantParams p;
    p.scheme = scheme;
    p.scale_dims = scale_dims_for(scheme, dims);
    p.scale = alpha;
    p.zero_point.assign(alpha.size(), 0);
    return p;
}

std::vector<float> Projection::dequantize(const Dims& dims) const {
    std::vector<std::int32_t> q(codes.begin(), codes.end());
    return quant::dequantize(q, dims, params(dims));
}

Projection project_binary(const float* w, const Dims& dims, std::optional<int> axis) {
    return project(w, dims, axis, false, [](const std::vector<float>& v, std::vector<float>& c) {
        double sum = 0.0;
        for (std::size_t i = 0; i < v.size(); ++i) {
            sum += std::fabs(static_cast<double>(v[i]));
            c[i] = v[i] < 0.0f ? -1.0f : 1.0f;
        }
        const double alpha = v.empty() ? 0.0 : sum / static_cast<double>(v.size());
        return GroupResult{alpha, static_cast<std::int64_t>(v.size())};
    });
}

Projection project_ternary(const float* w, const Dims& dims, std::optional<int> axis) {
    return project(w, dims, axis, true, [](const std::vector<float>& v, std::vector<float>& c) {
        std::vector<std::size_t> order(v.size());
        std::iota(order.begin(), order.end(), std::size_t{0});
        std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
            const float fa = std::fabs(v[a]);
            const float fb = std::fabs(v[b]);
            return fa > fb || (fa == fb && a < b);
        });
        double prefix = 0.0;
        double best = 0.0;
        double best_sum = 0.0;
        std::size_t best_k = 0;
        for (std::size_t k = 1; k <= order.size(); ++k) {
            prefix += std::fabs(static_cast<double>(v[order[k - 1]]));
            const double gain = prefix * prefix / static_cast<double>(k);
            if (gain > best) {
                best = gain;
                best_sum = prefix;
                best_k = k;
            }
        }
        for (std::size_t k = 0; k < best_k; ++k)
            c[order[k]] = v[order[k]] < 0.0f ? -1.0f : 1.0f;
        const double alpha = best_k ? best_sum / static_cast<double>(best_k) : 0.0;
        return GroupResult{alpha, static_cast<std::int64_t>(best_k)};
    });
}

std::vector<float> DualQuant::dequantize(const Dims& dims) const {
    std::vector<float> y = quant::dequantize(first_codes, dims, first);
    const std::vector<float> y2 = quant::dequantize(second_codes, dims, second);
    for (std::size_t i = 0; i < y.size(); ++i)
        y[i] += y2[i];
    return y;
}

DualQuant quantize_dual(const float* w, const Dims& dims, const QuantScheme& scheme,
                        const RangeEstimator& first, const RangeEstimator& second,
                        const RangeOptions& opt) {
    DualQuant out;
    const auto n = static_cast<std::size_t>(dims_numel(dims));
    out.first = estimate_params(w, dims, scheme, first, opt);
    out.first_codes.resize(n);
    quantize(w, dims, out.first, out.first_codes.data());
    std::vector<float> residual(n);
    dequantize(out.first_codes.data(), dims, out.first, residual.data());
    for (std::size_t i = 0; i < n; ++i)
        residual[i] = w[i] - residual[i];
    out.second = estimate_params(residual.data(), dims, scheme, second, opt);
    out.second_codes.resize(n);
    quantize(residual.data(), dims, out.second, out.second_codes.data());
    return out;
}

DualQuant quantize_dual_mmse(const float* w, const Dims& dims, const QuantScheme& scheme,
                             const RangeOptions& opt) {
    const RangeEstimator& mmse = range_estimator("mmse");
    DualQuant best = quantize_dual(w, dims, scheme, range_estimator("minmax"), mmse, opt);
    const DualQuant other = quantize_dual(w, dims, scheme, mmse, mmse, opt);
    const std::vector<float> y_best = best.dequantize(dims);
    const std::vector<float> y_other = other.dequantize(dims);
    const auto L = detail::make_layout(scheme, dims);
    const auto n = static_cast<std::size_t>(L.numel);
    std::vector<float> err_best(n);
    std::vector<float> err_other(n);
    for (std::size_t i = 0; i < n; ++i) {
        err_best[i] = w[i] - y_best[i];
        err_other[i] = w[i] - y_other[i];
    }
    // Codes travel through float scatter/gather; |code| <= 255 is exact in float.
    std::vector<float> codes1(best.first_codes.begin(), best.first_codes.end());
    std::vector<float> codes2(best.second_codes.begin(), best.second_codes.end());
    const std::vector<float> other1(other.first_codes.begin(), other.first_codes.end());
    const std::vector<float> other2(other.second_codes.begin(), other.second_codes.end());
    std::vector<float> a;
    std::vector<float> b;
    for (std::int64_t g = 0; g < L.num_groups(); ++g) {
        detail::gather_group(err_best.data(), L, g, a);
        detail::gather_group(err_other.data(), L, g, b);
        double ea = 0.0;
        double eb = 0.0;
        for (float v : a)
            ea += double(v) * v;
        for (float v : b)
            eb += double(v) * v;
        if (!(eb < ea))
            continue;
        const auto gi = static_cast<std::size_t>(g);
        best.first.scale[gi] = other.first.scale[gi];
        best.first.zero_point[gi] = other.first.zero_point[gi];
        best.second.scale[gi] = other.second.scale[gi];
        best.second.zero_point[gi] = other.second.zero_point[gi];
        detail::gather_group(other1.data(), L, g, a);
        detail::scatter_group(a.data(), L, g, codes1.data());
        detail::gather_group(other2.data(), L, g, a);
        detail::scatter_group(a.data(), L, g, codes2.data());
    }
    for (std::size_t i = 0; i < n; ++i) {
        best.first_codes[i] = static_cast<std::int32_t>(codes1[i]);
        best.second_codes[i] = static_cast<std::int32_t>(codes2[i]);
    }
    return best;
}

}  // namespace aquant::quant
