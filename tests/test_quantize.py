"""int8 and bfloat16 inference: the int8 kernels on every path against
fastmlp.reference (integers bit for bit), QuantizedMLP against the reference
forward, files, the drop-ins, and the accuracy bar on MNIST."""
from __future__ import annotations

import numpy as np
import pytest

import fastmlp
import fastmlp.datasets
from fastmlp import _core as core
from fastmlp import reference as ref
from fastmlp.quantize import QuantizedMLP, bf16_round, bf16_to_f32, quantize_weights
from fastmlp.testing import assert_close

PATHS = core.qgemm_paths()
ACT = {"identity": core.ACT_IDENTITY, "relu": core.ACT_RELU, "leaky_relu": core.ACT_LEAKY_RELU,
       "sigmoid": core.ACT_SIGMOID, "tanh": core.ACT_TANH}
# m: 1, MR-1, MR, MR+1 of every path (4, 8), more; n: partial and whole panels of 32
SHAPES = [(1, 1, 1), (3, 5, 3), (4, 16, 4), (7, 17, 5), (8, 32, 63), (9, 33, 130),
          (33, 70, 257), (130, 64, 777), (5, 100, 2048)]


def _operands(m, n, k, seed=0):
    rng = np.random.default_rng(seed + 7 * m + 11 * n + 13 * k)
    q = np.zeros((m, (k + 3) // 4 * 4 + 4), np.uint8)  # a row stride past the padding
    q[:, :k] = rng.integers(0, 256, (m, k))
    w = rng.integers(-128, 128, (k, n)).astype(np.int8)  # -128 too: the kernels take any int8
    w[0, :] = -128  # extremes in every column
    zp = rng.integers(0, 256, m).astype(np.int32)
    xs = rng.uniform(1e-3, 1e-1, m).astype(np.float32)
    ws = rng.uniform(1e-3, 1e-1, n).astype(np.float32)
    b = rng.normal(size=n).astype(np.float32)
    wp = np.empty(core.qpack_size(k, n), np.int8)
    cs = np.empty(n, np.int32)
    core.qpack(wp, cs, w)
    return q, w, wp, cs, zp, xs, ws, b


def _run(path, q, wp, cs, zp, xs, ws, b, k, n, act="identity", ints=False, threads=1, slope=0.1):
    m = q.shape[0]
    c = np.full((m, n), np.nan, np.float32)
    acc = np.full((m, n), -7, np.int32) if ints else None
    core.qgemm(c, q, k, wp, zp, xs, cs, ws, b, ACT[act], slope, acc, threads, path)
    return acc if ints else c


def test_every_path_is_offered():
    assert {"generic", "ref"} <= set(PATHS)
    if "avx512" in fastmlp.available_targets():
        assert "avx2" in PATHS


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("m,n,k", SHAPES)
def test_qgemm_integers_equal_the_reference_on_every_path(path, m, n, k, n_threads):
    q, w, wp, cs, zp, xs, ws, b = _operands(m, n, k)
    want = ref.qgemm_int(q[:, :k], zp, w)
    got = _run(path, q, wp, cs, zp, xs, ws, b, k, n, ints=True, threads=n_threads)
    np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("act", ["identity", "relu", "leaky_relu"])
def test_qgemm_epilogue_is_the_reference_op_by_op(path, act):
    m, n, k = 37, 45, 300
    q, w, wp, cs, zp, xs, ws, b = _operands(m, n, k, seed=1)
    want = ref.qlinear_forward(q[:, :k], xs, zp, w, ws, b, act, 0.1)
    got = _run(path, q, wp, cs, zp, xs, ws, b, k, n, act)
    np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("act", ["sigmoid", "tanh"])
def test_qgemm_other_activations_after_the_epilogue(target, act):
    m, n, k = 19, 40, 90
    q, w, wp, cs, zp, xs, ws, b = _operands(m, n, k, seed=2)
    want = ref.qlinear_forward(q[:, :k], xs, zp, w, ws, b, act)
    assert_close(_run("", q, wp, cs, zp, xs, ws, b, k, n, act), want, np.float32,
                 kind="quantized", what=act)


def test_qgemm_worst_case_sums_are_exact():
    """k = 65536 (the limit) of 255 x -128: -2^31 + 2^23 ... still within int32."""
    k, n = core.Q_MAX_K, 3
    q = np.full((2, k), 255, np.uint8)
    w = np.full((k, n), -128, np.int8)
    w[:, 1] = 127
    wp = np.empty(core.qpack_size(k, n), np.int8)
    cs = np.empty(n, np.int32)
    core.qpack(wp, cs, w)
    zp = np.zeros(2, np.int32)
    one = np.ones(2, np.float32)
    want = ref.qgemm_int(q, zp, w)
    assert want.min() >= -2**31 and want.max() < 2**31
    for path in PATHS:
        got = _run(path, q, wp, cs, zp, one, np.ones(n, np.float32), np.zeros(n, np.float32),
                   k, n, ints=True)
        np.testing.assert_array_equal(got, want, err_msg=path)


def test_table_entry_follows_the_target(target):
    q, w, wp, cs, zp, xs, ws, b = _operands(21, 50, 77, seed=3)
    got = _run("", q, wp, cs, zp, xs, ws, b, 77, 50, ints=True, threads=2)
    np.testing.assert_array_equal(got, ref.qgemm_int(q[:, :77], zp, w))


@pytest.mark.parametrize("static", [0.0, 0.02])
def test_quantize_rows_equals_the_reference(target, static, n_threads):
    rng = np.random.default_rng(4)
    x = (rng.normal(size=(300, 131)) * rng.uniform(0.01, 10, (300, 1))).astype(np.float32)
    x[0] = 0.0                          # an all-zero row
    x[1] = np.abs(x[1])                 # ReLU-like: zero point 0
    x[2, :] = -np.abs(x[2])             # all negative: zero point 255
    x[3, ::2] = 0.5                     # ties of the rounding
    x[4] = 1e30                         # huge, static clamps them
    q = np.full((300, 132), 99, np.uint8)
    s = np.empty(300, np.float32)
    z = np.empty(300, np.int32)
    core.quantize_rows(q, s, z, x, static, 3 if static else 0, n_threads)
    rq, rs, rz = ref.quantize_rows_u8(x, static, 3 if static else 0)
    np.testing.assert_array_equal(q[:, :131], rq)
    assert (q[:, 131] == 0).all()       # the padding to a multiple of 4
    np.testing.assert_array_equal(s, rs)
    np.testing.assert_array_equal(z, rz)
    if not static:
        assert z[1] == 0 and z[2] == 255 and s[0] == 1 and (q[0] == 0).all()


# ---------------------------------------------------------------------------- the model
def _net(layers=(30, 33, 17, 4), act="relu", seed=0, fit=True):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(400, layers[0])).astype(np.float32)
    y = rng.integers(0, layers[-1], 400)
    net = fastmlp.MLP(list(layers), activation=act, seed=seed, n_threads=2)
    if fit:
        net.fit(X, y, epochs=3, verbose=0)
    return net, X, y


def _ref_layers(qm):
    return [{"w_q": w, "wscale": s, "bias": b, "act": a, "slope": qm.leaky_slope,
             **({"xscale": qm.input_scales_[l], "xzp": qm.input_zero_points_[l]}
                if qm.calibration == "static" else {})}
            for l, (w, s, b, a) in enumerate(zip(qm.qcoefs_, qm.coef_scales_, qm.intercepts_,
                                                 qm.activations + ["identity"]))]


@pytest.mark.parametrize("calibrate", [False, True])
def test_quantized_mlp_equals_the_reference_forward(target, calibrate):
    net, X, y = _net()
    qm = net.quantize("int8", X_calibration=X[:100] if calibrate else None)
    assert qm.calibration == ("static" if calibrate else "dynamic")
    Xt = X[::3] * 1.5  # beyond the calibration range too
    logits = ref.qforward_net(_ref_layers(qm), Xt)
    np.testing.assert_array_equal(qm._logits(np.ascontiguousarray(Xt)), logits)
    assert_close(qm.predict_proba(Xt), ref.act_forward(logits, "softmax"), np.float32,
                 kind="quantized", what="probabilities")


def test_quantized_mlp_on_a_team_of_threads(target):
    """Rows in several blocks, products big enough to be split over 2 threads: the same
    integers as the reference."""
    rng = np.random.default_rng(9)
    net = fastmlp.MLP([200, 256, 96, 7], seed=3, n_threads=2, loss="cce")
    X = rng.normal(size=(700, 200)).astype(np.float32)
    qm = net.quantize("int8")
    np.testing.assert_array_equal(qm._logits(X), ref.qforward_net(_ref_layers(qm), X))


def test_quantized_predictions_follow_the_float_model():
    net, X, y = _net((30, 64, 64, 4), seed=1)
    qm = net.quantize("int8")
    assert (qm.predict(X) == net.predict(X)).mean() >= 0.97
    assert abs(qm.score(X, y) - net.score(X, y)) <= 0.03
    p, pf = qm.predict_proba(X), net.predict_proba(X)
    assert p.shape == pf.shape and np.allclose(p.sum(axis=1), 1, atol=1e-5)
    assert np.abs(p - pf).max() < 0.1


def test_weights_are_symmetric_per_output_channel():
    w = np.array([[0.5, -2.0, 0.0], [-1.0, 1.0, 0.0]], np.float32)
    q, s = quantize_weights(w)
    np.testing.assert_allclose(s, [1 / 127, 2 / 127, 1.0], rtol=1e-7)
    np.testing.assert_array_equal(q, [[64, -127, 0], [-127, 64, 0]])
    assert q.dtype == np.int8 and s.dtype == np.float32


def test_quantize_validates_its_arguments():
    net, X, _ = _net(fit=False)
    with pytest.raises(fastmlp.NotFittedError):
        net.quantize()
    net, X, _ = _net()
    with pytest.raises(ValueError, match="precision"):
        net.quantize("int4")
    with pytest.raises(ValueError, match="X_calibration"):
        net.quantize("bfloat16", X_calibration=X)
    with pytest.raises(ValueError, match="X_calibration"):
        net.quantize("int8", X_calibration=X[:, :5])
    qm = net.quantize()
    with pytest.raises(ValueError, match="X"):
        qm.predict(X[:, :5])
    with pytest.raises(ValueError):
        qm.predict(np.full_like(X, np.nan))


def test_regression_and_binary_models():
    rng = np.random.default_rng(5)
    X = rng.normal(size=(300, 8)).astype(np.float32)
    yr = X[:, :2].sum(axis=1)
    reg = fastmlp.MLP([8, 32, 1], seed=0, n_threads=1).fit(X, yr, epochs=30, verbose=0)
    qr = reg.quantize()
    assert qr.predict(X).shape == (300,)
    assert abs(qr.score(X, yr) - reg.score(X, yr)) < 0.02
    yb = np.where(yr > 0, "yes", "no")
    clf = fastmlp.MLP([8, 16, 1], loss="bce", seed=0, n_threads=1).fit(X, yb, epochs=20,
                                                                        verbose=0)
    qb = clf.quantize()
    assert qb.predict_proba(X).shape == (300, 2)
    assert (qb.predict(X) == clf.predict(X)).mean() > 0.95


def test_batch_norm_is_folded_and_layer_norm_refused():
    rng = np.random.default_rng(8)
    X = (rng.normal(size=(400, 12)) * 3 + 1).astype(np.float32)
    y = (X[:, 0] + X[:, 1] > 2).astype(int) + (X[:, 2] > 1)
    net = fastmlp.MLP([12, 32, 16, 3], norm="batch", seed=0, n_threads=1)
    net.fit(X, y, epochs=15, verbose=0)
    for precision in ("int8", "bfloat16"):
        q = net.quantize(precision)
        assert (q.predict(X) == net.predict(X)).mean() >= 0.97, precision
        assert np.abs(q.predict_proba(X) - net.predict_proba(X)).max() < 0.1, precision
    ln = fastmlp.MLP([12, 32, 3], norm="layer", seed=0, n_threads=1).fit(X, y, epochs=2,
                                                                         verbose=0)
    with pytest.raises(ValueError, match="layer normalisation"):
        ln.quantize()


# ---------------------------------------------------------------------------- bfloat16
def test_bf16_rounding_is_nearest_even():
    x = np.array([1.0, 1 + 2**-8, 1 + 3 * 2**-8, 1 + 2**-8 + 2**-20, -2.5, 3e38, np.inf],
                 np.float32)
    got = bf16_to_f32(bf16_round(x))
    np.testing.assert_array_equal(got[:5], np.array([1.0, 1.0, 1 + 4 * 2**-8, 1 + 2**-7, -2.5],
                                                    np.float32))
    assert np.isfinite(got[5]) and abs(got[5] / np.float32(3e38) - 1) < 2**-8
    assert got[6] == np.inf and np.isnan(bf16_to_f32(bf16_round(np.float32("nan"))))


def test_bfloat16_model_equals_its_emulation():
    net, X, y = _net()
    qm = net.quantize("bfloat16")
    assert qm.precision == "bfloat16" and qm.qcoefs_[0].dtype == np.uint16
    h = X.astype(np.float64)
    for l, (w, b) in enumerate(zip(net.coefs_, net.intercepts_)):
        hb = bf16_to_f32(bf16_round(h.astype(np.float32))).astype(np.float64)
        wb = bf16_to_f32(bf16_round(w)).astype(np.float64)
        h = hb @ wb + b
        if l + 1 < len(net.coefs_):
            h = np.maximum(h, 0)
    assert_close(qm._logits(np.ascontiguousarray(X)), h, np.float32, kind="bf16_inference")
    assert (qm.predict(X) == net.predict(X)).mean() >= 0.97


# ---------------------------------------------------------------------------- files
@pytest.mark.parametrize("precision,calibrate", [("int8", False), ("int8", True),
                                                 ("bfloat16", False)])
def test_save_load_round_trip(tmp_path, precision, calibrate):
    net, X, y = _net()
    qm = net.quantize(precision, X_calibration=X if calibrate else None)
    path = qm.save(tmp_path / "q")
    assert path.endswith(".npz")
    for back in (QuantizedMLP.load(path), fastmlp.load(path, n_threads=1)):
        assert isinstance(back, QuantizedMLP) and repr(back) == repr(qm)
        np.testing.assert_array_equal(back.predict_proba(X), qm.predict_proba(X))
        np.testing.assert_array_equal(back.classes_, qm.classes_)
    with pytest.raises(fastmlp.ModelFileError, match="not a QuantizedMLP"):
        QuantizedMLP.load(net.save(tmp_path / "float"))


def test_damaged_files_raise_model_file_error(tmp_path):
    import zipfile

    net, X, y = _net()
    qm = net.quantize("int8", X_calibration=X)
    good = qm.save(tmp_path / "q.npz")
    with open(good, "rb") as f:
        raw = f.read()
    with open(tmp_path / "trunc.npz", "wb") as f:
        f.write(raw[: len(raw) // 2])
    with pytest.raises(fastmlp.ModelFileError):
        fastmlp.load(tmp_path / "trunc.npz")
    flipped = bytearray(raw)
    flipped[len(raw) // 3] ^= 0xFF
    with open(tmp_path / "flip.npz", "wb") as f:
        f.write(bytes(flipped))
    with pytest.raises(fastmlp.ModelFileError):
        fastmlp.load(tmp_path / "flip.npz")
    with zipfile.ZipFile(good) as z:
        members = {n[:-4]: np.load(z.open(n)) for n in z.namelist()}
    cases = {"w0": members["w0"].astype(np.int16), "ws1": -members["ws1"],
             "b0": np.full_like(members["b0"], np.nan), "xq": members["xq"][:1],
             "config": np.array('{"precision": "int8"}'), "surprise": np.zeros(2)}
    for key, value in cases.items():
        bad = dict(members, **{key: value})
        p = tmp_path / f"bad_{key}.npz"
        np.savez(p, **bad)
        with pytest.raises(fastmlp.ModelFileError):
            fastmlp.load(p)
    del members["ws0"]
    np.savez(tmp_path / "missing.npz", **members)
    with pytest.raises(fastmlp.ModelFileError, match="ws0"):
        fastmlp.load(tmp_path / "missing.npz")


def test_mlp_files_still_refuse_extra_members(tmp_path):
    import zipfile

    net, X, y = _net()
    good = net.save(tmp_path / "m.npz")
    with zipfile.ZipFile(good) as z:
        members = {n[:-4]: np.load(z.open(n)) for n in z.namelist()}
    limit = len(fastmlp.io._REQUIRED) + len(fastmlp.io._OPTIONAL)
    extra = {f"surprise{i}": np.zeros(2) for i in range(limit + 1 - len(members))}
    np.savez(tmp_path / "extra.npz", **members, **extra)
    with pytest.raises(fastmlp.ModelFileError, match=f"more than the {limit} expected"):
        fastmlp.load(tmp_path / "extra.npz")


# ---------------------------------------------------------------------------- drop-ins
@pytest.mark.parametrize("kind", ["classifier", "regressor"])
def test_dropins_quantize(kind):
    pytest.importorskip("sklearn")
    from fastmlp.sklearn import MLPClassifier, MLPRegressor

    import warnings

    rng = np.random.default_rng(6)
    X = rng.normal(size=(300, 10))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # not converged in 60 iterations: not the point here
        if kind == "classifier":
            y = np.array(["a", "b", "c"])[(X[:, 0] > 0).astype(int) + (X[:, 1] > 0)]
            est = MLPClassifier((32,), max_iter=60, random_state=0).fit(X, y)
        else:
            y = X[:, 0] - X[:, 1]
            est = MLPRegressor(hidden_layer_sizes=(32,), max_iter=60, random_state=0).fit(X, y)
    qm = est.quantize("int8")
    pred, want = qm.predict(X), est.predict(X)
    if kind == "classifier":
        assert (pred == want).mean() >= 0.97
        np.testing.assert_allclose(qm.predict_proba(X), est.predict_proba(X), atol=0.05)
    else:
        np.testing.assert_allclose(pred, want, atol=0.05 * np.abs(want).max())
    assert isinstance(est.quantize("bfloat16"), QuantizedMLP)


# ---------------------------------------------------------------------------- peak probe
def test_int8_peak_probe_counts_its_work():
    sums = np.zeros(2)
    ops = core.peak_i8_run(sums, 1000, 1)
    if ops < 0:
        pytest.skip("no AVX512_VNNI here")
    assert ops == 2 * 64 * 16 * 1000
    assert sums[0] == 16 * 16 * 4 * 1000  # 16 chains x 16 lanes, +4 per round


# ---------------------------------------------------------------------------- accuracy bar
def test_mnist_accuracy_bar(shared_data):
    """The 784-16-16-10 demo net, briefly trained: int8 (dynamic and calibrated) and
    bfloat16 test accuracy within 0.1 points of float32, >= 99.5% predictions unchanged."""
    Xtr, ytr = fastmlp.datasets.load_mnist(shared_data, "train", as_float=True)
    Xte, yte = fastmlp.datasets.load_mnist(shared_data, "test", as_float=True)
    net = fastmlp.MLP([784, 16, 16, 10], activation="relu", loss="cce", seed=0, init="auto")
    net.fit(Xtr, ytr, epochs=2, batch_size=32, learning_rate=0.01, optimizer="sgd",
            momentum=0.9, verbose=0)
    base = net.predict(Xte)
    acc = float(np.mean(base == yte))
    assert acc > 0.9
    for qm in (net.quantize("int8"), net.quantize("int8", X_calibration=Xtr[:2000]),
               net.quantize("bfloat16")):
        pred = qm.predict(Xte)
        assert abs(float(np.mean(pred == yte)) - acc) <= 0.001, repr(qm)
        assert float(np.mean(pred == base)) >= 0.995, repr(qm)
