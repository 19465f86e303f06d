#pragma once

#include <string>

#include "aquant/core/tensor.h"

namespace aquant::io {

/// A serialized onnx.TensorProto file (ONNX test_data_set_N/input_K.pb). `name` receives the
/// tensor's name when not null.
Tensor read_tensor_pb(const std::string& path, std::string* name = nullptr);
void write_tensor_pb(const Tensor& t, const std::string& name, const std::string& path);

}  // namespace aquant::io
