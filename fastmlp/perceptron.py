"""Rosenblatt's perceptron: one layer of threshold units trained by the perceptron rule."""
from __future__ import annotations

import numbers
import warnings
from typing import Any, Optional

import numpy as np

from fastmlp import _backend as B
from fastmlp._transaction import Transactional
from fastmlp._validation import (DivergenceError, ForwardOverflowError, check_dtype,
                                 check_forward_output,
                                 check_labels, check_nonneg_float, check_positive_int, check_X,
                                 transaction)
from fastmlp.exceptions import not_fitted

__all__ = ["Perceptron", "ConvergenceWarning"]


class ConvergenceWarning(UserWarning):
    """Training stopped before the stopping criterion was met."""


class Perceptron(Transactional):
    """The single neuron ``step(w.x + b)`` with Rosenblatt's learning rule.

    For every sample with ``y * (w.x + b) <= 0`` (misclassified, or on the
    boundary) it sets ``w += eta*y*x`` and ``b += eta*y`` with ``y`` in
    {-1, +1}.  On linearly separable data this converges to a separating
    hyperplane (100% training accuracy, Novikoff's theorem); on data that is
    not separable, such as XOR, it never does -- fit then warns and
    ``converged_`` is False.  More than two classes are handled one-vs-rest.

    Parameters
    ----------
    eta : float, default=1.0
        Learning rate.
    max_epochs : int, default=1000
        Passes over the data at most.
    shuffle : bool, default=True
        Visit the samples in a new random order each epoch.
    seed : int, optional
        Seed for the shuffling.
    dtype : {float64, float32}, default=float64

    Attributes
    ----------
    coef_ : ndarray of shape (1, n_features) or (n_classes, n_features)
    intercept_ : ndarray of shape (1,) or (n_classes,)
    classes_ : ndarray
    n_epochs_ : int
        Epochs run (the most over the one-vs-rest units).
    converged_ : bool
        True when an epoch made no mistake (for every unit).
    mistakes_ : list of int
        Mistakes per epoch (summed over units).
    interrupted_ : bool
        True when the last fit was stopped by KeyboardInterrupt (Ctrl-C).

    Examples
    --------
    >>> import numpy as np
    >>> from fastmlp import Perceptron
    >>> X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]])
    >>> Perceptron(seed=0).fit(X, [0, 0, 0, 1]).score(X, [0, 0, 0, 1])  # AND
    1.0
    """

    def __init__(self, *, eta: float = 1.0, max_epochs: int = 1000, shuffle: bool = True,
                 seed: Optional[int] = None, dtype: Any = np.float64) -> None:
        self.eta = check_nonneg_float(eta, "eta", positive=True)
        self.max_epochs = check_positive_int(max_epochs, "max_epochs")
        self.shuffle = bool(shuffle)
        if seed is not None and (isinstance(seed, (bool, np.bool_))
                                 or not isinstance(seed, numbers.Integral) or seed < 0):
            raise ValueError(f"seed must be a non-negative int or None; got {seed!r}")
        self.seed = seed
        self.dtype = check_dtype(dtype)
        biggest = float(np.finfo(self.dtype).max)
        if self.eta > biggest:
            raise ValueError(f"eta={self.eta:g} overflows {self.dtype} (largest {biggest:g}); "
                             "use a smaller eta or dtype=float64")

    def fit(self, X: Any, y: Any) -> "Perceptron":
        """Train until an epoch makes no mistake or max_epochs is reached; return self.

        A call that raises on its arguments leaves the model as it was.  Ctrl-C
        (KeyboardInterrupt) stops training cleanly: the model keeps the weights
        of the last completed epoch (units not reached yet stay at zero), its
        counters agree with them, ``interrupted_`` is set and a RuntimeWarning
        says so.  Weights that overflow to infinity or NaN stop training with
        :class:`fastmlp.DivergenceError`; the model then keeps the last finite
        weights (those of the epoch before) and its counters agree with them.
        """
        with transaction(self):
            X = check_X(X, self.dtype)
            y = check_labels(y)
            if len(y) != len(X):
                raise ValueError(f"X and y have different numbers of samples: {len(X)} and "
                                 f"{len(y)}")
            classes = np.unique(y)
            if len(classes) < 2:
                raise ValueError(f"y needs at least 2 classes; got {classes.tolist()}")
            error = self._train(X, y, classes)
        if error is not None:
            raise error
        if self.interrupted_:
            warnings.warn("training interrupted; the model keeps the weights of the last "
                          "completed epoch", RuntimeWarning, stacklevel=2)
        elif not self.converged_:
            try:
                acc = f"training accuracy is {self.score(X, y):.2%}"
            except ForwardOverflowError:
                acc = "its scores on X overflow"
            warnings.warn(f"the perceptron did not converge in {self.max_epochs} epochs: the data "
                          f"is not linearly separable (or needs more epochs); {acc}",
                          ConvergenceWarning, stacklevel=2)
        return self

    def _train(self, X: np.ndarray, y: np.ndarray, classes: np.ndarray) -> Optional[Exception]:
        """Train every one-vs-rest unit in turn and set the fitted attributes; return the
        DivergenceError to raise, if any.

        After each epoch a unit commits (weights, bias, mistakes per epoch) in one
        assignment; an interrupt or a divergence goes back to the last commit.
        """
        rng = np.random.default_rng(self.seed)
        units = [classes[1]] if len(classes) == 2 else list(classes)
        coef = np.zeros((len(units), X.shape[1]), dtype=self.dtype)
        intercept = np.zeros(len(units), dtype=self.dtype)
        order = np.arange(len(X), dtype=np.int64)
        per_unit: list[tuple] = []  # the committed mistakes per epoch of each unit
        error, interrupted = None, False
        for u, positive in enumerate(units):
            t = np.where(y == positive, 1.0, -1.0).astype(self.dtype)
            w, b = coef[u], intercept[u:u + 1]
            committed: tuple = (w.copy(), b.copy(), ())
            try:
                for epoch in range(self.max_epochs):
                    if self.shuffle:
                        rng.shuffle(order)
                    m = int(B.core.perceptron_epoch(w, b, X, t, order, self.eta))
                    if not (np.isfinite(w).all() and np.isfinite(b).all()):
                        error = DivergenceError(
                            f"the perceptron diverged in epoch {epoch + 1} of the unit for class "
                            f"{positive}: its weights overflowed {self.dtype}; the model keeps "
                            f"the weights of the last finite epoch ({epoch}). Lower eta or scale "
                            "X.")
                        break
                    committed = (w.copy(), b.copy(), committed[2] + (m,))
                    if m == 0:
                        break
            except KeyboardInterrupt:
                interrupted = True
            w[...], b[...] = committed[0], committed[1]
            per_unit.append(committed[2])
            if error is not None or interrupted:
                break
        n_epochs = max((len(m) for m in per_unit), default=0)
        mistakes = [sum(m[e] for m in per_unit if e < len(m)) for e in range(n_epochs)]
        self.coef_, self.intercept_, self.classes_ = coef, intercept, classes
        self.mistakes_, self.n_epochs_ = mistakes, n_epochs
        self.converged_ = len(per_unit) == len(units) and all(m and m[-1] == 0 for m in per_unit)
        self.interrupted_ = interrupted
        return error

    def decision_function(self, X: Any) -> np.ndarray:
        """Return w.x + b per unit (1-D for two classes).

        Raises :class:`fastmlp.ForwardOverflowError` when a score overflows
        (see :func:`fastmlp.errstate`)."""
        if not hasattr(self, "coef_"):
            raise not_fitted("This Perceptron is not fitted yet; call fit(X, y) first")
        X = check_X(X, self.dtype, self.coef_.shape[1])
        with np.errstate(over="ignore", invalid="ignore"):
            s = X @ self.coef_.T + self.intercept_
        check_forward_output(s, "X", "score")
        return s[:, 0] if s.shape[1] == 1 else s

    def predict(self, X: Any) -> np.ndarray:
        """Return labels: the Heaviside step of the score (two classes) or the top unit."""
        s = self.decision_function(X)
        if s.ndim == 1:
            return self.classes_[(s > 0).astype(int)]
        return self.classes_[np.argmax(s, axis=1)]

    def score(self, X: Any, y: Any) -> float:
        """Return the accuracy on (X, y)."""
        pred = self.predict(X)
        y = check_labels(y)
        if len(y) != len(pred):
            raise ValueError(f"X and y have different numbers of samples: {len(pred)} and "
                             f"{len(y)}")
        return float(np.mean(pred == y))
