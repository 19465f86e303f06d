// Numpy broadcasting of the elementwise kernels against a naive oracle that maps every output
// index back to each input by the numpy rule. Shapes cover scalars, size-1 dims on either side,
// empty dims, odd sizes around the parallel chunk (1 << 14 elements) and legacy (opset < 7)
// axis broadcasting.
#include "engine/model_builder.h"
#include "engine/run_node.h"

#include "aquant/engine/executor.h"

#include <gtest/gtest.h>

#include <cmath>
#include <functional>

namespace aquant::engine {
namespace {

using test::GraphBuilder;
using test::run_node;

Dims numpy_broadcast(const std::vector<Dims>& shapes) {
    std::size_t rank = 0;
    for (const auto& s : shapes) {
        rank = std::max(rank, s.size());
    }
    Dims out(rank, 1);
    for (const auto& s : shapes) {
        for (std::size_t i = 0; i < s.size(); ++i) {
            std::int64_t& o = out[rank - s.size() + i];
            if (s[i] != 1) {
                o = s[i];
            }
        }
    }
    return out;
}

// Flat index into `in` of the element that output index `flat` reads.
std::int64_t source_index(std::int64_t flat, const Dims& out, const Dims& in) {
    std::int64_t src = 0, stride = 1;
    for (std::size_t k = 0; k < out.size(); ++k) {
        const std::size_t d = out.size() - 1 - k;
        const std::int64_t idx = flat % out[d];
        flat /= out[d];
        if (k < in.size()) {
            const std::size_t di = in.size() - 1 - k;
            src += (in[di] == 1 ? 0 : idx) * stride;
            stride *= in[di];
        }
    }
    return src;
}

Tensor random_tensor(const Dims& dims, std::uint32_t seed) {
    return Tensor::from_vector<float>(dims, test::random_floats(dims_numel(dims), seed));
}

struct ShapePair {
    Dims a, b;
};

class BinaryBroadcast : public ::testing::TestWithParam<ShapePair> {};

TEST_P(BinaryBroadcast, MatchesNaiveOracle) {
    const auto& p = GetParam();
    const Tensor a = random_tensor(p.a, 11);
    Tensor b = random_tensor(p.b, 12);
    // Keep divisors away from 0 and Pow bases positive.
    std::vector<float> bv = b.to_f32();
    for (float& v : bv) {
        v = 0.5f + std::abs(v);
    }
    b = Tensor::from_vector<float>(p.b, bv);
    const Dims out = numpy_broadcast({p.a, p.b});
    const std::vector<std::pair<std::string, std::function<double(double, double)>>> ops = {
        {"Add", [](double x, double y) { return x + y; }},
        {"Sub", [](double x, double y) { return x - y; }},
        {"Mul", [](double x, double y) { return x * y; }},
        {"Div", [](double x, double y) { return x / y; }},
        {"Pow", [](double x, double y) { return std::pow(std::abs(x), y); }},
        {"Max", [](double x, double y) { return std::max(x, y); }},
    };
    for (const auto& [op, ref] : ops) {
        Tensor lhs = a;
        if (op == "Pow") {  // positive bases
            std::vector<float> av = a.to_f32();
            for (float& v : av) {
                v = std::abs(v);
            }
            lhs = Tensor::from_vector<float>(p.a, av);
        }
        const Tensor y = run_node(op, {lhs, b})[0];
        ASSERT_EQ(y.dims(), out) << op << " " << dims_str(p.a) << " " << dims_str(p.b);
        for (std::int64_t i = 0; i < y.numel(); ++i) {
            const double want =
                ref(lhs.get_f64(source_index(i, out, p.a)), b.get_f64(source_index(i, out, p.b)));
            // float32 result of a double-precision reference: 1 ulp-ish relative tolerance.
            ASSERT_NEAR(y.get_f64(i), want, 1e-6 * (1 + std::abs(want)))
                << op << " " << dims_str(p.a) << " x " << dims_str(p.b) << " at " << i;
        }
    }
}

INSTANTIATE_TEST_SUITE_P(
    Shapes, BinaryBroadcast,
    ::testing::Values(ShapePair{{}, {3}}, ShapePair{{3}, {}}, ShapePair{{}, {}},
                      ShapePair{{2, 3, 4}, {4}}, ShapePair{{2, 3, 4}, {3, 1}},
                      ShapePair{{2, 1, 4}, {3, 1}}, ShapePair{{1}, {5, 1, 1}},
                      ShapePair{{4, 1, 6}, {1, 5, 1}}, ShapePair{{0, 3}, {1, 3}},
                      ShapePair{{2, 0}, {2, 1}}, ShapePair{{7, 1, 9, 1}, {1, 8, 1, 10}},
                      ShapePair{{5, 7}, {5, 7}}, ShapePair{{32 * 9 + 17}, {1}},
                      ShapePair{{3, 16385}, {3, 1}}, ShapePair{{1, 16385}, {2, 1}},
                      ShapePair{{2, 1, 1, 3}, {2, 3}}));

TEST(Broadcast, IncompatibleShapesFailNamingTheNode) {
    try {
        run_node("Add", {random_tensor({2, 3}, 1), random_tensor({3, 2}, 2)});
        FAIL() << "expected an error";
    } catch (const ModelError& e) {
        EXPECT_TRUE(test::contains(e.what(),
                                   "node 'n' (Add): inputs of shapes [2,3] and [3,2] do not "
                                   "broadcast"));
    }
}

TEST(Broadcast, WhereBroadcastsAllThreeInputs) {
    const Dims dc{2, 1, 1}, dx{1, 3, 1}, dy{4};
    std::vector<bool> cv = {true, false};
    Tensor c(DType::kBool, dc);
    for (int i = 0; i < 2; ++i) {
        c.data<bool>()[i] = cv[i];
    }
    const Tensor x = random_tensor(dx, 3), y = random_tensor(dy, 4);
    const Tensor out = run_node("Where", {c, x, y})[0];
    const Dims od = numpy_broadcast({dc, dx, dy});
    ASSERT_EQ(out.dims(), od);
    for (std::int64_t i = 0; i < out.numel(); ++i) {
        const bool take_x = c.get_f64(source_index(i, od, dc)) != 0;
        const double want =
            take_x ? x.get_f64(source_index(i, od, dx)) : y.get_f64(source_index(i, od, dy));
        EXPECT_EQ(out.get_f64(i), want) << i;
    }
}

TEST(Broadcast, VariadicMaxFoldsEveryInput) {
    const Dims d0{3, 1}, d1{4}, d2{1, 1};
    const Tensor a = random_tensor(d0, 5), b = random_tensor(d1, 6), c = random_tensor(d2, 7);
    const Tensor out = run_node("Max", {a, b, c})[0];
    const Dims od = numpy_broadcast({d0, d1, d2});
    ASSERT_EQ(out.dims(), od);
    for (std::int64_t i = 0; i < out.numel(); ++i) {
        const double want =
            std::max({a.get_f64(source_index(i, od, d0)), b.get_f64(source_index(i, od, d1)),
                      c.get_f64(source_index(i, od, d2))});
        EXPECT_EQ(out.get_f64(i), want);
    }
}

TEST(Broadcast, IntegerShapeArithmetic) {
    // Shape computations run on int64: [N, C] * [1, 2] and integer division truncates.
    const Tensor a = test::tensor_i64({2}, {6, -7});
    const Tensor b = test::tensor_i64({1}, {2});
    EXPECT_EQ(run_node("Mul", {a, b})[0].to_f64(), (std::vector<double>{12, -14}));
    EXPECT_EQ(run_node("Div", {a, b})[0].to_f64(), (std::vector<double>{3, -3}));
    EXPECT_EQ(run_node("Sub", {b, a})[0].to_f64(), (std::vector<double>{-4, 9}));
    const Tensor eq = run_node("Equal", {a, test::tensor_i64({2}, {6, 7})})[0];
    EXPECT_EQ(eq.dtype(), DType::kBool);
    EXPECT_EQ(eq.to_f64(), (std::vector<double>{1, 0}));
}

TEST(Broadcast, LegacyAxisBroadcastBeforeOpset7) {
    // Add-6 with broadcast=1, axis=1: B [3] aligns with A's dim 1 (numpy would align it with
    // the last dim and fail).
    const Tensor a = random_tensor({2, 3, 4}, 8);
    const Tensor b = random_tensor({3}, 9);
    const Tensor y =
        run_node("Add", {a, b}, 6, {test::attr_int("broadcast", 1), test::attr_int("axis", 1)})[0];
    ASSERT_EQ(y.dims(), (Dims{2, 3, 4}));
    for (std::int64_t i = 0; i < y.numel(); ++i) {
        const std::int64_t c = (i / 4) % 3;
        EXPECT_FLOAT_EQ(static_cast<float>(y.get_f64(i)),
                        static_cast<float>(a.get_f64(i)) + static_cast<float>(b.get_f64(c)));
    }
}

}  // namespace
}  // namespace aquant::engine
