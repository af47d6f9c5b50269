"""Shared fixtures: GEMM targets, dtypes, thread counts, the shared data folder."""
from __future__ import annotations

import os
import sys
import pathlib

import numpy as np
import pytest

import fastmlp

# BLAS on one thread for the suite: the NumPy references multiply small matrices,
# where OpenBLAS's threads only spin against fastmlp's OpenMP threads (one
# trajectory test, under load: 24.5 s with OpenBLAS's default threads, 1.6 s with
# one).  Subprocesses inherit the variable; a value you set is kept.
if "OPENBLAS_NUM_THREADS" not in os.environ:
    os.environ["OPENBLAS_NUM_THREADS"] = "1"
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # without it, NumPy (loaded already) keeps its threads
        pass
    else:
        threadpool_limits(1, user_api="blas")

REPO = pathlib.Path(__file__).resolve().parent.parent
# benchmarks/ (the bench harness) is importable from the checkout; appended, so
# an installed fastmlp still comes before the source tree's
if str(REPO) not in sys.path:
    sys.path.append(str(REPO))
TARGETS = fastmlp.available_targets()
THREADS = sorted({1, max(2, fastmlp.max_threads())})
DTYPES = [np.float32, np.float64]


def pytest_report_header(config):  # noqa: ANN001
    return (f"fastmlp {fastmlp.__version__} from {pathlib.Path(fastmlp.__file__).parent}; "
            f"GEMM targets {TARGETS} (default {fastmlp.simd_target()}); "
            f"OpenMP {fastmlp.openmp_enabled()}")


@pytest.fixture(params=TARGETS)
def target(request):
    """Run the test once per GEMM target this machine can run, then restore the default."""
    before = fastmlp.simd_target()
    fastmlp.set_target(request.param)
    yield request.param
    fastmlp.set_target(before)


@pytest.fixture(params=DTYPES, ids=["f32", "f64"])
def dtype(request):
    return request.param


@pytest.fixture(params=THREADS, ids=[f"t{t}" for t in THREADS])
def n_threads(request):
    return request.param


def shared_data_dir() -> pathlib.Path | None:
    """../shared/data beside the repo, or $FASTMLP_DATA; None when absent."""
    for cand in (os.environ.get("FASTMLP_DATA"), REPO.parent / "shared" / "data"):
        if cand and (pathlib.Path(cand) / "mnist").is_dir():
            return pathlib.Path(cand)
    return None


@pytest.fixture
def shared_data():
    """The shared MNIST folder: skip when absent, but fail under CI=true (CI always has it)."""
    d = shared_data_dir()
    if d is None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("CI=true but ../shared/data (or $FASTMLP_DATA) with MNIST was not found")
        pytest.skip("../shared/data not found (set FASTMLP_DATA to the folder holding mnist/)")
    return d
