"""Optimizers, named and parameterised as in ``torch.optim``.

Each object only holds hyper-parameters; the update itself runs in C
(``fm_optim_update``, fused into ``fm_train``'s backward pass) and its state
(momentum buffers, moment estimates, step count) lives in the model, so it is
saved with it and carries over from one ``fit`` call to the next.  Pass one to
``MLP.fit(..., optimizer=Adam(lr=1e-3))``; a plain name (``"adam"``) builds
the same object with its defaults and fit's ``learning_rate``.

Conventions (torch.optim's, so a run from PyTorch follows the same path):

* weight decay is coupled L2, ``g += weight_decay * w``, except in AdamW
  (decoupled: ``w *= 1 - lr * weight_decay`` before the Adam step); like
  torch it applies to biases too unless ``decay_bias=False``;
* SGD's momentum buffer holds gradients, not learning-rate-scaled steps:
  ``b = momentum*b + (1-dampening)*g`` (``b = g`` on the first step), then
  ``w -= lr * b`` (Nesterov: ``w -= lr * (g + momentum*b)``); a change of lr
  rescales the very next step;
* Adam's epsilon is added after bias-correcting the root:
  ``w -= lr/(1-b1^t) * m / (sqrt(v)/sqrt(1-b2^t) + eps)``;
* RMSprop's and Adagrad's epsilon is added outside the root:
  ``g / (sqrt(v) + eps)``.

The exact formulas are in ``csrc/layers/optim_impl.h`` and :func:`fastmlp.reference.optim_step`.
"""
from __future__ import annotations

import numbers
from typing import Any, Optional, Union

import numpy as np

from fastmlp import _backend as B

__all__ = ["Optimizer", "SGD", "Adagrad", "RMSprop", "Adam", "AdamW", "LBFGS", "get_optimizer",
           "OPTIMIZER_CLASSES"]


def _real(v: Any, name: str, owner: str, lo: float = 0.0, lo_open: bool = False,
          hi: Optional[float] = None, hi_open: bool = False) -> float:
    ok = isinstance(v, numbers.Real) and not isinstance(v, bool) and np.isfinite(v)
    if ok:
        ok = (v > lo if lo_open else v >= lo) and (hi is None or (v < hi if hi_open else v <= hi))
    if not ok:
        rng = f"{'(' if lo_open else '['}{lo:g}, {'inf' if hi is None else f'{hi:g}'}" \
              f"{')' if hi_open or hi is None else ']'}"
        raise ValueError(f"The {name!r} parameter of {owner} must be a float in the range {rng}. "
                         f"Got {v!r} instead.")
    return float(v)


def _flag(v: Any, name: str, owner: str) -> bool:
    if not isinstance(v, (bool, np.bool_)):
        raise ValueError(f"The {name!r} parameter of {owner} must be a bool. Got {v!r} instead.")
    return bool(v)


class Optimizer:
    """Base class: the hyper-parameters of one update rule.

    Subclasses set ``kind`` (the C rule) and fill ``self.hp``; ``lr`` and
    ``weight_decay`` are common to all.
    """

    kind: str = ""
    #: the hyper-parameter a one-cycle schedule cycles as "momentum", if any
    momentum_name: Optional[str] = None

    def __init__(self, lr: float, weight_decay: float, decay_bias: bool) -> None:
        name = type(self).__name__
        self.lr = _real(lr, "lr", name)
        self.weight_decay = _real(weight_decay, "weight_decay", name)
        self.decay_bias = _flag(decay_bias, "decay_bias", name)

    # -- what the C kernel needs ------------------------------------------------
    def kernel_config(self) -> dict:
        """The ``fm_optim`` fields (see csrc/fastmlp.h) as a dict, without the step."""
        return {"kind": B.OPTIMIZERS[self.kind], "lr": self.lr, "weight_decay": self.weight_decay,
                "decay_bias": self.decay_bias, "l1": 0.0}

    def state_layout(self) -> tuple:
        """What the state buffers mean; state is reused across fits only when this matches."""
        return (self.kind,)

    def uses_s3(self) -> bool:
        """True when the rule keeps a third state buffer."""
        return False

    def initial_s1(self) -> float:
        """Initial value of the first state buffer."""
        return 0.0

    def step_lr_factor(self, steps: np.ndarray) -> Optional[np.ndarray]:
        """Per-step multiplier of the learning rate for update numbers ``steps`` (1-based),
        or None when the rule has none (only Adagrad's ``lr_decay``)."""
        return None

    def cycled_momentum(self) -> bool:
        """True when a one-cycle schedule may cycle this optimizer's momentum."""
        return self.momentum_name is not None

    # -- description --------------------------------------------------------------
    def get_config(self) -> dict:
        """The constructor arguments (JSON-serialisable), for saving."""
        return dict(self._config())

    def _hyper(self) -> dict:
        """The torch.optim-named hyper-parameters (subclasses)."""
        raise NotImplementedError

    def _config(self) -> dict:
        c = self._hyper()
        if not self.decay_bias:
            c["decay_bias"] = False
        if getattr(self, "sklearn", False):
            c["sklearn"] = True
        return c

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self._config().items())
        return f"{type(self).__name__}({args})"

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and other._config() == self._config()  # type: ignore[attr-defined]

    def __hash__(self) -> int:
        return hash((type(self).__name__, tuple(sorted(self._config().items()))))


class SGD(Optimizer):
    """Stochastic gradient descent, optionally with (Nesterov) momentum, as ``torch.optim.SGD``.

    Parameters
    ----------
    lr : float, default=1e-3
    momentum : float, default=0
    dampening : float, default=0
    weight_decay : float, default=0
        Coupled L2: ``g += weight_decay * w``.
    nesterov : bool, default=False
        Nesterov momentum; needs momentum > 0 and dampening = 0 (as torch).
    decay_bias : bool, default=True
        Apply weight_decay to biases too (torch does); False decays weights only.
    sklearn : bool, default=False
        Use scikit-learn's form instead (velocity of lr-scaled steps,
        ``v = momentum*v - lr*g; w += v``), equal to torch's while lr is constant.

    Examples
    --------
    >>> SGD(lr=0.1, momentum=0.9, nesterov=True)
    SGD(lr=0.1, momentum=0.9, dampening=0.0, weight_decay=0.0, nesterov=True)
    """

    kind = "sgd"

    def __init__(self, lr: float = 1e-3, momentum: float = 0.0, dampening: float = 0.0,
                 weight_decay: float = 0.0, nesterov: bool = False, *, decay_bias: bool = True,
                 sklearn: bool = False) -> None:
        super().__init__(lr, weight_decay, decay_bias)
        self.momentum = _real(momentum, "momentum", "SGD")
        self.dampening = _real(dampening, "dampening", "SGD")
        self.nesterov = _flag(nesterov, "nesterov", "SGD")
        self.sklearn = _flag(sklearn, "sklearn", "SGD")
        if self.nesterov and (self.momentum <= 0 or self.dampening != 0):
            raise ValueError("SGD: Nesterov momentum requires a momentum > 0 and zero dampening")
        self.momentum_name = "momentum" if self.momentum > 0 else None

    def kernel_config(self) -> dict:
        return {**super().kernel_config(), "momentum": self.momentum, "dampening": self.dampening,
                "nesterov": self.nesterov, "sklearn": self.sklearn}

    def state_layout(self) -> tuple:
        return ("sgd", self.momentum > 0, self.sklearn)

    def _hyper(self) -> dict:
        return {"lr": self.lr, "momentum": self.momentum, "dampening": self.dampening,
                "weight_decay": self.weight_decay, "nesterov": self.nesterov}


class Adagrad(Optimizer):
    """Adagrad, as ``torch.optim.Adagrad``: ``s += g^2; w -= clr * g / (sqrt(s) + eps)``
    with ``clr = lr / (1 + (t-1) * lr_decay)``.

    Parameters
    ----------
    lr : float, default=1e-2
    lr_decay : float, default=0
    weight_decay : float, default=0
    initial_accumulator_value : float, default=0
    eps : float, default=1e-10
    decay_bias : bool, default=True
    """

    kind = "adagrad"

    def __init__(self, lr: float = 1e-2, lr_decay: float = 0.0, weight_decay: float = 0.0,
                 initial_accumulator_value: float = 0.0, eps: float = 1e-10, *,
                 decay_bias: bool = True) -> None:
        super().__init__(lr, weight_decay, decay_bias)
        self.lr_decay = _real(lr_decay, "lr_decay", "Adagrad")
        self.initial_accumulator_value = _real(initial_accumulator_value,
                                               "initial_accumulator_value", "Adagrad")
        self.eps = _real(eps, "eps", "Adagrad")

    def kernel_config(self) -> dict:
        return {**super().kernel_config(), "eps": self.eps}

    def initial_s1(self) -> float:
        return self.initial_accumulator_value

    def step_lr_factor(self, steps: np.ndarray) -> Optional[np.ndarray]:
        if self.lr_decay == 0:
            return None
        return 1.0 / (1.0 + (np.asarray(steps, dtype=np.float64) - 1.0) * self.lr_decay)

    def _hyper(self) -> dict:
        return {"lr": self.lr, "lr_decay": self.lr_decay, "weight_decay": self.weight_decay,
                "initial_accumulator_value": self.initial_accumulator_value, "eps": self.eps}


class RMSprop(Optimizer):
    """RMSprop, as ``torch.optim.RMSprop``.

    ``v = alpha*v + (1-alpha)*g^2``; ``den = sqrt(v) + eps`` (centered:
    ``sqrt(v - mean(g)^2) + eps``); ``w -= lr * g / den`` or, with momentum,
    ``b = momentum*b + g/den; w -= lr*b``.

    Parameters
    ----------
    lr : float, default=1e-2
    alpha : float, default=0.99
    eps : float, default=1e-8
    weight_decay : float, default=0
    momentum : float, default=0
    centered : bool, default=False
    decay_bias : bool, default=True
    """

    kind = "rmsprop"

    def __init__(self, lr: float = 1e-2, alpha: float = B.RMSPROP_ALPHA, eps: float = 1e-8,
                 weight_decay: float = 0.0, momentum: float = 0.0, centered: bool = False, *,
                 decay_bias: bool = True) -> None:
        super().__init__(lr, weight_decay, decay_bias)
        self.alpha = _real(alpha, "alpha", "RMSprop", hi=1.0)
        self.eps = _real(eps, "eps", "RMSprop")
        self.momentum = _real(momentum, "momentum", "RMSprop")
        self.centered = _flag(centered, "centered", "RMSprop")
        self.momentum_name = "momentum" if self.momentum > 0 else None

    def kernel_config(self) -> dict:
        return {**super().kernel_config(), "alpha": self.alpha, "eps": self.eps,
                "momentum": self.momentum, "centered": self.centered}

    def state_layout(self) -> tuple:
        return ("rmsprop", self.momentum > 0, self.centered)

    def uses_s3(self) -> bool:
        return self.centered

    def _hyper(self) -> dict:
        return {"lr": self.lr, "alpha": self.alpha, "eps": self.eps,
                "weight_decay": self.weight_decay, "momentum": self.momentum,
                "centered": self.centered}


class Adam(Optimizer):
    """Adam, as ``torch.optim.Adam`` (coupled weight decay; epsilon after bias correction).

    Parameters
    ----------
    lr : float, default=1e-3
    betas : (float, float), default=(0.9, 0.999)
    eps : float, default=1e-8
    weight_decay : float, default=0
    amsgrad : bool, default=False
        Normalise by the running maximum of v (Reddi et al.).
    decay_bias : bool, default=True
    sklearn : bool, default=False
        scikit-learn's form (epsilon added to the raw ``sqrt(v)``).
    """

    kind = "adam"
    momentum_name = "beta1"
    _default_wd = 0.0

    def __init__(self, lr: float = 1e-3, betas: tuple = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: Optional[float] = None, amsgrad: bool = False, *,
                 decay_bias: bool = True, sklearn: bool = False) -> None:
        name = type(self).__name__
        super().__init__(lr, self._default_wd if weight_decay is None else weight_decay,
                         decay_bias)
        if not isinstance(betas, (tuple, list)) or len(betas) != 2:
            raise ValueError(f"The 'betas' parameter of {name} must be a pair of floats in "
                             f"[0, 1). Got {betas!r} instead.")
        self.betas = (_real(betas[0], "betas[0]", name, hi=1.0, hi_open=True),
                      _real(betas[1], "betas[1]", name, hi=1.0, hi_open=True))
        self.eps = _real(eps, "eps", name)
        self.amsgrad = _flag(amsgrad, "amsgrad", name)
        self.sklearn = _flag(sklearn, "sklearn", name)

    def kernel_config(self) -> dict:
        return {**super().kernel_config(), "beta1": self.betas[0], "beta2": self.betas[1],
                "eps": self.eps, "amsgrad": self.amsgrad, "sklearn": self.sklearn}

    def state_layout(self) -> tuple:
        return (self.kind, self.amsgrad, self.sklearn)

    def uses_s3(self) -> bool:
        return self.amsgrad

    def _hyper(self) -> dict:
        return {"lr": self.lr, "betas": tuple(self.betas), "eps": self.eps,
                "weight_decay": self.weight_decay, "amsgrad": self.amsgrad}


class AdamW(Adam):
    """AdamW, as ``torch.optim.AdamW``: decoupled decay ``w *= 1 - lr*weight_decay``, then Adam.

    Parameters are Adam's, with ``weight_decay`` defaulting to 1e-2 (as torch).
    """

    kind = "adamw"
    _default_wd = 1e-2


class LBFGS:
    """Full-batch L-BFGS: ``fit(optimizer='lbfgs')`` or ``fit(optimizer=LBFGS(...))``.

    scipy's L-BFGS-B minimises the whole training set's loss plus the L2
    term (``fit``'s ``l2``), with the gradient from the C kernels: the
    objective and the implementation of the scikit-learn drop-ins'
    ``solver='lbfgs'`` (fastmlp._lbfgs).  Not a per-batch rule: ``fit``'s
    ``batch_size`` and ``shuffle`` do not apply, its ``epochs`` is the limit
    of iterations (the drop-ins' ``max_iter``; None: 200), and learning
    rates, momentum, ``lr_schedule``, ``l1``, dropout and input noise are
    refused.  Needs scipy (``pip install 'fastmlp[sklearn]'``).

    This is scipy's L-BFGS-B with scikit-learn's options, not
    ``torch.optim.LBFGS`` (whose parameters and line search differ).

    Parameters
    ----------
    tol : float, default=1e-4
        Stop when the largest component of the projected gradient is at most
        tol (scipy's ``gtol``; scikit-learn's ``tol`` for lbfgs).
    max_fun : int, default=15000
        Most evaluations of the objective (scipy's ``maxfun``).

    Examples
    --------
    >>> LBFGS(tol=1e-6)
    LBFGS(tol=1e-06, max_fun=15000)
    """

    kind = "lbfgs"

    def __init__(self, tol: float = 1e-4, max_fun: int = 15000) -> None:
        self.tol = _real(tol, "tol", "LBFGS")
        if not (isinstance(max_fun, (int, np.integer)) and not isinstance(max_fun, bool)
                and max_fun >= 1):
            raise ValueError(f"The 'max_fun' parameter of LBFGS must be an int in the range "
                             f"[1, inf). Got {max_fun!r} instead.")
        self.max_fun = int(max_fun)

    def get_config(self) -> dict:
        """The constructor arguments."""
        return {"tol": self.tol, "max_fun": self.max_fun}

    def __repr__(self) -> str:
        return f"LBFGS(tol={self.tol!r}, max_fun={self.max_fun!r})"

    def __eq__(self, other: object) -> bool:
        return type(other) is LBFGS and other.get_config() == self.get_config()  # type: ignore

    def __hash__(self) -> int:
        return hash(("LBFGS", self.tol, self.max_fun))


def as_lbfgs(optimizer: Any) -> Optional[LBFGS]:
    """The LBFGS that ``fit``'s optimizer names ('lbfgs', 'l-bfgs', an LBFGS), or None."""
    if isinstance(optimizer, LBFGS):
        return optimizer
    if isinstance(optimizer, str) and optimizer.lower().replace("-", "") == "lbfgs":
        return LBFGS()
    return None


OPTIMIZER_CLASSES: dict[str, type] = {"sgd": SGD, "adagrad": Adagrad, "rmsprop": RMSprop,
                                      "adam": Adam, "adamw": AdamW}


def get_optimizer(optimizer: Union[str, Optimizer], learning_rate: Optional[float] = None,
                  momentum: Optional[float] = None,
                  nesterov: Optional[bool] = None) -> Optimizer:
    """Return the Optimizer for ``fit``'s arguments.

    A name builds the class with its defaults, except ``lr = learning_rate``
    (when None: the class's own rate, e.g. Adam's 1e-3, but 0.01 for 'sgd',
    fit's documented default) and, for 'sgd' and 'rmsprop',
    the given momentum (and nesterov for 'sgd').  An Optimizer object is used
    as given; then learning_rate, momentum and nesterov must be left unset.
    """
    if isinstance(optimizer, Optimizer):
        given = [n for n, v in (("learning_rate", learning_rate), ("momentum", momentum),
                                ("nesterov", nesterov)) if v is not None]
        if given:
            raise ValueError(f"optimizer is an {type(optimizer).__name__} object: set "
                             f"{', '.join(given)} on it instead of passing them to fit")
        return optimizer
    if isinstance(optimizer, type) and issubclass(optimizer, Optimizer):
        raise ValueError(f"optimizer must be an instance or a name; got the class "
                         f"{optimizer.__name__} (write {optimizer.__name__}())")
    key = B.canonical(optimizer, OPTIMIZER_CLASSES, {}, "optimizer")
    lr = learning_rate
    if lr is None:
        lr = 0.01 if key == "sgd" else OPTIMIZER_CLASSES[key]().lr
    mom = 0.0 if momentum is None else momentum
    if key == "sgd":
        return SGD(lr=lr, momentum=mom, nesterov=bool(nesterov))
    if nesterov:
        raise ValueError(f"nesterov applies to optimizer='sgd' only; got optimizer={key!r}")
    if key == "rmsprop":
        return RMSprop(lr=lr, momentum=mom)
    if mom:
        raise ValueError(f"momentum applies to 'sgd' and 'rmsprop'; {key!r} takes its momentum "
                         f"from betas (use {OPTIMIZER_CLASSES[key].__name__}(betas=...))")
    return OPTIMIZER_CLASSES[key](lr=lr)
