// Private to src/ir/shape_*.cpp: what a shape rule sees of one node, and the rule tables.
#pragma once

#include "aquant/ir/graph.h"

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace aquant::ir::shape {

using Shape = std::vector<Dim>;

/// Dims above this are treated as unknown in arithmetic, so corrupt models cannot overflow.
constexpr std::int64_t kMaxDim = std::int64_t{1} << 40;
/// Bound on kernel sizes, strides, dilations and groups, for the same reason.
constexpr std::int64_t kMaxWindow = std::int64_t{1} << 20;

inline Dim known(std::int64_t v) {
    return Dim{v, {}};
}

inline bool usable(const Dim& d) {
    return d.known() && d.value <= kMaxDim;
}

/// One node under inference. Rules read inputs and set entries of `out`; they may throw on
/// malformed nodes (the driver catches and leaves the outputs untyped).
class Ctx {
public:
    Ctx(const Graph& g, const Node& n, std::int64_t opset)
        : out(n.outputs.size()), g_(g), n_(n), opset_(opset) {}

    const Node& node() const { return n_; }

    std::int64_t opset() const { return opset_; }

    bool has_input(std::size_t i) const { return n_.has_input(i); }

    std::size_t num_inputs() const { return n_.num_inputs(); }

    /// Tensor type of input i; nullptr when absent, untyped or not a tensor.
    const TypeInfo* type(std::size_t i) const;
    /// Shape of input i; nullptr when its rank is unknown.
    const Shape* shape(std::size_t i) const;
    std::optional<DType> elem(std::size_t i) const;
    const Tensor* constant(std::size_t i) const;
    /// A constant integer input (int32/int64) as int64 values.
    std::optional<std::vector<std::int64_t>> ints(std::size_t i) const;
    /// Integer list from attribute `attr` when present, else from constant input `input`.
    std::optional<std::vector<std::int64_t>> ints_attr_or_input(const std::string& attr,
                                                                std::size_t input) const;

    void set(std::size_t slot, DType t, std::optional<Shape> s);

    std::vector<std::optional<TypeInfo>> out;

private:
    const Graph& g_;
    const Node& n_;
    std::int64_t opset_;
};

using Rule = void (*)(Ctx&);
using RuleTable = std::map<std::string, Rule>;

void add_elementwise_rules(RuleTable& t);  // shape_rules_elementwise.cpp
void add_nn_rules(RuleTable& t);           // shape_rules_nn.cpp
void add_layout_rules(RuleTable& t);       // shape_rules_layout.cpp

/// Normalises a possibly negative axis for `rank`; false when out of range.
bool normalize_axis(std::int64_t& axis, std::int64_t rank);
/// Product of dims, or an unknown Dim when any is unknown.
Dim product(const Shape& s, std::size_t begin, std::size_t end);

}  // namespace aquant::ir::shape
