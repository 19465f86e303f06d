// Shape rules: elementwise ops, broadcasting, casts, quantization, Constant.
#include "ir/shape_infer_ctx.h"

#include "aquant/ir/shape_infer.h"

namespace aquant::ir::shape {
namespace {

void same_as_input0(Ctx& c) {
    if (const TypeInfo* t = c.type(0)) {
        c.set(0, t->elem_type, t->shape);
    }
}

void bool_like_input0(Ctx& c) {
    if (const TypeInfo* t = c.type(0)) {
        c.set(0, DType::kBool, t->shape);
    }
}

void dropout(Ctx& c) {
    const TypeInfo* t = c.type(0);
    if (!t) {
        return;
    }
    c.set(0, t->elem_type, t->shape);
    c.set(1, DType::kBool, t->shape);
}

// Broadcast shape of inputs [first, last]; nullopt inside when a rank is unknown.
bool broadcast_inputs(const Ctx& c, std::size_t first, std::size_t last,
                      std::optional<Shape>& out) {
    Shape acc;
    for (std::size_t i = first; i <= last; ++i) {
        if (!c.has_input(i)) {
            return false;
        }
        const Shape* s = c.shape(i);
        if (!s) {
            out.reset();
            return true;
        }
        auto b = broadcast_shapes(acc, *s);
        if (!b) {
            return false;  // incompatible: leave untyped
        }
        acc = std::move(*b);
    }
    out = std::move(acc);
    return true;
}

void binary(Ctx& c) {
    std::optional<Shape> s;
    const auto e = c.elem(0);
    if (e && c.num_inputs() >= 1 && broadcast_inputs(c, 0, c.num_inputs() - 1, s)) {
        c.set(0, *e, s);
    }
}

void compare(Ctx& c) {
    std::optional<Shape> s;
    if (c.num_inputs() == 2 && broadcast_inputs(c, 0, 1, s)) {
        c.set(0, DType::kBool, s);
    }
}

void where(Ctx& c) {
    std::optional<Shape> s;
    const auto e = c.elem(1);
    if (e && broadcast_inputs(c, 0, 2, s)) {
        c.set(0, *e, s);
    }
}

void cast(Ctx& c) {
    const auto to = dtype_from_code(static_cast<int>(c.node().attr_int("to", 0)));
    if (const TypeInfo* t = c.type(0); t && to && *to != DType::kUndefined) {
        c.set(0, *to, t->shape);
    }
}

void cast_like(Ctx& c) {
    const TypeInfo* t = c.type(0);
    const auto e = c.elem(1);
    if (t && e) {
        c.set(0, *e, t->shape);
    }
}

// QuantizeLinear: y takes the zero point's type (uint8 without one); opset 21 may name it in
// output_dtype.
void quantize_linear(Ctx& c) {
    const TypeInfo* t = c.type(0);
    if (!t) {
        return;
    }
    std::optional<DType> out;
    if (auto code = c.node().attr_int("output_dtype", 0); code != 0) {
        out = dtype_from_code(int(code));
    }
    if (!out && c.has_input(2)) {
        out = c.elem(2);
        if (!out) {
            if (const Tensor* zp = c.constant(2)) {
                out = zp->dtype();
            }
        }
        if (!out) {
            return;
        }
    }
    c.set(0, out.value_or(DType::kU8), t->shape);
}

// DequantizeLinear: y takes the scale's type (float before opset 19, which only allowed float).
void dequantize_linear(Ctx& c) {
    const TypeInfo* t = c.type(0);
    if (!t) {
        return;
    }
    c.set(0, c.elem(1).value_or(DType::kF32), t->shape);
}

void dynamic_quantize_linear(Ctx& c) {
    const TypeInfo* t = c.type(0);
    if (!t) {
        return;
    }
    c.set(0, DType::kU8, t->shape);
    c.set(1, DType::kF32, Shape{});
    c.set(2, DType::kU8, Shape{});
}

void constant(Ctx& c) {
    const Node& n = c.node();
    if (const Attribute* a = n.find_attr("value"); a && a->t.defined()) {
        Shape s;
        for (auto d : a->t.dims()) {
            s.push_back(known(d));
        }
        c.set(0, a->t.dtype(), s);
    } else if (n.find_attr("value_float")) {
        c.set(0, DType::kF32, Shape{});
    } else if (n.find_attr("value_int")) {
        c.set(0, DType::kI64, Shape{});
    } else if (n.find_attr("value_string")) {
        c.set(0, DType::kString, Shape{});
    } else if (const Attribute* f = n.find_attr("value_floats")) {
        c.set(0, DType::kF32, Shape{known(static_cast<std::int64_t>(f->floats.size()))});
    } else if (const Attribute* i = n.find_attr("value_ints")) {
        c.set(0, DType::kI64, Shape{known(static_cast<std::int64_t>(i->ints.size()))});
    } else if (const Attribute* s = n.find_attr("value_strings")) {
        c.set(0, DType::kString, Shape{known(static_cast<std::int64_t>(s->strings.size()))});
    }
}

}  // namespace

void add_elementwise_rules(RuleTable& t) {
    for (const char* op : {"Identity",
                           "Relu",
                           "LeakyRelu",
                           "Elu",
                           "Selu",
                           "Celu",
                           "Sigmoid",
                           "HardSigmoid",
                           "HardSwish",
                           "Tanh",
                           "Softplus",
                           "Softsign",
                           "Gelu",
                           "Mish",
                           "Abs",
                           "Neg",
                           "Exp",
                           "Log",
                           "Sqrt",
                           "Reciprocal",
                           "Floor",
                           "Ceil",
                           "Round",
                           "Erf",
                           "Sin",
                           "Cos",
                           "Tan",
                           "Asin",
                           "Acos",
                           "Atan",
                           "Sinh",
                           "Cosh",
                           "Asinh",
                           "Acosh",
                           "Atanh",
                           "Sign",
                           "Clip",
                           "Softmax",
                           "LogSoftmax",
                           "Hardmax",
                           "LRN",
                           "InstanceNormalization",
                           "LayerNormalization",
                           "BatchNormalization",
                           "ThresholdedRelu",
                           "Shrink",
                           "CumSum",
                           "Not",
                           "BitwiseNot",
                           "MeanVarianceNormalization",
                           "LpNormalization",
                           "Trilu"}) {
        t[op] = same_as_input0;
    }
    for (const char* op : {"Add", "Sub", "Mul", "Div", "Pow", "Mod", "PRelu", "BitShift",
                           "BitwiseAnd", "BitwiseOr", "BitwiseXor", "Max", "Min", "Sum", "Mean"}) {
        t[op] = binary;
    }
    for (const char* op :
         {"Equal", "Less", "Greater", "LessOrEqual", "GreaterOrEqual", "And", "Or", "Xor"}) {
        t[op] = compare;
    }
    t["IsNaN"] = bool_like_input0;
    t["IsInf"] = bool_like_input0;
    t["Dropout"] = dropout;
    t["Where"] = where;
    t["Cast"] = cast;
    t["CastLike"] = cast_like;
    t["QuantizeLinear"] = quantize_linear;
    t["DequantizeLinear"] = dequantize_linear;
    t["DynamicQuantizeLinear"] = dynamic_quantize_linear;
    t["Constant"] = constant;
}

}  // namespace aquant::ir::shape
