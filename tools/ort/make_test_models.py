#!/usr/bin/python3
"""Build tiny ONNX test models + inputs + numpy references for tools/ort/selftest.sh.

Needs only Debian's python3-onnx (onnx 1.12) and python3-numpy. onnx 1.12 predates
INT4 (TensorProto data_type 22), IR version 10 and opset 21, so the INT4 models are
assembled from the protobuf classes directly and never passed to the 1.12 checker.

usage: make_test_models.py OUTDIR
Writes, for each case C:  OUTDIR/C.onnx, OUTDIR/C_in.npy (input 'x'), OUTDIR/C_ref.npy
(expected output 'y'), plus OUTDIR/mm_add.npz with x and a 'labels' array.
"""
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

INT4 = 22  # TensorProto.INT4 (onnx >= 1.16)
UINT4 = 21  # TensorProto.UINT4


def pack4(q):
    """Pack int values in [-8, 7] (or [0, 15]) two per byte, low nibble first (ONNX layout)."""
    flat = (np.asarray(q).astype(np.int64).reshape(-1) & 0xF).astype(np.uint8)
    if flat.size % 2:
        flat = np.concatenate([flat, np.zeros(1, np.uint8)])
    return (flat[0::2] | (flat[1::2] << 4)).astype(np.uint8).tobytes()


def int4_initializer(name, q, dtype=INT4):
    t = TensorProto()
    t.name = name
    t.data_type = dtype
    t.dims.extend(q.shape)
    t.raw_data = pack4(q)
    return t


def save(model, path, ir_version=None, opset=None):
    if ir_version is not None:
        model.ir_version = ir_version
    if opset is not None:
        del model.opset_import[:]
        op = model.opset_import.add()
        op.domain = ""
        op.version = opset
    with open(path, "wb") as f:
        f.write(model.SerializeToString())


def mm_add(out, rng):
    K, N = 8, 5
    W = rng.standard_normal((K, N)).astype(np.float32)
    b = rng.standard_normal((N,)).astype(np.float32)
    x = rng.standard_normal((6, K)).astype(np.float32)
    g = helper.make_graph(
        [helper.make_node("MatMul", ["x", "W"], ["t"]), helper.make_node("Add", ["t", "b"], ["y"])],
        "mm_add",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", K])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", N])],
        [numpy_helper.from_array(W, "W"), numpy_helper.from_array(b, "b")],
    )
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])
    onnx.checker.check_model(m)
    save(m, os.path.join(out, "mm_add.onnx"))
    np.save(os.path.join(out, "mm_add_in.npy"), x)
    np.save(os.path.join(out, "mm_add_ref.npy"), x @ W + b)
    np.savez(os.path.join(out, "mm_add.npz"), x=x, labels=np.arange(6, dtype=np.int64))
    np.savez_compressed(os.path.join(out, "mm_add_z.npz"), x=x, labels=np.arange(6, dtype=np.int64))
    # fixed batch 1 variant for --batch 1
    g1 = helper.make_graph(
        list(g.node), "mm_add_b1",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, K])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, N])],
        list(g.initializer),
    )
    m1 = helper.make_model(g1, opset_imports=[helper.make_opsetid("", 13)])
    save(m1, os.path.join(out, "mm_add_b1.onnx"))


def int4_dq_matmul(out, rng, name, K, N, block_size=None, zero_point=False, dtype=INT4, axis=0):
    """y = x[M,K] @ DequantizeLinear(Wq[K,N] 4-bit, scale, [zp]): per-axis scales along `axis`
    (0: one per row k, 1: one per output column n) or, with block_size, blocked along axis 0."""
    lo, hi = (-8, 7) if dtype == INT4 else (0, 15)
    Wq = rng.integers(lo, hi + 1, size=(K, N)).astype(np.int64)
    inits = [int4_initializer("Wq", Wq, dtype)]
    attrs = {}
    if block_size is None:
        L = (K, N)[axis]
        scale = (rng.random(L).astype(np.float32) * 0.1 + 0.01).astype(np.float32)
        zp = rng.integers(lo, hi + 1, size=(L,)) if zero_point else None
        attrs["axis"] = axis
        bshape = (L, 1) if axis == 0 else (1, L)
        s_full = scale.reshape(bshape)
        z_full = zp.reshape(bshape) if zp is not None else 0
    else:
        # blocked along axis 0 (the K / reduction axis, as MatMulNBits wants): scale [K/bs, N]
        assert K % block_size == 0
        scale = (rng.random((K // block_size, N)).astype(np.float32) * 0.1 + 0.01).astype(np.float32)
        zp = rng.integers(lo, hi + 1, size=scale.shape) if zero_point else None
        attrs["axis"] = 0
        attrs["block_size"] = block_size
        s_full = np.repeat(scale, block_size, axis=0)
        z_full = np.repeat(zp, block_size, axis=0) if zp is not None else 0
    inits.append(numpy_helper.from_array(scale, "Ws"))
    dq_inputs = ["Wq", "Ws"]
    if zp is not None:
        inits.append(int4_initializer("Wz", zp, dtype))
        dq_inputs.append("Wz")
    W = ((Wq - z_full).astype(np.float32) * s_full).astype(np.float32)
    M = 4
    x = rng.standard_normal((M, K)).astype(np.float32)
    nodes = [
        helper.make_node("DequantizeLinear", dq_inputs, ["W"], **attrs),
        helper.make_node("MatMul", ["x", "W"], ["y"]),
    ]
    g = helper.make_graph(
        nodes, name,
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", K])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", N])],
        inits,
    )
    m = helper.make_model(g)
    save(m, os.path.join(out, f"{name}.onnx"), ir_version=10, opset=21)
    np.save(os.path.join(out, f"{name}_in.npy"), x)
    ref = (x.astype(np.float64) @ W.astype(np.float64)).astype(np.float32)
    np.save(os.path.join(out, f"{name}_ref.npy"), ref)
    np.save(os.path.join(out, f"{name}_W.npy"), W)


def int4_dq_only(out, rng):
    """Graph output = DequantizeLinear(int4 initializer) directly (exact check of DQ itself)."""
    K, N, bs = 32, 3, 16
    Wq = rng.integers(-8, 8, size=(K, N)).astype(np.int64)
    scale = (rng.random((K // bs, N)) * 0.1 + 0.01).astype(np.float32)
    W = ((Wq.astype(np.float32)) * np.repeat(scale, bs, axis=0)).astype(np.float32)
    # Need a graph input: multiply dequantized W by x (shape [1]) = 1.0
    nodes = [
        helper.make_node("DequantizeLinear", ["Wq", "Ws"], ["W"], axis=0, block_size=bs),
        helper.make_node("Mul", ["W", "x"], ["y"]),
    ]
    g = helper.make_graph(
        nodes, "int4_dq_only",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [K, N])],
        [int4_initializer("Wq", Wq), numpy_helper.from_array(scale, "Ws")],
    )
    save(helper.make_model(g), os.path.join(out, "int4_dq_only.onnx"), ir_version=10, opset=21)
    np.save(os.path.join(out, "int4_dq_only_in.npy"), np.ones(1, np.float32))
    np.save(os.path.join(out, "int4_dq_only_ref.npy"), W)


def int4_qdq_roundtrip(out, rng):
    """QuantizeLinear to int4 + DequantizeLinear on an activation (opset 21 int4 Q)."""
    scale = np.array(0.25, np.float32)
    zp = TensorProto()
    zp.name = "zp"
    zp.data_type = INT4
    zp.raw_data = pack4(np.array([0]))
    nodes = [
        helper.make_node("QuantizeLinear", ["x", "s", "zp"], ["q"]),
        helper.make_node("DequantizeLinear", ["q", "s", "zp"], ["y"]),
    ]
    g = helper.make_graph(
        nodes, "int4_qdq",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["n"])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["n"])],
        [numpy_helper.from_array(scale, "s"), zp],
    )
    save(helper.make_model(g), os.path.join(out, "int4_qdq.onnx"), ir_version=10, opset=21)
    x = (rng.standard_normal(64) * 1.5).astype(np.float32)
    # round half to even, saturate to [-8, 7]
    q = np.clip(np.rint(x / scale), -8, 7)
    np.save(os.path.join(out, "int4_qdq_in.npy"), x)
    np.save(os.path.join(out, "int4_qdq_ref.npy"), (q * scale).astype(np.float32))


def odd_outputs(out, rng):
    """Outputs with '/' and ':' in their names, bool / int64 / int4 dtypes (for .npy writing)."""
    zero = numpy_helper.from_array(np.array(0.0, np.float32), "zero")
    s = numpy_helper.from_array(np.array(0.5, np.float32), "s")
    zp = TensorProto()
    zp.name = "zp"
    zp.data_type = INT4
    zp.raw_data = pack4(np.array([0]))
    nodes = [
        helper.make_node("Identity", ["x"], ["out/a:0"]),
        helper.make_node("Greater", ["x", "zero"], ["out:b"]),
        helper.make_node("Cast", ["x"], ["i64"], to=TensorProto.INT64),
        helper.make_node("QuantizeLinear", ["x", "s", "zp"], ["q4"]),
    ]
    q4 = onnx.ValueInfoProto()
    q4.name = "q4"
    q4.type.tensor_type.elem_type = INT4
    q4.type.tensor_type.shape.dim.add().dim_param = "n"
    g = helper.make_graph(
        nodes, "odd_outputs",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["n"])],
        [
            helper.make_tensor_value_info("out/a:0", TensorProto.FLOAT, ["n"]),
            helper.make_tensor_value_info("out:b", TensorProto.BOOL, ["n"]),
            helper.make_tensor_value_info("i64", TensorProto.INT64, ["n"]),
            q4,
        ],
        [zero, s, zp],
    )
    save(helper.make_model(g), os.path.join(out, "odd_outputs.onnx"), ir_version=10, opset=21)
    x = np.array([-5.0, -1.2, -0.2, 0.0, 0.3, 1.7, 2.6, 9.0], np.float32)
    np.save(os.path.join(out, "odd_outputs_in.npy"), x)
    np.save(os.path.join(out, "odd_outputs_ref_out_a_0.npy"), x)
    np.save(os.path.join(out, "odd_outputs_ref_out_b.npy"), x > 0)
    np.save(os.path.join(out, "odd_outputs_ref_i64.npy"), x.astype(np.int64))


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    rng = np.random.default_rng(1234)
    mm_add(out, rng)
    int4_dq_matmul(out, rng, "int4_axis0", K=16, N=8)
    int4_dq_matmul(out, rng, "int4_axis0_zp", K=16, N=8, zero_point=True)
    int4_dq_matmul(out, rng, "int4_axis1_zp", K=32, N=8, zero_point=True, axis=1)
    int4_dq_matmul(out, rng, "int4_block32", K=64, N=24, block_size=32)
    int4_dq_matmul(out, rng, "int4_block16_zp", K=64, N=24, block_size=16, zero_point=True)
    int4_dq_matmul(out, rng, "uint4_block32_zp", K=64, N=24, block_size=32, zero_point=True, dtype=UINT4)
    int4_dq_only(out, rng)
    int4_qdq_roundtrip(out, rng)
    odd_outputs(out, rng)
    print("ok", out)


if __name__ == "__main__":
    main()
