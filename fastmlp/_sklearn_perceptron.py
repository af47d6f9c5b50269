"""scikit-learn's Perceptron (an SGD linear classifier), trained by fastmlp's C core.

The semantics are those of scikit-learn 1.9's ``Perceptron`` =
``BaseSGDClassifier(loss='perceptron', learning_rate='constant')``
(``sklearn/linear_model/_stochastic_gradient.py`` and ``_sgd_fast.pyx.tp``):
per-sample updates ``w += eta0 * y * class_weight * sample_weight * x`` on
mistakes (``y * p <= 0``), L2/L1/elastic-net penalties through the scaled
weight vector and the truncated cumulative L1 penalty, scikit-learn's xorshift
shuffle re-seeded with the same seed every epoch, its seeds drawn in its
order, its stopping rule (``count >= n_iter_no_change``) and one-vs-rest
multiclass.  Each epoch runs in C (``fastmlp._core.sgd_perceptron_epoch``,
GIL released), the one-vs-rest classes in parallel threads.
"""
from __future__ import annotations

import numbers
import time
import warnings

import numpy as np
import scipy.sparse as sp
from sklearn.base import ClassifierMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import accuracy_score
from sklearn.model_selection import StratifiedShuffleSplit
from sklearn.utils import check_random_state, compute_class_weight
from sklearn.utils.extmath import safe_sparse_dot
from sklearn.utils.parallel import Parallel, delayed
from sklearn.utils.validation import check_is_fitted, validate_data

from fastmlp import _backend as B
from fastmlp._sklearn_base import (INT_OR_NONE, RANDOM_STATE, VERBOSE, SklearnEstimator,
                                   check_partial_fit_first_call, check_sample_weight,
                                   store_params)
from fastmlp._validation import BOOL, NONE, Interval, Options, _TypeOf

__all__ = ["Perceptron"]

core = B.core
_MAX_INT = np.iinfo(np.int32).max
_PENALTIES = {None: core.PENALTY_NONE, "l1": core.PENALTY_L1, "l2": core.PENALTY_L2,
              "elasticnet": core.PENALTY_ELASTICNET}
_SPARSE_INTERCEPT_DECAY = 0.01  # scikit-learn's, for CSR input

_CONSTRAINTS: dict[str, list] = {
    "penalty": [Options(("l2", "l1", "elasticnet")), NONE],
    "alpha": [Interval(numbers.Real, 0, None)],
    "l1_ratio": [Interval(numbers.Real, 0, 1)],
    "fit_intercept": [BOOL],
    "max_iter": [Interval(numbers.Integral, 1, None)],
    "tol": [Interval(numbers.Real, 0, None), NONE],
    "shuffle": [BOOL],
    "verbose": [VERBOSE],
    "eta0": [Interval(numbers.Real, 0, None, closed="neither")],
    "n_jobs": [INT_OR_NONE],
    "random_state": [RANDOM_STATE],
    "early_stopping": [BOOL],
    "validation_fraction": [Interval(numbers.Real, 0, 1, closed="neither")],
    "n_iter_no_change": [Interval(numbers.Integral, 1, None)],
    "class_weight": [Options(("balanced",)), _TypeOf(dict, type(None), name="a dict or None")],
    "warm_start": [BOOL],
    "n_threads": [INT_OR_NONE],
}


class Perceptron(ClassifierMixin, SklearnEstimator):
    """Linear perceptron classifier: scikit-learn's, trained in C.

    A drop-in replacement for ``sklearn.linear_model.Perceptron`` (same
    parameters, defaults, methods, attributes and -- for the same data,
    parameters and random state -- the same weights), plus ``n_threads``.

    Parameters
    ----------
    penalty : {'l2', 'l1', 'elasticnet'}, default=None
        Regularisation term.
    alpha : float, default=0.0001
        Penalty strength.
    l1_ratio : float, default=0.15
        Elastic-net mixing (only with ``penalty='elasticnet'``).
    fit_intercept : bool, default=True
    max_iter : int, default=1000
        Epochs at most.
    tol : float or None, default=1e-3
        Stop once the epoch's mean loss (or validation score) has not
        improved by ``tol`` for ``n_iter_no_change`` epochs; None never stops
        early.
    shuffle : bool, default=True
    verbose : int, default=0
    eta0 : float, default=1.0
        Constant learning rate.
    n_jobs : int, default=None
        Threads for the one-vs-rest fits (as scikit-learn); None uses
        ``n_threads``.
    random_state : int, RandomState instance or None, default=0
        Seeds the shuffling and the early-stopping split.
    early_stopping : bool, default=False
    validation_fraction : float, default=0.1
    n_iter_no_change : int, default=5
    class_weight : dict, 'balanced' or None, default=None
    warm_start : bool, default=False
    n_threads : int, default=None
        fastmlp extension: threads for the one-vs-rest fits when ``n_jobs`` is
        None (None: every usable CPU).  Results do not depend on it.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
    coef_ : ndarray of shape (1, n_features) or (n_classes, n_features)
    intercept_ : ndarray of shape (1,) or (n_classes,)
    n_features_in_ : int
    feature_names_in_ : ndarray of shape (n_features_in_,)
    n_iter_ : int
        Epochs run (the most over the one-vs-rest fits).
    t_ : float
        Number of weight updates performed during training, ``n_iter_ *
        n_samples + 1``.
    history_ : dict
        fastmlp extension: ``'objective'`` (mean loss plus penalty per epoch)
        or, with early stopping, ``'val_score'``; one list per binary fit.

    Examples
    --------
    >>> import numpy as np
    >>> from fastmlp.sklearn import Perceptron
    >>> X = np.array([[0., 0.], [0., 1.], [1., 0.], [1., 1.]])
    >>> Perceptron().fit(X, [0, 0, 0, 1]).predict(X).tolist()
    [0, 0, 0, 1]
    """

    def __init__(self, *, penalty=None, alpha=0.0001, l1_ratio=0.15, fit_intercept=True,
                 max_iter=1000, tol=1e-3, shuffle=True, verbose=0, eta0=1.0, n_jobs=None,
                 random_state=0, early_stopping=False, validation_fraction=0.1,
                 n_iter_no_change=5, class_weight=None, warm_start=False, n_threads=None):
        store_params(self, locals())

    _constraints = _CONSTRAINTS

    # ------------------------------------------------------------------ fitting
    def fit(self, X, y, coef_init=None, intercept_init=None, sample_weight=None):
        """Fit the linear model by scikit-learn's perceptron SGD.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        y : ndarray of shape (n_samples,)
        coef_init : ndarray of shape (n_classes, n_features), default=None
            Initial coefficients (warm start).
        intercept_init : ndarray of shape (n_classes,), default=None
        sample_weight : array-like of shape (n_samples,), default=None
            Multiplied with the class weights.

        Returns
        -------
        self : Perceptron
        """
        self._validate_hyper()
        if hasattr(self, "classes_"):
            delattr(self, "classes_")
        y = validate_data(self, y=y)
        classes = np.unique(y)
        if self.warm_start and hasattr(self, "coef_"):
            if coef_init is None:
                coef_init = self.coef_
            if intercept_init is None:
                intercept_init = self.intercept_
        else:
            self.coef_ = None
            self.intercept_ = None
        self.t_ = 1.0
        self._partial_fit(X, y, self.max_iter, classes, sample_weight, coef_init, intercept_init)
        if self.tol is not None and self.tol > -np.inf and self.n_iter_ == self.max_iter:
            warnings.warn("Maximum number of iteration reached before convergence. Consider "
                          "increasing max_iter to improve the fit.", ConvergenceWarning)
        return self

    def partial_fit(self, X, y, classes=None, sample_weight=None):
        """One epoch of perceptron SGD on the given samples.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        y : ndarray of shape (n_samples,)
        classes : ndarray of shape (n_classes,), default=None
            Required on the first call.
        sample_weight : array-like of shape (n_samples,), default=None

        Returns
        -------
        self : Perceptron
        """
        if not hasattr(self, "classes_"):
            self._validate_hyper()
            if self.early_stopping:
                raise ValueError("early_stopping should be False with partial_fit")
            if self.class_weight == "balanced":
                raise ValueError(
                    "class_weight '{0}' is not supported for partial_fit. In order to use "
                    "'balanced' weights, use compute_class_weight('{0}', classes=classes, y=y). "
                    "In place of y you can use a large enough sample of the full training set "
                    "target to properly estimate the class frequency distributions. Pass the "
                    "resulting weights as the class_weight parameter.".format(self.class_weight))
        return self._partial_fit(X, y, 1, classes, sample_weight, None, None)

    def _partial_fit(self, X, y, max_iter, classes, sample_weight, coef_init, intercept_init):
        first_call = not hasattr(self, "classes_")
        X, y = validate_data(self, X, y, accept_sparse="csr", dtype=[np.float64, np.float32],
                             order="C", accept_large_sparse=False, reset=first_call)
        n_features = X.shape[1]
        check_partial_fit_first_call(self, classes)
        n_classes = self.classes_.shape[0]
        self._expanded_class_weight = compute_class_weight(self.class_weight,
                                                           classes=self.classes_, y=y)
        if sample_weight is None:
            sw = np.ones(X.shape[0], dtype=X.dtype)
        else:
            sw = check_sample_weight(sample_weight, X.shape[0], X.dtype,
                                     reject_all_zero=not self.early_stopping)
        if getattr(self, "coef_", None) is None or coef_init is not None:
            self._allocate(n_classes, n_features, X.dtype, coef_init, intercept_init)
        elif n_features != self.coef_.shape[-1]:
            raise ValueError("Number of features %d does not match previous data %d."
                             % (n_features, self.coef_.shape[-1]))
        if sp.issparse(self.coef_):
            self.coef_ = self.coef_.toarray()
        if not hasattr(self, "t_"):
            self.t_ = 1.0
        if n_classes < 2:
            raise ValueError("The number of classes has to be greater than one; got %d class"
                             % n_classes)
        self.history_ = {}
        if n_classes > 2:
            self._fit_multiclass(X, y, sw, max_iter)
        else:
            coef, intercept, n_iter, curve = self._fit_binary(
                1, X, y, self._expanded_class_weight[1], self._expanded_class_weight[0], sw,
                max_iter, self.random_state, self.coef_.ravel().copy(), self.intercept_[0])
            self._record(curve)
            self.t_ += n_iter * X.shape[0]
            self.n_iter_ = n_iter
            self.coef_ = coef.reshape(1, -1)
            self.intercept_ = np.atleast_1d(intercept)  # float64, as scikit-learn's
        return self

    def _allocate(self, n_classes, n_features, dtype, coef_init, intercept_init) -> None:
        """scikit-learn's _allocate_parameter_mem (copies instead of aliasing the inits)."""
        if n_classes > 2:
            if coef_init is not None:
                coef = np.array(coef_init, dtype=dtype, order="C")
                if coef.shape != (n_classes, n_features):
                    raise ValueError("Provided ``coef_`` does not match dataset. ")
            else:
                coef = np.zeros((n_classes, n_features), dtype=dtype, order="C")
            if intercept_init is not None:
                inter = np.array(intercept_init, dtype=dtype, order="C")
                if inter.shape != (n_classes,):
                    raise ValueError("Provided intercept_init does not match dataset.")
            else:
                inter = np.zeros(n_classes, dtype=dtype, order="C")
        else:
            if coef_init is not None:
                coef = np.array(coef_init, dtype=dtype, order="C").ravel()
                if coef.shape != (n_features,):
                    raise ValueError("Provided coef_init does not match dataset.")
            else:
                coef = np.zeros(n_features, dtype=dtype, order="C")
            if intercept_init is not None:
                inter = np.array(intercept_init, dtype=dtype)
                if inter.shape != (1,) and inter.shape != ():
                    raise ValueError("Provided intercept_init does not match dataset.")
                inter = inter.reshape(1)
            else:
                inter = np.zeros(1, dtype=dtype, order="C")
        self.coef_, self.intercept_ = coef, inter

    def _make_validation_split(self, y, sample_mask) -> np.ndarray:
        n = y.shape[0]
        mask = np.zeros(n, dtype=np.bool_)
        if not self.early_stopping:
            return mask
        cv = StratifiedShuffleSplit(test_size=self.validation_fraction,
                                    random_state=self.random_state)
        idx_train, idx_val = next(cv.split(np.zeros(shape=(n, 1)), y))
        if not np.any(sample_mask[idx_val]):
            raise ValueError("The sample weights for validation set are all zero, consider "
                             "using a different random state.")
        if idx_train.shape[0] == 0 or idx_val.shape[0] == 0:
            raise ValueError(
                "Splitting %d samples into a train set and a validation set with "
                "validation_fraction=%r led to an empty set (%d and %d samples). Please either "
                "change validation_fraction, increase number of samples, or disable "
                "early_stopping." % (n, self.validation_fraction, idx_train.shape[0],
                                     idx_val.shape[0]))
        mask[idx_val] = True
        return mask

    def _fit_multiclass(self, X, y, sw, max_iter) -> None:
        mask = self._make_validation_split(y, sample_mask=sw > 0)
        rs = check_random_state(self.random_state)
        seeds = rs.randint(_MAX_INT, size=len(self.classes_))
        n_jobs = self.n_jobs if self.n_jobs is not None else self._n_threads()
        result = Parallel(n_jobs=n_jobs, prefer="threads", require="sharedmem")(
            delayed(self._fit_binary)(i, X, y, self._expanded_class_weight[i], 1.0, sw, max_iter,
                                      int(seed), self.coef_[i], self.intercept_[i], mask)
            for i, seed in enumerate(seeds))
        n_iter = 0
        for i, (coef, intercept, n_iter_i, curve) in enumerate(result):
            self.coef_[i] = coef
            self.intercept_[i] = intercept
            n_iter = max(n_iter, n_iter_i)
            self._record(curve)
        self.t_ += n_iter * X.shape[0]
        self.n_iter_ = n_iter

    def _fit_binary(self, i, X, y, pos_weight, neg_weight, sw, max_iter, random_state, coef,
                    intercept, validation_mask=None):
        """scikit-learn's fit_binary + _plain_sgd: class i against the rest, in place on coef."""
        dtype = X.dtype
        y_i = np.ones(y.shape, dtype=dtype, order="C")
        y_i[y != self.classes_[i]] = -1.0
        rs = check_random_state(random_state)
        rs.randint(1, np.iinfo(np.int32).max)  # make_dataset's seed (it does not shuffle)
        sparse = sp.issparse(X)
        if validation_mask is None:
            validation_mask = self._make_validation_split(y_i, sample_mask=sw > 0)
        val = None
        if self.early_stopping:
            val = (X[validation_mask], y_i[validation_mask], sw[validation_mask])
        seed = int(rs.randint(_MAX_INT))
        tol = self.tol if self.tol is not None else -np.inf
        w = np.ascontiguousarray(coef, dtype=dtype)
        if sparse:
            xdata = np.ascontiguousarray(X.data, dtype=dtype)
            ptr = np.ascontiguousarray(X.indptr, dtype=np.int64)
            ind = np.ascontiguousarray(X.indices, dtype=np.int32)
        else:
            xdata, ptr, ind = np.ascontiguousarray(X, dtype=dtype).reshape(-1), None, None
        q = np.zeros_like(w)
        # WeightVector starts at wscale 1 with its norms computed from w
        state = np.array([float(intercept), 1.0, float((w * w).sum(dtype=dtype)),
                          float(np.abs(w).sum(dtype=dtype)), 0.0, 0.0, 0.0])
        cfg = {"penalty": _PENALTIES[self.penalty], "alpha": float(self.alpha),
               "l1_ratio": float(self.l1_ratio), "eta": float(self.eta0),
               "fit_intercept": bool(self.fit_intercept),
               "intercept_decay": _SPARSE_INTERCEPT_DECAY if sparse else 1.0,
               "weight_pos": float(pos_weight), "weight_neg": float(neg_weight),
               "compute_loss": bool(self.verbose or not self.early_stopping)}
        order = np.arange(X.shape[0], dtype=np.int64)
        skip = validation_mask.astype(np.uint8) if validation_mask.any() else None
        train_count = X.shape[0] - int(validation_mask.sum())
        best_objective, best_score, no_improvement = np.inf, -np.inf, 0
        curve = []
        epoch = 0
        t_start = time.time()
        for epoch in range(max_iter):
            if self.verbose > 0:
                print("-- Epoch %d" % (epoch + 1))
            if self.shuffle:
                core.sgd_shuffle(order, seed)
            core.sgd_perceptron_epoch(w, q, state, xdata, ptr, ind, y_i, sw, order, skip, cfg)
            if not (np.isfinite(state[0]) and np.isfinite(w).all()):
                raise ValueError("Floating-point under-/overflow occurred at epoch #%d. Scaling "
                                 "input data with StandardScaler or MinMaxScaler might help."
                                 % (epoch + 1))
            if self.early_stopping:
                # scikit-learn scores the stored vector w, without its scale factor
                Xv, yv, swv = val
                coef = w.reshape(1, -1)  # (the callback's coef_ and intercept_ arrays)
                scores = safe_sparse_dot(Xv, coef.T, dense_output=True) + np.atleast_1d(state[0])
                pred = np.where(scores.ravel() > 0, 1.0, -1.0)
                score = accuracy_score(yv, pred, sample_weight=swv)
                curve.append(float(score))
                if self.verbose > 0:
                    print("Norm: %.2f, NNZs: %d, Bias: %.6f, T: %d, Avg. loss: %f, Objective: %f,"
                          " Validation score: %f" % (
                              np.linalg.norm(w) * state[1], np.count_nonzero(w), state[0],
                              train_count * (epoch + 1), state[5] / train_count,
                              state[6] / train_count, score))
                    print("Total training time: %.2f seconds." % (time.time() - t_start))
                if tol > -np.inf and score < best_score + tol:
                    no_improvement += 1
                else:
                    no_improvement = 0
                if score > best_score:
                    best_score = score
            else:
                objective = state[6] / train_count
                curve.append(float(objective))
                if self.verbose > 0:
                    print("Norm: %.2f, NNZs: %d, Bias: %.6f, T: %d, Avg. loss: %f, Objective: %f"
                          % (np.linalg.norm(w) * state[1], np.count_nonzero(w), state[0],
                             train_count * (epoch + 1), state[5] / train_count, objective))
                    print("Total training time: %.2f seconds." % (time.time() - t_start))
                if tol > -np.inf and objective > best_objective - tol:
                    no_improvement += 1
                else:
                    no_improvement = 0
                if objective < best_objective:
                    best_objective = objective
            if no_improvement >= self.n_iter_no_change:
                if self.verbose:
                    print("Convergence after %d epochs took %.2f seconds"
                          % (epoch + 1, time.time() - t_start))
                break
        w *= dtype.type(state[1])  # WeightVector.reset_wscale
        return w, state[0], epoch + 1, curve

    def _record(self, curve: list) -> None:
        key = "val_score" if self.early_stopping else "objective"
        self.history_.setdefault(key, []).append(curve)

    # ------------------------------------------------------------------ inference
    def decision_function(self, X):
        """Signed distance to the hyperplane(s), ``X @ coef_.T + intercept_``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        scores : ndarray of shape (n_samples,) or (n_samples, n_classes)
        """
        check_is_fitted(self)
        X = validate_data(self, X, accept_sparse="csr", reset=False)
        coef_t = self.coef_.T if self.coef_.ndim == 2 else self.coef_
        scores = safe_sparse_dot(X, coef_t, dense_output=True) + self.intercept_
        return scores.reshape(-1) if (scores.ndim > 1 and scores.shape[1] == 1) else scores

    def predict(self, X):
        """Class labels: the sign of the score (binary) or the highest score.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
        """
        scores = self.decision_function(X)
        if scores.ndim == 1:
            indices = (scores > 0).astype(np.intp)
        else:
            indices = scores.argmax(axis=1)
        return np.take(self.classes_, indices, axis=0)

    def densify(self):
        """Convert a sparse ``coef_`` back to a dense array; return self."""
        check_is_fitted(self, msg="Estimator, %(name)s, must be fitted before densifying.")
        if sp.issparse(self.coef_):
            self.coef_ = self.coef_.toarray()
        return self

    def sparsify(self):
        """Store ``coef_`` as a scipy CSR array (for mostly-zero weights); return self."""
        check_is_fitted(self, msg="Estimator, %(name)s, must be fitted before sparsifying.")
        from sklearn import get_config

        csr = sp.csr_array if get_config().get("sparse_interface") == "sparray" else sp.csr_matrix
        self.coef_ = csr(self.coef_)
        return self
