"""The seed demos: the toy ones at full size (they take seconds), the MNIST ones at
reduced size on the real files (code path, report and figures), the peers' runs
on a small problem, and one full-size MNIST threshold (Nielsen's, slow: ~20 s).

Training here uses one thread: on a shared, oversubscribed machine the kernels'
OpenMP barriers can make two threads far slower than one for these small
networks, and the thread paths are covered by the kernel tests."""
from __future__ import annotations

import os

import numpy as np
import pytest

from fastmlp.cli import demos
from fastmlp.cli.demos import DemoResult, TrainSpec

try:
    import matplotlib  # noqa: F401
    HAVE_MPL = True
except ImportError:
    HAVE_MPL = False


def _check_figures(res: DemoResult, names: list) -> None:
    if not HAVE_MPL:
        assert res.figures == []
        return
    assert [os.path.basename(f) for f in res.figures] == names
    for f in res.figures:
        with open(f, "rb") as fh:
            assert fh.read(8) == b"\x89PNG\r\n\x1a\n"


def test_perceptron_demo_full_size(tmp_path):
    res = demos.demo_perceptron(out_dir=tmp_path, verbose=0)
    m = res.metrics
    assert m["perceptron_separable_accuracy"] == 1.0
    assert m["perceptron_xor_accuracy"] <= 0.75
    assert m["best_line_xor_accuracy"] == 0.75  # three of four corners, never four
    assert m["mlp_xor_accuracy"] == 1.0
    assert res.met is True and res.full_size
    _check_figures(res, ["perceptron_xor.png"])
    text = res.summary()
    assert "-> MET" in text and "best of 36,000 lines: 75%" in text


def test_best_line_accuracy_is_exact_on_separable_and_xor():
    X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    assert demos._best_linear_accuracy(X, np.array([0, 0, 0, 1])) == 1.0  # AND is separable
    assert demos._best_linear_accuracy(X, np.array([0, 1, 1, 0])) == 0.75


def test_sine_demo_full_size(tmp_path):
    res = demos.demo_sine(out_dir=tmp_path, threads=1, verbose=0)
    assert res.metrics["mse_relu"] < 0.01
    assert res.metrics["mse_identity"] > 0.1
    assert res.met is True
    _check_figures(res, ["sine_fit.png"])


def test_sine_demo_reduced_identity_net_is_no_better_than_a_line():
    res = demos.demo_sine(n_samples=60, epochs=20, threads=1, verbose=0)
    assert res.full_size is False and res.met is None and res.figures == []
    # without a nonlinearity the network is affine: it cannot beat the least-squares line,
    # whose error on [0, 2 pi] is 1/2 - 3/pi^2 (sin against its best line a*x + b)
    best_line = 0.5 - 3.0 / np.pi ** 2
    assert res.metrics["mse_best_line"] == pytest.approx(best_line, rel=1e-2)  # 1000-point grid
    assert res.metrics["mse_identity"] >= res.metrics["mse_best_line"] * (1 - 1e-4)
    assert "not checked (reduced-size run)" in res.summary()


def test_spiral_demo_reduced(tmp_path):
    res = demos.demo_spiral(out_dir=tmp_path, n_samples=300, epochs=15, threads=1,
                            verbose=0)
    assert res.met is None
    for key in ("small_test_accuracy", "large_test_accuracy"):
        assert 0.0 <= res.metrics[key] <= 1.0
    _check_figures(res, ["spiral.png", "spiral_history.png"])


def test_train_spec_with_epochs_keeps_phases_in_order():
    spec = TrainSpec((4, 3), schedule=((3, 0.1), (2, 0.01), (1, 0.001)))
    assert spec.epochs == 6
    assert spec.with_epochs(4).schedule == ((3, 0.1), (1, 0.01))
    assert spec.with_epochs(2).schedule == ((2, 0.1),)
    assert spec.with_epochs(9).schedule == spec.schedule
    assert "learning rate 0.1 x 3, 0.01 x 2, 0.001 x 1 epochs" in spec.describe()


@pytest.mark.parametrize("name", ["mnist", "mnist-nielsen", "mnist-800", "fashion"])
def test_image_demos_reduced(shared_data, tmp_path, name):
    res = demos.run_demo(name, out_dir=tmp_path, data_path=shared_data, n_train=1000,
                         n_test=300, epochs=1, peers=False, threads=1, verbose=0)
    assert res.name == name and res.full_size is False and res.met is None
    acc = res.metrics["test_accuracy"]
    assert 0.3 < acc <= 1.0  # one epoch on 1000 images already beats chance (10%) by far
    assert res.metrics["test_error"] == pytest.approx(1 - acc)
    assert "1000 training / 300 test images" in res.summary()
    assert res.train_seconds > 0 and res.seconds >= res.train_seconds
    if name == "fashion":  # its comparison runs scikit-learn even with peers=False
        assert [p.name for p in res.peers] == ["scikit-learn"]
    else:
        assert res.peers == []
    _check_figures(res, [f"{name}_history.png", f"{name}_grid.png"])


def test_image_demo_times_fastmlp_on_what_sklearn_ran(shared_data):
    pytest.importorskip("sklearn", reason="the scikit-learn peer")
    res = demos.demo_mnist(data_path=shared_data, n_train=2000, n_test=300, epochs=2,
                           peers=["sklearn"], threads=1, verbose=0)
    sk, plain = res.peers  # the recipe has input noise, which MLPClassifier lacks
    assert sk.name == "scikit-learn" and "without input noise" in sk.note
    assert plain.name == "fastmlp, as sklearn ran" and plain.seconds > 0
    assert 0.3 < plain.accuracy <= 1.0
    assert "fastmlp, as sklearn ran" in res.summary()


def test_image_demo_missing_data_says_where_it_looked(tmp_path, monkeypatch):
    monkeypatch.delenv("FASTMLP_DATA", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    with pytest.raises(FileNotFoundError, match="FASTMLP_DATA"):
        demos.demo_mnist(data_path=tmp_path / "nothing", verbose=0)


@pytest.mark.parametrize("kw, match", [({"n_train": 0}, "n_train"), ({"epochs": 1.5}, "epochs"),
                                       ({"peers": ["jax"]}, "peers")])
def test_image_demo_bad_arguments(kw, match):
    with pytest.raises(ValueError, match=match):
        demos.demo_mnist(verbose=0, **kw)


def test_run_demo_unknown_name():
    with pytest.raises(ValueError, match="unknown demo 'nope'"):
        demos.run_demo("nope")


def _small_problem():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((400, 8)).astype(np.float32)
    y = (X[:, 0] + X[:, 1] > 0).astype(np.int64) + 2 * (X[:, 2] > 0)
    return X[:300], y[:300], X[300:], y[300:]


@pytest.mark.parametrize("loss, act, reg", [("cce", "relu", 0.0), ("quadratic", "sigmoid", 0.0),
                                            ("cce", "relu", 0.1)])
def test_peers_repeat_the_run(loss, act, reg):
    pytest.importorskip("sklearn", reason="the scikit-learn peer")
    pytest.importorskip("torch", reason="the PyTorch peer")
    spec = TrainSpec((8, 16, 4), act, loss, "sgd", schedule=((15, 0.5 if loss == "cce" else 3.0),
                                                               (5, 0.05)),
                     momentum=0.5 if loss == "cce" else 0.0, batch_size=10, l2=1e-4,
                     dropout=reg, input_noise=reg,
                     sklearn=(("learning_rate_init", 0.3), ("note", "n")))
    Xtr, ytr, Xte, yte = _small_problem()
    for fn in (demos._sklearn_peer, demos._torch_peer):
        r = fn(spec, Xtr, ytr, Xte, yte, 1, 0)
        assert r.seconds > 0
        assert r.accuracy > 0.7, (r.name, r.accuracy)  # the problem is easy: both learn it
    note = demos._sklearn_peer(spec, Xtr, ytr, Xte, yte, 1, 0).note
    assert note == ("n; without dropout and input noise (MLPClassifier has none)" if reg else "n")
    ours, wall, cpu = demos._fit_spec(spec, Xtr, ytr, Xte, yte, 1, 0, 0)
    assert wall > 0 and cpu > 0
    assert ours.score(Xte, yte) > 0.7
    assert len(ours.history_["loss"]) == spec.epochs


def test_peer_line_formats():
    assert "skipped: not installed" in demos.PeerResult("x", note="not installed").line()
    line = demos.PeerResult("x", 4.0, 0.5).line(2.0)
    assert "4.0 s" in line and "2.0x fastmlp's time" in line and "50.00%" in line


@pytest.mark.slow
def test_nielsen_demo_full_size_reaches_95_percent(shared_data):
    # the full textbook run: 784-30-10, quadratic cost, batches of 10, lr 3.0, 30 epochs
    res = demos.demo_mnist_nielsen(data_path=shared_data, peers=False, threads=1, verbose=0)
    assert res.full_size and res.train_seconds > 0
    assert res.metrics["test_accuracy"] >= 0.95, res.summary()
    assert res.met is True
