"""Weight initialisers for ``MLP(init=...)``.

``init`` is a name or a callable.  The names ``'sklearn'``, ``'auto'``,
``'he_uniform'`` and ``'glorot_uniform'`` are drawn by :class:`fastmlp.MLP`
itself (see its ``init`` parameter); the names ``'normal'``,
``'lecun_normal'`` and ``'orthogonal'`` are the functions of this module.  A
callable ``init(shape, rng) -> array`` draws each weight matrix: ``shape`` is
``(fan_in, fan_out)`` (fastmlp's ``(in, out)`` layout, the transpose of
torch's ``(out, in)``) and ``rng`` the model's ``numpy.random.Generator``
(seeded by ``MLP(seed=...)``), so a seeded model is reproducible.  The
functions here have that signature, with their options as keywords: bind them
with :func:`functools.partial`, e.g. ``init=partial(orthogonal, gain=2**0.5)``.

With any of these (names or callable), biases start at zero.  What a callable
returns is checked: the right shape, real numbers, finite; otherwise
``ValueError`` names ``init`` and the layer, and the model is left as it was.

Examples
--------
>>> import numpy as np
>>> from fastmlp.initializers import orthogonal
>>> W = orthogonal((6, 3), np.random.default_rng(0))
>>> np.allclose(W.T @ W, np.eye(3))
True
"""
from __future__ import annotations

import math
from typing import Any, Callable, Union

import numpy as np

__all__ = ["normal", "lecun_normal", "orthogonal", "INITIALIZERS", "BUILTIN_NAMES"]

#: names MLP.reset_parameters draws itself (uniform draws; see MLP's ``init``)
BUILTIN_NAMES = ("sklearn", "auto", "he_uniform", "glorot_uniform")
#: what a loaded model's ``init`` is when the saved model's was a callable
#: (a callable cannot be saved; fastmlp.io writes this name instead)
LOADED_CALLABLE = "callable"


def normal(shape: tuple, rng: np.random.Generator, std: float = 0.05) -> np.ndarray:
    """N(0, std^2) weights.

    The default std is Keras's ``RandomNormal``'s, 0.05: ``torch.nn.init.normal_``'s
    default of 1 makes a wide layer's outputs grow with its width.
    """
    if not (isinstance(std, (int, float)) and not isinstance(std, bool)
            and math.isfinite(std) and std >= 0):
        raise ValueError(f"init: normal's std must be a finite float >= 0; got {std!r}")
    return rng.normal(0.0, float(std), size=shape)


def lecun_normal(shape: tuple, rng: np.random.Generator) -> np.ndarray:
    """LeCun normal: N(0, 1 / fan_in), the initialisation SELU networks assume.

    This is ``torch.nn.init.kaiming_normal_(w, mode='fan_in', nonlinearity='linear')``
    (Keras's ``lecun_normal`` draws from a normal truncated at two standard
    deviations, rescaled to the same variance).
    """
    fan_in = shape[0]
    return rng.normal(0.0, 1.0 / math.sqrt(fan_in), size=shape)


def orthogonal(shape: tuple, rng: np.random.Generator, gain: float = 1.0) -> np.ndarray:
    """A (semi-)orthogonal matrix times ``gain``: ``torch.nn.init.orthogonal_``.

    torch's recipe on the ``(fan_out, fan_in)`` matrix it would hold, transposed
    to fastmlp's layout: a standard normal matrix, transposed when it is
    wider than tall, factored by QR, Q's columns multiplied by the signs of R's
    diagonal (so Q is uniform over the orthogonal matrices), transposed back.
    The result W of shape (fan_in, fan_out) has ``W.T @ W = gain^2 I`` when
    fan_in >= fan_out and ``W @ W.T = gain^2 I`` otherwise.
    """
    if not (isinstance(gain, (int, float)) and not isinstance(gain, bool) and math.isfinite(gain)):
        raise ValueError(f"init: orthogonal's gain must be a finite float; got {gain!r}")
    fan_in, fan_out = shape
    rows, cols = fan_out, fan_in  # torch's (out, in) view of the same weights
    flat = rng.standard_normal((rows, cols))
    if rows < cols:
        flat = flat.T
    q, r = np.linalg.qr(flat)
    q = q * np.sign(np.diag(r))
    if rows < cols:
        q = q.T
    return float(gain) * q.T  # (out, in) -> (in, out)


INITIALIZERS: dict[str, Callable[..., np.ndarray]] = {
    "normal": normal, "lecun_normal": lecun_normal, "orthogonal": orthogonal}


def check_init(init: Any) -> Union[str, Callable]:
    """``MLP(init=...)``: a known name or a callable, returned as given."""
    if isinstance(init, str):
        if init in BUILTIN_NAMES or init in INITIALIZERS:
            return init
    elif callable(init):
        return init
    names = ", ".join(repr(n) for n in (*BUILTIN_NAMES, *INITIALIZERS))
    raise ValueError(f"init must be one of {names} or a callable init(shape, rng) -> array; "
                     f"got {init!r}")


def draw(init: Union[str, Callable], shape: tuple, rng: np.random.Generator,
         layer: int) -> np.ndarray:
    """The float64 weights of one layer from a name of :data:`INITIALIZERS` or a callable,
    checked (shape, real, finite); ValueError naming ``init`` otherwise."""
    if isinstance(init, str) and init == LOADED_CALLABLE:
        raise ValueError("init='callable': this model was loaded from a file, and its "
                         "initialiser was a callable, which is not saved; set model.init to "
                         "a name or a callable before drawing new weights")
    fn = INITIALIZERS[init] if isinstance(init, str) else init
    what = f"init {init!r}" if isinstance(init, str) else f"init callable {init!r}"
    try:
        w = fn(tuple(shape), rng)
    except Exception as exc:  # name the parameter; the cause stays chained
        raise ValueError(f"{what} raised {type(exc).__name__} for layer {layer} of shape "
                         f"{tuple(shape)}: {exc}") from exc
    try:
        a = np.asarray(w)
    except Exception as exc:
        raise ValueError(f"{what} returned {type(w).__name__}, not an array") from exc
    if a.dtype.kind not in "biuf":
        raise ValueError(f"{what} must return real numbers; got dtype {a.dtype} for layer "
                         f"{layer}")
    if a.shape != tuple(shape):
        raise ValueError(f"{what} must return an array of shape {tuple(shape)} for layer "
                         f"{layer} (fan_in, fan_out); got shape {a.shape}")
    a = a.astype(np.float64)
    if not np.isfinite(a).all():
        raise ValueError(f"{what} returned NaN or infinity for layer {layer}")
    return a
