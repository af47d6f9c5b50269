"""The multi-layer perceptron: fastmlp's main model."""
from __future__ import annotations

import math
import os
from typing import Any, Optional, Sequence, Union

import numpy as np

from fastmlp import _backend as B
from fastmlp import _fit
from fastmlp import io as _io
from fastmlp._targets import TargetsMixin
from fastmlp._validation import (check_dropout, check_dtype, check_nonneg_float, check_X,
                                 check_y_2d, resolve_threads)

__all__ = ["MLP", "parse_layers"]

core = B.core
#: rows per C call at inference (bounds the scratch memory)
_PREDICT_CHUNK = 4096


def parse_layers(layers: Union[str, Sequence[int]]) -> list[int]:
    """Return layer widths from ``[784, 16, 16, 10]`` or ``"784-16-16-10"``."""
    if isinstance(layers, str):
        tokens = [t.strip() for t in layers.replace(",", "-").split("-")]
        if not all(t.isdigit() for t in tokens):
            raise ValueError(f"layers must look like '784-16-16-10'; got {layers!r}")
        layers = [int(t) for t in tokens]
    try:
        sizes = [int(s) for s in layers]
    except (TypeError, ValueError):
        raise ValueError(f"layers must be a sequence of positive ints; got {layers!r}") from None
    if len(sizes) < 2:
        raise ValueError(f"layers needs at least an input and an output width; got {sizes}")
    if len(sizes) > 65:
        raise ValueError(f"layers: at most 64 weight layers are supported; got {len(sizes) - 1}")
    if any(isinstance(s, bool) or s < 1 for s in sizes) or any(
        not float(s0).is_integer() for s0 in layers
    ):
        raise ValueError(f"layers must be positive ints; got {list(layers)}")
    return sizes


class MLP(TargetsMixin, _fit.TrainingMixin):
    """A fully connected feed-forward network trained by backpropagation in C.

    Parameters
    ----------
    layers : sequence of int or str
        Widths from input to output, e.g. ``[784, 16, 16, 10]`` or
        ``"784-16-16-10"``.  The network is built (and its weights drawn) at
        construction, so its parameters can be inspected and set before fit.
    activation : str or sequence of str, default='relu'
        Hidden-layer activation, one for all or one per hidden layer: 'identity',
        'step', 'sigmoid', 'tanh', 'relu', 'leaky_relu'.
    output_activation : str, optional
        Output activation; by default the one the loss implies ('softmax' for
        'cce', 'sigmoid' for 'bce', 'identity' for 'mse'/'mae').
    loss : str, default='auto'
        'mse' (mean of squared errors over samples and outputs), 'mae', 'bce'
        (sigmoid output, stable from logits, averaged like 'mse'), 'cce'
        (softmax output; summed over classes, averaged over samples) or
        'quadratic' (the textbook 1/(2n) sum ||y - a||^2).  'auto' decides at the first fit: class labels give
        'cce' ('bce' with one output), real-valued targets give 'mse'.
    leaky_slope : float, default=0.01
        Negative-side slope of 'leaky_relu' (>= 0).
    init : {'auto', 'he_uniform', 'glorot_uniform', 'sklearn'}, default='auto'
        Weight initialisation; 'auto' is He for (leaky) ReLU and Glorot
        otherwise, with zero biases; 'sklearn' reproduces scikit-learn's.
    dtype : {float32, float64}, default=float32
        Precision of parameters and computation.
    seed : int, optional
        Seeds weight initialisation, shuffling, dropout and input noise.
    n_threads : int, optional
        Threads for the kernels; None uses every usable CPU.
    dropout : float or sequence of float, default=0
        Inverted-dropout rate in [0, 1) after each hidden layer (one for all,
        or one per hidden layer), in training only: each hidden unit is zeroed
        with that probability and the kept ones scaled by 1/(1-rate), so
        inference uses the whole network unscaled.  The masks come from a
        counter-based RNG keyed by (seed, step, layer, unit), reproducible
        for a seed.
    input_noise : float, default=0
        Standard deviation of Gaussian noise added to the inputs in training.

    Attributes
    ----------
    coefs_ : list of ndarray
        Weight matrices, ``coefs_[i]`` of shape (layers[i], layers[i+1]); views
        into the model's parameter buffer (writable).
    intercepts_ : list of ndarray
        Bias vectors (views, writable).
    classes_ : ndarray
        Class labels, once fitted on labels.
    history_ : dict of lists
        Per-epoch 'loss' (with the l1/l2 penalties), then 'accuracy' and
        'error_rate' (classification) or 'mse', 'mae', 'r2' (regression),
        running averages over the epoch's batches; the same on the validation
        data with a ``val_`` prefix; 'lr' (of the epoch's last batch) and 'time'
        (seconds).  Appended to by every fit.
    stop_training : bool
        Set it to True from a callback to end training cleanly.
    interrupted_ : bool
        True when the last fit was stopped by KeyboardInterrupt.

    Examples
    --------
    >>> from fastmlp import MLP
    >>> net = MLP([2, 5, 5, 3])  # (2+1)*5 + (5+1)*5 + (5+1)*3
    >>> net.n_params
    63
    """

    def __init__(self, layers: Union[str, Sequence[int]], *, activation: Union[str, Sequence[str]] = "relu",
                 output_activation: Optional[str] = None, loss: str = "auto",
                 leaky_slope: float = 0.01, init: str = "auto", dtype: Any = np.float32,
                 seed: Optional[int] = None, n_threads: Optional[int] = None,
                 dropout: Union[float, Sequence[float]] = 0.0, input_noise: float = 0.0) -> None:
        self.layers = parse_layers(layers)
        n_hidden = len(self.layers) - 2
        acts = [activation] * n_hidden if isinstance(activation, str) else list(activation)
        if len(acts) != n_hidden:
            raise ValueError(f"activation: {n_hidden} hidden layers need {n_hidden} activations; "
                             f"got {len(acts)}")
        self.activations = [B.canonical(a, {k: 0 for k in B.HIDDEN_ACTIVATIONS},
                                        B.ACTIVATION_ALIASES, "hidden activation") for a in acts]
        self.leaky_slope = check_nonneg_float(leaky_slope, "leaky_slope")
        if init not in ("auto", "he_uniform", "glorot_uniform", "sklearn"):
            raise ValueError(f"init must be 'auto', 'he_uniform', 'glorot_uniform' or 'sklearn'; got {init!r}")
        self.init = init
        self.dtype = check_dtype(dtype)
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, (int, np.integer))):
            raise ValueError(f"seed must be an int or None; got {seed!r}")
        self.seed = seed
        self.n_threads = resolve_threads(n_threads, core.max_threads())
        self._rng = np.random.default_rng(seed)
        self.loss = "auto" if loss == "auto" else B.canonical(loss, B.LOSSES, B.LOSS_ALIASES, "loss")
        self.output_activation: Optional[str] = None
        if output_activation is not None:
            self.output_activation = B.canonical(output_activation, B.ACTIVATIONS,
                                                 B.ACTIVATION_ALIASES, "output activation")
        if self.loss != "auto":
            self._resolve_output(self.loss)
        self.dropout = check_dropout(dropout, n_hidden)
        self.input_noise = check_nonneg_float(input_noise, "input_noise")
        # keys the C counter RNG of dropout and noise; drawn without touching _rng
        self._noise_seed = int(np.random.SeedSequence(seed).generate_state(1, np.uint64)[0])
        self.classes_: Optional[np.ndarray] = None
        self.history_: dict[str, list] = {}
        self._opt_state: Optional[dict] = None
        self.stop_training = False
        self.interrupted_ = False
        self._params = np.zeros(sum((i + 1) * o for i, o in self._shapes()), dtype=self.dtype)
        self.reset_parameters()

    # ------------------------------------------------------------------ structure
    def _shapes(self) -> list[tuple[int, int]]:
        return [(self.layers[i], self.layers[i + 1]) for i in range(len(self.layers) - 1)]

    def _resolve_output(self, loss: str) -> None:
        fused = B.LOSS_OUTPUT.get(loss)
        if fused is not None:
            if self.output_activation not in (None, fused):
                raise ValueError(f"loss {loss!r} is computed from logits fused with a {fused!r} "
                                 f"output; output_activation={self.output_activation!r} conflicts")
            self.output_activation = fused
        elif self.output_activation is None:
            self.output_activation = "identity"
        if self.output_activation == "softmax" and loss != "cce":
            raise ValueError("a softmax output is only supported with loss='cce'")
        if loss == "cce" and self.layers[-1] < 2:
            raise ValueError("loss 'cce' (softmax) needs at least 2 outputs; use 'bce' for one")
        self.loss = loss

    @property
    def n_params(self) -> int:
        """Number of weights and biases."""
        return int(self._params.size)

    @property
    def n_weights(self) -> int:
        """Number of weights (biases excluded)."""
        return sum(i * o for i, o in self._shapes())

    def _net_arrays(self, last_act: Optional[str] = None):
        acts = [B.ACTIVATIONS[a] for a in self.activations]
        acts.append(B.ACTIVATIONS[last_act or self.output_activation or "identity"])
        slopes = np.full(len(acts), self.leaky_slope, dtype=np.float64)
        return (np.asarray(self.layers, dtype=np.int64), np.asarray(acts, dtype=np.int32), slopes)

    @property
    def coefs_(self) -> list[np.ndarray]:
        """Weight matrices as writable views, shape (n_in, n_out) each."""
        return self._views(self._params)[0]

    @coefs_.setter
    def coefs_(self, values: Sequence[Any]) -> None:
        self.set_parameters(values, self.intercepts_)

    @property
    def intercepts_(self) -> list[np.ndarray]:
        """Bias vectors as writable views."""
        return self._views(self._params)[1]

    @intercepts_.setter
    def intercepts_(self, values: Sequence[Any]) -> None:
        self.set_parameters(self.coefs_, values)

    def set_parameters(self, coefs: Sequence[Any], intercepts: Sequence[Any]) -> None:
        """Copy weights and biases in (validated first; nothing changes on error)."""
        shapes = self._shapes()
        if len(coefs) != len(shapes) or len(intercepts) != len(shapes):
            raise ValueError(f"expected {len(shapes)} weight matrices and bias vectors; got "
                             f"{len(coefs)} and {len(intercepts)}")
        new = np.empty_like(self._params)
        cw, cb = self._views(new)
        for l, ((i, o), w, b) in enumerate(zip(shapes, coefs, intercepts)):
            w, b = np.asarray(w, dtype=np.float64), np.asarray(b, dtype=np.float64)
            if w.shape != (i, o):
                raise ValueError(f"coefs[{l}] must have shape {(i, o)}; got {w.shape}")
            if b.shape != (o,):
                raise ValueError(f"intercepts[{l}] must have shape {(o,)}; got {b.shape}")
            if not (np.isfinite(w).all() and np.isfinite(b).all()):
                raise ValueError(f"coefs[{l}] / intercepts[{l}] contain NaN or infinity")
            cw[l][...], cb[l][...] = w, b
        self._params[...] = new
        self._opt_state = None

    def _views(self, flat: np.ndarray):
        """(weights, biases) as views into a flat buffer laid out like ``_params``:
        every weight matrix, then every bias vector."""
        ws, bs, off = [], [], 0
        for i, o in self._shapes():
            ws.append(flat[off:off + i * o].reshape(i, o))
            off += i * o
        for _, o in self._shapes():
            bs.append(flat[off:off + o])
            off += o
        return ws, bs

    def reset_parameters(self) -> None:
        """Draw fresh initial weights (see ``init``) and forget optimizer state."""
        ws, bs = self._views(self._params)
        for l, (i, o) in enumerate(self._shapes()):
            act = self.activations[l] if l < len(self.activations) else (
                self.activations[-1] if self.activations else "identity")
            if self.init == "sklearn":
                factor = 2.0 if (self.activations and self.activations[0] == "sigmoid") else 6.0
                bound = math.sqrt(factor / (i + o))
                ws[l][...] = self._rng.uniform(-bound, bound, (i, o))
                bs[l][...] = self._rng.uniform(-bound, bound, o)
                continue
            he = self.init == "he_uniform" or (self.init == "auto" and act in ("relu", "leaky_relu")
                                                and l < len(self.activations))
            bound = math.sqrt(6.0 / i) if he else math.sqrt(6.0 / (i + o))
            ws[l][...] = self._rng.uniform(-bound, bound, (i, o))
            bs[l][...] = 0.0
        self._opt_state = None

    def summary(self) -> str:
        """Return a per-layer table of shapes, activations and parameter counts."""
        rows = [f"{'layer':<8}{'shape':>14}{'activation':>14}{'params':>10}"]
        acts = self.activations + [self.output_activation or "(auto)"]
        for l, (i, o) in enumerate(self._shapes()):
            rows.append(f"{'dense_' + str(l):<8}{f'{i} -> {o}':>14}{acts[l]:>14}{(i + 1) * o:>10,}")
        rows.append(f"{'total':<8}{'':>14}{'':>14}{self.n_params:>10,}")
        return "\n".join(rows)

    def __repr__(self) -> str:
        return (f"MLP({'-'.join(map(str, self.layers))}, activation={self.activations}, "
                f"output={self.output_activation}, loss={self.loss}, dtype={self.dtype.name})")

    # ------------------------------------------------------------------ training
    def reset_optimizer(self) -> None:
        """Forget the optimizer state (moments, momentum, step): the next fit starts afresh."""
        self._opt_state = None

    def fit(self, X: Any, y: Any, *, epochs: int = 10, batch_size: Optional[int] = 32,
            learning_rate: Optional[float] = None, optimizer: Any = "sgd",
            momentum: Optional[float] = None, nesterov: Optional[bool] = None, l2: float = 0.0,
            l1: float = 0.0, lr_schedule: Any = None, shuffle: bool = True,
            validation_split: float = 0.0, validation_data: Optional[tuple] = None,
            sample_weight: Any = None, class_weight: Any = None,
            callbacks: Optional[Sequence[Any]] = None, verbose: int = 1) -> "MLP":
        """Train by mini-batch gradient descent; return self.

        Training continues from the current weights and optimizer state (its
        moments and step carry over between calls while the optimizer's rule
        stays the same; see :meth:`reset_optimizer`).  Ctrl-C stops it cleanly:
        the model keeps the weights of the last completed step and the history
        of the completed epochs, and ``interrupted_`` is set.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Finite values.  The first epoch checks each batch for NaN and
            infinity right before training on it (instead of a pass over all
            of X up front); a bad value raises ValueError and puts the model
            back exactly as it was before the call (weights, optimizer state,
            RNG, history), though callbacks may have seen the batches before
            it.
        y : array-like
            Class labels (1-D), or targets of shape (n_samples, n_outputs).
        epochs : int, default=10
        batch_size : int or None, default=32
            None (or >= n_samples) is full-batch gradient descent, 1 is
            stochastic, anything between is mini-batch.
        learning_rate : float, optional
            The rate for an optimizer given by name (default 0.01).  With an
            optimizer object, set ``lr`` on it instead.
        optimizer : str or fastmlp.optim.Optimizer, default='sgd'
            'sgd', 'adagrad', 'rmsprop', 'adam', 'adamw' (torch.optim's rules
            and defaults) or an object such as ``Adam(lr=1e-3)``.
        momentum, nesterov : float, bool, optional
            For optimizer='sgd' (and momentum for 'rmsprop').
        l2 : float, default=0
            L2 penalty 0.5*l2*||W||^2 on the weights (biases excluded), part
            of the reported loss; see also the optimizers' ``weight_decay``.
        l1 : float, default=0
            L1 penalty l1*||W||_1 on the weights (biases excluded).
        lr_schedule : str or fastmlp.schedules.LRSchedule, optional
            'constant', 'step', 'exponential', 'invscaling', 'plateau',
            'one_cycle', or a schedule object; scales the optimizer's rate.
        shuffle : bool, default=True
            Reshuffle the samples every epoch.
        validation_split : float, default=0
            Fraction of (X, y) held out (the last rows, before shuffling) and
            evaluated after each epoch; ignored when validation_data is given.
        validation_data : tuple (X_val, y_val), optional
        sample_weight : array-like of shape (n_samples,), optional
            Per-sample weights: each batch's loss is sum(w*l)/sum(w).
        class_weight : dict or 'balanced', optional
            Per-class weights multiplying sample_weight; 'balanced' is
            n_samples / (n_classes * count(class)).
        callbacks : list of fastmlp.callbacks.Callback, optional
            E.g. EarlyStopping, ModelCheckpoint (see fastmlp.callbacks).
        verbose : int, default=1
            0 prints nothing; 1 shows progress bars on a terminal or notebook
            and one line per epoch otherwise; 2 always one line per epoch.

        Returns
        -------
        self : MLP
        """
        _fit.run_fit(self, X, y, epochs=epochs, batch_size=batch_size,
                     learning_rate=learning_rate, optimizer=optimizer, momentum=momentum,
                     nesterov=nesterov, l2=l2, l1=l1, lr_schedule=lr_schedule, shuffle=shuffle,
                     validation_split=validation_split, validation_data=validation_data,
                     sample_weight=sample_weight, class_weight=class_weight,
                     callbacks=callbacks, verbose=verbose)
        return self

    def fit_one_cycle(self, X: Any, y: Any, epochs: int = 10, max_lr: Optional[float] = None, *,
                      pct_start: float = 0.25, div: float = 25.0, div_final: float = 1e5,
                      moms: Sequence[float] = (0.95, 0.85, 0.95), **fit_kwargs: Any) -> "MLP":
        """fit with the 1cycle policy (fastai's ``fit_one_cycle``); see
        :class:`fastmlp.schedules.OneCycle`.  ``max_lr`` defaults to the
        optimizer's rate; other keywords go to :meth:`fit`."""
        from fastmlp.schedules import OneCycle

        sched = OneCycle(max_lr=max_lr, pct_start=pct_start, div=div, div_final=div_final,
                         moms=moms)
        return self.fit(X, y, epochs=epochs, lr_schedule=sched, **fit_kwargs)

    def lr_find(self, X: Any, y: Any, *, start_lr: float = 1e-7, end_lr: float = 10.0,
                num_it: int = 100, optimizer: Any = "sgd", batch_size: int = 32,
                stop_div: bool = True, l2: float = 0.0, l1: float = 0.0,
                sample_weight: Any = None, class_weight: Any = None):
        """Learning-rate range test (fastai's ``lr_find``): train ``num_it``
        batches with the rate growing exponentially from start_lr to end_lr,
        record the loss of each, then put the model back as it was.

        Returns a :class:`fastmlp.schedules.LRFinderResult` (``lrs``,
        smoothed ``losses``, ``raw_losses``, ``suggestion``; ``.plot(path)``).
        It stops early once the smoothed loss exceeds 4x its minimum
        (``stop_div``).  The optimizer's own lr is ignored.
        """
        return _fit.run_lr_find(self, X, y, start_lr=start_lr, end_lr=end_lr, num_it=num_it,
                                optimizer=optimizer, batch_size=batch_size, stop_div=stop_div,
                                l2=l2, l1=l1, sample_weight=sample_weight,
                                class_weight=class_weight)

    # ------------------------------------------------------------------ persistence
    def save(self, path: Union[str, "os.PathLike[str]"]) -> str:
        """Save architecture, weights, optimizer state and history to one ``.npz``
        (atomically); return the path written.  See :mod:`fastmlp.io`."""
        return _io.save(self, path)

    @classmethod
    def load(cls, path: Union[str, "os.PathLike[str]"], n_threads: Optional[int] = None) -> "MLP":
        """Load a model written by :meth:`save` (no pickle).  See :mod:`fastmlp.io`."""
        return _io.load(path, n_threads=n_threads)

    # ------------------------------------------------------------------ inference
    def _forward(self, X: np.ndarray, last_act: Optional[str] = None) -> np.ndarray:
        sizes, acts, slopes = self._net_arrays(last_act)
        bs = min(X.shape[0], _PREDICT_CHUNK)
        work = np.empty(core.workspace_size(sizes, acts, slopes, bs), dtype=self.dtype)
        out = np.empty((X.shape[0], self.layers[-1]), dtype=self.dtype)
        core.forward_net(out, work, self._params, sizes, acts, slopes, X, bs, self.n_threads)
        return out

    def _check_ready(self) -> None:
        if self.loss == "auto":
            raise ValueError("the model's loss is still 'auto': fit it first or pass loss=...")

    def forward(self, X: Any) -> np.ndarray:
        """Return the raw network output (after the output activation)."""
        X = check_X(X, self.dtype, self.layers[0])
        return self._forward(X, None if self.output_activation else "identity")

    def predict_proba(self, X: Any) -> np.ndarray:
        """Return class probabilities, shape (n_samples, n_classes)."""
        self._check_ready()
        if self.loss not in ("cce", "bce"):
            raise ValueError(f"predict_proba needs a classification loss ('cce' or 'bce'); this model "
                             f"uses {self.loss!r}")
        p = self.forward(X)
        if self.loss == "bce" and p.shape[1] == 1:
            p = np.hstack([1 - p, p])
        return p

    def predict(self, X: Any) -> np.ndarray:
        """Return class labels (classification) or predicted values (regression)."""
        self._check_ready()
        p = self.forward(X)
        if not self._is_classifier():
            return p[:, 0] if p.shape[1] == 1 else p
        if self.classes_ is None:  # trained on one-hot / multilabel targets
            return np.argmax(p, axis=1) if self.loss == "cce" else (p > 0.5).astype(int)
        if self.loss == "bce" and p.shape[1] == 1:
            return self.classes_[(p[:, 0] > 0.5).astype(int)]
        return self.classes_[np.argmax(p, axis=1)]

    def _evaluate_encoded(self, X: np.ndarray, Y: np.ndarray) -> dict:
        from fastmlp._trainer import evaluate

        return evaluate(self, X, Y)

    def evaluate(self, X: Any, y: Any) -> dict:
        """Return the loss and metrics (accuracy/error_rate, or mse/mae/r2) on (X, y)."""
        self._check_ready()
        X = check_X(X, self.dtype, self.layers[0])
        return self._evaluate_encoded(X, self._encode(y, X.shape[0], fitting=False))

    def score(self, X: Any, y: Any) -> float:
        """Accuracy (classification) or R^2 (regression) on (X, y)."""
        self._check_ready()
        if self._is_classifier():
            return self.evaluate(X, y)["accuracy"]
        X = check_X(X, self.dtype, self.layers[0])
        Y = check_y_2d(y, np.float64, X.shape[0], self.layers[-1])
        P = self._forward(X).astype(np.float64)
        ss_res = ((Y - P) ** 2).sum(axis=0)
        ss_tot = ((Y - Y.mean(axis=0)) ** 2).sum(axis=0)
        with np.errstate(divide="ignore", invalid="ignore"):
            r2 = np.where(ss_tot > 0, 1 - ss_res / np.where(ss_tot > 0, ss_tot, 1), 0.0)
        return float(r2.mean())


_io.register("fastmlp.MLP", MLP)  # fastmlp.io builds MLPs from files without importing this module
