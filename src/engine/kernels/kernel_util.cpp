#include "kernel_util.h"

namespace aquant::engine {

std::vector<std::int64_t> read_ints(const Tensor& t) {
    std::vector<std::int64_t> out(static_cast<std::size_t>(t.numel()));
    if (t.dtype() == DType::kI64) {
        const auto* p = elems<std::int64_t>(t);
        out.assign(p, p + t.numel());
    } else if (t.dtype() == DType::kI32) {
        const auto* p = elems<std::int32_t>(t);
        out.assign(p, p + t.numel());
    } else {
        for (std::int64_t i = 0; i < t.numel(); ++i) {
            out[static_cast<std::size_t>(i)] = static_cast<std::int64_t>(t.get_f64(i));
        }
    }
    return out;
}

std::string type_error(const Tensor& t, std::size_t input) {
    return "input " + std::to_string(input) + ": element type '" +
           std::string(dtype_name(t.dtype())) + "' is not supported";
}

void fail_type(const KernelContext& ctx, std::size_t input) {
    ctx.fail(type_error(ctx.input(input), input));
}

std::vector<std::int64_t> strides_of(const Dims& dims) {
    std::vector<std::int64_t> s(dims.size(), 1);
    for (std::size_t i = dims.size(); i-- > 1;) {
        s[i - 1] = s[i] * dims[i];
    }
    return s;
}

}  // namespace aquant::engine
