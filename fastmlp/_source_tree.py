"""The error for ``import fastmlp`` from a source tree whose compiled core is not built.

Python started in the repository root finds the ``fastmlp/`` source folder
before the installed package; without an in-place build it has no
``fastmlp._core``, and every use would fail with a bare ``No module named
'fastmlp._core'``.  As NumPy does from its source tree, say instead in one line
what to do.
"""
from __future__ import annotations

import os
from typing import NoReturn


def core_missing(exc: ModuleNotFoundError) -> None:
    """Raise a one-line ImportError if ``exc`` is the core missing from a source tree.

    Parameters
    ----------
    exc : ModuleNotFoundError
        What importing ``fastmlp._core`` raised.  Anything else (a module the
        core itself imports, an installed package without its core) is left to
        the caller to re-raise as it is.
    """
    here = os.path.dirname(os.path.abspath(__file__))
    if exc.name == "fastmlp._core" and os.path.exists(os.path.join(here, "_core.pyx")):
        _raise(os.path.dirname(here))


def _raise(root: str) -> NoReturn:
    raise ImportError(
        f"fastmlp is imported from its source tree ({root}) without its compiled core: "
        "build it in place there with `pip install -e .` (or "
        "`python setup.py build_ext --inplace`), or start Python outside that "
        "directory to use the installed fastmlp"
    ) from None
