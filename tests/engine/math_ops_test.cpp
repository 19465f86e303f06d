// Reductions, softmax, Cast, Clip, ArgMax and the constant-producing kernels on cases the ONNX
// node tests miss: axes as inputs (ReduceSum-13, Reduce*-18), numerically large inputs,
// integer types, saturating casts.
#include "engine/run_node.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

namespace aquant::engine {
namespace {

using test::attr_float;
using test::attr_int;
using test::attr_ints;
using test::run_node;
using test::tensor_f32;
using test::tensor_i64;

// Naive sum over `axes` of a [2,3,4] tensor, keeping dims.
std::vector<double> naive_sum(const Tensor& x, const std::vector<bool>& reduced) {
    const Dims& d = x.dims();
    Dims out(3);
    for (int k = 0; k < 3; ++k) {
        out[k] = reduced[k] ? 1 : d[k];
    }
    std::vector<double> acc(static_cast<std::size_t>(dims_numel(out)), 0.0);
    for (std::int64_t i = 0; i < d[0]; ++i) {
        for (std::int64_t j = 0; j < d[1]; ++j) {
            for (std::int64_t k = 0; k < d[2]; ++k) {
                const std::int64_t o =
                    ((reduced[0] ? 0 : i) * out[1] + (reduced[1] ? 0 : j)) * out[2] +
                    (reduced[2] ? 0 : k);
                acc[static_cast<std::size_t>(o)] += x.get_f64((i * d[1] + j) * d[2] + k);
            }
        }
    }
    return acc;
}

TEST(Reduce, SumWithAxesInputMatchesNaive) {
    const Tensor x = Tensor::from_vector<float>({2, 3, 4}, test::random_floats(24, 3));
    const Tensor y =
        run_node("ReduceSum", {x, tensor_i64({2}, {0, -1})}, 13, {attr_int("keepdims", 0)})[0];
    ASSERT_EQ(y.dims(), (Dims{3}));
    const auto want = naive_sum(x, {true, false, true});
    for (std::size_t i = 0; i < want.size(); ++i) {
        EXPECT_NEAR(y.get_f64(i), want[i], 1e-6);
    }
}

TEST(Reduce, EmptyAxesReducesAllOrIsANoop) {
    const Tensor x = tensor_f32({2, 2}, {1, 2, 3, 4});
    const Tensor all = run_node("ReduceSum", {x, tensor_i64({0}, {})}, 13)[0];
    EXPECT_EQ(all.dims(), (Dims{1, 1}));
    EXPECT_EQ(all.get_f64(0), 10.0);
    const Tensor same = run_node("ReduceSum", {x, tensor_i64({0}, {})}, 13,
                                 {attr_int("noop_with_empty_axes", 1)})[0];
    EXPECT_TRUE(same.same_as(x));
}

TEST(Reduce, Opset18TakesAxesAsInputForEveryReduction) {
    const Tensor x = tensor_f32({2, 3}, {1, -2, 3, 4, 5, -6});
    EXPECT_EQ(run_node("ReduceMean", {x, tensor_i64({1}, {1})}, 18)[0].to_f32(),
              (std::vector<float>{2.0f / 3.0f, 1.0f}));
    EXPECT_EQ(run_node("ReduceMax", {x, tensor_i64({1}, {0})}, 18)[0].to_f32(),
              (std::vector<float>{4, 5, 3}));
    EXPECT_EQ(run_node("ReduceL1", {x, tensor_i64({1}, {1})}, 18)[0].to_f32(),
              (std::vector<float>{6, 15}));
}

TEST(Reduce, LogSumExpIsStableForLargeInputs) {
    const Tensor y = run_node("ReduceLogSumExp", {tensor_f32({2}, {1000, 1000})}, 13,
                              {attr_ints("axes", {0})})[0];
    EXPECT_NEAR(y.get_f64(0), 1000.0 + std::log(2.0), 1e-4);
}

TEST(Reduce, IntegerProductAndMin) {
    const Tensor x = tensor_i64({2, 2}, {3, -4, 5, 6});
    EXPECT_EQ(run_node("ReduceProd", {x}, 13, {attr_int("keepdims", 0)})[0].get_f64(0), -360.0);
    EXPECT_EQ(run_node("ReduceMin", {x}, 13, {attr_ints("axes", {1})})[0].to_f64(),
              (std::vector<double>{-4, 5}));
}

TEST(Softmax, LargeInputsStayFiniteAndSumToOne) {
    const Tensor y = run_node("Softmax", {tensor_f32({1, 3}, {1000, 1001, 1002})}, 13)[0];
    double sum = 0;
    for (double v : y.to_f64()) {
        EXPECT_TRUE(std::isfinite(v));
        sum += v;
    }
    EXPECT_NEAR(sum, 1.0, 1e-6);
    const double e1 = std::exp(-1.0), e2 = std::exp(-2.0);
    EXPECT_NEAR(y.get_f64(2), 1.0 / (1.0 + e1 + e2), 1e-6);
    const Tensor ly = run_node("LogSoftmax", {tensor_f32({1, 3}, {1000, 1001, 1002})}, 13)[0];
    EXPECT_NEAR(ly.get_f64(2), -std::log(1.0 + e1 + e2), 1e-5);
}

TEST(Cast, FloatToIntegerTruncatesAndSaturates) {
    const Tensor x = tensor_f32({5}, {-1.7f, 2.9f, 300.0f, -5.0f, 0.5f});
    const Tensor i32 = run_node("Cast", {x}, 13, {attr_int("to", 6)})[0];
    EXPECT_EQ(i32.dtype(), DType::kI32);
    EXPECT_EQ(i32.to_f64(), (std::vector<double>{-1, 2, 300, -5, 0}));
    const Tensor u8 = run_node("Cast", {x}, 13, {attr_int("to", 2)})[0];
    EXPECT_EQ(u8.to_f64(), (std::vector<double>{0, 2, 255, 0, 0}));  // saturated
    const Tensor b = run_node("Cast", {x}, 13, {attr_int("to", 9)})[0];
    EXPECT_EQ(b.to_f64(), (std::vector<double>{1, 1, 1, 1, 1}));
}

TEST(Cast, HalfRoundTripRoundsToNearestEven) {
    // 0.1 is 0x2E66 in float16 (0.0999755859375); 65520 overflows to inf.
    const Tensor h =
        run_node("Cast", {tensor_f32({2}, {0.1f, 65520.0f})}, 13, {attr_int("to", 10)})[0];
    EXPECT_EQ(h.dtype(), DType::kF16);
    EXPECT_EQ(h.data<std::uint16_t>()[0], 0x2E66);
    const Tensor back = run_node("Cast", {h}, 13, {attr_int("to", 1)})[0];
    EXPECT_EQ(back.get_f64(0), 0.0999755859375);
    EXPECT_TRUE(std::isinf(back.get_f64(1)));
}

TEST(Cast, Int64ToFloatAndStrings) {
    const Tensor f =
        run_node("Cast", {tensor_i64({2}, {-3, 1LL << 40})}, 13, {attr_int("to", 1)})[0];
    EXPECT_EQ(f.to_f64(), (std::vector<double>{-3, 1099511627776.0}));
    Tensor s(DType::kString, {3});
    s.strings() = {"1.5", "-2e3", "NaN"};
    const Tensor parsed = run_node("Cast", {s}, 13, {attr_int("to", 1)})[0];
    EXPECT_EQ(parsed.get_f64(0), 1.5);
    EXPECT_EQ(parsed.get_f64(1), -2000.0);
    EXPECT_TRUE(std::isnan(parsed.get_f64(2)));
    const Tensor text =
        run_node("Cast", {tensor_f32({2}, {0.1f, 3.0f})}, 13, {attr_int("to", 8)})[0];
    EXPECT_EQ(text.strings(), (std::vector<std::string>{"0.1", "3"}));
}

TEST(Clip, AttributeAndInputFormsAndIntegers) {
    const Tensor x = tensor_f32({4}, {-3, -0.5f, 0.5f, 3});
    EXPECT_EQ(run_node("Clip", {x}, 6, {attr_float("min", -1), attr_float("max", 1)})[0].to_f32(),
              (std::vector<float>{-1, -0.5f, 0.5f, 1}));
    EXPECT_EQ(run_node("Clip", {x, Tensor(), Tensor::scalar<float>(0)}, 13)[0].to_f32(),
              (std::vector<float>{-3, -0.5f, 0, 0}));
    const Tensor xi = Tensor::from_vector<std::int32_t>({3}, {-100, 7, 100});
    EXPECT_EQ(
        run_node("Clip", {xi, Tensor::scalar<std::int32_t>(-5), Tensor::scalar<std::int32_t>(50)},
                 13)[0]
            .to_f64(),
        (std::vector<double>{-5, 7, 50}));
}

TEST(ArgMax, TiesPickFirstOrLastIndex) {
    const Tensor x = tensor_f32({2, 3}, {1, 5, 5, 2, 2, 0});
    EXPECT_EQ(run_node("ArgMax", {x}, 13, {attr_int("axis", 1)})[0].to_f64(),
              (std::vector<double>{1, 0}));
    EXPECT_EQ(
        run_node("ArgMax", {x}, 13, {attr_int("axis", 1), attr_int("select_last_index", 1)})[0]
            .to_f64(),
        (std::vector<double>{2, 1}));
    const Tensor mn =
        run_node("ArgMin", {x}, 13, {attr_int("axis", 0), attr_int("keepdims", 0)})[0];
    EXPECT_EQ(mn.dims(), (Dims{3}));
    EXPECT_EQ(mn.to_f64(), (std::vector<double>{0, 1, 1}));
}

TEST(ConstantOfShape, FillsWithTheValueAttribute) {
    ir::Attribute v;
    v.name = "value";
    v.type = ir::AttrType::kTensor;
    v.t = Tensor::from_vector<std::int64_t>({1}, {7});
    const Tensor y = run_node("ConstantOfShape", {tensor_i64({2}, {2, 3})}, 13, {v})[0];
    EXPECT_EQ(y.dtype(), DType::kI64);
    EXPECT_EQ(y.to_f64(), (std::vector<double>(6, 7.0)));
}

TEST(Dropout, InferenceIsIdentityWithAllTrueMask) {
    const Tensor x = tensor_f32({3}, {1, 2, 3});
    const auto outs = run_node("Dropout", {x, Tensor::scalar<float>(0.5f)}, 13, {}, 2);
    EXPECT_TRUE(outs[0].same_as(x));
    EXPECT_EQ(outs[1].dtype(), DType::kBool);
    EXPECT_EQ(outs[1].to_f64(), (std::vector<double>{1, 1, 1}));
}

// training_mode = true: with ratio 0 nothing is dropped (the inference result); any other
// ratio needs a random mask, which the engine refuses.
TEST(Dropout, TrainingModeRunsOnlyWithRatioZero) {
    const Tensor x = tensor_f32({3}, {1, 2, 3});
    const Tensor yes = Tensor::from_vector<bool>({}, {true});
    const auto outs = run_node("Dropout", {x, Tensor::scalar<float>(0.0f), yes}, 13, {}, 2);
    EXPECT_EQ(outs[0].to_f32(), (std::vector<float>{1, 2, 3}));
    EXPECT_EQ(outs[1].to_f64(), (std::vector<double>{1, 1, 1}));
    try {
        run_node("Dropout", {x, Tensor::scalar<float>(0.5f), yes}, 13, {}, 2);
        ADD_FAILURE() << "ratio 0.5 in training mode was accepted";
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("random mask"), std::string::npos) << e.what();
    }
}

TEST(Range, NegativeFloatDelta) {
    const Tensor y = run_node("Range", {Tensor::scalar<float>(1), Tensor::scalar<float>(-1),
                                        Tensor::scalar<float>(-0.5f)})[0];
    EXPECT_EQ(y.to_f32(), (std::vector<float>{1, 0.5f, 0, -0.5f}));
}

TEST(Shape, StartAndEndClamp) {
    const Tensor x(DType::kF32, {2, 3, 4, 5});
    EXPECT_EQ(run_node("Shape", {x}, 15, {attr_int("start", -3), attr_int("end", 100)})[0].to_f64(),
              (std::vector<double>{3, 4, 5}));
    EXPECT_EQ(run_node("Size", {x})[0].get_f64(0), 120.0);
}

}  // namespace
}  // namespace aquant::engine
