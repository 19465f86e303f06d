#include "aquant/data/dataset.h"

#include "data/array_dataset.h"
#include "data/util.h"

#include "aquant/core/log.h"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <zlib.h>

namespace aquant::data {
namespace fs = std::filesystem;

using detail::fail;

namespace {

class SubsetDataset final : public Dataset {
public:
    SubsetDataset(DatasetPtr parent, std::int64_t begin, std::int64_t end)
        : parent_(std::move(parent)), begin_(begin), end_(end) {}

    std::int64_t size() const override { return end_ - begin_; }

    const std::vector<std::string>& input_names() const override { return parent_->input_names(); }

    bool has_labels() const override { return parent_->has_labels(); }

    std::string description() const override {
        return parent_->description() + "; rows [" + std::to_string(begin_) + ", " +
               std::to_string(end_) + ")";
    }

    Batch read(std::int64_t start, std::int64_t count) const override {
        if (start < 0 || start > size() || count < 0) {
            throw InternalError("Dataset::read(" + std::to_string(start) + ", " +
                                std::to_string(count) + ") on " + std::to_string(size()) +
                                " samples");
        }
        Batch b = parent_->read(begin_ + start, std::min(count, size() - start));
        b.first_index = start;
        return b;
    }

private:
    DatasetPtr parent_;
    std::int64_t begin_;
    std::int64_t end_;
};

struct FormatName {
    DataFormat format;
    const char* name;
};

constexpr FormatName kFormatNames[] = {
    {DataFormat::kAuto, "auto"},
    {DataFormat::kNpy, "npy"},
    {DataFormat::kNpz, "npz"},
    {DataFormat::kNpyFolder, "npy-folder"},
    {DataFormat::kOnnxTestData, "onnx-test-data"},
    {DataFormat::kIdx, "idx"},
};

bool looks_like_idx_name(const std::string& path) {
    const std::string name = detail::file_name(path);
    return name.find("idx") != std::string::npos || name.find("ubyte") != std::string::npos;
}

}  // namespace

std::int64_t Batch::size() const {
    if (!inputs.empty()) {
        const Tensor& t = inputs.begin()->second;
        return t.rank() == 0 ? 0 : t.dim(0);
    }
    return labels && labels->rank() > 0 ? labels->dim(0) : 0;
}

DatasetPtr subset(DatasetPtr ds, std::int64_t begin, std::int64_t end) {
    if (begin < 0 || end < begin || end > ds->size()) {
        throw InternalError("subset [" + std::to_string(begin) + ", " + std::to_string(end) +
                            ") of " + std::to_string(ds->size()) + " samples");
    }
    return std::make_shared<SubsetDataset>(std::move(ds), begin, end);
}

DatasetSplit split_dataset(DatasetPtr ds, std::int64_t calib_count) {
    const std::int64_t n = ds->size();
    if (calib_count <= 0 || calib_count >= n) {
        throw DataError(ds->description() + ": cannot split " + std::to_string(n) +
                        " samples into " + std::to_string(calib_count) +
                        " for calibration and the rest for evaluation; both parts need at "
                        "least one sample");
    }
    DatasetSplit split;
    split.calib = subset(ds, 0, calib_count);
    split.eval = subset(ds, calib_count, n);
    return split;
}

void for_each_batch(const Dataset& ds, std::int64_t batch_size,
                    const std::function<void(const Batch&)>& fn) {
    if (batch_size <= 0)
        throw InternalError("for_each_batch: batch_size must be positive");
    for (std::int64_t start = 0; start < ds.size(); start += batch_size) {
        fn(ds.read(start, batch_size));
    }
}

std::optional<DataFormat> data_format_from_name(std::string_view name) {
    std::string s(name);
    for (auto& c : s)
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    std::replace(s.begin(), s.end(), '_', '-');
    for (const auto& row : kFormatNames) {
        if (s == row.name)
            return row.format;
    }
    if (s == "onnx" || s == "pb" || s == "test-data")
        return DataFormat::kOnnxTestData;
    return std::nullopt;
}

std::string_view data_format_name(DataFormat format) {
    for (const auto& row : kFormatNames) {
        if (row.format == format)
            return row.name;
    }
    return "unknown";
}

DataFormat detect_data_format(const std::string& path) {
    std::error_code ec;
    const auto status = fs::status(path, ec);
    if (!fs::exists(status))
        throw IoError(path + ": cannot open: No such file or directory");
    if (fs::is_directory(status)) {
        bool has_npy = false;
        for (const auto& e : fs::directory_iterator(path, ec)) {
            const std::string name = e.path().filename().string();
            if ((name.rfind("test_data_set_", 0) == 0 && e.is_directory()) ||
                (name.rfind("input_", 0) == 0 && detail::ends_with(name, ".pb"))) {
                return DataFormat::kOnnxTestData;
            }
            has_npy = has_npy || detail::ends_with(name, ".npy");
        }
        if (ec)
            throw IoError(path + ": cannot list folder: " + ec.message());
        if (has_npy)
            return DataFormat::kNpyFolder;
        fail(path, "the folder holds neither .npy files nor ONNX test_data_set_N folders");
    }
    auto file = open_file_source(path);
    unsigned char head[8] = {};
    file->read_at(0, head, std::min<std::uint64_t>(sizeof(head), file->size()));
    if (std::memcmp(head, "\x93NUMPY", 6) == 0)
        return DataFormat::kNpy;
    if (std::memcmp(head, "PK\x03\x04", 4) == 0 || std::memcmp(head, "PK\x05\x06", 4) == 0) {
        return DataFormat::kNpz;
    }
    if (head[0] == 0x1f && head[1] == 0x8b) {
        unsigned char inner[6] = {};
        gzFile gz = gzopen(path.c_str(), "rb");
        const int got = gz ? gzread(gz, inner, sizeof(inner)) : -1;
        if (gz)
            gzclose(gz);
        if (got >= 6 && std::memcmp(inner, "\x93NUMPY", 6) == 0) {
            fail(path, "gzip-compressed .npy files are not supported; use np.savez_compressed");
        }
        return DataFormat::kIdx;  // the IDX reader names a wrong magic number
    }
    if ((head[0] == 0 && head[1] == 0) || looks_like_idx_name(path))
        return DataFormat::kIdx;
    char hex[40];
    std::snprintf(hex, sizeof(hex), "%02x %02x %02x %02x", head[0], head[1], head[2], head[3]);
    fail(path, std::string("unrecognized data file (first bytes ") + hex +
                   "); expected .npy, .npz, IDX (raw or .gz) or a folder");
}

DatasetPtr open_dataset(const DataSpec& spec) {
    if (spec.path.empty())
        throw ConfigError("no data path given");
    const DataFormat format =
        spec.format == DataFormat::kAuto ? detect_data_format(spec.path) : spec.format;
    DatasetPtr ds;
    switch (format) {
        case DataFormat::kNpy:
            ds = detail::open_npy_dataset(spec);
            break;
        case DataFormat::kNpz:
            ds = detail::open_npz_dataset(spec);
            break;
        case DataFormat::kNpyFolder:
            ds = detail::open_npy_folder_dataset(spec);
            break;
        case DataFormat::kOnnxTestData:
            ds = detail::open_onnx_test_dataset(spec);
            break;
        case DataFormat::kIdx:
            ds = detail::open_idx_dataset(spec);
            break;
        case DataFormat::kAuto:
            throw InternalError("open_dataset: unresolved format");
    }
    const std::int64_t n = ds->size();
    if (spec.offset < 0 || spec.offset > n) {
        fail(spec.path, "offset " + std::to_string(spec.offset) + " is outside the " +
                            std::to_string(n) + " samples");
    }
    if (spec.limit && *spec.limit < 0) {
        fail(spec.path, "limit " + std::to_string(*spec.limit) + " is negative");
    }
    const std::int64_t end =
        spec.limit && *spec.limit < n - spec.offset ? spec.offset + *spec.limit : n;
    if (spec.offset != 0 || end != n)
        ds = subset(ds, spec.offset, end);
    logger().debug("data: {}", ds->description());
    return ds;
}

}  // namespace aquant::data
