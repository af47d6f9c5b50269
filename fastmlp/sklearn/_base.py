"""Plumbing shared by fastmlp's scikit-learn estimators (MLPClassifier,
MLPRegressor and Perceptron): parameter validation through a class-level
constraints table, thread count, sparse-input tags, scikit-learn's
sample-weight checks and the ``classes`` logic of ``partial_fit``.
"""
from __future__ import annotations

import numbers
import os
from typing import Any, Optional

import numpy as np
from sklearn.base import BaseEstimator, is_classifier
from sklearn.utils import check_array
from sklearn.utils.multiclass import unique_labels

from fastmlp import _backend as B
from fastmlp._transaction import Transactional
from fastmlp._validation import (_TypeOf, check_labels, naming, resolve_threads,
                                 validate_params)

__all__ = ["SklearnEstimator", "NamedArgumentScore", "store_params", "check_sample_weight", "check_label_values",
           "check_partial_fit_first_call", "RANDOM_STATE", "VERBOSE", "INT_OR_NONE"]

core = B.core

RANDOM_STATE = _TypeOf(type(None), numbers.Integral, np.random.RandomState,
                       name="an int, a numpy RandomState or None")
VERBOSE = _TypeOf(numbers.Integral, bool, np.bool_, name="an int or bool")
INT_OR_NONE = _TypeOf(numbers.Integral, type(None), name="an int or None")


class SklearnEstimator(Transactional, BaseEstimator):
    """Base of fastmlp's scikit-learn estimators (not for direct use).

    Subclasses set ``_constraints`` (``{"param": [constraint, ...]}``, see
    :func:`fastmlp._validation.validate_params`) and an ``n_threads``
    parameter; they accept sparse input.  Their ``fit``/``partial_fit`` are
    all-or-nothing and guarded against concurrent use (:mod:`fastmlp._transaction`).
    """

    _constraints: dict[str, list] = {}

    def _validate_hyper(self) -> None:
        validate_params(type(self).__name__, self.get_params(deep=False), self._constraints)
        self._n_threads()  # n_threads=0 is refused here, before anything changes

    def _n_threads(self) -> int:
        """``n_threads`` resolved (None: every usable CPU; negative: counted back from that)."""
        return resolve_threads(self.n_threads, core.max_threads())

    def save(self, path: Any) -> str:
        """Save the estimator -- hyper-parameters, weights, optimizer state, classes and
        every other fitted attribute -- to one ``.npz`` file, atomically and without
        pickle; return the path written (``.npz`` is appended if missing).

        Parameters
        ----------
        path : str or path-like

        Returns
        -------
        str
            The path written.  :meth:`load` (or :func:`fastmlp.io.load`) reads it
            back into an estimator that predicts and trains on identically.
        """
        from fastmlp import io

        return io.save(self, path)

    @classmethod
    def load(cls, path: Any, n_threads: Optional[int] = None) -> Any:
        """Load an estimator of this class written by :meth:`save` (no pickle).

        Parameters
        ----------
        path : str or path-like
        n_threads : int, optional
            Replaces the saved ``n_threads``.

        Returns
        -------
        estimator
            Raises :class:`fastmlp.ModelFileError` for a damaged file or one that
            holds another kind of model.
        """
        from fastmlp import io

        est = io.load(path, n_threads=n_threads)
        if not isinstance(est, cls):
            raise io.ModelFileError(f"{os.fspath(path)}: holds a {type(est).__name__}, not a "
                                    f"{cls.__name__}")
        return est

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags


class NamedArgumentScore:
    """Mixin (first among the bases, before scikit-learn's Classifier/RegressorMixin):
    their ``score`` with input errors that name the argument."""

    def score(self, X, y, sample_weight=None):
        """scikit-learn's score (mean accuracy, or R^2 for regressors); errors name
        the argument.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
        sample_weight : array-like of shape (n_samples,), default=None

        Returns
        -------
        score : float
        """
        if is_classifier(self):
            check_label_values(y)  # None or mixed labels: scikit-learn's TypeError names nothing
        # X's errors are named by predict; an unnamed one is y's (y_true in scikit-learn's)
        with naming("y", "X"):
            return super().score(X, y, sample_weight=sample_weight)


def store_params(est: BaseEstimator, params: dict) -> None:
    """Keep every constructor argument as given (scikit-learn's rule for __init__)."""
    for name, value in params.items():
        if name != "self":
            setattr(est, name, value)


def check_label_values(y: Any, name: str = "y") -> None:
    """Name the argument for labels np.unique cannot sort into classes (None, NaN,
    mixed kinds, complex); shapes (a multilabel indicator matrix included) are left
    to scikit-learn's own checks."""
    try:
        arr = np.asarray(y)
    except Exception:  # noqa: BLE001 - ragged input: scikit-learn's checks report it
        return
    if arr.ndim == 1 or (arr.ndim == 2 and arr.shape[1] == 1):
        check_labels(arr, name)


def check_sample_weight(sample_weight: Any, n: int, dtype: Any,
                        reject_all_zero: bool = True) -> np.ndarray:
    """scikit-learn's _check_sample_weight for a non-None ``sample_weight``: a 1-D
    array of ``n`` weights in ``dtype`` (a dtype, or a list of accepted dtypes
    whose first is used for a scalar), not all zero unless ``reject_all_zero``
    is False."""
    if isinstance(sample_weight, numbers.Complex) and not isinstance(sample_weight,
                                                                     numbers.Real):
        raise ValueError(f"sample_weight must be real; got the complex {sample_weight!r}")
    if isinstance(sample_weight, numbers.Number):
        sw = np.full(n, sample_weight, dtype=dtype[0] if isinstance(dtype, list) else dtype)
        if not np.isfinite(sw).all():
            raise ValueError(f"sample_weight must be finite; got {sample_weight!r}")
    else:
        sw = check_array(sample_weight, accept_sparse=False, ensure_2d=False, dtype=dtype,
                         order="C", input_name="sample_weight")
        if sw.ndim != 1:
            raise ValueError(f"Sample weights must be 1D array or scalar, got {sw.ndim}D "
                             f"array. Expected either a scalar value or a 1D array of "
                             f"length {n}.")
        if sw.shape != (n,):
            raise ValueError("sample_weight.shape == {}, expected {}!".format(sw.shape, (n,)))
    if reject_all_zero and np.all(sw == 0):
        raise ValueError("Sample weights must contain at least one non-zero number.")
    return sw


def check_partial_fit_first_call(clf: Any, classes: Optional[Any] = None) -> bool:
    """The classes logic of scikit-learn's partial_fit; True on the first call."""
    if getattr(clf, "classes_", None) is None and classes is None:
        raise ValueError("classes must be passed on the first call to partial_fit.")
    if classes is not None:
        if getattr(clf, "classes_", None) is not None:
            if not np.array_equal(clf.classes_, unique_labels(classes)):
                raise ValueError("`classes=%r` is not the same as on last call to partial_fit, "
                                 "was: %r" % (classes, clf.classes_))
        else:
            clf.classes_ = unique_labels(classes)
            return True
    return False
