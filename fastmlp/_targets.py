"""How an MLP reads its targets: class labels, one-hot rows or real values.

:class:`TargetsMixin` is the part of :class:`fastmlp.MLP` that decides the
loss from the first targets seen (``loss='auto'``), learns ``classes_``,
encodes targets as the (n_samples, n_outputs) float array the C loop takes,
and turns ``class_weight`` into per-row weights.  It relies on the host
class's ``layers``, ``loss``, ``dtype``, ``classes_`` and ``_resolve_output``.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from fastmlp._validation import check_labels, check_y_2d

__all__ = ["TargetsMixin"]


class TargetsMixin:
    """Target encoding of :class:`fastmlp.MLP` (see the module docstring)."""

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
        try:
            y = np.asarray(y)
        except Exception as exc:  # noqa: BLE001 - ragged nested sequences and the like
            raise ValueError(f"y could not be converted to an array: {exc}") from None
        if y.size == 0 and n:
            raise ValueError("y is empty")
        if y.dtype.kind == "c":
            raise ValueError(f"y must be real-valued; got complex dtype {y.dtype}")
        if y.ndim == 1 and y.dtype.kind == "O":
            y = check_labels(y)  # None, NaN or mixed kinds: named before loss='auto' decides
        if fitting:
            self._decide_loss(y)
        K = self.layers[-1]
        labels = y.ndim == 1 and (self.loss in ("cce", "bce") or self.classes_ is not None or (
            fitting and K > 1 and y.dtype.kind in "iubUSO"))
        if labels:
            y = check_labels(y)
            if len(y) != n:
                raise ValueError(f"X and y have different numbers of samples: {n} and {len(y)}")
            if fitting and self.classes_ is None:
                self.classes_ = self._learn_classes(y)
            if self.classes_ is None:
                raise ValueError("the model has not seen class labels yet; fit it first")
            idx = self._class_index(y)
            if K == 1:
                return idx.astype(self.dtype).reshape(-1, 1)
            return np.eye(K, dtype=self.dtype).take(idx, axis=0)  # one-hot rows
        Y = check_y_2d(y, self.dtype, n, K)
        if self.loss in ("cce", "bce") and ((Y < 0).any() or (Y > 1).any()):
            raise ValueError(f"y: loss {self.loss!r} needs targets in [0, 1] (one-hot or "
                             f"probabilities); got values in [{Y.min():g}, {Y.max():g}]")
        return Y

    def _decode(self, p: np.ndarray) -> np.ndarray:
        """What predict returns for outputs (or encoded targets) ``p`` (n, n_outputs):
        class labels for a classifier, values (1-D for one output) for a regressor."""
        if not self._is_classifier():
            return p[:, 0] if p.shape[1] == 1 else p
        if self.classes_ is None:  # trained on one-hot / multilabel targets
            return np.argmax(p, axis=1) if self.loss == "cce" else (p > 0.5).astype(int)
        if self.loss == "bce" and p.shape[1] == 1:
            return self.classes_[(p[:, 0] > 0.5).astype(int)]
        return self.classes_[np.argmax(p, axis=1)]

    def _class_index(self, y: np.ndarray) -> np.ndarray:
        """The index in classes_ of every label of y; raise on a label not in classes_."""
        classes = self.classes_
        C = len(classes)
        # integer labels 0..C-1 (what _learn_classes makes of them) are their own
        # index: two O(n) reductions instead of a binary search per label
        if (y.dtype.kind in "iu" and classes.dtype.kind in "iu" and classes[0] == 0
                and classes[-1] == C - 1 and y.min() >= 0 and y.max() < C):
            return y
        idx = np.clip(np.searchsorted(classes, y), 0, C - 1)
        unknown = classes[idx] != y
        if unknown.any():
            raise ValueError(f"y contains labels the model cannot represent: "
                             f"{np.unique(y[unknown])[:10].tolist()}; known classes are "
                             f"{classes.tolist()[:20]}")
        return idx

    def _learn_classes(self, y: np.ndarray) -> np.ndarray:
        K = self.layers[-1]
        if y.dtype.kind in "iu" and K > 1 and y.min() >= 0 and y.max() < K:
            return np.arange(K, dtype=y.dtype)  # integer labels 0..K-1 map to outputs directly
        classes = np.unique(y)
        need = 2 if K == 1 else K
        if len(classes) > need or (K == 1 and len(classes) != 2):
            raise ValueError(f"y has {len(classes)} classes but the network has {K} output"
                             f"{'s' if K > 1 else ''} (it can represent {need}); change the last "
                             "layer width or the labels")
        if len(classes) < need:
            raise ValueError(f"y has {len(classes)} classes but the network has {K} outputs; "
                             "with labels other than 0..K-1 every class must appear in y")
        return classes

    def _class_weights(self, class_weight: Any, Y: np.ndarray) -> np.ndarray:
        """Per-row weights from class_weight ({label: weight} or 'balanced')."""
        if not self._is_classifier():
            raise ValueError("class_weight needs a classification model (labels or one-hot "
                             "targets)")
        K = Y.shape[1]
        if K == 1:
            idx, n_cls = (Y[:, 0] > 0.5).astype(np.intp), 2
        else:
            if self.loss == "bce":
                raise ValueError("class_weight is not defined for multilabel targets; "
                                 "use sample_weight")
            idx, n_cls = Y.argmax(axis=1), K
        labels = list(self.classes_) if self.classes_ is not None else list(range(n_cls))
        if isinstance(class_weight, str) and class_weight == "balanced":
            counts = np.bincount(idx, minlength=n_cls).astype(np.float64)
            present = counts > 0
            per = np.zeros(n_cls)
            per[present] = len(idx) / (present.sum() * counts[present])
        elif isinstance(class_weight, dict):
            unknown = [k for k in class_weight if k not in labels]
            if unknown:
                raise ValueError(f"class_weight has labels the model does not know: {unknown}; "
                                 f"classes are {labels}")
            per = np.array([float(class_weight.get(c, 1.0)) for c in labels])
            if not np.isfinite(per).all() or (per < 0).any():
                raise ValueError("class_weight values must be finite and non-negative")
        else:
            raise ValueError(f"class_weight must be a dict {{label: weight}} or 'balanced'; "
                             f"got {class_weight!r}")
        return np.ascontiguousarray(per[idx], dtype=self.dtype)

