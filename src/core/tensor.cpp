#include "aquant/core/tensor.h"

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <new>

namespace aquant {

std::int64_t dims_numel(const Dims& dims) {
    std::int64_t n = 1;
    for (auto d : dims) n *= d;
    return n;
}

std::string dims_str(const Dims& dims) {
    std::string s = "[";
    for (std::size_t i = 0; i < dims.size(); ++i) {
        if (i) s += ",";
        s += std::to_string(dims[i]);
    }
    return s + "]";
}

namespace {
std::shared_ptr<std::byte> alloc_aligned(std::size_t bytes, bool zero = true) {
    const std::size_t rounded = ((bytes + 63) / 64) * 64;
    void* p = std::aligned_alloc(64, rounded == 0 ? 64 : rounded);
    if (!p) throw std::bad_alloc();
    if (zero) std::memset(p, 0, rounded == 0 ? 64 : rounded);
    return std::shared_ptr<std::byte>(static_cast<std::byte*>(p), [](std::byte* q) { std::free(q); });
}
}  // namespace

Tensor::Tensor(DType dtype, Dims dims) : dtype_(dtype), dims_(std::move(dims)) {
    for (auto d : dims_) {
        if (d < 0) throw InternalError("Tensor: negative dimension in " + dims_str(dims_));
    }
    numel_ = dims_numel(dims_);
    if (dtype_ == DType::kString) {
        strings_ = std::make_shared<std::vector<std::string>>(static_cast<std::size_t>(numel_));
        return;
    }
    bytes_ = dtype_storage_bytes(dtype_, numel_);
    buf_ = alloc_aligned(bytes_);
}

Tensor Tensor::uninitialized(DType dtype, Dims dims) {
    if (dtype == DType::kString) return Tensor(dtype, std::move(dims));
    for (auto d : dims) {
        if (d < 0) throw InternalError("Tensor: negative dimension in " + dims_str(dims));
    }
    Tensor t;
    t.dtype_ = dtype;
    t.dims_ = std::move(dims);
    t.numel_ = dims_numel(t.dims_);
    t.bytes_ = dtype_storage_bytes(dtype, t.numel_);
    t.buf_ = alloc_aligned(t.bytes_, /*zero=*/false);
    return t;
}

std::vector<std::string>& Tensor::strings() {
    if (!strings_) throw InternalError("tensor is not a string tensor");
    return *strings_;
}

const std::vector<std::string>& Tensor::strings() const {
    if (!strings_) throw InternalError("tensor is not a string tensor");
    return *strings_;
}

Tensor Tensor::reshaped(Dims dims) const {
    if (dims_numel(dims) != numel_) {
        throw InternalError("reshape " + dims_str(dims_) + " to " + dims_str(dims));
    }
    Tensor t = *this;
    t.dims_ = std::move(dims);
    return t;
}

Tensor Tensor::clone() const {
    Tensor t(dtype_, dims_);
    if (strings_) {
        *t.strings_ = *strings_;
    } else if (bytes_) {
        std::memcpy(t.raw(), raw(), bytes_);
    }
    return t;
}

double Tensor::get_f64(std::int64_t i) const {
    const auto* b = static_cast<const unsigned char*>(raw());
    switch (dtype_) {
        case DType::kF32: return static_cast<const float*>(raw())[i];
        case DType::kF64: return static_cast<const double*>(raw())[i];
        case DType::kU8: case DType::kBool: return b[i];
        case DType::kI8: return static_cast<const std::int8_t*>(raw())[i];
        case DType::kU16: return static_cast<const std::uint16_t*>(raw())[i];
        case DType::kI16: return static_cast<const std::int16_t*>(raw())[i];
        case DType::kI32: return static_cast<const std::int32_t*>(raw())[i];
        case DType::kI64: return static_cast<double>(static_cast<const std::int64_t*>(raw())[i]);
        case DType::kU32: return static_cast<const std::uint32_t*>(raw())[i];
        case DType::kU64: return static_cast<double>(static_cast<const std::uint64_t*>(raw())[i]);
        case DType::kF16: return half_to_float(static_cast<const std::uint16_t*>(raw())[i]);
        case DType::kBF16: return bf16_to_float(static_cast<const std::uint16_t*>(raw())[i]);
        case DType::kU4: {
            const unsigned v = (b[i / 2] >> ((i % 2) * 4)) & 0xF;
            return v;
        }
        case DType::kI4: {
            int v = (b[i / 2] >> ((i % 2) * 4)) & 0xF;
            if (v >= 8) v -= 16;
            return v;
        }
        default:
            throw InternalError("element of type " + std::string(dtype_name(dtype_)) +
                                " has no numeric value");
    }
}

std::vector<double> Tensor::to_f64() const {
    std::vector<double> out(static_cast<std::size_t>(numel_));
    for (std::int64_t i = 0; i < numel_; ++i) out[static_cast<std::size_t>(i)] = get_f64(i);
    return out;
}

std::vector<float> Tensor::to_f32() const {
    std::vector<float> out(static_cast<std::size_t>(numel_));
    if (dtype_ == DType::kF32) {
        std::memcpy(out.data(), raw(), bytes_);
        return out;
    }
    for (std::int64_t i = 0; i < numel_; ++i) {
        out[static_cast<std::size_t>(i)] = static_cast<float>(get_f64(i));
    }
    return out;
}

bool Tensor::same_as(const Tensor& other) const {
    if (dtype_ != other.dtype_ || dims_ != other.dims_) return false;
    if (strings_ || other.strings_) {
        return strings_ && other.strings_ && *strings_ == *other.strings_;
    }
    if (bytes_ != other.bytes_) return false;
    return bytes_ == 0 || std::memcmp(raw(), other.raw(), bytes_) == 0;
}

float half_to_float(std::uint16_t h) {
    const std::uint32_t sign = (h & 0x8000u) << 16;
    std::uint32_t exp = (h >> 10) & 0x1F;
    std::uint32_t mant = h & 0x3FF;
    std::uint32_t bits;
    if (exp == 0) {
        if (mant == 0) {
            bits = sign;
        } else {
            exp = 127 - 15 + 1;
            while ((mant & 0x400) == 0) {
                mant <<= 1;
                --exp;
            }
            mant &= 0x3FF;
            bits = sign | (exp << 23) | (mant << 13);
        }
    } else if (exp == 0x1F) {
        bits = sign | 0x7F800000u | (mant << 13);
    } else {
        bits = sign | ((exp + 127 - 15) << 23) | (mant << 13);
    }
    float f;
    std::memcpy(&f, &bits, 4);
    return f;
}

std::uint16_t float_to_half(float f) {
    std::uint32_t x;
    std::memcpy(&x, &f, 4);
    const std::uint32_t sign = (x >> 16) & 0x8000u;
    const std::uint32_t absx = x & 0x7FFFFFFFu;
    if (absx >= 0x7F800000u) {  // inf or nan
        return static_cast<std::uint16_t>(sign | 0x7C00u | (absx > 0x7F800000u ? 0x200u : 0u));
    }
    if (absx >= 0x477FF000u) return static_cast<std::uint16_t>(sign | 0x7C00u);  // overflow
    if (absx < 0x38800000u) {  // half subnormal (unit 2^-24) or zero
        if (absx < 0x33000000u) return static_cast<std::uint16_t>(sign);  // below half of 2^-24
        const std::uint32_t e = absx >> 23;
        const std::uint32_t m = (absx & 0x7FFFFFu) | 0x800000u;  // value = m * 2^(e - 150)
        const std::uint32_t s = 150 - 24 - e;                       // shift to units of 2^-24
        std::uint32_t res = m >> s;
        const std::uint32_t dropped = m & ((1u << s) - 1u);
        const std::uint32_t halfway = 1u << (s - 1);
        if (dropped > halfway || (dropped == halfway && (res & 1u))) ++res;
        return static_cast<std::uint16_t>(sign | res);
    }
    std::uint32_t res = ((absx - 0x38000000u) >> 13);
    const std::uint32_t dropped = absx & 0x1FFFu;
    if (dropped > 0x1000u || (dropped == 0x1000u && (res & 1u))) ++res;
    return static_cast<std::uint16_t>(sign | res);
}

float bf16_to_float(std::uint16_t h) {
    const std::uint32_t bits = static_cast<std::uint32_t>(h) << 16;
    float f;
    std::memcpy(&f, &bits, 4);
    return f;
}

std::uint16_t float_to_bf16(float f) {
    std::uint32_t x;
    std::memcpy(&x, &f, 4);
    if ((x & 0x7FFFFFFFu) > 0x7F800000u) return static_cast<std::uint16_t>((x >> 16) | 0x40u);
    const std::uint32_t lsb = (x >> 16) & 1u;
    x += 0x7FFFu + lsb;
    return static_cast<std::uint16_t>(x >> 16);
}

}  // namespace aquant
