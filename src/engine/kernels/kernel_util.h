// Small helpers shared by the kernels: element-type dispatch, raw element access, axis and
// integer-input handling.
#pragma once

#include "aquant/core/parallel.h"
#include "aquant/core/tensor.h"
#include "aquant/engine/kernel.h"

#include <cstdint>
#include <string>
#include <type_traits>
#include <vector>

namespace aquant::engine {

template <typename T>
struct Tag {
    using type = T;
};

/// Calls f(Tag<T>{}) for the first T in Ts whose DType is `dt`; false when none matches.
template <typename... Ts, typename F>
bool visit_type(DType dt, F&& f) {
    return ((DTypeOf<Ts>::value == dt ? (f(Tag<Ts>{}), true) : false) || ...);
}

#define AQUANT_FLOAT_TYPES float, double
#define AQUANT_INT_TYPES                                                                \
    std::int8_t, std::int16_t, std::int32_t, std::int64_t, std::uint8_t, std::uint16_t, \
        std::uint32_t, std::uint64_t
#define AQUANT_SIGNED_TYPES  float, double, std::int8_t, std::int16_t, std::int32_t, std::int64_t
#define AQUANT_NUMERIC_TYPES AQUANT_FLOAT_TYPES, AQUANT_INT_TYPES

/// Element pointers without the dtype check of Tensor::data<T>() (data-movement kernels view
/// any 4-byte element as uint32_t, ...). std::string addresses the string side vector.
template <typename T>
T* elems(Tensor& t) {
    if constexpr (std::is_same_v<T, std::string>) {
        return t.strings().data();
    } else {
        return static_cast<T*>(t.raw());
    }
}

template <typename T>
const T* elems(const Tensor& t) {
    if constexpr (std::is_same_v<T, std::string>) {
        return t.strings().data();
    } else {
        return static_cast<const T*>(t.raw());
    }
}

/// Calls f(Tag<T>{}) with an unsigned type of the element's size (std::string for strings), for
/// kernels that only move elements. False for 4-bit types.
template <typename F>
bool visit_by_size(DType dt, F&& f) {
    if (dt == DType::kString) {
        f(Tag<std::string>{});
        return true;
    }
    if (dt == DType::kUndefined || dtype_is_4bit(dt)) {
        return false;
    }
    switch (dtype_traits(dt).bits) {
        case 8:
            f(Tag<std::uint8_t>{});
            return true;
        case 16:
            f(Tag<std::uint16_t>{});
            return true;
        case 32:
            f(Tag<std::uint32_t>{});
            return true;
        case 64:
            f(Tag<std::uint64_t>{});
            return true;
        case 128:
            return false;
        default:
            return false;
    }
}

/// Maps axis in [-rank, rank) to [0, rank); false when out of range.
inline bool normalize_axis(std::int64_t& axis, std::int64_t rank) {
    if (axis < -rank || axis >= rank) {
        return false;
    }
    if (axis < 0) {
        axis += rank;
    }
    return true;
}

/// Elements of an integer tensor (int32/int64/...) as int64.
std::vector<std::int64_t> read_ints(const Tensor& t);

/// Error text helpers ("unsupported input type 'string'").
std::string type_error(const Tensor& t, std::size_t input);

/// Fails the node unless the input has one of the listed types (checked in run(): types are
/// only known at run time).
[[noreturn]] void fail_type(const KernelContext& ctx, std::size_t input);

/// A tensor with the same dims as `like`, zero-filled, allocated as output i.
inline Tensor& allocate_like(KernelContext& ctx, std::size_t i, const Tensor& like) {
    return ctx.allocate_output(i, like.dtype(), like.dims());
}

/// Elements per parallel_for chunk for cheap elementwise loops.
constexpr std::int64_t kElementwiseGrain = 1 << 14;

/// `x` converted to element type `to` (cast.cpp; numeric, float16/bfloat16, bool, string).
/// Throws ModelError through ctx for unsupported pairs.
Tensor cast_tensor(const KernelContext& ctx, const Tensor& x, DType to);

inline bool is_half(DType t) {
    return t == DType::kF16 || t == DType::kBF16;
}

/// Row-major strides of dims.
std::vector<std::int64_t> strides_of(const Dims& dims);

}  // namespace aquant::engine
