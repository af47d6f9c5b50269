"""Transactional training calls and the per-model concurrency guard.

Contract (docs: every estimator of fastmlp, the drop-ins included):

* **All or nothing.** A ``fit``, ``partial_fit`` (and the other training
  methods listed in :data:`TRAINING_METHODS`) either completes or leaves the
  estimator exactly as it was at entry: weights, optimizer state, classes,
  loss, every fitted attribute, history, counters, its random generators.
  A snapshot of the estimator's ``__dict__`` is taken at entry (arrays,
  lists and dicts copied, other objects deep-copied) and put back on any
  exception that escapes the call -- into the *same* objects where they
  still exist, so arrays a user holds (``coefs_[0]``) stay valid.  An
  exception whose ``keeps_model`` is true (``fastmlp._validation.DivergenceError``:
  training stopped at its last finite weights, committed on purpose) is the one
  exception that is not rolled back.  Ctrl-C
  during training is not an escape: the epoch drivers catch it and keep the
  last completed step or epoch (counters agreeing with the weights); a
  KeyboardInterrupt that escapes (one that arrives outside the training loop)
  restores like any other exception.
* **One writer or many readers.** Any number of threads may predict at once.
  A training call while another training call or a prediction runs on the
  same estimator (from another thread) raises :class:`ConcurrentUseError` at
  once, and a prediction while a training call runs does too: nothing waits,
  nothing is lost, no prediction sees half-updated weights.  Calls nested in
  the same thread (``fit_one_cycle`` -> ``fit``, a callback that predicts)
  pass through.  The guard lives outside the estimator (a weak-keyed table),
  so pickling, ``copy.deepcopy`` and scikit-learn's ``clone`` never see it.

Both are applied in one place: :class:`Transactional`, a base class whose
``__init_subclass__`` wraps the methods named in :data:`TRAINING_METHODS` and
:data:`READING_METHODS` that a subclass defines.
"""
from __future__ import annotations

import copy
import functools
import threading
import weakref
from typing import Any, Callable

import numpy as np

__all__ = ["ConcurrentUseError", "Transactional", "snapshot", "restore"]

#: methods that change the model: guarded exclusively, transactional
TRAINING_METHODS = ("fit", "partial_fit", "fit_one_cycle", "lr_find")
#: methods that only read it: any number at once, never during a training call
READING_METHODS = ("predict", "predict_proba", "predict_log_proba", "decision_function",
                   "forward", "evaluate", "score", "save")

_IMMUTABLE = (type(None), bool, int, float, complex, str, bytes, np.generic, type, range,
              frozenset)


class ConcurrentUseError(RuntimeError):
    """A training call met another call on the same estimator running in another thread."""


class _Guard:
    """Writer/readers state of one estimator; never blocks (see the module docstring)."""

    __slots__ = ("lock", "writer", "depth", "readers")

    def __init__(self) -> None:
        self.lock = threading.Lock()   # held only to read/change the fields below
        self.writer = None             # thread id of the running training call
        self.depth = 0                 # nesting of training calls in that thread
        self.readers: dict = {}        # thread id -> running reading calls

    def enter_write(self, est: Any, name: str) -> bool:
        """Start a training call; True when it is the outermost one of its thread."""
        me = threading.get_ident()
        with self.lock:
            if self.writer == me:
                self.depth += 1
                return False
            busy = self.writer is not None or any(t != me for t in self.readers)
            if busy:
                what = "trains" if self.writer is not None else "predicts"
                raise ConcurrentUseError(
                    f"{type(est).__name__}.{name}: another thread {what} with this model right "
                    "now; a model trains in one thread at a time and not while it predicts "
                    "(nothing was changed; wait for that call, or train a copy)")
            self.writer, self.depth = me, 1
            return True

    def exit_write(self) -> None:
        with self.lock:
            self.depth -= 1
            if self.depth == 0:
                self.writer = None

    def enter_read(self, est: Any, name: str) -> None:
        me = threading.get_ident()
        with self.lock:
            if self.writer is not None and self.writer != me:
                raise ConcurrentUseError(
                    f"{type(est).__name__}.{name}: another thread is training this model right "
                    "now; predict after that fit returns (or from a copy of the model)")
            self.readers[me] = self.readers.get(me, 0) + 1

    def exit_read(self) -> None:
        me = threading.get_ident()
        with self.lock:
            left = self.readers[me] - 1
            if left:
                self.readers[me] = left
            else:
                del self.readers[me]


_GUARDS: "weakref.WeakKeyDictionary[Any, _Guard]" = weakref.WeakKeyDictionary()
_GUARDS_LOCK = threading.Lock()


def _guard(est: Any) -> _Guard:
    with _GUARDS_LOCK:
        g = _GUARDS.get(est)
        if g is None:
            g = _GUARDS[est] = _Guard()
        return g


# ---------------------------------------------------------------------- snapshot
def _take(v: Any, memo: dict) -> tuple:
    """(the object, what restores it): containers item by item, arrays copied."""
    if isinstance(v, _IMMUTABLE):
        return (v, None)
    if isinstance(v, np.ndarray):
        return (v, v.copy())
    if isinstance(v, list):
        return (v, [_take(x, memo) for x in v])
    if isinstance(v, dict):
        return (v, {k: _take(x, memo) for k, x in v.items()})
    if isinstance(v, tuple):
        return (v, tuple(_take(x, memo) for x in v))
    if isinstance(v, np.random.Generator):
        return (v, copy.deepcopy(v.bit_generator.state))
    if isinstance(v, np.random.RandomState):
        return (v, v.get_state())
    if callable(v) and not hasattr(v, "__dict__"):
        return (v, None)
    return (v, copy.deepcopy(v, memo))


def _put(t: tuple) -> Any:
    """Put a _take back; return the object to store (the original where it can be refilled)."""
    orig, saved = t
    if saved is None or saved is orig:  # immutable, or deepcopy kept the object itself
        return orig
    if isinstance(orig, np.ndarray):
        if orig.shape == saved.shape and orig.dtype == saved.dtype and orig.flags.writeable:
            orig[...] = saved
            return orig
        return saved
    if isinstance(orig, list):
        orig[:] = [_put(x) for x in saved]
        return orig
    if isinstance(orig, dict):
        items = {k: _put(x) for k, x in saved.items()}
        orig.clear()
        orig.update(items)
        return orig
    if isinstance(orig, tuple):
        return tuple(_put(x) for x in saved)
    if isinstance(orig, np.random.Generator):
        orig.bit_generator.state = saved
        return orig
    if isinstance(orig, np.random.RandomState):
        orig.set_state(saved)
        return orig
    if hasattr(orig, "__dict__") and type(orig) is type(saved):
        try:
            orig.__dict__.clear()
            orig.__dict__.update(saved.__dict__)
            return orig
        except (AttributeError, TypeError):
            pass
    return saved


def snapshot(est: Any) -> dict:
    """Everything a training call may change on ``est`` (see :func:`restore`)."""
    memo: dict = {}
    return {k: _take(v, memo) for k, v in vars(est).items()}


def restore(est: Any, snap: dict) -> None:
    """Put ``est`` back as it was when ``snap`` was taken (attributes added since removed)."""
    for k in [k for k in vars(est) if k not in snap]:
        delattr(est, k)
    for k, t in snap.items():
        # objects shared between attributes (coefs_ views and the flat buffer)
        # are refilled once each, in attribute order: the later fill is the same data
        setattr(est, k, _put(t))


# ---------------------------------------------------------------------- wrappers
def _training(fn: Callable) -> Callable:
    @functools.wraps(fn)
    def call(self, *args, **kwargs):
        g = _guard(self)
        if not g.enter_write(self, fn.__name__):
            try:  # nested in a training call of this thread: that one is the transaction
                return fn(self, *args, **kwargs)
            finally:
                g.exit_write()
        try:
            snap = snapshot(self)
            try:
                return fn(self, *args, **kwargs)
            except BaseException as exc:
                # a DivergenceError (fastmlp._validation) commits the last finite state
                if not getattr(exc, "keeps_model", False):
                    restore(self, snap)
                raise
        finally:
            g.exit_write()

    call.__fastmlp_guarded__ = True  # type: ignore[attr-defined]
    return call


def _reading(fn: Callable) -> Callable:
    @functools.wraps(fn)
    def call(self, *args, **kwargs):
        g = _guard(self)
        g.enter_read(self, fn.__name__)
        try:
            return fn(self, *args, **kwargs)
        finally:
            g.exit_read()

    call.__fastmlp_guarded__ = True  # type: ignore[attr-defined]
    return call


class Transactional:
    """Base class: makes the training methods a subclass defines transactional and guarded,
    and its reading methods guarded (see the module docstring)."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        for names, wrap in ((TRAINING_METHODS, _training), (READING_METHODS, _reading)):
            for name in names:
                fn = cls.__dict__.get(name)
                if fn is None or getattr(fn, "__fastmlp_guarded__", False):
                    continue
                if isinstance(fn, (classmethod, staticmethod)):
                    continue
                if not callable(fn):  # e.g. scikit-learn's available_if descriptor
                    fn = _wrap_descriptor(fn, wrap)
                    setattr(cls, name, fn)
                    continue
                setattr(cls, name, wrap(fn))


def _wrap_descriptor(desc: Any, wrap: Callable) -> Any:
    """Wrap the function inside a descriptor such as scikit-learn's ``available_if``."""
    inner = getattr(desc, "fn", None)
    if inner is None or not callable(inner):
        return desc
    desc.fn = wrap(inner)
    return desc
