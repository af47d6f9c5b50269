"""Gaussian input noise and inverted dropout, per kernel target, in ns per element.

The sizes are an MNIST mini-batch's input (32 x 784, the noise of every training
step) and a hidden layer's output (32 x 128).  Parity with fastmlp.reference is
asserted before timing fastmlp (the NumPy and torch peers draw from their own
generators, so only their speed compares); ``extra_info['ns_per_element']`` is the
best round's time per element.
"""
from __future__ import annotations

from typing import Any, Callable

import numpy as np

from benchmarks.conftest import implementation, kernel_grid
from fastmlp import _core as core
from fastmlp import reference as ref
from fastmlp.testing import assert_close

SIZES = {"B32x784": 32 * 784, "B32x128": 32 * 128}


def _time(timeit: Any, benchmark: Any, fn: Callable[[], Any], n: int, **info: Any) -> None:
    timeit(fn, flops=float(n), **info)  # "flops" = elements: gflops is Gelements/s
    stats = getattr(benchmark, "stats", None)
    if stats is not None:
        benchmark.extra_info["ns_per_element"] = stats.stats.min / n * 1e9


@kernel_grid("input-noise", "size", SIZES)
def test_gaussian_noise(timeit, benchmark, impl, dtype, size, threads):
    n = SIZES[size]
    x0 = np.linspace(-1, 1, n).astype(dtype)
    x = x0.copy()
    with implementation(impl, threads):
        if impl == "torch":
            import torch

            tx, gen = torch.from_numpy(x0), torch.Generator().manual_seed(1)

            def fn():
                return tx + 0.2 * torch.randn(tx.shape, generator=gen, dtype=tx.dtype)
        elif impl == "numpy":
            gen_np = np.random.default_rng(1)

            def fn():
                return x0 + 0.2 * gen_np.standard_normal(n, dtype=dtype)
        else:
            core.gaussian_noise(x, 0.2, 1, 2, 0, threads)
            assert_close(x, ref.gaussian_noise(x0, 0.2, 1, 2, 0), dtype, what=f"{impl} noise")

            def fn():
                core.gaussian_noise(x, 0.2, 1, 2, 0, threads)
                return x
        _time(timeit, benchmark, fn, n, threads=threads, impl=impl, size=size,
              dtype=np.dtype(dtype).name)


@kernel_grid("dropout", "size", SIZES)
def test_dropout_forward(timeit, benchmark, impl, dtype, size, threads):
    n = SIZES[size]
    h = np.random.default_rng(0).standard_normal(n).astype(dtype)
    out = np.empty_like(h)
    with implementation(impl, threads):
        if impl == "torch":
            import torch

            th = torch.from_numpy(h)

            def fn():
                return torch.nn.functional.dropout(th, 0.3, training=True)
        elif impl == "numpy":
            gen_np = np.random.default_rng(1)

            def fn():
                return h * np.where(gen_np.random(n) >= 0.3, 1 / 0.7, 0.0).astype(dtype)
        else:
            core.dropout_forward(out, h, 0.3, 1, 2, 1, threads)
            assert_close(out, ref.dropout_forward(h, 0.3, 1, 2, 1), dtype, what=f"{impl} dropout")
            step = iter(range(3, 1 << 62))  # a new mask per call, as in training

            def fn():
                core.dropout_forward(out, h, 0.3, 1, next(step), 1, threads)
                return out
        _time(timeit, benchmark, fn, n, threads=threads, impl=impl, size=size,
              dtype=np.dtype(dtype).name)
