// Owning, contiguous, row-major tensor. Copies share the buffer (cheap); clone() deep-copies.
// Storage: one element per sizeof(T) for byte-sized types, INT4/UINT4 packed two per byte (low
// nibble first, as ONNX), bool as one byte, float16/bfloat16 as raw uint16, strings in a side
// vector. Buffers are 64-byte aligned.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "aquant/core/dtype.h"
#include "aquant/core/error.h"

namespace aquant {

using Dims = std::vector<std::int64_t>;

std::int64_t dims_numel(const Dims& dims);
std::string dims_str(const Dims& dims);  // "[1,3,224,224]"

class Tensor {
public:
    Tensor() = default;
    /// Allocates zero-initialised storage. Negative dims throw InternalError.
    Tensor(DType dtype, Dims dims);
    /// Like Tensor(dtype, dims) but the contents are unspecified (no zero fill): for buffers the
    /// caller overwrites completely. String tensors are still empty strings.
    static Tensor uninitialized(DType dtype, Dims dims);

    template <typename T>
    static Tensor from_vector(Dims dims, const std::vector<T>& values);
    template <typename T>
    static Tensor scalar(T value) {
        return from_vector<T>({}, std::vector<T>{value});
    }

    DType dtype() const { return dtype_; }
    const Dims& dims() const { return dims_; }
    std::size_t rank() const { return dims_.size(); }
    std::int64_t dim(std::size_t i) const { return dims_[i]; }
    std::int64_t numel() const { return numel_; }
    std::size_t size_bytes() const { return bytes_; }
    bool empty_storage() const { return !buf_ && !strings_; }
    bool defined() const { return dtype_ != DType::kUndefined; }
    /// Tensors sharing this buffer (1: this one alone), so an owner may recycle it safely.
    long buffer_use_count() const { return buf_.use_count(); }

    void* raw() { return buf_.get(); }
    const void* raw() const { return buf_.get(); }
    template <typename T>
    T* data() {
        check_type<T>();
        return static_cast<T*>(raw());
    }
    template <typename T>
    const T* data() const {
        check_type<T>();
        return static_cast<const T*>(raw());
    }
    std::vector<std::string>& strings();
    const std::vector<std::string>& strings() const;

    /// Same buffer, new dims (element count must match).
    Tensor reshaped(Dims dims) const;
    Tensor clone() const;
    /// Elements converted to double / float (any numeric type, INT4 unpacked, f16/bf16 widened).
    std::vector<double> to_f64() const;
    std::vector<float> to_f32() const;
    /// Element i as double (slow path for tests, printing, small tensors).
    double get_f64(std::int64_t i) const;
    /// Exact equality of type, dims and bytes (strings compared by value).
    bool same_as(const Tensor& other) const;

private:
    template <typename T>
    void check_type() const;

    DType dtype_ = DType::kUndefined;
    Dims dims_;
    std::int64_t numel_ = 0;
    std::size_t bytes_ = 0;
    std::shared_ptr<std::byte> buf_;
    std::shared_ptr<std::vector<std::string>> strings_;
};

template <typename T>
void Tensor::check_type() const {
    // uint16 doubles as raw float16/bfloat16 storage; uint8 as bool and raw 4-bit bytes.
    constexpr DType want = DTypeOf<T>::value;
    if (want == dtype_) return;
    if (want == DType::kU16 && (dtype_ == DType::kF16 || dtype_ == DType::kBF16)) return;
    if (want == DType::kU8 && (dtype_ == DType::kBool || dtype_is_4bit(dtype_))) return;
    if (want == DType::kBool && dtype_ == DType::kU8) return;
    throw InternalError(std::string("tensor of type ") + std::string(dtype_name(dtype_)) +
                        " accessed as " + std::string(dtype_name(want)));
}

template <typename T>
Tensor Tensor::from_vector(Dims dims, const std::vector<T>& values) {
    Tensor t(DTypeOf<T>::value, std::move(dims));
    if (static_cast<std::int64_t>(values.size()) != t.numel()) {
        throw InternalError("Tensor::from_vector: " + std::to_string(values.size()) +
                            " values for dims " + dims_str(t.dims()));
    }
    T* out = t.data<T>();
    for (std::size_t i = 0; i < values.size(); ++i) out[i] = values[i];
    return t;
}

/// IEEE half and bfloat16 conversions (round to nearest even).
float half_to_float(std::uint16_t h);
std::uint16_t float_to_half(float f);
float bf16_to_float(std::uint16_t h);
std::uint16_t float_to_bf16(float f);

}  // namespace aquant
