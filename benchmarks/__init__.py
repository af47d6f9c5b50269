"""fastmlp's benchmarks: pytest-benchmark suites (bench_*.py) and the peer comparison (compare.py).

They are not part of the test run (pytest's testpaths is ``tests``); run them with
``python -m pytest benchmarks/`` or ``python -m benchmarks.compare``.
"""
