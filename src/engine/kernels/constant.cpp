// ONNX Constant (value, value_float(s), value_int(s), value_string(s)) and ConstantOfShape.
// Constant's output is its attribute tensor, made once at build time and shared by every run.
#include "kernel_util.h"

#include "aquant/engine/kernel_registry.h"

namespace aquant::engine {
namespace {

class Constant final : public Kernel {
public:
    explicit Constant(Tensor value) : value_(std::move(value)) {}

    void run(KernelContext& ctx) const override { ctx.set_output(0, value_); }

private:
    Tensor value_;
};

Tensor constant_value(const KernelBuildInfo& info) {
    const ir::Node& n = info.node;
    const ir::Attribute* a = nullptr;
    for (const char* name : {"value", "value_float", "value_floats", "value_int", "value_ints",
                             "value_string", "value_strings", "sparse_value"}) {
        if (const ir::Attribute* found = n.find_attr(name)) {
            if (a) {
                info.fail("has more than one value attribute");
            }
            a = found;
        }
    }
    if (!a) {
        info.fail("has no value attribute");
    }
    if (a->name == "value") {
        return a->t;
    }
    if (a->name == "value_float") {
        return Tensor::scalar<float>(a->f);
    }
    if (a->name == "value_floats") {
        return Tensor::from_vector<float>({static_cast<std::int64_t>(a->floats.size())}, a->floats);
    }
    if (a->name == "value_int") {
        return Tensor::scalar<std::int64_t>(a->i);
    }
    if (a->name == "value_ints") {
        return Tensor::from_vector<std::int64_t>({static_cast<std::int64_t>(a->ints.size())},
                                                 a->ints);
    }
    if (a->name == "value_string") {
        Tensor t(DType::kString, {});
        t.strings()[0] = a->s;
        return t;
    }
    if (a->name == "value_strings") {
        Tensor t(DType::kString, {static_cast<std::int64_t>(a->strings.size())});
        t.strings() = a->strings;
        return t;
    }
    info.fail("attribute 'sparse_value' is not supported");
}

class ConstantOfShape final : public Kernel {
public:
    explicit ConstantOfShape(Tensor value) : value_(std::move(value)) {}

    void run(KernelContext& ctx) const override {
        const std::vector<std::int64_t> shape = read_ints(ctx.input(0));
        for (std::int64_t d : shape) {
            if (d < 0) {
                ctx.fail("shape " + dims_str(shape) + " has a negative dim");
            }
        }
        Tensor& y = ctx.allocate_output(0, value_.dtype(), shape);
        const bool ok = visit_by_size(value_.dtype(), [&](auto tag) {
            using T = typename decltype(tag)::type;
            const T v = elems<T>(value_)[0];
            T* py = elems<T>(y);
            for (std::int64_t i = 0; i < y.numel(); ++i) {
                py[i] = v;
            }
        });
        if (!ok) {
            ctx.fail("attribute 'value' has an unsupported element type");
        }
    }

private:
    Tensor value_;
};

}  // namespace

void register_constant(KernelRegistry& registry) {
    registry.add("Constant", [](const KernelBuildInfo& info) -> KernelPtr {
        return std::make_unique<Constant>(constant_value(info));
    });
    registry.add("ConstantOfShape", [](const KernelBuildInfo& info) -> KernelPtr {
        Tensor value = Tensor::scalar<float>(0.0f);
        if (const ir::Attribute* a = info.node.find_attr("value")) {
            if (a->t.numel() != 1) {
                info.fail("attribute 'value': expected one element, got " +
                          std::to_string(a->t.numel()));
            }
            value = a->t;
        }
        return std::make_unique<ConstantOfShape>(value);
    });
}

}  // namespace aquant::engine
