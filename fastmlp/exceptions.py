"""fastmlp's exceptions.

:class:`NotFittedError` is raised when a model is used for prediction before
it has been fitted.  Where scikit-learn is importable, the error raised is
also an instance of ``sklearn.exceptions.NotFittedError`` (a class deriving
from both), so code written for scikit-learn estimators catches it; either
way it is a ``ValueError`` and an ``AttributeError``, as scikit-learn's is
(``hasattr(model, "coefs_")`` is then False on an unbuilt model).
"""
from __future__ import annotations

from typing import Optional

__all__ = ["NotFittedError", "not_fitted"]


class NotFittedError(ValueError, AttributeError):
    """A model was used before it was fitted (predict, score, weights of an unbuilt model)."""


_COMBINED: Optional[type] = None


def _error_class() -> type:
    """fastmlp's NotFittedError, combined with scikit-learn's where that imports."""
    global _COMBINED
    if _COMBINED is None:
        try:
            from sklearn.exceptions import NotFittedError as SkNotFittedError
        except ImportError:
            _COMBINED = NotFittedError
        else:
            _COMBINED = type("NotFittedError", (NotFittedError, SkNotFittedError),
                             {"__module__": __name__,
                              "__doc__": NotFittedError.__doc__})
    return _COMBINED


def not_fitted(message: str) -> NotFittedError:
    """Return (for ``raise``) the NotFittedError to raise with ``message``."""
    return _error_class()(message)
