"""fastmlp: fast perceptrons and multi-layer perceptrons on the CPU.

C kernels (fused matmul + bias + activation, backward deltas, optimizer
updates; OpenMP threads, SIMD chosen at import) under a thin Cython layer,
checked against :mod:`fastmlp.reference` (pure NumPy).
"""
from fastmlp import _omp_policy

_omp_policy.apply()  # before libgomp loads with _core: see fastmlp/_omp_policy.py
try:
    from fastmlp._core import available_targets, max_threads, openmp_enabled, set_target, simd_target
except ModuleNotFoundError as _exc:
    _omp_policy.restore()
    from fastmlp._source_tree import core_missing

    core_missing(_exc)  # raises: one line saying what to do from a source tree
    raise
_omp_policy.restore()
from fastmlp.exceptions import NotFittedError  # noqa: E402
from fastmlp._validation import (DivergenceError, ForwardOverflowError,  # noqa: E402
                                 ForwardOverflowWarning, NonFiniteError, ThreadCountWarning,
                                 errstate)
from fastmlp.mlp import MLP
from fastmlp.perceptron import ConvergenceWarning, Perceptron
from fastmlp import callbacks, initializers, optim, schedules  # noqa: E402  (training API)
from fastmlp.io import ModelFileError, load  # noqa: E402
from fastmlp._transaction import ConcurrentUseError  # noqa: E402
from fastmlp.quantize import QuantizedMLP  # noqa: E402
from fastmlp.export import export_c  # noqa: E402

__version__ = "0.1.0"

__all__ = [
    "MLP", "Perceptron", "ConvergenceWarning", "openmp_enabled", "simd_target",
    "available_targets", "set_target", "max_threads", "__version__",
    "optim", "schedules", "callbacks", "initializers", "load", "ModelFileError", "NotFittedError",
    "errstate", "DivergenceError", "ForwardOverflowError", "ForwardOverflowWarning",
    "NonFiniteError", "ThreadCountWarning", "ConcurrentUseError", "QuantizedMLP", "export_c",
]

#: scikit-learn drop-ins, imported on first use so that ``import fastmlp``
#: needs neither scikit-learn nor scipy.  ``fastmlp.Perceptron`` stays
#: fastmlp's Rosenblatt perceptron; scikit-learn's (an SGD linear model with
#: penalties, class weights and early stopping) is ``fastmlp.sklearn.Perceptron``,
#: also exported here as ``SGDPerceptron``.  They stay out of ``__all__`` so
#: that ``from fastmlp import *`` works without scikit-learn installed.
_SKLEARN_EXPORTS = {"MLPClassifier": "MLPClassifier", "MLPRegressor": "MLPRegressor",
                    "SGDPerceptron": "Perceptron"}


def __getattr__(name: str):
    if name in _SKLEARN_EXPORTS:
        from fastmlp import sklearn as _sk

        return getattr(_sk, _SKLEARN_EXPORTS[name])
    raise AttributeError(f"module 'fastmlp' has no attribute {name!r}")
