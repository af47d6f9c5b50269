"""Smoke test of an installed fastmlp, run from outside the source tree.

Usage: python smoke.py [--expect-openmp]   (from any directory but the checkout)

Checks that the package imported is the installed one, trains a small MLP on the
embedded digits to a test accuracy that only a working core reaches, saves and
loads it, and runs the command line.  Exits non-zero on the first failure.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile

import numpy as np

import fastmlp
from fastmlp import MLP
from fastmlp.datasets import load_digits


def main(argv: list[str]) -> int:
    where = os.path.dirname(fastmlp.__file__)
    print(f"fastmlp {fastmlp.__version__} from {where}")
    assert "site-packages" in where, f"not the installed package: {where}"
    assert not os.path.exists(os.path.join(where, "_core.pyx")), "a source tree was imported"
    print(f"SIMD {fastmlp.simd_target()}, OpenMP {fastmlp.openmp_enabled()}, "
          f"threads {fastmlp.max_threads()}")
    if "--expect-openmp" in argv:
        assert fastmlp.openmp_enabled(), "built without OpenMP"

    X, y = load_digits(return_X_y=True)
    X = X / 16.0
    idx = np.random.default_rng(0).permutation(len(X))
    tr, te = idx[:1400], idx[1400:]
    net = MLP([64, 64, 10], seed=0)
    net.fit(X[tr], y[tr], epochs=20, batch_size=32, optimizer="adam", learning_rate=1e-3,
            verbose=0)
    acc = net.score(X[te], y[te])
    print(f"digits 64-64-10, adam, 20 epochs: test accuracy {acc:.4f}")
    assert acc >= 0.93, acc

    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "digits.npz")
        net.save(path)
        again = fastmlp.load(path)
        assert np.array_equal(again.predict(X[te]), net.predict(X[te])), "save/load changed it"

        exe = shutil.which("fastmlp")
        assert exe is not None, "the fastmlp script is not on PATH"
        for cmd in ([exe, "info"],
                    [exe, "train", "--epochs", "2", "--quiet", "--output", path],
                    [exe, "evaluate", path, "--dataset", "digits"],
                    [sys.executable, "-m", "fastmlp", "--help"]):
            print("$", " ".join(os.path.basename(c) if c == exe else c for c in cmd), flush=True)
            subprocess.run(cmd, cwd=tmp, check=True, timeout=600)
    print("smoke test passed")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
