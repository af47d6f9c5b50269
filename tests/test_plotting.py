"""fastmlp.plotting: each figure holds what it claims, is written as a PNG, and
bad input or a missing matplotlib gives a clear error."""
from __future__ import annotations

import sys

import numpy as np
import pytest

pytest.importorskip("matplotlib", reason="fastmlp.plotting draws with matplotlib (fastmlp[plot])")

from fastmlp import MLP, plotting  # noqa: E402

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _is_png(path) -> bool:
    with open(path, "rb") as f:
        return f.read(8) == PNG_MAGIC


def _history(n_epochs: int = 5, val: bool = True) -> dict:
    h = {"loss": list(np.linspace(1.0, 0.2, n_epochs)),
         "accuracy": list(np.linspace(0.5, 0.9, n_epochs))}
    if val:
        h["val_loss"] = list(np.linspace(1.1, 0.3, n_epochs))
        h["val_accuracy"] = list(np.linspace(0.45, 0.85, n_epochs))
    return h


def test_history_panels_curves_and_png(tmp_path):
    h = _history()
    path = tmp_path / "sub" / "h.png"  # the directory is created
    fig = plotting.plot_history(h, path, title="t", val_label="test set")
    assert _is_png(path)
    loss_ax, acc_ax = fig.axes
    for ax, key in ((loss_ax, "loss"), (acc_ax, "accuracy")):
        lines = {ln.get_label(): ln for ln in ax.get_lines()}
        assert set(lines) == {"training", "test set"}
        np.testing.assert_array_equal(lines["training"].get_ydata(), h[key])
        np.testing.assert_array_equal(lines["test set"].get_ydata(), h["val_" + key])
        np.testing.assert_array_equal(lines["training"].get_xdata(), np.arange(1, 6))


def test_history_regression_has_loss_panel_only():
    fig = plotting.plot_history({"loss": [3.0, 2.0], "val_loss": [3.5, 2.5]}, log_loss=True)
    assert len(fig.axes) == 1
    assert fig.axes[0].get_yscale() == "log"


def test_history_from_a_fitted_model():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((60, 3))
    y = (X[:, 0] > 0).astype(int)
    net = MLP([3, 4, 2], seed=0).fit(X, y, epochs=3, validation_split=0.2, verbose=0,
                                     optimizer="sgd")
    fig = plotting.plot_history(net)
    assert len(fig.axes) == 2
    assert len(fig.axes[0].get_lines()[0].get_ydata()) == 3


@pytest.mark.parametrize("bad, exc", [({}, ValueError), ({"accuracy": [0.5]}, ValueError),
                                      (42, TypeError)])
def test_history_bad_input(bad, exc):
    with pytest.raises(exc, match="history"):
        plotting.plot_history(bad)


def test_decision_boundary_regions_match_the_model(tmp_path):
    def model(X):  # class 1 right of x1 = 0.3
        return (X[:, 0] > 0.3).astype(int)

    rng = np.random.default_rng(1)
    X = rng.uniform(-1, 1, (50, 2))
    y = model(X)
    y[0] = 1 - y[0]  # one point the model gets wrong
    path = tmp_path / "db.png"
    fig = plotting.plot_decision_boundary(model, X, y, path, resolution=40, padding=0.0)
    assert _is_png(path)
    ax = fig.axes[0]
    mesh = ax.collections[0]
    zi = np.asarray(mesh.get_array()).reshape(40, 40)
    gx = np.linspace(X[:, 0].min(), X[:, 0].max(), 40)
    np.testing.assert_array_equal(zi, np.broadcast_to((gx > 0.3).astype(int), (40, 40)))
    assert ax.get_title() == f"accuracy {49 / 50:.1%}"
    points, ring = ax.collections[-2:]
    np.testing.assert_array_equal(points.get_offsets(), X)  # every point, in its true colour
    np.testing.assert_array_equal(ring.get_offsets(), X[:1])  # the one miss, ringed in red
    assert np.allclose(ring.get_edgecolors()[:, :3], [1, 0, 0])
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["misclassified (1)"]
    # no misses: no ring and no legend
    fig = plotting.plot_decision_boundary(model, X, model(X), resolution=40)
    assert fig.axes[0].get_legend() is None
    np.testing.assert_array_equal(fig.axes[0].collections[-1].get_offsets(), X)


def test_decision_boundary_with_a_fitted_mlp_and_given_axes():
    rng = np.random.default_rng(0)
    X = rng.uniform(-1, 1, (80, 2))
    y = np.where(X[:, 1] > 0, "up", "down")  # text labels
    net = MLP([2, 8, 2], seed=0).fit(X, y, epochs=30, learning_rate=0.1, momentum=0.9, verbose=0,
                                     optimizer="sgd")
    fig, axes = plotting._new_figure(8, 4, ncols=2)
    out = plotting.plot_decision_boundary(net, X, y, ax=axes[1], title="mine")
    assert out is fig and axes[1].get_title() == "mine" and not axes[0].collections


@pytest.mark.parametrize("X, y, kw, match", [
    (np.zeros((5, 3)), np.zeros(5), {}, "shape"),
    (np.zeros((5, 2)), np.zeros(4), {}, "y must have shape"),
    (np.zeros((5, 2)), np.zeros(5), {"resolution": 1}, "resolution"),
])
def test_decision_boundary_bad_input(X, y, kw, match):
    with pytest.raises(ValueError, match=match):
        plotting.plot_decision_boundary(lambda Z: np.zeros(len(Z)), X, y, **kw)


def test_decision_boundary_needs_predict():
    with pytest.raises(TypeError, match="predict"):
        plotting.plot_decision_boundary(object(), np.zeros((3, 2)), np.zeros(3))


def test_sine_fit_legend_reports_mse_against_the_truth(tmp_path):
    x = np.linspace(0, 2 * np.pi, 50).reshape(-1, 1)
    y = np.sin(x[:, 0])
    half = lambda Z: 0.5 * np.sin(Z[:, 0])  # noqa: E731
    path = tmp_path / "sine.png"
    fig = plotting.plot_sine_fit(x, y, {"half": half}, path, n_grid=200)
    assert _is_png(path)
    grid = np.linspace(0, 2 * np.pi, 200)
    expected = np.mean((0.5 * np.sin(grid) - np.sin(grid)) ** 2)
    labels = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert f"half: MSE vs sin(x) {expected:.4f}" in labels
    fig = plotting.plot_sine_fit(x, y, {"half": half}, n_grid=3, x_range=(0.0, np.pi))
    np.testing.assert_allclose(fig.axes[0].get_lines()[1].get_xdata(), [0.0, np.pi / 2, np.pi])
    # without a truth, the error is measured on the data
    fig = plotting.plot_sine_fit(x, y, {"half": half}, truth=None)
    expected = np.mean((0.5 * y - y) ** 2)
    labels = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert f"half: MSE vs data {expected:.4f}" in labels


def test_sine_fit_bad_input():
    with pytest.raises(ValueError, match="one feature"):
        plotting.plot_sine_fit(np.zeros((4, 2)), np.zeros(4), {})
    with pytest.raises(TypeError, match="mapping"):
        plotting.plot_sine_fit(np.zeros((4, 1)), np.zeros(4), [lambda z: z])


def test_digits_grid_titles_and_colours(tmp_path):
    rng = np.random.default_rng(0)
    images = rng.integers(0, 255, (12, 784))
    y_true = np.arange(12) % 10
    y_pred = y_true.copy()
    y_pred[3] = 7
    path = tmp_path / "grid.png"
    fig = plotting.plot_digits_grid(images, y_true, y_pred, path, n=12, ncols=5, title="t")
    assert _is_png(path)
    assert len(fig.axes) == 15  # 3 rows of 5; the last 3 empty
    titles = [ax.get_title() for ax in fig.axes[:12]]
    assert titles[3] == "7 (true 3)" and titles[0] == "0"
    assert fig.axes[3].title.get_color() == "red" and fig.axes[0].title.get_color() == "black"
    assert [ax.get_images()[0].get_array().shape for ax in fig.axes[:1]] == [(28, 28)]


def test_digits_grid_class_names_and_shapes():
    imgs = np.zeros((2, 6))
    fig = plotting.plot_digits_grid(imgs, [0, 1], class_names=["cat", "dog"], shape=(2, 3))
    assert [ax.get_title() for ax in fig.axes] == ["cat", "dog"]
    with pytest.raises(ValueError, match="not square"):
        plotting.plot_digits_grid(imgs, [0, 1])
    with pytest.raises(ValueError, match="one label each"):
        plotting.plot_digits_grid(imgs, [0])
    with pytest.raises(ValueError, match="y_pred"):
        plotting.plot_digits_grid(np.zeros((2, 4)), [0, 1], [0])


def test_missing_matplotlib_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    with pytest.raises(ImportError, match=r"pip install fastmlp\[plot\]"):
        plotting.plot_history(_history())
