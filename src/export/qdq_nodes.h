// Building blocks of QDQ export: DequantizeLinear chains for constants and Q -> DQ pairs for
// activations, queued on a GraphPatch. Private to src/export/.
#pragma once

#include <cstdint>
#include <string>

#include "aquant/ir/patch.h"
#include "aquant/quant/scheme.h"

namespace aquant::qdq::detail {

/// Adds initializers `<base>_quantized`, `<base>_scale`, `<base>_zero_point` and a
/// DequantizeLinear node (axis / block_size from the params' scheme); returns its output, and the
/// scale initializer in *scale when given.
ir::ValueId add_dequantized_constant(ir::GraphPatch& patch, const std::string& base,
                                     const Tensor& codes, const quant::QuantParams& params,
                                     ir::ValueId* scale = nullptr);

/// After the DequantizeLinear `dq_out` of INT4 codes (per tensor or per channel, zero point 0,
/// scale initializer `scale`): QuantizeLinear to int8 with the same scale, axis and zero point
/// values, then DequantizeLinear back; returns the second DequantizeLinear's output. Exact
/// (every INT4 code is an int8 code); ONNX Runtime folds the chain into int8 weights for its
/// integer kernels.
ir::ValueId add_int8_requantization(ir::GraphPatch& patch, const std::string& base,
                                    ir::ValueId dq_out, ir::ValueId scale,
                                    const quant::QuantParams& params);

/// The same for an int32 bias: scale of one value (per tensor) or one per element (axis 0).
ir::ValueId add_dequantized_bias(ir::GraphPatch& patch, const std::string& base,
                                 const Tensor& codes, const std::vector<float>& scale);

/// Inserts QuantizeLinear -> DequantizeLinear on activation `v`: every reader of `v` then reads
/// the DequantizeLinear output. A graph output keeps its name: its producer is rewired to a new
/// value that the QuantizeLinear reads, and the DequantizeLinear writes `v`.
void insert_activation_pair(ir::Graph& g, ir::GraphPatch& patch, ir::ValueId v,
                            const quant::QuantParams& params);

}  // namespace aquant::qdq::detail
