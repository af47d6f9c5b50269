"""The normalised training step against the plain one, on one thread, in CPU time.

A busy machine (other jobs on both cores) makes the wall-clock rows of
``fastmlp bench --rows norm`` noisy; on one thread the process's CPU time per step
is steadier.  Interleaved rounds, best of 15 per contender.
``PYTHONPATH=. python benchmarks/norm_cpu.py`` (docs/performance.md, "Normalisation").
"""
import sys
import time

from benchmarks import harness as H


def kernels() -> None:
    """The norm kernels alone against the layer's product, float32, one thread, best of 200."""
    import numpy as np
    from fastmlp import _core as core

    def best(f, n=200):
        b = 1e9
        for _ in range(n):
            t = time.perf_counter()
            f()
            b = min(b, time.perf_counter() - t)
        return b * 1e6

    rng = np.random.default_rng(0)
    for N, C in [(256, 512), (32, 128)]:
        f = np.float32
        x, dy = rng.standard_normal((N, C)).astype(f), rng.standard_normal((N, C)).astype(f)
        g, b, y = np.ones(C, f), np.zeros(C, f), np.empty((N, C), f)
        m, r, rm, rv, dg, db = (np.zeros(C, f) for _ in range(6))
        lm, lr = np.empty(N, f), np.empty(N, f)
        X, W = rng.standard_normal((N, 784)).astype(f), rng.standard_normal((784, C)).astype(f)
        R = core.ACT_RELU  # fused after the norm, as a ReLU layer runs it
        dx = np.empty_like(x)
        bf = best(lambda: core.batchnorm_forward(y, m, r, rm, rv, x, g, b, 1e-5, 0.1, R))
        bb = best(lambda: core.batchnorm_backward(dx, dg, db, dy, y, x, m, r, g, R))
        lf = best(lambda: core.layernorm_forward(y, lm, lr, x, g, b, 1e-5, R))
        lb = best(lambda: core.layernorm_backward(dx, dg, db, dy, y, x, lm, lr, g, R))
        mm = best(lambda: core.linear_forward(y, X, W, b, R, 0.0, 1))
        print(f"{N} x {C}, ReLU fused: batch norm forward {bf:.1f} us, backward {bb:.1f}; "
              f"layer norm {lf:.1f}, {lb:.1f}; 784 x {C} product {mm:.1f}", flush=True)


def main() -> None:
    kernels()
    for net, batch, k in [("B", 32, 200), ("C", 256, 10)]:
        p = H.make_problem(H.NETS[net], batch, 1, "float32")
        trs = {"plain": H.FastmlpTrainer(p, fast=False), "default": H.FastmlpTrainer(p),
               "batch": H.FastmlpTrainer(p, norm="batch"),
               "layer": H.FastmlpTrainer(p, norm="layer")}
        for norm in ("batch", "layer"):  # verify first, then time
            H.check_norm_step_parity(p, norm)
        best = {n: 1e9 for n in trs}
        for tr in trs.values():
            tr.steps(k)
        for _ in range(15):
            for n, tr in trs.items():
                c0 = time.process_time()
                tr.steps(k)
                best[n] = min(best[n], (time.process_time() - c0) / k)
        print(f"{net}/{batch}/1 float32, CPU us per step: " + ", ".join(
            f"{n} {v * 1e6:.0f} ({v / best['plain']:.3f}x plain)" for n, v in best.items()),
            flush=True)


if __name__ == "__main__":
    sys.exit(main())
