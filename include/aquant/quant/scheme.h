// Quantization schemes and parameters, with ONNX QuantizeLinear/DequantizeLinear (opset 21)
// conventions for the parameter shapes:
//   per tensor  scale is a scalar (scale_dims = {})
//   per channel scale is 1-D [C] with C = x.dims[axis]
//   per block   scale has the rank of x, with dims[axis] = ceil(D / block_size), D = x.dims[axis];
//               block k along `axis` covers indices [k * block_size, min(D, (k + 1) * block_size)).
// Parameters are stored row-major in `scale` / `zero_point` over `scale_dims`.
#pragma once

#include "aquant/core/dtype.h"
#include "aquant/core/tensor.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace aquant::quant {

enum class Granularity { kTensor, kChannel, kBlock };

const char* granularity_name(Granularity g);  // "tensor", "channel", "block"

struct QuantScheme {
    int bits = 8;           // 1..8: the grid has 2^bits levels (fewer with narrow_range)
    bool is_signed = true;  // codes in [-2^(b-1), 2^(b-1) - 1], else [0, 2^b - 1]
    bool symmetric = true;  // zero_point fixed at 0 (for unsigned: the range is [0, max])
    Granularity granularity = Granularity::kTensor;
    int axis = 0;               // kChannel / kBlock; negative counts from the back, as in ONNX
    int block_size = 0;         // kBlock only, >= 1
    bool narrow_range = false;  // signed only: q_min = -(2^(b-1) - 1), so the grid is symmetric

    bool operator==(const QuantScheme& o) const;

    bool operator!=(const QuantScheme& o) const { return !(*this == o); }
};

/// "int4 sym per-channel(axis=0)", "uint8 asym per-tensor", "int3 sym narrow per-block(axis=1,32)".
std::string scheme_str(const QuantScheme& s);

/// Throws ConfigError naming the field when the scheme is not usable (bits outside 1..8,
/// narrow_range without is_signed or with bits < 2, block_size < 1 for kBlock).
void validate_scheme(const QuantScheme& s);

/// Smallest and largest code of the scheme (see QuantScheme fields).
int q_min(const QuantScheme& s);
int q_max(const QuantScheme& s);

/// Storage element type: bits <= 4 -> kI4 / kU4, else kI8 / kU8. 2- and 3-bit codes are INT4
/// tensors whose values are restricted to the scheme's 2^bits levels; an ONNX QuantizeLinear
/// node of that type would saturate only to the storage range, so sub-storage widths are meant
/// for weights (stored codes) and for simulation.
DType storage_dtype(const QuantScheme& s);

/// Smallest and largest value a storage type holds (kI8, kU8, kI4, kU4, kI32).
int dtype_min(DType t);
int dtype_max(DType t);

/// Axis in [0, rank) for an ONNX axis in [-rank, rank); throws ConfigError otherwise.
int normalize_axis(int axis, std::size_t rank);

/// Shape of scale / zero_point for x of shape `x_dims` (see the file comment). Throws ConfigError
/// for an axis outside the rank or a per-channel/per-block scheme on a scalar.
Dims scale_dims_for(const QuantScheme& s, const Dims& x_dims);

struct QuantParams {
    std::vector<float> scale;              // > 0 and finite; one per group, row-major
    std::vector<std::int32_t> zero_point;  // same length as scale, each in [q_min, q_max]
    QuantScheme scheme;
    Dims scale_dims;  // see scale_dims_for

    std::size_t num_groups() const { return scale.size(); }
};

/// Empty when `p` fits a tensor of shape `x_dims`; otherwise what is wrong, in the form
/// "scale dims [3], expected [4] for x [2,4] per-channel(axis=1)". Engine factories use this
/// to throw with the node's name; quantize() throws InternalError with the same text.
std::optional<std::string> params_mismatch(const QuantParams& p, const Dims& x_dims);

/// QuantParams from ONNX QuantizeLinear/DequantizeLinear inputs: granularity from the scale shape
/// (scalar or one-element 1-D: per tensor; block_size > 0: per block; else 1-D: per axis), bits
/// from `storage` (kI8/kU8: 8, kI4/kU4: 4), symmetric when every zero point is 0, narrow_range
/// false. An empty `zero_point` means zeros. Throws ModelError with the mismatch text (no node
/// name: callers add it).
QuantParams params_from_onnx(std::vector<float> scale, const Dims& scale_dims,
                             std::vector<std::int32_t> zero_point, const Dims& x_dims, int axis,
                             int block_size, DType storage);

}  // namespace aquant::quant
