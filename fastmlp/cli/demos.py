"""The seed demos: classic results reproduced with fastmlp, with their figures.

Each demo is a function returning a :class:`DemoResult` (its measurements, the
published figure it checks, whether it was met, its wall time and the files it
wrote) and is runnable from the command line as ``fastmlp demo NAME``:

========================  ==========================================================
name                      what it shows
========================  ==========================================================
``perceptron``            a perceptron learns linearly separable data (100%) but not
                          XOR (at most 75%); one hidden layer learns XOR (100%)
``sine``                  universal approximation: 2 hidden layers fit sin(x) with
                          ReLU between them, and cannot without it
``spiral``                three interleaved spirals need tens of neurons
``mnist``                 the classic 784-16-16-10 digit network: >= 96% on MNIST
``mnist-nielsen``         784-30-10, sigmoid, quadratic cost, batches of 10,
                          learning rate 3.0, 30 epochs (Nielsen, ch. 1): >= 95%
``mnist-800``             784-800-10 with cross-entropy (Simard et al. 2003: 1.6%
                          test error): <= 1.6%
``fashion``               an MLP on Fashion-MNIST against scikit-learn's
                          MLPClassifier with the same network and optimizer
``norm``                  a deep sigmoid MLP on MNIST with and without batch
                          normalisation, same budget: epochs to 97% test accuracy
========================  ==========================================================

Every demo takes ``out_dir`` (where its PNG figures go; None writes none),
``seed`` and ``verbose``; the data-driven ones also take ``epochs``,
``n_train`` / ``n_samples`` to run at reduced size (the published figure is
then reported but not checked: ``met`` is None).  The MNIST demos also time
the same run with scikit-learn and PyTorch when they are installed
(``peers=False`` skips them); the MNIST files are found through ``data_path``,
``$FASTMLP_DATA`` or the cache (see :func:`fastmlp.datasets.load_mnist`).
"""
from __future__ import annotations

import contextlib
import os
import time
import warnings
from dataclasses import dataclass, field, replace
from typing import Any, Callable, Iterator, Optional, Sequence, Union

import numpy as np

from fastmlp import datasets, plotting
from fastmlp.mlp import MLP
from fastmlp.perceptron import ConvergenceWarning, Perceptron

__all__ = ["DemoResult", "PeerResult", "TrainSpec", "DEMOS", "run_demo", "demo_perceptron",
           "demo_sine", "demo_spiral", "demo_mnist", "demo_mnist_nielsen", "demo_mnist_800",
           "demo_fashion", "demo_norm"]

PathLike = Union[str, "os.PathLike[str]"]


# ---------------------------------------------------------------------------- results
@dataclass
class PeerResult:
    """The same training run done by another library (or why it was not)."""

    name: str
    seconds: Optional[float] = None
    accuracy: Optional[float] = None
    note: str = ""
    cpu_seconds: Optional[float] = None

    def line(self, ours: Optional[float] = None) -> str:
        if self.seconds is None:
            return f"  {self.name:<24} skipped: {self.note}"
        ratio = f"  ({self.seconds / ours:.1f}x fastmlp's time)" if ours else ""
        acc = "" if self.accuracy is None else f"  test accuracy {self.accuracy:.2%}"
        note = f"  [{self.note}]" if self.note else ""
        cpu = "" if self.cpu_seconds is None else f" ({self.cpu_seconds:.1f} s CPU)"
        return f"  {self.name:<24} {self.seconds:8.1f} s{cpu}{ratio}{acc}{note}"


@dataclass
class DemoResult:
    """What a demo measured.

    Attributes
    ----------
    name : str
        The demo's name (a key of :data:`DEMOS`).
    title : str
        One line saying what it shows.
    metrics : dict
        Measured numbers, e.g. ``{'test_accuracy': 0.9712}``.
    target : str
        The published figure checked, e.g. 'test accuracy >= 96%'.
    met : bool or None
        Whether the target was reached; None for a reduced-size run.
    seconds : float
        Wall time of the whole demo (data loading, training, figures).
    train_seconds : float
        Wall time of fastmlp's training alone.
    train_cpu_seconds : float or None
        CPU time of the process during that training (all threads); less
        sensitive than wall time to other programs sharing the machine.
    figures : list of str
        PNG files written.
    peers : list of PeerResult
        The same run by other libraries (MNIST demos).
    full_size : bool
        False when run at reduced size (fewer samples or epochs).
    details : list of str
        Further lines of the report (configuration, per-model numbers).
    """

    name: str
    title: str
    metrics: dict = field(default_factory=dict)
    target: str = ""
    met: Optional[bool] = None
    seconds: float = 0.0
    train_seconds: float = 0.0
    train_cpu_seconds: Optional[float] = None
    figures: list = field(default_factory=list)
    peers: list = field(default_factory=list)
    full_size: bool = True
    details: list = field(default_factory=list)

    def summary(self) -> str:
        """Return the multi-line report the command line prints."""
        if self.met is None:
            verdict = "not checked (reduced-size run)" if not self.full_size else "not checked"
        else:
            verdict = "MET" if self.met else "NOT MET"
        lines = [f"demo {self.name}: {self.title}"]
        lines += [f"  {d}" for d in self.details]
        lines.append(f"  target: {self.target} -> {verdict}")
        cpu = "" if self.train_cpu_seconds is None else f", {self.train_cpu_seconds:.1f} s CPU"
        lines.append(f"  wall time {self.seconds:.1f} s (fastmlp training "
                     f"{self.train_seconds:.1f} s{cpu})")
        if self.peers:
            lines.append("  the same run elsewhere (training time):")
            lines += [p.line(self.train_seconds) for p in self.peers]
        for f in self.figures:
            lines.append(f"  figure: {f}")
        return "\n".join(lines)


# ---------------------------------------------------------------------------- helpers
def _say(verbose: int, msg: str) -> None:
    if verbose:
        print(msg, flush=True)


def _figure_path(out_dir: Optional[PathLike], name: str) -> Optional[str]:
    if out_dir is None:
        return None
    os.makedirs(out_dir, exist_ok=True)
    return os.path.join(os.fspath(out_dir), name)


def _draw(result: DemoResult, out_dir: Optional[PathLike], name: str, verbose: int,
          draw: Callable[[str], Any]) -> None:
    """Write one figure through draw(path); without matplotlib, say so and go on."""
    path = _figure_path(out_dir, name)
    if path is None:
        return
    try:
        draw(path)
    except ImportError as exc:
        _say(verbose, f"  (figure {name} not written: {exc})")
        return
    result.figures.append(path)


def _boundary_panels(path: str, panels: Sequence[tuple], width: float, height: float) -> None:
    """Write one figure of decision boundaries side by side: panels of (model, X, y, title)."""
    fig, axes = plotting._new_figure(width, height, ncols=len(panels))
    for ax, (model, X, y, title) in zip(axes, panels):
        plotting.plot_decision_boundary(model, X, y, ax=ax, title=title)
    fig.savefig(path, dpi=90)


def _toy_size(n_samples: Optional[int], epochs: Optional[int], default_n: int,
              default_epochs: int) -> tuple:
    """(samples, epochs, full_size) of a toy demo from its optional reductions."""
    full = n_samples is None and epochs is None
    return (_check_positive("n_samples", n_samples) or default_n,
            _check_positive("epochs", epochs) or default_epochs, full)


def _check_positive(name: str, value: Optional[int]) -> Optional[int]:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{name} must be a positive int or None; got {value!r}")
    return int(value)


@contextlib.contextmanager
def _quiet_warnings(*categories: type) -> Iterator[None]:
    with warnings.catch_warnings():
        for c in categories:
            warnings.simplefilter("ignore", c)
        yield


# ---------------------------------------------------------------------------- demo 1
def demo_perceptron(*, out_dir: Optional[PathLike] = None, seed: int = 0,
                    verbose: int = 1) -> DemoResult:
    """A perceptron learns a linearly separable set but not XOR; a hidden layer does.

    Rosenblatt's perceptron reaches 100% on linearly separable points
    (Novikoff's theorem).  On XOR's four points no line gets more than three
    right (75%): the demo trains the perceptron (it never converges) and also
    sweeps 36,000 lines over every direction and offset to show 75% is the
    ceiling.  A 2-4-1 MLP (tanh, cross-entropy) then gets all four.

    Parameters
    ----------
    out_dir : str or os.PathLike, optional
        Directory for ``perceptron_xor.png`` (three decision boundaries).
    seed : int, default=0
    verbose : int, default=1

    Returns
    -------
    DemoResult

    Examples
    --------
    >>> res = demo_perceptron(verbose=0)
    >>> res.met, res.metrics["best_line_xor_accuracy"], res.metrics["mlp_xor_accuracy"]
    (True, 0.75, 1.0)
    """
    t0 = time.perf_counter()
    res = DemoResult("perceptron", "perceptron vs XOR, and the hidden layer that fixes it",
                     target="perceptron 100% on separable data, <= 75% on XOR; MLP 100% on XOR")
    Xs, ys = datasets.make_separable(200, margin=0.05, random_state=seed)
    sep = Perceptron(max_epochs=1000, seed=seed).fit(Xs, ys)
    acc_sep = sep.score(Xs, ys)

    Xx, yx = datasets.make_xor()
    with _quiet_warnings(ConvergenceWarning):
        xor_p = Perceptron(max_epochs=200, seed=seed).fit(Xx, yx)
    acc_xor_p = xor_p.score(Xx, yx)
    best_line = _best_linear_accuracy(Xx, yx)

    ts = time.perf_counter()
    xor_mlp = MLP([2, 4, 1], activation="tanh", loss="bce", seed=seed, dtype=np.float64,
                  init="auto")
    xor_mlp.fit(Xx, yx, epochs=500, batch_size=None, learning_rate=0.5, momentum=0.9, verbose=0,
                optimizer="sgd")
    res.train_seconds = time.perf_counter() - ts
    acc_xor_mlp = xor_mlp.score(Xx, yx)

    res.metrics = {"perceptron_separable_accuracy": acc_sep, "perceptron_xor_accuracy": acc_xor_p,
                   "best_line_xor_accuracy": best_line, "mlp_xor_accuracy": acc_xor_mlp,
                   "perceptron_separable_epochs": sep.n_epochs_}
    res.met = bool(acc_sep == 1.0 and acc_xor_p <= 0.75 and best_line <= 0.75
                   and acc_xor_mlp == 1.0)
    res.details = [
        f"perceptron, 200 separable points: {acc_sep:.0%} after {sep.n_epochs_} epochs "
        f"(converged={sep.converged_})",
        f"perceptron, XOR: {acc_xor_p:.0%} after {xor_p.n_epochs_} epochs (converged="
        f"{xor_p.converged_}); best of 36,000 lines: {best_line:.0%}",
        f"MLP 2-4-1 (tanh, cross-entropy), XOR: {acc_xor_mlp:.0%}",
    ]

    def draw(path: str) -> None:
        _boundary_panels(path, [(sep, Xs, ys, f"perceptron, separable: {acc_sep:.0%}"),
                                (xor_p, Xx, yx, f"perceptron, XOR: {acc_xor_p:.0%}"),
                                (xor_mlp, Xx, yx, f"MLP 2-4-1, XOR: {acc_xor_mlp:.0%}")],
                         13.5, 4.4)

    _draw(res, out_dir, "perceptron_xor.png", verbose, draw)
    res.seconds = time.perf_counter() - t0
    return res


def _best_linear_accuracy(X: np.ndarray, y: np.ndarray, n_angles: int = 360,
                          n_offsets: int = 100) -> float:
    """Best accuracy of any line ``w.x > b`` over a grid of directions and offsets."""
    theta = np.linspace(0.0, 2.0 * np.pi, n_angles, endpoint=False)
    W = np.column_stack([np.cos(theta), np.sin(theta)])  # (A, 2)
    proj = X @ W.T  # (n, A)
    lo, hi = proj.min() - 1e-3, proj.max() + 1e-3
    offsets = np.linspace(lo, hi, n_offsets)
    pred = proj[None, :, :] > offsets[:, None, None]  # (B, n, A)
    acc = (pred == (y[None, :, None] == y.max())).mean(axis=1)
    return float(acc.max())


# ---------------------------------------------------------------------------- demo 2
def demo_sine(*, out_dir: Optional[PathLike] = None, n_samples: Optional[int] = None,
              epochs: Optional[int] = None, threads: Optional[int] = None, seed: int = 0,
              verbose: int = 1) -> DemoResult:
    """Universal approximation: fit sin(x) with two hidden layers, with and without ReLU.

    The same 1-32-32-1 network is trained twice on noisy samples of sin(x)
    over one period: with ReLU between the layers it fits the curve; with the
    identity instead it is a composition of affine maps, i.e. one straight
    line, whatever its width.  Both errors are reported, measured against the
    noiseless sine on a grid.

    Parameters
    ----------
    out_dir : str or os.PathLike, optional
        Directory for ``sine_fit.png``.
    n_samples : int, optional
        Training points (default 400).
    epochs : int, optional
        Epochs (default 600).
    threads : int, optional
    seed : int, default=0
    verbose : int, default=1

    Returns
    -------
    DemoResult
    """
    t0 = time.perf_counter()
    n, ep, full = _toy_size(n_samples, epochs, 400, 600)
    res = DemoResult("sine", "a 2-hidden-layer network fits sin(x) with ReLU, not without",
                     target="with ReLU: MSE vs sin(x) < 0.01; without: MSE > 0.1 (a line)",
                     full_size=full)
    X, y = datasets.make_sine(n, noise=0.1, random_state=seed)
    grid = np.linspace(0.0, 2.0 * np.pi, 1000).reshape(-1, 1)
    models, mse = {}, {}
    ts = time.perf_counter()
    for act in ("relu", "identity"):
        net = MLP([1, 32, 32, 1], activation=act, loss="mse", seed=seed, n_threads=threads,
                  init="auto")
        net.fit(X, y, epochs=ep, batch_size=32, learning_rate=0.01, optimizer="adam", verbose=0)
        models[act] = net
        mse[act] = float(np.mean((net.predict(grid) - np.sin(grid[:, 0])) ** 2))
    res.train_seconds = time.perf_counter() - ts
    A = np.column_stack([grid[:, 0], np.ones(len(grid))])
    coef = np.linalg.lstsq(A, np.sin(grid[:, 0]), rcond=None)[0]
    best_line = float(np.mean((A @ coef - np.sin(grid[:, 0])) ** 2))
    res.metrics = {"mse_relu": mse["relu"], "mse_identity": mse["identity"],
                   "mse_best_line": best_line}
    if full:
        res.met = bool(mse["relu"] < 0.01 and mse["identity"] > 0.1)
    res.details = [f"1-32-32-1, Adam lr 0.01, {ep} epochs on {n} noisy points (noise sd 0.1)",
                   f"with ReLU:    MSE vs sin(x) = {mse['relu']:.5f}",
                   f"without ReLU: MSE vs sin(x) = {mse['identity']:.5f} (the best straight line: "
                   f"{best_line:.5f})"]

    def draw(path: str) -> None:
        plotting.plot_sine_fit(X, y, {"1-32-32-1 with ReLU": models["relu"],
                                      "1-32-32-1 without (identity)": models["identity"]},
                               path, title="universal approximation of sin(x)",
                               n_grid=len(grid), x_range=(0.0, 2.0 * np.pi))  # the errors' grid

    _draw(res, out_dir, "sine_fit.png", verbose, draw)
    res.seconds = time.perf_counter() - t0
    return res


# ---------------------------------------------------------------------------- demo 3
def demo_spiral(*, out_dir: Optional[PathLike] = None, n_samples: Optional[int] = None,
                epochs: Optional[int] = None, threads: Optional[int] = None, seed: int = 0,
                verbose: int = 1) -> DemoResult:
    """Three interleaved spirals: a few neurons fail, tens of neurons succeed.

    A 2-4-3 network and a 2-64-64-3 network are trained the same way on
    three spiral arms of 1.5 turns; both are scored on fresh points.

    Parameters
    ----------
    out_dir : str or os.PathLike, optional
        Directory for ``spiral.png`` (both decision boundaries) and
        ``spiral_history.png`` (the large network's curves).
    n_samples : int, optional
        Training points (default 1500; the test set has as many).
    epochs : int, optional
        Epochs (default 300).
    threads : int, optional
    seed : int, default=0
    verbose : int, default=1

    Returns
    -------
    DemoResult
    """
    t0 = time.perf_counter()
    n, ep, full = _toy_size(n_samples, epochs, 1500, 300)
    res = DemoResult("spiral", "three spirals need tens of neurons",
                     target="2-64-64-3 >= 97% on fresh points; 2-4-3 clearly below",
                     full_size=full)
    kw = dict(n_classes=3, noise=0.02, turns=1.5)
    X, y = datasets.make_spirals(n, random_state=seed, **kw)
    Xt, yt = datasets.make_spirals(n, random_state=seed + 1, **kw)
    nets = {}
    ts = time.perf_counter()
    for layers in ([2, 4, 3], [2, 64, 64, 3]):
        net = MLP(layers, activation="relu", seed=seed, n_threads=threads, init="auto")
        net.fit(X, y, epochs=ep, batch_size=32, learning_rate=0.005, optimizer="adam",
                validation_data=(Xt, yt), verbose=0)
        nets["-".join(map(str, layers))] = net
    res.train_seconds = time.perf_counter() - ts
    small, large = nets["2-4-3"], nets["2-64-64-3"]
    acc_s, acc_l = small.score(Xt, yt), large.score(Xt, yt)
    res.metrics = {"small_test_accuracy": acc_s, "large_test_accuracy": acc_l}
    if full:
        res.met = bool(acc_l >= 0.97 and acc_s < 0.9)
    res.details = [f"{n} points, 3 arms of 1.5 turns; Adam lr 0.005, batches of 32, {ep} epochs",
                   f"2-4-3 ({small.n_params} parameters):     test accuracy {acc_s:.1%}",
                   f"2-64-64-3 ({large.n_params:,} parameters): test accuracy {acc_l:.1%}"]

    def draw(path: str) -> None:
        _boundary_panels(path, [(small, Xt, yt, f"2-4-3: {acc_s:.1%} on fresh points"),
                                (large, Xt, yt, f"2-64-64-3: {acc_l:.1%} on fresh points")],
                         10.0, 4.8)

    def draw_hist(path: str) -> None:
        plotting.plot_history(large, path, title="2-64-64-3 on the spirals",
                              val_label="fresh points", log_loss=True)

    _draw(res, out_dir, "spiral.png", verbose, draw)
    _draw(res, out_dir, "spiral_history.png", verbose, draw_hist)
    res.seconds = time.perf_counter() - t0
    return res


# ---------------------------------------------------------------------------- MNIST runs
@dataclass(frozen=True)
class TrainSpec:
    """One training recipe, precise enough for other libraries to repeat it.

    Attributes
    ----------
    layers : tuple of int
    activation : str
        Hidden activation ('relu', 'sigmoid', 'tanh').
    loss : str
        'cce' (softmax + cross-entropy) or 'quadratic' (sigmoid outputs).
    optimizer : str
        'sgd' or 'adam'.
    schedule : tuple of (epochs, learning_rate)
        Phases run one after the other (a step decay of the learning rate);
        the optimizer state carries over between phases.
    momentum : float
    batch_size : int
    l2 : float
        Penalty ``0.5 * l2 * ||W||^2`` on the weights, added to the mean loss.
    dropout : float
        Inverted-dropout rate after each hidden layer during training.
    input_noise : float
        Standard deviation of Gaussian noise added to the inputs in training.
    sklearn : tuple of (name, value)
        MLPClassifier parameters overriding the recipe's, for choices it lacks
        (its classifier always uses softmax + cross-entropy); 'note' is shown.

    Examples
    --------
    >>> spec = TrainSpec((784, 30, 10), "sigmoid", "quadratic", schedule=((20, 3.0), (10, 0.3)))
    >>> spec.epochs, spec.with_epochs(5).schedule
    (30, ((5, 3.0),))
    """

    layers: tuple
    activation: str = "relu"
    loss: str = "cce"
    optimizer: str = "sgd"
    schedule: tuple = ((10, 0.1),)
    momentum: float = 0.0
    batch_size: int = 32
    l2: float = 0.0
    dropout: float = 0.0
    input_noise: float = 0.0
    sklearn: tuple = ()

    @property
    def epochs(self) -> int:
        return int(sum(e for e, _ in self.schedule))

    @property
    def output_activation(self) -> Optional[str]:
        return "sigmoid" if self.loss == "quadratic" else None

    def with_epochs(self, epochs: int) -> "TrainSpec":
        """The same recipe cut to ``epochs`` (phases kept in order, the last one shortened)."""
        phases, left = [], epochs
        for e, lr in self.schedule:
            if left <= 0:
                break
            phases.append((min(e, left), lr))
            left -= e
        return replace(self, schedule=tuple(phases))

    def describe(self) -> str:
        opt = self.optimizer + (f" (momentum {self.momentum:g})" if self.momentum else "")
        lrs = ", ".join(f"{lr:g} x {e}" for e, lr in self.schedule)
        loss = {"cce": "softmax + cross-entropy",
                "quadratic": "sigmoid + quadratic cost"}[self.loss]
        extra = "".join(f", {name} {v:g}" for name, v in (("L2", self.l2), ("dropout", self.dropout),
                                                           ("input noise", self.input_noise)) if v)
        return (f"{'-'.join(map(str, self.layers))} {self.activation}, {loss}, {opt}, "
                f"batches of {self.batch_size}, learning rate {lrs} epochs{extra}")


def _fit_spec(spec: TrainSpec, Xtr: np.ndarray, ytr: np.ndarray, Xte: np.ndarray, yte: np.ndarray,
              threads: Optional[int], seed: int, verbose: int) -> tuple:
    net = MLP(list(spec.layers), activation=spec.activation, loss=spec.loss,
              output_activation=spec.output_activation, seed=seed, n_threads=threads,
              dropout=spec.dropout, input_noise=spec.input_noise, init="auto")
    t0, c0 = time.perf_counter(), time.process_time()
    kw = {"momentum": spec.momentum} if spec.optimizer == "sgd" else {}
    for e, lr in spec.schedule:
        net.fit(Xtr, ytr, epochs=e, batch_size=spec.batch_size, learning_rate=lr,
                optimizer=spec.optimizer, l2=spec.l2, validation_data=(Xte, yte),
                verbose=verbose, **kw)
    return net, time.perf_counter() - t0, time.process_time() - c0


def _sklearn_peer(spec: TrainSpec, Xtr, ytr, Xte, yte, threads: Optional[int],
                  seed: int) -> PeerResult:
    try:
        from sklearn.exceptions import ConvergenceWarning as SkConvergenceWarning
        from sklearn.neural_network import MLPClassifier
        from threadpoolctl import threadpool_limits
    except ImportError:
        return PeerResult("scikit-learn", note="not installed (pip install scikit-learn)")
    acts = {"relu": "relu", "sigmoid": "logistic", "tanh": "tanh", "identity": "identity"}
    over = dict(spec.sklearn)
    note = over.pop("note", "")
    if spec.dropout or spec.input_noise:
        missing = " and ".join(n for n, v in (("dropout", spec.dropout),
                                              ("input noise", spec.input_noise)) if v)
        note = "; ".join(filter(None, [note, f"without {missing} (MLPClassifier has none)"]))
    clf = MLPClassifier(hidden_layer_sizes=tuple(spec.layers[1:-1]),
                        activation=acts[spec.activation], solver=spec.optimizer,
                        momentum=spec.momentum, nesterovs_momentum=False,
                        alpha=spec.l2 * spec.batch_size,  # sklearn divides alpha by the batch
                        batch_size=spec.batch_size, shuffle=True, random_state=seed, tol=0.0,
                        n_iter_no_change=spec.epochs + 1, warm_start=True)
    t0, c0 = time.perf_counter(), time.process_time()
    with threadpool_limits(limits=threads), _quiet_warnings(SkConvergenceWarning):
        for e, lr in spec.schedule:
            clf.set_params(**{"max_iter": e, "learning_rate_init": lr, **over})
            clf.fit(Xtr, ytr)
    dt, cpu = time.perf_counter() - t0, time.process_time() - c0
    return PeerResult("scikit-learn", dt, float(clf.score(Xte, yte)), note, cpu)


def _torch_peer(spec: TrainSpec, Xtr, ytr, Xte, yte, threads: Optional[int],
                seed: int) -> PeerResult:
    try:
        import torch
    except ImportError:
        return PeerResult("PyTorch (CPU)", note="not installed")
    before = torch.get_num_threads()
    try:
        if threads:
            torch.set_num_threads(int(threads))
        torch.manual_seed(seed)
        act = {"relu": torch.nn.ReLU, "sigmoid": torch.nn.Sigmoid, "tanh": torch.nn.Tanh,
               "identity": torch.nn.Identity}[spec.activation]
        mods: list = []
        for i in range(len(spec.layers) - 1):
            mods.append(torch.nn.Linear(spec.layers[i], spec.layers[i + 1]))
            if i < len(spec.layers) - 2:
                mods.append(act())
                if spec.dropout:
                    mods.append(torch.nn.Dropout(spec.dropout))
        if spec.loss == "quadratic":
            mods.append(torch.nn.Sigmoid())
        model = torch.nn.Sequential(*mods)
        weights = [p for n_, p in model.named_parameters() if n_.endswith("weight")]
        biases = [p for n_, p in model.named_parameters() if n_.endswith("bias")]
        groups = [{"params": weights, "weight_decay": spec.l2},
                  {"params": biases, "weight_decay": 0.0}]
        lr0 = spec.schedule[0][1]
        opt = (torch.optim.SGD(groups, lr=lr0, momentum=spec.momentum) if spec.optimizer == "sgd"
               else torch.optim.Adam(groups, lr=lr0))
        X = torch.from_numpy(np.ascontiguousarray(Xtr, dtype=np.float32))
        y = torch.from_numpy(np.asarray(ytr, dtype=np.int64))
        onehot = torch.nn.functional.one_hot(y, spec.layers[-1]).float()
        n, bs = X.shape[0], spec.batch_size
        t0, c0 = time.perf_counter(), time.process_time()
        for e, lr in spec.schedule:
            for g in opt.param_groups:
                g["lr"] = lr
            for _ in range(e):
                order = torch.randperm(n)
                for s in range(0, n, bs):
                    idx = order[s:s + bs]
                    xb = X[idx]
                    if spec.input_noise:
                        xb = xb + spec.input_noise * torch.randn_like(xb)
                    out = model(xb)
                    if spec.loss == "quadratic":
                        loss = 0.5 * ((out - onehot[idx]) ** 2).sum(dim=1).mean()
                    else:
                        loss = torch.nn.functional.cross_entropy(out, y[idx])
                    opt.zero_grad(set_to_none=True)
                    loss.backward()
                    opt.step()
        dt, cpu = time.perf_counter() - t0, time.process_time() - c0
        model.eval()
        with torch.no_grad():
            pred = model(torch.from_numpy(np.ascontiguousarray(Xte, dtype=np.float32))).argmax(1)
        acc = float((pred.numpy() == np.asarray(yte)).mean())
        return PeerResult("PyTorch (CPU)", dt, acc, cpu_seconds=cpu)
    finally:
        torch.set_num_threads(before)


PEERS = {"sklearn": _sklearn_peer, "torch": _torch_peer}


def _load_image_set(dataset: str, data_path: Optional[PathLike], n_train: Optional[int],
                    n_test: Optional[int], download: bool = False) -> tuple:
    loader = datasets.load_mnist if dataset == "mnist" else datasets.load_fashion_mnist
    Xtr, ytr = loader(data_path, "train", as_float=True, download=download)
    Xte, yte = loader(data_path, "test", as_float=True, download=download)
    if n_train is not None:
        Xtr, ytr = Xtr[:n_train], ytr[:n_train]
    if n_test is not None:
        Xte, yte = Xte[:n_test], yte[:n_test]
    return Xtr, ytr, Xte, yte


def _peers_arg(peers: Union[bool, Sequence[str]]) -> list:
    if peers is True:
        return list(PEERS)
    if peers is False or peers is None:
        return []
    names = list(peers)
    bad = [p for p in names if p not in PEERS]
    if bad:
        raise ValueError(f"peers: unknown {bad}; expected True, False or names from {list(PEERS)}")
    return names


@dataclass(frozen=True)
class _ImageDemo:
    """What one MNIST / Fashion-MNIST demo trains and what it checks."""

    name: str
    title: str
    spec: TrainSpec
    dataset: str  # 'mnist' or 'fashion-mnist'
    target: str
    #: the least test accuracy; with ``compare``, how far below that peer's it may fall
    threshold: float
    compare: Optional[str] = None
    class_names: Optional[Sequence[str]] = None


def _time_peers(demo: _ImageDemo, spec: TrainSpec, peer_names: Sequence[str], data: tuple,
                threads: Optional[int], seed: int, verbose: int) -> list:
    """Run spec with each peer; where scikit-learn had to drop dropout or input noise, also
    time fastmlp on the recipe it ran."""
    Xtr, ytr, Xte, yte = data
    out = []
    for p in peer_names:
        _say(verbose, f"demo {demo.name}: timing the same run with {p}...")
        peer = PEERS[p](spec, Xtr, ytr, Xte, yte, threads, seed)
        out.append(peer)
        if p == "sklearn" and peer.seconds is not None and (spec.dropout or spec.input_noise):
            _say(verbose, f"demo {demo.name}: timing fastmlp on the recipe scikit-learn ran...")
            plain = replace(spec, dropout=0.0, input_noise=0.0)
            net, wall, cpu = _fit_spec(plain, Xtr, ytr, Xte, yte, threads, seed, 0)
            out.append(PeerResult("fastmlp, as sklearn ran", wall,
                                  float(np.mean(net.predict(Xte) == yte)),
                                  "without dropout / input noise", cpu))
    return out


def _run_image_demo(demo: _ImageDemo, *, out_dir: Optional[PathLike],
                    data_path: Optional[PathLike], n_train: Optional[int], n_test: Optional[int],
                    epochs: Optional[int], threads: Optional[int], seed: int,
                    peers: Union[bool, Sequence[str]], verbose: int,
                    download: bool) -> DemoResult:
    """Train demo.spec on its images, check the test accuracy, time the peers, draw."""
    t0 = time.perf_counter()
    n_train, n_test = _check_positive("n_train", n_train), _check_positive("n_test", n_test)
    epochs = _check_positive("epochs", epochs)
    peer_names = _peers_arg(peers)
    if demo.compare:  # it runs first, whatever peers says
        peer_names = [demo.compare] + [p for p in peer_names if p != demo.compare]
    full = n_train is None and n_test is None and epochs is None
    spec = demo.spec if epochs is None else demo.spec.with_epochs(epochs)
    res = DemoResult(demo.name, demo.title, target=demo.target, full_size=full)
    Xtr, ytr, Xte, yte = _load_image_set(demo.dataset, data_path, n_train, n_test, download)
    _say(verbose, f"demo {demo.name}: {spec.describe()}; {len(Xtr)} training and {len(Xte)} "
                  f"test images")
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    net, res.train_seconds, res.train_cpu_seconds = _fit_spec(spec, Xtr, ytr, Xte, yte, threads,
                                                              seed, verbose)
    pred = net.predict(Xte)
    acc = float(np.mean(pred == yte))
    res.metrics = {"test_accuracy": acc, "test_error": 1.0 - acc,
                   "train_accuracy": float(net.score(Xtr, ytr))}
    res.details = [spec.describe(),
                   f"{len(Xtr)} training / {len(Xte)} test images; {net.n_params:,} parameters",
                   f"test accuracy {acc:.2%} (error {1 - acc:.2%}); training accuracy "
                   f"{res.metrics['train_accuracy']:.2%}",
                   f"threads {net.n_threads}; machine load average at the start "
                   f"{'n/a' if load is None else f'{load:.1f}'} ({os.cpu_count()} CPUs)"]
    res.peers = _time_peers(demo, spec, peer_names, (Xtr, ytr, Xte, yte), threads, seed, verbose)
    if demo.compare:
        ref = res.peers[0]
        res.metrics[f"{demo.compare}_accuracy"] = ref.accuracy
        if full and ref.accuracy is not None:
            res.met = bool(acc >= ref.accuracy - demo.threshold)
    elif full:
        res.met = bool(acc >= demo.threshold)

    def draw_hist(path: str) -> None:
        plotting.plot_history(net, path, title=f"{'-'.join(map(str, spec.layers))} on "
                              f"{'MNIST' if demo.dataset == 'mnist' else 'Fashion-MNIST'}",
                              val_label="test set")

    def draw_grid(path: str) -> None:
        first = np.arange(min(30, len(Xte)))
        wrong = np.flatnonzero(pred != yte)
        wrong = wrong[wrong >= len(first)][:10]  # not already among the first 30
        idx = np.concatenate([first, wrong])
        plotting.plot_digits_grid(Xte[idx], yte[idx], pred[idx], path, n=len(idx),
                                  class_names=demo.class_names,
                                  title=f"first 30 test images, then {len(wrong)} the network "
                                        f"gets wrong (test accuracy {acc:.2%})")

    _draw(res, out_dir, f"{demo.name}_history.png", verbose, draw_hist)
    _draw(res, out_dir, f"{demo.name}_grid.png", verbose, draw_grid)
    res.seconds = time.perf_counter() - t0
    return res


_IMAGE_DEMO_PARAMETERS = """
    Parameters
    ----------
    out_dir : str or os.PathLike, optional
        Directory for ``{name}_history.png`` (loss and accuracy per epoch,
        training and test set) and ``{name}_grid.png`` (test images with
        their predicted and true labels).
    data_path : str or os.PathLike, optional
        Directory with the {files} files (else ``$FASTMLP_DATA`` or the cache).
    n_train, n_test, epochs : int, optional
        Reduce the run (the first n images; fewer epochs); the target is then
        not checked.
    threads : int, optional
        Threads for fastmlp and for the peers.
    seed : int, default=0
    peers : bool or sequence of str, default=True
        Time the same run with 'sklearn' and 'torch' where installed.
    verbose : int, default=1
    download : bool, default=False
        Download the files into the cache when they are not found.

    Returns
    -------
    DemoResult
    """


def _image_demo_function(demo: _ImageDemo, doc: str) -> Callable[..., DemoResult]:
    """The public function of one image demo (all four take the same arguments)."""

    def run(*, out_dir: Optional[PathLike] = None, data_path: Optional[PathLike] = None,
            n_train: Optional[int] = None, n_test: Optional[int] = None,
            epochs: Optional[int] = None, threads: Optional[int] = None, seed: int = 0,
            peers: Union[bool, Sequence[str]] = True, verbose: int = 1,
            download: bool = False) -> DemoResult:
        return _run_image_demo(demo, out_dir=out_dir, data_path=data_path, n_train=n_train,
                               n_test=n_test, epochs=epochs, threads=threads, seed=seed,
                               peers=peers, verbose=verbose, download=download)

    run.__name__ = run.__qualname__ = "demo_" + demo.name.replace("-", "_")
    files = "MNIST" if demo.dataset == "mnist" else "Fashion-MNIST"
    run.__doc__ = doc.rstrip() + "\n" + _IMAGE_DEMO_PARAMETERS.format(name=demo.name, files=files)
    return run


#: The recipes of the image demos (the README's figures come from these).  Free choices
#: (learning-rate steps, L2, input noise, dropout) were made on a validation split -- the
#: last 10,000 training images, trained on the other 50,000, three seeds each -- before a
#: single run of each recipe on the test set.  Nielsen's recipe is his, unchanged.
SPEC_MNIST = TrainSpec((784, 16, 16, 10), "relu", "cce", "sgd",
                       schedule=((40, 0.01), (10, 0.001)), momentum=0.9, batch_size=32,
                       l2=5e-5, input_noise=0.2)
SPEC_NIELSEN = TrainSpec((784, 30, 10), "sigmoid", "quadratic", "sgd", schedule=((30, 3.0),),
                         batch_size=10,
                         sklearn=(("learning_rate_init", 0.5),
                                  ("note", "softmax + cross-entropy: its only classifier loss; "
                                           "learning rate 0.5"),))
SPEC_800 = TrainSpec((784, 800, 10), "relu", "cce", "sgd",
                     schedule=((30, 0.05), (15, 0.01), (15, 0.002)), momentum=0.9,
                     batch_size=128, dropout=0.5)
SPEC_FASHION = TrainSpec((784, 256, 128, 10), "relu", "cce", "adam", schedule=((30, 1e-3),),
                         batch_size=128)

demo_mnist = _image_demo_function(
    _ImageDemo("mnist", "the classic 784-16-16-10 digit network", SPEC_MNIST, "mnist",
               "test accuracy >= 96%", 0.96),
    """The classic 784-16-16-10 digit network on MNIST: at least 96% test accuracy.

    Two hidden layers of 16 ReLUs, SGD with momentum, a step in the learning
    rate, L2 and Gaussian input noise (:data:`SPEC_MNIST`).
    """)

demo_mnist_nielsen = _image_demo_function(
    _ImageDemo("mnist-nielsen", "784-30-10 sigmoid, quadratic cost, lr 3.0 (Nielsen)",
               SPEC_NIELSEN, "mnist", "test accuracy >= 95% (published: ~95%)", 0.95),
    """Nielsen's textbook network: 784-30-10 sigmoid, quadratic cost, >= 95%.

    Mini-batches of 10, learning rate 3.0, 30 epochs, plain SGD, as in
    chapter 1 of "Neural Networks and Deep Learning" (published at about
    95%).
    """)

demo_mnist_800 = _image_demo_function(
    _ImageDemo("mnist-800", "784-800-10 with cross-entropy (Simard et al. 2003: 1.6%)",
               SPEC_800, "mnist", "test error <= 1.6% (published: 1.6%)", 0.984),
    """784-800-10 with cross-entropy: at most 1.6% test error (Simard et al., 2003).

    ReLU, SGD with momentum, three learning-rate steps and dropout 0.5 after
    the hidden layer (:data:`SPEC_800`).
    """)

demo_fashion = _image_demo_function(
    _ImageDemo("fashion", "Fashion-MNIST: fastmlp vs scikit-learn's MLPClassifier",
               SPEC_FASHION, "fashion-mnist",
               "test accuracy within 0.5 points of scikit-learn's MLPClassifier or above", 0.005,
               compare="sklearn", class_names=datasets.FASHION_MNIST_CLASSES),
    """Fashion-MNIST: fastmlp against scikit-learn's MLPClassifier, same recipe.

    Both train 784-256-128-10 (ReLU, softmax + cross-entropy) with Adam, the
    same learning rate, batch size and epochs; the target is a test accuracy
    no more than half a point below scikit-learn's (run here when it is
    installed, even with ``peers=False``; otherwise the target is not
    checked).
    """)


#: the normalisation demo's recipe: Ioffe and Szegedy's MNIST network and optimizer (three
#: hidden sigmoid layers of 100, plain SGD, batches of 60)
NORM_SPEC = TrainSpec((784, 100, 100, 100, 10), "sigmoid", "cce", "sgd", ((20, 0.1),),
                      batch_size=60)
NORM_TARGET_ACCURACY = 0.97


def _epochs_to(history: Sequence[float], level: float) -> Optional[int]:
    """The first epoch (1-based) whose value reaches ``level``, or None."""
    hit = [i + 1 for i, v in enumerate(history) if v >= level]
    return hit[0] if hit else None


def demo_norm(*, out_dir: Optional[PathLike] = None, data_path: Optional[PathLike] = None,
              n_train: Optional[int] = None, n_test: Optional[int] = None,
              epochs: Optional[int] = None, threads: Optional[int] = None, seed: int = 0,
              verbose: int = 1, download: bool = False) -> DemoResult:
    """Batch normalisation on a deep sigmoid MLP: MNIST, with and without, same budget.

    784-100-100-100-10 with sigmoid hidden layers (the network of Ioffe and
    Szegedy's MNIST experiment), softmax + cross-entropy, plain SGD at 0.1,
    batches of 60, 20 epochs, trained twice from the same seed:
    plain and with ``norm="batch"`` on every hidden layer.  The test accuracy
    after every epoch (batch norm on its running statistics) is recorded; the
    target is that the batch-normalised network reaches 97% in fewer epochs
    than the plain one (or the plain one not at all within the budget).

    Parameters
    ----------
    out_dir : str or os.PathLike, optional
        Directory for ``norm_curves.png`` (test accuracy and training loss
        per epoch, both networks side by side).
    data_path : str or os.PathLike, optional
        Directory with the MNIST files (else ``$FASTMLP_DATA`` or the cache).
    n_train, n_test, epochs : int, optional
        Reduce the run; the target is then not checked.
    threads : int, optional
    seed : int, default=0
    verbose : int, default=1
    download : bool, default=False
        Download the files into the cache when they are not found.

    Returns
    -------
    DemoResult
    """
    t0 = time.perf_counter()
    n_train, n_test = _check_positive("n_train", n_train), _check_positive("n_test", n_test)
    epochs = _check_positive("epochs", epochs)
    full = n_train is None and n_test is None and epochs is None
    spec = NORM_SPEC if epochs is None else NORM_SPEC.with_epochs(epochs)
    level = NORM_TARGET_ACCURACY
    res = DemoResult("norm", "batch normalisation speeds up a deep sigmoid network",
                     target=f"with batch norm, {level:.0%} test accuracy in fewer epochs than "
                            f"without", full_size=full)
    Xtr, ytr, Xte, yte = _load_image_set("mnist", data_path, n_train, n_test, download)
    _say(verbose, f"demo norm: {spec.describe()}; {len(Xtr)} training and {len(Xte)} test "
                  f"images; plain, then with batch norm")
    nets, reach, secs = {}, {}, {}
    for label, norm in (("plain", None), ("batch norm", "batch")):
        net = MLP(list(spec.layers), activation=spec.activation, loss=spec.loss, seed=seed,
                  n_threads=threads, init="auto", norm=norm)
        ts = time.perf_counter()
        for e, lr in spec.schedule:
            net.fit(Xtr, ytr, epochs=e, batch_size=spec.batch_size, learning_rate=lr,
                    optimizer=spec.optimizer, momentum=spec.momentum,
                    validation_data=(Xte, yte), verbose=verbose)
        secs[label] = time.perf_counter() - ts
        nets[label] = net
        reach[label] = _epochs_to(net.history_["val_accuracy"], level)
    res.train_seconds = sum(secs.values())
    acc = {k: float(n.history_["val_accuracy"][-1]) for k, n in nets.items()}
    res.metrics = {"plain_test_accuracy": acc["plain"], "bn_test_accuracy": acc["batch norm"],
                   "plain_epochs_to_97": reach["plain"], "bn_epochs_to_97": reach["batch norm"],
                   "plain_seconds": secs["plain"], "bn_seconds": secs["batch norm"]}
    if full:
        res.met = bool(reach["batch norm"] is not None
                       and (reach["plain"] is None or reach["batch norm"] < reach["plain"]))

    def said(k: str) -> str:
        return (f"{level:.0%} after {reach[k]} epoch{'s' if reach[k] != 1 else ''}"
                if reach[k] else f"{level:.0%} not reached in {spec.epochs} epochs")

    res.details = [spec.describe(), f"{len(Xtr)} training / {len(Xte)} test images"] + [
        f"{k:<10}: test accuracy {acc[k]:.2%} after {spec.epochs} epochs; {said(k)}; "
        f"{secs[k]:.1f} s ({secs[k] / spec.epochs:.2f} s per epoch)" for k in nets]

    def draw(path: str) -> None:
        fig, (ax1, ax2) = plotting._new_figure(11.0, 4.2, ncols=2)
        for k, net in nets.items():
            ep = np.arange(1, len(net.history_["val_accuracy"]) + 1)
            ax1.plot(ep, np.asarray(net.history_["val_accuracy"]) * 100, marker="o", ms=3,
                     label=f"{k} ({said(k)})")
            ax2.plot(ep, net.history_["loss"], marker="o", ms=3, label=k)
        ax1.axhline(level * 100, color="grey", lw=0.8, ls="--")
        for ax in (ax1, ax2):
            ax.xaxis.get_major_locator().set_params(integer=True)
        ax1.set(xlabel="epoch", ylabel="test accuracy (%)", title="MNIST test accuracy")
        ax2.set(xlabel="epoch", ylabel="training loss", yscale="log",
                title="training loss (cross-entropy)")
        for ax in (ax1, ax2):
            ax.legend()
            ax.grid(alpha=0.3)
        fig.suptitle(f"{'-'.join(map(str, spec.layers))} sigmoid, SGD, batches of "
                     f"{spec.batch_size}: with and without batch normalisation")
        fig.savefig(path, dpi=90)

    _draw(res, out_dir, "norm_curves.png", verbose, draw)
    res.seconds = time.perf_counter() - t0
    return res


#: name -> demo function (what ``fastmlp demo NAME`` runs)
DEMOS: dict = {
    "perceptron": demo_perceptron,
    "sine": demo_sine,
    "spiral": demo_spiral,
    "mnist": demo_mnist,
    "mnist-nielsen": demo_mnist_nielsen,
    "mnist-800": demo_mnist_800,
    "fashion": demo_fashion,
    "norm": demo_norm,
}


def run_demo(name: str, **kwargs: Any) -> DemoResult:
    """Run the demo called ``name`` (a key of :data:`DEMOS`) with its keyword arguments.

    Examples
    --------
    >>> res = run_demo("sine", n_samples=50, epochs=5, verbose=0)
    >>> res.full_size, res.met, sorted(res.metrics)
    (False, None, ['mse_best_line', 'mse_identity', 'mse_relu'])
    """
    if name not in DEMOS:
        raise ValueError(f"unknown demo {name!r}; expected one of {', '.join(DEMOS)}")
    return DEMOS[name](**kwargs)
