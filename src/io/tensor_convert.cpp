// TensorProto <-> Tensor, including external data and every element type ONNX defines up to
// IR 10 (INT4/UINT4 and float8 are newer than libonnx 1.12; data_type is a plain int32 there).
#include "io/proto_convert.h"

#include "aquant/core/log.h"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <limits>
#include <unistd.h>

namespace aquant::io::detail {
namespace {

namespace fs = std::filesystem;

// Largest element count accepted: keeps byte counts far from overflowing size_t.
constexpr std::int64_t kMaxElements = std::int64_t{1} << 50;

[[noreturn]] void fail(const std::string& what, const std::string& msg) {
    throw ModelError(what + ": " + msg);
}

DType checked_dtype(int code, const std::string& what) {
    const auto dt = dtype_from_code(code);
    if (!dt || *dt == DType::kUndefined) {
        fail(what, "unknown element type " + std::to_string(code) +
                       " (data_type must be one of the ONNX TensorProto.DataType codes 1-22)");
    }
    return *dt;
}

Dims checked_dims(const onnx::TensorProto& tp, const std::string& what) {
    Dims dims(tp.dims().begin(), tp.dims().end());
    std::int64_t n = 1;
    for (auto d : dims) {
        if (d < 0) {
            fail(what, "negative dimension in " + dims_str(dims));
        }
        if (d != 0 && n > kMaxElements / d) {
            fail(what, "too many elements in " + dims_str(dims));
        }
        n *= d;
    }
    return dims;
}

std::string type_str(DType dt, const Dims& dims) {
    return std::string(dtype_name(dt)) + dims_str(dims);
}

std::uint64_t parse_u64(const std::string& what, const std::string& key, const std::string& s) {
    if (s.empty() || s.size() > 19 || s.find_first_not_of("0123456789") != std::string::npos) {
        fail(what, "external data " + key + " '" + s + "' is not a non-negative integer");
    }
    return std::stoull(s);
}

// Number of entries a typed field must hold for n elements of dt.
std::int64_t typed_count(DType dt, std::int64_t n) {
    if (dt == DType::kC64 || dt == DType::kC128) {
        return 2 * n;
    }
    return n;
}

template <typename Src, typename Dst>
void copy_cast(const Src* src, std::int64_t n, Dst* dst) {
    for (std::int64_t i = 0; i < n; ++i) {
        dst[i] = static_cast<Dst>(src[i]);
    }
}

void check_count(const std::string& what, const char* field, std::int64_t got, std::int64_t want,
                 DType dt, const Dims& dims) {
    if (got != want) {
        fail(what, std::string(field) + " has " + std::to_string(got) + " values, expected " +
                       std::to_string(want) + " for " + type_str(dt, dims));
    }
}

// Fills t from the typed repeated fields (float_data, int32_data, ...).
void fill_from_typed(const onnx::TensorProto& tp, Tensor& t, const std::string& what) {
    const DType dt = t.dtype();
    const std::int64_t n = t.numel();
    const Dims& dims = t.dims();
    void* out = t.raw();
    switch (dt) {
        case DType::kF32:
        case DType::kC64:
            check_count(what, "float_data", tp.float_data_size(), typed_count(dt, n), dt, dims);
            if (n) {
                std::memcpy(out, tp.float_data().data(), t.size_bytes());
            }
            return;
        case DType::kF64:
        case DType::kC128:
            check_count(what, "double_data", tp.double_data_size(), typed_count(dt, n), dt, dims);
            if (n) {
                std::memcpy(out, tp.double_data().data(), t.size_bytes());
            }
            return;
        case DType::kI64:
            check_count(what, "int64_data", tp.int64_data_size(), n, dt, dims);
            if (n) {
                std::memcpy(out, tp.int64_data().data(), t.size_bytes());
            }
            return;
        case DType::kU32:
            check_count(what, "uint64_data", tp.uint64_data_size(), n, dt, dims);
            copy_cast(tp.uint64_data().data(), n, static_cast<std::uint32_t*>(out));
            return;
        case DType::kU64:
            check_count(what, "uint64_data", tp.uint64_data_size(), n, dt, dims);
            if (n) {
                std::memcpy(out, tp.uint64_data().data(), t.size_bytes());
            }
            return;
        case DType::kI32:
            check_count(what, "int32_data", tp.int32_data_size(), n, dt, dims);
            if (n) {
                std::memcpy(out, tp.int32_data().data(), t.size_bytes());
            }
            return;
        case DType::kI16:
        case DType::kU16:
        case DType::kF16:
        case DType::kBF16:  // float16/bfloat16: the bit pattern in the low 16 bits
            check_count(what, "int32_data", tp.int32_data_size(), n, dt, dims);
            copy_cast(tp.int32_data().data(), n, static_cast<std::uint16_t*>(out));
            return;
        case DType::kI8:
        case DType::kU8:
        case DType::kF8E4M3FN:
        case DType::kF8E4M3FNUZ:
        case DType::kF8E5M2:
        case DType::kF8E5M2FNUZ:
            check_count(what, "int32_data", tp.int32_data_size(), n, dt, dims);
            copy_cast(tp.int32_data().data(), n, static_cast<std::uint8_t*>(out));
            return;
        case DType::kBool: {
            check_count(what, "int32_data", tp.int32_data_size(), n, dt, dims);
            auto* b = static_cast<std::uint8_t*>(out);
            for (std::int64_t i = 0; i < n; ++i) {
                b[i] = tp.int32_data(static_cast<int>(i)) != 0;
            }
            return;
        }
        case DType::kI4:
        case DType::kU4: {
            // ONNX IR 10: each int32_data entry holds one byte of two packed elements (low nibble
            // first). One entry per element is accepted too (n == 1 reads the same either way).
            const std::int64_t packed = (n + 1) / 2;
            const std::int64_t got = tp.int32_data_size();
            auto* b = static_cast<std::uint8_t*>(out);
            if (got == packed) {
                copy_cast(tp.int32_data().data(), packed, b);
            } else if (got == n) {
                for (std::int64_t i = 0; i < n; ++i) {
                    const auto nib =
                        static_cast<std::uint8_t>(tp.int32_data(static_cast<int>(i)) & 0xF);
                    b[i / 2] = static_cast<std::uint8_t>(b[i / 2] | (nib << ((i % 2) * 4)));
                }
            } else {
                check_count(what, "int32_data", got, packed, dt, dims);
            }
            return;
        }
        default:
            fail(what, "element type " + std::string(dtype_name(dt)) + " cannot hold typed data");
    }
}

// The typed field that holds elements of dt, and its entry count.
std::pair<const char*, std::int64_t> typed_field(const onnx::TensorProto& tp, DType dt) {
    switch (dt) {
        case DType::kF32:
        case DType::kC64:
            return {"float_data", tp.float_data_size()};
        case DType::kF64:
        case DType::kC128:
            return {"double_data", tp.double_data_size()};
        case DType::kI64:
            return {"int64_data", tp.int64_data_size()};
        case DType::kU32:
        case DType::kU64:
            return {"uint64_data", tp.uint64_data_size()};
        case DType::kString:
            return {"string_data", tp.string_data_size()};
        default:
            return {"int32_data", tp.int32_data_size()};
    }
}

bool has_typed_data(const onnx::TensorProto& tp) {
    return tp.float_data_size() || tp.int32_data_size() || tp.int64_data_size() ||
           tp.double_data_size() || tp.uint64_data_size() || tp.string_data_size();
}

}  // namespace

fs::path ExternalData::resolve(const std::string& what, const std::string& location) const {
    const fs::path loc(location);
    if (location.empty()) {
        fail(what, "external data has no 'location'");
    }
    if (loc.is_absolute()) {
        fail(what, "external data location '" + location +
                       "' is an absolute path; it must be relative to the model's folder");
    }
    const fs::path norm = loc.lexically_normal();
    if (!norm.empty() && *norm.begin() == "..") {
        fail(what, "external data location '" + location + "' points outside the model's folder");
    }
    return base_dir_ / norm;
}

fs::path ExternalData::check(const std::string& what, const std::string& location,
                             std::uint64_t offset, std::uint64_t length) {
    const fs::path file = resolve(what, location);
    const std::string key = file.string();
    auto it = file_sizes_.find(key);
    if (it == file_sizes_.end()) {
        std::error_code ec;
        const auto size = fs::file_size(file, ec);
        if (ec) {
            throw IoError(what + ": cannot read external data file '" + location + "' (" + key +
                          "): " + ec.message());
        }
        it = file_sizes_.emplace(key, static_cast<std::uint64_t>(size)).first;
    }
    const std::uint64_t size = it->second;
    if (offset > size || length > size - offset) {
        fail(what, "external data offset " + std::to_string(offset) + " + length " +
                       std::to_string(length) + " is beyond the end of '" + location + "' (" +
                       std::to_string(size) + " bytes)");
    }
    return file;
}

void ExternalData::read(const std::string& what, const std::string& location, std::uint64_t offset,
                        std::uint64_t length, void* dst) {
    const std::string key = check(what, location, offset, length).string();
    const int fd = ::open(key.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        throw IoError(what + ": cannot open external data file '" + key +
                      "': " + std::strerror(errno));
    }
    auto* p = static_cast<char*>(dst);
    std::uint64_t done = 0;
    while (done < length) {
        const std::size_t chunk = static_cast<std::size_t>(
            std::min<std::uint64_t>(length - done, std::uint64_t{1} << 30));
        const ssize_t r = ::pread(fd, p + done, chunk, static_cast<off_t>(offset + done));
        if (r < 0 && errno == EINTR) {
            continue;
        }
        if (r <= 0) {
            const std::string err = r < 0 ? std::strerror(errno) : "unexpected end of file";
            ::close(fd);
            throw IoError(what + ": cannot read external data file '" + key + "': " + err);
        }
        done += static_cast<std::uint64_t>(r);
    }
    ::close(fd);
}

ir::TypeInfo tensor_proto_type(const onnx::TensorProto& tp, const std::string& what) {
    ir::TypeInfo ti;
    ti.elem_type = checked_dtype(tp.data_type(), what);
    std::vector<ir::Dim> shape;
    for (auto d : checked_dims(tp, what)) {
        shape.push_back(ir::Dim{d, {}});
    }
    ti.shape = std::move(shape);
    return ti;
}

std::optional<Tensor> tensor_from_proto(const onnx::TensorProto& tp, ExternalData& ext,
                                        const std::string& what) {
    const DType dt = checked_dtype(tp.data_type(), what);
    Dims dims = checked_dims(tp, what);
    const std::int64_t n = dims_numel(dims);
    if (tp.has_segment()) {
        fail(what, "segmented tensors (TensorProto.segment) are not supported");
    }

    if (tp.data_location() == onnx::TensorProto::EXTERNAL) {
        if (dt == DType::kString) {
            fail(what, "string tensors cannot use external data");
        }
        std::string location;
        std::optional<std::uint64_t> offset, length;
        for (const auto& kv : tp.external_data()) {
            if (kv.key() == "location") {
                location = kv.value();
            }
            if (kv.key() == "offset") {
                offset = parse_u64(what, "offset", kv.value());
            }
            if (kv.key() == "length") {
                length = parse_u64(what, "length", kv.value());
            }
        }
        if (location.empty()) {
            fail(what, "external data has no 'location' entry");
        }
        const std::size_t bytes = dtype_storage_bytes(dt, n);
        if (length && *length != bytes) {
            fail(what, "external data length " + std::to_string(*length) + " does not match " +
                           std::to_string(bytes) + " bytes of " + type_str(dt, dims));
        }
        if (!ext.load()) {
            ext.resolve(what, location);  // still reject bad paths
            return std::nullopt;
        }
        // Check the range before allocating: a corrupt length must not allocate gigabytes.
        ext.check(what, location, offset.value_or(0), bytes);
        Tensor t(dt, std::move(dims));
        ext.read(what, location, offset.value_or(0), bytes, t.raw());
        return t;
    }

    if (dt == DType::kString) {
        if (tp.has_raw_data() && !tp.raw_data().empty()) {
            fail(what, "string tensors must use string_data, not raw_data");
        }
        check_count(what, "string_data", tp.string_data_size(), n, dt, dims);
        Tensor t(dt, std::move(dims));
        auto& s = t.strings();
        for (std::int64_t i = 0; i < n; ++i) {
            s[static_cast<std::size_t>(i)] = tp.string_data(static_cast<int>(i));
        }
        return t;
    }

    if (tp.has_raw_data()) {
        const std::size_t bytes = dtype_storage_bytes(dt, n);
        if (tp.raw_data().size() != bytes) {
            fail(what, "raw_data has " + std::to_string(tp.raw_data().size()) +
                           " bytes, expected " + std::to_string(bytes) + " for " +
                           type_str(dt, dims));
        }
        Tensor t(dt, std::move(dims));
        if (bytes) {
            std::memcpy(t.raw(), tp.raw_data().data(), bytes);
        }
        return t;
    }
    if (n > 0 && !has_typed_data(tp)) {
        fail(what,
             "has no data (no raw_data, no typed data, not external) for " + type_str(dt, dims));
    }
    // Validate the count before allocating, so corrupt dims cannot allocate gigabytes.
    const auto [field, got] = typed_field(tp, dt);
    const std::int64_t want = typed_count(dt, n);
    if (got != want && !(dtype_is_4bit(dt) && got == (n + 1) / 2)) {
        check_count(what, field, got, want, dt, dims);
    }
    Tensor t(dt, std::move(dims));
    fill_from_typed(tp, t, what);
    return t;
}

void tensor_to_proto(const Tensor& t, onnx::TensorProto* tp, bool with_data) {
    if (!t.defined()) {
        throw InternalError("tensor_to_proto: undefined tensor");
    }
    tp->set_data_type(static_cast<int>(t.dtype()));
    for (auto d : t.dims()) {
        tp->add_dims(d);
    }
    if (!with_data) {
        return;
    }
    if (t.dtype() == DType::kString) {
        for (const auto& s : t.strings()) {
            tp->add_string_data(s);
        }
        return;
    }
    tp->set_raw_data(static_cast<const char*>(t.raw()), t.size_bytes());
}

ir::TypeInfo type_from_proto(const onnx::TypeProto& tp, const std::string& what) {
    ir::TypeInfo ti;
    ti.denotation = tp.denotation();
    if (tp.value_case() == onnx::TypeProto::VALUE_NOT_SET) {
        return ti;
    }
    if (tp.value_case() != onnx::TypeProto::kTensorType) {
        ti.opaque = tp.SerializeAsString();
        return ti;
    }
    const auto& tt = tp.tensor_type();
    if (tt.elem_type() != 0) {
        ti.elem_type = checked_dtype(tt.elem_type(), what);
    }
    if (tt.has_shape()) {
        std::vector<ir::Dim> shape;
        shape.reserve(static_cast<std::size_t>(tt.shape().dim_size()));
        for (const auto& d : tt.shape().dim()) {
            ir::Dim dim;
            if (d.has_dim_value() && d.dim_value() >= 0) {
                dim.value = d.dim_value();
            }
            if (d.has_dim_param()) {
                dim.param = d.dim_param();
            }
            shape.push_back(std::move(dim));
        }
        ti.shape = std::move(shape);
    }
    return ti;
}

void type_to_proto(const ir::TypeInfo& ti, onnx::TypeProto* tp) {
    if (!ti.opaque.empty()) {
        if (!tp->ParseFromString(ti.opaque)) {
            throw InternalError("type_to_proto: opaque TypeProto does not parse");
        }
        return;
    }
    if (!ti.denotation.empty()) {
        tp->set_denotation(ti.denotation);
    }
    if (ti.elem_type == DType::kUndefined && !ti.shape) {
        return;
    }
    auto* tt = tp->mutable_tensor_type();
    if (ti.elem_type != DType::kUndefined) {
        tt->set_elem_type(static_cast<int>(ti.elem_type));
    }
    if (!ti.shape) {
        return;
    }
    auto* shape = tt->mutable_shape();
    for (const auto& d : *ti.shape) {
        auto* pd = shape->add_dim();
        if (d.known()) {
            pd->set_dim_value(d.value);
        } else if (!d.param.empty()) {
            pd->set_dim_param(d.param);
        }
    }
}

}  // namespace aquant::io::detail
