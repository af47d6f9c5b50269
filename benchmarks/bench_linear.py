"""A dense layer's forward (x.W + b, ReLU) and backward (dW, db, dX with ReLU'), per implementation.

Layers are those of the speed-table nets at batch 1, 32 and 256.  fastmlp
runs ``_core.linear_forward`` / ``_core.linear_backward`` (fused epilogues);
NumPy and torch run the textbook expressions.  Parity with the float64
NumPy reference (fastmlp.reference) is asserted before timing.
"""
from __future__ import annotations

import numpy as np

from benchmarks.conftest import implementation, kernel_grid
from fastmlp import _core as core
from fastmlp import reference as ref
from fastmlp.testing import assert_close

# (N, IN, OUT)
LAYERS = {
    "A1-L0": (1, 784, 16), "B32-L0": (32, 784, 128), "B32-L1": (32, 128, 64),
    "C1-L1": (1, 512, 512), "C256-L0": (256, 784, 512), "C256-L1": (256, 512, 512),
    "D256-L1": (256, 2048, 2048),
}


def layer_data(N: int, IN: int, OUT: int, dtype):
    rng = np.random.default_rng(N + IN + OUT)
    x = np.maximum(rng.standard_normal((N, IN)), 0).astype(dtype)  # a ReLU layer's output
    w = (rng.standard_normal((IN, OUT)) * IN ** -0.5).astype(dtype)
    b = rng.standard_normal(OUT).astype(dtype)
    dz = rng.standard_normal((N, OUT)).astype(dtype)
    return x, w, b, dz


@kernel_grid("linear-forward", "layer", LAYERS)
def test_linear_forward(timeit, impl, dtype, layer, threads):
    N, IN, OUT = LAYERS[layer]
    x, w, b, _ = layer_data(N, IN, OUT, dtype)
    out = np.empty((N, OUT), dtype)
    with implementation(impl, threads):
        if impl == "torch":
            import torch

            tx, tw, tb = torch.from_numpy(x), torch.from_numpy(w), torch.from_numpy(b)

            def fn():
                return torch.relu(torch.addmm(tb, tx, tw)).numpy()
        elif impl == "numpy":
            def fn():
                return np.maximum(x @ w + b, 0)
        else:
            def fn():
                core.linear_forward(out, x, w, b, core.ACT_RELU, 0.0, threads)
                return out
        assert_close(fn(), ref.linear_forward(x, w, b, "relu"), dtype, what=f"{impl} forward")
        timeit(fn, flops=2.0 * N * IN * OUT, threads=threads, impl=impl, layer=layer,
               dtype=np.dtype(dtype).name)


@kernel_grid("linear-backward", "layer", LAYERS)
def test_linear_backward(timeit, impl, dtype, layer, threads):
    N, IN, OUT = LAYERS[layer]
    x, w, _, dz = layer_data(N, IN, OUT, dtype)
    dw, db, dx = np.empty((IN, OUT), dtype), np.empty(OUT, dtype), np.empty((N, IN), dtype)
    with implementation(impl, threads):
        if impl == "torch":
            import torch

            tx, tw, tdz = torch.from_numpy(x), torch.from_numpy(w), torch.from_numpy(dz)

            def fn():
                return ((tdz @ tw.T) * (tx > 0)).numpy(), (tx.T @ tdz).numpy(), tdz.sum(0).numpy()
        elif impl == "numpy":
            def fn():
                return (dz @ w.T) * (x > 0), x.T @ dz, dz.sum(axis=0)
        else:
            def fn():
                core.linear_backward(dw, db, dx, dz, x, w, core.ACT_RELU, 0.0, threads)
                return dx, dw, db
        for got, want, name in zip(fn(), ref.linear_backward(dz, x, w, "relu"), ("dx", "dw", "db")):
            assert_close(got, want, dtype, what=f"{impl} backward {name}")
        timeit(fn, flops=2.0 * N * IN * OUT * 2, threads=threads, impl=impl, layer=layer,
               dtype=np.dtype(dtype).name)
