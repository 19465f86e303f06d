#include "aquant/io/version_convert.h"

#include <onnx/onnx_pb.h>
#include <onnx/version_converter/convert.h>

#include "aquant/io/onnx_reader.h"
#include "aquant/io/onnx_writer.h"

namespace aquant::io {

namespace {
constexpr std::int64_t kConverterMaxOpset = 17;  // ONNX 1.12
}

void convert_opset(ir::Model& model, std::int64_t target) {
    const std::int64_t from = model.opset();
    if (from == target) return;
    const std::string path = model.graph->source_path;
    const std::string file = path.empty() ? "model" : path;
    if (target > kConverterMaxOpset || target < 1) {
        throw ConfigError(file + ": opset conversion to " + std::to_string(target) +
                          ", expected 1.." + std::to_string(kConverterMaxOpset) +
                          " (ONNX 1.12's converter)");
    }
    onnx::ModelProto in;
    if (!in.ParseFromString(serialize_model(model))) {
        throw InternalError(file + ": serialized model does not parse");
    }
    onnx::ModelProto out;
    try {
        out = onnx::version_conversion::ConvertVersion(in, static_cast<int>(target));
    } catch (const std::exception& e) {
        throw ModelError(file + ": converting opset " + std::to_string(from) + " to " +
                         std::to_string(target) + " failed: " + e.what());
    }
    std::string bytes;
    if (!out.SerializeToString(&bytes)) {
        throw InternalError(file + ": converted model does not serialize");
    }
    auto converted = read_model_from_bytes(bytes, path);
    model = std::move(*converted);
    model.graph->source_path = path;
}

}  // namespace aquant::io
