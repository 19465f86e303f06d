#include "elementwise.h"

namespace aquant::engine {

void register_unary_rows(KernelRegistry& registry, const std::vector<UnaryRow>& rows) {
    for (const UnaryRow& row : rows) {
        registry.add(row.op_type, [row](const KernelBuildInfo& info) -> KernelPtr {
            UnaryParams p;
            for (std::size_t i = 0; i < row.attrs.size() && i < 3; ++i) {
                p.p[i] = info.node.attr_float(row.attrs[i].name, row.attrs[i].def);
            }
            return row.make(p);
        });
    }
}

std::int64_t legacy_broadcast_axis(const KernelBuildInfo& info) {
    if (info.opset >= 7 || info.node.attr_int("broadcast", 0) == 0) {
        return -1;
    }
    if (!info.node.find_attr("axis")) {
        return -1;
    }
    return info.node.attr_int("axis", 0);
}

Tensor legacy_broadcast_view(const KernelContext& ctx, const Tensor& a, const Tensor& b,
                             std::int64_t axis) {
    if (axis < 0 || b.rank() == a.rank()) {
        return b;
    }
    const auto rank = static_cast<std::int64_t>(a.rank());
    const auto rb = static_cast<std::int64_t>(b.rank());
    if (axis + rb > rank) {
        ctx.fail("legacy broadcast of shape " + dims_str(b.dims()) + " at axis " +
                 std::to_string(axis) + " does not fit shape " + dims_str(a.dims()));
    }
    Dims d(static_cast<std::size_t>(axis), 1);
    d.insert(d.end(), b.dims().begin(), b.dims().end());
    d.resize(static_cast<std::size_t>(rank), 1);
    return b.reshaped(d);
}

BroadcastPlan plan_binary(const KernelContext& ctx, const Tensor& a, const Tensor& b) {
    BroadcastPlan plan;
    if (!plan.make({&a.dims(), &b.dims()})) {
        ctx.fail("inputs of shapes " + dims_str(a.dims()) + " and " + dims_str(b.dims()) +
                 " do not broadcast");
    }
    return plan;
}

}  // namespace aquant::engine
