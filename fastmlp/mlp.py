"""The multi-layer perceptron: fastmlp's main model."""
from __future__ import annotations

import math
import time
import warnings
from typing import Any, Optional, Sequence, Union

import numpy as np

from fastmlp import _backend as B
from fastmlp._validation import (check_dtype, check_nonneg_float, check_positive_int, check_X,
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


class MLP:
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
        Seeds weight initialisation and shuffling.
    n_threads : int, optional
        Threads for the kernels; None uses every usable CPU.

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
        Per-epoch 'loss', 'accuracy', 'error_rate', 'val_*', 'lr', 'time'.

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
                 seed: Optional[int] = None, n_threads: Optional[int] = None) -> None:
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
        self.classes_: Optional[np.ndarray] = None
        self.history_: dict[str, list] = {}
        self._opt_state: Optional[dict] = None
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
        out, off = [], 0
        for i, o in self._shapes():
            out.append(self._params[off:off + i * o].reshape(i, o))
            off += i * o
        return out

    @coefs_.setter
    def coefs_(self, values: Sequence[Any]) -> None:
        self.set_parameters(values, self.intercepts_)

    @property
    def intercepts_(self) -> list[np.ndarray]:
        """Bias vectors as writable views."""
        out, off = [], self.n_weights
        for _, o in self._shapes():
            out.append(self._params[off:off + o])
            off += o
        return out

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

    # ------------------------------------------------------------------ targets
    def _is_classifier(self) -> bool:
        """Labels in, labels out: cross-entropy losses, or any loss fitted on class labels."""
        return self.loss in ("cce", "bce") or self.classes_ is not None

    def _decide_loss(self, y: np.ndarray) -> None:
        """Resolve loss='auto' from the first targets seen."""
        if self.loss != "auto":
            return
        labels = y.ndim == 1 and y.dtype.kind in "iubUSO"
        if labels:
            self._resolve_output("cce" if self.layers[-1] > 1 else "bce")
        else:
            self._resolve_output("mse")

    def _encode(self, y: Any, n: int, fitting: bool) -> np.ndarray:
        """Return targets as a (n, n_outputs) float array; learn classes_ when fitting."""
        y = np.asarray(y)
        if y.size == 0 and n:
            raise ValueError("y is empty")
        if fitting:
            self._decide_loss(y)
        K = self.layers[-1]
        labels = y.ndim == 1 and (self.loss in ("cce", "bce") or self.classes_ is not None or (
            fitting and K > 1 and y.dtype.kind in "iubUSO"))
        if labels:
            if y.dtype.kind == "f" and not np.all(np.isfinite(y)):
                raise ValueError("y contains NaN or infinity")
            if len(y) != n:
                raise ValueError(f"X and y have different numbers of samples: {n} and {len(y)}")
            if fitting and self.classes_ is None:
                self.classes_ = self._learn_classes(y)
            if self.classes_ is None:
                raise ValueError("the model has not seen class labels yet; fit it first")
            idx = np.searchsorted(self.classes_, y)
            idx = np.clip(idx, 0, len(self.classes_) - 1)
            unknown = self.classes_[idx] != y
            if unknown.any():
                raise ValueError(f"y contains labels the model cannot represent: "
                                 f"{np.unique(y[unknown])[:10].tolist()}; known classes are "
                                 f"{self.classes_.tolist()[:20]}")
            if K == 1:
                return idx.astype(self.dtype).reshape(-1, 1)
            out = np.zeros((n, K), dtype=self.dtype)
            out[np.arange(n), idx] = 1
            return out
        Y = check_y_2d(y, self.dtype, n, K)
        if self.loss in ("cce", "bce") and ((Y < 0).any() or (Y > 1).any()):
            raise ValueError(f"loss {self.loss!r} needs targets in [0, 1] (one-hot or probabilities); "
                             f"got values in [{Y.min():g}, {Y.max():g}]")
        return Y

    def _learn_classes(self, y: np.ndarray) -> np.ndarray:
        K = self.layers[-1]
        classes = np.unique(y)
        if y.dtype.kind in "iu" and classes.min() >= 0 and classes.max() < K and K > 1:
            return np.arange(K, dtype=y.dtype)  # integer labels 0..K-1 map to outputs directly
        need = 2 if K == 1 else K
        if len(classes) > need or (K == 1 and len(classes) != 2):
            raise ValueError(f"y has {len(classes)} classes but the network has {K} output"
                             f"{'s' if K > 1 else ''} (it can represent {need}); change the last "
                             "layer width or the labels")
        if len(classes) < need:
            raise ValueError(f"y has {len(classes)} classes but the network has {K} outputs; "
                             "with labels other than 0..K-1 every class must appear in y")
        return classes

    # ------------------------------------------------------------------ training
    def _optimizer(self, name: str, lr: float, momentum: float, nesterov: bool) -> dict:
        key = B.canonical(name, B.OPTIMIZERS, {}, "optimizer")
        return {"kind": B.OPTIMIZERS[key], "name": key, "lr": lr, "momentum": momentum,
                "nesterov": nesterov, "dampening": 0.0, "weight_decay": 0.0, "l1": 0.0,
                "decay_bias": True, "step": 0}

    def _cfg(self, l2: float = 0.0) -> dict:
        metric = 0
        if self.loss == "bce":
            metric = 2  # every output thresholded at 0.5 (binary / multilabel)
        elif self._is_classifier():
            metric = 1  # argmax
        mult, per_output = B.LOSS_REDUCTION[self.loss]
        return {"loss": B.LOSSES[self.loss], "loss_mult": mult, "loss_per_output": per_output,
                "l2": l2, "l2_batch_scaled": False, "metric": metric}

    def fit(self, X: Any, y: Any, *, epochs: int = 10, batch_size: Optional[int] = 32,
            learning_rate: float = 0.01, optimizer: str = "sgd", momentum: float = 0.0,
            nesterov: bool = False, l2: float = 0.0, shuffle: bool = True,
            validation_split: float = 0.0, validation_data: Optional[tuple] = None,
            sample_weight: Any = None, verbose: int = 1) -> "MLP":
        """Train by mini-batch gradient descent; return self.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like
            Class labels (1-D), or targets of shape (n_samples, n_outputs).
        epochs : int, default=10
        batch_size : int or None, default=32
            None (or n_samples) is full-batch gradient descent, 1 is stochastic.
        learning_rate : float, default=0.01
        optimizer : str, default='sgd'
            'sgd', 'adagrad', 'rmsprop', 'adam' or 'adamw' (torch.optim rules).
        momentum, nesterov : float, bool
            SGD momentum and Nesterov's variant.
        l2 : float, default=0
            L2 penalty 0.5*l2*||W||^2 on the weights (biases excluded).
        shuffle : bool, default=True
            Reshuffle the samples every epoch.
        validation_split : float, default=0
            Fraction of (X, y) held out (the last rows, before shuffling) and
            evaluated after each epoch; ignored when validation_data is given.
        validation_data : tuple (X_val, y_val), optional
        sample_weight : array-like of shape (n_samples,), optional
        verbose : int, default=1
            0 prints nothing; 1 shows progress.

        Returns
        -------
        self : MLP
        """
        epochs = check_positive_int(epochs, "epochs")
        lr = check_nonneg_float(learning_rate, "learning_rate", positive=True)
        l2 = check_nonneg_float(l2, "l2")
        momentum = check_nonneg_float(momentum, "momentum")
        if not 0.0 <= float(validation_split) < 1.0:
            raise ValueError(f"validation_split must be in [0, 1); got {validation_split!r}")
        X = check_X(X, self.dtype, self.layers[0])
        n = X.shape[0]
        Y = self._encode(y, n, fitting=True)
        sw = None
        if sample_weight is not None:
            sw = np.ascontiguousarray(np.asarray(sample_weight, dtype=self.dtype).ravel())
            if sw.shape != (n,) or not np.isfinite(sw).all() or (sw < 0).any():
                raise ValueError(f"sample_weight must be {n} finite non-negative values; got shape "
                                 f"{np.shape(sample_weight)}")
        Xv = Yv = None
        if validation_data is not None:
            if len(validation_data) != 2:
                raise ValueError("validation_data must be a tuple (X_val, y_val)")
            Xv = check_X(validation_data[0], self.dtype, self.layers[0], name="validation_data X")
            Yv = self._encode(validation_data[1], Xv.shape[0], fitting=False)
        elif validation_split:
            n_val = int(round(n * validation_split))
            if n_val < 1 or n_val >= n:
                raise ValueError(f"validation_split={validation_split} leaves {n - n_val} training "
                                 f"and {n_val} validation rows; both need at least 1")
            X, Xv, Y, Yv = X[:-n_val], X[-n_val:], Y[:-n_val], Y[-n_val:]
            sw = None if sw is None else sw[:-n_val]
            n = X.shape[0]
        bs = n if batch_size is None else min(check_positive_int(batch_size, "batch_size"), n)
        opt = self._optimizer(optimizer, lr, momentum, bool(nesterov))
        st = self._opt_state
        if st is None or st["name"] != opt["name"]:
            st = {"name": opt["name"], "step": 0, "s1": np.zeros_like(self._params),
                  "s2": np.zeros_like(self._params)}
        self._run(X, Y, sw, Xv, Yv, epochs, bs, opt, st, self._cfg(l2), shuffle, verbose)
        return self

    def _run(self, X, Y, sw, Xv, Yv, epochs, bs, opt, st, cfg, shuffle, verbose) -> None:
        from fastmlp._progress import EpochProgress  # local: keeps tqdm off the import path

        sizes, acts, slopes = self._net_arrays()  # the C loop stops at the output logits
        n = X.shape[0]
        work = np.empty(core.workspace_size(sizes, acts, slopes, bs), dtype=self.dtype)
        grad = np.empty_like(self._params)
        order = np.arange(n, dtype=np.int64)
        n_batches = -(-n // bs)
        chunk = max(1, min(n_batches, 16384 // bs))  # ~16k rows per C call
        hist = self.history_
        progress = EpochProgress(epochs, n_batches, verbose, has_val=Xv is not None)
        try:
            for epoch in range(epochs):
                t0 = time.perf_counter()
                snapshot = (self._params.copy(), st["s1"].copy(), st["s2"].copy(), st["step"])
                if shuffle:
                    self._rng.shuffle(order)
                stats = np.zeros(4)
                done = 0
                progress.start_epoch(epoch)
                while done < n_batches:
                    opt["step"] = st["step"]
                    nb, st["step"] = core.train(self._params, grad, st["s1"], st["s2"], work, stats,
                                                opt, sizes, acts, slopes, cfg, X, Y, sw,
                                                order if shuffle else None, done * bs,
                                                min(chunk, n_batches - done), bs, self.n_threads)
                    done += nb
                    progress.update_train(nb, stats)
                if not np.isfinite(self._params).all():
                    self._params[...], st["s1"][...], st["s2"][...], st["step"] = snapshot
                    self._opt_state = st
                    raise FloatingPointError(
                        f"training diverged in epoch {epoch + 1} (non-finite weights); the model was "
                        "restored to the end of the previous epoch. Lower the learning rate or "
                        "scale the inputs.")
                self._opt_state = st
                row = {"loss": (stats[0] + stats[3]) / stats[2], "lr": opt["lr"]}
                if cfg["metric"]:
                    row["accuracy"] = stats[1] / stats[2]
                    row["error_rate"] = 1.0 - row["accuracy"]
                if Xv is not None:
                    progress.start_validation()
                    for k, v in self._evaluate_encoded(Xv, Yv).items():
                        row["val_" + k] = v
                row["time"] = time.perf_counter() - t0
                for k, v in row.items():
                    hist.setdefault(k, []).append(float(v))
                progress.end_epoch(row)
        except KeyboardInterrupt:
            # The C chunk in flight finished before Python saw the signal, so the
            # parameters are those after the last completed step: consistent.
            self._opt_state = st
            warnings.warn("training interrupted; the model keeps the weights of the last "
                          "completed step", RuntimeWarning, stacklevel=3)
        finally:
            progress.close()

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
        z = self._forward(X, "identity")
        p = np.empty_like(z)
        cfg = self._cfg()
        scale = cfg["loss_mult"] / (X.shape[0] * (Y.shape[1] if cfg["loss_per_output"] else 1))
        loss = core.loss(p, None, z, Y, None, cfg["loss"], B.ACTIVATIONS[self.output_activation],
                         self.leaky_slope, scale)
        out = {"loss": loss}
        if cfg["metric"] == 1:
            out["accuracy"] = float(np.mean(p.argmax(1) == Y.argmax(1)))
        elif cfg["metric"] == 2:
            out["accuracy"] = float(np.mean(((p > 0.5) == (Y > 0.5)).all(axis=1)))
        if "accuracy" in out:
            out["error_rate"] = 1.0 - out["accuracy"]
        else:
            out["mae"] = float(np.mean(np.abs(p - Y)))
            out["mse"] = float(np.mean((p - Y) ** 2))
        return out

    def evaluate(self, X: Any, y: Any) -> dict:
        """Return the loss and metrics (accuracy/error_rate or mse/mae) on (X, y)."""
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
