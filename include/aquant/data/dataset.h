// Calibration / evaluation data sets that stream batches.
//
//   DataSpec spec;
//   spec.path = "/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz";
//   spec.inputs = model_input_specs(*model->graph);
//   spec.preprocess = {1.0 / 255, {0.2860}, {0.3530}, Layout::kNCHW};
//   DatasetPtr ds = open_dataset(spec);  // checks everything against the model here
//   for_each_batch(*ds, 64, [&](const Batch& b) { ... b.inputs.at("input") ... });
//
// Formats (DataFormat::kAuto picks one from the content, never from the name alone):
//   .npy        one array for the model's only input; labels from DataSpec::labels_path
//   .npz        one array per model input, named like the input; `labels` holds the labels
//   folder      `<input>.npy` per model input, optional `labels.npy`
//   ONNX test data: a `test_data_set_N` folder with `input_K.pb` (and `output_K.pb`), or a
//               folder of such folders (a model zoo directory); input_K feeds the model input
//               named in the TensorProto, else the K-th model input. Samples of all folders are
//               concatenated along axis 0; these files are read whole when opened.
//   IDX         images file (raw or .gz) plus a labels file: DataSpec::labels_path, else the
//               images path with "images-idx3" replaced by "labels-idx1" when that file exists.
// Labels are class indices of any integer type in the file, returned as int64 [B] (a [N,1]
// labels array is accepted). Row counts of all inputs and labels must agree.
#pragma once

#include "aquant/core/tensor.h"
#include "aquant/data/preprocess.h"

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace aquant::data {

struct Batch {
    std::map<std::string, Tensor> inputs;  // model input name -> [B, ...] in the model's layout
    std::optional<Tensor> labels;          // int64 [B]
    /// ONNX test data only: expected outputs (output_K.pb) keyed by the TensorProto name, or
    /// "output_K" when the file names none. Empty for other formats.
    std::map<std::string, Tensor> reference_outputs;
    std::int64_t first_index = 0;  // row index, in the data set read, of the batch's first row

    std::int64_t size() const;  // B
};

class Dataset {
public:
    virtual ~Dataset() = default;
    virtual std::int64_t size() const = 0;
    /// Rows [start, start + count), clipped to size(). InternalError when start is outside
    /// [0, size()] or count < 0; DataError/IoError when the data cannot be read.
    /// Thread-safe; sequential reads are the fast path for gzip and deflate-compressed data.
    virtual Batch read(std::int64_t start, std::int64_t count) const = 0;
    virtual const std::vector<std::string>& input_names() const = 0;
    virtual bool has_labels() const = 0;
    /// One line for logs and reports: "t10k-images-idx3-ubyte.gz (idx): 10000 samples, input
    /// 'input' uint8[28,28] -> float[1,28,28] ..., labels".
    virtual std::string description() const = 0;
};

using DatasetPtr = std::shared_ptr<const Dataset>;

/// Rows [begin, end) of `ds` as a data set of its own (first_index counts from begin).
DatasetPtr subset(DatasetPtr ds, std::int64_t begin, std::int64_t end);

/// A disjoint split of one data set used both to calibrate and to evaluate: the first
/// `calib_count` rows calibrate, the remaining rows evaluate. Contiguous, not interleaved, so
/// both parts keep streaming sequentially; data sorted by class should be shuffled beforehand.
/// DataError unless 0 < calib_count < ds->size().
struct DatasetSplit {
    DatasetPtr calib;
    DatasetPtr eval;
};

DatasetSplit split_dataset(DatasetPtr ds, std::int64_t calib_count);

/// Calls fn for consecutive batches of at most batch_size rows covering the data set.
void for_each_batch(const Dataset& ds, std::int64_t batch_size,
                    const std::function<void(const Batch&)>& fn);

enum class DataFormat { kAuto, kNpy, kNpz, kNpyFolder, kOnnxTestData, kIdx };

std::optional<DataFormat> data_format_from_name(std::string_view name);  // "npy", "idx", ...
std::string_view data_format_name(DataFormat format);
/// What kAuto resolves to for `path`. DataError when the content matches no known format.
DataFormat detect_data_format(const std::string& path);

struct DataSpec {
    std::string path;         // file or folder
    std::string labels_path;  // optional: IDX labels file, or a labels .npy for a single .npy
    DataFormat format = DataFormat::kAuto;
    /// The model inputs to feed, in graph order (model_input_specs). Empty: no model; arrays
    /// keep their own names (npy: the file stem, IDX: "images") and are not converted.
    std::vector<InputSpec> inputs;
    Preprocess preprocess;
    std::int64_t offset = 0;            // skip this many samples
    std::optional<std::int64_t> limit;  // then use at most this many
};

/// Opens and validates a data set. IoError for missing/unreadable files; DataError (naming the
/// file, array and model input) for malformed data or data that does not fit the model.
DatasetPtr open_dataset(const DataSpec& spec);

}  // namespace aquant::data
