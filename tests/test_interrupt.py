"""Interrupted training (Ctrl-C, or a KeyboardInterrupt between chunks) leaves the
model at the last completed step, consistent and usable, with the history of the
completed epochs.  Consistency is checked by replaying exactly that many steps in C
on a fresh model: the weights and optimizer state must match bit for bit."""
from __future__ import annotations

import os
import signal
import threading
import time

import numpy as np
import pytest

from fastmlp import MLP
from fastmlp import _core as core
from fastmlp._backend import train_steps
from fastmlp.callbacks import Callback
from fastmlp.optim import Adam


def _replay(seed, X, y, steps, bs, dtype):
    """A fresh model trained for exactly `steps` unshuffled batches, one C call each."""
    net = MLP([X.shape[1], 32, 32, 3], seed=seed, dtype=dtype, dropout=0.1)
    Y = net._encode(y, len(X), fitting=True)
    X = X.astype(dtype)
    st = net._prepare_opt_state(Adam(lr=1e-3))
    sizes, acts, slopes = net._net_arrays()
    work = np.empty(core.workspace_size(sizes, acts, slopes, bs), dtype)
    grad, stats = np.empty_like(net._params), np.zeros(16)
    nb = -(-len(X) // bs)
    for k in range(steps):
        train_steps(params=net._params, grad=grad, work=work, stats=stats,
                    net=(sizes, acts, slopes), opt=st, cfg=net._cfg(train=True), x=X, y=Y,
                    start=(k % nb) * bs, n_batches=1, batch=bs, s1=st["s1"], s2=st["s2"],
                    s3=st["s3"], dropout=net._dropout_rates(), n_threads=net.n_threads)
    return net


def _history_covers_completed_epochs(net, nb):
    """Rows = epochs completed (training, validation, metrics); an epoch whose batches all
    ran but whose row was not yet written when the interrupt came is not completed."""
    step, rows = net._opt_state["step"], len(net.history_.get("loss", []))
    assert rows == step // nb or (step % nb == 0 and rows == step // nb - 1), (rows, step)
    assert all(len(v) == rows for v in net.history_.values())


def _consistent_with_replay(net, X, y, bs):
    step = net._opt_state["step"]
    assert step > 0
    twin = _replay(net.seed, X, y, step, bs, net.dtype)
    assert np.array_equal(net._params, twin._params)
    for k in ("s1", "s2"):
        assert np.array_equal(net._opt_state[k], twin._opt_state[k])


def test_keyboard_interrupt_between_chunks():
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((300, 6)), rng.integers(0, 3, 300)

    class CtrlC(Callback):
        seen = 0
        ended = False

        def on_batch_end(self, batch, logs):
            self.seen += 1
            if self.seen == 12:  # well into the 2nd or a later epoch
                raise KeyboardInterrupt

        def on_train_end(self, logs):
            self.ended = True

    cb = CtrlC()
    net = MLP([6, 32, 32, 3], seed=1, dtype=np.float64, dropout=0.1)
    with pytest.warns(RuntimeWarning, match="training interrupted"):
        net.fit(X, y, epochs=50, batch_size=10, shuffle=False, optimizer=Adam(lr=1e-3),
                callbacks=[cb], verbose=0)
    assert net.interrupted_ and not cb.ended
    step = net._opt_state["step"]
    assert 30 <= step < 50 * 30
    _history_covers_completed_epochs(net, 30)
    _consistent_with_replay(net, X, y, 10)
    net.fit(X, y, epochs=1, batch_size=10, shuffle=False, optimizer=Adam(lr=1e-3), verbose=0)
    assert net._opt_state["step"] == step + 30 and not net.interrupted_  # usable


@pytest.mark.skipif(not hasattr(signal, "SIGINT") or os.name != "posix",
                    reason="needs POSIX signals")
def test_sigint_during_the_c_loop():
    """A real SIGINT, delivered while C runs a chunk: Python sees it only after the chunk,
    so the model is at a completed step."""
    rng = np.random.default_rng(1)
    X, y = rng.standard_normal((4000, 20)), rng.integers(0, 3, 4000)
    running, started = threading.Event(), threading.Event()

    class Gate(Callback):
        t0 = 0.0

        def on_train_begin(self, logs):
            running.set()
            started.set()
            self.t0 = time.perf_counter()

        def on_batch_end(self, batch, logs):  # a safety net: never run away
            if time.perf_counter() - self.t0 > 60:
                self.model.stop_training = True

    def ctrl_c():
        started.wait(600)
        time.sleep(0.4)
        if running.is_set():
            os.kill(os.getpid(), signal.SIGINT)

    th = threading.Thread(target=ctrl_c)
    th.start()
    net = MLP([20, 32, 32, 3], seed=2, dtype=np.float32, dropout=0.1)
    try:
        with pytest.warns(RuntimeWarning, match="training interrupted"):
            net.fit(X, y, epochs=10**6, batch_size=16, shuffle=False, optimizer=Adam(lr=1e-3),
                    callbacks=[Gate()], verbose=0)
    finally:
        running.clear()
        th.join()
    assert net.interrupted_
    _history_covers_completed_epochs(net, 250)
    _consistent_with_replay(net, X, y, 16)
    assert np.isfinite(net.predict_proba(X[:5])).all()
