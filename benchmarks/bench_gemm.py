"""GEMM throughput on the products an MLP step makes, per implementation.

Shapes are named after where they occur: for a layer (IN -> OUT) at batch B,
``fwd`` is x(B,IN) . W(IN,OUT), ``dW`` is x^T . dz (x read transposed) and
``dX`` is dz . W^T (W read transposed); plus square sizes.  fastmlp runs
through ``fastmlp._core.gemm`` (transposes as strides, as the C training
loop does), NumPy through ``np.matmul(out=)``, torch through ``torch.mm(out=)``.
Parity with the float64 product is asserted before timing.
"""
from __future__ import annotations

import numpy as np

from benchmarks.conftest import implementation, kernel_grid
from fastmlp import _core as core
from fastmlp.testing import assert_close

# name -> (m, n, k, A transposed, B transposed)
SHAPES = {
    "B32-L0-fwd": (32, 128, 784, False, False),
    "B32-L0-dW": (784, 128, 32, True, False),
    "C256-L1-fwd": (256, 512, 512, False, False),
    "C256-L1-dW": (512, 512, 256, True, False),
    "C256-L1-dX": (256, 512, 512, False, True),
    "D1-L1-fwd": (1, 2048, 2048, False, False),
    "D256-L0-fwd": (256, 2048, 784, False, False),
    "D256-L1-dW": (2048, 2048, 256, True, False),
    "D256-L1-dX": (256, 2048, 2048, False, True),
    "sq1024": (1024, 1024, 1024, False, False),
}


def operands(m: int, n: int, k: int, ta: bool, tb: bool, dtype):
    """A (m,k) and B (k,n), stored transposed when asked (so the product reads them strided)."""
    rng = np.random.default_rng(m * 7 + n * 3 + k)
    a = rng.standard_normal((k, m) if ta else (m, k)).astype(dtype)
    b = rng.standard_normal((n, k) if tb else (k, n)).astype(dtype)
    return (a.T if ta else a), (b.T if tb else b)


@kernel_grid("gemm", "shape", SHAPES)
def test_gemm(timeit, impl, dtype, shape, threads):
    m, n, k, ta, tb = SHAPES[shape]
    a, b = operands(m, n, k, ta, tb, dtype)
    c = np.empty((m, n), dtype)
    with implementation(impl, threads):
        if impl == "torch":
            import torch

            ta_, tb_, tc = torch.from_numpy(a), torch.from_numpy(b), torch.from_numpy(c)

            def fn():
                torch.mm(ta_, tb_, out=tc)
        elif impl == "numpy":
            def fn():
                np.matmul(a, b, out=c)
        else:
            def fn():
                core.gemm(c, a, b, n_threads=threads)
        fn()
        assert_close(c, a.astype(np.float64) @ b.astype(np.float64), dtype, what=f"{impl} gemm")
        timeit(fn, flops=2.0 * m * n * k, threads=threads, impl=impl, shape=shape,
               dtype=np.dtype(dtype).name)
