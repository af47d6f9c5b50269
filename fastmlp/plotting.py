"""Figures for models and training runs, written as PNG (matplotlib, optional).

matplotlib is imported lazily, the first time a figure is drawn, so
``import fastmlp`` never needs it; install it with ``pip install fastmlp[plot]``.
Figures are built on :class:`matplotlib.figure.Figure` with the Agg canvas,
not through ``pyplot``: nothing here touches pyplot's global state or the
interactive backend, and it works on machines without a display.

Every function returns the Figure; with ``path`` it also writes it there
(PNG by default; the suffix picks the format).  In a notebook, display the
returned Figure (``display(fig)``).

Functions
---------
:func:`plot_history`
    Loss and accuracy (or error) per epoch, training and validation.
:func:`plot_decision_boundary`
    The class regions of a model with 2-D inputs, with the points.
:func:`plot_sine_fit`
    1-D regression fits against the data and the true function.
:func:`plot_digits_grid`
    A grid of images with predicted and true labels (misses in red).
"""
from __future__ import annotations

import os
from typing import Any, Callable, Mapping, Optional, Sequence, Union

import numpy as np

__all__ = ["plot_history", "plot_decision_boundary", "plot_sine_fit", "plot_digits_grid"]

PathLike = Union[str, "os.PathLike[str]"]

#: colours for classes 0, 1, 2, ... (colour-blind friendly, Okabe-Ito)
CLASS_COLORS = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442",
                "#000000")
_TRAIN_COLOR, _VAL_COLOR = "#0072B2", "#D55E00"


def _matplotlib() -> Any:
    """Import matplotlib (Agg canvas only) or raise ImportError saying how to install it."""
    try:
        import matplotlib
        from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: F401
        from matplotlib.figure import Figure  # noqa: F401
    except ImportError as exc:
        raise ImportError("fastmlp.plotting needs matplotlib: pip install fastmlp[plot] "
                          f"(or pip install matplotlib); import failed with: {exc}") from exc
    return matplotlib


def _new_figure(width: float, height: float, ncols: int = 1, nrows: int = 1):
    """Return (fig, axes) on an Agg canvas; axes is a flat list."""
    _matplotlib()
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), layout="constrained")
    FigureCanvasAgg(fig)
    axes = fig.subplots(nrows, ncols, squeeze=False)
    return fig, [ax for row in axes for ax in row]


def _save(fig: Any, path: Optional[PathLike], dpi: int = 100) -> None:
    if path is None:
        return
    path = os.fspath(path)
    parent = os.path.dirname(path)
    if parent:
        os.makedirs(parent, exist_ok=True)
    fig.savefig(path, dpi=dpi)


def _history_dict(history: Any) -> Mapping[str, Sequence[float]]:
    if isinstance(history, Mapping):
        return history
    hist = getattr(history, "history_", None)
    if isinstance(hist, Mapping):
        return hist
    raise TypeError("history must be a dict of per-epoch lists (e.g. model.history_) or a fitted "
                    f"model with a history_ attribute; got {type(history).__name__}")


def plot_history(history: Any, path: Optional[PathLike] = None, *,
                 title: Optional[str] = None, metric: str = "accuracy", log_loss: bool = False,
                 val_label: str = "validation", dpi: int = 100) -> Any:
    """Plot loss and accuracy per epoch, training and validation side by side.

    Parameters
    ----------
    history : dict or fitted model
        ``model.history_`` (or the model itself): per-epoch lists such as
        'loss', 'accuracy', 'val_loss', 'val_accuracy'.
    path : str or os.PathLike, optional
        Where to write the figure (PNG unless the suffix says otherwise).
    title : str, optional
        Figure title.
    metric : str, default='accuracy'
        The second panel's metric ('accuracy', 'error_rate', 'mae', ...); the
        panel is left out when the history has neither it nor its ``val_`` twin.
    log_loss : bool, default=False
        Draw the loss on a logarithmic axis.
    val_label : str, default='validation'
        Legend name of the ``val_`` curves (e.g. 'test set' when the model was
        validated on the test set).
    dpi : int, default=100

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> fig = plot_history({"loss": [0.9, 0.5, 0.4], "val_loss": [1.0, 0.7, 0.6],
    ...                     "accuracy": [0.7, 0.8, 0.9], "val_accuracy": [0.6, 0.7, 0.8]})
    >>> [ax.get_ylabel() for ax in fig.axes]
    ['loss', 'accuracy']
    """
    hist = _history_dict(history)
    if not hist.get("loss") and not hist.get("val_loss"):
        raise ValueError("history has no 'loss' (nor 'val_loss') values: fit the model first")
    panels = ["loss"] + ([metric] if hist.get(metric) or hist.get("val_" + metric) else [])
    fig, axes = _new_figure(5.0 * len(panels), 3.6, ncols=len(panels))
    for ax, key in zip(axes, panels):
        for name, color, label in ((key, _TRAIN_COLOR, "training"),
                                   ("val_" + key, _VAL_COLOR, val_label)):
            values = hist.get(name)
            if values:
                epochs = np.arange(1, len(values) + 1)
                ax.plot(epochs, values, color=color, marker="o" if len(values) <= 30 else None,
                        markersize=3, label=label)
        ax.set_xlabel("epoch")
        ax.set_ylabel(key.replace("_", " "))
        if key == "loss" and log_loss:
            ax.set_yscale("log")
        ax.grid(True, alpha=0.3)
        ax.legend()
        if key in ("accuracy", "val_accuracy"):
            ax.yaxis.set_major_formatter(_percent_formatter())
    if title:
        fig.suptitle(title)
    _save(fig, path, dpi)
    return fig


def _percent_formatter() -> Any:
    from matplotlib.ticker import FuncFormatter

    return FuncFormatter(lambda v, _pos: f"{100 * v:.1f}%")


def _predict_labels(model: Any, grid: np.ndarray) -> np.ndarray:
    predict = getattr(model, "predict", None)
    if predict is None:
        if callable(model):
            return np.asarray(model(grid))
        raise TypeError("model must have a predict method or be callable; got "
                        f"{type(model).__name__}")
    return np.asarray(predict(grid))


def plot_decision_boundary(model: Any, X: Any, y: Any, path: Optional[PathLike] = None, *,
                           title: Optional[str] = None, ax: Any = None, resolution: int = 300,
                           padding: float = 0.1, dpi: int = 100) -> Any:
    """Colour the plane by the class a 2-input model predicts, and plot the points.

    Parameters
    ----------
    model : fitted model or callable
        Anything with ``predict(X)`` (an :class:`~fastmlp.MLP`, a
        :class:`~fastmlp.Perceptron`, a scikit-learn classifier), or a function
        mapping an (n, 2) array to n labels.
    X : array-like of shape (n_samples, 2)
    y : array-like of shape (n_samples,)
        True labels, the points' colours; the points the model gets wrong
        are ringed in red (with a legend entry counting them).
    path : str or os.PathLike, optional
        Where to write the figure.
    title : str, optional
        Axes title; by default the accuracy on (X, y).
    ax : matplotlib Axes, optional
        Draw into this axes (of a figure you made) instead of a new figure.
    resolution : int, default=300
        Grid cells per side.
    padding : float, default=0.1
        Margin around the data, as a fraction of its range.
    dpi : int, default=100

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import numpy as np
    >>> X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    >>> fig = plot_decision_boundary(lambda Z: (Z.sum(axis=1) > 1.5).astype(int), X, [0, 0, 0, 1])
    >>> fig.axes[0].get_title()
    'accuracy 100.0%'
    """
    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y)
    if X.ndim != 2 or X.shape[1] != 2:
        raise ValueError("X must have shape (n_samples, 2) to draw a decision boundary; got "
                         f"{X.shape}")
    if y.shape != (X.shape[0],):
        raise ValueError(f"y must have shape ({X.shape[0]},); got {y.shape}")
    if int(resolution) < 2:
        raise ValueError(f"resolution must be an int >= 2; got {resolution!r}")
    resolution = int(resolution)
    if ax is None:
        fig, (ax,) = _new_figure(5.0, 4.6)
    else:
        _matplotlib()
        fig = ax.figure
    lo, hi = X.min(axis=0), X.max(axis=0)
    span = np.where(hi > lo, hi - lo, 1.0)
    lo, hi = lo - padding * span, hi + padding * span
    gx, gy = np.meshgrid(np.linspace(lo[0], hi[0], resolution),
                         np.linspace(lo[1], hi[1], resolution))
    grid = np.column_stack([gx.ravel(), gy.ravel()])
    pred_grid = _predict_labels(model, grid).reshape(-1)
    pred_pts = _predict_labels(model, X).reshape(-1)
    classes = np.unique(np.concatenate([np.unique(y), np.unique(pred_grid)]))
    index = {c: i for i, c in enumerate(classes.tolist())}
    colors = [CLASS_COLORS[i % len(CLASS_COLORS)] for i in range(len(classes))]
    from matplotlib.colors import ListedColormap

    cmap = ListedColormap(colors)
    zi = np.array([index[c] for c in pred_grid.tolist()]).reshape(gx.shape)
    ax.pcolormesh(gx, gy, zi, cmap=cmap, vmin=-0.5, vmax=len(classes) - 0.5, alpha=0.25,
                  shading="auto", rasterized=True)
    if len(classes) > 1:
        ax.contour(gx, gy, zi, levels=np.arange(len(classes) - 1) + 0.5, colors="k",
                   linewidths=0.8, alpha=0.6)
    yi = np.array([index[c] for c in y.tolist()])
    wrong = pred_pts != y
    size = 80 if len(X) <= 20 else 28 if len(X) < 400 else 12
    ax.scatter(X[:, 0], X[:, 1], c=[colors[i] for i in yi], edgecolors="white", linewidths=0.5,
               s=size, zorder=3)
    if wrong.any():  # a red ring around each miss, leaving its true class's colour visible
        ax.scatter(X[wrong, 0], X[wrong, 1], facecolors="none", edgecolors="red",
                   linewidths=1.5 if size >= 28 else 0.8, s=3.5 * size, zorder=4,
                   label=f"misclassified ({int(wrong.sum())})")
        ax.legend(loc="best", fontsize="small", framealpha=0.85,
                  markerscale=float(np.sqrt(80.0 / (3.5 * size))))  # a ring of one size
    ax.set_xlim(lo[0], hi[0])
    ax.set_ylim(lo[1], hi[1])
    ax.set_xlabel("$x_1$")
    ax.set_ylabel("$x_2$")
    acc = float(np.mean(~wrong))
    ax.set_title(title if title is not None else f"accuracy {acc:.1%}")
    _save(fig, path, dpi)
    return fig


def plot_sine_fit(X: Any, y: Any, models: Mapping[str, Any], path: Optional[PathLike] = None, *,
                  truth: Optional[Callable[[np.ndarray], np.ndarray]] = np.sin,
                  truth_label: str = "sin(x)", title: Optional[str] = None, n_grid: int = 500,
                  x_range: Optional[tuple] = None, dpi: int = 100) -> Any:
    """Plot 1-D regression fits: the data, the true curve and each model's prediction.

    Parameters
    ----------
    X : array-like of shape (n_samples, 1) or (n_samples,)
        Inputs.
    y : array-like of shape (n_samples,)
        Targets.
    models : mapping of str to fitted model or callable
        Label -> anything with ``predict`` (or a function of an (n, 1) array);
        each curve is drawn on a grid over the range of X and its legend
        entry carries its mean squared error against ``truth`` on that grid
        (against the data (X, y) when ``truth`` is None).
    path : str or os.PathLike, optional
        Where to write the figure.
    truth : callable, default=numpy.sin
        The noiseless function, drawn dashed; None leaves it out.
    truth_label : str, default='sin(x)'
        Its legend name.
    title : str, optional
    n_grid : int, default=500
        Points on the prediction grid.
    x_range : tuple (low, high), optional
        Span of the grid; by default the range of X.
    dpi : int, default=100

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import numpy as np
    >>> x = np.linspace(0, 6, 20).reshape(-1, 1)
    >>> fig = plot_sine_fit(x, np.sin(x[:, 0]), {"zero": lambda Z: np.zeros(len(Z))})
    >>> len(fig.axes[0].get_lines())  # sin(x) and the model
    2
    """
    x = np.asarray(X, dtype=np.float64).reshape(len(X), -1)
    if x.shape[1] != 1:
        raise ValueError(f"X must hold one feature (shape (n, 1)); got {np.shape(X)}")
    y = np.asarray(y, dtype=np.float64).reshape(-1)
    if y.shape != (x.shape[0],):
        raise ValueError(f"y must have shape ({x.shape[0]},); got {y.shape}")
    if not isinstance(models, Mapping):
        raise TypeError("models must be a mapping {label: fitted model}")
    fig, (ax,) = _new_figure(6.4, 4.0)
    lo, hi = (x.min(), x.max()) if x_range is None else x_range
    grid = np.linspace(lo, hi, int(n_grid)).reshape(-1, 1)
    ax.scatter(x[:, 0], y, s=8, color="0.55", label="data", zorder=1)
    if truth is not None:
        ax.plot(grid[:, 0], truth(grid[:, 0]), "k--", linewidth=1.2, label=truth_label, zorder=2)
    for i, (label, model) in enumerate(models.items()):
        pred = _predict_labels(model, grid.astype(np.float64)).reshape(-1)
        if truth is not None:
            mse = float(np.mean((pred - truth(grid[:, 0])) ** 2))
            against = truth_label
        else:
            mse = float(np.mean((_predict_labels(model, x).reshape(-1) - y) ** 2))
            against = "data"
        ax.plot(grid[:, 0], pred, color=CLASS_COLORS[i % len(CLASS_COLORS)], linewidth=2,
                label=f"{label}: MSE vs {against} {mse:.4f}", zorder=3)
    ax.set_xlabel("x")
    ax.set_ylabel("y")
    ax.grid(True, alpha=0.3)
    ax.legend(loc="best", fontsize="small")
    if title:
        ax.set_title(title)
    _save(fig, path, dpi)
    return fig


def plot_digits_grid(images: Any, y_true: Any, y_pred: Any = None,
                     path: Optional[PathLike] = None, *, n: int = 40, ncols: int = 10,
                     class_names: Optional[Sequence[str]] = None, shape: Optional[tuple] = None,
                     title: Optional[str] = None, dpi: int = 100) -> Any:
    """Show images in a grid, each titled with its predicted and true label.

    Parameters
    ----------
    images : array-like of shape (n_samples, h*w) or (n_samples, h, w)
        Flat rows are reshaped to ``shape`` (default: a square).
    y_true : array-like of shape (n_samples,)
    y_pred : array-like of shape (n_samples,), optional
        Predictions; wrong ones are titled in red.  Without it, titles show
        the true label only.
    path : str or os.PathLike, optional
        Where to write the figure.
    n : int, default=40
        How many images (the first n).
    ncols : int, default=10
    class_names : sequence of str, optional
        Names for labels 0..K-1 (e.g. Fashion-MNIST's).
    shape : tuple (h, w), optional
    title : str, optional
    dpi : int, default=100

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import numpy as np
    >>> fig = plot_digits_grid(np.zeros((3, 64)), [1, 2, 3], [1, 2, 5])
    >>> [ax.get_title() for ax in fig.axes]
    ['1', '2', '5 (true 3)']
    """
    imgs = np.asarray(images)
    y_true = np.asarray(y_true).reshape(-1)
    if imgs.ndim not in (2, 3) or len(imgs) != len(y_true):
        raise ValueError(f"images must be (n, h*w) or (n, h, w) with one label each; got shape "
                         f"{imgs.shape} and {len(y_true)} labels")
    if y_pred is not None:
        y_pred = np.asarray(y_pred).reshape(-1)
        if y_pred.shape != y_true.shape:
            raise ValueError(f"y_pred must have shape {y_true.shape}; got {y_pred.shape}")
    count = max(1, min(int(n), len(imgs)))
    if imgs.ndim == 2:
        if shape is None:
            side = int(round(np.sqrt(imgs.shape[1])))
            if side * side != imgs.shape[1]:
                raise ValueError(f"rows of {imgs.shape[1]} pixels are not square; pass "
                                 "shape=(h, w)")
            shape = (side, side)
        imgs = imgs.reshape(len(imgs), *shape)
    ncols = max(1, min(int(ncols), count))
    nrows = -(-count // ncols)
    fig, axes = _new_figure(1.1 * ncols, 1.3 * nrows + (0.4 if title else 0.0), ncols=ncols,
                            nrows=nrows)

    def name(v: Any) -> str:
        return str(class_names[int(v)]) if class_names is not None else str(v)

    for i, ax in enumerate(axes):
        ax.set_axis_off()
        if i >= count:
            continue
        ax.imshow(imgs[i], cmap="gray_r", interpolation="nearest")
        if y_pred is None:
            ax.set_title(name(y_true[i]), fontsize=8)
        else:
            ok = y_pred[i] == y_true[i]
            label = name(y_pred[i]) if ok else f"{name(y_pred[i])} (true {name(y_true[i])})"
            ax.set_title(label, fontsize=7 if class_names is None else 6,
                         color="black" if ok else "red")
    if title:
        fig.suptitle(title)
    _save(fig, path, dpi)
    return fig
