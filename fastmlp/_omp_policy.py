"""How fastmlp's OpenMP threads wait: passively, unless the user said otherwise.

GNU OpenMP's default wait policy lets an idle worker spin for a while before it
sleeps.  On a machine with more runnable threads than cores -- other programs,
NumPy's BLAS threads, several fits in parallel -- those spinning workers take
the cores from the threads that have work, and a training step that enters a
few parallel regions can become tens of times slower.  Measured here on the
2-core machine under a load average of ~3.7: 784-128-64-10 at batch 256 on two
threads, 16.4 ms a step with the default policy and 1.6 ms passive;
``cross_val_score`` of ``MLPClassifier`` on the digits, 62 s and 1.4 s.

libgomp reads ``OMP_WAIT_POLICY`` once, when it is loaded, which is when
``fastmlp._core`` is imported.  :func:`apply` (called by ``fastmlp/__init__``
just before that import) sets ``OMP_WAIT_POLICY=passive`` for the moment of the
import when neither it nor ``GOMP_SPINCOUNT`` is set, and :func:`restore`
removes it again afterwards, so libraries loaded later see the environment the
user gave.  A user's own setting always wins.  If libgomp was already loaded
by another package, its settings stand; :func:`wait_policy` says which case
applied (``fastmlp info`` prints it).
"""
from __future__ import annotations

import os

_VAR = "OMP_WAIT_POLICY"
_state: dict[str, str] = {}


def _gomp_loaded() -> bool:
    """Whether a libgomp is mapped into this process already (Linux only)."""
    try:
        with open("/proc/self/maps", encoding="utf-8", errors="replace") as fh:
            return any("libgomp" in line for line in fh)
    except OSError:
        return False


def apply() -> None:
    """Set the passive wait policy for the coming import of ``fastmlp._core``."""
    if _VAR in os.environ or "GOMP_SPINCOUNT" in os.environ:
        _state["policy"] = (f"{_VAR}={os.environ[_VAR]}" if _VAR in os.environ
                            else f"GOMP_SPINCOUNT={os.environ['GOMP_SPINCOUNT']}") + " (yours)"
        return
    if _gomp_loaded():
        _state["policy"] = "libgomp's default (it was loaded before fastmlp)"
        return
    os.environ[_VAR] = "passive"
    _state["set"] = "1"
    _state["policy"] = "passive (fastmlp's default)"


def restore() -> None:
    """Remove what :func:`apply` set, once ``fastmlp._core`` is loaded."""
    if _state.pop("set", None):
        os.environ.pop(_VAR, None)


def wait_policy() -> str:
    """The OpenMP wait policy fastmlp's threads run with, and where it came from."""
    return _state.get("policy", "unknown")
