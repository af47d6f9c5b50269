"""Parity tolerances, in one place, and the comparison helper every test uses.

Why these numbers
-----------------
The C kernels and :mod:`fastmlp.reference` compute the same formulas but not
in the same order: the reference sums in float64 through NumPy/BLAS, the C
GEMMs sum k products in blocks, in the model's dtype, with or without FMA.
For a dot product of length k the rounding error is bounded by about
``k * eps * sum|a_i b_i|`` and is typically ``sqrt(k) * eps`` of that sum.
With k up to ~2000 in the tests, that gives ~1e-5 relative in float32
(eps 6e-8) and ~1e-13 in float64 (eps 1.1e-16).  The tolerances leave a
margin over that, and are *scale-aware*: an element is compared with
``atol = rtol * max|desired|`` added, because cancellation can make single
elements of a product tiny while their absolute error stays set by the
magnitude of the terms.  Softmax/cross-entropy and optimizer states go
through exp/sqrt/division, which adds a few ulps, covered by the same margin.

Trajectories (many steps of training) compound these errors; they get the
``"trajectory"`` tolerances, measured over 10 steps.

Quantised inference (``"quantized"``): the int8 kernels' integers equal
:func:`fastmlp.reference.qforward_net`'s bit for bit and their float32
epilogue is the same operations in the same order, so the logits of a
ReLU/identity network agree exactly; what is left is the output activation
(``expf`` in C against NumPy's float64 ``exp``): a few ulps of float32, well
inside 1e-5.  bfloat16 inference (``"bf16_inference"``) sums exact products in
float32, in another order than the reference's float64 (k * eps32 ~ 1e-4 at
k ~ 1000), and a hidden activation within that rounding of a bfloat16 tie
rounds the other way in one of them: one bfloat16 ulp (2^-8) of one input,
a few 1e-4 of a logit's scale; 2e-3 covers it.

bfloat16 (``compute_dtype="bfloat16"``: bf16 operands, float32 chains).  The
bf16 GEMM itself is held to :func:`fastmlp.reference.bf16_matmul` bit for bit
(no tolerance).  Against float64 products its operand rounding (2**-9
relative per operand) gives errors of ~2**-8 * sqrt(k) * the typical term,
``"kernel"`` 2e-2 with the scale-aware atol.  Over training steps the C loop
(float32 between the products) and the reference (float64 between them) can
round an operand to neighbouring bf16 values where they differ by an ulp, a
2**-8 step in that term: ``"trajectory"`` 2e-2 over 10 steps.

Finite differences (checking the reference itself) use central differences
with h = 1e-6 in float64: truncation error O(h^2) ~ 1e-12 and rounding
O(eps/h) ~ 1e-10 relative, so 1e-6 relative is safe yet catches any wrong
derivative (those are off by O(1)).
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

__all__ = ["TOLERANCES", "tolerance", "assert_close", "assert_train_trajectory", "FD_STEP",
           "FD_RTOL", "require_peer", "random_targets", "EXPORT_RTOL", "EXPORT_F64_RTOL", "assert_same_model"]

#: rtol by (kind, dtype); atol is rtol * max|desired| (see the module docstring)
TOLERANCES: dict[tuple[str, str], float] = {
    ("kernel", "float32"): 1e-4,
    ("kernel", "float64"): 1e-10,
    ("trajectory", "float32"): 1e-3,
    ("trajectory", "float64"): 1e-8,
    ("quantized", "float32"): 1e-5,
    ("bf16_inference", "float32"): 2e-3,
    ("kernel", "bfloat16"): 2e-2,
    ("trajectory", "bfloat16"): 2e-2,
}
FD_STEP = 1e-6
FD_RTOL = 1e-6
#: exported float32 networks (ONNX in onnxruntime, the C file) against predict_proba of a
#: float32 model: both sum the same float32 products in different orders (the C file in
#: double), so a logit differs by ~sqrt(k) eps of its terms; through softmax that is
#: ~1e-6 of a probability.  The issue's bar for the C file is 1e-6 relative.
EXPORT_RTOL = 1e-6
#: a float64 model exported as float32: its weights are rounded once to float32 (eps 6e-8),
#: which moves a logit by ~sqrt(k) eps of its terms, more than float32 summation alone.
EXPORT_F64_RTOL = 1e-5


def tolerance(dtype: Any, kind: str = "kernel") -> float:
    """Return the relative tolerance for ``dtype`` ('bfloat16' for bf16 products) and
    ``kind`` ('kernel' or 'trajectory')."""
    name = "bfloat16" if isinstance(dtype, str) and dtype == "bfloat16" else np.dtype(dtype).name
    return TOLERANCES[(kind, name)]


def assert_close(actual: Any, desired: Any, dtype: Any = None, kind: str = "kernel",
                 what: str = "") -> None:
    """Assert ``|actual - desired| <= rtol * (|desired| + max|desired|)`` elementwise.

    On failure the message gives the max absolute and relative differences
    and the first mismatching pairs.
    """
    a = np.asarray(actual, dtype=np.float64)
    d = np.asarray(desired, dtype=np.float64)
    if a.shape != d.shape:
        raise AssertionError(f"{what}: shape {a.shape} != {d.shape}")
    if not np.isfinite(a).all():
        raise AssertionError(f"{what}: non-finite values in actual")
    rtol = tolerance(dtype if dtype is not None else np.asarray(actual).dtype, kind)
    scale = float(np.max(np.abs(d))) if d.size else 0.0
    err = np.abs(a - d)
    bound = rtol * (np.abs(d) + scale) + 1e-300
    bad = err > bound
    if bad.any():
        idx = np.argwhere(bad)[:5]
        pairs = ", ".join(f"{tuple(int(v) for v in i)}: {a[tuple(i)]!r} vs {d[tuple(i)]!r}" for i in idx)
        rel = float(np.max(err / (np.abs(d) + scale + 1e-300)))
        raise AssertionError(f"{what}: {int(bad.sum())} of {a.size} elements differ beyond rtol={rtol:g}"
                             f" (max abs diff {err.max():.3g}, max scaled rel diff {rel:.3g}); "
                             f"first: {pairs}")


def assert_same_model(a: Any, b: Any, timings: bool = True) -> None:
    """Assert that two models hold the same state, bit for bit (a saved and a loaded one).

    ``timings=False`` leaves out the wall-clock entries of ``history_`` ('time'),
    to compare two models trained alike rather than one and its copy.

    For :class:`fastmlp.MLP`: the parameters and their dtype, the architecture,
    loss, dropout and noise, the history, the shuffling generator's state, the
    classes and the optimizer state (step, layout, buffers).  For the
    scikit-learn drop-ins: every hyper-parameter (``get_params``) and every
    fitted attribute, compared value by value (arrays by dtype, shape and bits;
    objects such as the label binarizer by their own attributes).
    """
    assert type(a) is type(b), f"{type(a).__name__} != {type(b).__name__}"
    if not hasattr(a, "_params"):  # a drop-in
        from fastmlp.sklearn._persist import fitted_state  # (needs scikit-learn)

        _assert_same_value(a.get_params(deep=False), b.get_params(deep=False), "get_params()")
        sa, sb = fitted_state(a), fitted_state(b)
        if not timings:
            for st in (sa, sb):
                if isinstance(st.get("history_"), dict):
                    st["history_"] = {k: v for k, v in st["history_"].items() if k != "time"}
        _assert_same_value(sa, sb, "fitted state")
        return
    assert np.array_equal(a._params, b._params) and a._params.dtype == b._params.dtype
    assert (a.layers, a.activations, a.loss, a.output_activation, a.dropout, a.input_noise,
            a._noise_seed, a.history_) == (b.layers, b.activations, b.loss, b.output_activation,
                                           b.dropout, b.input_noise, b._noise_seed, b.history_)
    assert a._rng.bit_generator.state == b._rng.bit_generator.state
    assert (a.classes_ is None) == (b.classes_ is None)
    if a.classes_ is not None:
        assert np.array_equal(a.classes_, b.classes_)
    sa, sb = a._opt_state, b._opt_state
    assert (sa is None) == (sb is None)
    if sa is not None:
        assert sa["step"] == sb["step"] and sa["layout"] == sb["layout"]
        for k in ("s1", "s2", "s3"):
            assert (sa[k] is None and sb[k] is None) or np.array_equal(sa[k], sb[k])


def _assert_same_value(a: Any, b: Any, where: str) -> None:
    """Recursive, exact comparison: containers item by item, arrays by dtype, shape and
    bits (NaN equal to NaN), numbers by type and value, objects by their attributes."""
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        assert isinstance(a, np.ndarray) and isinstance(b, np.ndarray), f"{where}: {a!r} vs {b!r}"
        assert a.dtype == b.dtype and a.shape == b.shape, \
            f"{where}: {a.dtype} {a.shape} vs {b.dtype} {b.shape}"
        if a.dtype.kind in "fc":
            assert np.array_equal(a, b, equal_nan=True), f"{where}: values differ"
        else:
            assert np.array_equal(a, b), f"{where}: values differ"
        return
    assert type(a) is type(b), f"{where}: {type(a).__name__} vs {type(b).__name__}"
    if isinstance(a, dict):
        assert set(a) == set(b), f"{where}: keys {list(a)} vs {list(b)}"  # (any order)
        for k in a:
            _assert_same_value(a[k], b[k], f"{where}[{k!r}]")
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b), f"{where}: length {len(a)} vs {len(b)}"
        for i, (x, y) in enumerate(zip(a, b)):
            _assert_same_value(x, y, f"{where}[{i}]")
    elif isinstance(a, float) and a != a:
        assert b != b, f"{where}: nan vs {b!r}"
    elif isinstance(a, np.random.RandomState):
        _assert_same_value(a.get_state(legacy=False), b.get_state(legacy=False), where)
    elif hasattr(a, "__dict__") and type(a).__eq__ is object.__eq__:
        _assert_same_value(vars(a), vars(b), f"{where}.")
    else:
        assert a == b, f"{where}: {a!r} vs {b!r}"


def assert_train_trajectory(params: np.ndarray, opt: dict, sizes: Sequence[int],
                            acts: Sequence[str], slopes: np.ndarray, cfg: dict, x: np.ndarray,
                            y: np.ndarray, calls: Sequence[tuple[int, int]], batch: int,
                            n_threads: int = 1, sw: np.ndarray | None = None,
                            order: np.ndarray | None = None, *,
                            paths: Mapping[int, Sequence[str]] | None = None,
                            no_paths: Mapping[int, Sequence[str]] | None = None) -> np.ndarray:
    """Train in C twice -- the speed paths the plan picks, and the plain step
    (``"fast": False``) -- and in :mod:`fastmlp.reference`, side by side.

    Parameters
    ----------
    params : ndarray
        Initial flat parameters in the model's dtype (not modified).
    opt, cfg : dict
        Optimizer and training settings with names as strings (``"sgd"``,
        ``"cce"``), as :func:`fastmlp.reference.train` takes them; ``cfg``
        may hold ``"dropout"`` (the hidden outputs' rates).
    sizes, acts, slopes
        The network.
    x, y : ndarray
        Data in the model's dtype, ``y`` one-hot or targets.
    calls : sequence of (int, int)
        ``(first row, batches)`` of each C call.
    batch : int
        Rows per batch.
    n_threads : int, default=1
    sw, order : ndarray, optional
        Sample weights and row order.
    paths, no_paths : mapping of int to sequence of str, optional
        Speed paths (names of ``fastmlp._core.FAST_PATHS``) that weight layer
        l must have taken on at least one step of the fast run, and ones it
        must never have taken.

    Returns
    -------
    ndarray
        The parameters of the fast run after the last call.  After every
        call both runs' loss statistics and parameters were held to the
        reference's, and the fast run's to the plain run's, at the
        trajectory tolerance; the plain run took no speed path.
    """
    from fastmlp import _core as core
    from fastmlp import reference as ref
    from fastmlp._backend import ACTIVATIONS, LOSSES, OPTIMIZERS, train_steps

    bf16 = cfg.get("compute") == "bfloat16"
    dtype = "bfloat16" if bf16 else params.dtype  # the tolerances' key
    sizes_a = np.array(sizes, np.int64)
    acts_a = np.array([ACTIVATIONS[a] for a in acts], np.int32)
    ccfg = {**cfg, "loss": LOSSES[cfg["loss"]],
            "compute": core.COMPUTE_BF16 if bf16 else core.COMPUTE_NATIVE}
    dropout = ccfg.pop("dropout", None)
    work = np.empty(core.workspace_size(sizes_a, acts_a, slopes, batch), params.dtype)
    runs = {fast: {"params": params.copy(), "s1": np.zeros_like(params),
                   "s2": np.zeros_like(params), "grad": np.empty_like(params),
                   "path_steps": np.zeros((len(acts), len(core.FAST_PATHS)), np.int64),
                   "fast": fast} for fast in (True, False)}
    p_r, r1, r2, step = params.astype(np.float64), None, None, 0
    for k, (start, count) in enumerate(calls):
        got = {}
        for fast, run in runs.items():
            stats = np.zeros(4)
            copt = {**opt, "kind": OPTIMIZERS[opt["kind"]], "step": step}
            got[fast] = stats, train_steps(
                **run, work=work, stats=stats, net=(sizes_a, acts_a, slopes), opt=copt,
                cfg=ccfg, dropout=None if dropout is None else np.array(dropout, np.float64),
                x=x, y=y, sw=sw, order=order, start=start, n_batches=count, batch=batch,
                n_threads=n_threads)
        p_r, r1, r2, rstats, step = ref.train(p_r, {**opt, "step": step}, sizes, acts, slopes, cfg,
                                              x, y, sw, order, start, count, batch, r1, r2)
        for fast, (stats, (done, new_step)) in got.items():
            what = f"{'fast' if fast else 'plain'} step, after call {k}"
            assert done == count and new_step == step, (what, done, count, new_step, step)
            assert_close(stats, rstats, dtype, kind="trajectory", what=f"stats, {what}")
            assert_close(runs[fast]["params"], p_r, dtype, kind="trajectory",
                         what=f"params, {what}")
        assert_close(runs[True]["params"], runs[False]["params"], dtype, kind="trajectory",
                     what=f"params, fast vs plain step, after call {k}")
    ran = runs[True]["path_steps"]
    assert not runs[False]["path_steps"].any(), "the plain step took a speed path"
    for layer, names in (paths or {}).items():
        for name in names:
            assert ran[layer, core.FAST_PATHS.index(name)] > 0, \
                f"layer {layer} never took {name!r}: {_path_table(ran, core.FAST_PATHS)}"
    for layer, names in (no_paths or {}).items():
        for name in names:
            assert ran[layer, core.FAST_PATHS.index(name)] == 0, \
                f"layer {layer} took {name!r}: {_path_table(ran, core.FAST_PATHS)}"
    return runs[True]["params"]


def _path_table(ran: np.ndarray, names: Sequence[str]) -> str:
    """Steps per layer and speed path, for a failure message."""
    return "; ".join(f"layer {l}: " + ", ".join(f"{n} {int(c)}" for n, c in zip(names, row) if c)
                     for l, row in enumerate(ran))


def require_peer(module: str, why: str) -> Any:
    """Import the optional peer ``module`` (torch, onnx, onnxruntime) for a parity test.

    Where it is missing the test is skipped with ``why``; under ``CI=true`` it fails
    instead, because ``.ci/run`` installs every peer and a skip there would hide a
    parity test that never ran.
    """
    import importlib
    import os

    import pytest

    try:
        return importlib.import_module(module)
    except ImportError as exc:
        if os.environ.get("CI") == "true":
            pytest.fail(f"{module} is not installed but CI=true (.ci/run installs it): {exc}")
        pytest.skip(f"{module} is not installed: {why}")


def random_targets(rng: np.random.Generator, loss: str, n: int, k: int) -> np.ndarray:
    """Random float64 targets (n, k) for ``loss``: one-hot rows ('cce'), 0/1 ('bce'),
    standard normal values otherwise."""
    if loss == "cce":
        return np.eye(k)[rng.integers(0, k, n)]
    if loss == "bce":
        return rng.integers(0, 2, (n, k)).astype(float)
    return rng.standard_normal((n, k))
