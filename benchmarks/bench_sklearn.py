"""fastmlp.sklearn against scikit-learn on the same fits: time ratios and accuracy.

MNIST-sized data (the real MNIST from ../shared/data when present, else
synthetic 60000 x 784 digits-like data), scikit-learn's default parameters
(``hidden_layer_sizes=(100,)``, relu, ``batch_size='auto'`` = 200, alpha=1e-4,
learning_rate_init=1e-3) with ``solver='adam'`` and ``solver='sgd'``, a fixed
number of epochs (``max_iter``, ConvergenceWarning silenced), float32 and
float64; and ``Perceptron()`` with its defaults (one-vs-rest over the 10
classes: fastmlp runs the classes in parallel threads).  Both libraries get the same ``random_state``, so they follow the
same trajectory: the script first verifies that (weights within the
trajectory tolerance after one epoch on a slice), then times each fit
(best of ``--repeats``) and reports ``sklearn_time / fastmlp_time`` and both
test accuracies.  Threads: every core for both (``--threads``; scikit-learn's
BLAS is pinned with threadpoolctl, fastmlp gets ``n_threads``).

Run as a script (the ratio table; ``--json`` to keep it)::

    python benchmarks/bench_sklearn.py [--epochs 3] [--threads 2] [--repeats 2]
    python benchmarks/bench_sklearn.py --small --threads 1   # small data, 30 epochs

On a shared, busy machine prefer ``--threads 1``: spinning OpenMP/BLAS threads
that compete with other processes distort both sides (measured 2-4x slower
than one thread there).

or through pytest-benchmark (one timed case per library/solver/dtype)::

    python -m pytest benchmarks/bench_sklearn.py -p no:cacheprovider
"""
from __future__ import annotations

import argparse
import json
import os
import pathlib
import platform
import sys
import time
import warnings
from typing import Any

import numpy as np

HERE = pathlib.Path(__file__).resolve().parent
SHARED = HERE.parent.parent / "shared" / "data"


def load_data(n_train: int = 60000, n_test: int = 10000, dtype=np.float64):
    """(X_train, y_train, X_test, y_test, source) scaled to [0, 1]."""
    folder = os.environ.get("FASTMLP_DATA") or (SHARED if (SHARED / "mnist").is_dir() else None)
    if folder is not None:
        from fastmlp.datasets import load_mnist

        mnist = pathlib.Path(folder) / "mnist"
        Xtr, ytr = load_mnist(mnist, "train", progress=False)
        Xte, yte = load_mnist(mnist, "test", progress=False)
        src = "MNIST"
    else:  # synthetic MNIST-sized: 10 noisy prototypes in 784 dims
        rng = np.random.default_rng(0)
        protos = rng.random((10, 784))
        ytr, yte = rng.integers(0, 10, n_train), rng.integers(0, 10, n_test)
        Xtr = np.clip(protos[ytr] + 0.35 * rng.standard_normal((n_train, 784)), 0, 1)
        Xte = np.clip(protos[yte] + 0.35 * rng.standard_normal((n_test, 784)), 0, 1)
        src = "synthetic"
    Xtr = (np.asarray(Xtr[:n_train], dtype=np.float64) / (255.0 if src == "MNIST" else 1.0))
    Xte = (np.asarray(Xte[:n_test], dtype=np.float64) / (255.0 if src == "MNIST" else 1.0))
    return (Xtr.astype(dtype), np.asarray(ytr[:n_train]), Xte.astype(dtype),
            np.asarray(yte[:n_test]), src)


def make(lib: str, solver: str, epochs: int, threads: int):
    if solver == "perceptron":  # scikit-learn's defaults (max_iter=1000, tol=1e-3)
        if lib == "sklearn":
            from sklearn.linear_model import Perceptron

            return Perceptron()
        from fastmlp.sklearn import Perceptron

        return Perceptron(n_threads=threads)
    if lib == "sklearn":
        from sklearn.neural_network import MLPClassifier

        return MLPClassifier(solver=solver, max_iter=epochs, random_state=0)
    from fastmlp.sklearn import MLPClassifier

    return MLPClassifier(solver=solver, max_iter=epochs, random_state=0, n_threads=threads)


def fit(est, X, y, threads: int):
    from sklearn.exceptions import ConvergenceWarning
    from threadpoolctl import threadpool_limits

    with warnings.catch_warnings(), threadpool_limits(limits=threads, user_api="blas"):
        warnings.simplefilter("ignore", ConvergenceWarning)
        t0 = time.perf_counter()
        est.fit(X, y)
        return time.perf_counter() - t0


def check_parity(X, y, solver: str, dtype, threads: int) -> float:
    """Max |W_fastmlp - W_sklearn| / max|W_sklearn| after one epoch on 2000 rows."""
    from fastmlp.testing import assert_close

    a, b = make("sklearn", solver, 1, threads), make("fastmlp", solver, 1, threads)
    fit(a, X[:2000], y[:2000], threads)
    fit(b, X[:2000], y[:2000], threads)
    if solver == "perceptron":
        assert_close(b.coef_, a.coef_, dtype, kind="trajectory", what="perceptron parity")
        return float(np.abs(a.coef_ - b.coef_).max() / np.abs(a.coef_).max())
    worst = 0.0
    for wa, wb in zip(a.coefs_ + a.intercepts_, b.coefs_ + b.intercepts_):
        assert_close(wb, wa, dtype, kind="trajectory", what=f"{solver} parity")
        worst = max(worst, float(np.abs(wa - wb).max() / np.abs(wa).max()))
    return worst


def run(epochs: int, threads: int, repeats: int, dtypes, solvers, n_train: int) -> list[dict]:
    import fastmlp

    rows = []
    for dtype in dtypes:
        Xtr, ytr, Xte, yte, src = load_data(n_train=n_train, dtype=dtype)
        for solver in solvers:
            parity = check_parity(Xtr, ytr, solver, dtype, threads)
            res: dict[str, Any] = {"dtype": np.dtype(dtype).name, "solver": solver,
                                   "epochs": epochs, "data": f"{src} {Xtr.shape}",
                                   "threads": threads, "parity_rel": parity,
                                   "gemm": fastmlp.simd_target()}
            for lib in ("sklearn", "fastmlp"):
                best, est = np.inf, None
                for _ in range(repeats):
                    est = make(lib, solver, epochs, threads)
                    best = min(best, fit(est, Xtr, ytr, threads))
                res[f"{lib}_s"] = best
                res[f"{lib}_acc"] = float(est.score(Xte, yte))
            res["speedup"] = res["sklearn_s"] / res["fastmlp_s"]
            rows.append(res)
            print(f"{res['dtype']:8s} {solver:10s} sklearn {res['sklearn_s']:7.2f}s  fastmlp "
                  f"{res['fastmlp_s']:7.2f}s  speedup x{res['speedup']:.2f}  test acc "
                  f"{res['sklearn_acc']:.4f} / {res['fastmlp_acc']:.4f}  (parity "
                  f"{parity:.1e}, gemm {res['gemm']})", flush=True)
    return rows


#: small problems (synthetic, 30 epochs): where scikit-learn's per-batch Python
#: work, not the GEMMs, dominates its time
SMALL = [(1000, 20, (100,)), (5000, 50, (64, 64)), (20000, 100, (100,))]


def run_small(threads: int, dtype) -> list[dict]:
    from sklearn.datasets import make_classification

    rows = []
    for n, d, hidden in SMALL:
        X, y = make_classification(n, d, n_informative=10, n_classes=4, random_state=0)
        X = X.astype(dtype)
        for solver in ("adam", "sgd"):
            res: dict[str, Any] = {"data": f"synthetic {X.shape}", "hidden": hidden,
                                   "solver": solver, "dtype": np.dtype(dtype).name,
                                   "threads": threads, "epochs": 30}
            for lib in ("sklearn", "fastmlp"):
                est = make(lib, solver, 30, threads).set_params(hidden_layer_sizes=hidden, tol=0.0,
                                                                n_iter_no_change=10**6)
                res[f"{lib}_s"] = fit(est, X, y, threads)
            res["speedup"] = res["sklearn_s"] / res["fastmlp_s"]
            rows.append(res)
            print(f"{str(X.shape):12s} {str(hidden):9s} {solver:5s} sklearn {res['sklearn_s']:6.2f}s"
                  f"  fastmlp {res['fastmlp_s']:6.2f}s  speedup x{res['speedup']:.2f}", flush=True)
    return rows


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--repeats", type=int, default=1)
    ap.add_argument("--n-train", type=int, default=60000)
    ap.add_argument("--dtype", choices=["float32", "float64", "both"], default="both")
    ap.add_argument("--solver", choices=["adam", "sgd", "perceptron", "all"], default="all",
                    help="'perceptron' times Perceptron() (its own defaults) instead of an MLP")
    ap.add_argument("--small", action="store_true",
                    help="time the SMALL synthetic problems instead of MNIST (float32)")
    ap.add_argument("--json", type=str, default=None, help="write the rows to this file")
    args = ap.parse_args(argv)
    dtypes = [np.float32, np.float64] if args.dtype == "both" else [np.dtype(args.dtype).type]
    solvers = ["adam", "sgd", "perceptron"] if args.solver == "all" else [args.solver]
    print(f"python {platform.python_version()} on {platform.machine()}, {os.cpu_count()} CPUs; "
          f"threads={args.threads}, epochs={args.epochs}, batch_size=200 (sklearn default)")
    if args.small:
        rows = run_small(args.threads, np.float32)
    else:
        rows = run(args.epochs, args.threads, args.repeats, dtypes, solvers, args.n_train)
    if args.json:
        pathlib.Path(args.json).write_text(json.dumps(rows, indent=2))
    return 0


# ---------------------------------------------------------------- pytest-benchmark
try:
    import pytest
except ImportError:  # pragma: no cover - script use without pytest
    pytest = None

if pytest is not None:
    @pytest.mark.benchmark(group="sklearn-fit")
    @pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
    @pytest.mark.parametrize("solver", ["adam", "sgd"])
    @pytest.mark.parametrize("lib", ["fastmlp", "sklearn"])
    def test_fit_mnist_sized(benchmark, lib, solver, dtype):
        pytest.importorskip("sklearn", reason="scikit-learn not installed (optional peer)")
        threads = os.cpu_count() or 1
        Xtr, ytr, Xte, yte, src = load_data(n_train=20000, n_test=2000, dtype=dtype)
        check_parity(Xtr, ytr, solver, dtype, threads)  # verify first, then time
        state: dict[str, Any] = {}

        def once():
            state["est"] = make(lib, solver, 2, threads)
            fit(state["est"], Xtr, ytr, threads)

        benchmark.pedantic(once, rounds=2, iterations=1, warmup_rounds=0)
        benchmark.extra_info.update({"data": f"{src} {Xtr.shape}", "epochs": 2,
                                     "threads": threads,
                                     "test_accuracy": float(state["est"].score(Xte, yte))})


if __name__ == "__main__":
    sys.exit(main())
