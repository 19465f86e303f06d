// Uniform affine quantization with ONNX QuantizeLinear / DequantizeLinear semantics, bit-exact
// with ONNX Runtime's CPU kernels:
//   QuantizeLinear-21:   q = saturate(round_half_even(x / scale) + zero_point)
//   DequantizeLinear-21: y = float(q - zero_point) * scale
// - x / scale is one float32 division (never x * (1 / scale), which differs in the last bit);
//   the quotient is rounded half to even, as std::nearbyint under FE_TONEAREST. Every function
//   here sets FE_TONEAREST for its own duration (per thread) and restores the caller's mode.
// - saturate clamps to the scheme's [q_min, q_max] (scheme.h), which for 2- and 3-bit schemes
//   is narrower than the storage type; ±inf saturate; NaN gives q_min (as ONNX Runtime's x86
//   kernel does). Checked bit for bit against ONNX Runtime 1.30 (tests/quant/data/ort_qdq.txt:
//   int8/uint8/int4/uint4, per tensor, axis and block). One known difference: for
//   |x / scale| >= 2^31 some ORT kernels (uint4 per axis, uint8 per block) return code 0; ONNX
//   says saturate, and so does aquant.
// - Layout: x, q and y are dense row-major arrays of shape `dims`; the parameters are laid out
//   as scheme.h describes (per tensor, per channel along axis, per block along axis, the last
//   block possibly partial).
// - The `_ref` functions are plain scalar loops, the oracle for the default (vectorised,
//   parallel) functions, which give identical results for any thread count.
// Parameter problems (see params_mismatch) throw InternalError; check them where the
// parameters come from.
#pragma once

#include "aquant/core/tensor.h"
#include "aquant/quant/scheme.h"

#include <cfenv>
#include <cmath>
#include <cstdint>
#include <vector>

namespace aquant::quant {

/// Sets FE_TONEAREST for the current thread while alive; restores the previous mode.
class RoundToNearestGuard {
public:
    RoundToNearestGuard() : saved_(std::fegetround()) {
        if (saved_ != FE_TONEAREST)
            std::fesetround(FE_TONEAREST);
    }

    ~RoundToNearestGuard() {
        if (saved_ != FE_TONEAREST)
            std::fesetround(saved_);
    }

    RoundToNearestGuard(const RoundToNearestGuard&) = delete;
    RoundToNearestGuard& operator=(const RoundToNearestGuard&) = delete;

private:
    int saved_;
};

/// One element of QuantizeLinear, for kernels that quantize as they go. The caller holds a
/// RoundToNearestGuard (or knows the mode is FE_TONEAREST).
inline std::int32_t quantize_value(float x, float scale, std::int32_t zero_point, int q_lo,
                                   int q_hi) {
    float v = std::nearbyint(x / scale) + static_cast<float>(zero_point);
    if (!(v >= static_cast<float>(q_lo)))
        v = static_cast<float>(q_lo);  // NaN lands here
    if (v > static_cast<float>(q_hi))
        v = static_cast<float>(q_hi);
    return static_cast<std::int32_t>(v);
}

inline float dequantize_value(std::int32_t q, float scale, std::int32_t zero_point) {
    return static_cast<float>(q - zero_point) * scale;
}

/// Codes of x. The int8 / uint8 overloads need [q_min, q_max] to fit the type (InternalError
/// otherwise); 4-bit codes are written one per byte, unpacked.
void quantize(const float* x, const Dims& dims, const QuantParams& p, std::int32_t* q);
void quantize(const float* x, const Dims& dims, const QuantParams& p, std::int8_t* q);
void quantize(const float* x, const Dims& dims, const QuantParams& p, std::uint8_t* q);
void quantize_ref(const float* x, const Dims& dims, const QuantParams& p, std::int32_t* q);
std::vector<std::int32_t> quantize(const std::vector<float>& x, const Dims& dims,
                                   const QuantParams& p);

/// Float tensor -> codes stored as `out` (kI8, kU8, kI4 / kU4 packed, or kI32), same dims.
/// The default is storage_dtype(p.scheme). InternalError if [q_min, q_max] does not fit `out`.
Tensor quantize(const Tensor& x, const QuantParams& p);
Tensor quantize(const Tensor& x, const QuantParams& p, DType out);

/// Codes -> float. Codes are not checked against [q_min, q_max].
void dequantize(const std::int32_t* q, const Dims& dims, const QuantParams& p, float* y);
void dequantize(const std::int8_t* q, const Dims& dims, const QuantParams& p, float* y);
void dequantize(const std::uint8_t* q, const Dims& dims, const QuantParams& p, float* y);
void dequantize_ref(const std::int32_t* q, const Dims& dims, const QuantParams& p, float* y);
std::vector<float> dequantize(const std::vector<std::int32_t>& q, const Dims& dims,
                              const QuantParams& p);
/// Any of kI8, kU8, kI4, kU4, kI32 -> kF32.
Tensor dequantize(const Tensor& q, const QuantParams& p);

/// dequantize(quantize(x)) without materialising the codes; y may alias x.
void fake_quantize(const float* x, const Dims& dims, const QuantParams& p, float* y);
void fake_quantize_ref(const float* x, const Dims& dims, const QuantParams& p, float* y);
std::vector<float> fake_quantize(const std::vector<float>& x, const Dims& dims,
                                 const QuantParams& p);
Tensor fake_quantize(const Tensor& x, const QuantParams& p);

/// The parameters as ONNX QuantizeLinear / DequantizeLinear inputs: scale as kF32 and
/// zero_point in the storage type (default storage_dtype(p.scheme); kI4 / kU4 packed), both of
/// shape p.scale_dims. InternalError if a zero point does not fit `storage`.
Tensor scale_tensor(const QuantParams& p);
Tensor zero_point_tensor(const QuantParams& p);
Tensor zero_point_tensor(const QuantParams& p, DType storage);

}  // namespace aquant::quant
