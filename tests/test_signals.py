"""A real SIGINT delivered to a process training an MLP (docs/RELIABILITY.md, "Signals").

Deterministic: a callback sends ``os.kill(os.getpid(), SIGINT)`` at the end of epoch k,
so Python's handler raises KeyboardInterrupt there.  The contract checked in the child:
the model is at its last completed epoch (k): history of k rows, optimizer step of k
epochs of batches, ``interrupted_`` set, and weights, optimizer state, RNG and
predictions equal to a model trained for exactly k epochs; continuing with m more
epochs equals training k + m at once.  (The Perceptrons and the scikit-learn drop-ins
have their own SIGINT tests; the command line's is in tests/test_cli_files.py.)
"""
from __future__ import annotations

import json
import os
import pathlib
import signal
import subprocess
import sys

import pytest

import fastmlp

PKG_PARENT = str(pathlib.Path(fastmlp.__file__).resolve().parent.parent)

_CHILD = r"""
import json, os, signal, sys, warnings
import numpy as np
from fastmlp import MLP
from fastmlp.callbacks import Callback
from fastmlp.optim import SGD, Adam, RMSprop

case = json.loads(sys.argv[1])
k, m = case["k"], case["m"]
rng = np.random.default_rng(case["seed"])
X = rng.standard_normal((130, 5))
y = rng.integers(0, 3, 130) if case["task"] == "cls" else rng.standard_normal(130)
OPT = {"sgd": lambda: SGD(lr=0.05, momentum=0.9), "adam": lambda: Adam(lr=0.01, amsgrad=True),
       "rmsprop": lambda: RMSprop(lr=0.01, centered=True)}
out = 3 if case["task"] == "cls" else 1

def new():
    return MLP([5, 16, out], seed=case["seed"], dtype=case["dtype"], dropout=case["dropout"],
               loss="cce" if out == 3 else "mse")

def fit(net, epochs, callbacks=None):
    net.fit(X, y, epochs=epochs, batch_size=case["bs"], optimizer=OPT[case["opt"]](),
            shuffle=case["shuffle"], validation_split=case["vsplit"], callbacks=callbacks,
            verbose=0)

class CtrlCAfterEpoch(Callback):
    def on_epoch_end(self, epoch, logs):
        if epoch == k - 1:
            os.kill(os.getpid(), signal.SIGINT)   # the handler raises KeyboardInterrupt here

net = new()
raised = False
with warnings.catch_warnings():
    warnings.simplefilter("ignore", RuntimeWarning)
    try:
        fit(net, 1000, [CtrlCAfterEpoch()])
    except KeyboardInterrupt:   # a fit may also re-raise after leaving the model consistent
        raised = True
twin = new()
fit(twin, k)
n_train = 130 - int(130 * case["vsplit"]) if case["vsplit"] else 130
n_batches = -(-n_train // case["bs"])
report = {
    "raised": raised,
    "interrupted": bool(getattr(net, "interrupted_", raised)),
    "rows": {key: len(v) for key, v in net.history_.items()},
    "step": int(net._opt_state["step"]),
    "expected_step": k * n_batches,
    "params_equal": bool(np.array_equal(net._params, twin._params)),
    "opt_equal": all(np.array_equal(net._opt_state[b], twin._opt_state[b])
                     for b in ("s1", "s2", "s3") if twin._opt_state.get(b) is not None),
    "rng_equal": net._rng.bit_generator.state == twin._rng.bit_generator.state,
    "history_equal": net.history_.get("loss") == twin.history_.get("loss"),
    "predict_equal": bool(np.array_equal(net.predict(X), twin.predict(X))),
    "finite": bool(np.isfinite(net._params).all()),
}
fit(net, m)
whole = new()
fit(whole, k + m)
report["continue_equal"] = bool(np.array_equal(net._params, whole._params))
print(json.dumps(report))
"""

CASES = [
    dict(k=1, m=2, seed=0, task="cls", dtype="float32", dropout=0.0, opt="sgd", bs=16,
         shuffle=True, vsplit=0.0),
    dict(k=3, m=1, seed=1, task="cls", dtype="float64", dropout=0.2, opt="adam", bs=7,
         shuffle=True, vsplit=0.2),
    dict(k=2, m=2, seed=2, task="reg", dtype="float32", dropout=0.0, opt="rmsprop", bs=1,
         shuffle=False, vsplit=0.0),
    dict(k=5, m=1, seed=3, task="cls", dtype="float64", dropout=0.1, opt="sgd", bs=130,
         shuffle=True, vsplit=0.1),
    dict(k=2, m=3, seed=4, task="reg", dtype="float64", dropout=0.3, opt="adam", bs=2,
         shuffle=True, vsplit=0.0),
]


@pytest.mark.skipif(os.name != "posix", reason="needs POSIX signals")
@pytest.mark.parametrize("case", CASES, ids=lambda c: f"k{c['k']}-{c['opt']}-bs{c['bs']}")
def test_sigint_after_epoch_k_leaves_the_model_at_epoch_k(case, tmp_path):
    env = {**os.environ, "OMP_NUM_THREADS": "1",
           "PYTHONPATH": PKG_PARENT + os.pathsep + os.environ.get("PYTHONPATH", "")}
    # cwd: `python -c` puts the working directory first on sys.path, and the repository
    # root's source folder would shadow the installed fastmlp
    proc = subprocess.run([sys.executable, "-c", _CHILD, json.dumps(case)], capture_output=True,
                          text=True, env=env, timeout=600, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    r = json.loads(proc.stdout.strip().splitlines()[-1])
    assert r["interrupted"]
    assert set(r["rows"].values()) == {case["k"]}, r["rows"]  # k completed epochs, every key
    assert r["step"] == r["expected_step"]  # the counter agrees with the epochs done
    for key in ("params_equal", "opt_equal", "rng_equal", "history_equal", "predict_equal",
                "finite", "continue_equal"):
        assert r[key], (key, r)
