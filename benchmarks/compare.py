"""``python -m benchmarks.compare``: fastmlp against NumPy, PyTorch and scikit-learn, one table.

A thin entry point to :mod:`benchmarks.harness` (also ``fastmlp bench`` from a
checkout), which checks parity first, then times every row of the speed table
for fastmlp and each installed peer in the same run, and prints the table with
ratios and fractions of the measured peak.  All options are the harness's::

    python -m benchmarks.compare                      # the whole table, float32 and float64
    python -m benchmarks.compare --rows A/1/1,epoch --dtype float32 --json out.json
    python -m benchmarks.compare --quick              # a smoke test
"""
from __future__ import annotations

import sys
from typing import Optional, Sequence

from benchmarks import harness


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Run :func:`benchmarks.harness.main` with ``argv``; return its exit status."""
    return int(harness.main(argv))


if __name__ == "__main__":
    sys.exit(main())
