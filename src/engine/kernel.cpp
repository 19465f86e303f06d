#include "aquant/engine/kernel.h"

#include "buffer_pool.h"

#include "aquant/ir/diagnostics.h"

#include <cstring>

namespace aquant::engine {

Tensor BufferPool::take(DType dtype, const Dims& dims, bool zero) {
    const std::int64_t n = dims_numel(dims);
    if (n == 0 || dtype == DType::kString) {
        return Tensor();
    }
    auto it = free_.find({static_cast<int>(dtype), n});
    if (it == free_.end() || it->second.empty()) {
        return Tensor();
    }
    Tensor t = std::move(it->second.back());
    it->second.pop_back();
    held_bytes_ -= t.size_bytes();
    ++reused_;
    if (zero) std::memset(t.raw(), 0, t.size_bytes());
    return t.reshaped(dims);
}

void BufferPool::give(Tensor t) {
    if (!t.defined() || t.dtype() == DType::kString || t.numel() == 0) {
        return;
    }
    if (t.buffer_use_count() != 1) {
        return;
    }
    if (held_bytes_ + t.size_bytes() > kMaxHeldBytes) {
        return;
    }
    held_bytes_ += t.size_bytes();
    free_[{static_cast<int>(t.dtype()), t.numel()}].push_back(std::move(t));
}

void BufferPool::clear() {
    free_.clear();
    held_bytes_ = 0;
}

Tensor& KernelContext::allocate_output(std::size_t i, DType dtype, Dims dims) {
    Tensor& out = outputs_.at(i);
    if (pool_) {
        Tensor t = pool_->take(dtype, dims);
        if (t.defined()) {
            out = std::move(t);
            return out;
        }
    }
    out = Tensor(dtype, std::move(dims));
    return out;
}

Tensor& KernelContext::allocate_output_uninit(std::size_t i, DType dtype, Dims dims) {
    Tensor& out = outputs_.at(i);
    if (pool_) {
        Tensor t = pool_->take(dtype, dims, /*zero=*/false);
        if (t.defined()) {
            out = std::move(t);
            return out;
        }
    }
    out = Tensor::uninitialized(dtype, std::move(dims));
    return out;
}

void KernelContext::fail(const std::string& what) const {
    ir::fail_at(graph_, node_, what);
}

const OuterScope& KernelContext::outer_scope() const {
    static const OuterScope kEmpty;
    return outer_ ? *outer_ : kEmpty;
}

void KernelBuildInfo::fail(const std::string& what) const {
    ir::fail_at(graph, node, what);
}

}  // namespace aquant::engine
