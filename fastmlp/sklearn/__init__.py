"""scikit-learn drop-ins trained by fastmlp's C core.

Change ``from sklearn.neural_network import MLPClassifier`` to
``from fastmlp.sklearn import MLPClassifier`` (likewise ``MLPRegressor``, and
``Perceptron`` from ``sklearn.linear_model``): the same parameters, defaults,
methods, fitted attributes and -- given the same data, parameters and random
state -- the same training trajectory within floating-point tolerance, trained
in C.  Extra keyword arguments, all defaulting to scikit-learn's behaviour,
add fastmlp's activations, optimizers, progress bars, per-epoch history,
``class_weight``, ``n_threads`` and opt-in fixes of scikit-learn's known bugs
(:data:`SKLEARN_BUG_FIXES`).

This module needs scikit-learn and SciPy (``pip install fastmlp[sklearn]``);
the rest of fastmlp does not.

Where fastmlp deliberately behaves differently (never on a successful fit's
numbers beyond rounding):

* cross-entropy losses are evaluated from the logits, not from probabilities
  clipped to [eps, 1 - eps]: ``loss_curve_`` differs only for saturated,
  misclassified samples (the gradients are identical);
* a fit that produces non-finite weights raises scikit-learn's ValueError but
  leaves the weights the model had before the call (scikit-learn keeps NaNs);
* continued training (warm_start, partial_fit) runs in the precision of the
  existing weights (scikit-learn mixes float32 and float64 there);
* ``partial_fit`` with ``early_stopping=True`` raises before changing the
  model; ``loss='poisson'`` with negative targets raises (scikit-learn yields
  NaN losses); a warm start after another solver or stopping rule starts the
  missing bookkeeping instead of failing;
* ``Perceptron.fit(coef_init=...)`` copies the initial coefficients
  (scikit-learn trains inside the array it is given).
"""
from __future__ import annotations

try:
    import scipy  # noqa: F401
    import sklearn  # noqa: F401
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    raise ImportError(
        "fastmlp.sklearn needs scikit-learn and scipy: pip install 'fastmlp[sklearn]'"
    ) from exc

from fastmlp.sklearn._mlp import SKLEARN_BUG_FIXES, MLPClassifier, MLPRegressor
from fastmlp.sklearn._perceptron import Perceptron
from fastmlp import io as _io
from fastmlp.sklearn import _persist

for _magic, _cls in _persist.MAGICS.items():  # fastmlp.io.save/load handle them from now on
    _io.register_reader(_magic, _persist.read, _persist.MAX_MEMBERS)
    _io.register_writer(_cls, _persist.arrays)

__all__ = ["MLPClassifier", "MLPRegressor", "Perceptron", "SKLEARN_BUG_FIXES"]

#: the classes live in private modules; list them so doctest (and
#: tests/test_docstrings.py) runs their Examples from this public module
__test__ = {"MLPClassifier": MLPClassifier, "MLPRegressor": MLPRegressor,
            "Perceptron": Perceptron}
