"""scikit-learn's MLPClassifier and MLPRegressor, trained by fastmlp's C core.

Everything that decides *what* is computed follows scikit-learn 1.9's
``sklearn/neural_network/_multilayer_perceptron.py`` (read with
``/work/shared/notes/sklearn-semantics.md``): the objective (log-loss or half
squared error, with ``0.5 * alpha * ||W||^2`` divided by the batch's sum of
sample weights), Glorot-uniform initialisation with uniform biases, the
optimizers' update forms (``"sklearn": True`` in the optimizer dict), the
learning-rate schedules, the early-stopping split and rule, and the order in
which the random state is consumed (weights, then the validation split, then
one permutation per epoch).  Everything that decides *how fast* is fastmlp's:
whole epochs run in ``fastmlp._core.train`` (one C call per ~16k rows), the
lbfgs objective and gradient come from ``fastmlp._core.loss_grad``, and
inference from ``fastmlp._core.forward_net``.

Where scikit-learn has a known bug, the default reproduces it and
``fix_sklearn_bugs`` switches to the corrected behaviour (see
:data:`SKLEARN_BUG_FIXES`).
"""
from __future__ import annotations

import numbers
import time
import warnings
from typing import Any, Optional

import numpy as np
from scipy.special import xlogy
import scipy.sparse as sp
from sklearn.base import ClassifierMixin, RegressorMixin, is_classifier
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import accuracy_score, r2_score
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import LabelBinarizer
from sklearn.utils import check_random_state, column_or_1d, compute_class_weight
from sklearn.utils.metaestimators import available_if
from sklearn.utils.multiclass import type_of_target, unique_labels
from sklearn.utils.validation import check_is_fitted, validate_data

from fastmlp import _backend as B
from fastmlp import _driver as D
from fastmlp import _lbfgs
from fastmlp._driver import prepare_state
from fastmlp.optim import SGD, Adagrad, Adam, AdamW, Optimizer, RMSprop
from fastmlp.sklearn._base import (INT_OR_NONE, RANDOM_STATE, VERBOSE, NamedArgumentScore,
                                   SklearnEstimator, check_label_values,
                                   check_partial_fit_first_call, check_sample_weight,
                                   store_params)
from fastmlp._validation import (BOOL, DivergenceError, Interval, Options, _TypeOf,
                                 check_batch_norm_rows, check_csr, check_forward_output,
                                 check_norm, naming, validate_params)

__all__ = ["MLPClassifier", "MLPRegressor", "SKLEARN_BUG_FIXES"]

core = B.core

#: scikit-learn bugs reproduced by default; ``fix_sklearn_bugs=True`` (or a
#: collection of these names) switches to the corrected behaviour.
SKLEARN_BUG_FIXES: dict[str, str] = {
    "multioutput_loss": (
        "MLPRegressor(loss='squared_error') with several outputs reports (and lbfgs "
        "line-searches on) a loss averaged over outputs while its gradient is that of "
        "the loss summed over outputs (scikit-learn issue #8349); fixed: the loss is "
        "summed over outputs, consistent with the gradient (as in PR #34830)."),
    "stratify_multiclass": (
        "early_stopping's validation split is stratified only for binary targets, "
        "not multiclass ones, although the documentation says it is; fixed: "
        "multiclass splits are stratified too."),
    "restore_best_weights": (
        "after an early-stopping fit, a warm-started early-stopping fit that never "
        "beats the previous best validation score ends with its last weights instead "
        "of the best ones (the best-weights list aliases the live weights); fixed: "
        "the best weights seen are restored."),
    "partial_fit_lbfgs": (
        "MLPRegressor.partial_fit is offered for solver='lbfgs' and runs a whole "
        "lbfgs optimisation (its availability check is never called); fixed: it is "
        "unavailable for lbfgs, as in MLPClassifier."),
    "lbfgs_clipped_loss": (
        "MLPClassifier(solver='lbfgs') line-searches on the log-loss of probabilities "
        "clipped to [eps, 1 - eps] while its gradient is that of the unclipped loss, so "
        "once outputs saturate (a logit beyond about 36 in float64) the objective and "
        "its gradient disagree; fixed: the log-loss computed from the logits, "
        "consistent with the gradient."),
}

_STOCHASTIC = ("sgd", "adam", "adagrad", "rmsprop", "adamw")
#: hidden activation names (scikit-learn's, plus fastmlp's) -> fastmlp names
_HIDDEN = {"identity": "identity", "logistic": "sigmoid", "tanh": "tanh", "relu": "relu",
           "leaky_relu": "leaky_relu", "step": "step", "gelu": "gelu", "gelu_tanh": "gelu_tanh",
           "silu": "silu", "elu": "elu", "selu": "selu", "softplus": "softplus"}
#: out_activation_ -> the activation the C forward pass applies ('exp' is
#: applied in NumPy after an identity output; the Poisson loss applies it in C)
_OUTPUT_C = {"identity": "identity", "logistic": "sigmoid", "softmax": "softmax", "exp": "identity"}
_CHUNK_ROWS = 16384        # rows per C training call (progress, Ctrl-C latency)
_PREDICT_ROWS = 4096       # rows per C inference batch (bounds scratch memory)

_ARRAY_LIKE = _TypeOf(list, tuple, np.ndarray, name="an array-like")
_DICT_OR_NONE = _TypeOf(dict, type(None), name="a dict or None")
_FIXES = _TypeOf(bool, np.bool_, list, tuple, set, frozenset,
                 name=f"a bool or a collection of names among {sorted(SKLEARN_BUG_FIXES)}")

_CONSTRAINTS: dict[str, list] = {
    "hidden_layer_sizes": [_ARRAY_LIKE, Interval(numbers.Integral, 1, None)],
    "activation": [Options(tuple(_HIDDEN))],
    "solver": [Options(("lbfgs",) + _STOCHASTIC)],
    "alpha": [Interval(numbers.Real, 0, None)],
    "batch_size": [Options(("auto",)), Interval(numbers.Integral, 1, None)],
    "learning_rate": [Options(("constant", "invscaling", "adaptive"))],
    "learning_rate_init": [Interval(numbers.Real, 0, None, closed="neither")],
    "power_t": [Interval(numbers.Real, 0, None)],
    "max_iter": [Interval(numbers.Integral, 1, None)],
    "shuffle": [BOOL],
    "random_state": [RANDOM_STATE],
    "tol": [Interval(numbers.Real, 0, None)],
    "verbose": [VERBOSE],
    "warm_start": [BOOL],
    "momentum": [Interval(numbers.Real, 0, 1)],
    "nesterovs_momentum": [BOOL],
    "early_stopping": [BOOL],
    "validation_fraction": [Interval(numbers.Real, 0, 1, closed="left")],
    "beta_1": [Interval(numbers.Real, 0, 1, closed="left")],
    "beta_2": [Interval(numbers.Real, 0, 1, closed="left")],
    "epsilon": [Interval(numbers.Real, 0, None, closed="neither")],
    "n_iter_no_change": [Interval(numbers.Integral, 1, None), Options((np.inf,))],
    "max_fun": [Interval(numbers.Integral, 1, None)],
    "leaky_relu_slope": [Interval(numbers.Real, 0, None)],
    "dropout": [Interval(numbers.Real, 0, 1, closed="left"), _ARRAY_LIKE],
    "norm": [_TypeOf(str, list, tuple, type(None),
                     name="'batch', 'layer', None or one of them per hidden layer")],
    "n_threads": [INT_OR_NONE],
    "progress_bar": [BOOL],
    "optimizer_params": [_DICT_OR_NONE],
    "fix_sklearn_bugs": [_FIXES],
}
#: optimizer fields that ``optimizer_params`` may set (fastmlp's extra solvers)
_OPT_FIELDS = {"weight_decay", "alpha", "dampening", "l1"}


def _pack(coefs: list, intercepts: list, dtype) -> np.ndarray:
    """Flatten like scikit-learn's ``_pack``: all weights, then all biases."""
    return np.concatenate([np.ravel(a) for a in list(coefs) + list(intercepts)]).astype(
        dtype, copy=False)


def _views(flat: np.ndarray, layer_units: list) -> tuple[list, list]:
    """Split a flat buffer into (coefs, intercepts) views, scikit-learn's shapes."""
    coefs, intercepts, off = [], [], 0
    for fan_in, fan_out in zip(layer_units[:-1], layer_units[1:]):
        coefs.append(flat[off:off + fan_in * fan_out].reshape(fan_in, fan_out))
        off += fan_in * fan_out
    for fan_out in layer_units[1:]:
        intercepts.append(flat[off:off + fan_out])
        off += fan_out
    return coefs, intercepts


def _norm_views(flat: np.ndarray, layer_units: list, kinds: list) -> tuple[list, list]:
    """(scales, shifts) views of the normalised hidden layers: after the biases, a
    (gamma, beta) pair per normalised layer in layer order (csrc/fastmlp.h)."""
    off = sum((i + 1) * o for i, o in zip(layer_units[:-1], layer_units[1:]))
    gs, bs = [], []
    for o, kind in zip(layer_units[1:-1], kinds):
        if kind is not None:
            gs.append(flat[off:off + o])
            bs.append(flat[off + o:off + 2 * o])
            off += 2 * o
    return gs, bs


def _dtype_kind(a) -> str:
    """The dtype kind of an array-like ('' when it does not convert)."""
    dt = getattr(a, "dtype", None)
    if dt is None:
        try:
            dt = np.asarray(a).dtype
        except Exception:  # noqa: BLE001 - ragged input: scikit-learn's checks report it
            return ""
    return getattr(dt, "kind", "")


def _solver_optimizer(est: "_BaseMLP") -> Optimizer:
    """The update rule of ``est.solver`` as a :mod:`fastmlp.optim` object.

    'sgd' and 'adam' are scikit-learn's forms (``sklearn=True``); 'adagrad',
    'rmsprop' and 'adamw' torch.optim's, with ``optimizer_params`` for their
    extra fields.  Biases are never decayed (scikit-learn's L2 skips them).
    """
    extra = dict(est.optimizer_params or {})
    lr, wd = float(est.learning_rate_init), float(extra.get("weight_decay", 0.0))
    betas, eps = (float(est.beta_1), float(est.beta_2)), float(est.epsilon)
    if est.solver == "sgd":  # without momentum Nesterov's step is the plain one
        return SGD(lr, momentum=float(est.momentum), weight_decay=wd,
                   nesterov=bool(est.nesterovs_momentum) and est.momentum > 0,
                   decay_bias=False, sklearn=True)
    if est.solver == "adam":
        return Adam(lr, betas, eps, weight_decay=wd, decay_bias=False, sklearn=True)
    if est.solver == "adamw":
        return AdamW(lr, betas, eps, weight_decay=wd, decay_bias=False)
    if est.solver == "rmsprop":
        return RMSprop(lr, alpha=float(extra.get("alpha", B.RMSPROP_ALPHA)), eps=eps,
                       weight_decay=wd, decay_bias=False)
    return Adagrad(lr, weight_decay=wd, eps=eps, decay_bias=False)


class _SolverSchedule:
    """scikit-learn's learning-rate logic over the optimizer state of the epoch driver.

    ``state`` is the one optimizer-state model (:func:`fastmlp._driver.prepare_state`);
    this object adds scikit-learn's schedules: 'invscaling' (per epoch, from
    ``t_``), 'adaptive' (divide by 5 when stuck), and Adam's bias-corrected
    step size reported as ``learning_rate``.  The extra solvers follow 'sgd'.
    """

    def __init__(self, est: "_BaseMLP", params: np.ndarray) -> None:
        self.solver = est.solver
        self.learning_rate_init = float(est.learning_rate_init)
        self.learning_rate = float(est.learning_rate_init)
        self.lr_schedule = est.learning_rate
        self.power_t = est.power_t
        l1 = float(dict(est.optimizer_params or {}).get("l1", 0.0))
        self.optimizer = _solver_optimizer(est)
        self.extra = {"l1": l1}
        self.state = prepare_state(None, self.optimizer, params, self.extra)

    def match(self, params: np.ndarray) -> None:
        """Keep the state for params (cast if training goes on in another precision)."""
        self.state = prepare_state(self.state, self.optimizer, params, self.extra)

    @property
    def step(self) -> int:
        """Updates done (Adam's t)."""
        return int(self.state["step"])

    def epoch_lr(self) -> float:
        """The rate the C loop uses this epoch (Adam corrects lr_init itself)."""
        return self.learning_rate_init if self.solver == "adam" else self.learning_rate

    def advance(self) -> None:
        """After C calls: Adam's learning_rate is its bias-corrected step size."""
        step = self.step
        if self.solver == "adam" and step > 0:
            b1, b2 = self.state["beta1"], self.state["beta2"]
            self.learning_rate = (self.learning_rate_init * np.sqrt(1 - b2 ** step)
                                  / (1 - b1 ** step))

    def iteration_ends(self, time_step: int) -> None:
        """scikit-learn: invscaling sets lr = lr_init / (t_ + 1) ** power_t per epoch."""
        if self.solver != "adam" and self.lr_schedule == "invscaling":
            self.learning_rate = float(self.learning_rate_init) / (time_step + 1) ** self.power_t

    def trigger_stopping(self, msg: str, verbose: Any) -> bool:
        """scikit-learn: stop, or (adaptive schedule) divide the learning rate by 5."""
        if self.solver == "adam" or self.lr_schedule != "adaptive":
            if verbose:
                print(msg + " Stopping.")
            return True
        if self.learning_rate <= 1e-6:
            if verbose:
                print(msg + " Learning rate too small. Stopping.")
            return True
        self.learning_rate /= 5.0
        if verbose:
            print(msg + " Setting learning rate to %f" % self.learning_rate)
        return False


def _divergence_error(what: str, where: str) -> DivergenceError:
    """Training made the weights or the loss non-finite: scikit-learn's message (its tests
    match it) for weights.  ``keeps_model`` False: the transaction around fit and
    partial_fit puts the model back as it was before the call."""
    if what == "weights":
        text = ("Solver produced non-finite parameter weights. The input data may contain "
                "large values and need to be preprocessed.")
    else:
        text = (f"Solver produced a non-finite loss{' ' + where if where else ''} (X or y "
                "holds values too large for the arithmetic); scale X and y.")
    err = DivergenceError(text + " (The model keeps the weights it had before this call.)")
    err.keeps_model = False
    return err


class _SklearnEpochs(D.Hooks):
    """scikit-learn's epoch semantics as hooks of the one epoch driver.

    Its random-number order (one permutation per epoch drawn from the fit's
    RandomState and applied to the previous order), the reported loss (data
    loss divided as scikit-learn's, plus the L2 term of each batch), the
    per-epoch bookkeeping (n_iter_, t_, loss_curve_, the no-improvement count
    on the training loss or the validation score), its schedules and stopping
    rule (:class:`_SolverSchedule`), verbose prints and ConvergenceWarning.
    """

    def __init__(self, est: "_BaseMLP", sched: _SolverSchedule, rs, n: int, flat: np.ndarray,
                 validation: tuple, incremental: bool, metric: bool, nt: int,
                 n_batches: int) -> None:
        from fastmlp._progress import EpochProgress  # local: keeps tqdm off the import path

        self.est, self.sched, self.rs, self.n, self.flat = est, sched, rs, n, flat
        self.X_val, self.y_val, self.sw_val = validation
        self.incremental, self.metric, self.nt = incremental, metric, nt
        self.kdiv = est._data_loss_div()
        self.sample_idx = np.arange(n, dtype=int)
        self.progress = EpochProgress(est.max_iter, n_batches, 1 if est.progress_bar else 0)
        self.t0 = 0.0

    def order(self, epoch: int) -> Optional[np.ndarray]:
        if not self.est.shuffle:
            return None
        # = sklearn.utils.shuffle(sample_idx, random_state=rs) without its validation
        perm = np.arange(self.n)
        self.rs.shuffle(perm)
        self.sample_idx = self.sample_idx[perm]
        return self.sample_idx.astype(np.int64, copy=False)

    def epoch_begin(self, epoch: int, state: dict) -> None:
        self.t0 = time.perf_counter()
        self.progress.start_epoch(epoch)
        state["lr"] = self.sched.epoch_lr()

    def _loss(self, st: B.TrainStats, rows: float) -> float:
        return (st.data_loss / self.kdiv + st.penalty) / rows

    def chunk_end(self, epoch: int, done: int, batches: int, stats: B.TrainStats,
                  state: dict) -> bool:
        self.sched.advance()
        if self.progress.verbose:
            running = {"loss": self._loss(stats, max(stats.rows, 1.0))}
            if self.metric:
                running["accuracy"] = stats.correct / max(stats.rows, 1.0)
            self.progress.update_train(batches, running)
        return False

    def epoch_end(self, epoch: int, stats: B.TrainStats, complete: bool, state: dict) -> bool:
        est, sched = self.est, self.sched
        est.n_iter_ += 1
        est.loss_ = np.float64(self._loss(stats, self.n))
        est.t_ += self.n
        est.loss_curve_.append(est.loss_)
        row = {"loss": float(est.loss_)}
        if self.metric:
            row["accuracy"] = stats.correct / stats.rows
        if est.verbose:
            print("Iteration %d, loss = %.8f" % (est.n_iter_, est.loss_))
        val_score = None
        if self.X_val is not None:
            self.progress.start_validation(self.X_val.shape[0])
            val_score, val_loss = est._evaluate(self.flat, self.X_val, self.y_val, self.sw_val,
                                                self.nt)
            self.progress.update_validation(self.X_val.shape[0])
            row["val_loss"], row["val_score"] = val_loss, val_score
        est._update_no_improvement_count(est.early_stopping, val_score, self.flat)
        row["lr"] = sched.learning_rate
        sched.iteration_ends(est.t_)
        row["time"] = time.perf_counter() - self.t0
        for k, v in row.items():
            est.history_.setdefault(k, []).append(float(v))
        self.progress.end_epoch(row)
        if est._no_improvement_count > est.n_iter_no_change:
            msg = ("%s did not improve more than tol=%f for %d consecutive epochs."
                   % ("Validation score" if est.early_stopping else "Training loss",
                      est.tol, est.n_iter_no_change))
            if sched.trigger_stopping(msg, est.verbose):
                return True
            est._no_improvement_count = 0
        if self.incremental:
            return True
        if est.n_iter_ == est.max_iter:
            warnings.warn("Stochastic Optimizer: Maximum iterations (%d) reached and the "
                          "optimization hasn't converged yet." % est.max_iter,
                          ConvergenceWarning)
        return False

    def diverged(self, epoch: int, what: str) -> BaseException:
        return _divergence_error(what, f"in epoch {epoch + 1}")

    def interrupted(self, state: dict) -> None:
        # the C chunk in flight completed before Python saw the signal: the
        # weights are those after the last finished mini-batch, and the state's
        # step matches them
        self.sched.advance()
        warnings.warn("Training interrupted by user.")

    def close(self) -> None:
        self.progress.close()


class _BaseMLP(SklearnEstimator):
    """Shared machinery of MLPClassifier and MLPRegressor (not for direct use)."""

    _constraints = _CONSTRAINTS

    # ------------------------------------------------------------------ checks
    def _validate_hyper(self) -> None:
        super()._validate_hyper()
        extra = set(self.optimizer_params or {}) - _OPT_FIELDS
        if extra:
            raise ValueError(f"The 'optimizer_params' parameter of {type(self).__name__} may only "
                             f"set {sorted(_OPT_FIELDS)}; got {sorted(extra)}")
        self._fixes()  # validates the names
        rates = np.atleast_1d(np.asarray(self.dropout, dtype=np.float64))
        if not (np.all(rates >= 0) and np.all(rates < 1) and rates.ndim == 1):
            raise ValueError(f"The 'dropout' parameter of {type(self).__name__} must be a rate "
                             f"in [0, 1) or one per hidden layer; got {self.dropout!r}")
        if self.solver == "lbfgs" and np.any(rates > 0):
            raise ValueError("dropout needs a stochastic solver ('sgd', 'adam', ...); lbfgs "
                             "minimises a deterministic objective")
        hidden = self.hidden_layer_sizes
        n_hidden = len(list(hidden)) if hasattr(hidden, "__iter__") else 1
        kinds = check_norm(self.norm, n_hidden)
        if self.solver == "lbfgs" and any(kinds):
            raise ValueError("norm needs a stochastic solver ('sgd', 'adam', ...); lbfgs "
                             "minimises a full-batch objective without normalisation layers")

    def _fixes(self) -> frozenset:
        f = self.fix_sklearn_bugs
        if isinstance(f, (bool, np.bool_)):
            return frozenset(SKLEARN_BUG_FIXES) if f else frozenset()
        unknown = set(f) - set(SKLEARN_BUG_FIXES)
        if unknown:
            raise ValueError(f"The 'fix_sklearn_bugs' parameter of {type(self).__name__} got "
                             f"unknown names {sorted(unknown)}; known: {sorted(SKLEARN_BUG_FIXES)}")
        return frozenset(f)

    def _check_solver(self) -> bool:
        if self.solver not in _STOCHASTIC:
            raise AttributeError("partial_fit is only available for stochastic optimizers. "
                                 "%s is not stochastic." % self.solver)
        return True

    def _dropout_rates(self) -> Optional[np.ndarray]:
        """Rates of the hidden layers' outputs, or None without dropout."""
        n_hidden = self.n_layers_ - 2
        rates = np.atleast_1d(np.asarray(self.dropout, dtype=np.float64))
        if not np.any(rates > 0) or n_hidden == 0:
            return None
        if rates.size == 1:
            rates = np.full(n_hidden, rates[0])
        if rates.size != n_hidden:
            raise ValueError(f"dropout has {rates.size} rates for {n_hidden} hidden layers")
        return np.ascontiguousarray(rates)

    # ------------------------------------------------------------------ normalisation
    def _norm_kinds(self) -> list:
        """None, 'batch' or 'layer' per hidden layer of the fitted network."""
        kinds = getattr(self, "_fitted_norms", None)
        return list(kinds) if kinds is not None else [None] * (self.n_layers_ - 2)

    def _init_norms(self, layer_units: list, dtype) -> None:
        """Scales 1, shifts 0, running mean 0 and variance 1 (torch's initial values)."""
        kinds = check_norm(self.norm, len(layer_units) - 2)
        self._fitted_norms = kinds
        widths = [o for o, k in zip(layer_units[1:-1], kinds) if k]
        self.norm_weights_ = [np.ones(o, dtype) for o in widths]
        self.norm_biases_ = [np.zeros(o, dtype) for o in widths]
        state = [np.r_[np.zeros(o), np.ones(o)] for o, k in zip(layer_units[1:-1], kinds)
                 if k == "batch"]
        self._set_norm_state(np.concatenate(state).astype(dtype) if state else None,
                             layer_units, kinds)

    def _set_norm_state(self, state: Optional[np.ndarray], layer_units: list,
                        kinds: list) -> None:
        """Keep the batch norms' running statistics; running_mean_/running_var_ view them."""
        self._norm_state = state
        self.running_mean_, self.running_var_, off = [], [], 0
        for o, k in zip(layer_units[1:-1], kinds):
            if k == "batch":
                self.running_mean_.append(state[off:off + o])
                self.running_var_.append(state[off + o:off + 2 * o])
                off += 2 * o

    def _norm_params(self) -> list:
        """The (gamma, beta) arrays in the flat layout's order, [] without norm."""
        if not any(self._norm_kinds()):
            return []
        return [a for pair in zip(self.norm_weights_, self.norm_biases_) for a in pair]

    def _norm_arrays(self, dtype) -> tuple:
        """(int32 kinds, running statistics in dtype) for the C calls, or (None, None)."""
        kinds = self._norm_kinds()
        if not any(kinds):
            return None, None
        state = self._norm_state
        if state is not None and state.dtype != dtype:  # training goes on in another dtype
            self._set_norm_state(state.astype(dtype), self._layer_units, kinds)
        return np.asarray([B.NORMS[k] for k in kinds], dtype=np.int32), self._norm_state

    # ------------------------------------------------------------------ network
    def _net(self, dtype=None, training: bool = False):
        """(sizes, acts, slopes) arrays of the C net description."""
        hidden = B.ACTIVATIONS[_HIDDEN[self.activation]]
        out = B.ACTIVATIONS[_OUTPUT_C[self.out_activation_]]
        n_hidden = self.n_layers_ - 2
        acts = np.array([hidden] * n_hidden + [out], dtype=np.int32)
        slopes = B.act_params([_HIDDEN[self.activation]] * n_hidden + ["identity"],
                              [float(self.leaky_relu_slope)] * (n_hidden + 1), B.ELU_ALPHA)
        sizes = np.array(self._layer_units, dtype=np.int64)
        return sizes, acts, slopes

    @property
    def _layer_units(self) -> list[int]:
        return [self.coefs_[0].shape[0]] + [c.shape[1] for c in self.coefs_]

    def _loss_cfg(self, metric: bool = False) -> dict:
        """The C loss reduction that gives scikit-learn's gradient (see _data_loss_div)."""
        if self.out_activation_ == "softmax":
            loss, mult = B.LOSSES["cce"], 1.0
        elif self.out_activation_ == "logistic":
            loss, mult = B.LOSSES["bce"], 1.0
        elif self.out_activation_ == "exp":
            loss, mult = core.LOSS_POISSON, 1.0
        else:
            loss, mult = B.LOSSES["mse"], 0.5
        m = B.Metric.NONE
        if metric and is_classifier(self):
            m = B.Metric.ARGMAX if self.out_activation_ == "softmax" else B.Metric.THRESHOLD
        return {"loss": loss, "loss_mult": mult, "loss_per_output": False,
                "l2": float(self.alpha), "l2_batch_scaled": True, "metric": m}

    def _data_loss_div(self) -> float:
        """scikit-learn's squared_loss averages over outputs, its gradient does not (#8349)."""
        if (self.out_activation_ == "identity" and "multioutput_loss" not in self._fixes()):
            return float(self.n_outputs_)
        return 1.0

    def _init_coef(self, fan_in: int, fan_out: int, dtype, rs) -> tuple[np.ndarray, np.ndarray]:
        # Glorot-uniform for weights AND biases, factor 2 for logistic (scikit-learn)
        factor = 2.0 if self.activation == "logistic" else 6.0
        bound = np.sqrt(factor / (fan_in + fan_out))
        coef = rs.uniform(-bound, bound, (fan_in, fan_out))
        intercept = rs.uniform(-bound, bound, fan_out)
        return coef.astype(dtype, copy=False), intercept.astype(dtype, copy=False)

    def _initialize(self, y: np.ndarray, layer_units: list, dtype, rs) -> None:
        self.n_iter_ = 0
        self.t_ = 0
        self.n_outputs_ = y.shape[1]
        self.n_layers_ = len(layer_units)
        if not is_classifier(self):
            self.out_activation_ = "exp" if self.loss == "poisson" else "identity"
        elif self._label_binarizer.y_type_ == "multiclass":
            self.out_activation_ = "softmax"
        else:
            self.out_activation_ = "logistic"
        coefs, intercepts = [], []
        for fan_in, fan_out in zip(layer_units[:-1], layer_units[1:]):
            c, b = self._init_coef(fan_in, fan_out, dtype, rs)
            coefs.append(c)
            intercepts.append(b)
        self.coefs_, self.intercepts_ = coefs, intercepts
        self._init_norms(layer_units, dtype)
        self._best_params = _pack(coefs, list(intercepts) + self._norm_params(), dtype)
        self._best_norm_state = None if self._norm_state is None else self._norm_state.copy()
        self._best_is_live = False
        self._optimizer = None
        self.history_ = {}
        if self.solver in _STOCHASTIC:
            self.loss_curve_ = []
            self._no_improvement_count = 0
            if self.early_stopping:
                self.validation_scores_ = []
                self.best_validation_score_ = -np.inf
                self.best_loss_ = None
            else:
                self.best_loss_ = np.inf
                self.validation_scores_ = None
                self.best_validation_score_ = None

    # ------------------------------------------------------------------ fitting
    def _fit(self, X, y, sample_weight=None, incremental: bool = False,
             validation_data: Optional[tuple] = None):
        if self.early_stopping and incremental and self.solver in _STOCHASTIC:
            raise ValueError("partial_fit does not support early_stopping=True")
        hidden = self.hidden_layer_sizes
        if not hasattr(hidden, "__iter__"):
            hidden = [hidden]
        hidden = list(hidden)
        if np.any(np.array(hidden) <= 0):
            raise ValueError("hidden_layer_sizes must be > 0, got %s." % hidden)
        first_pass = not hasattr(self, "coefs_") or (not self.warm_start and not incremental)
        X, y = self._validate_input(X, y, incremental, reset=first_pass)
        if sample_weight is None:
            sw = None
        else:
            with naming("sample_weight"):
                sw = check_sample_weight(sample_weight, X.shape[0], [np.float64, np.float32])
        y_labels = y
        if y.ndim == 1:
            y = y.reshape((-1, 1))
        if not first_pass and y.shape[1] != self.n_outputs_:
            raise ValueError(f"y has {y.shape[1]} outputs but the fitted network has "
                             f"{self.n_outputs_}; fit again without warm_start to change it")
        self.n_outputs_ = y.shape[1]
        layer_units = [X.shape[1]] + hidden + [self.n_outputs_]
        if not first_pass and layer_units != self._layer_units:
            raise ValueError(f"hidden_layer_sizes={hidden} does not match the fitted network "
                             f"{self._layer_units[1:-1]}; fit again without warm_start")
        if not first_pass and check_norm(self.norm, len(hidden)) != self._norm_kinds():
            raise ValueError(f"norm={self.norm!r} does not match the fitted network's "
                             f"{self._norm_kinds()}; fit again without warm_start")
        sw = self._apply_class_weight(sw, y_labels, incremental)
        rs = check_random_state(self.random_state)
        if first_pass:
            self._initialize(y, layer_units, X.dtype, rs)
        # the parameters' precision: X's on a first fit, theirs afterwards (lbfgs
        # returns float64 parameters, as scipy's iterate is float64)
        dtype = self.coefs_[0].dtype
        if dtype not in (np.float32, np.float64):
            dtype = np.dtype(np.float64)
        flat = _pack(self.coefs_, list(self.intercepts_) + self._norm_params(), dtype)
        try:
            if self.solver in _STOCHASTIC:
                self._fit_stochastic(X, y, sw, flat, layer_units, incremental, rs,
                                     validation_data)
            else:
                flat = self._fit_lbfgs(X, y, sw, flat, layer_units)
        finally:
            self.coefs_, self.intercepts_ = _views(flat, layer_units)
            if any(self._norm_kinds()):
                self.norm_weights_, self.norm_biases_ = _norm_views(flat, layer_units,
                                                                    self._norm_kinds())
        # (stochastic solvers: the epoch driver raised already, see _SklearnEpochs.diverged)
        what = ("weights" if not np.isfinite(flat).all() else
                "loss" if not np.isfinite(getattr(self, "loss_", 0.0)) else None)
        if what is not None:  # the transaction around fit restores the model
            raise _divergence_error(what, "")
        return self

    def _validate_xy(self, X, y, reset: bool, **kwargs):
        """(X, y) checked as scikit-learn's MLPs do; a one-column y becomes 1-D.
        Errors name the argument (scikit-learn's do not always)."""
        if _dtype_kind(y) == "c":  # (scikit-learn's error names no argument)
            raise ValueError("y: Complex data not supported; the targets must be real")
        with naming("X", "y"):
            X, y = validate_data(self, X, y, accept_sparse=["csr", "csc"], multi_output=True,
                                 dtype=(np.float64, np.float32), reset=reset, **kwargs)
        if y.ndim == 2 and y.shape[1] == 1:
            y = column_or_1d(y, warn=True)
        return X, y

    def _validate_X(self, X):
        """X checked against the fitted network (dense or CSR/CSC, float64 or float32)."""
        with naming("X"):
            return validate_data(self, X, accept_sparse=["csr", "csc"],
                                 dtype=(np.float64, np.float32), reset=False)

    def _apply_class_weight(self, sw, y, incremental):
        return sw

    def _eval_set(self, X_val, y_val):
        """The early-stopping validation targets as the score function takes them."""
        return X_val, y_val

    def _train_arrays(self, X, y, sw, dtype):
        """C-ready (X, Y, sw) in dtype; sparse X is kept as CSR (read in place by fm_train)."""
        if sp.issparse(X):
            X = X.tocsr()
        else:
            X = np.ascontiguousarray(X, dtype=dtype)
        with np.errstate(over="ignore"):
            Y = np.ascontiguousarray(y, dtype=dtype)
            if sw is not None:
                sw = np.ascontiguousarray(sw, dtype=dtype)
        # finite in float64, overflowing in the parameters' float32: say which argument
        for name, arr in (("y", Y), ("sample_weight", sw)):
            if arr is not None and not np.isfinite(arr).all():
                raise ValueError(f"{name} holds values too large for {np.dtype(dtype).name}, the "
                                 "precision of the network's weights; scale it")
        return X, Y, sw

    def _fit_stochastic(self, X, y, sw, flat, layer_units, incremental, rs, validation_data):
        dtype = flat.dtype
        self._ensure_stochastic_state(flat)
        # a new optimizer state on every fit (warm_start too), kept by partial_fit (scikit-learn)
        sched = getattr(self, "_optimizer", None)
        if incremental and isinstance(sched, _SolverSchedule):
            sched.match(flat)
        else:
            sched = self._optimizer = _SolverSchedule(self, flat)
        early_stopping = self.early_stopping
        X_val = y_val = sw_val = None
        if early_stopping:
            stratify = None
            if is_classifier(self):
                if self.n_outputs_ == 1 or ("stratify_multiclass" in self._fixes() and
                                            self._label_binarizer.y_type_ == "multiclass"):
                    stratify = y
            if sw is None:
                X, X_val, y, y_val = train_test_split(
                    X, y, random_state=rs, test_size=self.validation_fraction, stratify=stratify)
            else:
                X, X_val, y, y_val, sw, sw_val = train_test_split(
                    X, y, sw, random_state=rs, test_size=self.validation_fraction,
                    stratify=stratify)
            if X_val.shape[0] < 2:
                raise ValueError("The validation set is too small. Increase "
                                 "'validation_fraction' or the size of your dataset.")
            X_val, y_val = self._eval_set(X_val, y_val)
        elif validation_data is not None:
            X_val, y_val = self._user_validation(validation_data)
        Xtr, Ytr, swtr = self._train_arrays(X, y, sw, dtype)
        n = Xtr.shape[0]
        if self.batch_size == "auto":
            batch_size = min(200, n)
        else:
            if self.batch_size > n:
                warnings.warn("Got `batch_size` less than 1 or larger than "
                              "sample size. It is going to be clipped")
            batch_size = int(np.clip(self.batch_size, 1, n))
        cfg = self._loss_cfg(metric=True)
        nt = self._n_threads()
        norms, norm_state = self._norm_arrays(dtype)
        if norms is not None and (norms == B.NORMS["batch"]).any():
            check_batch_norm_rows(n, batch_size)
        dropout = self._dropout_rates()
        if dropout is not None:
            # dropout's counter RNG is keyed by a seed drawn only when dropout
            # is on, so that without it the random stream is scikit-learn's
            cfg["seed"] = int(rs.randint(np.iinfo(np.int64).max))
        n_batches = -(-n // batch_size)
        hooks = _SklearnEpochs(self, sched, rs, n, flat, (X_val, y_val, sw_val), incremental,
                               bool(cfg["metric"]), nt, n_batches)
        self.n_iter_ = 0
        D.run_epochs(params=flat, net=self._net(), state=sched.state, cfg=cfg,
                     rows=D.Rows(Xtr, Ytr, swtr), bs=batch_size, epochs=self.max_iter,
                     hooks=hooks, chunking=D.Chunking(max(1, _CHUNK_ROWS // batch_size)),
                     n_threads=nt, dropout=dropout, norms=norms, norm_state=norm_state)
        if early_stopping:
            if not self._best_is_live or "restore_best_weights" in self._fixes():
                flat[...] = self._best_params
                best_state = getattr(self, "_best_norm_state", None)
                if norm_state is not None and best_state is not None:
                    norm_state[...] = best_state  # the running statistics of those weights
            # scikit-learn's coefs_ now IS its best-weights list (see SKLEARN_BUG_FIXES)
            self._best_is_live = True

    def _ensure_stochastic_state(self, flat) -> None:
        """Bookkeeping a warm start from another solver or stopping rule lacks.

        scikit-learn raises AttributeError/TypeError there (the attributes
        are only created by the first fit); fastmlp starts them afresh.
        """
        if not isinstance(getattr(self, "history_", None), dict):
            self.history_ = {}
        if not hasattr(self, "_best_params"):  # attributes set by hand (scikit-learn's tests)
            self._best_params, self._best_is_live = flat.copy(), False
        if not isinstance(getattr(self, "loss_curve_", None), list):
            self.loss_curve_ = []
        if not hasattr(self, "_no_improvement_count"):
            self._no_improvement_count = 0
        if self.early_stopping and getattr(self, "validation_scores_", None) is None:
            self.validation_scores_ = []
            self.best_validation_score_ = -np.inf
            self._best_params, self._best_is_live = flat.copy(), False
        if not self.early_stopping and getattr(self, "best_loss_", None) is None:
            self.best_loss_ = np.inf

    def _update_no_improvement_count(self, early_stopping: bool, val_score, flat) -> None:
        if early_stopping:
            self.validation_scores_.append(val_score)
            if self.verbose:
                print("Validation score: %f" % self.validation_scores_[-1])
            last = self.validation_scores_[-1]
            if last < self.best_validation_score_ + self.tol:
                self._no_improvement_count += 1
            else:
                self._no_improvement_count = 0
            if last > self.best_validation_score_:
                self.best_validation_score_ = last
                self._best_params = flat.copy()
                state = getattr(self, "_norm_state", None)
                self._best_norm_state = None if state is None else state.copy()
                self._best_is_live = False
        else:
            if self.loss_curve_[-1] > self.best_loss_ - self.tol:
                self._no_improvement_count += 1
            else:
                self._no_improvement_count = 0
            if self.loss_curve_[-1] < self.best_loss_:
                self.best_loss_ = self.loss_curve_[-1]

    def _fit_lbfgs(self, X, y, sw, flat, layer_units) -> np.ndarray:
        # scipy keeps x0's dtype for the points it evaluates (its iterate is
        # float64): like scikit-learn, the objective is evaluated at parameters
        # rounded to their dtype, in the precision X @ W gets (float32 for
        # float32 X and parameters), and the solution is float64
        pdtype = flat.dtype
        cdtype = np.result_type(X.dtype, pdtype)
        Xd, Y, swd = self._train_arrays(X, y, sw, cdtype)
        if sp.issparse(Xd):  # CSR rows read in place by the first layer (never densified)
            Xd = check_csr(Xd, cdtype)
        kdiv = self._data_loss_div()
        n = Xd.shape[0]
        n_w = sum(c.size for c in self.coefs_)
        sw_sum = float(n if swd is None else swd.sum()) or 1.0
        if not isinstance(getattr(self, "history_", None), dict):
            self.history_ = {}
        hist = self.history_.setdefault("loss", [])

        clipped = (self.out_activation_ in ("logistic", "softmax")
                   and "lbfgs_clipped_loss" not in self._fixes())

        def adjust(loss, x):  # the value scikit-learn reports for the C objective at x
            if kdiv == 1.0 and not clipped:
                return loss
            l2 = 0.5 * self.alpha * float(x[:n_w].astype(np.float64) @ x[:n_w]) / sw_sum
            if clipped:  # scikit-learn's objective (see SKLEARN_BUG_FIXES)
                return _clipped_log_loss(Y, self._forward(Xd, x), swd,
                                         self.out_activation_ == "logistic") + l2
            return (loss - l2) / kdiv + l2  # scikit-learn's multi-output squared error (#8349)

        # the one L-BFGS of fastmlp (fastmlp._lbfgs, shared with MLP.fit(optimizer='lbfgs'))
        objective = _lbfgs.Objective(net=self._net(), cfg=self._loss_cfg(), X=Xd, Y=Y, sw=swd,
                                     pdtype=pdtype, n_threads=self._n_threads(),
                                     batch=_PREDICT_ROWS, adjust=adjust)
        res = _lbfgs.minimize(objective, flat, max_iter=self.max_iter, max_fun=self.max_fun,
                              tol=self.tol, verbose=self.verbose is True or self.verbose >= 1,
                              on_iteration=lambda x, loss: hist.append(loss))
        self.n_iter_ = _check_lbfgs_result(res, self.max_iter)
        self.loss_ = res.fun
        return np.ascontiguousarray(res.x, dtype=np.float64)

    # ------------------------------------------------------------------ inference
    def _predict_dtype(self, X) -> np.dtype:
        return np.result_type(X.dtype, self.coefs_[0].dtype)

    def _forward(self, X, flat: Optional[np.ndarray] = None, logits: bool = False) -> np.ndarray:
        """Network output for validated X (activation applied unless logits)."""
        dtype = self._predict_dtype(X) if flat is None else flat.dtype
        if flat is None:
            flat = _pack(self.coefs_, list(self.intercepts_) + self._norm_params(), dtype)
        sizes, acts, slopes = self._net()
        norms, state = self._norm_arrays(self._norm_state.dtype if getattr(
            self, "_norm_state", None) is not None else dtype)
        if state is not None and state.dtype != dtype:  # inference in X's precision
            state = state.astype(dtype)
        final = int(acts[-1])
        acts[-1] = B.ACTIVATIONS["identity"]  # logits first: their finite check, then act
        n = X.shape[0]
        nt = self._n_threads()
        out = np.empty((n, self.n_outputs_), dtype=dtype)
        if sp.issparse(X):  # CSR rows read in place by the first layer (never densified)
            X = check_csr(X, dtype)
        else:
            X = np.ascontiguousarray(X, dtype=dtype)
        bs = min(n, _PREDICT_ROWS)
        work = np.empty(core.workspace_size(sizes, acts, slopes, bs, norms), dtype=dtype)
        B.forward_net(out, work, flat, sizes, acts, slopes, X, bs, nt, norms, state)
        check_forward_output(out, what="output logits")  # finite X, non-finite logits: overflow
        if logits:
            return out
        if self.out_activation_ == "exp":
            with np.errstate(over="ignore"):
                np.exp(out, out=out)
            return check_forward_output(out)
        if final != B.ACTIVATIONS["identity"]:
            core.act_forward(out, final, float(slopes[-1]))
        return out

    def _forward_pass_fast(self, X, check_input: bool = True) -> np.ndarray:
        if check_input:
            X = self._validate_X(X)
        return self._forward(X)

    def _evaluate(self, flat, X_val, y_val, sw_val, nt) -> tuple[float, float]:
        """(validation score as scikit-learn computes it, data loss) from one forward pass."""
        z = self._forward(X_val, flat, logits=True)
        Yv = self._val_targets(y_val, flat.dtype)
        p = np.empty_like(z)
        swv = None if sw_val is None else np.ascontiguousarray(sw_val, dtype=flat.dtype)
        denom = float(z.shape[0] if swv is None else swv.sum()) or 1.0
        cfg = self._loss_cfg()
        loss = core.loss(p, None, z, Yv, swv, cfg["loss"], B.ACTIVATIONS[_OUTPUT_C[
            self.out_activation_]], 0.0, cfg["loss_mult"] / denom) / self._data_loss_div()
        y_pred = self._output_to_prediction(p)
        if np.issubdtype(y_pred.dtype, np.floating) and not np.isfinite(y_pred).all():
            return np.nan, loss
        return self._score_fn(y_val, y_pred, sample_weight=sw_val), loss

    def _user_validation(self, validation_data):
        if not (isinstance(validation_data, (tuple, list)) and len(validation_data) == 2):
            raise ValueError("validation_data must be a tuple (X_val, y_val)")
        Xv = self._validate_X(validation_data[0])
        yv = np.asarray(validation_data[1])
        if yv.shape[0] != Xv.shape[0]:
            raise ValueError(f"validation_data: X_val has {Xv.shape[0]} rows but y_val has "
                             f"{yv.shape[0]}")
        return Xv, yv

    def fit(self, X, y, sample_weight=None, validation_data=None):
        """Fit the model to data matrix X and target(s) y.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            Class labels (a label-indicator matrix for multilabel
            classification), or regression targets.
        sample_weight : array-like of shape (n_samples,), default=None
        validation_data : tuple (X_val, y_val), default=None
            fastmlp extension: evaluated after every epoch into ``history_``
            ('val_loss', 'val_score'); does not change training.

        Returns
        -------
        self : estimator
        """
        self._validate_hyper()
        return self._fit(X, y, sample_weight=sample_weight, incremental=False,
                         validation_data=validation_data)

    def _predict(self, X, check_input: bool = True):
        return self._output_to_prediction(self._forward_pass_fast(X, check_input=check_input))

    def quantize(self, precision="int8", X_calibration=None):
        """Return a :class:`fastmlp.QuantizedMLP` of this fitted model for fast inference
        (int8 or bfloat16; see :meth:`fastmlp.MLP.quantize`)."""
        check_is_fitted(self)
        from fastmlp.quantize import from_sklearn

        return from_sklearn(self, precision, X_calibration, hidden=_HIDDEN[self.activation])

    def predict(self, X):
        """Predict class labels (label-indicator rows if multilabel) or regression targets.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        y : ndarray of shape (n_samples,) or (n_samples, n_outputs)
        """
        check_is_fitted(self)
        return self._predict(X)


def _clipped_log_loss(Y: np.ndarray, p: np.ndarray, sw: Optional[np.ndarray],
                      logistic: bool) -> float:
    """scikit-learn's log_loss (softmax) or binary_log_loss (logistic outputs), with the
    probabilities clipped to [eps, 1 - eps] of their dtype."""
    eps = np.finfo(p.dtype).eps
    p = np.clip(p, eps, 1 - eps)
    terms = xlogy(Y, p)
    if logistic:
        terms = terms + xlogy(1 - Y, 1 - p)
    return float(-np.average(terms, weights=sw, axis=0).sum())


def _check_lbfgs_result(res, max_iter: int) -> int:
    """scikit-learn's _check_optimize_result for lbfgs: n_iter, ConvergenceWarning if not ok."""
    n_iter = min(res.nit, max_iter)
    if res.status != 0:
        msg = (f"lbfgs failed to converge after {n_iter} iteration(s) (status={res.status}):\n"
               f"{res.message}\n")
        if n_iter == max_iter:
            msg += (f"\nIncrease the number of iterations to improve the convergence "
                    f"(max_iter={max_iter}).")
        msg += ("\nYou might also want to scale the data as shown in:\n"
                "    https://scikit-learn.org/stable/modules/preprocessing.html")
        warnings.warn(msg, ConvergenceWarning, stacklevel=3)
    return n_iter


_EXTRA_DOC = """
    leaky_relu_slope : float, default=0.01
        fastmlp extension: negative-side slope of ``activation='leaky_relu'``.
    dropout : float or sequence of float, default=0.0
        fastmlp extension: inverted-dropout rate of the hidden layers' outputs
        during training (one for all, or one per hidden layer); stochastic
        solvers only.
    norm : {'batch', 'layer', None} or sequence of them, default=None
        fastmlp extension: batch (``torch.nn.BatchNorm1d``) or layer
        (``torch.nn.LayerNorm``) normalisation of each hidden layer between
        its affine map and its activation (one for all, or one per hidden
        layer), as :class:`fastmlp.MLP`'s ``norm``; stochastic solvers only.
        Fitted attributes ``norm_weights_``, ``norm_biases_`` (scale and
        shift, not penalised by ``alpha``), ``running_mean_``,
        ``running_var_`` (batch norm's running statistics, used by
        ``predict``).  Batch norm needs 2 or more rows in every batch.
    n_threads : int, default=None
        fastmlp extension: threads of the C kernels; None uses every usable
        CPU, negative values count back from that.
    progress_bar : bool, default=False
        fastmlp extension: show tqdm progress bars (one line per epoch when
        stderr is not a terminal).  ``verbose`` keeps scikit-learn's prints.
    optimizer_params : dict, default=None
        fastmlp extension: extra fields of fastmlp's solvers ('adagrad',
        'rmsprop', 'adamw'): ``weight_decay`` (AdamW's decoupled decay),
        ``alpha`` (RMSprop's smoothing), ``dampening``, ``l1``.
    fix_sklearn_bugs : bool or collection of str, default=False
        fastmlp extension: False reproduces scikit-learn exactly, known bugs
        included; True (or some names of
        :data:`fastmlp.sklearn.SKLEARN_BUG_FIXES`) applies the fixes."""

_COMMON_DOC = """
    hidden_layer_sizes : array-like of shape (n_layers - 2,), default=(100,)
        The ith element is the number of neurons in the ith hidden layer.
    activation : {'identity', 'logistic', 'tanh', 'relu', 'leaky_relu', 'step', 'gelu', \
'gelu_tanh', 'silu', 'elu', 'selu', 'softplus'}, default='relu'
        Hidden-layer activation ('leaky_relu', 'step' and those after it are fastmlp
        extensions, defined as ``torch.nn.functional`` defines them; 'elu' with alpha 1).
    solver : {'lbfgs', 'sgd', 'adam', 'adagrad', 'rmsprop', 'adamw'}, default='adam'
        'sgd' and 'adam' are scikit-learn's update rules; 'lbfgs' minimises the
        full-batch objective with ``scipy.optimize``; 'adagrad', 'rmsprop' and
        'adamw' (fastmlp extensions) use torch.optim's rules and the
        ``learning_rate`` schedules of 'sgd'.
    alpha : float, default=0.0001
        L2 strength; the term ``0.5*alpha*||W||^2`` is divided by the batch's
        sum of sample weights (the batch size without weights).
    batch_size : int or 'auto', default='auto'
        Mini-batch size; 'auto' is ``min(200, n_samples)``.
    learning_rate : {'constant', 'invscaling', 'adaptive'}, default='constant'
        Schedule for 'sgd' (invscaling: ``lr_init / (t_ + 1) ** power_t``
        once per epoch, ``t_`` counting samples).
    learning_rate_init : float, default=0.001
    power_t : float, default=0.5
    max_iter : int, default=200
        Epochs for the stochastic solvers, iterations for lbfgs.
    shuffle : bool, default=True
    random_state : int, RandomState instance or None, default=None
        Draws the initial weights, the early-stopping split and the per-epoch
        permutations, in scikit-learn's order.
    tol : float, default=1e-4
    verbose : bool, default=False
    warm_start : bool, default=False
    momentum : float, default=0.9
    nesterovs_momentum : bool, default=True
    early_stopping : bool, default=False
    validation_fraction : float, default=0.1
    beta_1 : float, default=0.9
    beta_2 : float, default=0.999
    epsilon : float, default=1e-8
    n_iter_no_change : int, default=10
    max_fun : int, default=15000"""

_ATTR_DOC = """
    Attributes
    ----------
    loss_ : float
    best_loss_ : float or None
    loss_curve_ : list of float
    validation_scores_ : list of float or None
    best_validation_score_ : float or None
    t_ : int
    coefs_ : list of ndarray
        ``coefs_[i]`` has shape (fan_in, fan_out).
    intercepts_ : list of ndarray
    n_features_in_ : int
    feature_names_in_ : ndarray
    n_iter_ : int
    n_layers_ : int
    n_outputs_ : int
    out_activation_ : str
    history_ : dict of lists
        fastmlp extension: per epoch 'loss' (= ``loss_curve_``), 'lr', 'time',
        'accuracy' (classifiers: running training accuracy), and, when a
        validation set exists (early_stopping or ``fit(validation_data=...)``),
        'val_loss' (data loss, no L2 term) and 'val_score'.  For lbfgs,
        'loss' per iteration."""


class MLPClassifier(NamedArgumentScore, ClassifierMixin, _BaseMLP):
    __doc__ = """Multi-layer perceptron classifier: scikit-learn's, trained in C.

    A drop-in replacement for ``sklearn.neural_network.MLPClassifier`` (same
    parameters, defaults, methods, attributes and training trajectory), plus
    the fastmlp extensions at the end of the parameter list.

    Parameters
    ----------""" + _COMMON_DOC + """
    class_weight : dict, 'balanced' or None, default=None
        fastmlp extension: weights per class, multiplied into sample_weight
        (single-label targets only; 'balanced' is not allowed in partial_fit).""" + _EXTRA_DOC + """
""" + _ATTR_DOC + """
    classes_ : ndarray

    Examples
    --------
    >>> import numpy as np
    >>> from fastmlp.sklearn import MLPClassifier
    >>> X = np.array([[0., 0.], [0., 1.], [1., 0.], [1., 1.]])
    >>> clf = MLPClassifier((8,), solver='lbfgs', random_state=0).fit(X, [0, 1, 1, 0])
    >>> clf.predict(X).tolist()
    [0, 1, 1, 0]
    """

    def __init__(self, hidden_layer_sizes=(100,), activation="relu", *, solver="adam",
                 alpha=0.0001, batch_size="auto", learning_rate="constant",
                 learning_rate_init=0.001, power_t=0.5, max_iter=200, shuffle=True,
                 random_state=None, tol=1e-4, verbose=False, warm_start=False, momentum=0.9,
                 nesterovs_momentum=True, early_stopping=False, validation_fraction=0.1,
                 beta_1=0.9, beta_2=0.999, epsilon=1e-8, n_iter_no_change=10, max_fun=15000,
                 class_weight=None, leaky_relu_slope=0.01, dropout=0.0, n_threads=None,
                 progress_bar=False, optimizer_params=None, fix_sklearn_bugs=False, norm=None):
        store_params(self, locals())

    _score_fn = staticmethod(accuracy_score)

    def _validate_hyper(self) -> None:
        cw = self.class_weight
        if not (cw is None or cw == "balanced" or isinstance(cw, dict)):
            raise ValueError("The 'class_weight' parameter of MLPClassifier must be a dict, "
                             f"'balanced' or None. Got {cw!r} instead.")
        super()._validate_hyper()

    def _validate_input(self, X, y, incremental, reset):
        check_label_values(y)
        X, y = self._validate_xy(X, y, reset)
        if (not hasattr(self, "classes_")) or (not self.warm_start and not incremental):
            self._label_binarizer = LabelBinarizer()
            with naming("y"):
                self._label_binarizer.fit(y)
            self.classes_ = self._label_binarizer.classes_
        else:
            with naming("y"):
                classes = unique_labels(y)
            if self.warm_start:
                if set(classes) != set(self.classes_):
                    raise ValueError("warm_start can only be used where `y` has the same "
                                     "classes as in the previous call to fit. Previously "
                                     f"got {self.classes_}, `y` has {classes}")
            elif len(np.setdiff1d(classes, self.classes_, assume_unique=True)):
                raise ValueError("`y` has classes not in `self.classes_`. "
                                 f"`self.classes_` has {self.classes_}. 'y' has {classes}.")
        # bool keeps float32 training in float32 (scikit-learn's downcast)
        return X, self._label_binarizer.transform(y).astype(bool)

    def _apply_class_weight(self, sw, y, incremental):
        if self.class_weight is None:
            return sw
        if self._label_binarizer.y_type_.startswith("multilabel"):
            raise ValueError("class_weight is not supported for multilabel targets")
        if incremental and self.class_weight == "balanced":
            raise ValueError("class_weight 'balanced' is not supported for partial_fit; pass "
                             "compute_class_weight('balanced', classes=..., y=...) as a dict")
        labels = self._label_binarizer.inverse_transform(np.asarray(y))
        cw = compute_class_weight(self.class_weight, classes=self.classes_, y=labels)
        w = cw[np.searchsorted(self.classes_, labels)]
        return w if sw is None else sw * w

    def _eval_set(self, X_val, y_val):
        return X_val, self._label_binarizer.inverse_transform(y_val)

    def _val_targets(self, y_val, dtype):
        Y = self._label_binarizer.transform(y_val)
        if Y.ndim == 1:
            Y = Y.reshape(-1, 1)
        return np.ascontiguousarray(Y, dtype=dtype)

    def _output_to_prediction(self, p):
        if self.n_outputs_ == 1:
            p = p.ravel()
        return self._label_binarizer.inverse_transform(p)

    @available_if(lambda est: est._check_solver())
    def partial_fit(self, X, y, sample_weight=None, classes=None):
        """Update the model with a single epoch over the given data.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
        sample_weight : array-like of shape (n_samples,), default=None
        classes : array of shape (n_classes,), default=None
            Required on the first call, optional afterwards.

        Returns
        -------
        self : MLPClassifier
        """
        if not hasattr(self, "coefs_"):
            self._validate_hyper()
        if classes is not None:
            check_label_values(classes, "classes")
        if check_partial_fit_first_call(self, classes):
            self._label_binarizer = LabelBinarizer()
            with naming("classes", "y"):
                if type_of_target(y).startswith("multilabel"):
                    self._label_binarizer.fit(y)
                else:
                    self._label_binarizer.fit(classes)
        return self._fit(X, y, sample_weight=sample_weight, incremental=True)

    def predict_proba(self, X):
        """Probability of each class, columns in the order of ``classes_``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        y_prob : ndarray of shape (n_samples, n_classes)
        """
        check_is_fitted(self)
        y_pred = self._forward_pass_fast(X)
        if self.n_outputs_ == 1:
            y_pred = y_pred.ravel()
        if y_pred.ndim == 1:
            return np.vstack([1 - y_pred, y_pred]).T
        return y_pred

    def predict_log_proba(self, X):
        """Logarithm of :meth:`predict_proba`.

        Parameters
        ----------
        X : ndarray of shape (n_samples, n_features)

        Returns
        -------
        log_y_prob : ndarray of shape (n_samples, n_classes)
        """
        y_prob = self.predict_proba(X)
        return np.log(y_prob, out=y_prob)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_label = True
        return tags


def _regressor_partial_fit_available(est) -> bool:
    # scikit-learn 1.9 passes the method itself (always truthy) instead of calling it
    if "partial_fit_lbfgs" in est._fixes():
        return est._check_solver()
    return True


class MLPRegressor(NamedArgumentScore, RegressorMixin, _BaseMLP):
    __doc__ = """Multi-layer perceptron regressor: scikit-learn's, trained in C.

    A drop-in replacement for ``sklearn.neural_network.MLPRegressor`` (same
    parameters, defaults, methods, attributes and training trajectory), plus
    the fastmlp extensions at the end of the parameter list.

    Parameters
    ----------
    loss : {'squared_error', 'poisson'}, default='squared_error'
        Half squared error, or half Poisson deviance with an exp output
        (needs ``y >= 0``).""" + _COMMON_DOC + _EXTRA_DOC + """
""" + _ATTR_DOC + """

    Examples
    --------
    >>> import numpy as np
    >>> from fastmlp.sklearn import MLPRegressor
    >>> X = np.linspace(0, 1, 50).reshape(-1, 1)
    >>> reg = MLPRegressor(hidden_layer_sizes=(16,), solver='lbfgs', random_state=0)
    >>> reg = reg.fit(X, 2 * X.ravel())
    >>> bool(reg.score(X, 2 * X.ravel()) > 0.99)
    True
    """

    def __init__(self, loss="squared_error", hidden_layer_sizes=(100,), activation="relu", *,
                 solver="adam", alpha=0.0001, batch_size="auto", learning_rate="constant",
                 learning_rate_init=0.001, power_t=0.5, max_iter=200, shuffle=True,
                 random_state=None, tol=1e-4, verbose=False, warm_start=False, momentum=0.9,
                 nesterovs_momentum=True, early_stopping=False, validation_fraction=0.1,
                 beta_1=0.9, beta_2=0.999, epsilon=1e-8, n_iter_no_change=10, max_fun=15000,
                 leaky_relu_slope=0.01, dropout=0.0, n_threads=None, progress_bar=False,
                 optimizer_params=None, fix_sklearn_bugs=False, norm=None):
        store_params(self, locals())

    _score_fn = staticmethod(r2_score)

    def _validate_hyper(self) -> None:
        validate_params("MLPRegressor", {"loss": self.loss},
                        {"loss": [Options(("squared_error", "poisson"))]})
        super()._validate_hyper()

    def _validate_input(self, X, y, incremental, reset):
        X, y = self._validate_xy(X, y, reset, y_numeric=True)
        if y.dtype.kind not in "biuf":  # (y_numeric converts object arrays, not strings)
            raise ValueError(f"y must hold numbers (regression targets); got dtype {y.dtype}")
        if self.loss == "poisson" and np.any(y < 0):
            raise ValueError("loss='poisson' needs non-negative targets y; got a minimum of "
                             f"{np.min(y)!r}")
        return X, y

    def _val_targets(self, y_val, dtype):
        Y = np.asarray(y_val)
        return np.ascontiguousarray(Y.reshape(Y.shape[0], -1), dtype=dtype)

    def _output_to_prediction(self, p):
        return p.ravel() if p.shape[1] == 1 else p

    @available_if(_regressor_partial_fit_available)
    def partial_fit(self, X, y, sample_weight=None):
        """Update the model with a single epoch over the given data.

        With ``solver='lbfgs'`` this runs a whole lbfgs fit, as scikit-learn
        1.9 does (see ``fix_sklearn_bugs``).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        y : ndarray of shape (n_samples,) or (n_samples, n_outputs)
        sample_weight : array-like of shape (n_samples,), default=None

        Returns
        -------
        self : MLPRegressor
        """
        if not hasattr(self, "coefs_"):
            self._validate_hyper()
        return self._fit(X, y, sample_weight=sample_weight, incremental=True)
