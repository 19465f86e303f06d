#include "data/array_dataset.h"

#include "data/util.h"

namespace aquant::data::detail {
namespace {

bool is_integer(DType t) {
    switch (t) {
        case DType::kU8:
        case DType::kI8:
        case DType::kU16:
        case DType::kI16:
        case DType::kI32:
        case DType::kI64:
        case DType::kU32:
        case DType::kU64:
            return true;
        default:
            return false;
    }
}

Tensor labels_to_i64(const Tensor& t) {
    Tensor out(DType::kI64, {t.dim(0)});
    auto* y = out.data<std::int64_t>();
    const std::int64_t n = t.numel();
    const void* p = t.raw();
    switch (t.dtype()) {
        case DType::kU8:
            for (std::int64_t i = 0; i < n; ++i)
                y[i] = static_cast<const std::uint8_t*>(p)[i];
            break;
        case DType::kI8:
            for (std::int64_t i = 0; i < n; ++i)
                y[i] = static_cast<const std::int8_t*>(p)[i];
            break;
        case DType::kU16:
            for (std::int64_t i = 0; i < n; ++i)
                y[i] = static_cast<const std::uint16_t*>(p)[i];
            break;
        case DType::kI16:
            for (std::int64_t i = 0; i < n; ++i)
                y[i] = static_cast<const std::int16_t*>(p)[i];
            break;
        case DType::kI32:
            for (std::int64_t i = 0; i < n; ++i)
                y[i] = static_cast<const std::int32_t*>(p)[i];
            break;
        case DType::kU32:
            for (std::int64_t i = 0; i < n; ++i)
                y[i] = static_cast<const std::uint32_t*>(p)[i];
            break;
        case DType::kI64:
            for (std::int64_t i = 0; i < n; ++i)
                y[i] = static_cast<const std::int64_t*>(p)[i];
            break;
        case DType::kU64:
            for (std::int64_t i = 0; i < n; ++i)
                y[i] = static_cast<std::int64_t>(static_cast<const std::uint64_t*>(p)[i]);
            break;
        default:
            throw InternalError("labels_to_i64: not an integer type");
    }
    return out;
}

struct PlannedInput {
    std::string name;
    ArrayRowReader reader;
    InputAdapter adapter;
};

class ArrayDataset final : public Dataset {
public:
    ArrayDataset(std::string description, std::int64_t rows, std::vector<PlannedInput> inputs,
                 std::optional<ArrayRowReader> labels, std::vector<NamedArray> outputs)
        : description_(std::move(description)),
          rows_(rows),
          inputs_(std::move(inputs)),
          labels_(std::move(labels)),
          outputs_(std::move(outputs)) {
        for (const auto& in : inputs_)
            names_.push_back(in.name);
    }

    std::int64_t size() const override { return rows_; }

    const std::vector<std::string>& input_names() const override { return names_; }

    bool has_labels() const override { return labels_.has_value(); }

    std::string description() const override { return description_; }

    Batch read(std::int64_t start, std::int64_t count) const override {
        if (start < 0 || start > rows_ || count < 0) {
            throw InternalError("Dataset::read(" + std::to_string(start) + ", " +
                                std::to_string(count) + ") on " + std::to_string(rows_) +
                                " samples");
        }
        count = std::min(count, rows_ - start);
        Batch b;
        b.first_index = start;
        for (const auto& in : inputs_) {
            b.inputs.emplace(in.name, in.adapter.apply(in.reader.read_rows(start, count)));
        }
        if (labels_)
            b.labels = labels_to_i64(labels_->read_rows(start, count));
        for (const auto& out : outputs_) {
            b.reference_outputs.emplace(out.name, out.reader.read_rows(start, count));
        }
        return b;
    }

private:
    std::string description_;
    std::int64_t rows_;
    std::vector<PlannedInput> inputs_;
    std::optional<ArrayRowReader> labels_;
    std::vector<NamedArray> outputs_;
    std::vector<std::string> names_;
};

}  // namespace

InputSpec input_spec_for(const DataSpec& spec, const std::string& name) {
    for (const auto& in : spec.inputs) {
        if (in.name == name)
            return in;
    }
    InputSpec any;
    any.name = name;
    return any;
}

std::string quoted_list(const std::vector<std::string>& names) {
    std::string s;
    for (const auto& n : names)
        s += (s.empty() ? "'" : ", '") + n + "'";
    return s.empty() ? "none" : s;
}

DatasetPtr make_array_dataset(ArraySetup setup, const DataSpec& spec) {
    if (setup.inputs.empty())
        fail(setup.what, "no input arrays");
    std::vector<PlannedInput> planned;
    const std::string first_where = setup.inputs.front().reader.where();
    const std::int64_t rows = setup.inputs.front().reader.rows();
    std::string description = setup.what;
    for (auto& in : setup.inputs) {
        if (in.reader.dims().empty()) {
            fail(in.reader.where(), "input '" + in.name + "': a scalar array has no samples");
        }
        if (in.reader.rows() != rows) {
            fail(in.reader.where(), std::to_string(in.reader.rows()) + " samples, but " +
                                        first_where + " has " + std::to_string(rows));
        }
        InputAdapter adapter(input_spec_for(spec, in.name), in.reader.dtype(), in.reader.dims(),
                             spec.preprocess, in.reader.where());
        description += "; input '" + in.name + "' " + adapter.describe();
        planned.push_back({in.name, std::move(in.reader), std::move(adapter)});
    }
    if (setup.labels) {
        const ArrayRowReader& l = *setup.labels;
        if (!is_integer(l.dtype())) {
            fail(l.where(), "labels must be integer class indices, got " +
                                std::string(dtype_name(l.dtype())) + dims_str(l.dims()));
        }
        if (l.dims().empty() || l.dims().size() > 2 || (l.dims().size() == 2 && l.dims()[1] != 1)) {
            fail(l.where(), "labels must have shape [N] or [N,1], got " + dims_str(l.dims()));
        }
        if (l.rows() != rows) {
            fail(l.where(), std::to_string(l.rows()) + " labels, but " + first_where + " has " +
                                std::to_string(rows) + " samples");
        }
        description += "; labels";
    }
    for (const auto& out : setup.outputs) {
        if (out.reader.dims().empty() || out.reader.rows() != rows) {
            fail(out.reader.where(), "reference output '" + out.name + "' has shape " +
                                         dims_str(out.reader.dims()) + ", expected " +
                                         std::to_string(rows) + " rows");
        }
    }
    description = setup.what + ": " + std::to_string(rows) + " samples" +
                  description.substr(setup.what.size());
    return std::make_shared<ArrayDataset>(std::move(description), rows, std::move(planned),
                                          std::move(setup.labels), std::move(setup.outputs));
}

}  // namespace aquant::data::detail
