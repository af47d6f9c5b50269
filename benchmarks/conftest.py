"""Shared machinery of the pytest-benchmark suites.

Run: ``python -m pytest benchmarks/ -p no:cacheprovider [--bench-rounds 5 --bench-warmup 1]``
(add ``--benchmark-json out.json`` to keep the numbers).  Every case checks
parity before it is timed; every case records the GEMM target, OpenMP, the
thread count and GFLOP/s in ``extra_info``.

Implementations are parametrised as ``fastmlp-<target>`` for every GEMM
target this CPU and build can run (selected through ``fastmlp.set_target``),
``numpy`` and, when installed, ``torch`` (and ``sklearn`` where it has the
operation).
"""
from __future__ import annotations

import contextlib
import time
from typing import Any, Callable, Iterator

import numpy as np
import pytest

import fastmlp
from benchmarks.harness import blas_threads

TARGETS = fastmlp.available_targets()
FASTMLP_IMPLS = [f"fastmlp-{t}" for t in TARGETS]
DTYPES = [np.float32, np.float64]
THREADS = sorted({1, 2})


def pytest_addoption(parser: Any) -> None:
    group = parser.getgroup("fastmlp benchmarks")
    group.addoption("--bench-rounds", type=int, default=5,
                    help="timed rounds per case (best and mean reported; default 5)")
    group.addoption("--bench-warmup", type=int, default=1,
                    help="untimed warm-up rounds per case (default 1)")
    group.addoption("--bench-epoch-samples", type=int, default=60_000,
                    help="samples in bench_epoch's epoch (default 60000)")


def pytest_report_header(config: Any) -> str:
    return (f"fastmlp {fastmlp.__version__}: GEMM targets {TARGETS} (default "
            f"{fastmlp.simd_target()}), OpenMP {fastmlp.openmp_enabled()}")


def kernel_grid(group: str, case: str, cases: Any) -> Callable[[Callable[..., Any]], Any]:
    """The grid of a kernel benchmark: implementation x dtype x ``case`` (a parameter
    named ``case`` taking the keys of ``cases``) x threads, in benchmark ``group``."""
    marks = [pytest.mark.parametrize("impl", FASTMLP_IMPLS + ["numpy", "torch"]),
             pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"]),
             pytest.mark.parametrize(case, list(cases)),
             pytest.mark.parametrize("threads", THREADS, ids=lambda t: f"t{t}"),
             pytest.mark.benchmark(group=group)]

    def apply(fn: Callable[..., Any]) -> Any:
        for mark in marks:  # innermost decorator first, as when stacked by hand
            fn = mark(fn)
        return fn

    return apply


def needs(impl: str) -> None:
    """Skip, with the reason, when a peer implementation is not installed."""
    if impl == "torch":
        pytest.importorskip("torch", reason="PyTorch not installed (optional peer)")
    elif impl == "sklearn":
        pytest.importorskip("sklearn", reason="scikit-learn not installed (optional peer)")


@contextlib.contextmanager
def implementation(impl: str, n_threads: int) -> Iterator[None]:
    """Select fastmlp's GEMM target, or pin a peer's thread pool, for the case's duration."""
    needs(impl)
    if impl.startswith("fastmlp-"):
        before = fastmlp.simd_target()
        fastmlp.set_target(impl[len("fastmlp-"):])
        try:
            yield
        finally:
            fastmlp.set_target(before)
    elif impl == "torch":
        import torch

        before_t = torch.get_num_threads()
        torch.set_num_threads(n_threads)
        try:
            yield
        finally:
            torch.set_num_threads(before_t)
    else:
        with blas_threads(n_threads):
            yield


@pytest.fixture
def timeit(benchmark: Any, request: Any) -> Callable[..., Any]:
    """``timeit(fn, flops=..., threads=..., **info)``: time fn() with benchmark.pedantic.

    fn is called ``iterations`` times per round, iterations sized so a round
    lasts >= ~10 ms; extra_info gets simd_target, openmp, threads, the
    caller's info and GFLOP/s (flops per call / best time per call).
    """
    rounds = request.config.getoption("--bench-rounds")
    warmup = request.config.getoption("--bench-warmup")

    def run(fn: Callable[[], Any], *, flops: float, threads: int, **info: Any) -> None:
        fn()
        t0 = time.perf_counter()
        fn()
        t1 = time.perf_counter() - t0
        iterations = int(min(10_000, max(1, 0.01 / max(t1, 1e-9))))
        benchmark.extra_info.update(simd_target=fastmlp.simd_target(),
                                    openmp=fastmlp.openmp_enabled(), threads=threads,
                                    flops=flops, **info)
        benchmark.pedantic(fn, rounds=rounds, warmup_rounds=warmup, iterations=iterations)
        stats = getattr(benchmark, "stats", None)
        if stats is not None:  # None under --benchmark-disable
            benchmark.extra_info["gflops"] = flops / stats.stats.min / 1e9

    return run


@pytest.fixture
def mnist_pixels() -> np.ndarray:
    """The first 6,000 MNIST training images, flattened, scaled to [0, 1] (float64), from
    ../shared/data or $FASTMLP_DATA: skip when absent, but fail under CI=true."""
    import os
    import pathlib

    from fastmlp.datasets import load_mnist

    repo = pathlib.Path(__file__).resolve().parent.parent
    for cand in (os.environ.get("FASTMLP_DATA"), repo.parent / "shared" / "data"):
        if cand and (pathlib.Path(cand) / "mnist").is_dir():
            X, _ = load_mnist(pathlib.Path(cand) / "mnist", as_float=True, progress=False)
            return np.ascontiguousarray(X[:6000], dtype=np.float64)
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail("CI=true but ../shared/data (or $FASTMLP_DATA) with MNIST was not found")
    pytest.skip("../shared/data not found (set FASTMLP_DATA to the folder holding mnist/)")
