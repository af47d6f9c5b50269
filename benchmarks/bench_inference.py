"""Forward-only inference (ReLU hidden layers, softmax output) of the speed-table nets.

fastmlp runs ``_core.forward_net`` per GEMM target; NumPy the textbook
forward; torch the ``nn.Sequential`` under ``no_grad``; sklearn
``MLPClassifier.predict_proba``.  The output is checked against the float64
NumPy forward before timing.  The issue's goal: net D at batch 4096 on 2
threads >= 85% of the fp32 peak (compare extra_info gflops with
``benchmarks.harness.peak_gflops(2)``).
"""
from __future__ import annotations

import numpy as np
import pytest

from benchmarks.conftest import DTYPES, FASTMLP_IMPLS, THREADS, implementation
from fastmlp import _core as core
from benchmarks import harness as B

CASES = {"D4096": ("D", 4096), "C4096": ("C", 4096), "B4096": ("B", 4096), "D64": ("D", 64)}


@pytest.mark.benchmark(group="inference")
@pytest.mark.parametrize("threads", THREADS, ids=lambda t: f"t{t}")
@pytest.mark.parametrize("case", list(CASES))
@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
@pytest.mark.parametrize("impl", FASTMLP_IMPLS + ["numpy", "torch", "sklearn"])
def test_inference(timeit, impl, dtype, case, threads):
    net, batch = CASES[case]
    p = B.make_problem(B.NETS[net], batch, threads, dtype, n_rows=batch)
    with implementation(impl, threads):
        if impl == "numpy":
            Ws = [w.astype(p.dtype) for w in p.Ws]
            bs = [b.astype(p.dtype) for b in p.bs]

            def fn():
                return B.numpy_forward(Ws, bs, p.x)
        elif impl == "torch":
            tt = B.TorchTrainer(p)
            xt = tt.torch.from_numpy(p.x)

            def fn():
                return tt.forward(xt).numpy()
        elif impl == "sklearn":
            sk = B.SklearnTrainer(p)

            def fn():
                return sk.clf.predict_proba(p.x)
        else:
            sizes, acts, slopes = B._net_arrays(p.sizes)
            params = p.flat_params().astype(p.dtype)
            work = np.empty(core.workspace_size(sizes, acts, slopes, batch), dtype=p.dtype)
            out = np.empty((batch, p.sizes[-1]), dtype=p.dtype)

            def fn():
                core.forward_net(out, work, params, sizes, acts, slopes, p.x, batch, threads)
                return out
        B.check_forward_parity(np.asarray(fn()), p, impl)
        timeit(fn, flops=B.forward_flops(p.sizes, batch), threads=threads, impl=impl, case=case,
               dtype=np.dtype(dtype).name)
