"""The interleaved Perceptron epoch (csrc/linear_models/sgd_lanes_impl.h) against the per-class one.

Both kernels must give the same bits: the interleaved one only overlaps
independent dot products (several one-vs-rest classes, or several rows of one
class with speculation) and, for sparse-enough dense data, skips the +0.0
columns of the dot products.  Compared bit for bit (``tobytes``), never with a
tolerance:

* kernel level: ``sgd_perceptron_epoch_multi`` against ``sgd_perceptron_epoch``
  run class by class, for dense, CSR and packed rows, every penalty, sample
  and class weights, skipped (validation) rows, a wscale reset, lane counts
  1..16, 1 and 2 threads, classes in any order;
* estimator level: ``fastmlp.sklearn.Perceptron`` on its interleaved path
  against its per-class path (``_INTERLEAVE = False``), with classes that stop
  at different epochs, and against scikit-learn itself on packed data.
"""
from __future__ import annotations

import warnings

import numpy as np
import pytest

from fastmlp import _core as core

PENALTIES = {"none": core.PENALTY_NONE, "l1": core.PENALTY_L1, "l2": core.PENALTY_L2,
             "elasticnet": core.PENALTY_ELASTICNET}


def _bits(a) -> bytes:
    return np.ascontiguousarray(a).tobytes()


def _case(dtype, rng, n=150, d=23, C=5, zeros=0.6):
    x = rng.standard_normal((n, d))
    x[rng.random((n, d)) < zeros] = 0.0
    x[rng.random((n, d)) < 0.03] = -0.0
    x[:, :3] = 0.0  # columns never seen: their weights only get w + 0 * step
    x = x.astype(dtype)
    lab = rng.integers(0, C, n)
    Y = np.where(lab[None, :] == np.arange(C)[:, None], 1.0, -1.0).astype(dtype)
    W0 = (rng.standard_normal((C, d)) * 0.1).astype(dtype)
    W0[rng.random((C, d)) < 0.2] = -0.0  # signed zeros must come out as the dense loop's
    return x, Y, W0


def _csr(x):
    """x as CSR (data, indptr, indices) of its entries other than +0.0 (-0.0 stored)."""
    val, ind, ptr = core.sgd_pack_rows(x)
    return val, ptr, ind


def _cfgs(C, penalty, alpha):
    return [{"penalty": PENALTIES[penalty], "alpha": alpha, "l1_ratio": 0.3, "eta": 0.7,
             "fit_intercept": True, "intercept_decay": 1.0, "weight_pos": 1.5 + 0.25 * c,
             "weight_neg": 0.5, "compute_loss": True} for c in range(C)]


#: packed rows take penalty none or l2 only (the refusal is tested below)
ROWS_PENALTY = [(r, p) for r in ("dense", "csr", "packed") for p in PENALTIES
                if r != "packed" or p in ("none", "l2")]


@pytest.mark.parametrize("threads", [1, 2], ids=["t1", "t2"])
@pytest.mark.parametrize("lanes", [1, 3, 8, 16])
@pytest.mark.parametrize("rows,penalty", ROWS_PENALTY)
def test_multi_epoch_is_per_class_epoch_bit_for_bit(dtype, rows, penalty, lanes, threads):
    rng = np.random.default_rng(lanes * 7 + threads)
    x, Y, W0 = _case(dtype, rng)
    C, (n, d) = len(W0), x.shape
    alpha = 0.3 if penalty == "l2" else 0.01  # l2: wscale drops under its floor and resets
    cfgs = _cfgs(C, penalty, alpha)
    sw = rng.uniform(0.2, 2.0, n).astype(dtype)
    skip = (rng.random(n) < 0.15).astype(np.uint8)
    orders = np.array([rng.permutation(n) for _ in range(C)], dtype=np.int64)
    state0 = np.zeros((C, 7))
    state0[:, 0], state0[:, 1] = 0.1 * np.arange(C), 1.0
    state0[:, 2] = [float(w @ w) for w in W0]
    state0[:, 3] = [float(np.abs(w).sum()) for w in W0]
    if rows == "dense":
        args = (x.ravel(), None, None)
    else:
        args = _csr(x)  # (packed: the same arrays, trained with dense semantics)
    ref_args = args if rows == "csr" else (x.ravel(), None, None)
    cls = np.array([3, 0, 4, 1], dtype=np.int32)  # a subset, in any order
    Wr, Qr, Sr = W0.copy(), np.zeros_like(W0), state0.copy()
    Wm, Qm, Sm = W0.copy(), np.zeros_like(W0), state0.copy()
    counts = np.zeros((C, 2), dtype=np.int64)
    seen = {c: 0 for c in cls}
    for _ in range(3):
        for c in cls:
            seen[c] += core.sgd_perceptron_epoch(Wr[c], Qr[c], Sr[c], *ref_args, Y[c], sw,
                                                 orders[c], skip, cfgs[c])
        core.sgd_perceptron_epoch_multi(Wm, Qm, Sm, counts, *args, Y, sw, orders, skip, cfgs,
                                        cls, packed=rows == "packed", lanes=lanes,
                                        n_threads=threads)
    assert _bits(Wm) == _bits(Wr) and _bits(Qm) == _bits(Qr) and _bits(Sm) == _bits(Sr)
    for c in range(C):
        assert counts[c, 0] == (seen[c] if c in seen else 0)
        assert counts[c, 1] >= counts[c, 0]


def test_multi_epoch_interleaves(dtype):
    """All classes share every batch (one lane each); a lone class fills the lanes with
    its next rows, computed once when no step changes its weights."""
    rng = np.random.default_rng(0)
    x, Y, W0 = _case(dtype, rng, n=400, C=6)
    C, n = len(W0), len(x)
    cfgs = _cfgs(C, "none", 0.0)
    orders = np.array([rng.permutation(n) for _ in range(C)], dtype=np.int64)
    state = np.zeros((C, 7))
    state[:, 1] = 1.0
    counts = np.zeros((C, 2), dtype=np.int64)
    batches = core.sgd_perceptron_epoch_multi(W0.copy(), np.zeros_like(W0), state, counts,
                                              x.ravel(), None, None, Y, None, orders, None,
                                              cfgs, np.arange(C, dtype=np.int32), lanes=1)
    assert batches == n and (counts == n).all()  # C dot products side by side per batch
    # class 2 already separates every row it trains on: no update, nothing recomputed
    margin = x.astype(np.float64) @ W0[2].astype(np.float64)
    Y[2] = np.where(margin > 0, 1.0, -1.0)
    skip = (np.abs(margin) < 1e-2).astype(np.uint8)
    counts[:] = 0
    state[:, 0] = 0.0
    batches = core.sgd_perceptron_epoch_multi(W0.copy(), np.zeros_like(W0), state, counts,
                                              x.ravel(), None, None, Y, None, orders, skip,
                                              cfgs, np.array([2], dtype=np.int32), lanes=8)
    trained = n - int(skip.sum())
    assert counts[2, 0] == counts[2, 1] == trained and state[2, 5] == 0.0
    assert batches == -(-trained // 8)  # eight rows of the class per batch


def test_multi_epoch_rejects_bad_input():
    x = np.zeros((4, 3))
    Y = np.ones((2, 4))
    cfgs = _cfgs(2, "none", 0.0)
    W, state = np.zeros((2, 3)), np.zeros((2, 7))
    counts = np.zeros((2, 2), dtype=np.int64)
    order = np.tile(np.arange(4, dtype=np.int64), (2, 1))

    def call(**kw):
        a = dict(w=W, q=np.zeros_like(W), state=state, counts=counts, x=x.ravel(), ptr=None,
                 ind=None, y=Y, sw=None, order=order, skip=None, cfgs=cfgs,
                 cls=np.array([0, 1], dtype=np.int32))
        a.update(kw)
        return core.sgd_perceptron_epoch_multi(*a.values())

    call()
    with pytest.raises(ValueError, match="distinct"):
        call(cls=np.array([1, 1], dtype=np.int32))
    with pytest.raises(ValueError, match="distinct"):
        call(cls=np.array([2], dtype=np.int32))
    with pytest.raises(ValueError, match="order out of range"):
        call(order=np.full((2, 4), 4, dtype=np.int64))
    with pytest.raises(ValueError, match="dense x"):
        call(x=np.zeros(5))
    with pytest.raises(ValueError, match="row counts"):
        call(sw=np.ones(3))
    val, ind, ptr = core.sgd_pack_rows(x)
    with pytest.raises(ValueError, match="packed rows"):
        core.sgd_perceptron_epoch_multi(W, np.zeros_like(W), state, counts, val, ptr, ind, Y,
                                        None, order, None, _cfgs(2, "l1", 0.1),
                                        np.array([0], dtype=np.int32), packed=True)


def test_pack_rows_keeps_everything_but_positive_zeros(dtype):
    x = np.array([[0.0, -0.0, 1.5, 0.0], [0.0, 0.0, 0.0, 0.0], [2.0, 0.0, -1.0, 3.0]],
                 dtype=dtype)
    val, ind, ptr = core.sgd_pack_rows(x)
    assert ptr.tolist() == [0, 2, 2, 5] and ind.tolist() == [1, 2, 0, 2, 3]
    assert _bits(val) == _bits(np.array([-0.0, 1.5, 2.0, -1.0, 3.0], dtype=dtype))
    assert core.sgd_pack_rows(x, 0.3) is None  # 5 of 12 stored: denser than asked


# ------------------------------------------------------------------ estimator
pytest.importorskip("sklearn", reason="the estimator tests need scikit-learn")
import scipy.sparse as sp  # noqa: E402
from sklearn.datasets import make_classification  # noqa: E402
from sklearn.exceptions import ConvergenceWarning  # noqa: E402
from sklearn.linear_model import Perceptron as SkPerceptron  # noqa: E402

import fastmlp.sklearn._perceptron as perc_mod  # noqa: E402
from fastmlp.sklearn import Perceptron  # noqa: E402


def _data(dtype, kind, n_classes=5):
    X, y = make_classification(300, 12, n_informative=8, n_classes=n_classes,
                               n_clusters_per_class=1, random_state=4)
    if kind != "full":
        X = np.where(np.abs(X) > 1.5, X, 0.0)  # ~60% zeros: dense X gets packed
    X = X.astype(dtype)
    return (sp.csr_matrix(X) if kind == "csr" else X), y


def _fit(est, X, y, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return est.fit(X, y, **kw)


def _assert_same_fit(a, b):
    assert _bits(a.coef_) == _bits(b.coef_) and _bits(a.intercept_) == _bits(b.intercept_)
    assert (a.n_iter_, a.t_) == (b.n_iter_, b.t_)
    assert a.history_ == b.history_


CASES = {
    "default": {},
    "l2": dict(penalty="l2", alpha=1e-3),
    "l1": dict(penalty="l1", alpha=1e-3),
    "elasticnet": dict(penalty="elasticnet", alpha=1e-3, l1_ratio=0.5),
    "early_stopping": dict(early_stopping=True, n_iter_no_change=3),
    "balanced": dict(class_weight="balanced", eta0=0.3),
}


@pytest.mark.parametrize("threads", [1, 2], ids=["t1", "t2"])
@pytest.mark.parametrize("case", list(CASES))
@pytest.mark.parametrize("kind", ["packed", "full", "csr"])
def test_interleaved_fit_is_per_class_fit(dtype, kind, case, threads, monkeypatch):
    X, y = _data(dtype, kind)
    sw = np.random.default_rng(6).uniform(0.2, 2.0, len(y))
    calls = []
    multi = core.sgd_perceptron_epoch_multi

    def spy(*args, **kw):
        before = args[3].sum(axis=0)
        batches = multi(*args, **kw)
        dots = int(args[3].sum(axis=0)[1] - before[1])
        calls.append((len(args[12]), args[13], dots / batches))  # (classes, packed, lanes)
        return batches

    monkeypatch.setattr(perc_mod.core, "sgd_perceptron_epoch_multi", spy)
    params = dict(CASES[case], n_threads=threads, random_state=3)
    a = _fit(Perceptron(**params), X, y, sample_weight=sw)
    assert calls and calls[0][0] == 5  # all classes in one interleaved call
    assert all(p == (kind == "packed" and case not in ("l1", "elasticnet")) for _, p, _ in calls)
    assert calls[0][2] >= 2  # dot products side by side
    curves = next(iter(a.history_.values()))
    assert len({len(c) for c in curves}) > 1, "the classes should stop at different epochs"
    monkeypatch.setattr(perc_mod, "_INTERLEAVE", False)
    b = _fit(Perceptron(**params), X, y, sample_weight=sw)
    _assert_same_fit(a, b)


@pytest.mark.parametrize("threads", [1, 2], ids=["t1", "t2"])
@pytest.mark.parametrize("case", ["default", "l2", "early_stopping", "balanced"])
@pytest.mark.parametrize("n_classes", [2, 5])
def test_packed_fit_is_sklearns(dtype, n_classes, case, threads):
    X, y = _data(dtype, "packed", n_classes)
    a = _fit(SkPerceptron(**CASES[case], random_state=3), X, y)
    b = _fit(Perceptron(**CASES[case], random_state=3, n_threads=threads), X, y)
    assert (a.n_iter_, a.t_) == (b.n_iter_, b.t_)
    np.testing.assert_array_equal(b.coef_, a.coef_)
    np.testing.assert_array_equal(b.intercept_, a.intercept_)


def test_overflow_reports_the_first_failing_class_as_sklearn(dtype):
    X, y = _data(dtype, "full")
    X = X.copy()
    big = float(np.sqrt(np.finfo(dtype).max))
    X[y == 3] *= dtype(big)  # rows of class 3 push every class's weights to overflow
    errors = []
    for cls in (SkPerceptron, Perceptron):
        with pytest.raises(ValueError, match="Floating-point under-/overflow") as exc:
            _fit(cls(eta0=big), X, y)
        errors.append(str(exc.value))
    assert errors[0] == errors[1]


def test_multi_epoch_matches_reference(dtype):
    """One packed epoch of two classes against fastmlp.reference's plain NumPy epoch."""
    from fastmlp import reference as ref
    from fastmlp.testing import assert_close

    rng = np.random.default_rng(11)
    x, Y, W0 = _case(dtype, rng, n=60, d=9, C=2)
    n = len(x)
    sw = rng.uniform(0.2, 2.0, n).astype(dtype)
    skip = (rng.random(n) < 0.2).astype(np.uint8)
    orders = np.array([rng.permutation(n) for _ in range(2)], dtype=np.int64)
    cfgs = _cfgs(2, "l2", 0.05)
    state = np.zeros((2, 7))
    state[:, 1] = 1.0
    state[:, 2] = [float(w @ w) for w in W0]
    W = W0.copy()
    core.sgd_perceptron_epoch_multi(W, np.zeros_like(W), state, np.zeros((2, 2), np.int64),
                                    *_csr(x), Y, sw, orders, skip, cfgs,
                                    np.arange(2, dtype=np.int32), packed=True, lanes=8)
    for c in range(2):
        rw, rb, _, _, rloss = ref.sgd_perceptron_epoch(
            W0[c], 0.0, x, Y[c], sw, orders[c], skip, penalty="l2", alpha=0.05, eta=0.7,
            weight_pos=cfgs[c]["weight_pos"], weight_neg=0.5)
        assert_close(W[c] * state[c, 1], rw, dtype, kind="trajectory", what="weights")
        assert_close(state[c, 0], rb, dtype, kind="trajectory", what="intercept")
        assert_close(state[c, 5], rloss, dtype, kind="trajectory", what="loss sum")
