"""Instructions per training step of a bench row, counted by callgrind: a load-proof A/B.

Wall-clock times on a small shared machine move by 10-20% with the load; instruction counts
do not.  This runs K and 2K steps of a row through fastmlp's C loop (the harness's
``FastmlpTrainer``) under ``valgrind --tool=callgrind`` and prints the difference / K, so
start-up costs cancel.  Give ``--tree`` to count another checkout (built in place), e.g. the
commit before a refactor::

    python benchmarks/instructions.py --row B/32/1 --dtype float64
    python benchmarks/instructions.py --row B/32/1 --dtype float64 --tree ../old-checkout
"""
from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile

_CHILD = """
import sys, numpy as np
sys.path.insert(0, {tree!r})
try:
    from benchmarks import harness as h
except ImportError:  # checkouts before the harness moved out of the package
    from fastmlp import bench as h
p = h.make_problem(h.NETS[{net!r}], {batch}, 1, np.dtype({dtype!r}))
h.FastmlpTrainer(p, per_call={per_call}).steps({k})
"""


def count(tree: str, row: str, dtype: str, k: int, per_call: bool) -> int:
    """Instructions callgrind counts for a process that runs k steps of ``row``."""
    net, batch, _ = row.split("/")
    code = _CHILD.format(tree=tree, net=net, batch=int(batch), dtype=dtype, per_call=per_call,
                         k=k)
    with tempfile.TemporaryDirectory() as tmp:
        env = dict(os.environ, PYTHONPATH=tree, OMP_NUM_THREADS="1")
        r = subprocess.run(["valgrind", "--tool=callgrind", f"--callgrind-out-file={tmp}/cg.out",
                            sys.executable, "-c", code], cwd=tmp, env=env, capture_output=True,
                           text=True, check=True)
    return int(re.search(r"Collected : (\d+)", r.stderr).group(1))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--row", default="B/32/1", help="NET/BATCH/1 (one thread)")
    ap.add_argument("--dtype", default="float32")
    ap.add_argument("--steps", type=int, default=50, help="K: runs K and 2K steps")
    ap.add_argument("--per-call", action="store_true", help="one core.train call per step")
    ap.add_argument("--tree", default=os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    a = ap.parse_args(argv)
    k = a.steps
    n1 = count(a.tree, a.row, a.dtype, k, a.per_call)
    n2 = count(a.tree, a.row, a.dtype, 2 * k, a.per_call)
    print(f"{a.row} {a.dtype}{' per call' if a.per_call else ''}: "
          f"{(n2 - n1) / k:,.0f} instructions per step ({a.tree})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
