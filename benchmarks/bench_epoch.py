"""One epoch of net B (784-128-64-10), batch 32, over MNIST-sized synthetic data, one thread.

Implementations: fastmlp per GEMM target through ``_core.train`` (one call
for the epoch), ``fastmlp-fit`` (the public ``MLP.fit``), and the NumPy,
torch and sklearn peers of :mod:`benchmarks.harness`.  Parity of one step is
checked first.  ``--bench-epoch-samples`` sets the epoch's size (60,000).
"""
from __future__ import annotations

import numpy as np
import pytest

from benchmarks.conftest import DTYPES, FASTMLP_IMPLS, implementation
from fastmlp import MLP
from benchmarks import harness as B


@pytest.mark.benchmark(group="epoch")
@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
@pytest.mark.parametrize("impl", FASTMLP_IMPLS + ["fastmlp-fit", "numpy", "torch", "sklearn"])
def test_epoch(timeit, request, impl, dtype):
    samples = request.config.getoption("--bench-epoch-samples")
    threads = 1
    p = B.make_problem(B.NETS[B.EPOCH_NET], B.EPOCH_BATCH, threads, dtype, n_rows=samples)
    nb = p.n_batches
    ctx_impl = "fastmlp-" + B.core.simd_target() if impl == "fastmlp-fit" else impl
    with implementation(ctx_impl, threads):
        if impl == "fastmlp-fit":
            B.check_step_parity(p, B.FastmlpTrainer, impl)
            model = MLP(list(p.sizes), activation="relu", dtype=p.dtype, n_threads=threads,
                        seed=0, init="auto")

            def fn():
                model.fit(p.x, p.labels, epochs=1, batch_size=p.batch, learning_rate=p.lr,
                          shuffle=False, verbose=0, optimizer="sgd")
        else:
            make = B.FastmlpTrainer if impl.startswith("fastmlp") else B.TRAINERS[impl]
            B.check_step_parity(p, make, impl)
            tr = make(p)

            def fn():
                tr.reset()
                tr.steps(nb)
        timeit(fn, flops=B.step_flops(p.sizes, p.batch) * nb, threads=threads, impl=impl,
               samples=nb * p.batch, dtype=np.dtype(dtype).name, goal_s=B.EPOCH_GOAL_S)
