#!/usr/bin/python3
"""Golden data for tests/quant/ort_golden_test.cpp: ONNX Runtime's QuantizeLinear ->
DequantizeLinear (opset 21) on random values, ties and out-of-range values, for int8, uint8,
int4 and uint4, per tensor, per axis and per block (partial last blocks included).

Why: aquant's quantizer claims bit-exactness with ONNX Runtime (x / scale in float32, round half
to even, saturate). This file pins that claim to real ORT output, so a change in rounding order,
reciprocal multiplication or the block index shows as a failing test without needing ORT.

How: /usr/bin/python3 tests/quant/data/gen_ort_qdq.py (needs Debian's python3-onnx and
python3-numpy, and tools/ort installed: tools/ort/install.sh). It builds one model per case in a
temporary directory, runs it with tools/ort/ort_run.js --opt disabled (no Q/DQ folding), and
writes ort_qdq.txt beside this script. Floats are written in C99 hex notation (exact).
Outputs: y = DequantizeLinear(QuantizeLinear(x)) and, for 8-bit cases, q = Cast(q, int32);
4-bit graph outputs cannot be fetched from onnxruntime-node (tools/ort/README.md), and y
determines the code anyway.
"""
import json
import os
import subprocess
import sys
import tempfile

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", "..", ".."))
ORT_RUN = os.path.join(ROOT, "tools", "ort", "ort_run.js")
INT4, UINT4 = 22, 21
TYPES = {
    "int8": (TensorProto.INT8, -128, 127),
    "uint8": (TensorProto.UINT8, 0, 255),
    "int4": (INT4, -8, 7),
    "uint4": (UINT4, 0, 15),
}

# name, dtype, x dims, axis, block_size (0: per axis / per tensor), per_tensor
CASES = [
    ("int8_tensor", "int8", [97], 0, 0, True),
    ("uint8_tensor", "uint8", [7, 11], 0, 0, True),
    ("int8_axis1", "int8", [5, 7, 3], 1, 0, False),
    ("uint8_axis0", "uint8", [6, 9], 0, 0, False),
    ("int4_tensor", "int4", [65], 0, 0, True),
    ("uint4_axis_last", "uint4", [4, 5, 6], -1, 0, False),
    ("int4_block_axis1", "int4", [3, 10], 1, 4, False),
    ("uint4_block_axis0", "uint4", [7, 5], 0, 3, False),
    ("int8_block_axis2", "int8", [2, 3, 20], 2, 8, False),
    ("uint8_block_axis1", "uint8", [4, 33, 2], 1, 16, False),
]


def pack4(q):
    flat = (np.asarray(q).astype(np.int64).reshape(-1) & 0xF).astype(np.uint8)
    if flat.size % 2:
        flat = np.concatenate([flat, np.zeros(1, np.uint8)])
    return (flat[0::2] | (flat[1::2] << 4)).astype(np.uint8).tobytes()


def zp_tensor(name, zp, dtype):
    code = TYPES[dtype][0]
    if dtype in ("int4", "uint4"):
        t = TensorProto()
        t.name = name
        t.data_type = code
        t.dims.extend(zp.shape)
        t.raw_data = pack4(zp)
        return t
    np_type = np.int8 if dtype == "int8" else np.uint8
    return numpy_helper.from_array(zp.astype(np_type), name)


def scale_shape(dims, axis, block, per_tensor):
    if per_tensor:
        return []
    a = axis % len(dims)
    if block == 0:
        return [dims[a]]
    s = list(dims)
    s[a] = (dims[a] + block - 1) // block
    return s


def expand(param, dims, axis, block, per_tensor):
    """Per-element view of a parameter array (numpy), for making exact ties."""
    if per_tensor:
        return np.full(dims, param.reshape(()), dtype=param.dtype)
    a = axis % len(dims)
    if block == 0:
        shape = [1] * len(dims)
        shape[a] = dims[a]
        return np.broadcast_to(param.reshape(shape), dims)
    return np.repeat(param, block, axis=a).take(range(dims[a]), axis=a)


def make_case(rng, name, dtype, dims, axis, block, per_tensor, tmp):
    code, lo, hi = TYPES[dtype]
    sdims = scale_shape(dims, axis, block, per_tensor)
    scale = (rng.random(sdims) * 0.2 + 0.005).astype(np.float32)
    zp = rng.integers(lo, hi + 1, size=sdims).astype(np.int64)
    s_full = expand(scale, dims, axis, block, per_tensor).astype(np.float32)
    z_full = expand(zp, dims, axis, block, per_tensor)
    span = (hi - lo + 1) * 0.75
    k = rng.uniform(-span, span, size=dims)
    x = (k * s_full).astype(np.float32)
    flat = x.reshape(-1)
    kf = rng.integers(-(hi - lo), hi - lo, size=flat.size)
    sf = s_full.reshape(-1)
    for i in range(0, flat.size, 3):  # exact or near half-step ties: round-half-even territory
        flat[i] = np.float32((kf[i] + 0.5) * sf[i])
    flat[1] = np.float32(0.0)
    flat[min(4, flat.size - 1)] = np.float32(1e30)
    attrs = {}
    if not per_tensor:
        attrs["axis"] = axis
    if block:
        attrs["block_size"] = block
    nodes = [
        helper.make_node("QuantizeLinear", ["x", "s", "zp"], ["q"], **attrs),
        helper.make_node("DequantizeLinear", ["q", "s", "zp"], ["y"], **attrs),
    ]
    outputs = [helper.make_tensor_value_info("y", TensorProto.FLOAT, dims)]
    if dtype in ("int8", "uint8"):
        nodes.append(helper.make_node("Cast", ["q"], ["q32"], to=TensorProto.INT32))
        outputs.append(helper.make_tensor_value_info("q32", TensorProto.INT32, dims))
    g = helper.make_graph(
        nodes, name, [helper.make_tensor_value_info("x", TensorProto.FLOAT, dims)], outputs,
        [numpy_helper.from_array(scale, "s"), zp_tensor("zp", zp, dtype)])
    m = helper.make_model(g)
    m.ir_version = 10
    del m.opset_import[:]
    op = m.opset_import.add()
    op.domain = ""
    op.version = 21
    model = os.path.join(tmp, name + ".onnx")
    with open(model, "wb") as f:
        f.write(m.SerializeToString())
    xin = os.path.join(tmp, name + "_x.npy")
    np.save(xin, x)
    out = os.path.join(tmp, name + "_out")
    subprocess.run(["node", ORT_RUN, model, "--input", "x=" + xin, "--out", out, "--opt",
                    "disabled", "--threads", "1"], check=True, stdout=subprocess.DEVNULL)
    y = np.load(os.path.join(out, "y.npy"))
    q = np.load(os.path.join(out, "q32.npy")) if dtype in ("int8", "uint8") else None
    return scale, zp, sdims, x, y, q


def hexs(a):
    return " ".join(float(v).hex() for v in np.asarray(a, np.float32).reshape(-1))


def main():
    rng = np.random.default_rng(20240521)
    lines = ["# ONNX Runtime QuantizeLinear -> DequantizeLinear golden data; generated by",
             "# gen_ort_qdq.py (see its docstring). Do not edit by hand."]
    ver = json.load(open(os.path.join(ROOT, "tools", "ort", "node_modules", "onnxruntime-node",
                                      "package.json")))["version"]
    lines.append(f"# onnxruntime-node {ver}, CPU EP, --opt disabled")
    with tempfile.TemporaryDirectory() as tmp:
        for name, dtype, dims, axis, block, per_tensor in CASES:
            scale, zp, sdims, x, y, q = make_case(rng, name, dtype, dims, axis, block, per_tensor,
                                                  tmp)
            lines += [f"case {name}", f"dtype {dtype}", f"axis {axis}", f"block_size {block}",
                      "x_dims " + " ".join(map(str, dims)),
                      "scale_dims " + " ".join(map(str, sdims)),
                      "scale " + hexs(scale), "zero_point " + " ".join(map(str, zp.reshape(-1))),
                      "x " + hexs(x), "y " + hexs(y)]
            if q is not None:
                lines.append("q " + " ".join(map(str, q.reshape(-1))))
            lines.append("end")
    with open(os.path.join(HERE, "ort_qdq.txt"), "w") as f:
        f.write("\n".join(lines) + "\n")
    print(f"wrote {len(CASES)} cases to {os.path.join(HERE, 'ort_qdq.txt')}")


if __name__ == "__main__":
    sys.exit(main())
