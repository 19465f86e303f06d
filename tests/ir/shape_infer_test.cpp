// ir::infer_shapes rules on hand-built graphs; expected shapes are worked out from the ONNX
// operator specs (and, for ceil_mode pooling, PyTorch's output-size rule that ONNX adopted).
#include "aquant/ir/shape_infer.h"

#include <gtest/gtest.h>

namespace aquant::ir {
namespace {

Dim d(std::int64_t v) {
    return Dim{v, {}};
}

Dim sym(const std::string& s) {
    return Dim{-1, s};
}

class Builder {
public:
    Builder() { g_.source_path = "test.onnx"; }

    Builder& input(const std::string& name, DType t, std::vector<Dim> dims) {
        const ValueId v = g_.value_named(name);
        TypeInfo ti;
        ti.elem_type = t;
        ti.shape = std::move(dims);
        g_.value(v).type = ti;
        g_.inputs.push_back(v);
        return *this;
    }

    Builder& ints(const std::string& name, std::vector<std::int64_t> v) {
        g_.add_initializer(
            name, Tensor::from_vector<std::int64_t>({static_cast<std::int64_t>(v.size())}, v));
        return *this;
    }

    Builder& init(const std::string& name, Tensor t) {
        g_.add_initializer(name, std::move(t));
        return *this;
    }

    Builder& node(const std::string& op, std::vector<std::string> ins,
                  std::vector<std::string> outs, std::vector<Attribute> attrs = {}) {
        Node n;
        n.name = op + std::to_string(g_.num_nodes());
        n.op_type = op;
        for (const auto& i : ins) {
            n.inputs.push_back(i.empty() ? ValueId{} : g_.value_named(i));
        }
        for (const auto& o : outs) {
            n.outputs.push_back(g_.value_named(o));
        }
        n.attributes = std::move(attrs);
        g_.add_node(std::move(n));
        return *this;
    }

    std::string type(const std::string& name) {
        if (!inferred_) {
            g_.rebuild_uses();
            infer_shapes(g_);
            inferred_ = true;
        }
        const auto& t = g_.value(*g_.find_value(name)).type;
        return t ? t->str() : "(untyped)";
    }

    Graph& graph() { return g_; }

private:
    Graph g_;
    bool inferred_ = false;
};

Attribute ai(const std::string& name, std::int64_t v) {
    Attribute a;
    a.name = name;
    a.type = AttrType::kInt;
    a.i = v;
    return a;
}

Attribute ais(const std::string& name, std::vector<std::int64_t> v) {
    Attribute a;
    a.name = name;
    a.type = AttrType::kInts;
    a.ints = std::move(v);
    return a;
}

Attribute as(const std::string& name, const std::string& v) {
    Attribute a;
    a.name = name;
    a.type = AttrType::kString;
    a.s = v;
    return a;
}

std::string str(const std::optional<std::vector<Dim>>& s) {
    if (!s) {
        return "incompatible";
    }
    TypeInfo t;
    t.elem_type = DType::kF32;
    t.shape = *s;
    return t.str();
}

TEST(BroadcastShapes, NumpyRules) {
    EXPECT_EQ(str(broadcast_shapes({sym("N"), d(1), d(4)}, {d(3), d(1)})), "float[N,3,4]");
    EXPECT_EQ(str(broadcast_shapes({d(2), d(3)}, {d(4), d(3)})), "incompatible");
    EXPECT_EQ(str(broadcast_shapes({sym("M")}, {sym("M")})), "float[M]");
    EXPECT_EQ(str(broadcast_shapes({sym("M")}, {sym("K")})), "float[?]");
    EXPECT_EQ(str(broadcast_shapes({}, {d(5)})), "float[5]");
    EXPECT_EQ(str(broadcast_shapes({d(1)}, {sym("N")})), "float[N]");
    EXPECT_EQ(str(broadcast_shapes({d(0)}, {d(1)})), "float[0]");
    EXPECT_EQ(str(broadcast_shapes({sym("N")}, {d(7)})), "float[7]");
}

TEST(WindowOutputSize, FloorCeilDilationPadding) {
    EXPECT_EQ(window_output_size(8, 3, 1, 1, 1, 1), 8);  // 'same' 3x3
    EXPECT_EQ(window_output_size(7, 2, 2, 1, 0, 0), 3);  // floor(5/2)+1
    EXPECT_EQ(window_output_size(7, 2, 2, 1, 0, 0, true), 4);
    EXPECT_EQ(window_output_size(10, 3, 1, 2, 0, 0), 6);  // span 5
    EXPECT_EQ(window_output_size(6, 3, 2, 1, 1, 1, true), 4);
    // ceil would add a window starting at 6 >= 5 + 1 (inside the end padding): dropped.
    EXPECT_EQ(window_output_size(5, 2, 2, 1, 1, 1, true), 3);
    EXPECT_EQ(window_output_size(2, 5, 1, 1, 0, 0), -1);   // kernel larger than input
    EXPECT_EQ(window_output_size(-1, 3, 1, 1, 0, 0), -1);  // unknown input
    EXPECT_EQ(window_output_size(8, 3, 0, 1, 0, 0), -1);   // invalid stride
}

TEST(ShapeInfer, ConvPoolGemmChain) {
    Builder b;
    b.input("x", DType::kF32, {sym("N"), d(3), d(32), d(32)})
        .init("w", Tensor(DType::kF32, {16, 3, 5, 5}))
        .node("Conv", {"x", "w"}, {"c"}, {ais("strides", {2, 2}), ais("pads", {2, 2, 2, 2})})
        .node("Relu", {"c"}, {"r"})
        .node("MaxPool", {"r"}, {"p", "idx"},
              {ais("kernel_shape", {3, 3}), ais("strides", {2, 2}), ai("ceil_mode", 1)})
        .node("AveragePool", {"r"}, {"a"},
              {ais("kernel_shape", {2, 2}), as("auto_pad", "SAME_UPPER"), ais("strides", {3, 3})})
        .node("GlobalAveragePool", {"p"}, {"gap"})
        .node("Flatten", {"gap"}, {"f"})
        .init("fc", Tensor(DType::kF32, {10, 16}))
        .node("Gemm", {"f", "fc"}, {"y"}, {ai("transB", 1)});
    EXPECT_EQ(b.type("c"), "float[N,16,16,16]");  // (32+4-5)/2+1
    EXPECT_EQ(b.type("r"), "float[N,16,16,16]");
    EXPECT_EQ(b.type("p"), "float[N,16,8,8]");  // ceil((16-3)/2)+1 = 8 (7.5 -> 8)
    EXPECT_EQ(b.type("idx"), "int64[N,16,8,8]");
    EXPECT_EQ(b.type("a"), "float[N,16,6,6]");  // SAME: ceil(16/3)
    EXPECT_EQ(b.type("gap"), "float[N,16,1,1]");
    EXPECT_EQ(b.type("f"), "float[?,16]");
    EXPECT_EQ(b.type("y"), "float[?,10]");
}

TEST(ShapeInfer, ConvTransposeAndGroups) {
    Builder b;
    b.input("x", DType::kF32, {d(1), d(2), d(3), d(3)})
        .init("w", Tensor(DType::kF32, {2, 4, 3, 3}))
        .node("ConvTranspose", {"x", "w"}, {"y"}, {ais("strides", {2, 2})})
        .node("ConvTranspose", {"x", "w"}, {"z"},
              {ais("strides", {2, 2}), ai("group", 2), ais("output_padding", {1, 0}),
               ais("pads", {1, 1, 1, 1})});
    EXPECT_EQ(b.type("y"), "float[1,4,7,7]");  // 2*(3-1) + 3
    EXPECT_EQ(b.type("z"), "float[1,8,6,5]");  // 2*2 + 1 + 3 - 2, 2*2 + 0 + 3 - 2
}

TEST(ShapeInfer, MatMulVariants) {
    Builder b;
    b.input("v", DType::kF32, {d(3)})
        .input("m", DType::kF32, {d(3), d(4)})
        .input("a", DType::kF32, {d(2), d(1), d(3), d(4)})
        .input("c", DType::kF32, {d(5), d(4), d(6)})
        .input("w", DType::kF32, {d(4)})
        .node("MatMul", {"v", "m"}, {"vm"})
        .node("MatMul", {"a", "c"}, {"ac"})
        .node("MatMul", {"w", "w"}, {"ww"})
        .input("qa", DType::kU8, {d(2), d(3)})
        .input("qb", DType::kU8, {d(3), d(7)})
        .input("zp", DType::kI8, {})
        .node("MatMulInteger", {"qa", "qb"}, {"mi"})
        .node("QLinearMatMul", {"qa", "", "", "qb", "", "", "", "zp"}, {"ql"});
    EXPECT_EQ(b.type("vm"), "float[4]");
    EXPECT_EQ(b.type("ac"), "float[2,5,3,6]");
    EXPECT_EQ(b.type("ww"), "float[]");
    EXPECT_EQ(b.type("mi"), "int32[2,7]");
    EXPECT_EQ(b.type("ql"), "int8[2,7]");
}

TEST(ShapeInfer, ReshapeWithZeroAndMinusOne) {
    Builder b;
    b.input("x", DType::kF32, {sym("N"), d(3), d(4), d(5)})
        .ints("s1", {0, -1, 5})
        .ints("s2", {-1, 20})
        .ints("s3", {2, -1})
        .input("y", DType::kF32, {d(6), d(4)})
        .node("Reshape", {"x", "s1"}, {"r1"})
        .node("Reshape", {"x", "s2"}, {"r2"})
        .node("Reshape", {"y", "s3"}, {"r3"})
        .ints("z", {0, 3})
        .node("Reshape", {"y", "z"}, {"r4"}, {ai("allowzero", 1)});
    EXPECT_EQ(b.type("r1"), "float[N,12,5]");  // N copied, 3*4*5/5
    EXPECT_EQ(b.type("r2"), "float[?,20]");    // needs N
    EXPECT_EQ(b.type("r3"), "float[2,12]");
    EXPECT_EQ(b.type("r4"), "float[0,3]");  // allowzero: 0 is a size
}

TEST(ShapeInfer, LayoutOps) {
    Builder b;
    b.input("x", DType::kF32, {d(2), d(3), d(4)})
        .input("p", DType::kF32, {d(2), d(5), d(4)})
        .node("Transpose", {"x"}, {"t1"})
        .node("Transpose", {"x"}, {"t2"}, {ais("perm", {0, 2, 1})})
        .node("Concat", {"x", "p"}, {"cat"}, {ai("axis", -2)})
        .input("s", DType::kF32, {d(2), d(1), d(3)})
        .ints("ax1", {1})
        .node("Squeeze", {"s", "ax1"}, {"sq"})
        .node("Squeeze", {"s"}, {"sq_all"})
        .ints("ax2", {0, -1})
        .node("Unsqueeze", {"x", "ax2"}, {"us"})
        .node("Unsqueeze", {"x"}, {"us_attr"}, {ais("axes", {1})})
        .input("v", DType::kF32, {d(10)})
        .node("Split", {"v"}, {"sp0", "sp1", "sp2"})
        .ints("sizes", {3, 7})
        .node("Split", {"v", "sizes"}, {"sp3", "sp4"})
        .ints("st", {-1})
        .ints("en", {-1000})
        .ints("axs", {0})
        .ints("stp", {-2})
        .node("Slice", {"v", "st", "en", "axs", "stp"}, {"sl"})
        .ints("st2", {2})
        .ints("en2", {100})
        .node("Slice", {"v", "st2", "en2"}, {"sl2"})
        .ints("pads", {1, 0, 2, 3})
        .input("m", DType::kF32, {d(2), d(3)})
        .node("Pad", {"m", "pads"}, {"pd"})
        .input("idx", DType::kI64, {d(2), d(3)})
        .node("Gather", {"p", "idx"}, {"ga"}, {ai("axis", 1)})
        .ints("rep", {2, 3})
        .node("Tile", {"m", "rep"}, {"ti"})
        .ints("shape", {4, 1, 3})
        .node("Expand", {"m", "shape"}, {"ex"})
        .node("ConstantOfShape", {"shape"}, {"cs"})
        .node("Shape", {"x"}, {"sh"})
        .node("Shape", {"x"}, {"sh2"}, {ai("start", 1)})
        .node("Size", {"x"}, {"sz"});
    EXPECT_EQ(b.type("t1"), "float[4,3,2]");
    EXPECT_EQ(b.type("t2"), "float[2,4,3]");
    EXPECT_EQ(b.type("cat"), "float[2,8,4]");
    EXPECT_EQ(b.type("sq"), "float[2,3]");
    EXPECT_EQ(b.type("sq_all"), "float[2,3]");
    EXPECT_EQ(b.type("us"), "float[1,2,3,4,1]");
    EXPECT_EQ(b.type("us_attr"), "float[2,1,3,4]");
    EXPECT_EQ(b.type("sp0"), "float[4]");
    EXPECT_EQ(b.type("sp2"), "float[2]");  // opset 18: the last part is smaller
    EXPECT_EQ(b.type("sp4"), "float[7]");
    EXPECT_EQ(b.type("sl"), "float[5]");  // 9, 7, 5, 3, 1
    EXPECT_EQ(b.type("sl2"), "float[8]");
    EXPECT_EQ(b.type("pd"), "float[5,6]");  // [1+2+2, 0+3+3]
    EXPECT_EQ(b.type("ga"), "float[2,2,3,4]");
    EXPECT_EQ(b.type("ti"), "float[4,9]");
    EXPECT_EQ(b.type("ex"), "float[4,2,3]");
    EXPECT_EQ(b.type("cs"), "float[4,1,3]");
    EXPECT_EQ(b.type("sh"), "int64[3]");
    EXPECT_EQ(b.type("sh2"), "int64[2]");
    EXPECT_EQ(b.type("sz"), "int64[]");
}

TEST(ShapeInfer, ReductionsAndArgMax) {
    Builder b;
    b.input("x", DType::kF32, {d(2), d(3), d(4)})
        .node("ReduceMean", {"x"}, {"r1"}, {ais("axes", {1}), ai("keepdims", 0)})
        .ints("axes", {-1})
        .node("ReduceSum", {"x", "axes"}, {"r2"})
        .node("ReduceMax", {"x"}, {"r3"})
        .node("ReduceL2", {"x"}, {"r4"}, {ai("noop_with_empty_axes", 1)})
        .node("ArgMax", {"x"}, {"am"}, {ai("axis", 2), ai("keepdims", 0)});
    EXPECT_EQ(b.type("r1"), "float[2,4]");
    EXPECT_EQ(b.type("r2"), "float[2,3,1]");
    EXPECT_EQ(b.type("r3"), "float[1,1,1]");
    EXPECT_EQ(b.type("r4"), "float[2,3,4]");
    EXPECT_EQ(b.type("am"), "int64[2,3]");
}

TEST(ShapeInfer, ElementwiseCastsAndQuantization) {
    Builder b;
    b.input("x", DType::kF32, {sym("N"), d(1), d(4)})
        .input("y", DType::kF32, {d(3), d(1)})
        .node("Add", {"x", "y"}, {"add"})
        .node("Less", {"x", "y"}, {"less"})
        .node("Sum", {"x", "y", "x"}, {"sum"})
        .node("Where", {"less", "x", "y"}, {"wh"})
        .node("Cast", {"x"}, {"cast"}, {ai("to", 10)})
        .node("CastLike", {"x", "less"}, {"cl"})
        .node("Clip", {"x"}, {"clip"})
        .node("Dropout", {"x"}, {"dr", "mask"})
        .init("scale", Tensor::scalar(0.5f))
        .init("zp_i8", Tensor::scalar<std::int8_t>(0))
        .node("QuantizeLinear", {"x", "scale"}, {"q_u8"})
        .node("QuantizeLinear", {"x", "scale", "zp_i8"}, {"q_i8"})
        .node("QuantizeLinear", {"x", "scale"}, {"q_i4"}, {ai("output_dtype", 22)})
        .node("DequantizeLinear", {"q_i8", "scale", "zp_i8"}, {"dq"})
        .init("scale16", Tensor(DType::kF16, {}))
        .node("DequantizeLinear", {"q_i8", "scale16"}, {"dq16"})
        .node("DynamicQuantizeLinear", {"x"}, {"dy", "dys", "dyz"})
        .node("Add", {"x", "nothing_known"}, {"unknown"});
    EXPECT_EQ(b.type("add"), "float[N,3,4]");
    EXPECT_EQ(b.type("less"), "bool[N,3,4]");
    EXPECT_EQ(b.type("sum"), "float[N,3,4]");
    EXPECT_EQ(b.type("wh"), "float[N,3,4]");
    EXPECT_EQ(b.type("cast"), "float16[N,1,4]");
    EXPECT_EQ(b.type("cl"), "bool[N,1,4]");
    EXPECT_EQ(b.type("clip"), "float[N,1,4]");
    EXPECT_EQ(b.type("mask"), "bool[N,1,4]");
    EXPECT_EQ(b.type("q_u8"), "uint8[N,1,4]");
    EXPECT_EQ(b.type("q_i8"), "int8[N,1,4]");
    EXPECT_EQ(b.type("q_i4"), "int4[N,1,4]");
    EXPECT_EQ(b.type("dq"), "float[N,1,4]");
    EXPECT_EQ(b.type("dq16"), "float16[N,1,4]");
    EXPECT_EQ(b.type("dy"), "uint8[N,1,4]");
    EXPECT_EQ(b.type("dys"), "float[]");
    EXPECT_EQ(b.type("unknown"), "float[?]");  // element type from x; rank unknown
}

TEST(ShapeInfer, ExistingTypesAreKeptAndBadNodesSkipped) {
    Builder b;
    b.input("x", DType::kF32, {d(2), d(3)});
    b.node("Relu", {"x"}, {"declared"});
    TypeInfo t;
    t.elem_type = DType::kF16;
    b.graph().value(*b.graph().find_value("declared")).type = t;  // wrong, but the file's
    b.node("Transpose", {"x"}, {"bad_perm"}, {ais("perm", {0, 0})})
        .input("x4", DType::kF32, {d(1), d(1), d(4), d(4)})
        .node("Conv", {"x4", "x4"}, {"good_conv"})
        .node("Conv", {"x4", "x4"}, {"bad_conv"}, {ais("strides", {0, 0})})
        .ints("huge", {std::int64_t{1} << 62})
        .node("Reshape", {"x", "huge"}, {"bad_reshape"});
    EXPECT_EQ(b.type("declared"), "float16[?]");
    EXPECT_EQ(b.type("bad_perm"), "(untyped)");
    EXPECT_EQ(b.type("good_conv"), "float[1,1,1,1]");
    EXPECT_EQ(b.type("bad_conv"), "(untyped)");
    EXPECT_EQ(b.type("bad_reshape"), "(untyped)");
}

TEST(ShapeInfer, SubgraphsSeeOuterTypes) {
    Builder b;
    b.input("x", DType::kF32, {d(2), d(5)}).input("cond", DType::kBool, {});
    auto body = std::make_shared<Graph>();
    Node relu;
    relu.name = "inner";
    relu.op_type = "Relu";
    relu.inputs.push_back(body->value_named("x"));
    relu.outputs.push_back(body->value_named("inner_out"));
    body->add_node(relu);
    body->outputs.push_back(*body->find_value("inner_out"));
    body->rebuild_uses();
    Attribute then_branch;
    then_branch.name = "then_branch";
    then_branch.type = AttrType::kGraph;
    then_branch.g = body;
    b.node("If", {"cond"}, {"y"}, {then_branch});
    EXPECT_EQ(b.type("y"), "(untyped)");  // If has no rule
    EXPECT_EQ(body->value(*body->find_value("inner_out")).type->str(), "float[2,5]");
}

}  // namespace
}  // namespace aquant::ir
