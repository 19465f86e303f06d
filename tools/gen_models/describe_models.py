#!/usr/bin/python3
"""Print a Markdown summary (size, weights, op histogram, fp32 top-1) of the
bundled models, read from models/*.aquant.json and the .onnx files they name.

Usage: /usr/bin/python3 tools/gen_models/describe_models.py [MODELS_DIR]
"""

import collections
import glob
import json
import os
import sys

import onnx
from onnx import numpy_helper


def describe(sidecar_path):
    with open(sidecar_path) as f:
        side = json.load(f)
    onnx_path = os.path.join(os.path.dirname(sidecar_path), side["model"])
    m = onnx.load(onnx_path)
    hist = collections.Counter(n.op_type for n in m.graph.node)
    n_init = sum(numpy_helper.to_array(t).size for t in m.graph.initializer)
    lines = [
        "### %s" % side["model"],
        "",
        "- file size: %d bytes" % os.path.getsize(onnx_path),
        "- initializer elements (incl. BN running stats): %d" % n_init,
        "- nodes: %d; op histogram: %s" % (
            len(m.graph.node), ", ".join("%s %d" % kv for kv in sorted(hist.items()))),
        "- fp32 top-1 (sidecar): %.4f" % side["fp32_top1"],
        "",
    ]
    return "\n".join(lines)


def main():
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    d = sys.argv[1] if len(sys.argv) > 1 else os.path.join(root, "models")
    for p in sorted(glob.glob(os.path.join(d, "*.aquant.json"))):
        print(describe(p))


if __name__ == "__main__":
    main()
