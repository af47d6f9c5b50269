"""One training step (forward + backward + SGD update, softmax cross-entropy) per row of the speed table.

Implementations: fastmlp per GEMM target (``_core.train`` running many
batches in one call, timed per step), ``fastmlp-percall`` (one Python call
per step, default target), and the peers of :mod:`benchmarks.harness` (NumPy
textbook, torch, sklearn).  Each case first checks one step against the
float64 NumPy step (:func:`benchmarks.harness.check_step_parity`).  A round runs
``STEPS`` consecutive steps; extra_info gets GFLOP/s of the matrix products.
"""
from __future__ import annotations

import numpy as np
import pytest

from benchmarks.conftest import DTYPES, FASTMLP_IMPLS, implementation
from benchmarks import harness as B


def _steps_per_round(sizes, batch) -> int:
    # about 10 ms of work at 50 GFLOP/s, at least 1
    return int(max(1, min(2000, 5e8 / B.step_flops(sizes, batch))))


@pytest.mark.benchmark(group="train-step")
@pytest.mark.parametrize("row", list(B.STEP_ROWS), ids=lambda r: "{}-{}-t{}".format(*r))
@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
@pytest.mark.parametrize("impl", FASTMLP_IMPLS + ["fastmlp-percall", "numpy", "torch", "sklearn"])
def test_train_step(timeit, impl, dtype, row):
    net, batch, threads = row
    p = B.make_problem(B.NETS[net], batch, threads, dtype)
    if impl.startswith("fastmlp"):
        make = lambda q: B.FastmlpTrainer(q, per_call=impl == "fastmlp-percall")  # noqa: E731
    else:
        make = B.TRAINERS[impl] if impl in B.TRAINERS else None
    ctx_impl = "fastmlp-" + B.core.simd_target() if impl == "fastmlp-percall" else impl
    with implementation(ctx_impl, threads):
        B.check_step_parity(p, make, impl)
        tr = make(p)
        k = _steps_per_round(p.sizes, batch)
        timeit(lambda: tr.steps(k), flops=B.step_flops(p.sizes, batch) * k, threads=threads,
               impl=impl, row="{}/{}/{}".format(*row), dtype=np.dtype(dtype).name,
               steps_per_call=k, goal_us_per_step=B.STEP_ROWS[row])


@pytest.mark.benchmark(group="train-step-mnist")
@pytest.mark.parametrize("net", ["C", "D"])
@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
@pytest.mark.parametrize("impl", ["fastmlp", "numpy", "torch"])
def test_train_step_mnist_batch1(timeit, mnist_pixels, impl, dtype, net):
    """Batch 1, 1 thread, on MNIST's own pixels (81% of them zero): the rows of W_0 under
    blank pixels and of W_1 under dead ReLU units are skipped (csrc/train/fast/sparse_fwd*), which the
    table's uniform random inputs do not show for W_0."""
    p = B.make_problem(B.NETS[net], 1, 1, dtype, n_rows=len(mnist_pixels))
    p.x = np.ascontiguousarray(mnist_pixels, dtype=p.dtype)
    make = (lambda q: B.FastmlpTrainer(q)) if impl == "fastmlp" else B.TRAINERS[impl]
    with implementation(impl if impl != "fastmlp" else "fastmlp-" + B.core.simd_target(), 1):
        B.check_step_parity(p, make, impl)
        tr = make(p)
        k = _steps_per_round(p.sizes, 1)
        timeit(lambda: tr.steps(k), flops=B.step_flops(p.sizes, 1) * k, threads=1, impl=impl,
               row=f"{net}/1/1 mnist", dtype=np.dtype(dtype).name, steps_per_call=k)
