"""Errors and ergonomics: hidden-only models, NotFittedError, summary(), parameter aliases,
and the command line's --version, --plot, --output and timing lines."""
from __future__ import annotations

import os
import sys

import numpy as np
import pytest

import fastmlp
from fastmlp import MLP, Perceptron, exceptions
from fastmlp.cli import commands


def _data(n=120, d=5, k=3, seed=0):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, d)), rng.integers(0, k, n)


# ---------------------------------------------------------------------------- hidden=
@pytest.mark.parametrize("y, loss, n_out", [
    (np.arange(60) % 3, "auto", 3),                       # labels: one output per class
    (np.array(["a", "b"] * 30), "auto", 2),               # text labels
    (np.arange(60) % 2 == 0, "auto", 2),                  # boolean labels
    (np.arange(60) % 2, "bce", 1),                        # binary cross-entropy: one output
    (np.linspace(0, 1, 60), "auto", 1),                   # real values: regression
    (np.ones((60, 4)) * 0.5, "mse", 4),                   # target columns
])
def test_hidden_takes_the_widths_from_the_data(y, loss, n_out):
    X = np.random.default_rng(1).standard_normal((60, 7))
    net = MLP(hidden=[6], loss=loss, seed=0)
    assert net.layers is None and not net.built
    net.fit(X, y, epochs=1, verbose=0)
    assert net.layers == [7, 6, n_out] and net.built
    assert net.predict(X).shape[0] == 60


def test_hidden_spellings_and_the_full_list_agree():
    X, y = _data()
    a = MLP(hidden="16-8", seed=3).fit(X, y, epochs=2, verbose=0)
    b = MLP(hidden=[16, 8], seed=3).fit(X, y, epochs=2, verbose=0)
    c = MLP([5, 16, 8, 3], seed=3).fit(X, y, epochs=2, verbose=0)
    d = MLP("5-16-8-3", seed=3).fit(X, y, epochs=2, verbose=0)
    for other in (b, c, d):
        assert np.array_equal(a._params, other._params)
    assert MLP(hidden=[]).fit(X, y, epochs=1, verbose=0).layers == [5, 3]
    assert MLP(hidden=4).hidden == [4]


def test_default_architecture_and_bad_specs():
    assert MLP().hidden == list(fastmlp.mlp.DEFAULT_HIDDEN)
    with pytest.raises(ValueError, match="not both"):
        MLP([5, 8, 3], hidden=[8])
    with pytest.raises(ValueError, match="hidden="):
        MLP([64])  # one width: the hint says how to give hidden widths only
    with pytest.raises(ValueError, match="positive ints"):
        MLP(hidden=[8, 0])
    with pytest.raises(ValueError, match="activations"):
        MLP(hidden=[8, 8], activation=["relu"])


def test_a_full_list_that_does_not_match_the_data_raises_clearly():
    X, y = _data()
    with pytest.raises(ValueError, match="X has 5 features, but the model expects 4"):
        MLP([4, 8, 3]).fit(X, y, epochs=1, verbose=0)
    with pytest.raises(ValueError, match="3 classes but the network has 2 outputs"):
        MLP([5, 8, 2]).fit(X, y, epochs=1, verbose=0)


def test_a_failed_first_fit_leaves_the_model_unbuilt():
    X, y = _data()
    net = MLP(hidden=[8], seed=0)
    bad = X.copy()
    bad[7, 2] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        net.fit(bad, y, epochs=1, verbose=0)
    assert net.layers is None and net.loss == "auto" and net.classes_ is None
    with pytest.raises(ValueError):
        net.fit(X[:, 0], y, epochs=1, verbose=0)  # 1-D X
    assert net.layers is None
    # the RNG was put back too: the same weights as a model that never failed
    net.fit(X, y, epochs=1, verbose=0)
    fresh = MLP(hidden=[8], seed=0).fit(X, y, epochs=1, verbose=0)
    assert np.array_equal(net._params, fresh._params)


def test_lr_find_on_an_unbuilt_model_puts_it_back():
    X, y = _data()
    net = MLP(hidden=[8], seed=0)
    res = net.lr_find(X, y, num_it=10)
    assert len(res.lrs) > 0 and net.layers is None


# ---------------------------------------------------------------------------- NotFittedError
def test_predicting_before_fit_raises_not_fitted():
    X, _ = _data()
    net = MLP(hidden=[8])
    for call in (net.predict, net.predict_proba, net.forward):
        with pytest.raises(fastmlp.NotFittedError, match="not fitted yet"):
            call(X)
    with pytest.raises(exceptions.NotFittedError):
        net.score(X, np.zeros(len(X)))
    assert not hasattr(net, "coefs_") and not hasattr(net, "n_params")  # AttributeError
    err = pytest.raises(ValueError, net.predict, X).value
    assert isinstance(err, AttributeError)
    sklearn_exceptions = pytest.importorskip("sklearn.exceptions")
    assert isinstance(err, sklearn_exceptions.NotFittedError)
    # a built model whose loss is still 'auto' has not seen targets either
    with pytest.raises(sklearn_exceptions.NotFittedError, match="fit it first"):
        MLP([5, 4, 3]).predict(X)
    with pytest.raises(sklearn_exceptions.NotFittedError, match="not fitted"):
        Perceptron().predict(X)


def test_not_fitted_without_scikit_learn(monkeypatch):
    monkeypatch.setitem(sys.modules, "sklearn.exceptions", None)  # import fails
    monkeypatch.setattr(exceptions, "_COMBINED", None)
    err = pytest.raises(ValueError, MLP(hidden=[3]).predict, np.zeros((1, 2))).value
    assert type(err) is exceptions.NotFittedError
    assert isinstance(err, AttributeError)
    monkeypatch.setattr(exceptions, "_COMBINED", None)  # not cached past this test


def test_save_before_build_raises(tmp_path):
    with pytest.raises(fastmlp.NotFittedError):
        MLP(hidden=[3]).save(tmp_path / "m.npz")
    assert not os.listdir(tmp_path)


# ---------------------------------------------------------------------------- summary
def test_summary_prints_a_keras_like_table_and_returns_it(capsys):
    net = MLP("784-16-16-10", loss="cce")
    text = net.summary()
    printed = capsys.readouterr().out
    assert printed.rstrip("\n") == text
    lines = text.splitlines()
    assert lines[0] == 'Model: "MLP" 784-16-16-10 (float32)'
    assert lines[2].split() == ["Layer", "(type)", "Output", "Shape", "Param", "#", "Activation"]
    assert " dense_0 (Dense 784 -> 16)" in text and "(None, 16)" in text
    assert [ln.split()[-2] for ln in lines if "(Dense" in ln] == ["12,560", "272", "170"]
    assert "Total params: 13,002 (50.79 KB)" in text and "Non-trainable params: 0" in text
    assert max(map(len, lines)) <= 80
    assert "\n" not in repr(text)  # an interactive session does not echo the table again
    assert net.summary(print_fn=None) == text and capsys.readouterr().out == ""


def test_summary_of_an_unbuilt_model_marks_the_widths_from_the_data():
    text = MLP(hidden=[32, 32]).summary(print_fn=None)
    assert "?-32-32-?" in text and "(None, ?)" in text and "1,056" in text
    assert "Total params: ?" in text


# ---------------------------------------------------------------------------- aliases
def test_learning_rate_alias_lr():
    X, y = _data()
    a = MLP([5, 4, 3], seed=0).fit(X, y, epochs=2, optimizer="sgd", learning_rate=0.05, verbose=0)
    b = MLP([5, 4, 3], seed=0).fit(X, y, epochs=2, optimizer="sgd", lr=0.05, verbose=0)
    assert np.array_equal(a._params, b._params) and b.history_["lr"][-1] == pytest.approx(0.05)
    with pytest.raises(ValueError, match="learning_rate or its alias lr"):
        MLP([5, 4, 3]).fit(X, y, learning_rate=0.1, lr=0.1)


def test_leaky_slope_alias_leaky_relu_slope():
    a = MLP([3, 4, 2], activation="leaky_relu", leaky_relu_slope=0.2)
    assert a.leaky_slope == 0.2
    with pytest.raises(ValueError, match="not both"):
        MLP([3, 4, 2], leaky_slope=0.1, leaky_relu_slope=0.1)
    with pytest.raises(ValueError, match="leaky_relu_slope"):
        MLP([3, 4, 2], leaky_relu_slope=-1)
    assert MLP([3, 4, 2]).leaky_slope == 0.01


# ---------------------------------------------------------------------------- the CLI
def test_version(capsys):
    assert commands.main(["--version"]) == 0
    assert capsys.readouterr().out.strip() == f"fastmlp {fastmlp.__version__}"


def test_cli_aliases(capsys):
    argv = ["train", "-q", "--epochs", "1", "--hidden", "8", "--activation", "leaky_relu"]
    assert commands.main(argv + ["--learning-rate", "0.01", "--leaky-slope", "0.1"]) == 0
    assert "test accuracy" in capsys.readouterr().out
    assert commands.main(argv + ["--leaky-slope", "-1"]) == 2
    assert "--leaky-slope" in capsys.readouterr().err


def test_plot_checks_matplotlib_before_training(capsys, monkeypatch, tmp_path):
    from fastmlp import plotting

    def missing():
        raise ImportError("fastmlp.plotting needs matplotlib: pip install fastmlp[plot]")

    monkeypatch.setattr(plotting, "_matplotlib", missing)
    code = commands.main(["train", "-q", "--epochs", "1", "--plot", str(tmp_path / "c.png")])
    out, err = capsys.readouterr()
    assert code == 2 and "matplotlib" in err and "test accuracy" not in out


@pytest.mark.parametrize("flag", ["--plot", "--output"])
def test_a_missing_directory_fails_before_training(capsys, tmp_path, flag):
    code = commands.main(["train", "-q", "--epochs", "1", flag, str(tmp_path / "no" / "f")])
    out, err = capsys.readouterr()
    assert code == 2 and f"{flag}: directory" in err and "does not exist" in err
    assert "test accuracy" not in out


def test_plot_and_output_into_a_directory(capsys, tmp_path):
    pytest.importorskip("matplotlib")
    code = commands.main(["train", "-q", "--epochs", "1", "--hidden", "8",
                          "--plot", str(tmp_path), "--output", str(tmp_path)])
    out = capsys.readouterr().out
    assert code == 0
    assert sorted(os.listdir(tmp_path)) == ["digits-history.png", "digits.npz"]
    assert f"model saved to {tmp_path / 'digits.npz'}" in out
    assert f"curves written to {tmp_path / 'digits-history.png'}" in out


def test_the_model_is_saved_before_plotting(capsys, monkeypatch, tmp_path):
    pytest.importorskip("matplotlib")
    from fastmlp import plotting

    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(plotting, "plot_history", broken)
    model = tmp_path / "m.npz"
    code = commands.main(["train", "-q", "--epochs", "1", "--hidden", "8", "--output",
                          str(model), "--plot", str(tmp_path / "c.png")])
    out, err = capsys.readouterr()
    assert code == 2 and "disk full" in err
    assert model.exists() and "model saved" in out


def test_timing_lines_and_the_mnist_loading_line(capsys, monkeypatch):
    from fastmlp import datasets

    calls = []

    def fake_mnist(path, kind, download=False, max_bytes=None):
        calls.append(kind)
        rng = np.random.default_rng(0)
        n = 300 if kind == "train" else 100
        return rng.integers(0, 256, (n, 784)).astype(np.uint8), rng.integers(0, 10, n)

    monkeypatch.setattr(datasets, "load_mnist", fake_mnist)
    # not --quiet: the loading line is for someone watching
    assert commands.main(["train", "--dataset", "mnist", "--epochs", "1", "--hidden", "8"]) == 0
    out = capsys.readouterr().out
    assert calls == ["train", "test"]
    lines = out.splitlines()
    assert lines[0].startswith("fastmlp: loading mnist") and lines[0].endswith(" s")
    assert "data loaded in" in out and "scaled in" in out
    assert "training took" in out
