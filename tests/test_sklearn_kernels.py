"""Parity of the kernels added for the scikit-learn drop-ins with fastmlp.reference.

* the Poisson loss (``FM_LOSS_POISSON``): element values, output and delta,
  alone and inside the whole-network objective ``loss_grad`` and training
  chunk ``train``; the reference itself against finite differences;
* scikit-learn's xorshift Fisher-Yates shuffle (``sgd_shuffle``);
* one epoch of scikit-learn's perceptron SGD (``sgd_perceptron_epoch``) for
  every penalty, with sample/class weights, skipped (validation) rows, dense
  and CSR rows.

None of these need scikit-learn; float32 and float64, tolerances from
fastmlp.testing.
"""
from __future__ import annotations

import numpy as np
import pytest

from fastmlp import _core as core
from fastmlp import reference as ref
from fastmlp._backend import ACTIVATIONS, train_steps
from fastmlp.testing import FD_RTOL, FD_STEP, assert_close


def _poisson_targets(rng, shape):
    y = rng.poisson(2.0, size=shape).astype(np.float64)
    y.flat[0] = 0.0  # the y == 0 branch (y log y taken as 0)
    return y


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("N,K", [(1, 1), (7, 1), (13, 4)])
def test_poisson_loss_matches_reference(dtype, weighted, N, K):
    rng = np.random.default_rng(N * 10 + K)
    z = rng.standard_normal((N, K)).astype(dtype)
    y = _poisson_targets(rng, (N, K)).astype(dtype)
    sw = rng.uniform(0.1, 2.0, N).astype(dtype) if weighted else None
    p, dz = np.empty_like(z), np.empty_like(z)
    got = core.loss(p, dz, z, y, sw, core.LOSS_POISSON, ACTIVATIONS["identity"], 0.0, 0.3)
    want, rp, rdz = ref.loss(z, y, sw, "poisson", "identity", 0.0, 0.3)
    assert_close(got, want, dtype, what="poisson loss")
    assert_close(p, rp, dtype, what="poisson p = exp(z)")
    assert_close(dz, rdz, dtype, what="poisson dz")


def test_poisson_loss_by_hand():
    # y = 0: l = p = e^z ; y = 2, z = 0: l = 2 log 2 - 2 + 1
    z = np.array([[0.5, 0.0]])
    y = np.array([[0.0, 2.0]])
    L, _, dz = ref.loss(z, y, None, "poisson")
    assert L == pytest.approx(np.exp(0.5) + 2 * np.log(2.0) - 1.0, rel=1e-15)
    np.testing.assert_allclose(dz, [[np.exp(0.5), -1.0]], rtol=1e-15)
    out = np.empty_like(z)
    assert core.loss(out, None, z, y, None, core.LOSS_POISSON, 0) == pytest.approx(L, rel=1e-15)


def test_poisson_reference_gradient_by_finite_differences():
    rng = np.random.default_rng(4)
    z = rng.standard_normal((6, 3))
    y = _poisson_targets(rng, (6, 3))
    sw = rng.uniform(0.5, 1.5, 6)
    _, _, dz = ref.loss(z, y, sw, "poisson", scale=0.7)
    num = np.empty_like(z)
    for idx in np.ndindex(*z.shape):
        zp, zm = z.copy(), z.copy()
        zp[idx] += FD_STEP
        zm[idx] -= FD_STEP
        num[idx] = (ref.loss(zp, y, sw, "poisson", scale=0.7)[0]
                    - ref.loss(zm, y, sw, "poisson", scale=0.7)[0]) / (2 * FD_STEP)
    assert np.abs(dz).max() > 1e-3  # not trivially zero
    np.testing.assert_allclose(dz, num, rtol=FD_RTOL, atol=FD_RTOL * np.abs(num).max())


def _poisson_net(dtype, seed=0):
    rng = np.random.default_rng(seed)
    sizes = np.array([5, 4, 2], dtype=np.int64)
    acts = np.array([ACTIVATIONS["tanh"], ACTIVATIONS["identity"]], dtype=np.int32)
    slopes = np.zeros(2)
    params = (rng.standard_normal(ref.n_params(sizes)) * 0.3).astype(dtype)
    x = rng.standard_normal((23, 5)).astype(dtype)
    y = _poisson_targets(rng, (23, 2)).astype(dtype)
    return sizes, acts, slopes, params, x, y


def test_poisson_in_loss_grad_and_train(dtype, n_threads):
    sizes, acts, slopes, params, x, y = _poisson_net(dtype)
    names = ["tanh", "identity"]
    cfg = {"loss": core.LOSS_POISSON, "loss_mult": 1.0, "loss_per_output": False, "l2": 0.01,
           "l2_batch_scaled": True}
    rcfg = {**cfg, "loss": "poisson"}
    grad = np.empty_like(params)
    work = np.empty(core.workspace_size(sizes, acts, slopes, 8), dtype=dtype)
    got = core.loss_grad(grad, work, params, sizes, acts, slopes, cfg, x, y, None, 8, n_threads)
    want, rgrad = ref.loss_grad(params, sizes, names, [0.0, 0.0], rcfg, x, y)
    assert_close(got, want, dtype, what="poisson objective")
    assert_close(grad, rgrad, dtype, what="poisson gradient")
    # three Adam steps (scikit-learn form) over a shuffled order
    order = np.random.default_rng(1).permutation(len(x)).astype(np.int64)
    opt = {"kind": core.OPT_ADAM, "lr": 0.01, "sklearn": True, "step": 0}
    p2, s1, s2 = params.copy(), np.zeros_like(params), np.zeros_like(params)
    stats = np.zeros(4)
    done, step = train_steps(params=p2, grad=grad, work=work, stats=stats,
                             net=(sizes, acts, slopes), opt=opt, cfg=cfg, x=x, y=y, order=order,
                             n_batches=3, batch=8, s1=s1, s2=s2, n_threads=n_threads)
    rp, _, _, rstats, rstep = ref.train(params, {"kind": "adam", "lr": 0.01, "sklearn": True,
                                                 "step": 0}, sizes, names, [0.0, 0.0], rcfg, x,
                                        y, None, order, 0, 3, 8)
    assert (done, step) == (3, rstep)
    assert_close(p2, rp, dtype, kind="trajectory", what="params after 3 steps")
    assert_close(stats[0], rstats[0], dtype, what="summed batch loss")


def test_sgd_shuffle_matches_reference():
    for n, seed in [(1, 5), (2, 0), (17, 123456789), (300, 2**31 - 2)]:
        ind = np.arange(n, dtype=np.int64)
        core.sgd_shuffle(ind, seed)
        assert ind.tolist() == ref.sgd_shuffle(np.arange(n), seed).tolist()
        assert sorted(ind.tolist()) == list(range(n))


def _epoch_case(dtype, sparse, seed=0):
    rng = np.random.default_rng(seed)
    n, d = 40, 7
    x = rng.standard_normal((n, d))
    if sparse:
        x[rng.random((n, d)) < 0.5] = 0.0
    y = np.where(rng.random(n) < 0.5, -1.0, 1.0)
    return x.astype(dtype), y.astype(dtype), rng


def _csr(x):
    ptr = np.zeros(len(x) + 1, dtype=np.int64)
    ind, data = [], []
    for i, row in enumerate(x):
        nz = np.flatnonzero(row)
        ind.extend(nz)
        data.extend(row[nz])
        ptr[i + 1] = len(ind)
    return np.array(data, dtype=x.dtype), ptr, np.array(ind, dtype=np.int32)


@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "csr"])
@pytest.mark.parametrize("penalty", ["none", "l2", "l1", "elasticnet"])
def test_sgd_perceptron_epoch_matches_reference(dtype, sparse, penalty):
    x, y, rng = _epoch_case(dtype, sparse)
    n, d = x.shape
    sw = rng.uniform(0.2, 2.0, n).astype(dtype)
    skip = (rng.random(n) < 0.2).astype(np.uint8)
    order = rng.permutation(n).astype(np.int64)
    w0 = (rng.standard_normal(d) * 0.1).astype(dtype)
    pen = {"none": core.PENALTY_NONE, "l1": core.PENALTY_L1, "l2": core.PENALTY_L2,
           "elasticnet": core.PENALTY_ELASTICNET}[penalty]
    cfg = {"penalty": pen, "alpha": 0.05, "l1_ratio": 0.3, "eta": 0.7, "fit_intercept": True,
           "intercept_decay": 1.0, "weight_pos": 1.5, "weight_neg": 0.5, "compute_loss": True}
    w, q = w0.copy(), np.zeros(d, dtype)
    state = np.array([0.2, 1.0, float(w0 @ w0), float(np.abs(w0).sum()), 0.0, 0.0, 0.0])
    if sparse:
        data, ptr, ind = _csr(x)
        seen = core.sgd_perceptron_epoch(w, q, state, data, ptr, ind, y, sw, order, skip, cfg)
    else:
        seen = core.sgd_perceptron_epoch(w, q, state, x.ravel(), None, None, y, sw, order, skip,
                                         cfg)
    w_eff = w * state[1]  # the C side keeps the weight vector as wscale * w
    rw, rb, rq, ru, rloss = ref.sgd_perceptron_epoch(
        w0, 0.2, x, y, sw, order, skip, penalty=penalty, alpha=0.05, l1_ratio=0.3, eta=0.7,
        weight_pos=1.5, weight_neg=0.5, sparse=sparse)
    assert seen == n - skip.sum()
    assert_close(w_eff, rw, dtype, kind="trajectory", what="weights")
    assert_close(state[0], rb, dtype, kind="trajectory", what="intercept")
    assert_close(state[5], rloss, dtype, kind="trajectory", what="loss sum")
    if penalty in ("l1", "elasticnet"):
        assert state[4] == pytest.approx(ru, rel=1e-12)
        assert_close(q, rq, dtype, kind="trajectory", what="applied L1 penalty")


def test_sgd_perceptron_boundary_sample_updates():
    # w = 0, b = 0: y p = 0 is a mistake, so the very first sample updates
    w, q = np.zeros(2), np.zeros(2)
    state = np.array([0.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0])
    cfg = {"penalty": core.PENALTY_NONE, "alpha": 0.0, "l1_ratio": 0.0, "eta": 1.0,
           "fit_intercept": True, "intercept_decay": 1.0, "weight_pos": 1.0, "weight_neg": 1.0,
           "compute_loss": True}
    x = np.array([[1.0, 2.0]])
    core.sgd_perceptron_epoch(w, q, state, x.ravel(), None, None, np.array([-1.0]), None,
                              np.array([0], dtype=np.int64), None, cfg)
    assert w.tolist() == [-1.0, -2.0] and state[0] == -1.0 and state[5] == 0.0


def test_sgd_perceptron_rejects_bad_shapes():
    w, q, state = np.zeros(3), np.zeros(3), np.zeros(7)
    cfg = {"penalty": 0, "alpha": 0.0, "l1_ratio": 0.0, "eta": 1.0, "fit_intercept": True,
           "intercept_decay": 1.0, "weight_pos": 1.0, "weight_neg": 1.0, "compute_loss": True}
    order = np.arange(2, dtype=np.int64)
    with pytest.raises(ValueError, match="dense x"):
        core.sgd_perceptron_epoch(w, q, state, np.zeros(5), None, None, np.ones(2), None, order,
                                  None, cfg)
    with pytest.raises(ValueError, match="row counts"):
        core.sgd_perceptron_epoch(w, q, state, np.zeros(6), None, None, np.ones(2), np.ones(3),
                                  order, None, cfg)
