// Shape rules: convolution, pooling, matrix products (float, integer and QLinear variants).
#include "ir/shape_infer_ctx.h"

#include "aquant/ir/shape_infer.h"

namespace aquant::ir::shape {
namespace {

struct Window {
    std::vector<std::int64_t> kernel, strides, dilations, pads;
    std::string auto_pad;
};

// Reads kernel/strides/dilations/pads for `spatial` axes; kernel from W's dims when no attribute.
std::optional<Window> window_attrs(const Node& n, std::size_t spatial, const Shape* w) {
    Window win;
    win.kernel = n.attr_ints("kernel_shape");
    if (win.kernel.empty() && w && w->size() == spatial + 2) {
        for (std::size_t i = 0; i < spatial; ++i) {
            if (!usable((*w)[i + 2])) {
                return std::nullopt;
            }
            win.kernel.push_back((*w)[i + 2].value);
        }
    }
    win.strides = n.attr_ints("strides", std::vector<std::int64_t>(spatial, 1));
    win.dilations = n.attr_ints("dilations", std::vector<std::int64_t>(spatial, 1));
    win.pads = n.attr_ints("pads", std::vector<std::int64_t>(2 * spatial, 0));
    win.auto_pad = n.attr_string("auto_pad", "NOTSET");
    if (win.kernel.size() != spatial || win.strides.size() != spatial ||
        win.dilations.size() != spatial || win.pads.size() != 2 * spatial) {
        return std::nullopt;
    }
    // Corrupt attributes must not overflow the arithmetic below.
    auto in_range = [](const std::vector<std::int64_t>& v, std::int64_t lo, std::int64_t hi) {
        for (auto x : v) {
            if (x < lo || x > hi) {
                return false;
            }
        }
        return true;
    };
    if (!in_range(win.kernel, 1, kMaxWindow) || !in_range(win.strides, 1, kMaxWindow) ||
        !in_range(win.dilations, 1, kMaxWindow) || !in_range(win.pads, 0, kMaxDim)) {
        return std::nullopt;
    }
    return win;
}

// Spatial output dims of Conv and pooling (ONNX Conv-11 / MaxPool-12 formulas).
std::optional<Shape> window_dims(const Node& n, const Shape& x, const Shape* w, bool ceil_mode) {
    if (x.size() < 3) {
        return std::nullopt;
    }
    const std::size_t spatial = x.size() - 2;
    const auto win = window_attrs(n, spatial, w);
    if (!win) {
        return std::nullopt;
    }
    Shape out;
    for (std::size_t i = 0; i < spatial; ++i) {
        const Dim& in = x[i + 2];
        const std::int64_t s = win->strides[i];
        const std::int64_t span = (win->kernel[i] - 1) * win->dilations[i] + 1;
        if (!usable(in) || s <= 0 || span <= 0) {
            out.push_back(Dim{});
            continue;
        }
        std::int64_t o = -1;
        if (win->auto_pad == "SAME_UPPER" || win->auto_pad == "SAME_LOWER") {
            o = (in.value + s - 1) / s;
        } else if (win->auto_pad == "VALID") {
            o = in.value >= span ? (in.value - span) / s + 1 : -1;
        } else {
            o = window_output_size(in.value, win->kernel[i], s, win->dilations[i], win->pads[i],
                                   win->pads[i + spatial], ceil_mode);
        }
        out.push_back(o >= 0 ? known(o) : Dim{});
    }
    return out;
}

// Conv-like: x at `xi`, weights at `wi`; output channels from W[0].
void conv_like(Ctx& c, std::size_t xi, std::size_t wi, DType elem) {
    const Shape* x = c.shape(xi);
    const Shape* w = c.shape(wi);
    if (!x) {
        return;
    }
    auto spatial = window_dims(c.node(), *x, w, false);
    if (!spatial) {
        return;
    }
    Shape out{(*x)[0], w && !w->empty() ? (*w)[0] : Dim{}};
    out.insert(out.end(), spatial->begin(), spatial->end());
    c.set(0, elem, out);
}

void conv(Ctx& c) {
    if (auto e = c.elem(0)) {
        conv_like(c, 0, 1, *e);
    }
}

void conv_integer(Ctx& c) {
    conv_like(c, 0, 1, DType::kI32);
}

void qlinear_conv(Ctx& c) {
    if (auto e = c.elem(7)) {
        conv_like(c, 0, 3, *e);
    }
}

// ConvTranspose-11: out = stride*(in-1) + output_padding + span - pad_begin - pad_end.
void conv_transpose(Ctx& c) {
    const Shape* x = c.shape(0);
    const Shape* w = c.shape(1);
    const auto e = c.elem(0);
    if (!x || !e || x->size() < 3) {
        return;
    }
    const Node& n = c.node();
    const std::size_t spatial = x->size() - 2;
    const auto win = window_attrs(n, spatial, w);
    if (!win) {
        return;
    }
    const auto out_pad = n.attr_ints("output_padding", std::vector<std::int64_t>(spatial, 0));
    const auto out_shape = n.attr_ints("output_shape");
    const std::int64_t group = n.attr_int("group", 1);
    if (group < 1 || group > kMaxWindow) {
        return;
    }
    for (auto p : out_pad) {
        if (p < 0 || p > kMaxWindow) {
            return;
        }
    }
    Dim channels;
    if (w && w->size() == x->size() && usable((*w)[1])) {
        channels = known((*w)[1].value * group);
    }
    Shape out{(*x)[0], channels};
    for (std::size_t i = 0; i < spatial; ++i) {
        if (out_shape.size() == spatial) {
            out.push_back(known(out_shape[i]));
            continue;
        }
        const Dim& in = (*x)[i + 2];
        if (!usable(in) || out_pad.size() != spatial) {
            out.push_back(Dim{});
            continue;
        }
        const std::int64_t s = win->strides[i];
        const std::int64_t span = (win->kernel[i] - 1) * win->dilations[i] + 1;
        std::int64_t o = 0;
        if (win->auto_pad == "SAME_UPPER" || win->auto_pad == "SAME_LOWER") {
            o = in.value * s;
        } else {
            o = s * (in.value - 1) + out_pad[i] + span - win->pads[i] - win->pads[i + spatial];
        }
        out.push_back(o >= 0 ? known(o) : Dim{});
    }
    c.set(0, *e, out);
}

void pool(Ctx& c) {
    const Shape* x = c.shape(0);
    const auto e = c.elem(0);
    if (!x || !e || x->size() < 3) {
        return;
    }
    auto spatial = window_dims(c.node(), *x, nullptr, c.node().attr_int("ceil_mode", 0) != 0);
    if (!spatial) {
        return;
    }
    Shape out{(*x)[0], (*x)[1]};
    out.insert(out.end(), spatial->begin(), spatial->end());
    c.set(0, *e, out);
    c.set(1, DType::kI64, out);  // MaxPool indices
}

void global_pool(Ctx& c) {
    const Shape* x = c.shape(0);
    const auto e = c.elem(0);
    if (!x || !e || x->size() < 3) {
        return;
    }
    Shape out{(*x)[0], (*x)[1]};
    out.resize(x->size(), known(1));
    c.set(0, *e, out);
}

void gemm(Ctx& c) {
    const Shape* a = c.shape(0);
    const Shape* b = c.shape(1);
    const auto e = c.elem(0);
    if (!a || !b || !e || a->size() != 2 || b->size() != 2) {
        return;
    }
    const bool ta = c.node().attr_int("transA", 0) != 0;
    const bool tb = c.node().attr_int("transB", 0) != 0;
    c.set(0, *e, Shape{(*a)[ta ? 1 : 0], (*b)[tb ? 0 : 1]});
}

// numpy.matmul: 1-D operands gain and then lose a unit axis; batch axes broadcast.
std::optional<Shape> matmul_shape(const Shape& a0, const Shape& b0) {
    if (a0.empty() || b0.empty()) {
        return std::nullopt;
    }
    Shape a = a0, b = b0;
    const bool a_vec = a.size() == 1, b_vec = b.size() == 1;
    if (a_vec) {
        a.insert(a.begin(), known(1));
    }
    if (b_vec) {
        b.push_back(known(1));
    }
    auto batch = broadcast_shapes(Shape(a.begin(), a.end() - 2), Shape(b.begin(), b.end() - 2));
    if (!batch) {
        return std::nullopt;
    }
    Shape out = *batch;
    if (!a_vec) {
        out.push_back(a[a.size() - 2]);
    }
    if (!b_vec) {
        out.push_back(b.back());
    }
    return out;
}

void matmul_like(Ctx& c, std::size_t ai, std::size_t bi, std::optional<DType> elem) {
    const Shape* a = c.shape(ai);
    const Shape* b = c.shape(bi);
    if (!elem) {
        return;
    }
    if (!a || !b) {
        c.set(0, *elem, std::nullopt);
        return;
    }
    if (auto s = matmul_shape(*a, *b)) {
        c.set(0, *elem, *s);
    }
}

void matmul(Ctx& c) {
    matmul_like(c, 0, 1, c.elem(0));
}

void matmul_integer(Ctx& c) {
    matmul_like(c, 0, 1, DType::kI32);
}

void qlinear_matmul(Ctx& c) {
    matmul_like(c, 0, 3, c.elem(7));
}

}  // namespace

void add_nn_rules(RuleTable& t) {
    t["Conv"] = conv;
    t["ConvInteger"] = conv_integer;
    t["QLinearConv"] = qlinear_conv;
    t["ConvTranspose"] = conv_transpose;
    t["MaxPool"] = pool;
    t["AveragePool"] = pool;
    t["LpPool"] = pool;
    t["GlobalAveragePool"] = global_pool;
    t["GlobalMaxPool"] = global_pool;
    t["GlobalLpPool"] = global_pool;
    t["Gemm"] = gemm;
    t["MatMul"] = matmul;
    t["MatMulInteger"] = matmul_integer;
    t["QLinearMatMul"] = qlinear_matmul;
}

}  // namespace aquant::ir::shape
