// Scalar reference Gemm and MatMul (triple loops, accumulation in Acc). Oracles for
// tests/engine/gemm_test.cpp and matmul_test.cpp.
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

#include "ref_util.h"

namespace aquant::engine::ref {

/// ONNX Gemm: y[i][j] = alpha * sum_k A'[i][k] B'[k][j] + beta * C[bi][bj], with A' = A or A^T
/// (A stored [M,K] or [K,M]), likewise B; C of shape [], [N], [1,N], [M,1], [M,N] or absent.
template <typename T, typename Acc = double>
std::vector<T> gemm_ref(const std::vector<T>& a, const std::vector<T>& b, const std::vector<T>* c,
                        const Shape& cs, std::int64_t m, std::int64_t n, std::int64_t k,
                        bool trans_a, bool trans_b, T alpha, T beta) {
    std::vector<T> y(static_cast<std::size_t>(m * n));
    const std::int64_t cm = cs.size() == 2 ? cs[0] : 1;
    const std::int64_t cn = cs.empty() ? 1 : cs.back();
    for (std::int64_t i = 0; i < m; ++i) {
        for (std::int64_t j = 0; j < n; ++j) {
            Acc acc = 0;
            for (std::int64_t p = 0; p < k; ++p) {
                const T av = trans_a ? a[static_cast<std::size_t>(p * m + i)]
                                     : a[static_cast<std::size_t>(i * k + p)];
                const T bv = trans_b ? b[static_cast<std::size_t>(j * k + p)]
                                     : b[static_cast<std::size_t>(p * n + j)];
                acc += static_cast<Acc>(av) * static_cast<Acc>(bv);
            }
            Acc out = static_cast<Acc>(alpha) * acc;
            if (c) {
                const std::int64_t ci = (cm == 1 ? 0 : i) * cn + (cn == 1 ? 0 : j);
                out += static_cast<Acc>(beta) * static_cast<Acc>((*c)[static_cast<std::size_t>(ci)]);
            }
            y[static_cast<std::size_t>(i * n + j)] = static_cast<T>(out);
        }
    }
    return y;
}

/// numpy matmul with 1-D promotion and batch broadcasting. Sets y_shape.
template <typename T, typename Acc = double>
std::vector<T> matmul_ref(const std::vector<T>& a, Shape as, const std::vector<T>& b, Shape bs,
                          Shape* y_shape) {
    const bool a_vec = as.size() == 1, b_vec = bs.size() == 1;
    if (a_vec) as.insert(as.begin(), 1);
    if (b_vec) bs.push_back(1);
    const std::int64_t m = as[as.size() - 2], k = as.back(), n = bs.back();
    const std::size_t r = std::max(as.size(), bs.size()) - 2;
    Shape batch(r), ba(r, 1), bb(r, 1);
    for (std::size_t i = 0; i < r; ++i) {
        if (i + as.size() - 2 >= r) ba[i] = as[i + as.size() - 2 - r];
        if (i + bs.size() - 2 >= r) bb[i] = bs[i + bs.size() - 2 - r];
        batch[i] = std::max(ba[i], bb[i]);
    }
    Shape ys = batch;
    if (!a_vec) ys.push_back(m);
    if (!b_vec) ys.push_back(n);
    *y_shape = ys;
    std::vector<T> y(static_cast<std::size_t>(numel(batch) * m * n));
    std::vector<std::int64_t> bi(r, 0), ia(r), ib(r);
    for (std::int64_t flat = 0; flat < numel(batch); ++flat) {
        bi = unravel(batch, flat);
        for (std::size_t i = 0; i < r; ++i) {
            ia[i] = ba[i] == 1 ? 0 : bi[i];
            ib[i] = bb[i] == 1 ? 0 : bi[i];
        }
        const std::int64_t oa = offset(ba, ia) * m * k, ob = offset(bb, ib) * k * n;
        for (std::int64_t i = 0; i < m; ++i) {
            for (std::int64_t j = 0; j < n; ++j) {
                Acc acc = 0;
                for (std::int64_t p = 0; p < k; ++p) {
                    acc += static_cast<Acc>(a[static_cast<std::size_t>(oa + i * k + p)]) *
                           static_cast<Acc>(b[static_cast<std::size_t>(ob + p * n + j)]);
                }
                y[static_cast<std::size_t>((flat * m + i) * n + j)] = static_cast<T>(acc);
            }
        }
    }
    return y;
}

}  // namespace aquant::engine::ref
