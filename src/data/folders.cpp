// Folder formats: a folder of <input>.npy files, and ONNX test_data_set_N folders.
#include "data/array_dataset.h"
#include "data/util.h"

#include "aquant/data/npy.h"
#include "aquant/io/tensor_pb.h"

#include <algorithm>
#include <cctype>
#include <cstring>
#include <filesystem>
#include <map>

namespace aquant::data::detail {
namespace fs = std::filesystem;

namespace {

std::vector<std::string> sorted_entries(const std::string& dir) {
    std::vector<std::string> names;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(dir, ec))
        names.push_back(e.path().filename().string());
    if (ec)
        throw IoError(dir + ": cannot list folder: " + ec.message());
    std::sort(names.begin(), names.end());
    return names;
}

// "input_12.pb" with prefix "input_" and suffix ".pb" -> 12.
std::optional<long> numbered(const std::string& name, const std::string& prefix,
                             const std::string& suffix) {
    if (name.size() <= prefix.size() + suffix.size() ||
        name.compare(0, prefix.size(), prefix) != 0 || !ends_with(name, suffix)) {
        return std::nullopt;
    }
    const std::string digits =
        name.substr(prefix.size(), name.size() - prefix.size() - suffix.size());
    if (digits.empty() || !std::all_of(digits.begin(), digits.end(), ::isdigit))
        return std::nullopt;
    return std::stol(digits);
}

std::vector<std::pair<long, std::string>> numbered_entries(const std::string& dir,
                                                           const std::string& prefix,
                                                           const std::string& suffix) {
    std::vector<std::pair<long, std::string>> out;
    for (const auto& name : sorted_entries(dir)) {
        if (auto k = numbered(name, prefix, suffix))
            out.emplace_back(*k, join_path(dir, name));
    }
    std::sort(out.begin(), out.end());
    return out;
}

// Tensors of one name from every test_data_set folder, concatenated along axis 0.
struct Pieces {
    std::vector<Tensor> tensors;
    std::vector<std::string> files;
};

ArrayRowReader concat_rows(const std::string& where, const Pieces& p) {
    const Tensor& first = p.tensors.front();
    if (first.rank() == 0)
        fail(p.files.front(), "a scalar tensor has no rows to batch");
    if (first.dtype() == DType::kString || dtype_is_4bit(first.dtype())) {
        fail(p.files.front(), "element type " + std::string(dtype_name(first.dtype())) +
                                  " is not supported as data");
    }
    Dims dims = first.dims();
    for (std::size_t i = 1; i < p.tensors.size(); ++i) {
        const Tensor& t = p.tensors[i];
        const bool same = t.dtype() == first.dtype() && t.rank() == first.rank() &&
                          std::equal(dims.begin() + 1, dims.end(), t.dims().begin() + 1);
        if (!same) {
            fail(p.files[i], std::string(dtype_name(t.dtype())) + dims_str(t.dims()) +
                                 " does not stack with " + p.files.front() + " (" +
                                 std::string(dtype_name(first.dtype())) + dims_str(first.dims()) +
                                 ")");
        }
        dims[0] += t.dim(0);
    }
    Tensor all(first.dtype(), dims);
    auto* dst = static_cast<char*>(all.raw());
    for (const auto& t : p.tensors) {
        std::memcpy(dst, t.raw(), t.size_bytes());
        dst += t.size_bytes();
    }
    ArrayLayout layout;
    layout.dtype = all.dtype();
    layout.dims = all.dims();
    return ArrayRowReader(memory_source(all, where), layout);
}

}  // namespace

DatasetPtr open_npy_folder_dataset(const DataSpec& spec) {
    const std::string& dir = spec.path;
    std::vector<std::string> npy_files;
    for (const auto& name : sorted_entries(dir)) {
        if (ends_with(name, ".npy"))
            npy_files.push_back(name);
    }
    std::vector<std::string> wanted;
    for (const auto& in : spec.inputs)
        wanted.push_back(in.name);
    if (wanted.empty()) {
        for (const auto& f : npy_files) {
            if (f != "labels.npy")
                wanted.push_back(f.substr(0, f.size() - 4));
        }
    }
    ArraySetup setup;
    setup.what = dir + " (npy folder)";
    for (const auto& name : wanted) {
        const std::string path = join_path(dir, name + ".npy");
        if (!fs::is_regular_file(path)) {
            fail(dir, "no file '" + name + ".npy' for model input '" + name + "'; the folder has " +
                          quoted_list(npy_files));
        }
        setup.inputs.push_back({name, open_npy_rows(path)});
    }
    const std::string labels = join_path(dir, "labels.npy");
    if (!spec.labels_path.empty()) {
        setup.labels = open_labels_rows(spec.labels_path);
    } else if (fs::is_regular_file(labels)) {
        setup.labels = open_npy_rows(labels);
    }
    return make_array_dataset(std::move(setup), spec);
}

DatasetPtr open_onnx_test_dataset(const DataSpec& spec) {
    const std::string& dir = spec.path;
    std::vector<std::string> sets;
    if (!numbered_entries(dir, "input_", ".pb").empty()) {
        sets.push_back(dir);
    } else {
        for (const auto& [k, path] : numbered_entries(dir, "test_data_set_", "")) {
            if (fs::is_directory(path))
                sets.push_back(path);
        }
    }
    if (sets.empty())
        fail(dir, "no input_K.pb files and no test_data_set_N folders");

    std::map<std::string, Pieces> inputs;
    std::map<std::string, Pieces> outputs;
    std::vector<std::string> input_order;
    std::vector<std::string> output_order;
    for (std::size_t s = 0; s < sets.size(); ++s) {
        std::vector<std::string> names_here;
        for (const auto& [k, path] : numbered_entries(sets[s], "input_", ".pb")) {
            std::string pb_name;
            Tensor t = io::read_tensor_pb(path, &pb_name);
            std::string name;
            const bool named_input =
                std::any_of(spec.inputs.begin(), spec.inputs.end(),
                            [&](const InputSpec& in) { return in.name == pb_name; });
            if (named_input) {
                name = pb_name;
            } else if (spec.inputs.empty()) {
                name = pb_name.empty() ? "input_" + std::to_string(k) : pb_name;
            } else if (static_cast<std::size_t>(k) < spec.inputs.size()) {
                name = spec.inputs[static_cast<std::size_t>(k)].name;
            } else {
                fail(path, "tensor '" + pb_name + "' is input " + std::to_string(k) +
                               ", but the model has " + std::to_string(spec.inputs.size()) +
                               " input(s)");
            }
            if (s == 0)
                input_order.push_back(name);
            names_here.push_back(name);
            inputs[name].tensors.push_back(std::move(t));
            inputs[name].files.push_back(path);
        }
        if (names_here.size() != input_order.size() ||
            !std::is_permutation(names_here.begin(), names_here.end(), input_order.begin())) {
            fail(sets[s], "holds inputs " + quoted_list(names_here) + ", but " + sets[0] +
                              " holds " + quoted_list(input_order));
        }
        std::size_t n_out = 0;
        for (const auto& [k, path] : numbered_entries(sets[s], "output_", ".pb")) {
            std::string pb_name;
            Tensor t = io::read_tensor_pb(path, &pb_name);
            const std::string name = pb_name.empty() ? "output_" + std::to_string(k) : pb_name;
            if (s == 0)
                output_order.push_back(name);
            outputs[name].tensors.push_back(std::move(t));
            outputs[name].files.push_back(path);
            ++n_out;
        }
        if (n_out != output_order.size()) {
            fail(sets[s], std::to_string(n_out) + " output_K.pb files, but " + sets[0] + " has " +
                              std::to_string(output_order.size()));
        }
    }
    for (const auto& in : spec.inputs) {
        if (!inputs.count(in.name)) {
            fail(dir, "no input_K.pb for model input '" + in.name + "'; found " +
                          quoted_list(input_order));
        }
    }
    ArraySetup setup;
    setup.what = dir + " (onnx test data, " + std::to_string(sets.size()) + " set" +
                 (sets.size() == 1 ? "" : "s") + ")";
    for (const auto& name : input_order) {
        setup.inputs.push_back({name, concat_rows(dir + ": input '" + name + "'", inputs[name])});
    }
    for (const auto& name : output_order) {
        const Pieces& p = outputs[name];
        if (p.tensors.size() != sets.size()) {
            fail(dir, "output '" + name + "' is missing from some test_data_set folders");
        }
        setup.outputs.push_back({name, concat_rows(dir + ": output '" + name + "'", p)});
    }
    return make_array_dataset(std::move(setup), spec);
}

}  // namespace aquant::data::detail
