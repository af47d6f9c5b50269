"""Training and predicting on scipy.sparse CSR input without densifying it.

The kernels of the first layer over CSR rows (csrc/layers/csr.c) against the
reference's densified products; fm_train / fm_forward_net / fm_loss_grad with CSR
input against the plain step on the same rows dense and the reference; fastmlp.MLP
and the scikit-learn drop-ins on CSR against the densified matrix (trajectory
tolerance); the validation of sparse X.
"""
from __future__ import annotations

import warnings

import numpy as np
import pytest

sp = pytest.importorskip("scipy.sparse")

from fastmlp import MLP  # noqa: E402
from fastmlp import _core as core  # noqa: E402
from fastmlp import reference as ref  # noqa: E402
from fastmlp._backend import ACTIVATIONS, LOSSES, OPTIMIZERS, csr_parts, train_steps  # noqa: E402
from fastmlp._validation import NonFiniteError  # noqa: E402
from fastmlp.testing import assert_close, random_targets  # noqa: E402


def _random_csr(rng, n, m, density, dtype, index=np.int32, shuffle_cols=False, dup=False,
                empty_rows=(), empty_cols=()):
    """(data, indices, indptr, m) with unsorted / repeated columns and empty rows/cols."""
    mask = rng.random((n, m)) < density
    mask[list(empty_rows), :] = False
    mask[:, list(empty_cols)] = False
    data, indices, indptr = [], [], [0]
    for r in range(n):
        cols = np.flatnonzero(mask[r])
        if dup and cols.size:
            cols = np.concatenate([cols, rng.choice(cols, size=min(2, cols.size))])
        if shuffle_cols:
            cols = rng.permutation(cols)
        indices.extend(cols)
        data.extend(rng.standard_normal(cols.size))
        indptr.append(len(indices))
    return (np.asarray(data, dtype), np.asarray(indices, index), np.asarray(indptr, index), m)


# ---------------------------------------------------------------------- kernels
@pytest.mark.parametrize("index", [np.int32, np.int64])
@pytest.mark.parametrize("act", ["identity", "relu", "tanh", "softmax"])
@pytest.mark.parametrize("selected", [False, True])
def test_forward_kernel_matches_reference(target, dtype, n_threads, index, act, selected):
    rng = np.random.default_rng(1)
    n, m, out = 37, 70, 19
    x = _random_csr(rng, n, m, 0.1, dtype, index, shuffle_cols=True, dup=True,
                    empty_rows=(0, 5, 36), empty_cols=(3, 69))
    w = rng.standard_normal((m, out)).astype(dtype)
    b = rng.standard_normal(out).astype(dtype)
    sel = rng.permutation(n).astype(np.int64) if selected else None
    lo, N = 4, 25
    rows = sel[lo:lo + N] if selected else np.arange(lo, lo + N)
    got = np.full((N, out), np.nan, dtype)
    core.csr_linear_forward(got, x, sel, lo, w, b, ACTIVATIONS[act], 0.0, n_threads)
    want = ref.linear_forward(ref.csr_rows(*x, rows), w, b, act)
    assert_close(got, want, dtype, what=f"csr forward {act}")


@pytest.mark.parametrize("index", [np.int32, np.int64])
@pytest.mark.parametrize("acc", [False, True])
def test_backward_kernel_matches_reference(target, dtype, n_threads, index, acc):
    rng = np.random.default_rng(2)
    n, m, out = 41, 90, 33  # 33 outputs: a column split that is not whole lines
    x = _random_csr(rng, n, m, 0.08, dtype, index, shuffle_cols=True, dup=True,
                    empty_rows=(2, 40), empty_cols=(0, 7, 89))
    sel = rng.permutation(n).astype(np.int64)
    lo, N = 3, 30
    dz = rng.standard_normal((N, out)).astype(dtype)
    dw0 = rng.standard_normal((m, out)).astype(dtype)
    db0 = rng.standard_normal(out).astype(dtype)
    dw, db = dw0.copy(), db0.copy()
    core.csr_linear_backward(dw, db, dz, x, sel, lo, acc, n_threads)
    xd = ref.csr_rows(*x, sel[lo:lo + N])
    _, rdw, rdb = ref.linear_backward(dz, xd, np.zeros((m, out)))
    if acc:
        rdw, rdb = rdw + dw0, rdb + db0
    assert_close(dw, rdw, dtype, what="csr dW")
    assert_close(db, rdb, dtype, what="csr db")
    if not acc:  # the rows of columns no selected row holds are exactly 0
        assert not dw[[0, 7, 89]].any()


def test_kernels_do_not_depend_on_threads(target, dtype):
    """Rows split for the forward, dW's columns for the backward: bit for bit."""
    rng = np.random.default_rng(3)
    n, m, out = 300, 400, 128
    x = _random_csr(rng, n, m, 0.05, dtype)
    w = rng.standard_normal((m, out)).astype(dtype)
    b = np.zeros(out, dtype)
    dz = rng.standard_normal((n, out)).astype(dtype)
    res = []
    for nt in (1, 2, 3):
        y = np.empty((n, out), dtype)
        core.csr_linear_forward(y, x, None, 0, w, b, ACTIVATIONS["relu"], 0.0, nt)
        dw, db = np.empty((m, out), dtype), np.empty(out, dtype)
        core.csr_linear_backward(dw, db, dz, x, None, 0, False, nt)
        res.append((y, dw, db))
    for other in res[1:]:
        for a, c in zip(res[0], other):
            assert np.array_equal(a, c)


def test_kernel_property_random_patterns():
    """Random shapes and sparsity patterns (hypothesis), float64, forward and backward."""
    hyp = pytest.importorskip("hypothesis")
    st = hyp.strategies

    @hyp.settings(max_examples=40, deadline=None, derandomize=True)
    @hyp.given(n=st.integers(1, 12), m=st.integers(1, 30), out=st.integers(1, 20),
               density=st.floats(0.0, 1.0), seed=st.integers(0, 2**16),
               index=st.sampled_from([np.int32, np.int64]))
    def check(n, m, out, density, seed, index):
        rng = np.random.default_rng(seed)
        x = _random_csr(rng, n, m, density, np.float64, index, shuffle_cols=True,
                        dup=bool(seed % 2))
        w, b = rng.standard_normal((m, out)), rng.standard_normal(out)
        y = np.empty((n, out))
        core.csr_linear_forward(y, x, None, 0, w, b, ACTIVATIONS["identity"], 0.0, 1)
        xd = ref.csr_rows(*x)
        assert_close(y, ref.linear_forward(xd, w, b), np.float64, what="forward")
        dz = rng.standard_normal((n, out))
        dw, db = np.empty((m, out)), np.empty(out)
        core.csr_linear_backward(dw, db, dz, x, None, 0, False, 2)
        assert_close(dw, xd.T @ dz, np.float64, what="dW")
        assert_close(db, dz.sum(0), np.float64, what="db")

    check()


# ---------------------------------------------------------------------- fm_train on CSR
TRAIN_CASES = [
    # sizes, acts, loss, optimizer, batch, cfg extras, dropout
    ([60, 9, 3], ["relu", "softmax"], "cce", {"kind": "sgd", "lr": 0.1}, 1, {}, None),
    ([60, 9, 3], ["tanh", "softmax"], "cce",
     {"kind": "sgd", "lr": 0.05, "momentum": 0.9, "nesterov": True}, 7, {"l2": 0.01}, None),
    ([60, 12, 8, 1], ["relu", "sigmoid", "sigmoid"], "bce", {"kind": "adam", "lr": 0.01}, 5,
     {"l2": 0.1, "l2_batch_scaled": True}, [0.3, 0.2]),
    ([60, 10, 2], ["sigmoid", "identity"], "mse", {"kind": "rmsprop", "lr": 0.01}, 16,
     {"loss_per_output": True, "l1": 0.001}, None),
]


def _train_data(sizes, loss, dtype, seed, n=43, density=0.1):
    rng = np.random.default_rng(seed)
    x = _random_csr(rng, n, sizes[0], density, dtype, empty_rows=(1, 10), empty_cols=(0, 5))
    y = random_targets(rng, loss, n, sizes[-1])
    params = (rng.standard_normal(ref.n_params(sizes)) * 0.3).astype(dtype)
    return rng, x, y.astype(dtype), params


@pytest.mark.parametrize("case", range(len(TRAIN_CASES)))
@pytest.mark.parametrize("shuffled,weighted", [(False, False), (True, True)])
def test_train_on_csr_follows_dense_and_reference(target, dtype, n_threads, case, shuffled,
                                                  weighted):
    """fm_train on CSR rows = the plain step on the same rows dense = the reference, after
    each of several calls (trajectory tolerance); the dense run may take speed paths."""
    sizes, acts, loss, opt, batch, extra, dropout = TRAIN_CASES[case]
    rng, x, y, params = _train_data(sizes, loss, dtype, seed=case)
    xd = ref.csr_rows(*x).astype(dtype)
    xs = sp.csr_matrix((x[0], x[1], x[2]), shape=(len(x[2]) - 1, x[3]))
    n = xd.shape[0]
    order = rng.permutation(n).astype(np.int64) if shuffled else None
    sw = rng.uniform(0.2, 2.0, n).astype(dtype) if weighted else None
    slopes = np.full(len(acts), 0.1)
    cfg = {"loss": loss, "metric": 1 if loss == "cce" else 0, **extra}
    if dropout:
        cfg["seed"] = 7
    ccfg = {**cfg, "loss": LOSSES[loss]}
    sizes_a = np.array(sizes, np.int64)
    acts_a = np.array([ACTIVATIONS[a] for a in acts], np.int32)
    work = np.empty(core.workspace_size(sizes_a, acts_a, slopes, batch), dtype)
    drop = None if dropout is None else np.array(dropout)
    runs = {name: {"params": params.copy(), "s1": np.zeros_like(params),
                   "s2": np.zeros_like(params), "grad": np.empty_like(params)}
            for name in ("csr", "dense")}
    n_batches = -(-n // batch)
    calls = [(0, min(3, n_batches)), (min(3, n_batches) * batch, n_batches - min(3, n_batches))]
    p_r, r1, r2, step = params.astype(np.float64), None, None, 0
    ref_cfg = {**cfg, **({"dropout": dropout} if dropout else {})}
    for start, count in calls:
        if count == 0:
            continue
        stats = {}
        for name, run in runs.items():
            stats[name] = np.zeros(4)
            copt = {**opt, "kind": OPTIMIZERS[opt["kind"]], "step": step}
            done, new_step = train_steps(**run, work=work, stats=stats[name],
                                         net=(sizes_a, acts_a, slopes), opt=copt, cfg=ccfg,
                                         dropout=drop, x=xs if name == "csr" else xd, y=y, sw=sw,
                                         order=order, start=start, n_batches=count, batch=batch,
                                         n_threads=n_threads)
            assert (done, new_step) == (count, step + count)
        p_r, r1, r2, rstats, step = ref.train(p_r, {**opt, "step": step}, sizes, acts, slopes,
                                              ref_cfg, xd, y, sw, order, start, count, batch,
                                              r1, r2)
        for name in runs:
            assert_close(stats[name], rstats, dtype, kind="trajectory", what=f"{name} stats")
            assert_close(runs[name]["params"], p_r, dtype, kind="trajectory",
                         what=f"{name} params")
        assert_close(runs["csr"]["params"], runs["dense"]["params"], dtype, kind="trajectory",
                     what="csr vs dense")


def _wide_net(dtype, n=40, seed=4):
    """A 1500-256-10 ReLU net on n CSR rows at 1% density (and the rows dense)."""
    sizes = [1500, 256, 10]
    rng = np.random.default_rng(seed)
    x = _random_csr(rng, n, sizes[0], 0.01, dtype, shuffle_cols=True, dup=True,
                    empty_rows=(3,))
    xs = sp.csr_matrix((x[0], x[1], x[2]), shape=(n, sizes[0]))
    y = np.eye(10, dtype=dtype)[rng.integers(0, 10, n)]
    params = (rng.standard_normal(ref.n_params(sizes)) * 0.05).astype(dtype)
    net = (np.array(sizes, np.int64), np.array([ACTIVATIONS["relu"], ACTIVATIONS["softmax"]],
                                               np.int32), np.zeros(2))
    return xs, ref.csr_rows(*x).astype(dtype), y, params, net, rng


def _run(params, net, x, y, opt, batch, n_batches, fast=None, cfg=None, order=None, sw=None,
         n_threads=1, dropout=None):
    """Train a copy of params; return (params, path_steps)."""
    p = params.copy()
    path_steps = np.zeros((len(net[0]) - 1, len(core.FAST_PATHS)), np.int64)
    work = np.empty(core.workspace_size(*net, batch), p.dtype)
    cfg = {"loss": LOSSES["cce"], **(cfg or {})}
    done, _ = train_steps(params=p, grad=np.empty_like(p), work=work, stats=np.zeros(4), net=net,
                          opt={**opt, "kind": OPTIMIZERS[opt["kind"]], "step": 0}, cfg=cfg,
                          x=x, y=y, n_batches=n_batches, batch=batch, path_steps=path_steps,
                          fast=fast, order=order, sw=sw, s1=np.zeros_like(p),
                          s2=np.zeros_like(p), n_threads=n_threads, dropout=dropout)
    assert done == n_batches
    return p, path_steps


@pytest.mark.parametrize("extra", [{}, {"opt": {"momentum": 0.9}}, {"cfg": {"l2": 0.01}},
                                   {"opt": {"kind": "adam", "lr": 1e-3}}],
                         ids=["sgd", "momentum", "l2", "adam"])
@pytest.mark.parametrize("batch", [1, 8])
def test_train_on_csr_is_the_plain_step(extra, batch):
    """The plan (csrc/train/plan.c) keeps every step on CSR input the plain one, bit for bit,
    even where the same rows dense take DEFER, AHEAD, SPARSE or FUSED (plain SGD at batch
    1-8 on a wide layer); the two follow each other at the trajectory tolerance."""
    xs, xd, y, params, net, rng = _wide_net(np.float64)
    order = rng.permutation(40).astype(np.int64)
    opt = {"kind": "sgd", "lr": 0.05, **extra.get("opt", {})}
    n_batches = -(-40 // batch)
    kw = dict(cfg=extra.get("cfg"), order=order)
    got, ran = _run(params, net, xs, y, opt, batch, n_batches, **kw)
    plain, _ = _run(params, net, xs, y, opt, batch, n_batches, fast=False, **kw)
    assert not ran.any()
    assert np.array_equal(got, plain)
    dense, ran_dense = _run(params, net, xd, y, opt, batch, n_batches, **kw)
    if not extra:
        assert ran_dense[0].any(), "the dense rows took no speed path: the test shows less"
    assert_close(got, dense, np.float64, kind="trajectory", what="csr vs dense")


def test_forward_net_and_loss_grad_on_csr(dtype, n_threads):
    sizes, acts = [50, 13, 4], ["relu", "softmax"]
    rng, x, y, params = _train_data(sizes, "cce", dtype, seed=9, n=70)
    xs = sp.csr_matrix((x[0], x[1], x[2]), shape=(70, 50))
    xd = ref.csr_rows(*x)
    slopes = np.zeros(2)
    sizes_a = np.array(sizes, np.int64)
    acts_a = np.array([ACTIVATIONS[a] for a in acts], np.int32)
    work = np.empty(core.workspace_size(sizes_a, acts_a, slopes, 16), dtype)
    out = np.empty((70, 4), dtype)
    core.forward_net_csr(out, work, params, sizes_a, acts_a, slopes, csr_parts(xs, dtype), 16,
                         n_threads)  # 70 rows in chunks of 16
    assert_close(out, ref.forward_net(params, sizes, acts, slopes, xd), dtype, what="forward")
    grad = np.empty_like(params)
    cfg = {"loss": "cce", "l2": 0.01}
    L = core.loss_grad_csr(grad, work, params, sizes_a, acts_a, slopes,
                           {**cfg, "loss": LOSSES["cce"]}, csr_parts(xs, dtype), y, None, 16,
                           n_threads)
    rL, rg = ref.loss_grad(params, sizes, acts, slopes, cfg, xd, y)
    assert_close(L, rL, dtype, what="objective")
    assert_close(grad, rg, dtype, what="gradient")


def test_check_finite_on_csr_rows(dtype):
    """cfg check_finite: the batch holding a NaN ends the call before it changes anything."""
    sizes = [30, 5, 2]
    rng, x, y, params = _train_data(sizes, "cce", dtype, seed=11, n=20, density=0.3)
    data = x[0].copy()
    bad_row = 13
    data[x[2][bad_row]] = np.nan  # row 13 holds a value (empty rows are 1 and 10)
    xs = sp.csr_matrix((data, x[1], x[2]), shape=(20, 30))
    sizes_a = np.array(sizes, np.int64)
    acts_a = np.array([ACTIVATIONS["relu"], ACTIVATIONS["softmax"]], np.int32)
    work = np.empty(core.workspace_size(sizes_a, acts_a, np.zeros(2), 4), dtype)
    p = params.copy()
    done, step = train_steps(params=p, grad=np.empty_like(p), work=work, stats=np.zeros(4),
                             net=(sizes_a, acts_a, np.zeros(2)),
                             opt={"kind": OPTIMIZERS["sgd"], "lr": 0.1, "step": 0},
                             cfg={"loss": LOSSES["cce"], "check_finite": True}, x=xs, y=y,
                             n_batches=5, batch=4)
    assert done == -(bad_row // 4 + 1) and step == bad_row // 4
    assert np.isfinite(p).all()


# ---------------------------------------------------------------------- fastmlp.MLP
def _problem(n=300, m=400, density=0.02, classes=3, seed=0, dtype=np.float64):
    rng = np.random.default_rng(seed)
    X = sp.random(n, m, density=density, format="csr", random_state=seed, dtype=dtype)
    w = rng.standard_normal((m, classes))
    y = np.asarray(X @ w).argmax(1)
    return X, y


@pytest.mark.parametrize("optimizer,batch", [("adam", 32), ("sgd", 1), ("sgd", 16)])
def test_mlp_fit_on_csr_follows_dense(optimizer, batch):
    X, y = _problem(n=120)
    nets = []
    for Xin in (X, X.toarray()):
        net = MLP(hidden=[16], seed=3, dtype=np.float64, n_threads=1)
        net.fit(Xin, y, epochs=3, batch_size=batch, optimizer=optimizer, verbose=0,
                validation_split=0.2)
        nets.append(net)
    csr, dense = nets
    for a, b in zip(csr.coefs_ + csr.intercepts_, dense.coefs_ + dense.intercepts_):
        assert_close(a, b, np.float64, kind="trajectory", what="weights")
    for k in ("loss", "val_loss", "accuracy"):
        assert_close(csr.history_[k], dense.history_[k], np.float64, kind="trajectory", what=k)
    np.testing.assert_array_equal(csr.predict(X), dense.predict(X.toarray()))
    np.testing.assert_array_equal(csr.predict(X), csr.predict(X.toarray()))
    assert_close(csr.predict_proba(X), csr.predict_proba(X.toarray()), np.float64,
                 what="predict_proba")
    assert csr.score(X, y) == csr.score(X.toarray(), y)
    ev_s, ev_d = csr.evaluate(X, y), csr.evaluate(X.toarray(), y)
    assert_close(ev_s["loss"], ev_d["loss"], np.float64, what="evaluate")


@pytest.mark.parametrize("kw,fit_kw", [({"norm": "batch"}, {}), ({"norm": "layer"}, {}),
                                       ({}, {"optimizer": "lbfgs"})],
                         ids=["batch_norm", "layer_norm", "lbfgs"])
def test_mlp_norm_layers_and_lbfgs_on_csr(kw, fit_kw):
    """Normalisation above a CSR first layer, and MLP's full-batch L-BFGS on CSR."""
    X, y = _problem(n=150, m=200, density=0.05, seed=6)
    fits = [MLP(hidden=[12], seed=0, dtype=np.float64, n_threads=1, **kw).fit(
        Xin, y, epochs=3, verbose=0, **fit_kw) for Xin in (X, X.toarray())]
    for a, b in zip(fits[0].coefs_, fits[1].coefs_):
        assert_close(a, b, np.float64, kind="trajectory", what="weights")
    assert_close(fits[0].predict_proba(X), fits[1].predict_proba(X.toarray()), np.float64,
                 kind="trajectory", what="predict_proba")


def test_mlp_float32_and_other_formats():
    X, y = _problem(n=100, dtype=np.float32, seed=1)
    ref_net = MLP(hidden=[8], seed=0, n_threads=1).fit(X.toarray(), y, epochs=2, verbose=0)
    for fmt in ("csr", "csc", "coo"):
        net = MLP(hidden=[8], seed=0, n_threads=1).fit(X.asformat(fmt), y, epochs=2, verbose=0)
        for a, b in zip(net.coefs_, ref_net.coefs_):
            assert_close(a, b, np.float32, kind="trajectory", what=fmt)
        assert net.forward(X.asformat(fmt)).dtype == np.float32


def test_mlp_regression_validation_data_and_int64_indices():
    rng = np.random.default_rng(2)
    X = sp.random(150, 200, density=0.05, format="csr", random_state=2)
    X.indices, X.indptr = X.indices.astype(np.int64), X.indptr.astype(np.int64)
    y = np.asarray(X @ rng.standard_normal(200))
    Xv, yv = X[:30], y[:30]
    fits = []
    for a, b in ((X, Xv), (X.toarray(), Xv.toarray())):
        net = MLP(hidden=[10], seed=1, dtype=np.float64, n_threads=2)
        net.fit(a, y, epochs=2, validation_data=(b, yv), verbose=0)
        fits.append(net)
    assert_close(fits[0].history_["val_mse"], fits[1].history_["val_mse"], np.float64,
                 kind="trajectory", what="val_mse")
    assert_close(fits[0].score(X, y), fits[1].score(X.toarray(), y), np.float64,
                 kind="trajectory", what="r2")


def test_mlp_sparse_input_is_validated():
    X, y = _problem(n=50, m=20, density=0.2)
    net = MLP(hidden=[4], seed=0).fit(X, y, epochs=1, verbose=0)
    bad = X.copy()
    bad.data[3] = np.inf
    with pytest.raises(NonFiniteError, match="X contains infinity"):
        MLP(hidden=[4], seed=0).fit(bad, y, epochs=1, verbose=0)
    with pytest.raises(NonFiniteError, match="X contains infinity"):
        net.predict(bad)
    with pytest.raises(ValueError, match="X has 21 features, but the model expects 20"):
        net.predict(sp.random(5, 21, density=0.3, format="csr"))
    idx = X.indices.copy()
    idx[0] = 20  # outside [0, 20): scipy's constructor does not look at the values
    out_of_range = sp.csr_matrix((X.data, idx, X.indptr), shape=X.shape)
    with pytest.raises(ValueError, match="X is not a valid sparse matrix"):
        net.predict(out_of_range)
    with pytest.raises(ValueError, match="input_noise needs a dense X"):
        MLP(hidden=[4], input_noise=0.1).fit(X, y, epochs=1, verbose=0)
    with pytest.raises(ValueError, match="compute_dtype='bfloat16' needs a dense X"):
        MLP(hidden=[4], compute_dtype="bfloat16").fit(X, y, epochs=1, verbose=0)
    before = net._params.copy()
    with pytest.raises(NonFiniteError):
        net.fit(bad, y, epochs=1, verbose=0)
    assert np.array_equal(net._params, before)  # a failed call leaves the model as it was


def test_mlp_duplicates_and_unsorted_columns_add_up():
    """Repeated columns in a row add up (scipy's convention), in any order."""
    rng = np.random.default_rng(5)
    X, y = _problem(n=60, m=30, density=0.2, seed=5)
    data, idx, ptr = [], [], [0]
    for r in range(60):  # each value split in two repeated entries, the row shuffled
        lo, hi = X.indptr[r], X.indptr[r + 1]
        cols = np.concatenate([X.indices[lo:hi], X.indices[lo:hi]])
        vals = np.concatenate([X.data[lo:hi] * 0.25, X.data[lo:hi] * 0.75])
        perm = rng.permutation(cols.size)
        idx.extend(cols[perm]), data.extend(vals[perm]), ptr.append(len(idx))
    messy = sp.csr_matrix((np.array(data), np.array(idx, np.int32), np.array(ptr, np.int32)),
                          shape=X.shape)
    net = MLP(hidden=[6], seed=0, dtype=np.float64).fit(X, y, epochs=1, verbose=0)
    assert_close(net.forward(messy), net.forward(X), np.float64, what="messy CSR")


# ---------------------------------------------------------------------- drop-ins
def _dropins():
    pytest.importorskip("sklearn")
    from fastmlp.sklearn import MLPClassifier, MLPRegressor

    return MLPClassifier, MLPRegressor


@pytest.mark.parametrize("solver", ["adam", "sgd", "lbfgs"])
def test_dropin_classifier_on_csr_follows_dense(solver):
    MLPClassifier, _ = _dropins()
    X, y = _problem(n=160, seed=3)
    fits = []
    for Xin in (X, X.toarray()):
        m = MLPClassifier((12,), solver=solver, max_iter=5, random_state=0, n_threads=1,
                          early_stopping=solver != "lbfgs")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            m.fit(Xin, y)
        fits.append(m)
    for a, b in zip(fits[0].coefs_ + fits[0].intercepts_, fits[1].coefs_ + fits[1].intercepts_):
        assert_close(a, b, np.float64, kind="trajectory", what=solver)
    np.testing.assert_array_equal(fits[0].predict(X), fits[1].predict(X.toarray()))
    assert_close(fits[0].predict_proba(X), fits[0].predict_proba(X.toarray()), np.float64,
                 what="predict_proba")


def test_dropin_partial_fit_on_csr_follows_dense():
    _, MLPRegressor = _dropins()
    rng = np.random.default_rng(4)
    X = sp.random(200, 300, density=0.03, format="csr", random_state=4)
    y = np.asarray(X @ rng.standard_normal((300, 2)))
    fits = []
    for Xin in (X, X.toarray()):
        m = MLPRegressor(hidden_layer_sizes=(8,), random_state=0, batch_size=16, n_threads=2)
        for lo in range(0, 200, 50):
            m.partial_fit(Xin[lo:lo + 50], y[lo:lo + 50])
        fits.append(m)
    for a, b in zip(fits[0].coefs_, fits[1].coefs_):
        assert_close(a, b, np.float64, kind="trajectory", what="partial_fit")
    assert_close(fits[0].predict(X), fits[1].predict(X.toarray()), np.float64,
                 kind="trajectory", what="predict")
