"""The callback protocol, early stopping with best-weight restoration, checkpointing,
a user-defined callback, and stopping training cleanly from a callback."""
from __future__ import annotations

import numpy as np
import pytest

from fastmlp import MLP
from fastmlp.callbacks import Callback, EarlyStopping, LambdaCallback, ModelCheckpoint
from fastmlp.optim import SGD, Adam


def _data(n=120, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, 5))
    y = (X[:, 0] + 0.5 * X[:, 1] ** 2 > 0.3).astype(int)
    return X, y


class Recorder(Callback):
    """A user-defined callback: records every call."""

    def __init__(self):
        self.calls = []

    def on_train_begin(self, logs):
        self.calls.append(("train_begin", self.model is not None))

    def on_epoch_begin(self, epoch, logs):
        self.calls.append(("epoch_begin", epoch))

    def on_batch_end(self, batch, logs):
        self.calls.append(("batch_end", batch, round(logs["loss"], 12)))

    def on_epoch_end(self, epoch, logs):
        self.calls.append(("epoch_end", epoch, dict(logs)))

    def on_train_end(self, logs):
        self.calls.append(("train_end",))


def test_protocol_order_and_logs():
    X, y = _data()
    rec = Recorder()
    net = MLP([5, 8, 2], seed=0).fit(X, y, epochs=3, batch_size=10, validation_split=0.25,
                                     callbacks=[rec], verbose=0, optimizer="sgd")
    kinds = [c[0] for c in rec.calls]
    assert kinds[0] == "train_begin" and rec.calls[0][1] and kinds[-1] == "train_end"
    epochs = [c for c in rec.calls if c[0] == "epoch_end"]
    assert [c[1] for c in epochs] == [0, 1, 2]
    for e in range(3):  # each epoch: begin, >= 1 chunk ends reaching all 9 batches, end
        i0 = rec.calls.index(("epoch_begin", e))
        i1 = next(i for i, c in enumerate(rec.calls) if c[0] == "epoch_end" and c[1] == e)
        batches = [c[1] for c in rec.calls[i0 + 1:i1]]
        assert batches and batches == sorted(batches) and batches[-1] == 9
        row = epochs[e][2]
        assert row["loss"] == pytest.approx(net.history_["loss"][e])
        assert row["val_accuracy"] == pytest.approx(net.history_["val_accuracy"][e])
        # the last chunk's running loss is the epoch's loss
        assert rec.calls[i1 - 1][2] == pytest.approx(row["loss"])


def test_callback_stops_after_an_epoch():
    X, y = _data()
    stopper = LambdaCallback(on_epoch_end=lambda e, logs: setattr(net, "stop_training", e == 1))
    ends = []
    net = MLP([5, 8, 2], seed=0)
    net.fit(X, y, epochs=10, batch_size=12, verbose=0,
            callbacks=[stopper, LambdaCallback(on_train_end=lambda logs: ends.append(1))],
                optimizer="sgd")
    assert len(net.history_["loss"]) == 2 and ends == [1] and not net.interrupted_
    assert net._opt_state["step"] == 2 * 10


def test_callback_stops_mid_epoch_cleanly():
    """Stopped from on_batch_end: the epoch ends after the chunk in flight, its row is
    recorded from the batches done, the step count matches and the model is usable."""
    X, y = _data(400)

    class StopAfter(Callback):
        def on_batch_end(self, batch, logs):
            if batch >= 7:
                self.model.stop_training = True
                self.at = batch

    cb = StopAfter()
    net = MLP([5, 8, 2], seed=0).fit(X, y, epochs=5, batch_size=4, callbacks=[cb], verbose=0,
                                     optimizer="sgd")
    assert len(net.history_["loss"]) == 1
    assert net._opt_state["step"] == cb.at < 100
    assert np.isfinite(net._params).all()
    net.fit(X, y, epochs=1, batch_size=4, verbose=0, optimizer="sgd")  # continues from there
    assert net._opt_state["step"] == cb.at + 100


@pytest.mark.parametrize("how", ["split", "data"])
def test_early_stopping_restores_the_best_weights(how):
    X, y = _data(300, seed=1)
    Xv, yv = _data(100, seed=2)
    kw = {"validation_split": 0.25} if how == "split" else {"validation_data": (Xv, yv)}
    es = EarlyStopping(monitor="val_loss", patience=3, restore_best_weights=True)
    net = MLP([5, 64, 2], seed=0)  # a large rate makes the validation loss wander
    net.fit(X, y, epochs=200, batch_size=8, optimizer=SGD(lr=0.5, momentum=0.9),
            callbacks=[es], verbose=0, **kw)
    h = net.history_["val_loss"]
    assert es.stopped_epoch == len(h) - 1 < 199
    assert es.best_epoch == int(np.argmin(h)) == len(h) - 1 - 3  # patience epochs after best
    assert es.best == pytest.approx(min(h))
    Xe, ye = (X[-75:], y[-75:]) if how == "split" else (Xv, yv)
    assert net.evaluate(Xe, ye)["loss"] == pytest.approx(min(h), rel=1e-5)  # best weights back
    per_epoch = 29 if how == "split" else 38  # ceil(225 / 8), ceil(300 / 8) batches
    assert net._opt_state["step"] == (es.best_epoch + 1) * per_epoch  # its optimizer state too


def test_early_stopping_min_delta_and_mode():
    es = EarlyStopping(monitor="val_accuracy", min_delta=0.05, patience=1)
    net = MLP([2, 2], seed=0)
    es.set_model(net)
    es.on_train_begin({})
    for e, acc in enumerate([0.5, 0.6, 0.63, 0.7, 0.72]):
        es.on_epoch_end(e, {"val_accuracy": acc, "loss": 1.0})
        if net.stop_training:
            break
    # 'auto' maximises accuracy; 0.63 is not 0.05 better than 0.6 -> stop after patience 1
    assert es.best == 0.6 and es.best_epoch == 1 and es.stopped_epoch == 2
    with pytest.raises(ValueError, match="monitors 'val_loss'"):
        bad = EarlyStopping(monitor="val_loss")
        bad.set_model(net)
        bad.on_train_begin({})
        bad.on_epoch_end(0, {"loss": 1.0})
    with pytest.raises(ValueError, match="patience must be an int"):
        EarlyStopping(patience=-1)


def test_model_checkpoint_saves_the_best(tmp_path):
    X, y = _data(200, seed=3)
    ck = ModelCheckpoint(tmp_path / "best.npz", save_best_only=True)
    every = ModelCheckpoint(str(tmp_path / "e{epoch:02d}-{loss:.3f}.npz"))
    net = MLP([5, 8, 2], seed=0).fit(X, y, epochs=4, validation_split=0.2, optimizer=Adam(lr=0.01),
                                     callbacks=[ck, every], verbose=0)
    assert len(every.saved) == 4 and every.saved[0].startswith(str(tmp_path / "e01-"))
    assert 1 <= len(ck.saved) <= 4 and ck.best == pytest.approx(min(net.history_["val_loss"]))
    best = MLP.load(tmp_path / "best.npz")
    assert best.evaluate(X[-40:], y[-40:])["loss"] == pytest.approx(ck.best, rel=1e-5)


def test_callbacks_must_be_callbacks():
    X, y = _data(20)
    rec = Recorder()
    MLP([5, 2]).fit(X, y, epochs=1, callbacks=rec, verbose=False,
                    optimizer="sgd")  # one object is fine
    assert rec.calls[-1] == ("train_end",)
    with pytest.raises(ValueError, match="Callback instances"):
        MLP([5, 2]).fit(X, y, callbacks=[lambda *a: None], verbose=0, optimizer="sgd", epochs=10)
