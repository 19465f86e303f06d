#!/usr/bin/python3
"""compare_npy.py GOT.npy REF.npy [--atol A] [--rtol R]: exit 0 if close, print max abs error."""
import argparse
import sys

import numpy as np

ap = argparse.ArgumentParser()
ap.add_argument("got")
ap.add_argument("ref")
ap.add_argument("--atol", type=float, default=1e-5)
ap.add_argument("--rtol", type=float, default=1e-5)
a = ap.parse_args()
g = np.load(a.got)
r = np.load(a.ref)
if g.shape != r.shape or g.dtype != r.dtype:
    print(f"MISMATCH {a.got}: shape/dtype {g.shape} {g.dtype} vs ref {r.shape} {r.dtype}")
    sys.exit(1)
err = float(np.max(np.abs(g.astype(np.float64) - r.astype(np.float64)))) if g.size else 0.0
ok = np.allclose(g, r, atol=a.atol, rtol=a.rtol)
print(f"{'ok' if ok else 'MISMATCH'} {a.got}: max_abs_err={err:.3g} (atol={a.atol}, rtol={a.rtol})")
sys.exit(0 if ok else 1)
