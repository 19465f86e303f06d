// The sidecar of a bundled model, `models/<name>.aquant.json`, written by
// tools/gen_models/train_fashion.py:
//   { "model": "lenet5_fmnist.onnx", "task": "classification", "input": "input",
//     "output": "logits",
//     "data": { "format": "idx",
//               "calib": {"images": ".../train-images-idx3-ubyte.gz", "labels": "..."},
//               "eval":  {"images": ".../t10k-images-idx3-ubyte.gz",  "labels": "..."} },
//     "preprocess": {"scale": 0.00392156862745098, "mean": [0.2860], "std": [0.3530],
//                    "layout": "NCHW"},
//     "fp32_top1": 0.9012 }
// A data entry is {"images": ..., "labels": ...} (IDX), {"path": ..., "labels": ...} (other
// formats), or a plain path string. Relative paths are relative to the sidecar's folder.
// "format" is optional (auto-detected); "preprocess" and "fp32_top1" are optional.
#pragma once

#include "aquant/data/dataset.h"
#include "aquant/data/preprocess.h"

#include <optional>
#include <string>

namespace aquant::data {

struct Sidecar {
    std::string path;    // the .aquant.json file
    std::string model;   // model path, resolved against the sidecar's folder
    std::string task;    // "classification"
    std::string input;   // model input name
    std::string output;  // model output name
    Preprocess preprocess;
    /// Ready for open_dataset once the caller sets `inputs` from the model; until then
    /// `inputs` holds just {input} with unknown type and shape.
    std::optional<DataSpec> calib;
    std::optional<DataSpec> eval;
    std::optional<double> fp32_top1;
};

/// IoError when the file cannot be read; DataError naming the file and the key for invalid
/// JSON, a wrong type or an unknown format/layout name.
Sidecar read_sidecar(const std::string& path);

/// `<model without .onnx>.aquant.json` next to the model, read when it exists.
std::optional<Sidecar> find_sidecar(const std::string& model_path);

}  // namespace aquant::data
