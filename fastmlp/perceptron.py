"""Rosenblatt's perceptron: one layer of threshold units trained by the perceptron rule."""
from __future__ import annotations

import warnings
from typing import Any, Optional

import numpy as np

from fastmlp import _backend as B
from fastmlp._validation import check_dtype, check_nonneg_float, check_positive_int, check_X
from fastmlp.exceptions import not_fitted

__all__ = ["Perceptron", "ConvergenceWarning"]


class ConvergenceWarning(UserWarning):
    """Training stopped before the stopping criterion was met."""


class Perceptron:
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
        self.seed = seed
        self.dtype = check_dtype(dtype)

    def fit(self, X: Any, y: Any) -> "Perceptron":
        """Train until an epoch makes no mistake or max_epochs is reached; return self."""
        X = check_X(X, self.dtype)
        y = np.asarray(y)
        if y.ndim != 1 or len(y) != len(X):
            raise ValueError(f"y must be 1-D with {len(X)} labels; got shape {y.shape}")
        classes = np.unique(y)
        if len(classes) < 2:
            raise ValueError(f"y needs at least 2 classes; got {classes.tolist()}")
        rng = np.random.default_rng(self.seed)
        units = [classes[1]] if len(classes) == 2 else list(classes)
        d = X.shape[1]
        self.coef_ = np.zeros((len(units), d), dtype=self.dtype)
        self.intercept_ = np.zeros(len(units), dtype=self.dtype)
        self.classes_ = classes
        self.mistakes_ = []
        self.n_epochs_, self.converged_ = 0, True
        order = np.arange(len(X), dtype=np.int64)
        for u, positive in enumerate(units):
            t = np.where(y == positive, 1.0, -1.0).astype(self.dtype)
            w, b = self.coef_[u], self.intercept_[u:u + 1]
            for epoch in range(self.max_epochs):
                if self.shuffle:
                    rng.shuffle(order)
                m = B.core.perceptron_epoch(w, b, X, t, order, self.eta)
                if len(self.mistakes_) <= epoch:
                    self.mistakes_.append(0)
                self.mistakes_[epoch] += int(m)
                if m == 0:
                    break
            else:
                self.converged_ = False
            self.n_epochs_ = max(self.n_epochs_, epoch + 1)
        if not self.converged_:
            warnings.warn(f"the perceptron did not converge in {self.max_epochs} epochs: the data "
                          "is not linearly separable (or needs more epochs); training accuracy "
                          f"is {self.score(X, y):.2%}", ConvergenceWarning, stacklevel=2)
        return self

    def decision_function(self, X: Any) -> np.ndarray:
        """Return w.x + b per unit (1-D for two classes)."""
        if not hasattr(self, "coef_"):
            raise not_fitted("This Perceptron is not fitted yet; call fit(X, y) first")
        X = check_X(X, self.dtype, self.coef_.shape[1])
        s = X @ self.coef_.T + self.intercept_
        return s[:, 0] if s.shape[1] == 1 else s

    def predict(self, X: Any) -> np.ndarray:
        """Return labels: the Heaviside step of the score (two classes) or the top unit."""
        s = self.decision_function(X)
        if s.ndim == 1:
            return self.classes_[(s > 0).astype(int)]
        return self.classes_[np.argmax(s, axis=1)]

    def score(self, X: Any, y: Any) -> float:
        """Return the accuracy on (X, y)."""
        return float(np.mean(self.predict(X) == np.asarray(y)))
