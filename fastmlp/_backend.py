"""The compiled core and the name -> enum tables, in one place.

Every name a user may give (activation, loss, optimizer) maps to the C enum
here; nothing else in the package spells an enum value.
"""
from __future__ import annotations

from fastmlp import _core as core

ACTIVATIONS: dict[str, int] = {
    "identity": core.ACT_IDENTITY,
    "step": core.ACT_STEP,
    "sigmoid": core.ACT_SIGMOID,
    "tanh": core.ACT_TANH,
    "relu": core.ACT_RELU,
    "leaky_relu": core.ACT_LEAKY_RELU,
    "softmax": core.ACT_SOFTMAX,
}
#: accepted spellings -> canonical name
ACTIVATION_ALIASES: dict[str, str] = {"linear": "identity", "logistic": "sigmoid",
                                      "heaviside": "step", "leaky": "leaky_relu",
                                      "leakyrelu": "leaky_relu"}
HIDDEN_ACTIVATIONS = ("identity", "step", "sigmoid", "tanh", "relu", "leaky_relu")

LOSSES: dict[str, int] = {
    "mse": core.LOSS_MSE,
    "mae": core.LOSS_MAE,
    "bce": core.LOSS_BCE,
    "cce": core.LOSS_CCE,
    "quadratic": core.LOSS_MSE,
}
#: how each loss is reduced: (multiplier, mean over outputs too?)
#: mse/mae/bce average over samples and outputs (torch.nn's 'mean'); cce
#: sums over classes and averages over samples; 'quadratic' is the textbook
#: C = 1/(2n) sum_x ||y(x) - a(x)||^2 (Nielsen, ch. 1-2): half the squared
#: error summed over outputs, averaged over samples.
LOSS_REDUCTION: dict[str, tuple[float, bool]] = {
    "mse": (1.0, True), "mae": (1.0, True), "bce": (1.0, True), "cce": (1.0, False),
    "quadratic": (0.5, False),
}
LOSS_ALIASES: dict[str, str] = {
    "squared_error": "mse", "mean_squared_error": "mse", "quadratic_cost": "quadratic",
    "absolute_error": "mae", "mean_absolute_error": "mae",
    "binary_crossentropy": "bce", "binary_cross_entropy": "bce", "log_loss_binary": "bce",
    "categorical_crossentropy": "cce", "cross_entropy": "cce", "crossentropy": "cce",
    "log_loss": "cce",
}
#: the output activation each cross-entropy is fused with
LOSS_OUTPUT = {"bce": "sigmoid", "cce": "softmax"}

OPTIMIZERS: dict[str, int] = {
    "sgd": core.OPT_SGD,
    "adagrad": core.OPT_ADAGRAD,
    "rmsprop": core.OPT_RMSPROP,
    "adam": core.OPT_ADAM,
    "adamw": core.OPT_ADAMW,
}


def canonical(name: str, table: dict, aliases: dict, what: str) -> str:
    """Return the canonical spelling of name, or raise ValueError listing the choices."""
    if isinstance(name, str):
        key = name.lower().replace("-", "_")
        key = aliases.get(key, key)
        if key in table:
            return key
    raise ValueError(f"unknown {what} {name!r}; expected one of {', '.join(map(repr, table))}")
