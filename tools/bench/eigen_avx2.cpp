#define AQUANT_EIGEN_FN eigen_gemm_avx2
#include "eigen_gemm.inc"
