#!/usr/bin/python3
"""Train and export the bundled Fashion-MNIST models for aquant.

Trains four small classifiers on the Fashion-MNIST *train* split, evaluates
them on the 10,000-image *test* split, exports them to ONNX (opset 17,
weights embedded, dynamic batch dimension "N") and writes, next to each
model, the sidecar file ``<name>.aquant.json`` that the aquant C++ tool reads.

Models:
  lenet5_fmnist       LeNet-5 style CNN (Conv/Relu/MaxPool x2, 3 Gemm)
  resnet_fmnist       ResNet style CNN, BatchNormalization + residual Add, 9 Conv
  mobilenetv2_fmnist  MobileNetV2 style CNN, inverted residuals, depthwise Conv,
                      ReLU6 (Clip), BatchNormalization
  vit_fmnist          tiny ViT: 7x7 patches -> 16 tokens, dim 64, 2 layers,
                      4 heads, hand-written MatMul/Softmax attention,
                      LayerNormalization, GELU (Erf), mean pooling

Usage (from the repository root):
  /usr/bin/python3 tools/gen_models/train_fashion.py                 # all four
  /usr/bin/python3 tools/gen_models/train_fashion.py --only vit_fmnist
  /usr/bin/python3 tools/gen_models/train_fashion.py --check-determinism

Requirements: Debian packages python3-torch (1.13), python3-onnx (1.12),
python3-numpy.  No network access needed.

Everything is seeded, single-process and run with
torch.use_deterministic_algorithms(True) and 2 intra-op threads, so a rerun
on the same machine/software stack reproduces byte-identical .onnx files
(``--check-determinism`` verifies this with two short LeNet runs).
"""

import os
import sys

# The Debian python3-torch links the reference (netlib) BLAS through the
# libblas.so.3 alternative, which makes the Linear/MatMul-heavy models (ViT)
# several times slower.  If OpenBLAS is installed (Debian package
# libopenblas0-openmp), re-run this script with it first on the library path.
# Results are deterministic for a fixed software stack; a different BLAS gives
# (slightly) different weights.
OPENBLAS_DIR = "/usr/lib/x86_64-linux-gnu/openblas-openmp"
# libgomp's default busy-wait policy collapses throughput (5x and worse) when
# the 2 cores are shared with other work (e.g. a parallel C++ build).  It does
# not change any result, only scheduling.  Must be set before torch loads.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
if __name__ == "__main__" and not os.environ.get("AQUANT_GEN_NO_OPENBLAS") \
        and os.path.exists(os.path.join(OPENBLAS_DIR, "libblas.so.3")):
    _paths = [p for p in os.environ.get("LD_LIBRARY_PATH", "").split(":") if p]
    if OPENBLAS_DIR not in _paths:
        _env = dict(os.environ, LD_LIBRARY_PATH=":".join([OPENBLAS_DIR] + _paths))
        os.execve(sys.executable, [sys.executable] + sys.argv, _env)

import argparse
import collections
import filecmp
import gzip
import json
import random
import subprocess
import tempfile
import time
import warnings

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

import onnx
from onnx import numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))
REPO_ROOT = os.path.dirname(os.path.dirname(HERE))
DATA_DIR = "/usr/share/datasets/fashion-mnist"
DATA_FILES = {
    "train_images": DATA_DIR + "/train-images-idx3-ubyte.gz",
    "train_labels": DATA_DIR + "/train-labels-idx1-ubyte.gz",
    "test_images": DATA_DIR + "/t10k-images-idx3-ubyte.gz",
    "test_labels": DATA_DIR + "/t10k-labels-idx1-ubyte.gz",
}
MEAN = 0.2860
STD = 0.3530
SEED = 20240607
OPSET = 17
NUM_THREADS = 2


# --------------------------------------------------------------------------
# Data
# --------------------------------------------------------------------------

def read_idx(path):
    """Read a (gzipped) IDX file into a numpy array (big-endian header)."""
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        data = f.read()
    zero, dtype_code, ndim = data[0] * 256 + data[1], data[2], data[3]
    if zero != 0 or dtype_code != 0x08:
        raise ValueError("%s: unsupported IDX header (only uint8 data)" % path)
    dims = [int.from_bytes(data[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim)]
    arr = np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim)
    if arr.size != int(np.prod(dims)):
        raise ValueError("%s: size mismatch" % path)
    return arr.reshape(dims)


def preprocess(images_u8):
    """uint8 [N,28,28] -> float32 [N,1,28,28]: (x/255 - 0.2860) / 0.3530."""
    x = torch.from_numpy(images_u8.astype(np.float32)).unsqueeze(1)
    return (x * (1.0 / 255.0) - MEAN) / STD


def load_data():
    tr_x = preprocess(read_idx(DATA_FILES["train_images"]))
    tr_y = torch.from_numpy(read_idx(DATA_FILES["train_labels"]).astype(np.int64))
    te_x = preprocess(read_idx(DATA_FILES["test_images"]))
    te_y = torch.from_numpy(read_idx(DATA_FILES["test_labels"]).astype(np.int64))
    assert tr_x.shape == (60000, 1, 28, 28) and te_x.shape == (10000, 1, 28, 28)
    return tr_x, tr_y, te_x, te_y


def augment(x, gen, pad=2, flip=True):
    """Random horizontal flip + random translation by up to `pad` pixels
    (zero padding in *normalised* space is replaced by the background value,
    i.e. the normalised value of a black pixel)."""
    b = x.shape[0]
    if flip:
        m = torch.rand(b, generator=gen) < 0.5
        x = torch.where(m[:, None, None, None], x.flip(3), x)
    if pad > 0:
        bg = (0.0 - MEAN) / STD
        xp = F.pad(x, (pad, pad, pad, pad), value=bg)
        dy = torch.randint(0, 2 * pad + 1, (b,), generator=gen)
        dx = torch.randint(0, 2 * pad + 1, (b,), generator=gen)
        ar = torch.arange(28)
        rows = (dy[:, None] + ar[None, :])[:, :, None]  # [B,28,1]
        cols = (dx[:, None] + ar[None, :])[:, None, :]  # [B,1,28]
        bi = torch.arange(b)[:, None, None]
        x = xp[bi, 0, rows, cols].unsqueeze(1)
    return x


# --------------------------------------------------------------------------
# Models
# --------------------------------------------------------------------------

class LeNet5(nn.Module):
    """Classic LeNet-5 layout (6/16 conv channels, 120/84 FC) with ReLU and
    max pooling; 28x28 input with padding 2 on the first conv."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 6, 5, padding=2)
        self.conv2 = nn.Conv2d(6, 16, 5)
        self.fc1 = nn.Linear(16 * 5 * 5, 120)
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, 10)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)  # 6x14x14
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)  # 16x5x5
        x = torch.flatten(x, 1)
        x = F.relu(self.fc1(x))
        x = F.relu(self.fc2(x))
        return self.fc3(x)


class BasicBlock(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.short = None
        if stride != 1 or cin != cout:
            self.short = nn.Sequential(
                nn.Conv2d(cin, cout, 1, stride, 0, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        y = F.relu(self.bn1(self.conv1(x)))
        y = self.bn2(self.conv2(y))
        s = x if self.short is None else self.short(x)
        return F.relu(y + s)


class ResNetFM(nn.Module):
    """Stem conv (16) + three stages of one basic block (16/32/64 channels,
    28->14->7 spatial) with 1x1 projection shortcuts: 9 Conv, 9 BN, 3 Add."""

    def __init__(self, widths=(16, 32, 64)):
        super().__init__()
        self.stem = nn.Conv2d(1, widths[0], 3, 1, 1, bias=False)
        self.bn = nn.BatchNorm2d(widths[0])
        self.layer1 = BasicBlock(widths[0], widths[0], 1)
        self.layer2 = BasicBlock(widths[0], widths[1], 2)
        self.layer3 = BasicBlock(widths[1], widths[2], 2)
        self.fc = nn.Linear(widths[2], 10)

    def forward(self, x):
        x = F.relu(self.bn(self.stem(x)))
        x = self.layer3(self.layer2(self.layer1(x)))
        x = F.adaptive_avg_pool2d(x, 1)  # GlobalAveragePool
        x = torch.flatten(x, 1)
        return self.fc(x)


class InvertedResidual(nn.Module):
    def __init__(self, cin, cout, stride, expand):
        super().__init__()
        hid = cin * expand
        self.use_res = stride == 1 and cin == cout
        layers = []
        if expand != 1:
            layers += [nn.Conv2d(cin, hid, 1, bias=False), nn.BatchNorm2d(hid), nn.ReLU6()]
        layers += [
            nn.Conv2d(hid, hid, 3, stride, 1, groups=hid, bias=False),  # depthwise
            nn.BatchNorm2d(hid), nn.ReLU6(),
            nn.Conv2d(hid, cout, 1, bias=False), nn.BatchNorm2d(cout),  # linear bottleneck
        ]
        self.body = nn.Sequential(*layers)

    def forward(self, x):
        y = self.body(x)
        return x + y if self.use_res else y


class MobileNetV2FM(nn.Module):
    """MobileNetV2 for 28x28 inputs: stem 3x3 conv (16) at 28x28, 7 inverted
    residual blocks (t, c, n, s) = (1,16,1,2) (4,24,2,1) (4,32,2,2) (4,64,2,1)
    (28 -> 14 -> 7), 1x1 conv to 192, global average pool, FC."""

    CFG = [(1, 16, 1, 2), (4, 24, 2, 1), (4, 32, 2, 2), (4, 64, 2, 1)]

    def __init__(self, last=192):
        super().__init__()
        layers = [nn.Conv2d(1, 16, 3, 1, 1, bias=False), nn.BatchNorm2d(16), nn.ReLU6()]
        cin = 16
        for t, c, n, s in self.CFG:
            for i in range(n):
                layers.append(InvertedResidual(cin, c, s if i == 0 else 1, t))
                cin = c
        layers += [nn.Conv2d(cin, last, 1, bias=False), nn.BatchNorm2d(last), nn.ReLU6()]
        self.features = nn.Sequential(*layers)
        self.fc = nn.Linear(last, 10)

    def forward(self, x):
        x = self.features(x)
        x = F.adaptive_avg_pool2d(x, 1)
        x = torch.flatten(x, 1)
        return self.fc(x)


class Attention(nn.Module):
    """Multi-head self attention written with plain matmuls so that the ONNX
    graph is MatMul/Add/Reshape/Transpose/Mul/Softmax only."""

    def __init__(self, dim, heads, tokens):
        super().__init__()
        self.h, self.d, self.t = heads, dim // heads, tokens
        self.scale = self.d ** -0.5
        self.q = nn.Linear(dim, dim)
        self.k = nn.Linear(dim, dim)
        self.v = nn.Linear(dim, dim)
        self.proj = nn.Linear(dim, dim)

    def split(self, x):  # [N,T,D] -> [N,H,T,d]; batch as -1 keeps Reshape shapes constant
        return x.reshape(-1, self.t, self.h, self.d).transpose(1, 2)

    def forward(self, x):
        q, k, v = self.split(self.q(x)), self.split(self.k(x)), self.split(self.v(x))
        att = torch.matmul(q, k.transpose(2, 3)) * self.scale  # [N,H,T,T]
        att = torch.softmax(att, dim=-1)
        y = torch.matmul(att, v)  # [N,H,T,d]
        y = y.transpose(1, 2).reshape(-1, self.t, self.h * self.d)
        return self.proj(y)


class EncoderLayer(nn.Module):
    def __init__(self, dim, heads, tokens, mlp):
        super().__init__()
        self.ln1 = nn.LayerNorm(dim)
        self.attn = Attention(dim, heads, tokens)
        self.ln2 = nn.LayerNorm(dim)
        self.fc1 = nn.Linear(dim, mlp)
        self.fc2 = nn.Linear(mlp, dim)

    def forward(self, x):
        x = x + self.attn(self.ln1(x))
        x = x + self.fc2(F.gelu(self.fc1(self.ln2(x))))  # exact GELU -> Erf
        return x


class ViTFM(nn.Module):
    """Pre-norm ViT: 7x7 patches (Conv k=7 s=7) -> 16 tokens of dim 64,
    learned position embedding, 2 encoder layers (4 heads, MLP 128, GELU),
    final LayerNorm, mean pooling over tokens, linear head."""

    def __init__(self, dim=64, depth=2, heads=4, mlp=128, patch=7):
        super().__init__()
        self.tokens, self.dim = (28 // patch) ** 2, dim
        self.patch = nn.Conv2d(1, dim, patch, patch)
        self.pos = nn.Parameter(torch.zeros(1, self.tokens, dim))
        nn.init.normal_(self.pos, std=0.02)
        self.layers = nn.ModuleList(
            [EncoderLayer(dim, heads, self.tokens, mlp) for _ in range(depth)])
        self.ln = nn.LayerNorm(dim)
        self.head = nn.Linear(dim, 10)

    def forward(self, x):
        x = self.patch(x)  # [N,D,4,4]
        x = x.reshape(-1, self.dim, self.tokens).transpose(1, 2)  # [N,16,D]
        x = x + self.pos
        for layer in self.layers:
            x = layer(x)
        x = self.ln(x).mean(dim=1)  # ReduceMean over tokens
        return self.head(x)


# Training recipes. Epoch counts are chosen so that all four models train in
# well under 25 minutes on 2 CPU cores.
MODELS = collections.OrderedDict([
    ("lenet5_fmnist", dict(
        build=LeNet5, epochs=10, batch=128, lr=3e-3, wd=1e-4, aug_pad=0, aug_flip=True,
        label_smoothing=0.0, bn=False, channels_last=False,
        desc="LeNet-5 style: Conv5x5(6)-Relu-MaxPool, Conv5x5(16)-Relu-MaxPool, "
             "Flatten, Gemm 400-120, Relu, Gemm 120-84, Relu, Gemm 84-10")),
    ("resnet_fmnist", dict(
        build=ResNetFM, epochs=5, batch=128, lr=4e-3, wd=5e-4, aug_pad=0, aug_flip=True,
        label_smoothing=0.0, bn=True, channels_last=True,
        desc="ResNet style: stem Conv3x3(16)+BN+Relu; 3 stages x 1 basic block "
             "(16, 32/s2, 64/s2; 1x1 projection shortcuts) with BN and residual Add; "
             "GlobalAveragePool; Gemm 64-10. 9 Conv, 9 BatchNormalization"),),
    ("mobilenetv2_fmnist", dict(
        build=MobileNetV2FM, epochs=5, batch=128, lr=4e-3, wd=1e-4, aug_pad=0, aug_flip=True,
        label_smoothing=0.0, bn=True, channels_last=True,
        desc="MobileNetV2 style: stem Conv3x3(16)+BN+ReLU6; 7 inverted residual blocks "
             "(t,c,n,s)=(1,16,1,2),(4,24,2,1),(4,32,2,2),(4,64,2,1) with depthwise 3x3 "
             "Conv (group=channels), BN, ReLU6 (Clip 0..6), linear bottlenecks and "
             "residual Add; Conv1x1(192)+BN+ReLU6; GlobalAveragePool; Gemm 192-10")),
    ("vit_fmnist", dict(
        build=ViTFM, epochs=10, batch=128, lr=2e-3, wd=5e-2, aug_pad=1, aug_flip=True,
        label_smoothing=0.0, bn=False, channels_last=False,
        desc="ViT: patch embedding Conv7x7/s7 (64) -> 16 tokens + learned position "
             "embedding; 2 pre-norm encoder layers (LayerNormalization, 4-head "
             "attention with MatMul/Softmax, MLP 64-128-64 with exact GELU (Erf)); "
             "final LayerNormalization; ReduceMean over tokens; Gemm/MatMul 64-10")),
])


# --------------------------------------------------------------------------
# Train / evaluate / export
# --------------------------------------------------------------------------

def seed_everything(seed):
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


@torch.no_grad()
def evaluate(model, x, y, batch=1000):
    model.eval()
    correct = 0
    for i in range(0, x.shape[0], batch):
        correct += int((model(x[i:i + batch]).argmax(1) == y[i:i + batch]).sum())
    return correct / x.shape[0]


def train(name, cfg, tr_x, tr_y, te_x, te_y, epochs, log):
    seed_everything(SEED)
    gen = torch.Generator().manual_seed(SEED + 1)
    model = cfg["build"]()
    fmt = torch.channels_last if cfg["channels_last"] else torch.contiguous_format
    model = model.to(memory_format=fmt)  # channels_last: faster oneDNN convs
    n = tr_x.shape[0]
    steps_per_epoch = n // cfg["batch"]  # drop the last partial batch
    opt = torch.optim.AdamW(model.parameters(), lr=cfg["lr"], weight_decay=cfg["wd"])
    sched = torch.optim.lr_scheduler.OneCycleLR(
        opt, max_lr=cfg["lr"], total_steps=max(1, epochs * steps_per_epoch),
        pct_start=0.15, anneal_strategy="cos", div_factor=20.0, final_div_factor=200.0)
    t0 = time.time()
    for ep in range(epochs):
        model.train()
        perm = torch.randperm(n, generator=gen)
        tot_loss, tot_ok = 0.0, 0
        for s in range(steps_per_epoch):
            idx = perm[s * cfg["batch"]:(s + 1) * cfg["batch"]]
            xb, yb = tr_x[idx], tr_y[idx]
            xb = augment(xb, gen, pad=cfg["aug_pad"], flip=cfg["aug_flip"])
            xb = xb.contiguous(memory_format=fmt)
            out = model(xb)
            loss = F.cross_entropy(out, yb, label_smoothing=cfg["label_smoothing"])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            tot_loss += float(loss) * xb.shape[0]
            tot_ok += int((out.argmax(1) == yb).sum())
        seen = steps_per_epoch * cfg["batch"]
        acc = evaluate(model, te_x, te_y)
        log("  [%s] epoch %d/%d  loss %.4f  train-acc %.4f  test-acc %.4f  (%.0f s)" % (
            name, ep + 1, epochs, tot_loss / seen, tot_ok / seen, acc, time.time() - t0))
    train_time = time.time() - t0
    model = model.to(memory_format=torch.contiguous_format)
    model.eval()
    return model, train_time


def export_onnx(model, path):
    model.eval()
    dummy = torch.zeros(1, 1, 28, 28)
    with warnings.catch_warnings():
        # PRESERVE + do_constant_folding warns about *training-mode* models;
        # the model is in eval mode here, so folding is safe.
        warnings.simplefilter("ignore")
        torch.onnx.export(
            model, dummy, path,
            export_params=True,
            opset_version=OPSET,
            do_constant_folding=True,
            # EVAL mode would run the eval peephole pass that fuses Conv+BN.
            # PRESERVE with a model in eval() keeps BatchNormalization nodes
            # (inference form: training_mode=0, one output).
            training=torch.onnx.TrainingMode.PRESERVE,
            input_names=["input"],
            output_names=["logits"],
            dynamic_axes={"input": {0: "N"}, "logits": {0: "N"}},
        )


def op_histogram(m):
    return collections.Counter(n.op_type for n in m.graph.node)


def check_onnx(path, expect_bn):
    m = onnx.load(path)
    onnx.checker.check_model(m, full_check=True)
    g = m.graph
    inits = {i.name for i in g.initializer}
    ins = [i for i in g.input if i.name not in inits]
    assert [i.name for i in ins] == ["input"], [i.name for i in ins]
    assert [o.name for o in g.output] == ["logits"], [o.name for o in g.output]
    dims = [d.dim_param or d.dim_value for d in ins[0].type.tensor_type.shape.dim]
    assert dims == ["N", 1, 28, 28], dims
    assert ins[0].type.tensor_type.elem_type == onnx.TensorProto.FLOAT
    odims = [d.dim_param or d.dim_value for d in g.output[0].type.tensor_type.shape.dim]
    assert odims == ["N", 10], odims
    opset = [o.version for o in m.opset_import if o.domain in ("", "ai.onnx")]
    assert opset == [OPSET], opset
    hist = op_histogram(m)
    for n in g.node:
        if n.op_type == "BatchNormalization":
            assert len(n.output) == 1, "BatchNormalization with training outputs"
            for a in n.attribute:
                if a.name == "training_mode":
                    assert a.i == 0, "BatchNormalization in training mode"
    if expect_bn:
        assert hist["BatchNormalization"] > 0, "BatchNormalization was fused away"
    assert not any(t.data_location == onnx.TensorProto.EXTERNAL for t in g.initializer)
    return m, hist


# --------------------------------------------------------------------------
# Independent check of the exported graph: a small ONNX interpreter whose
# kernels are torch functional ops (no onnxruntime / onnx.reference in the
# Debian stack). Only the ops these models use are implemented.
# --------------------------------------------------------------------------

def _attrs(node):
    return {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}


def run_onnx(m, x):
    env = {t.name: torch.from_numpy(numpy_helper.to_array(t).copy()) for t in m.graph.initializer}
    env["input"] = x
    for node in m.graph.node:
        a = _attrs(node)
        i = [env[n] if n else None for n in node.input]
        op = node.op_type
        if op == "Constant":
            r = torch.from_numpy(numpy_helper.to_array(a["value"]).copy())
        elif op == "Conv":
            pads = a.get("pads", [0, 0, 0, 0])
            assert pads[0] == pads[2] and pads[1] == pads[3]
            r = F.conv2d(i[0], i[1], i[2] if len(i) > 2 else None, stride=a.get("strides", [1, 1]),
                         padding=pads[:2], dilation=a.get("dilations", [1, 1]),
                         groups=a.get("group", 1))
        elif op == "BatchNormalization":
            r = F.batch_norm(i[0], i[3], i[4], i[1], i[2], False, 0.0, a.get("epsilon", 1e-5))
        elif op == "Identity":
            r = i[0]
        elif op == "Relu":
            r = F.relu(i[0])
        elif op == "Clip":
            lo = i[1] if len(i) > 1 and i[1] is not None else None
            hi = i[2] if len(i) > 2 and i[2] is not None else None
            r = torch.clamp(i[0], lo.item() if lo is not None else None,
                            hi.item() if hi is not None else None)
        elif op == "MaxPool":
            pads = a.get("pads", [0, 0, 0, 0])
            r = F.max_pool2d(i[0], a["kernel_shape"], a.get("strides", a["kernel_shape"]),
                             pads[:2], ceil_mode=bool(a.get("ceil_mode", 0)))
        elif op == "GlobalAveragePool":
            r = i[0].mean(dim=(2, 3), keepdim=True)
        elif op == "Flatten":
            ax = a.get("axis", 1)
            r = i[0].reshape(int(np.prod(i[0].shape[:ax])), -1)
        elif op == "Gemm":
            A = i[0].t() if a.get("transA", 0) else i[0]
            B = i[1].t() if a.get("transB", 0) else i[1]
            r = a.get("alpha", 1.0) * (A @ B)
            if len(i) > 2:
                r = r + a.get("beta", 1.0) * i[2]
        elif op == "MatMul":
            r = torch.matmul(i[0], i[1])
        elif op in ("Add", "Sub", "Mul", "Div"):
            f = {"Add": torch.add, "Sub": torch.sub, "Mul": torch.mul, "Div": torch.div}[op]
            r = f(i[0], i[1])
        elif op == "Erf":
            r = torch.erf(i[0])
        elif op == "Softmax":
            r = torch.softmax(i[0], dim=a.get("axis", -1))
        elif op == "Transpose":
            r = i[0].permute(*a["perm"])
        elif op == "Reshape":
            shape = [int(s) for s in i[1].tolist()]
            shape = [i[0].shape[k] if s == 0 else s for k, s in enumerate(shape)]
            r = i[0].reshape(shape)
        elif op == "LayerNormalization":
            ax = a.get("axis", -1)
            ax = ax if ax >= 0 else i[0].dim() + ax
            r = F.layer_norm(i[0], i[0].shape[ax:], i[1], i[2] if len(i) > 2 else None,
                             a.get("epsilon", 1e-5))
        elif op == "ReduceMean":
            r = i[0].mean(dim=a["axes"], keepdim=bool(a.get("keepdims", 1)))
        elif op == "Shape":
            r = torch.tensor(list(i[0].shape), dtype=torch.int64)
        elif op == "Gather":
            r = torch.index_select(i[0], a.get("axis", 0), i[1].reshape(-1)).reshape(
                list(i[0].shape[:a.get("axis", 0)]) + list(i[1].shape)
                + list(i[0].shape[a.get("axis", 0) + 1:]))
        elif op == "Unsqueeze":
            r = i[0]
            for ax in sorted(int(v) for v in i[1].tolist()):
                r = r.unsqueeze(ax)
        elif op == "Concat":
            r = torch.cat(i, dim=a["axis"])
        else:
            raise NotImplementedError("run_onnx: op %s" % op)
        env[node.output[0]] = r
    return env["logits"]


@torch.no_grad()
def verify_onnx_matches_torch(m, model, te_x, te_y, batch=1000):
    model.eval()
    max_diff, agree, correct = 0.0, 0, 0
    for i in range(0, te_x.shape[0], batch):
        xb = te_x[i:i + batch]
        ref = model(xb)
        got = run_onnx(m, xb)
        max_diff = max(max_diff, float((ref - got).abs().max()))
        agree += int((ref.argmax(1) == got.argmax(1)).sum())
        correct += int((got.argmax(1) == te_y[i:i + batch]).sum())
    return max_diff, agree / te_x.shape[0], correct / te_x.shape[0]


def sidecar(name, top1):
    return collections.OrderedDict([
        ("model", name + ".onnx"),
        ("task", "classification"),
        ("input", "input"),
        ("output", "logits"),
        ("data", collections.OrderedDict([
            ("format", "idx"),
            ("calib", collections.OrderedDict([
                ("images", DATA_FILES["train_images"]), ("labels", DATA_FILES["train_labels"])])),
            ("eval", collections.OrderedDict([
                ("images", DATA_FILES["test_images"]), ("labels", DATA_FILES["test_labels"])])),
        ])),
        ("preprocess", collections.OrderedDict([
            ("scale", 1.0 / 255.0), ("mean", [MEAN]), ("std", [STD]), ("layout", "NCHW")])),
        ("fp32_top1", round(top1, 4)),
    ])


def blas_in_use():
    try:
        with open("/proc/self/maps") as f:
            maps = f.read()
    except OSError:
        return "unknown"
    for key, name in (("openblas", "OpenBLAS"), ("/blas/libblas", "netlib reference BLAS")):
        if key in maps:
            return name
    return "unknown"


def run(args, log):
    torch.set_num_threads(NUM_THREADS)
    torch.use_deterministic_algorithms(True)
    log("torch %s, onnx %s, numpy %s, BLAS: %s, threads: %d" % (
        torch.__version__, onnx.__version__, np.__version__, blas_in_use(), torch.get_num_threads()))
    os.makedirs(args.out, exist_ok=True)
    names = list(MODELS) if not args.only else args.only
    for nm in names:
        if nm not in MODELS:
            sys.exit("unknown model %r; choose from %s" % (nm, ", ".join(MODELS)))
    tr_x, tr_y, te_x, te_y = load_data()
    if args.train_limit:
        tr_x, tr_y = tr_x[:args.train_limit], tr_y[:args.train_limit]
    summary = []
    for nm in names:
        cfg = MODELS[nm]
        epochs = args.epochs if args.epochs is not None else cfg["epochs"]
        log("== %s (%d epochs, %d training images)" % (nm, epochs, tr_x.shape[0]))
        model, ttime = train(nm, cfg, tr_x, tr_y, te_x, te_y, epochs, log)
        top1 = evaluate(model, te_x, te_y)
        path = os.path.join(args.out, nm + ".onnx")
        export_onnx(model, path)
        m, hist = check_onnx(path, cfg["bn"])
        nparams = sum(p.numel() for p in model.parameters())
        size = os.path.getsize(path)
        max_diff, agree, onnx_top1 = verify_onnx_matches_torch(m, model, te_x, te_y)
        if agree < 0.999 or max_diff > 1e-3:
            raise SystemExit("%s: exported ONNX disagrees with torch (max |diff| %g, "
                             "argmax agreement %.4f)" % (nm, max_diff, agree))
        with open(os.path.join(args.out, nm + ".aquant.json"), "w") as f:
            json.dump(sidecar(nm, top1), f, indent=2)
            f.write("\n")
        log("  %s: params %d, %s bytes, fp32 top-1 %.4f (onnx graph re-run: top-1 %.4f, "
            "argmax agreement %.4f, max |logit diff| %.2e), train time %.0f s" % (
                nm, nparams, size, top1, onnx_top1, agree, max_diff, ttime))
        log("  ops: " + ", ".join("%s %d" % kv for kv in sorted(hist.items())))
        summary.append(dict(name=nm, params=nparams, bytes=size, top1=top1, onnx_top1=onnx_top1,
                            max_diff=max_diff, train_s=ttime, epochs=epochs, ops=dict(hist)))
    if args.summary:
        with open(args.summary, "w") as f:
            json.dump(summary, f, indent=2, sort_keys=True)
    return summary


def check_determinism(log):
    """Run a short LeNet training twice in fresh processes and compare the
    outputs byte for byte."""
    ok = True
    with tempfile.TemporaryDirectory() as tmp:
        outs = []
        for k in range(2):
            d = os.path.join(tmp, "run%d" % k)
            cmd = [sys.executable, os.path.abspath(__file__), "--only", "lenet5_fmnist",
                   "--epochs", "1", "--train-limit", "6000", "--out", d, "--quiet"]
            log("determinism run %d: %s" % (k + 1, " ".join(cmd)))
            subprocess.run(cmd, check=True)
            outs.append(d)
        for fn in ("lenet5_fmnist.onnx", "lenet5_fmnist.aquant.json"):
            same = filecmp.cmp(os.path.join(outs[0], fn), os.path.join(outs[1], fn), shallow=False)
            log("  %-28s %s" % (fn, "byte-identical" if same else "DIFFERENT"))
            ok = ok and same
    log("determinism check: %s" % ("PASS" if ok else "FAIL"))
    return ok


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--only", action="append", metavar="NAME",
                    help="train only this model (repeatable): " + ", ".join(MODELS))
    ap.add_argument("--out", default=os.path.join(REPO_ROOT, "models"), metavar="DIR",
                    help="output directory (default: <repo>/models)")
    ap.add_argument("--epochs", type=int, default=None,
                    help="override the per-model epoch count (for quick tests)")
    ap.add_argument("--train-limit", type=int, default=0,
                    help="use only the first N training images (for quick tests)")
    ap.add_argument("--summary", metavar="FILE", help="also write a JSON summary here")
    ap.add_argument("--check-determinism", action="store_true",
                    help="train a tiny LeNet twice in fresh processes and compare the files")
    ap.add_argument("--quiet", action="store_true")
    args = ap.parse_args()

    def log(msg):
        if not args.quiet:
            print(msg, flush=True)

    if args.check_determinism:
        sys.exit(0 if check_determinism(log) else 1)
    run(args, log)


if __name__ == "__main__":
    main()
