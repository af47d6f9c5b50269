"""Quantised inference: an MLP's forward pass in int8 or bfloat16.

``q = net.quantize("int8")`` returns a :class:`QuantizedMLP`: the network's
weights rounded once to int8 (symmetric, one scale per output channel) and
packed for the int8 kernels (``csrc/qgemm/``), its activations quantised to
uint8 with a zero point per row at run time -- or, with ``X_calibration``,
with one scale and zero point per layer measured on that data.  The products
run in integers (AVX512_VNNI ``vpdpbusd`` here, AVX-VNNI, AVX2 or C
elsewhere, identical integers on every path); bias, activation and the
dequantisation are fused into their epilogue in float32.
``net.quantize("bfloat16")`` rounds weights and activations to bfloat16 and
accumulates in float32.

The NumPy twin of the int8 forward is :func:`fastmlp.reference.qforward_net`;
``tests/test_quantize.py`` holds the kernels to it (integers bit for bit).

Model files (``save``/``load``, the format ``fastmlp.QuantizedMLP``, read by
:func:`fastmlp.load` too) follow :mod:`fastmlp.io`'s rules: plain arrays, no
pickle, written atomically, every entry checked on load
(:class:`fastmlp.ModelFileError` on anything wrong).
"""
from __future__ import annotations

import math
import os
import sys
from typing import Any, Optional, Union

import numpy as np

from fastmlp import _backend as B
from fastmlp import io as _io
from fastmlp._validation import (check_forward_output, check_X, check_y_2d, resolve_threads)

__all__ = ["QuantizedMLP", "quantize", "from_sklearn", "quantize_weights", "bf16_round",
           "bf16_to_f32", "PRECISIONS"]

core = B.core
#: the precisions :meth:`fastmlp.MLP.quantize` takes
PRECISIONS = ("int8", "bfloat16")
_PRECISION_ALIASES = {"bf16": "bfloat16", "qint8": "int8"}
_MAGIC = "fastmlp.QuantizedMLP"
_FORMAT_VERSION = 1
_CONFIG_KEYS = ("precision", "layers", "activation", "output_activation", "loss",
                "leaky_slope", "calibration")
#: rows per C call (bounds the scratch memory), as fastmlp.mlp's _PREDICT_CHUNK
_CHUNK = 4096
_MAX_LAYERS = 64


# ---------------------------------------------------------------------------- rounding
def quantize_weights(w: Any) -> tuple[np.ndarray, np.ndarray]:
    """Symmetric int8 weights, one scale per output channel (column).

    ``scale_j = max_i |w_ij| / 127`` (1 for an all-zero column) in float32, and
    ``q_ij = clip(rne(w_ij / scale_j), -127, 127)`` (computed in float64), so
    ``w ~ q * scale``.  Returns ``(q, scale)``, int8 (in, out) and float32 (out,).
    """
    w64 = np.asarray(w, dtype=np.float64)
    scale = (np.abs(w64).max(axis=0) / 127.0).astype(np.float32)
    scale = np.where(scale > 0, scale, np.float32(1)).astype(np.float32)
    q = np.clip(np.rint(w64 / scale.astype(np.float64)), -127, 127).astype(np.int8)
    return q, scale


def bf16_round(x: Any) -> np.ndarray:
    """float32 ``x`` rounded to the nearest bfloat16 (ties to even), as bit patterns
    (uint16): float32's top 16 bits after adding ``0x7FFF + lsb``; NaN stays a quiet NaN."""
    u = np.ascontiguousarray(x, dtype=np.float32).view(np.uint32)
    r = ((u + np.uint32(0x7FFF) + ((u >> np.uint32(16)) & np.uint32(1))) >> np.uint32(16))
    nan = (u & np.uint32(0x7FFFFFFF)) > np.uint32(0x7F800000)
    r = np.where(nan, (u >> np.uint32(16)) | np.uint32(0x40), r)
    return r.astype(np.uint16)


def bf16_to_f32(b: Any) -> np.ndarray:
    """bfloat16 bit patterns (uint16) as float32 (exact)."""
    return (np.asarray(b, dtype=np.uint16).astype(np.uint32) << np.uint32(16)).view(np.float32)


def _calibrate(lo: float, hi: float) -> tuple[float, int]:
    """One static scale and zero point for inputs in [lo, hi], by the per-row rule of
    fm_quantize_rows_u8 applied to the whole range."""
    f32 = np.float32
    lo32, hi32 = f32(min(lo, 0.0)), f32(max(hi, 0.0))
    r = f32(hi32 - lo32)
    if not r > 0:
        return 1.0, 0
    inv = f32(255) / r
    return float(r / f32(255)), int(np.clip(np.rint(f32(-lo32) * inv), 0, 255))


# ---------------------------------------------------------------------------- the model
class QuantizedMLP:
    """A trained :class:`fastmlp.MLP` for inference in int8 or bfloat16.

    Made by :meth:`fastmlp.MLP.quantize` (or :func:`quantize`), read back by
    :meth:`load` / :func:`fastmlp.load`; not trained further.

    Attributes
    ----------
    precision : {'int8', 'bfloat16'}
    layers : list of int
        All the widths, inputs first.
    activations : list of str
        Hidden activations; ``output_activation`` and ``loss`` as the source model's.
    leaky_slope : float
    classes_ : ndarray or None
    qcoefs_ : list of ndarray
        Layer l's weights, shape (layers[l], layers[l+1]): int8 (the real weight is
        ``qcoefs_[l][i, j] * coef_scales_[l][j]``), or for bfloat16 the bit patterns
        as uint16 (float32's top 16 bits).
    coef_scales_ : list of ndarray or None
        int8: the float32 scale of every output channel (column).
    intercepts_ : list of ndarray
        float32 biases.
    calibration : {'dynamic', 'static', None}
        int8: 'dynamic' quantises each layer's input rows at run time, ``x ~ s * (q - z)``
        with q in uint8, per row; 'static' uses ``input_scales_[l]`` and
        ``input_zero_points_[l]`` for every row.
    input_scales_, input_zero_points_ : list or None
        The static input quantisation of each layer (float32 scale, int zero point).
    n_threads : int

    Notes
    -----
    The int8 forward of layer l, exactly (``fastmlp.reference.qforward_net``)::

        q, s, z = rows of x as uint8: s = (hi - lo)/255, z = rne(-lo*255/(hi - lo)),
                  q = clip(rne(x * 255/(hi - lo)) + z, 0, 255)   (float32, per row)
        acc     = q . qcoefs_[l] - z * colsum(qcoefs_[l])          (int32, exact)
        y       = act(float32(acc) * (s * coef_scales_[l]) + intercepts_[l])

    Examples
    --------
    >>> import numpy as np
    >>> from fastmlp import MLP
    >>> X = np.random.default_rng(0).normal(size=(200, 4)).astype(np.float32)
    >>> y = (X[:, 0] > 0).astype(int)
    >>> net = MLP([4, 16, 2], seed=0).fit(X, y, epochs=20, verbose=0)
    >>> q = net.quantize("int8")
    >>> q.precision, q.qcoefs_[0].dtype
    ('int8', dtype('int8'))
    >>> bool((q.predict(X) == net.predict(X)).mean() > 0.95)
    True
    """

    def __init__(self, *, precision: str, layers: list, activations: list,
                 output_activation: str, loss: str, leaky_slope: float,
                 classes: Optional[np.ndarray], qcoefs: list, coef_scales: Optional[list],
                 intercepts: list, calibration: Optional[str] = None,
                 input_scales: Optional[list] = None,
                 input_zero_points: Optional[list] = None,
                 n_threads: Optional[int] = None) -> None:
        self.precision = precision
        self.layers = [int(w) for w in layers]
        self.activations = list(activations)
        self.output_activation = output_activation
        self.loss = loss
        self.leaky_slope = float(leaky_slope)
        self.classes_ = classes
        self.qcoefs_ = [np.ascontiguousarray(w) for w in qcoefs]
        self.coef_scales_ = (None if coef_scales is None else
                             [np.ascontiguousarray(s, dtype=np.float32) for s in coef_scales])
        self.intercepts_ = [np.ascontiguousarray(b, dtype=np.float32) for b in intercepts]
        self.calibration = calibration
        self.input_scales_ = None if input_scales is None else [float(s) for s in input_scales]
        self.input_zero_points_ = (None if input_zero_points is None
                                   else [int(z) for z in input_zero_points])
        self.n_threads = resolve_threads(n_threads, core.max_threads())
        self._prepare()

    # ------------------------------------------------------------------ kernels' form
    def _prepare(self) -> None:
        """The weights in the form the kernels take: int8 packed once into panels (with
        their column sums); bfloat16 decoded to float32 (exact)."""
        acts = [B.ACTIVATIONS[a] for a in self.activations] + [B.ACTIVATIONS["identity"]]
        slope = self.leaky_slope
        self._qlayers: list = []
        self._qnet = None
        self._f32: list = []
        for l, w in enumerate(self.qcoefs_):
            if self.precision == "int8":
                n_in, n_out = w.shape
                wp = np.empty(core.qpack_size(n_in, n_out), dtype=np.int8)
                colsum = np.empty(n_out, dtype=np.int32)
                core.qpack(wp, colsum, w)
                static = self.calibration == "static"
                self._qlayers.append({
                    "n_in": n_in, "n_out": n_out, "wp": wp, "colsum": colsum,
                    "wscale": self.coef_scales_[l], "bias": self.intercepts_[l],
                    "act": acts[l], "slope": slope,
                    "xscale": self.input_scales_[l] if static else 0.0,
                    "xzp": self.input_zero_points_[l] if static else 0})
            else:
                self._f32.append((np.ascontiguousarray(bf16_to_f32(w)), acts[l]))
        if self._qlayers:
            self._qnet = core.QNet(self._qlayers)

    # ------------------------------------------------------------------ inference
    def _logits(self, X: np.ndarray) -> np.ndarray:
        out = np.empty((X.shape[0], self.layers[-1]), dtype=np.float32)
        if self.precision == "int8":
            bs = min(X.shape[0], _CHUNK)
            work = np.empty(self._qnet.workspace_size(bs), dtype=np.uint8)
            self._qnet.forward(out, work, X, bs, self.n_threads)
            return out
        # bfloat16 operands, float32 products (exact) and sums: the bf16 GEMM of the
        # kernel table where this build has it (it rounds the operands itself), else the
        # float32 one on operands rounded here
        bf16_gemm = getattr(core, "linear_forward_bf16", None)
        h = X
        for l, (w, act) in enumerate(self._f32):
            o = out if l + 1 == len(self._f32) else np.empty((X.shape[0], w.shape[1]),
                                                              np.float32)
            if bf16_gemm is not None:
                bf16_gemm(o, h, w, self.intercepts_[l], act, self.leaky_slope, self.n_threads)
            else:
                hb = np.ascontiguousarray(bf16_to_f32(bf16_round(h)))
                core.linear_forward(o, hb, w, self.intercepts_[l], act, self.leaky_slope,
                                    self.n_threads)
            h = o
        return out

    def forward(self, X: Any) -> np.ndarray:
        """Return the network's output (after the output activation), float32."""
        X = check_X(X, np.dtype(np.float32), self.layers[0])
        out = check_forward_output(self._logits(X), what="output logits")
        final = B.ACTIVATIONS[self.output_activation or "identity"]
        if final != B.ACTIVATIONS["identity"]:
            core.act_forward(out, final, self.leaky_slope)
        return out

    def _is_classifier(self) -> bool:
        return self.loss in ("cce", "bce") or self.classes_ is not None

    def predict_proba(self, X: Any) -> np.ndarray:
        """Return class probabilities, shape (n_samples, n_classes)."""
        if self.loss not in ("cce", "bce"):
            raise ValueError(f"predict_proba needs a classification loss ('cce' or 'bce'); "
                             f"this model uses {self.loss!r}")
        p = self.forward(X)
        if self.loss == "bce" and p.shape[1] == 1:
            p = np.hstack([1 - p, p])
        return p

    def predict(self, X: Any) -> np.ndarray:
        """Return class labels (classification) or predicted values (regression)."""
        p = self.forward(X)
        if not self._is_classifier():
            return p[:, 0] if p.shape[1] == 1 else p
        if self.loss == "bce" and p.shape[1] == 1:
            idx = (p[:, 0] > 0.5).astype(int)
        elif self.classes_ is None and self.loss == "bce":
            return (p > 0.5).astype(int)
        else:
            idx = np.argmax(p, axis=1)
        return idx if self.classes_ is None else self.classes_[idx]

    def score(self, X: Any, y: Any) -> float:
        """Accuracy (classification) or R^2 (regression) on (X, y)."""
        X = check_X(X, np.dtype(np.float32), self.layers[0])
        if self._is_classifier():
            pred = self.predict(X)
            y = np.asarray(y)
            if y.ndim == 2 and pred.ndim == 1:  # one-hot targets
                y = np.argmax(y, axis=1)
            if len(y) != X.shape[0]:
                raise ValueError(f"X and y have different numbers of samples: {X.shape[0]} "
                                 f"and {len(y)}")
            return float(np.mean(pred == y))
        Y = check_y_2d(y, np.float64, X.shape[0], self.layers[-1])
        P = self.forward(X).astype(np.float64)
        ss_res = ((Y - P) ** 2).sum(axis=0)
        ss_tot = ((Y - Y.mean(axis=0)) ** 2).sum(axis=0)
        with np.errstate(divide="ignore", invalid="ignore"):
            r2 = np.where(ss_tot > 0, 1 - ss_res / np.where(ss_tot > 0, ss_tot, 1), 0.0)
        return float(r2.mean())

    def __repr__(self) -> str:
        how = f", {self.calibration}" if self.precision == "int8" else ""
        return (f"QuantizedMLP({'-'.join(map(str, self.layers))}, {self.precision}{how}, "
                f"activation={self.activations}, output={self.output_activation})")

    # ------------------------------------------------------------------ persistence
    def save(self, path: Union[str, "os.PathLike[str]"]) -> str:
        """Save to one ``.npz`` (atomically, as :func:`fastmlp.io.save`); return the path."""
        path = os.fspath(path)
        if not path.endswith(".npz"):
            path += ".npz"
        arrays = _arrays(self)
        try:  # what load would say, said now: a file written by save always loads
            _check(arrays)
        except _io._Bad as exc:
            raise ValueError(f"cannot save the model to {path}: {exc}") from None
        _io._write_atomic(path, arrays)
        return path

    @classmethod
    def load(cls, path: Union[str, "os.PathLike[str]"],
             n_threads: Optional[int] = None) -> "QuantizedMLP":
        """Read a model written by :meth:`save` (no pickle); ModelFileError on anything
        wrong in the file."""
        model = _io.load(path, n_threads=n_threads)
        if not isinstance(model, QuantizedMLP):
            raise _io.ModelFileError(f"{os.fspath(path)}: a {type(model).__name__}, not a "
                                     "QuantizedMLP (use fastmlp.load)")
        return model


# ---------------------------------------------------------------------------- quantize
def quantize(net: Any, precision: str = "int8", X_calibration: Any = None) -> QuantizedMLP:
    """A :class:`QuantizedMLP` of the fitted ``net`` (see :meth:`fastmlp.MLP.quantize`)."""
    if not isinstance(precision, str) or _PRECISION_ALIASES.get(precision, precision) \
            not in PRECISIONS:
        raise ValueError(f"precision must be one of {list(PRECISIONS)}; got {precision!r}")
    precision = _PRECISION_ALIASES.get(precision, precision)
    net._check_ready()
    if precision != "int8" and X_calibration is not None:
        raise ValueError("X_calibration applies to precision='int8' only (bfloat16 needs no "
                         "calibration)")
    if precision == "int8" and any(w > core.Q_MAX_K for w in net.layers[:-1]):
        raise ValueError(f"int8 layers take at most {core.Q_MAX_K} inputs; this net's widths "
                         f"are {net.layers}")
    if isinstance(net.leaky_slope, list) or "elu" in (*net.activations, net.output_activation):
        raise ValueError("cannot quantize a model with one leaky slope per layer or 'elu' "
                         "layers: a quantised model has one activation parameter for all layers")
    coefs, intercepts = _folded(net)
    if not all(np.isfinite(w).all() for w in coefs) or not all(
            np.isfinite(b).all() for b in intercepts):
        raise ValueError("cannot quantize a model with NaN or infinite weights (or biases "
                         "beyond float32's range)")
    common = dict(layers=list(net.layers), activations=list(net.activations),
                  output_activation=net.output_activation, loss=net.loss,
                  leaky_slope=net.leaky_slope, classes=net.classes_, intercepts=intercepts,
                  n_threads=net.n_threads)
    if precision == "bfloat16":
        return QuantizedMLP(precision="bfloat16", qcoefs=[bf16_round(w) for w in coefs],
                            coef_scales=None, **common)
    pairs = [quantize_weights(w) for w in coefs]
    scales = zps = None
    if X_calibration is not None:
        Xc = check_X(X_calibration, np.dtype(np.float32), net.layers[0], name="X_calibration")
        scales, zps = [], []
        for lo, hi in _layer_input_ranges(net, Xc, coefs, intercepts):
            s, z = _calibrate(lo, hi)
            scales.append(s)
            zps.append(z)
    return QuantizedMLP(precision="int8", qcoefs=[q for q, _ in pairs],
                        coef_scales=[s for _, s in pairs],
                        calibration="dynamic" if scales is None else "static",
                        input_scales=scales, input_zero_points=zps, **common)


class _Source:
    """The parts of a fitted model :func:`quantize` reads (for the drop-ins)."""

    def __init__(self, **parts: Any) -> None:
        self.__dict__.update(parts)

    def _check_ready(self) -> None:
        pass


def from_sklearn(est: Any, precision: str = "int8", X_calibration: Any = None, *,
                 hidden: str = "relu") -> QuantizedMLP:
    """A :class:`QuantizedMLP` of a fitted drop-in (fastmlp.sklearn's MLPClassifier or
    MLPRegressor) whose hidden activation is ``hidden`` (fastmlp's name for it)."""
    out = est.out_activation_
    outputs = {"softmax": ("softmax", "cce"), "logistic": ("sigmoid", "bce"),
               "identity": ("identity", "mse")}
    if out not in outputs:
        raise ValueError(f"quantize: the {out!r} output (loss {getattr(est, 'loss', '?')!r}) "
                         "is not supported; softmax, logistic and identity outputs are")
    classes = getattr(est, "classes_", None)
    binarizer = getattr(est, "_label_binarizer", None)
    if binarizer is not None and binarizer.y_type_.startswith("multilabel"):
        classes = None
    units = [est.coefs_[0].shape[0]] + [c.shape[1] for c in est.coefs_]
    src = _Source(layers=units, activations=[hidden] * (len(units) - 2),
                  output_activation=outputs[out][0], loss=outputs[out][1],
                  leaky_slope=float(getattr(est, "leaky_relu_slope", 0.01)),
                  classes_=None if classes is None else np.asarray(classes),
                  coefs_=list(est.coefs_), intercepts_=list(est.intercepts_),
                  n_threads=est._n_threads())
    return quantize(src, precision, X_calibration)


def _folded(net: Any) -> tuple[list, list]:
    """The weights and float32 biases of ``net``, with batch normalisation (inference
    mode: an affine map per unit, from the running statistics) folded into them:
    ``W * s`` and ``(b - mean) * s + beta`` with ``s = gamma / sqrt(var + eps)``."""
    coefs = [np.asarray(w) for w in net.coefs_]
    biases = [np.asarray(b, dtype=np.float64) for b in net.intercepts_]
    norms = list(getattr(net, "norms", None) or [])
    if any(norms):
        if "layer" in norms:
            raise ValueError("quantize: layer normalisation (norm='layer') depends on each "
                             "row and cannot be folded into the weights; norm='batch' can")
        gammas, betas, means, variances = net._norm_views()
        k = 0
        for l, kind in enumerate(norms):
            if kind != "batch":
                continue
            s = np.asarray(gammas[k], np.float64) / np.sqrt(
                np.asarray(variances[k], np.float64) + core.NORM_EPS)
            coefs[l] = np.asarray(coefs[l], np.float64) * s
            biases[l] = (biases[l] - np.asarray(means[k], np.float64)) * s + betas[k]
            k += 1
    return coefs, [b.astype(np.float32) for b in biases]


def _layer_input_ranges(net: Any, X: np.ndarray, coefs: list,
                        intercepts: list) -> list[tuple[float, float]]:
    """(min, max) of every layer's input over X, through the float network (float32)."""
    acts = [B.ACTIVATIONS[a] for a in net.activations]
    ranges = []
    for lo in range(0, X.shape[0], _CHUNK):
        h = X[lo:lo + _CHUNK]
        for l, (w, b) in enumerate(zip(coefs, intercepts)):
            r = (float(h.min()), float(h.max()))
            if lo == 0:
                ranges.append(r)
            else:
                ranges[l] = (min(ranges[l][0], r[0]), max(ranges[l][1], r[1]))
            if l + 1 == len(coefs):
                break
            o = np.empty((h.shape[0], w.shape[1]), np.float32)
            core.linear_forward(o, np.ascontiguousarray(h, np.float32),
                                np.ascontiguousarray(w, np.float32),
                                np.ascontiguousarray(b, np.float32), acts[l], net.leaky_slope,
                                net.n_threads)
            h = o
    return ranges


# ---------------------------------------------------------------------------- files
def _arrays(m: QuantizedMLP) -> dict:
    version = str(getattr(sys.modules.get("fastmlp"), "__version__", "unknown"))
    config = {"precision": m.precision, "layers": m.layers, "activation": m.activations,
              "output_activation": m.output_activation, "loss": m.loss,
              "leaky_slope": m.leaky_slope, "calibration": m.calibration}
    arrays: dict[str, np.ndarray] = {
        "format": np.array(_MAGIC), "format_version": np.array(_FORMAT_VERSION, np.int64),
        "fastmlp_version": np.array(version), "config": _io._json(config, "configuration")}
    for l, (w, b) in enumerate(zip(m.qcoefs_, m.intercepts_)):
        arrays[f"w{l}"] = w
        arrays[f"b{l}"] = b
        if m.coef_scales_ is not None:
            arrays[f"ws{l}"] = m.coef_scales_[l]
    if m.calibration == "static":
        arrays["xq"] = np.array([m.input_scales_, m.input_zero_points_], dtype=np.float64).T
    if m.classes_ is not None:
        classes = np.asarray(m.classes_)
        if classes.dtype == object:
            if not all(isinstance(c, str) for c in classes):
                raise ValueError("cannot save class labels of mixed types without pickle")
            classes = classes.astype(str)
        arrays["classes"] = classes
    return arrays


def _check(data: dict) -> dict:
    """Every entry checked (raises io._Bad / io._Foreign); returns the constructor's keywords."""
    ver = data.get("format_version")
    if ver is None or ver.shape != () or ver.dtype.kind not in "iu":
        raise _io._Bad("bad or missing format_version entry (not an integer scalar)")
    if not 1 <= int(ver) <= _FORMAT_VERSION:
        raise _io._Foreign(f"written in quantized-model format {int(ver)}; this fastmlp reads "
                           f"format 1 to {_FORMAT_VERSION}. Upgrade fastmlp to load it.")
    for key in ("fastmlp_version", "config"):
        if key not in data:
            raise _io._Bad(f"missing entry {key!r}")
    _io._text(data, "fastmlp_version")
    cfg = _io._json_entry(data, "config")
    if not isinstance(cfg, dict) or sorted(cfg) != sorted(_CONFIG_KEYS):
        raise _io._Bad(f"entry 'config' should hold the keys {list(_CONFIG_KEYS)}")
    prec, layers = cfg["precision"], cfg["layers"]
    if prec not in PRECISIONS:
        raise _io._Bad(f"config 'precision' should be one of {list(PRECISIONS)}; got "
                       f"{_io._short(prec)}")
    if (not isinstance(layers, list) or not 2 <= len(layers) <= _MAX_LAYERS + 1
            or not all(_io._is_int(w) and 1 <= w <= core.Q_MAX_K for w in layers)):
        raise _io._Bad(f"config 'layers' should be 2 to {_MAX_LAYERS + 1} widths in [1, "
                       f"{core.Q_MAX_K}]; got {_io._short(layers)}")
    L = len(layers) - 1
    acts = cfg["activation"]
    if not isinstance(acts, list) or len(acts) != L - 1 or not all(
            a in B.HIDDEN_ACTIVATIONS for a in acts):
        raise _io._Bad(f"config 'activation' should be {L - 1} hidden activation names; got "
                       f"{_io._short(acts)}")
    if cfg["output_activation"] not in ("identity", "sigmoid", "softmax", "tanh", "relu",
                                        "leaky_relu", "step", None):
        raise _io._Bad(f"config 'output_activation': {_io._short(cfg['output_activation'])}")
    if cfg["loss"] not in B.LOSSES:
        raise _io._Bad(f"config 'loss' should be a loss name; got {_io._short(cfg['loss'])}")
    slope = cfg["leaky_slope"]
    if not _io._is_real(slope) or not math.isfinite(slope) or slope < 0:
        raise _io._Bad(f"config 'leaky_slope' should be a finite number >= 0; got "
                       f"{_io._short(slope)}")
    calib = cfg["calibration"]
    if calib not in (("dynamic", "static") if prec == "int8" else (None,)):
        raise _io._Bad(f"config 'calibration' {_io._short(calib)} does not fit precision {prec}")
    wdt = np.dtype(np.int8) if prec == "int8" else np.dtype(np.uint16)
    keys = {"format", "format_version", "fastmlp_version", "config", "classes"}
    qcoefs, scales, biases = [], [] if prec == "int8" else None, []
    for l in range(L):
        shape = (layers[l], layers[l + 1])
        names = [f"w{l}", f"b{l}"] + ([f"ws{l}"] if prec == "int8" else [])
        keys.update(names)
        for k in names:
            if k not in data:
                raise _io._Bad(f"missing entry {k!r}")
        w, b = data[f"w{l}"], data[f"b{l}"]
        if w.shape != shape or w.dtype != wdt:
            raise _io._Bad(f"w{l} has {w.dtype} {w.shape}, expected {wdt} {shape}")
        if prec == "bfloat16" and ((w & 0x7F80) == 0x7F80).any():
            raise _io._Bad(f"w{l} holds bfloat16 NaN or infinity")
        if b.shape != shape[1:] or b.dtype != np.float32 or not np.isfinite(b).all():
            raise _io._Bad(f"b{l} should be finite float32 {shape[1:]}; got {b.dtype} {b.shape}")
        if prec == "int8":
            s = data[f"ws{l}"]
            if s.shape != shape[1:] or s.dtype != np.float32 or not (
                    np.isfinite(s).all() and (s > 0).all()):
                raise _io._Bad(f"ws{l} should be positive finite float32 {shape[1:]}; got "
                               f"{s.dtype} {s.shape}")
            scales.append(s)
        qcoefs.append(w)
        biases.append(b)
    xs = xz = None
    if calib == "static":
        keys.add("xq")
        xq = data.get("xq")
        if xq is None or xq.shape != (L, 2) or xq.dtype != np.float64 or not (
                np.isfinite(xq).all() and (xq[:, 0] > 0).all() and (xq[:, 1] >= 0).all()
                and (xq[:, 1] <= 255).all() and (xq[:, 1] == np.rint(xq[:, 1])).all()):
            raise _io._Bad(f"xq should be float64 ({L}, 2): positive finite scales and integer "
                           "zero points in [0, 255]")
        xs, xz = list(xq[:, 0]), [int(z) for z in xq[:, 1]]
    unknown = sorted(k for k in data if k not in keys)
    if unknown:
        raise _io._Bad(f"unexpected entries {unknown[:10]}")
    classes = _io._check_classes(data, cfg)
    return dict(precision=prec, layers=layers, activations=acts,
                output_activation=cfg["output_activation"], loss=cfg["loss"],
                leaky_slope=float(slope), classes=classes, qcoefs=qcoefs, coef_scales=scales,
                intercepts=biases, calibration=calib, input_scales=xs, input_zero_points=xz)


def _read(path: str, data: dict, n_threads: Optional[int]) -> QuantizedMLP:
    """fastmlp.io's reader for this format (io.register_reader)."""
    try:
        return QuantizedMLP(**_check(data), n_threads=n_threads)
    except _io._Bad as exc:
        kind = "" if isinstance(exc, _io._Foreign) else "damaged quantized fastmlp model: "
        raise _io.ModelFileError(f"{path}: {kind}{exc}") from None
    except (KeyError, TypeError, ValueError, OverflowError) as exc:
        raise _io.ModelFileError(f"{path}: damaged quantized fastmlp model: "
                                 f"{_io._short(exc)}") from None


# format, format_version, fastmlp_version, config, classes, xq + 3 per layer
_io.register_reader(_MAGIC, _read, 6 + 3 * _MAX_LAYERS)
