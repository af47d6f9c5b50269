"""Overflow-safe numerics: softmax, sigmoid and log-sum-exp of huge or infinite logits
in C match fastmlp.reference (float32, float64, every SIMD target) and give finite
probabilities; inference whose forward pass overflows on finite X raises
ForwardOverflowError (or warns under fastmlp.errstate(overflow='warn'))."""
from __future__ import annotations

import numpy as np
import pytest

import fastmlp
from fastmlp import MLP
from fastmlp import _core as core
from fastmlp import reference as ref
from fastmlp._backend import ACTIVATIONS, LOSSES
from fastmlp.testing import assert_close, tolerance


def _logits(dtype):
    """Rows of logits from ordinary to the largest finite and the infinite."""
    big = float(np.finfo(dtype).max)
    inf = np.inf
    rows = [
        [0.5, -1.0, 2.0, 0.0],
        [big, big, 0.0, -big],          # huge finite: z - max overflows to -inf
        [big, -big, -big, -big],
        [-big, -big, -big, -big],
        [inf, 1.0, -2.0, 3.0],          # one +inf: all the mass there
        [inf, inf, 0.0, -inf],          # two: shared
        [-inf, -inf, -inf, -inf],       # all -inf: uniform
        [-inf, 0.0, 1.0, -inf],
        [1e30, -1e30, 1e-30, 0.0],
    ]
    return np.array(rows, dtype=dtype)


def _same(a, b, dtype, what):
    """Equal where the reference is exactly 0 or 1 or special, close elsewhere."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    assert (np.isnan(a) == np.isnan(b)).all(), what
    assert (np.isinf(a) == np.isinf(b)).all() and (a[np.isinf(a)] == b[np.isinf(b)]).all(), what
    fin = np.isfinite(b)
    assert_close(a[fin], b[fin], dtype, what=what)


def test_softmax_of_extreme_logits_is_finite_and_matches_reference(target, dtype):
    z = _logits(dtype)
    a = z.copy()
    core.act_forward(a, ACTIVATIONS["softmax"])
    assert np.isfinite(a).all()
    np.testing.assert_allclose(a.sum(axis=1), 1.0, rtol=1e-6)
    _same(a, ref.act_forward(z, "softmax"), dtype, "softmax")
    assert a[4].tolist() == [1, 0, 0, 0] and a[5].tolist() == [0.5, 0.5, 0, 0]
    assert a[6].tolist() == [0.25] * 4


def test_sigmoid_of_extreme_logits_is_finite_and_matches_reference(target, dtype):
    z = _logits(dtype)
    a = z.copy()
    core.act_forward(a, ACTIVATIONS["sigmoid"])
    assert np.isfinite(a).all() and ((a >= 0) & (a <= 1)).all()
    _same(a, ref.act_forward(z, "sigmoid"), dtype, "sigmoid")


def test_nan_logits_stay_nan(dtype):
    z = np.array([[np.nan, 1.0, 2.0]], dtype=dtype)
    for act in ("softmax", "sigmoid"):
        a = z.copy()
        core.act_forward(a, ACTIVATIONS[act])
        assert np.isnan(a[0, 0]) and np.isnan(ref.act_forward(z, act)[0, 0])


@pytest.mark.parametrize("loss,out_act", [("cce", "softmax"), ("bce", "sigmoid"),
                                          ("mse", "softmax")])
def test_losses_of_extreme_logits_match_reference(target, dtype, loss, out_act):
    z = _logits(dtype)
    rng = np.random.default_rng(0)
    if loss == "bce":
        y = rng.integers(0, 2, z.shape).astype(dtype)
        y[4, 0], y[5, :2], y[6, :] = 1, 0, 1  # limits both ways: loss 0 and +inf
    else:
        y = np.eye(z.shape[1], dtype=dtype)[rng.integers(0, z.shape[1], len(z))]
        y[4], y[5], y[6] = np.eye(4, dtype=dtype)[[0, 2, 1]]
    for row in range(len(z)):  # row by row: an infinite row's loss hides the others'
        zr, yr = z[row:row + 1], y[row:row + 1]
        p, dz = np.empty_like(zr), np.empty_like(zr)
        got = core.loss(p, dz, zr, yr, None, LOSSES[loss], ACTIVATIONS[out_act])
        want, wp, wdz = ref.loss(zr, yr, None, loss, out_act)
        assert np.isfinite(p).all(), (row, p)
        _same(p, wp, dtype, f"{loss} p row {row}")
        _same(dz, wdz, dtype, f"{loss} dz row {row}")
        if np.isfinite(want):
            tol = tolerance(dtype, "kernel")
            np.testing.assert_allclose(got, want, rtol=tol, atol=tol,
                                       err_msg=f"{loss} loss row {row}")
        else:
            assert got == want, (row, got, want)


def test_cce_limits(dtype):
    """log(#max) on the max entries, +inf off them; dz stays finite."""
    z = np.array([[np.inf, np.inf, 0.0], [np.inf, np.inf, 0.0]], dtype=dtype)
    y = np.array([[1, 0, 0], [0, 0, 1]], dtype=dtype)
    p, dz = np.empty_like(z), np.empty_like(z)
    l0 = core.loss(p[:1], dz[:1], z[:1], y[:1], None, LOSSES["cce"], ACTIVATIONS["softmax"])
    l1 = core.loss(p[1:], dz[1:], z[1:], y[1:], None, LOSSES["cce"], ACTIVATIONS["softmax"])
    assert l0 == pytest.approx(np.log(2)) and l1 == np.inf and np.isfinite(dz).all()


# ------------------------------------------------------------------ inference contract
def _fitted(dtype, layers=(4, 8, 3)):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((60, layers[0]))
    y = rng.integers(0, layers[-1], 60) if layers[-1] > 1 else rng.integers(0, 2, 60)
    return MLP(list(layers), dtype=dtype, seed=0).fit(X, y, epochs=2, verbose=0)


@pytest.mark.parametrize("layers", [(4, 8, 3), (4, 8, 1)])
def test_predict_on_overflowing_input_raises_and_changes_nothing(target, dtype, layers):
    m = _fitted(dtype, layers)
    m.coefs_[0][...] = 1.0  # all-positive first layer: the hidden sums of the big row overflow
    params = m._params.copy()
    big = float(np.finfo(dtype).max) * 0.9
    Xbad = np.array([[0.1, 0.2, 0.3, 0.4], [big, big, 0.0, 0.0]])
    for call in (m.predict_proba, m.predict, m.forward):
        with pytest.raises(fastmlp.ForwardOverflowError, match="1 of 2 rows of X .*row 1"):
            call(Xbad)
    with pytest.raises(ValueError, match="overflowed"):  # a ValueError too
        m.evaluate(Xbad, [0, 0])
    assert np.array_equal(m._params, params)
    np.testing.assert_array_equal(m.predict(Xbad[:1]), m.predict(Xbad[:1]))  # still usable


def test_errstate_warn_returns_the_output(dtype):
    m = _fitted(dtype)
    m.coefs_[0][...] = 1.0
    big = float(np.finfo(dtype).max) * 0.9
    Xbad = np.array([[big, big, 0.0, 0.0]])
    with fastmlp.errstate(overflow="warn"):
        with pytest.warns(fastmlp.ForwardOverflowWarning, match="overflowed"):
            m.forward(Xbad)
    with pytest.raises(fastmlp.ForwardOverflowError):  # the default is back
        m.forward(Xbad)
    with pytest.raises(ValueError, match="overflow must be 'raise' or 'warn'"):
        with fastmlp.errstate(overflow="ignore"):
            pass


def test_inference_unchanged_on_ordinary_input(target, dtype):
    """Logits, then the output activation: the same bits as the fused forward pass."""
    m = _fitted(dtype)
    X = np.random.default_rng(1).standard_normal((50, 4)).astype(dtype)
    sizes, acts, slopes = m._net_arrays()
    work = np.empty(core.workspace_size(sizes, acts, slopes, 50), dtype=dtype)
    fused = np.empty((50, 3), dtype=dtype)
    core.forward_net(fused, work, m._params, sizes, acts, slopes, X, 50, 1)
    np.testing.assert_array_equal(m.predict_proba(X), fused)


def test_sklearn_drop_in_overflow_raises(dtype):
    from fastmlp.sklearn import MLPClassifier, MLPRegressor

    rng = np.random.default_rng(0)
    X = rng.standard_normal((40, 3)).astype(dtype)
    big = float(np.finfo(dtype).max) * 0.9
    Xbad = np.array([[big, big, big]], dtype=dtype)
    clf = MLPClassifier(hidden_layer_sizes=(5,), max_iter=5, random_state=0)
    reg = MLPRegressor(hidden_layer_sizes=(5,), max_iter=5, random_state=0)
    with pytest.warns(Warning):
        clf.fit(X, rng.integers(0, 3, 40))
        reg.fit(X, rng.standard_normal(40))
    for est in (clf, reg):  # all-positive first layer: the hidden sums of Xbad overflow
        est.coefs_[0][...] = 1.0
    for call in (clf.predict_proba, clf.predict, reg.predict):
        with pytest.raises(fastmlp.ForwardOverflowError, match="rows of X"):
            call(Xbad)
