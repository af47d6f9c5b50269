"""``python -m benchmarks.compare``: fastmlp against NumPy, PyTorch and scikit-learn, one table.

A thin entry point to :mod:`fastmlp.bench` (also ``fastmlp bench``), which
checks parity first, then times every row of the speed table for fastmlp and
each installed peer in the same run, and prints the table with ratios and
fractions of the measured peak.  All options are fastmlp.bench's::

    python -m benchmarks.compare                      # the whole table, float32 and float64
    python -m benchmarks.compare --rows A/1/1,epoch --dtype float32 --json out.json
    python -m benchmarks.compare --quick              # a smoke test
"""
from __future__ import annotations

import importlib
import os
import sys
from typing import Optional, Sequence


def _import_bench():
    """Import fastmlp.bench, preferring the installed package over an unbuilt checkout.

    ``python -m benchmarks.compare`` puts the current directory first on
    sys.path; from a source checkout that was installed (``pip install .``)
    but not built in place, its ``fastmlp/`` has no compiled core.  Then the
    checkout is dropped from the path and the installed fastmlp is used.
    """
    try:
        return importlib.import_module("fastmlp.bench")
    except ImportError:
        root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
        sys.path[:] = [p for p in sys.path if os.path.abspath(p or os.curdir) != root]
        for name in [m for m in sys.modules if m == "fastmlp" or m.startswith("fastmlp.")]:
            del sys.modules[name]
        return importlib.import_module("fastmlp.bench")


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Run :func:`fastmlp.bench.main` with ``argv``; return its exit status."""
    return int(_import_bench().main(argv))


if __name__ == "__main__":
    sys.exit(main())
