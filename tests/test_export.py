"""Export to ONNX and to one C file: what the exported network computes is what
predict_proba / predict compute (fastmlp.testing's EXPORT_* tolerances)."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys

import numpy as np
import pytest

import fastmlp
from fastmlp import MLP
from fastmlp.export import export_c, inference_steps, to_onnx
from fastmlp.testing import EXPORT_F64_RTOL, EXPORT_RTOL, require_peer

HIDDEN_ACTS = ["relu", "tanh", "sigmoid", "leaky_relu", "identity", "gelu", "gelu_tanh", "silu",
               "elu", "selu", "softplus"]


def _data(n=120, d=7, k=3, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d)).astype(np.float32)
    y = (X[:, 0] > 0).astype(int) + (X[:, 1] > 0.5).astype(int)
    return X, y[:n] % k


def _fitted(act="relu", dtype=np.float32, labels=None, k=3, loss="auto", seed=1):
    X, y = _data(k=k)
    if labels is not None:
        y = np.asarray(labels)[y]
    net = MLP(hidden=[9, 6], activation=act, dtype=dtype, seed=seed, loss=loss)
    net.fit(X, y, epochs=3, batch_size=16, verbose=0)
    return net, X


def _rtol(net):
    return EXPORT_F64_RTOL if np.dtype(net.dtype) == np.float64 else EXPORT_RTOL


def _close(actual, desired, rtol):
    desired = np.asarray(desired, dtype=np.float64)
    np.testing.assert_allclose(actual, desired, rtol=rtol, atol=rtol * np.abs(desired).max())


# ---------------------------------------------------------------- the steps
def test_steps_list_the_layers():
    net, _ = _fitted()
    steps = inference_steps(net)
    kinds = [(s.kind, s.name) for s in steps.steps]
    assert kinds == [("dense", ""), ("act", "relu"), ("dense", ""), ("act", "relu"),
                     ("dense", ""), ("act", "softmax")]
    assert steps.classifier and steps.n_in == 7 and steps.n_out == 3


def test_steps_reject_what_they_cannot_export():
    with pytest.raises(TypeError, match="model"):
        inference_steps(object())
    with pytest.raises(fastmlp.NotFittedError):
        inference_steps(MLP([4, 3, 2]))


# ---------------------------------------------------------------- ONNX
@pytest.fixture(scope="module")
def ort():
    require_peer("onnx", "ONNX export builds its graph with the onnx package")
    return require_peer("onnxruntime", "the exported graph is run in onnxruntime")


def _exported(model, path):
    to_onnx(model, path)
    return path


def _run_onnx(ort, path, X):
    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    names = [o.name for o in sess.get_outputs()]
    return dict(zip(names, sess.run(None, {"X": X.astype(np.float32)})))


@pytest.mark.parametrize("act", HIDDEN_ACTS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_onnx_matches_predict_proba(ort, tmp_path, act, dtype):
    net, X = _fitted(act, dtype)
    path = tmp_path / "m.onnx"
    proto = to_onnx(net, path)
    assert path.exists() and proto.graph.input[0].name == "X"
    out = _run_onnx(ort, path, X)
    _close(out["probabilities"], net.predict_proba(X), _rtol(net))
    np.testing.assert_array_equal(out["label"], net.predict(X))


def test_onnx_string_labels_and_binary(ort, tmp_path):
    net, X = _fitted(labels=np.array(["cat", "dog"]), k=2)
    out = _run_onnx(ort, _exported(net, tmp_path / "s.onnx"), X)
    _close(out["probabilities"], net.predict_proba(X), EXPORT_RTOL)
    np.testing.assert_array_equal(out["label"].astype(str), net.predict(X))
    one, X1 = _fitted(k=2, loss="bce")  # one sigmoid output: probabilities [1 - p, p]
    assert one.layers[-1] == 1
    out = _run_onnx(ort, _exported(one, tmp_path / "b.onnx"), X1)
    _close(out["probabilities"], one.predict_proba(X1), EXPORT_RTOL)
    np.testing.assert_array_equal(out["label"], one.predict(X1))


def test_onnx_regressor(ort, tmp_path):
    X, _ = _data()
    Y = np.stack([X[:, 0] * 2 - X[:, 1], np.sin(X[:, 2])], axis=1)
    net = MLP(hidden=[8], activation="tanh", seed=0).fit(X, Y, epochs=3, verbose=0)
    out = _run_onnx(ort, _exported(net, tmp_path / "r.onnx"), X)
    _close(out["output"], net.predict(X), EXPORT_RTOL)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_onnx_sklearn_dropins(ort, tmp_path):
    pytest.importorskip("sklearn", reason="the drop-ins need scikit-learn")
    from fastmlp.sklearn import MLPClassifier, MLPRegressor

    X, y = _data()
    clf = MLPClassifier(hidden_layer_sizes=(8,), max_iter=20, random_state=0).fit(X, y)
    out = _run_onnx(ort, _exported(clf, tmp_path / "c.onnx"), X)
    _close(out["probabilities"], clf.predict_proba(X), EXPORT_F64_RTOL)
    np.testing.assert_array_equal(out["label"], clf.predict(X))
    reg = MLPRegressor(hidden_layer_sizes=(8,), max_iter=20, random_state=0).fit(X, X[:, 0])
    out = _run_onnx(ort, _exported(reg, tmp_path / "g.onnx"), X)
    _close(out["output"][:, 0], reg.predict(X), EXPORT_F64_RTOL)


def test_onnx_bad_arguments(ort):
    net, _ = _fitted()
    with pytest.raises(ValueError, match="opset"):
        to_onnx(net, opset=11)


# ---------------------------------------------------------------- C
_MAIN = r"""
#include <stdio.h>
#include <stdlib.h>
#include "model.h"
/* argv: rows, X file (float32), proba file out, labels file out */
int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 0;
    float *X = malloc(sizeof(float) * n * MODEL_N_FEATURES);
    FILE *f = fopen(argv[2], "rb");
    if (fread(X, sizeof(float), n * MODEL_N_FEATURES, f) != (size_t)(n * MODEL_N_FEATURES))
        return 10;
    fclose(f);
#ifdef MODEL_N_CLASSES
    float *P = malloc(sizeof(float) * n * MODEL_N_CLASSES);
    long *L = malloc(sizeof(long) * n);
    int rc = model_predict_proba(X, n, P);
    if (rc) return 20 + rc;
    rc = model_predict(X, n, L);
    if (rc) return 30 + rc;
    f = fopen(argv[3], "wb"); fwrite(P, sizeof(float), n * MODEL_N_CLASSES, f); fclose(f);
    f = fopen(argv[4], "wb"); fwrite(L, sizeof(long), n, f); fclose(f);
#else
    float *P = malloc(sizeof(float) * n * MODEL_N_OUTPUTS);
    int rc = model_predict(X, n, P);
    if (rc) return 20 + rc;
    f = fopen(argv[3], "wb"); fwrite(P, sizeof(float), n * MODEL_N_OUTPUTS, f); fclose(f);
#endif
    /* the error codes */
    if (model_predict(NULL, 1, (void *)P) != 1 || model_predict(X, -1, (void *)P) != 1) return 40;
    X[0] = 0.0f / 0.0f;
    if (model_predict(X, 1, (void *)P) != 2) return 41;
    return 0;
}
"""


def _cc():
    cc = shutil.which(os.environ.get("CC", "cc")) or shutil.which("gcc")
    if cc is None:
        if os.environ.get("CI") == "true":
            pytest.fail("no C compiler but CI=true")
        pytest.skip("no C compiler on PATH")
    return cc


def _run_c(net, X, tmp_path, n_out):
    src, hdr = export_c(net, tmp_path / "model.c")
    assert os.path.exists(hdr)
    (tmp_path / "main.c").write_text(_MAIN)
    exe = tmp_path / "run"
    subprocess.run([_cc(), "-std=c99", "-O2", "-Wall", "-Wextra", "-Werror", "-pedantic",
                    "-o", str(exe), str(tmp_path / "main.c"), src, "-lm"], check=True,
                   capture_output=True, text=True)
    X.astype(np.float32).tofile(tmp_path / "X.bin")
    r = subprocess.run([str(exe), str(len(X)), str(tmp_path / "X.bin"), str(tmp_path / "P.bin"),
                        str(tmp_path / "L.bin")], capture_output=True, text=True)
    assert r.returncode == 0, (r.returncode, r.stderr)
    P = np.fromfile(tmp_path / "P.bin", dtype=np.float32).reshape(len(X), n_out)
    L = np.fromfile(tmp_path / "L.bin", dtype=np.int_) if (tmp_path / "L.bin").exists() else None
    return P, L


@pytest.mark.parametrize("act", HIDDEN_ACTS + ["step"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_c_matches_predict_proba(tmp_path, act, dtype):
    net, X = _fitted(act, dtype)
    P, L = _run_c(net, X, tmp_path, 3)
    _close(P, net.predict_proba(X), _rtol(net))
    np.testing.assert_array_equal(L, net.predict(X))


def test_c_binary_one_output_and_string_classes(tmp_path):
    one, X = _fitted(k=2, loss="bce", labels=np.array([3, 7]))
    P, L = _run_c(one, X, tmp_path, 2)
    _close(P, one.predict_proba(X), EXPORT_RTOL)
    np.testing.assert_array_equal(L, one.predict(X))
    named, X = _fitted(k=3, labels=np.array(["a", 'b"q', "c"]))
    (tmp_path / "s").mkdir()
    P, L = _run_c(named, X, tmp_path / "s", 3)
    np.testing.assert_array_equal(named.classes_[L], named.predict(X))
    assert '"b\\"q"' in (tmp_path / "s" / "model.c").read_text()


def test_c_regressor(tmp_path):
    X, _ = _data()
    Y = np.stack([X[:, 0] * 2 - X[:, 1], np.sin(X[:, 2])], axis=1)
    net = MLP(hidden=[8], activation="tanh", seed=0).fit(X, Y, epochs=3, verbose=0)
    P, _ = _run_c(net, X, tmp_path, 2)
    _close(P, net.predict(X), EXPORT_RTOL)


def test_c_bad_arguments(tmp_path):
    net, _ = _fitted()
    for bad in ("1x", "int", "", "a-b", 3):
        with pytest.raises(ValueError, match="name"):
            export_c(net, tmp_path / "m.c", name=bad)
    with pytest.raises(ValueError, match="path"):
        export_c(net, tmp_path / "m.txt")
    assert not list(tmp_path.iterdir())  # nothing written on error


# ---------------------------------------------------------------- quantised models
def _quantized(precision, calibrate=False, act="relu"):
    net, X = _fitted(act)
    q = net.quantize(precision, X_calibration=X[:50] if calibrate else None)
    return q, X


@pytest.mark.parametrize("calibrate", [False, True])
@pytest.mark.parametrize("act", ["relu", "tanh", "sigmoid"])
def test_c_int8_bit_for_bit(tmp_path, calibrate, act):
    q, X = _quantized("int8", calibrate, act)
    P, L = _run_c(q, X, tmp_path, 3)
    np.testing.assert_array_equal(P, q.predict_proba(X))  # the same integers and float ops
    np.testing.assert_array_equal(L, q.predict(X))


def test_c_bfloat16(tmp_path):
    q, X = _quantized("bfloat16")
    P, L = _run_c(q, X, tmp_path, 3)
    _close(P, q.predict_proba(X), EXPORT_RTOL)
    np.testing.assert_array_equal(L, q.predict(X))


@pytest.mark.parametrize("calibrate", [False, True])
def test_onnx_int8(ort, tmp_path, calibrate):
    q, X = _quantized("int8", calibrate)
    out = _run_onnx(ort, _exported(q, tmp_path / "q.onnx"), X)
    _close(out["probabilities"], q.predict_proba(X), EXPORT_RTOL)
    np.testing.assert_array_equal(out["label"], q.predict(X))


def test_onnx_bfloat16(ort, tmp_path):
    q, X = _quantized("bfloat16")
    out = _run_onnx(ort, _exported(q, tmp_path / "h.onnx"), X)
    _close(out["probabilities"], q.predict_proba(X), EXPORT_RTOL)
    np.testing.assert_array_equal(out["label"], q.predict(X))


@pytest.mark.parametrize("norm", ["batch", "layer", ["layer", "batch"]])
def test_export_normalised(ort, tmp_path, norm):
    X, y = _data()
    net = MLP(hidden=[9, 6], norm=norm, seed=0).fit(X, y, epochs=3, batch_size=16, verbose=0)
    out = _run_onnx(ort, _exported(net, tmp_path / "n.onnx"), X)
    _close(out["probabilities"], net.predict_proba(X), EXPORT_RTOL)
    np.testing.assert_array_equal(out["label"], net.predict(X))
    P, L = _run_c(net, X, tmp_path, 3)
    _close(P, net.predict_proba(X), EXPORT_RTOL)
    np.testing.assert_array_equal(L, net.predict(X))
