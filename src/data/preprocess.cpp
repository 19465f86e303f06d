#include "aquant/data/preprocess.h"

#include "data/util.h"

#include "aquant/data/array_reader.h"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstring>

namespace aquant::data {
namespace {

using detail::fail;

bool is_numeric(DType t) {
    switch (t) {
        case DType::kF32:
        case DType::kF64:
        case DType::kF16:
        case DType::kU8:
        case DType::kI8:
        case DType::kU16:
        case DType::kI16:
        case DType::kI32:
        case DType::kI64:
        case DType::kU32:
        case DType::kU64:
        case DType::kBool:
            return true;
        default:
            return false;
    }
}

bool is_float_input(DType t) {
    return t == DType::kF32 || t == DType::kF64 || t == DType::kF16;
}

template <typename Src, typename Dst>
void convert_loop(const Src* src, Dst* dst, std::int64_t n) {
    for (std::int64_t i = 0; i < n; ++i)
        dst[i] = static_cast<Dst>(src[i]);
}

// Every element of `t` as Dst (float or double), values unchanged up to Dst's precision.
template <typename Dst>
void load_values(const Tensor& t, Dst* out) {
    const std::int64_t n = t.numel();
    const void* p = t.raw();
    switch (t.dtype()) {
        case DType::kF32:
            convert_loop(static_cast<const float*>(p), out, n);
            break;
        case DType::kF64:
            convert_loop(static_cast<const double*>(p), out, n);
            break;
        case DType::kU8:
        case DType::kBool:
            convert_loop(static_cast<const std::uint8_t*>(p), out, n);
            break;
        case DType::kI8:
            convert_loop(static_cast<const std::int8_t*>(p), out, n);
            break;
        case DType::kU16:
            convert_loop(static_cast<const std::uint16_t*>(p), out, n);
            break;
        case DType::kI16:
            convert_loop(static_cast<const std::int16_t*>(p), out, n);
            break;
        case DType::kI32:
            convert_loop(static_cast<const std::int32_t*>(p), out, n);
            break;
        case DType::kU32:
            convert_loop(static_cast<const std::uint32_t*>(p), out, n);
            break;
        case DType::kI64:
            convert_loop(static_cast<const std::int64_t*>(p), out, n);
            break;
        case DType::kU64:
            convert_loop(static_cast<const std::uint64_t*>(p), out, n);
            break;
        case DType::kF16: {
            const auto* h = static_cast<const std::uint16_t*>(p);
            for (std::int64_t i = 0; i < n; ++i)
                out[i] = static_cast<Dst>(half_to_float(h[i]));
            break;
        }
        default:
            throw InternalError("load_values: unsupported type " +
                                std::string(dtype_name(t.dtype())));
    }
}

template <typename U>
void transpose3(const U* src, U* dst, std::int64_t batch, const Dims& d, bool to_chw) {
    const std::int64_t d0 = d[0], d1 = d[1], d2 = d[2];
    const std::int64_t sample = d0 * d1 * d2;
    for (std::int64_t b = 0; b < batch; ++b) {
        const U* s = src + b * sample;
        U* o = dst + b * sample;
        for (std::int64_t i = 0; i < d0; ++i) {
            for (std::int64_t j = 0; j < d1; ++j) {
                for (std::int64_t k = 0; k < d2; ++k) {
                    const U v = s[(i * d1 + j) * d2 + k];
                    if (to_chw) {
                        o[(k * d0 + i) * d1 + j] = v;  // (h,w,c) -> (c,h,w)
                    } else {
                        o[(j * d2 + k) * d0 + i] = v;  // (c,h,w) -> (h,w,c)
                    }
                }
            }
        }
    }
}

Dims permuted(const Dims& d, Layout to) {
    return to == Layout::kNCHW ? Dims{d[2], d[0], d[1]} : Dims{d[1], d[2], d[0]};
}

Dims with_channel(const Dims& d, Layout layout) {
    Dims c = d;
    if (layout == Layout::kNCHW) {
        c.insert(c.begin(), 1);
    } else {
        c.push_back(1);
    }
    return c;
}

std::string format_values(const std::vector<double>& v) {
    std::string s = "[";
    for (std::size_t i = 0; i < v.size(); ++i) {
        char buf[32];
        std::snprintf(buf, sizeof(buf), "%g", v[i]);
        s += (i ? ", " : "") + std::string(buf);
    }
    return s + "]";
}

}  // namespace

std::optional<Layout> layout_from_name(std::string_view name) {
    std::string s(name);
    for (auto& ch : s)
        ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
    if (s == "NCHW")
        return Layout::kNCHW;
    if (s == "NHWC")
        return Layout::kNHWC;
    return std::nullopt;
}

std::string_view layout_name(Layout layout) {
    return layout == Layout::kNCHW ? "NCHW" : "NHWC";
}

std::string Preprocess::str() const {
    std::string s;
    auto add = [&s](const std::string& part) { s += (s.empty() ? "" : ", ") + part; };
    if (scale) {
        char buf[32];
        std::snprintf(buf, sizeof(buf), "%g", *scale);
        add("scale " + std::string(buf));
    }
    if (!mean.empty())
        add("mean " + format_values(mean));
    if (!std.empty())
        add("std " + format_values(std));
    if (layout)
        add(std::string(layout_name(*layout)));
    return s.empty() ? "none" : s;
}

std::string InputSpec::str() const {
    std::string s = elem_type == DType::kUndefined ? "any" : std::string(dtype_name(elem_type));
    if (!dims)
        return s + "[shape unknown]";
    s += "[";
    for (std::size_t i = 0; i < dims->size(); ++i) {
        s += (i ? "," : "") + ((*dims)[i] < 0 ? std::string("?") : std::to_string((*dims)[i]));
    }
    return s + "]";
}

std::vector<InputSpec> model_input_specs(const ir::Graph& graph) {
    std::vector<InputSpec> specs;
    for (ir::ValueId id : graph.real_inputs()) {
        const ir::Value& v = graph.value(id);
        InputSpec spec;
        spec.name = v.name;
        if (v.type) {
            spec.elem_type = v.type->elem_type;
            if (v.type->shape) {
                Dims d;
                for (const auto& dim : *v.type->shape)
                    d.push_back(dim.known() ? dim.value : -1);
                spec.dims = d;
            }
        }
        specs.push_back(std::move(spec));
    }
    return specs;
}

InputAdapter::InputAdapter(const InputSpec& input, DType data_dtype, const Dims& data_dims,
                           const Preprocess& preprocess, const std::string& where)
    : input_name_(input.name), data_dtype_(data_dtype) {
    const std::string in = "input '" + input.name + "'";
    auto mismatch = [&]() {
        fail(where, in + ": expected " + input.str() + ", got " +
                        std::string(dtype_name(data_dtype)) + dims_str(data_dims));
    };
    if (data_dims.empty())
        fail(where, in + ": a scalar array has no rows to batch");
    data_sample_dims_.assign(data_dims.begin() + 1, data_dims.end());
    if (!is_numeric(data_dtype))
        mismatch();

    arithmetic_ = preprocess.active();
    if (arithmetic_) {
        if (input.elem_type != DType::kUndefined && input.elem_type != DType::kF32) {
            fail(where, in + ": preprocessing (" + preprocess.str() +
                            ") produces float, but the model input is " + input.str());
        }
        out_dtype_ = DType::kF32;
    } else if (input.elem_type == DType::kUndefined || input.elem_type == data_dtype) {
        out_dtype_ = data_dtype;
    } else if (is_float_input(input.elem_type)) {
        out_dtype_ = input.elem_type;
    } else {
        mismatch();
    }

    const Dims& d = data_sample_dims_;
    const bool layout_given = preprocess.layout.has_value();
    const Layout preferred = preprocess.layout.value_or(Layout::kNCHW);
    std::vector<Layout> order = {preferred};
    if (!layout_given)
        order.push_back(Layout::kNHWC);
    Layout chosen = preferred;
    if (!input.dims) {
        out_sample_dims_ = d;
        if (layout_given && d.size() == 2)
            out_sample_dims_ = with_channel(d, preferred);
    } else {
        if (input.dims->empty())
            fail(where, in + " is a scalar (rank 0); data sets feed batches");
        const Dims ms(input.dims->begin() + 1, input.dims->end());
        auto fits = [&ms](const Dims& c) {
            if (c.size() != ms.size())
                return false;
            for (std::size_t i = 0; i < c.size(); ++i) {
                if (ms[i] >= 0 && ms[i] != c[i])
                    return false;
            }
            return true;
        };
        bool ok = fits(d);
        if (ok)
            out_sample_dims_ = d;
        for (std::size_t i = 0; !ok && d.size() == 3 && i < order.size(); ++i) {
            if (fits(permuted(d, order[i]))) {
                ok = true;
                transpose_ = true;
                transpose_to_ = chosen = order[i];
                out_sample_dims_ = permuted(d, order[i]);
            }
        }
        for (std::size_t i = 0; !ok && d.size() + 1 == ms.size() && i < order.size(); ++i) {
            if (fits(with_channel(d, order[i]))) {
                ok = true;
                chosen = order[i];
                out_sample_dims_ = with_channel(d, order[i]);
            }
        }
        if (!ok && ms.size() == 1 && (ms[0] < 0 || ms[0] == dims_numel(d)) && d.size() > 1) {
            ok = true;
            out_sample_dims_ = {dims_numel(d)};
        }
        if (!ok)
            mismatch();
    }

    if (arithmetic_) {
        const auto& mean = preprocess.mean;
        const auto& stdv = preprocess.std;
        if (mean.size() > 1 && stdv.size() > 1 && mean.size() != stdv.size()) {
            fail(where, in + ": --mean has " + std::to_string(mean.size()) +
                            " values but --std has " + std::to_string(stdv.size()));
        }
        for (double s : stdv) {
            if (s == 0.0)
                fail(where, in + ": --std values must be non-zero");
        }
        const std::size_t channels = std::max<std::size_t>({1, mean.size(), stdv.size()});
        if (channels > 1) {
            const auto& od = out_sample_dims_;
            channel_axis_ = chosen == Layout::kNCHW ? 0 : static_cast<int>(od.size()) - 1;
            if (od.empty() || od[static_cast<std::size_t>(channel_axis_)] !=
                                  static_cast<std::int64_t>(channels)) {
                fail(where, in + ": --mean/--std give " + std::to_string(channels) +
                                " values, one per channel, but the channel axis (layout " +
                                std::string(layout_name(chosen)) + ") of " +
                                std::string(dtype_name(out_dtype_)) + dims_str(od) + " has " +
                                (od.empty() ? std::string("no channels")
                                            : "size " + std::to_string(od[channel_axis_])));
            }
        }
        scale_ = static_cast<float>(preprocess.scale.value_or(1.0));
        for (std::size_t c = 0; c < channels; ++c) {
            mean_.push_back(mean.empty() ? 0.0f
                                         : static_cast<float>(mean[mean.size() > 1 ? c : 0]));
            std_.push_back(stdv.empty() ? 1.0f : static_cast<float>(stdv[stdv.size() > 1 ? c : 0]));
        }
        preprocess_str_ = preprocess.str();
    }
}

Tensor InputAdapter::apply(const Tensor& raw) const {
    if (raw.dtype() != data_dtype_ || raw.rank() != data_sample_dims_.size() + 1 ||
        !std::equal(data_sample_dims_.begin(), data_sample_dims_.end(), raw.dims().begin() + 1)) {
        throw InternalError("InputAdapter for '" + input_name_ + "': got " +
                            std::string(dtype_name(raw.dtype())) + dims_str(raw.dims()) +
                            ", planned for " + std::string(dtype_name(data_dtype_)) + "[?," +
                            dims_str(data_sample_dims_).substr(1));
    }
    const std::int64_t batch = raw.dim(0);
    Tensor t = raw;
    if (transpose_) {
        Tensor out(raw.dtype(), raw.dims());
        const bool to_chw = transpose_to_ == Layout::kNCHW;
        switch (element_size(raw.dtype())) {
            case 1:
                transpose3(static_cast<const std::uint8_t*>(raw.raw()),
                           static_cast<std::uint8_t*>(out.raw()), batch, data_sample_dims_, to_chw);
                break;
            case 2:
                transpose3(static_cast<const std::uint16_t*>(raw.raw()),
                           static_cast<std::uint16_t*>(out.raw()), batch, data_sample_dims_,
                           to_chw);
                break;
            case 4:
                transpose3(static_cast<const std::uint32_t*>(raw.raw()),
                           static_cast<std::uint32_t*>(out.raw()), batch, data_sample_dims_,
                           to_chw);
                break;
            default:
                transpose3(static_cast<const std::uint64_t*>(raw.raw()),
                           static_cast<std::uint64_t*>(out.raw()), batch, data_sample_dims_,
                           to_chw);
                break;
        }
        t = out;
    }
    Dims out_dims = {batch};
    out_dims.insert(out_dims.end(), out_sample_dims_.begin(), out_sample_dims_.end());
    t = t.reshaped(out_dims);
    if (arithmetic_) {
        Tensor out(DType::kF32, out_dims);
        float* y = out.data<float>();
        load_values(t, y);
        const std::int64_t n = out.numel();
        if (mean_.size() == 1) {
            const float m = mean_[0], s = std_[0];
            for (std::int64_t i = 0; i < n; ++i)
                y[i] = (y[i] * scale_ - m) / s;
        } else {
            std::int64_t inner = 1;
            for (std::size_t a = static_cast<std::size_t>(channel_axis_) + 1;
                 a < out_sample_dims_.size(); ++a) {
                inner *= out_sample_dims_[a];
            }
            const auto channels = static_cast<std::int64_t>(mean_.size());
            for (std::int64_t i = 0; i < n; ++i) {
                const auto c = static_cast<std::size_t>((i / inner) % channels);
                y[i] = (y[i] * scale_ - mean_[c]) / std_[c];
            }
        }
        return out;
    }
    if (out_dtype_ == t.dtype())
        return t;
    Tensor out(out_dtype_, out_dims);
    if (out_dtype_ == DType::kF32) {
        load_values(t, out.data<float>());
    } else if (out_dtype_ == DType::kF64) {
        load_values(t, out.data<double>());
    } else {
        std::vector<float> tmp(static_cast<std::size_t>(t.numel()));
        load_values(t, tmp.data());
        auto* h = out.data<std::uint16_t>();
        for (std::size_t i = 0; i < tmp.size(); ++i)
            h[i] = float_to_half(tmp[i]);
    }
    return out;
}

std::string InputAdapter::describe() const {
    std::string s = std::string(dtype_name(data_dtype_)) + dims_str(data_sample_dims_) + " -> " +
                    std::string(dtype_name(out_dtype_)) + dims_str(out_sample_dims_);
    if (transpose_)
        s += " (transposed to " + std::string(layout_name(transpose_to_)) + ")";
    if (arithmetic_)
        s += ", " + preprocess_str_;
    return s;
}

}  // namespace aquant::data
