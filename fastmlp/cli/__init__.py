"""The ``fastmlp`` command line (:func:`main`) and the classic demos it runs (:mod:`fastmlp.cli.demos`)."""
from fastmlp.cli.commands import main

__all__ = ["main"]
