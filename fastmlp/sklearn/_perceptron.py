"""scikit-learn's Perceptron (an SGD linear classifier), trained by fastmlp's C core.

The semantics are those of scikit-learn 1.9's ``Perceptron`` =
``BaseSGDClassifier(loss='perceptron', learning_rate='constant')``
(``sklearn/linear_model/_stochastic_gradient.py`` and ``_sgd_fast.pyx.tp``):
per-sample updates ``w += eta0 * y * class_weight * sample_weight * x`` on
mistakes (``y * p <= 0``), L2/L1/elastic-net penalties through the scaled
weight vector and the truncated cumulative L1 penalty, scikit-learn's xorshift
shuffle re-seeded with the same seed every epoch, its seeds drawn in its
order, its stopping rule (``count >= n_iter_no_change``) and one-vs-rest
multiclass.  Each epoch runs in C (``fastmlp._core.sgd_perceptron_epoch_multi``,
GIL released) for all the one-vs-rest classes at once: their dot products
interleaved in each thread, the classes spread over ``n_jobs`` / ``n_threads``
OpenMP threads, a sparse-enough dense X packed to its nonzeros -- each class's
arithmetic exactly scikit-learn's (csrc/linear_models/sgd_lanes_impl.h).
"""
from __future__ import annotations

import numbers
import time
import warnings

import numpy as np
import scipy.sparse as sp
from joblib import effective_n_jobs
from sklearn.base import ClassifierMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import accuracy_score
from sklearn.model_selection import StratifiedShuffleSplit
from sklearn.utils import check_random_state, compute_class_weight
from sklearn.utils.extmath import safe_sparse_dot
from sklearn.utils.validation import check_is_fitted, validate_data

from fastmlp import _backend as B
from fastmlp.sklearn._base import (INT_OR_NONE, RANDOM_STATE, VERBOSE, NamedArgumentScore,
                                   SklearnEstimator, check_label_values, check_partial_fit_first_call,
                                   check_sample_weight, store_params)
from fastmlp._validation import (BOOL, NONE, DivergenceError, Interval, Options, _TypeOf,
                                 check_forward_output, naming,
                                 resolve_threads, transaction)

__all__ = ["Perceptron"]

core = B.core
_MAX_INT = np.iinfo(np.int32).max
_PENALTIES = {None: core.PENALTY_NONE, "l1": core.PENALTY_L1, "l2": core.PENALTY_L2,
              "elasticnet": core.PENALTY_ELASTICNET}
_SPARSE_INTERCEPT_DECAY = 0.01  # scikit-learn's, for CSR input
#: dot products side by side per thread in the interleaved epoch kernel (more
#: than the classes of a thread: the rest speculate over their next rows)
_LANES = 8
#: pack a dense X for training when at most this fraction of it is nonzero
#: (the packed copy costs a 4-byte column index per stored entry)
_PACK_MAX_FRACTION = 0.5
#: False: run each problem's epoch through the per-class reference kernel
#: instead (same results, slower; the tests compare the two paths)
_INTERLEAVE = True

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


def _finish(error, interrupted: bool) -> None:
    """After a fit's transaction: raise a divergence (the model keeps its last finite
    weights) or say that Ctrl-C stopped training at the last completed epoch."""
    if error is not None:
        raise error
    if interrupted:
        warnings.warn("Training interrupted by user.")


class _Run:
    """One binary problem's stopping rule and log across epochs (scikit-learn's _plain_sgd)."""

    def __init__(self) -> None:
        self.best_objective, self.best_score, self.no_improvement = np.inf, -np.inf, 0
        self.curve: list = []
        self.n_iter = 0
        self.error = None

    def save(self) -> tuple:
        """The run's state after an epoch, cheap to take (the curve only grows)."""
        return (len(self.curve), self.n_iter, self.best_objective, self.best_score,
                self.no_improvement, self.error)

    def load(self, saved: tuple) -> None:
        """Go back to a :meth:`save`."""
        n, self.n_iter, self.best_objective, self.best_score, self.no_improvement, \
            self.error = saved
        del self.curve[n:]

    def end_epoch(self, est, val, w, state, tol, train_count, epoch, t_start) -> bool:
        """Record the epoch that just ran; True when the problem stops here."""
        if est.early_stopping:
            # scikit-learn scores the stored vector w, without its scale factor
            Xv, yv, swv = val
            coef = w.reshape(1, -1)  # (the callback's coef_ and intercept_ arrays)
            scores = safe_sparse_dot(Xv, coef.T, dense_output=True) + np.atleast_1d(state[0])
            pred = np.where(scores.ravel() > 0, 1.0, -1.0)
            score = accuracy_score(yv, pred, sample_weight=swv)
            self.curve.append(float(score))
            if est.verbose > 0:
                print("Norm: %.2f, NNZs: %d, Bias: %.6f, T: %d, Avg. loss: %f, Objective: %f,"
                      " Validation score: %f" % (
                          np.linalg.norm(w) * state[1], np.count_nonzero(w), state[0],
                          train_count * (epoch + 1), state[5] / train_count,
                          state[6] / train_count, score))
                print("Total training time: %.2f seconds." % (time.time() - t_start))
            if tol > -np.inf and score < self.best_score + tol:
                self.no_improvement += 1
            else:
                self.no_improvement = 0
            if score > self.best_score:
                self.best_score = score
        else:
            objective = state[6] / train_count
            self.curve.append(float(objective))
            if est.verbose > 0:
                print("Norm: %.2f, NNZs: %d, Bias: %.6f, T: %d, Avg. loss: %f, Objective: %f"
                      % (np.linalg.norm(w) * state[1], np.count_nonzero(w), state[0],
                         train_count * (epoch + 1), state[5] / train_count, objective))
                print("Total training time: %.2f seconds." % (time.time() - t_start))
            if tol > -np.inf and objective > self.best_objective - tol:
                self.no_improvement += 1
            else:
                self.no_improvement = 0
            if objective < self.best_objective:
                self.best_objective = objective
        if self.no_improvement >= est.n_iter_no_change:
            if est.verbose:
                print("Convergence after %d epochs took %.2f seconds"
                      % (epoch + 1, time.time() - t_start))
            return True
        return False


class Perceptron(NamedArgumentScore, ClassifierMixin, SklearnEstimator):
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
        Threads for the one-vs-rest fits (joblib's count, as scikit-learn);
        None uses ``n_threads``.
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
    feature_names_in_ : ndarray of shape (``n_features_in_``,)
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
        with transaction(self):
            self._validate_hyper()
            check_label_values(y)
            if hasattr(self, "classes_"):
                delattr(self, "classes_")
            with naming("y"):
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
            error, interrupted = self._partial_fit(X, y, self.max_iter, classes, sample_weight,
                                                   coef_init, intercept_init)
        _finish(error, interrupted)
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
        with transaction(self):
            if not hasattr(self, "classes_"):
                self._validate_hyper()
                if self.early_stopping:
                    raise ValueError("early_stopping should be False with partial_fit")
                if self.class_weight == "balanced":
                    raise ValueError(
                        "class_weight '{0}' is not supported for partial_fit. In order to use "
                        "'balanced' weights, use compute_class_weight('{0}', classes=classes, "
                        "y=y). In place of y you can use a large enough sample of the full "
                        "training set target to properly estimate the class frequency "
                        "distributions. Pass the resulting weights as the class_weight "
                        "parameter.".format(self.class_weight))
            check_label_values(y)
            if classes is not None:
                check_label_values(classes, "classes")
            error, interrupted = self._partial_fit(X, y, 1, classes, sample_weight, None, None)
        _finish(error, interrupted)
        return self

    def _partial_fit(self, X, y, max_iter, classes, sample_weight, coef_init, intercept_init):
        first_call = not hasattr(self, "classes_")
        with naming("X", "y"):
            X, y = validate_data(self, X, y, accept_sparse="csr",
                                 dtype=[np.float64, np.float32], order="C",
                                 accept_large_sparse=False, reset=first_call)
        n_features = X.shape[1]
        check_partial_fit_first_call(self, classes)
        n_classes = self.classes_.shape[0]
        self._expanded_class_weight = compute_class_weight(self.class_weight,
                                                           classes=self.classes_, y=y)
        if sample_weight is None:
            sw = np.ones(X.shape[0], dtype=X.dtype)
        else:
            with naming("sample_weight"):
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
            return self._fit_multiclass(X, y, sw, max_iter)
        (coef, intercept, n_iter, curve), error, interrupted = self._fit_binary(X, y, sw, max_iter)
        self._record(curve)
        self.t_ += n_iter * X.shape[0]
        self.n_iter_ = n_iter
        self.coef_ = coef.reshape(1, -1)
        self.intercept_ = np.atleast_1d(intercept)  # float64, as scikit-learn's
        return error, interrupted

    def _allocate(self, n_classes, n_features, dtype, coef_init, intercept_init) -> None:
        """scikit-learn's _allocate_parameter_mem (copies instead of aliasing the inits)."""
        for name, init in (("coef_init", coef_init), ("intercept_init", intercept_init)):
            if init is None:
                continue
            arr = np.asarray(init)
            if arr.dtype.kind not in "fiub":
                raise ValueError(f"{name} must be a real numeric array; got dtype {arr.dtype}")
            with np.errstate(over="ignore"):
                arr = arr.astype(dtype)
            if not np.isfinite(arr).all():
                raise ValueError(f"{name} contains {'NaN' if np.isnan(arr).any() else 'infinity'}"
                                 f" (in {np.dtype(dtype)}); initial weights must be finite")
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
        xval = X[mask] if self.early_stopping else None  # (shared by the classes)
        problems = [self._problem(i, X, y, self._expanded_class_weight[i], 1.0, sw, int(seed),
                                  mask, xval) for i, seed in enumerate(seeds)]
        result, error, interrupted = self._fit_problems(X, problems, self.coef_, self.intercept_,
                                                        sw, max_iter)
        n_iter = 0
        for i, (coef, intercept, n_iter_i, curve) in enumerate(result):
            self.coef_[i] = coef
            self.intercept_[i] = intercept
            n_iter = max(n_iter, n_iter_i)
            self._record(curve)
        self.t_ += n_iter * X.shape[0]
        self.n_iter_ = n_iter
        return error, interrupted

    def _fit_binary(self, X, y, sw, max_iter):
        """scikit-learn's fit_binary for the positive class 1; (coef, intercept, n_iter, curve)."""
        problem = self._problem(1, X, y, self._expanded_class_weight[1],
                                self._expanded_class_weight[0], sw, self.random_state, None)
        result, error, interrupted = self._fit_problems(X, [problem], self.coef_.reshape(1, -1),
                                                        self.intercept_[:1], sw, max_iter)
        return result[0], error, interrupted

    def _problem(self, i, X, y, pos_weight, neg_weight, sw, random_state, validation_mask,
                 xval=None):
        """Class i against the rest: targets, weights, shuffle seed and validation split,
        drawing from random_state in scikit-learn's fit_binary order."""
        y_i = np.ones(y.shape, dtype=X.dtype, order="C")
        y_i[y != self.classes_[i]] = -1.0
        rs = check_random_state(random_state)
        rs.randint(1, np.iinfo(np.int32).max)  # make_dataset's seed (it does not shuffle)
        if validation_mask is None:
            validation_mask = self._make_validation_split(y_i, sample_mask=sw > 0)
        val = None
        if self.early_stopping:
            val = (X[validation_mask] if xval is None else xval, y_i[validation_mask],
                   sw[validation_mask])
        return {"y": y_i, "pos_weight": float(pos_weight), "neg_weight": float(neg_weight),
                "seed": int(rs.randint(_MAX_INT)), "mask": validation_mask, "val": val}

    def _rows(self, X):
        """X as the epoch kernel reads it: (data, indptr, indices, packed, intercept_decay).

        A dense X with no more than _PACK_MAX_FRACTION nonzeros is packed
        (its entries other than +0.0) and trained with dense semantics, which
        skips the zero products without changing a bit; L1/elastic-net stay
        on the dense rows (their penalty step touches every column)."""
        if sp.issparse(X):
            return (np.ascontiguousarray(X.data), np.ascontiguousarray(X.indptr, dtype=np.int64),
                    np.ascontiguousarray(X.indices, dtype=np.int32), False,
                    _SPARSE_INTERCEPT_DECAY)
        X = np.ascontiguousarray(X)
        if _INTERLEAVE and self.penalty in (None, "l2") and X.size > 0:
            packed = core.sgd_pack_rows(X, _PACK_MAX_FRACTION)
            if packed is not None:
                val, pind, pptr = packed
                return val, pptr, pind, True, 1.0
        return X.reshape(-1), None, None, False, 1.0

    def _threads(self) -> int:
        """Threads for the one-vs-rest classes: n_jobs (joblib's rule) or n_threads."""
        if self.n_jobs is None:
            return self._n_threads()
        return resolve_threads(max(1, effective_n_jobs(self.n_jobs)), core.max_threads(),
                               "n_jobs")

    def _fit_problems(self, X, problems, coef, intercept, sw, max_iter):
        """scikit-learn's _plain_sgd for several one-vs-rest problems over the same rows.

        The problems run epoch by epoch together through one interleaved C
        kernel (csrc/linear_models/sgd_lanes_impl.h), each with its own shuffle, stopping
        rule and n_iter_; results are those of running them one after
        another.  Verbose fits run the problems one at a time, so the log
        comes out in scikit-learn's order.  Returns one (coef, intercept,
        n_iter, curve) per problem."""
        dtype = X.dtype
        rows = self._rows(X)
        if not self.verbose:
            return self._fit_group(X, rows, problems, np.asarray(coef, dtype=dtype), intercept,
                                   sw, max_iter)
        results, error, interrupted = [], None, False
        for i, pb in enumerate(problems):
            if error is not None or interrupted:  # later problems stay as they were
                results.append((np.asarray(coef[i], dtype=dtype).reshape(-1),
                                float(np.asarray(intercept).reshape(-1)[i]), 0, []))
                continue
            res, error, interrupted = self._fit_group(X, rows, [pb], coef[i:i + 1],
                                                      intercept[i:i + 1], sw, max_iter)
            results.append(res[0])
        return results, error, interrupted

    def _fit_group(self, X, rows, problems, coef, intercept, sw, max_iter):
        """Train the problems (sharing one validation split) from coef (P, d) and
        intercept (P,) epoch by epoch; a problem leaves the group when its stopping
        rule fires.  Returns one (coef, intercept, n_iter, curve) per problem."""
        xdata, ptr, ind, packed, decay = rows
        dtype, n = X.dtype, X.shape[0]
        P = len(problems)
        W = np.array(coef, dtype=dtype, order="C").reshape(P, -1)
        Q = np.zeros_like(W)
        # WeightVector starts at wscale 1 with its norms computed from w
        state = np.zeros((P, 7))
        state[:, 0] = np.asarray(intercept, dtype=np.float64).reshape(-1)[:P]
        state[:, 1] = 1.0
        state[:, 2] = [float((w * w).sum(dtype=dtype)) for w in W]
        state[:, 3] = [float(np.abs(w).sum(dtype=dtype)) for w in W]
        cfgs = [{"penalty": _PENALTIES[self.penalty], "alpha": float(self.alpha),
                 "l1_ratio": float(self.l1_ratio), "eta": float(self.eta0),
                 "fit_intercept": bool(self.fit_intercept), "intercept_decay": decay,
                 "weight_pos": pb["pos_weight"], "weight_neg": pb["neg_weight"],
                 "compute_loss": bool(self.verbose or not self.early_stopping)}
                for pb in problems]
        Y = np.stack([pb["y"] for pb in problems])
        order = np.tile(np.arange(n, dtype=np.int64), (P, 1))
        mask = problems[0]["mask"]  # (one split for all: multiclass shares it)
        skip = mask.astype(np.uint8) if mask.any() else None
        counts = np.zeros((P, 2), dtype=np.int64)
        train_count = n - int(mask.sum())
        tol = self.tol if self.tol is not None else -np.inf
        runs = [_Run() for _ in problems]
        active = list(range(P))
        threads = self._threads()
        t_start = time.time()
        # after every epoch the group commits its state in one assignment; Ctrl-C
        # goes back to the last commit, a diverging problem to its last finite epoch
        committed = (W.copy(), Q.copy(), state.copy(), counts.copy(),
                     [r.save() for r in runs], list(active))
        interrupted = False
        try:
            for epoch in range(max_iter):
                if not active:
                    break
                if self.verbose > 0:
                    print("-- Epoch %d" % (epoch + 1))
                if self.shuffle:
                    for p in active:
                        core.sgd_shuffle(order[p], problems[p]["seed"])
                if _INTERLEAVE:
                    core.sgd_perceptron_epoch_multi(W, Q, state, counts, xdata, ptr, ind, Y, sw,
                                                    order, skip, cfgs,
                                                    np.array(active, dtype=np.int32), packed,
                                                    _LANES, threads)
                else:
                    for p in active:
                        core.sgd_perceptron_epoch(W[p], Q[p], state[p], xdata, ptr, ind, Y[p],
                                                  sw, order[p], skip, cfgs[p])
                for p in list(active):
                    run = runs[p]
                    if not (np.isfinite(state[p, 0]) and np.isfinite(W[p]).all()):
                        # scikit-learn, one problem after another, raises the first one's
                        # error: the later problems can no longer matter.  This one and the
                        # later ones go back to their last finite epoch.
                        later = [a for a in active if a >= p]
                        for a in later:
                            W[a], Q[a], state[a], counts[a] = (committed[0][a], committed[1][a],
                                                               committed[2][a], committed[3][a])
                            runs[a].load(committed[4][a])
                        run.error = ("Floating-point under-/overflow occurred at epoch #%d. "
                                     "Scaling input data with StandardScaler or MinMaxScaler "
                                     "might help." % (epoch + 1))
                        active = [a for a in active if a < p]
                        break
                    run.n_iter = epoch + 1
                    if run.end_epoch(self, problems[p]["val"], W[p], state[p], tol, train_count,
                                     epoch, t_start):
                        active.remove(p)
                committed = (W.copy(), Q.copy(), state.copy(), counts.copy(),
                             [r.save() for r in runs], list(active))
        except KeyboardInterrupt:
            interrupted = True
            W[...], Q[...], state[...], counts[...] = committed[:4]
            for r, saved in zip(runs, committed[4]):
                r.load(saved)
        failed = [r.error for r in runs if r.error is not None]
        W *= state[:, 1:2].astype(dtype)  # WeightVector.reset_wscale
        result = [(W[p], state[p, 0], runs[p].n_iter, runs[p].curve) for p in range(P)]
        return result, (DivergenceError(failed[0]) if failed else None), interrupted

    def _record(self, curve: list) -> None:
        key = "val_score" if self.early_stopping else "objective"
        self.history_.setdefault(key, []).append(curve)

    # ------------------------------------------------------------------ inference
    def decision_function(self, X):
        """Signed distance to the hyperplane(s), ``X @ coef_.T + intercept_``.

        A score that overflows raises :class:`fastmlp.ForwardOverflowError`
        (see :func:`fastmlp.errstate`).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        scores : ndarray of shape (n_samples,) or (n_samples, n_classes)
        """
        check_is_fitted(self)
        with naming("X"):
            X = validate_data(self, X, accept_sparse="csr", reset=False)
        coef_t = self.coef_.T if self.coef_.ndim == 2 else self.coef_
        with np.errstate(over="ignore", invalid="ignore"):
            scores = safe_sparse_dot(X, coef_t, dense_output=True) + self.intercept_
        check_forward_output(np.asarray(scores), "X", "score")
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
