// Shape rules: ops that move or select data (Reshape, Transpose, Concat, Slice, Reduce*, ...).
#include "ir/shape_infer_ctx.h"

#include "aquant/ir/shape_infer.h"

#include <algorithm>
#include <set>

namespace aquant::ir::shape {
namespace {

bool all_in_range(const std::vector<std::int64_t>& v, std::int64_t lo, std::int64_t hi) {
    return std::all_of(v.begin(), v.end(), [&](std::int64_t x) { return x >= lo && x <= hi; });
}

// Reshape-5/14 with a constant shape: 0 copies the input dim (unless allowzero), -1 is inferred
// from what the copied dims leave over.
void reshape(Ctx& c) {
    const Shape* x = c.shape(0);
    const auto e = c.elem(0);
    const auto target = c.ints(1);
    if (!e || !target || !all_in_range(*target, -1, kMaxDim)) {
        return;
    }
    const bool allowzero = c.node().attr_int("allowzero", 0) != 0;
    Shape out(target->size());
    std::set<std::size_t> copied;
    int infer_at = -1;
    Dim rest_out = known(1);  // product of the explicit output dims
    for (std::size_t i = 0; i < target->size(); ++i) {
        const std::int64_t t = (*target)[i];
        if (t == 0 && !allowzero) {
            if (!x || i >= x->size()) {
                return;
            }
            out[i] = (*x)[i];
            copied.insert(i);
        } else if (t == -1) {
            if (infer_at >= 0) {
                return;
            }
            infer_at = static_cast<int>(i);
        } else {
            out[i] = known(t);
            rest_out = product(Shape{rest_out, known(t)}, 0, 2);
        }
    }
    if (infer_at >= 0 && x) {
        Shape rest_in;
        for (std::size_t i = 0; i < x->size(); ++i) {
            if (!copied.count(i)) {
                rest_in.push_back((*x)[i]);
            }
        }
        const Dim in = product(rest_in, 0, rest_in.size());
        if (usable(in) && usable(rest_out) && rest_out.value > 0 &&
            in.value % rest_out.value == 0) {
            out[static_cast<std::size_t>(infer_at)] = known(in.value / rest_out.value);
        }
    }
    c.set(0, *e, out);
}

void flatten(Ctx& c) {
    const Shape* x = c.shape(0);
    const auto e = c.elem(0);
    if (!x || !e) {
        return;
    }
    std::int64_t axis = c.node().attr_int("axis", 1);
    const auto rank = static_cast<std::int64_t>(x->size());
    if (axis < -rank || axis > rank) {
        return;
    }
    if (axis < 0) {
        axis += rank;
    }
    const auto a = static_cast<std::size_t>(axis);
    c.set(0, *e, Shape{product(*x, 0, a), product(*x, a, x->size())});
}

void transpose(Ctx& c) {
    const Shape* x = c.shape(0);
    const auto e = c.elem(0);
    if (!x || !e) {
        return;
    }
    std::vector<std::int64_t> perm = c.node().attr_ints("perm");
    if (perm.empty()) {
        for (std::size_t i = x->size(); i-- > 0;) {
            perm.push_back(static_cast<std::int64_t>(i));
        }
    }
    if (perm.size() != x->size()) {
        return;
    }
    Shape out;
    std::set<std::int64_t> seen;
    for (auto p : perm) {
        if (!normalize_axis(p, static_cast<std::int64_t>(x->size())) || !seen.insert(p).second) {
            return;
        }
        out.push_back((*x)[static_cast<std::size_t>(p)]);
    }
    c.set(0, *e, out);
}

void concat(Ctx& c) {
    const auto e = c.elem(0);
    const Shape* first = c.shape(0);
    if (!e || !first) {
        return;
    }
    std::int64_t axis = c.node().attr_int("axis", 0);
    if (!normalize_axis(axis, static_cast<std::int64_t>(first->size()))) {
        return;
    }
    const auto a = static_cast<std::size_t>(axis);
    Shape out = *first;
    for (std::size_t i = 1; i < c.num_inputs(); ++i) {
        const Shape* s = c.shape(i);
        if (!s) {
            c.set(0, *e, std::nullopt);
            return;
        }
        if (s->size() != out.size()) {
            return;
        }
        for (std::size_t d = 0; d < out.size(); ++d) {
            if (d == a) {
                out[d] =
                    usable(out[d]) && usable((*s)[d]) ? known(out[d].value + (*s)[d].value) : Dim{};
            } else if (!out[d].known() && (*s)[d].known()) {
                out[d] = (*s)[d];
            }
        }
    }
    c.set(0, *e, out);
}

// Normalised, sorted, unique axes for `rank`; nullopt when any is out of range.
std::optional<std::vector<std::int64_t>> norm_axes(std::vector<std::int64_t> axes,
                                                   std::int64_t rank) {
    for (auto& a : axes) {
        if (!normalize_axis(a, rank)) {
            return std::nullopt;
        }
    }
    std::sort(axes.begin(), axes.end());
    if (std::adjacent_find(axes.begin(), axes.end()) != axes.end()) {
        return std::nullopt;
    }
    return axes;
}

void squeeze(Ctx& c) {
    const Shape* x = c.shape(0);
    const auto e = c.elem(0);
    if (!x || !e) {
        return;
    }
    const auto rank = static_cast<std::int64_t>(x->size());
    std::vector<std::int64_t> axes;
    if (auto given = c.ints_attr_or_input("axes", 1)) {
        auto n = norm_axes(*given, rank);
        if (!n) {
            return;
        }
        axes = *n;
    } else if (c.has_input(1)) {
        return;  // axes computed at run time
    }
    if (axes.empty()) {
        for (std::int64_t i = 0; i < rank; ++i) {
            const Dim& d = (*x)[static_cast<std::size_t>(i)];
            if (!d.known()) {
                return;  // might or might not be 1
            }
            if (d.value == 1) {
                axes.push_back(i);
            }
        }
    }
    Shape out;
    for (std::int64_t i = 0; i < rank; ++i) {
        if (!std::binary_search(axes.begin(), axes.end(), i)) {
            out.push_back((*x)[static_cast<std::size_t>(i)]);
        }
    }
    c.set(0, *e, out);
}

void unsqueeze(Ctx& c) {
    const Shape* x = c.shape(0);
    const auto e = c.elem(0);
    const auto given = c.ints_attr_or_input("axes", 1);
    if (!x || !e || !given) {
        return;
    }
    const auto out_rank = static_cast<std::int64_t>(x->size() + given->size());
    const auto axes = norm_axes(*given, out_rank);
    if (!axes) {
        return;
    }
    Shape out;
    std::size_t next = 0;
    for (std::int64_t i = 0; i < out_rank; ++i) {
        if (std::binary_search(axes->begin(), axes->end(), i)) {
            out.push_back(known(1));
        } else {
            out.push_back((*x)[next++]);
        }
    }
    c.set(0, *e, out);
}

void split(Ctx& c) {
    const Shape* x = c.shape(0);
    const auto e = c.elem(0);
    if (!x || !e) {
        return;
    }
    std::int64_t axis = c.node().attr_int("axis", 0);
    if (!normalize_axis(axis, static_cast<std::int64_t>(x->size()))) {
        return;
    }
    const auto a = static_cast<std::size_t>(axis);
    const std::size_t parts = c.out.size();
    std::vector<std::int64_t> sizes;
    if (auto given = c.ints_attr_or_input("split", 1)) {
        sizes = *given;
        if (sizes.size() != parts || !all_in_range(sizes, 0, kMaxDim)) {
            return;
        }
    } else if (c.has_input(1)) {
        return;
    } else if (usable((*x)[a]) && parts > 0) {
        // Equal parts; opset 18 lets the last one be smaller.
        const std::int64_t total = (*x)[a].value;
        const auto n = static_cast<std::int64_t>(parts);
        const std::int64_t chunk = (total + n - 1) / n;
        for (std::size_t i = 0; i < parts; ++i) {
            const std::int64_t begin = chunk * static_cast<std::int64_t>(i);
            sizes.push_back(std::max<std::int64_t>(0, std::min(chunk, total - begin)));
        }
    }
    for (std::size_t i = 0; i < parts; ++i) {
        Shape out = *x;
        out[a] = sizes.empty() ? Dim{} : known(sizes[i]);
        c.set(i, *e, out);
    }
}

// Slice-10/13 with constant starts/ends/axes/steps (attributes before opset 10).
void slice(Ctx& c) {
    const Shape* x = c.shape(0);
    const auto e = c.elem(0);
    if (!x || !e) {
        return;
    }
    const Node& n = c.node();
    const auto rank = static_cast<std::int64_t>(x->size());
    const bool attrs = n.find_attr("starts") != nullptr;
    const auto starts = attrs ? std::optional(n.attr_ints("starts")) : c.ints(1);
    const auto ends = attrs ? std::optional(n.attr_ints("ends")) : c.ints(2);
    if (!starts || !ends || starts->size() != ends->size()) {
        return;
    }
    std::vector<std::int64_t> axes, steps(starts->size(), 1);
    if (attrs ? n.find_attr("axes") != nullptr : c.has_input(3)) {
        auto a = attrs ? std::optional(n.attr_ints("axes")) : c.ints(3);
        if (!a) {
            return;
        }
        axes = *a;
    } else {
        for (std::size_t i = 0; i < starts->size(); ++i) {
            axes.push_back(static_cast<std::int64_t>(i));
        }
    }
    if (!attrs && c.has_input(4)) {
        auto s = c.ints(4);
        if (!s) {
            return;
        }
        steps = *s;
    }
    if (axes.size() != starts->size() || steps.size() != starts->size()) {
        return;
    }
    Shape out = *x;
    for (std::size_t i = 0; i < axes.size(); ++i) {
        std::int64_t ax = axes[i];
        if (!normalize_axis(ax, rank)) {
            return;
        }
        const Dim& d = (*x)[static_cast<std::size_t>(ax)];
        const std::int64_t step = steps[i];
        if (step == 0) {
            return;
        }
        if (!usable(d)) {
            out[static_cast<std::size_t>(ax)] = Dim{};
            continue;
        }
        const std::int64_t dim = d.value;
        auto clampi = [](std::int64_t v, std::int64_t lo, std::int64_t hi) {
            return std::max(lo, std::min(v, hi));
        };
        std::int64_t s = std::max(std::min((*starts)[i], kMaxDim), -kMaxDim);
        std::int64_t en = std::max(std::min((*ends)[i], kMaxDim), -kMaxDim);
        if (s < 0) {
            s += dim;
        }
        if (en < 0) {
            en += dim;
        }
        std::int64_t len = 0;
        if (step > 0) {
            s = clampi(s, 0, dim);
            en = clampi(en, 0, dim);
            len = en > s ? (en - s + step - 1) / step : 0;
        } else {
            s = clampi(s, 0, dim - 1);
            en = clampi(en, -1, dim - 1);
            len = s > en ? (s - en + (-step) - 1) / (-step) : 0;
        }
        out[static_cast<std::size_t>(ax)] = known(len);
    }
    c.set(0, *e, out);
}

void pad(Ctx& c) {
    const Shape* x = c.shape(0);
    const auto e = c.elem(0);
    const auto pads = c.ints_attr_or_input("pads", 1);
    if (!x || !e || !pads || !all_in_range(*pads, -kMaxDim, kMaxDim)) {
        return;
    }
    const auto rank = static_cast<std::int64_t>(x->size());
    std::vector<std::int64_t> axes;
    if (c.has_input(3)) {
        auto a = c.ints(3);
        if (!a) {
            return;
        }
        axes = *a;
    } else {
        for (std::int64_t i = 0; i < rank; ++i) {
            axes.push_back(i);
        }
    }
    if (pads->size() != 2 * axes.size()) {
        return;
    }
    Shape out = *x;
    for (std::size_t i = 0; i < axes.size(); ++i) {
        std::int64_t ax = axes[i];
        if (!normalize_axis(ax, rank)) {
            return;
        }
        Dim& d = out[static_cast<std::size_t>(ax)];
        if (!usable(d)) {
            d = Dim{};
            continue;
        }
        const std::int64_t v = d.value + (*pads)[i] + (*pads)[i + axes.size()];
        d = v >= 0 ? known(v) : Dim{};
    }
    c.set(0, *e, out);
}

void gather(Ctx& c) {
    const Shape* x = c.shape(0);
    const Shape* idx = c.shape(1);
    const auto e = c.elem(0);
    if (!x || !idx || !e) {
        return;
    }
    std::int64_t axis = c.node().attr_int("axis", 0);
    if (!normalize_axis(axis, static_cast<std::int64_t>(x->size()))) {
        return;
    }
    const auto a = static_cast<std::size_t>(axis);
    Shape out(x->begin(), x->begin() + static_cast<std::ptrdiff_t>(a));
    out.insert(out.end(), idx->begin(), idx->end());
    out.insert(out.end(), x->begin() + static_cast<std::ptrdiff_t>(a) + 1, x->end());
    c.set(0, *e, out);
}

// Reduce*: axes from the attribute (before opset 18, ReduceSum 13) or input 1.
void reduce(Ctx& c) {
    const Shape* x = c.shape(0);
    const auto e = c.elem(0);
    if (!x || !e) {
        return;
    }
    const Node& n = c.node();
    const auto rank = static_cast<std::int64_t>(x->size());
    std::vector<std::int64_t> axes;
    if (auto given = c.ints_attr_or_input("axes", 1)) {
        auto a = norm_axes(*given, rank);
        if (!a) {
            return;
        }
        axes = *a;
    } else if (c.has_input(1)) {
        return;
    }
    const bool keepdims = n.attr_int("keepdims", 1) != 0;
    if (axes.empty()) {
        if (n.attr_int("noop_with_empty_axes", 0) != 0) {
            c.set(0, *e, *x);
            return;
        }
        for (std::int64_t i = 0; i < rank; ++i) {
            axes.push_back(i);
        }
    }
    Shape out;
    for (std::int64_t i = 0; i < rank; ++i) {
        if (!std::binary_search(axes.begin(), axes.end(), i)) {
            out.push_back((*x)[static_cast<std::size_t>(i)]);
        } else if (keepdims) {
            out.push_back(known(1));
        }
    }
    c.set(0, *e, out);
}

void arg_reduce(Ctx& c) {
    const Shape* x = c.shape(0);
    if (!x) {
        return;
    }
    std::int64_t axis = c.node().attr_int("axis", 0);
    if (!normalize_axis(axis, static_cast<std::int64_t>(x->size()))) {
        return;
    }
    Shape out = *x;
    if (c.node().attr_int("keepdims", 1) != 0) {
        out[static_cast<std::size_t>(axis)] = known(1);
    } else {
        out.erase(out.begin() + axis);
    }
    c.set(0, DType::kI64, out);
}

// Shape-15: start/end select a range of axes.
void shape_op(Ctx& c) {
    const Shape* x = c.shape(0);
    if (!x) {
        return;
    }
    const auto rank = static_cast<std::int64_t>(x->size());
    std::int64_t start = c.node().attr_int("start", 0);
    std::int64_t end = c.node().attr_int("end", rank);
    if (start < 0) {
        start += rank;
    }
    if (end < 0) {
        end += rank;
    }
    start = std::max<std::int64_t>(0, std::min(start, rank));
    end = std::max<std::int64_t>(0, std::min(end, rank));
    c.set(0, DType::kI64, Shape{known(std::max<std::int64_t>(0, end - start))});
}

void size_op(Ctx& c) {
    if (c.has_input(0)) {
        c.set(0, DType::kI64, Shape{});
    }
}

void expand(Ctx& c) {
    const Shape* x = c.shape(0);
    const auto e = c.elem(0);
    const auto target = c.ints(1);
    if (!x || !e || !target || !all_in_range(*target, 0, kMaxDim)) {
        return;
    }
    Shape t;
    for (auto v : *target) {
        t.push_back(known(v));
    }
    if (auto s = broadcast_shapes(*x, t)) {
        c.set(0, *e, *s);
    }
}

void tile(Ctx& c) {
    const Shape* x = c.shape(0);
    const auto e = c.elem(0);
    const auto reps = c.ints(1);
    if (!x || !e || !reps || reps->size() != x->size() || !all_in_range(*reps, 0, kMaxWindow)) {
        return;
    }
    Shape out = *x;
    for (std::size_t i = 0; i < out.size(); ++i) {
        out[i] = usable(out[i]) ? known(out[i].value * (*reps)[i]) : Dim{};
    }
    c.set(0, *e, out);
}

void constant_of_shape(Ctx& c) {
    const auto dims = c.ints(0);
    if (!dims || !all_in_range(*dims, 0, kMaxDim)) {
        return;
    }
    Shape out;
    for (auto d : *dims) {
        out.push_back(known(d));
    }
    const Attribute* v = c.node().find_attr("value");
    c.set(0, v && v->t.defined() ? v->t.dtype() : DType::kF32, out);
}

}  // namespace

void add_layout_rules(RuleTable& t) {
    t["Reshape"] = reshape;
    t["Flatten"] = flatten;
    t["Transpose"] = transpose;
    t["Concat"] = concat;
    t["Squeeze"] = squeeze;
    t["Unsqueeze"] = unsqueeze;
    t["Split"] = split;
    t["Slice"] = slice;
    t["Pad"] = pad;
    t["Gather"] = gather;
    for (const char* op :
         {"ReduceMean", "ReduceSum", "ReduceMax", "ReduceMin", "ReduceProd", "ReduceL1", "ReduceL2",
          "ReduceLogSum", "ReduceLogSumExp", "ReduceSumSquare"}) {
        t[op] = reduce;
    }
    t["ArgMax"] = arg_reduce;
    t["ArgMin"] = arg_reduce;
    t["Shape"] = shape_op;
    t["Size"] = size_op;
    t["Expand"] = expand;
    t["Tile"] = tile;
    t["ConstantOfShape"] = constant_of_shape;
}

}  // namespace aquant::ir::shape
