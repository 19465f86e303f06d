#define AQUANT_EIGEN_FN eigen_gemm_baseline
#include "eigen_gemm.inc"
