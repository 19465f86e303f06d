// From stored arrays to model inputs. One InputAdapter per model input is planned once, when a
// data set is opened (so a mismatch fails before any batch is read), and applied per batch.
//
// Preprocessing (--scale, --mean, --std, --layout):
//   x = (raw * scale - mean[c]) / std[c]
// computed in float32 in exactly this order (multiply, subtract, divide; scale, mean and std are
// rounded to float32 first), which is what numpy/torch float32 code does. mean and std hold 1
// value or one per channel; c is the channel index of the model layout: axis 1 for NCHW, the
// last axis for NHWC. Missing parts default to scale 1, mean 0, std 1.
//
// Element type rule:
//   - preprocessing given (any of scale/mean/std) -> float32; the model input must be float32
//     (or of unknown type);
//   - otherwise data of the model input's type is passed unchanged;
//   - otherwise integer, bool or float data feeding a float/double/float16 model input is
//     converted to that type, values unchanged (uint8 pixels 0..255 stay 0..255);
//   - anything else (e.g. float data for an int64 input, int32 data for an int64 input) is a
//     DataError naming the input with the expected and the given type.
//
// Shape rule: axis 0 is the batch axis and is never checked (a model with a fixed batch of 1 is
// fed row by row by its caller). The per-sample dims of the data (dims[1:]) must fit the model
// input's dims[1:] (-1 matches any size). Tried in order:
//   1. as stored;
//   2. rank-3 samples stored in the other layout (HWC for an NCHW input, CHW for NHWC) are
//      transposed;
//   3. a missing unit channel axis is inserted: IDX images [N,28,28] become [N,1,28,28] for
//      NCHW or [N,28,28,1] for NHWC (both are tried, the given layout first, when --layout
//      is not given);
//   4. samples are flattened for a rank-2 model input ([N,28,28] -> [N,784]).
// When the model input's shape is unknown, samples are used as stored, except that rank-2
// samples get a channel axis when a layout is given (rule 3).
#pragma once

#include "aquant/core/tensor.h"
#include "aquant/ir/graph.h"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace aquant::data {

enum class Layout { kNCHW, kNHWC };

std::optional<Layout> layout_from_name(std::string_view name);  // "NCHW", "nhwc", ...
std::string_view layout_name(Layout layout);

struct Preprocess {
    std::optional<double> scale;
    std::vector<double> mean;  // empty, 1 value, or one per channel
    std::vector<double> std;   // empty, 1 value, or one per channel
    std::optional<Layout> layout;

    /// Any arithmetic requested (a layout alone only decides shapes).
    bool active() const { return scale.has_value() || !mean.empty() || !std.empty(); }

    /// "scale 0.00392157, mean [0.286], std [0.353], NCHW" or "none".
    std::string str() const;
};

/// What the model expects for one input.
struct InputSpec {
    std::string name;
    DType elem_type = DType::kUndefined;  // kUndefined: any
    std::optional<Dims> dims;             // nullopt: rank unknown; -1: unknown/symbolic dim

    std::string str() const;  // "float[N,1,28,28]" style: "float[?,1,28,28]"
};

/// Specs of the inputs a user must feed (graph inputs that are not initializers), in order.
std::vector<InputSpec> model_input_specs(const ir::Graph& graph);

class InputAdapter {
public:
    InputAdapter() = default;
    /// Plans how an array of `data_dtype` with dims `data_dims` ([rows, sample dims...]) feeds
    /// `input`. `where` names the data (file, or file and array) in messages. Throws DataError:
    ///   "<where>: input 'x': expected float[?,3,32,32], got uint8[10000,28,28]"
    InputAdapter(const InputSpec& input, DType data_dtype, const Dims& data_dims,
                 const Preprocess& preprocess, const std::string& where);

    /// raw: [B, data_sample_dims...] of data_dtype. Returns [B, out_sample_dims()...].
    Tensor apply(const Tensor& raw) const;

    DType out_dtype() const { return out_dtype_; }

    const Dims& out_sample_dims() const { return out_sample_dims_; }

    /// "uint8[28,28] -> float[1,28,28], scale 0.00392157, mean [0.286], std [0.353], NCHW"
    std::string describe() const;

private:
    std::string input_name_;
    DType data_dtype_ = DType::kUndefined;
    Dims data_sample_dims_;
    bool transpose_ = false;  // rank-3 samples: HWC -> CHW or CHW -> HWC
    Layout transpose_to_ = Layout::kNCHW;
    DType out_dtype_ = DType::kUndefined;
    Dims out_sample_dims_;
    bool arithmetic_ = false;
    float scale_ = 1.0f;
    std::vector<float> mean_;  // one per channel after planning (or 1)
    std::vector<float> std_;
    int channel_axis_ = -1;  // axis of out sample dims indexed by mean/std (-1: none)
    std::string preprocess_str_;
};

}  // namespace aquant::data
