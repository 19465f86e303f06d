#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace aquant::bench {

void eigen_gemm_baseline(std::int64_t m, std::int64_t n, std::int64_t k, const float* a,
                         const float* b, float* c);
void eigen_gemm_avx2(std::int64_t m, std::int64_t n, std::int64_t k, const float* a,
                     const float* b, float* c);

struct GemmBenchOptions {
    std::vector<std::string> models;
    std::vector<std::int64_t> batches{1, 64};
    int runs = 30;
};

/// Per shape: median ms of the engine's gemm (A packed on the fly / prepacked as Conv and Gemm
/// weights are), Eigen baseline and Eigen AVX2+FMA; the max abs difference between them.
nlohmann::json gemm_bench(const GemmBenchOptions& options);
std::string format_gemm_bench(const nlohmann::json& result);

}  // namespace aquant::bench
