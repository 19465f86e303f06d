// Single-file formats: .npy, .npz, IDX.
#include "data/array_dataset.h"
#include "data/util.h"

#include "aquant/core/log.h"
#include "aquant/data/idx.h"
#include "aquant/data/npy.h"
#include "aquant/data/npz.h"

#include <cstring>
#include <filesystem>

namespace aquant::data::detail {
namespace {

// The one model input a single-array file feeds.
std::string single_input_name(const DataSpec& spec, const std::string& fallback,
                              const std::string& kind) {
    if (spec.inputs.empty())
        return fallback;
    if (spec.inputs.size() > 1) {
        std::vector<std::string> names;
        for (const auto& in : spec.inputs)
            names.push_back(in.name);
        fail(spec.path, "a single " + kind + " array feeds one input, but the model has " +
                            std::to_string(names.size()) + " (" + quoted_list(names) +
                            "); use an .npz or a folder of <input>.npy files");
    }
    return spec.inputs[0].name;
}

std::string stem(const std::string& path) {
    std::string name = file_name(path);
    const auto dot = name.find('.');
    return dot == std::string::npos || dot == 0 ? name : name.substr(0, dot);
}

// MNIST naming: t10k-images-idx3-ubyte(.gz) -> t10k-labels-idx1-ubyte(.gz).
std::optional<std::string> derived_labels_path(const std::string& images_path) {
    const std::string name = file_name(images_path);
    for (const auto& [from, to] :
         {std::pair<std::string, std::string>{"images-idx3", "labels-idx1"},
          {"images.idx3", "labels.idx1"}}) {
        const auto pos = name.find(from);
        if (pos == std::string::npos)
            continue;
        std::string candidate = name;
        candidate.replace(pos, from.size(), to);
        const std::string dir =
            images_path.find('/') == std::string::npos ? std::string() : parent_dir(images_path);
        const std::string path = join_path(dir, candidate);
        if (std::filesystem::is_regular_file(path))
            return path;
        logger().debug("data: {}: no labels file {} next to it", images_path, path);
    }
    return std::nullopt;
}

}  // namespace

ArrayRowReader open_labels_rows(const std::string& path) {
    auto source = open_maybe_gzip_source(path);
    unsigned char magic[6] = {};
    if (source->size() >= 6)
        source->read_at(0, magic, 6);
    if (std::memcmp(magic, "\x93NUMPY", 6) == 0) {
        return ArrayRowReader(source, read_npy_header(*source).layout);
    }
    return ArrayRowReader(source, read_idx_header(*source).layout);
}

DatasetPtr open_npy_dataset(const DataSpec& spec) {
    ArraySetup setup;
    setup.what = spec.path + " (npy)";
    setup.inputs.push_back(
        {single_input_name(spec, stem(spec.path), ".npy"), open_npy_rows(spec.path)});
    if (!spec.labels_path.empty())
        setup.labels = open_labels_rows(spec.labels_path);
    return make_array_dataset(std::move(setup), spec);
}

DatasetPtr open_npz_dataset(const DataSpec& spec) {
    NpzArchive npz(spec.path);
    ArraySetup setup;
    setup.what = spec.path + " (npz)";
    std::vector<std::string> wanted;
    for (const auto& in : spec.inputs)
        wanted.push_back(in.name);
    if (wanted.empty()) {
        for (const auto& name : npz.names()) {
            if (name != "labels")
                wanted.push_back(name);
        }
    }
    for (const auto& name : wanted) {
        if (!npz.contains(name)) {
            fail(spec.path, "no array '" + name + "' for model input '" + name +
                                "'; the archive has " + quoted_list(npz.names()));
        }
        setup.inputs.push_back({name, npz.rows(name)});
    }
    if (npz.contains("labels")) {
        setup.labels = npz.rows("labels");
    }
    if (!spec.labels_path.empty())
        setup.labels = open_labels_rows(spec.labels_path);
    return make_array_dataset(std::move(setup), spec);
}

DatasetPtr open_idx_dataset(const DataSpec& spec) {
    ArraySetup setup;
    setup.what = spec.path + " (idx)";
    setup.inputs.push_back({single_input_name(spec, "images", "IDX"), open_idx_rows(spec.path)});
    std::optional<std::string> labels_path;
    if (!spec.labels_path.empty()) {
        labels_path = spec.labels_path;
    } else {
        labels_path = derived_labels_path(spec.path);
    }
    if (labels_path)
        setup.labels = open_labels_rows(*labels_path);
    return make_array_dataset(std::move(setup), spec);
}

}  // namespace aquant::data::detail
