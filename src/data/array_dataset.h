// The one Dataset implementation behind every format: named row readers for the model inputs,
// an optional labels reader, optional reference outputs; each input goes through its
// InputAdapter.
#pragma once

#include "aquant/data/array_reader.h"
#include "aquant/data/dataset.h"

#include <optional>
#include <string>
#include <vector>

namespace aquant::data::detail {

struct NamedArray {
    std::string name;  // model input name (or output name for reference outputs)
    ArrayRowReader reader;
};

struct ArraySetup {
    std::string what;  // "<path> (idx)"
    std::vector<NamedArray> inputs;
    std::optional<ArrayRowReader> labels;
    std::vector<NamedArray> outputs;
};

/// Plans the adapters against spec.inputs and checks row counts and labels (DataError).
DatasetPtr make_array_dataset(ArraySetup setup, const DataSpec& spec);

/// The spec of model input `name`, or an unconstrained spec when the DataSpec names no model.
InputSpec input_spec_for(const DataSpec& spec, const std::string& name);

/// "'a', 'b'"
std::string quoted_list(const std::vector<std::string>& names);

/// A labels file: .npy or IDX (raw or gzip), detected from the content.
ArrayRowReader open_labels_rows(const std::string& path);

DatasetPtr open_npy_dataset(const DataSpec& spec);
DatasetPtr open_npz_dataset(const DataSpec& spec);
DatasetPtr open_idx_dataset(const DataSpec& spec);
DatasetPtr open_npy_folder_dataset(const DataSpec& spec);
DatasetPtr open_onnx_test_dataset(const DataSpec& spec);

}  // namespace aquant::data::detail
