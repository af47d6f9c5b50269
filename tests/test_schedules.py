"""Learning-rate schedules (formulas restated, torch's schedulers where installed),
per-batch schedules in the C loop, and the learning-rate finder."""
from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

from fastmlp import MLP
from fastmlp import _driver
from fastmlp import reference as ref
from fastmlp.optim import SGD, Adam
from fastmlp.schedules import (ChainedScheduler, Constant, CosineAnnealingLR,
                               CosineAnnealingWarmRestarts, ExponentialLR, InverseScaling,
                               LinearLR, LRFinderResult, OneCycle, ReduceLROnPlateau,
                               SequentialLR, StepLR, get_schedule)
from fastmlp.testing import assert_close, require_peer


def _lrs(s, epochs=7, base=0.5, spe=3, n=30):
    s.begin(base, epochs, spe, n)
    return [s.lr(e) for e in range(epochs)]


def test_per_epoch_formulas():
    assert _lrs(Constant()) == [0.5] * 7
    assert _lrs(StepLR(3, 0.1)) == pytest.approx([0.5, 0.5, 0.5, 0.05, 0.05, 0.05, 0.005])
    assert _lrs(ExponentialLR(0.9)) == pytest.approx([0.5 * 0.9**e for e in range(7)])
    # sklearn's invscaling: lr = base / (t + 1)^power_t, t = samples seen before the epoch
    assert _lrs(InverseScaling(0.5)) == pytest.approx([0.5 / math.sqrt(30 * e + 1)
                                                       for e in range(7)])


def test_step_and_exponential_match_torch():
    torch = pytest.importorskip("torch", reason="compare with torch.optim.lr_scheduler")
    for mine, make in [(StepLR(2, 0.5), lambda o: torch.optim.lr_scheduler.StepLR(o, 2, 0.5)),
                       (ExponentialLR(0.8), lambda o: torch.optim.lr_scheduler.ExponentialLR(o, 0.8))]:
        opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.3)
        sched, theirs = make(opt), []
        for _ in range(6):
            theirs.append(opt.param_groups[0]["lr"])
            opt.step()
            sched.step()
        assert _lrs(mine, 6, 0.3) == pytest.approx(theirs)


METRICS = [1.0, 0.9, 0.95, 0.95, 0.96, 0.97, 0.5, 0.6, 0.6, 0.7, 0.7, 0.7, 0.8, 0.8, 0.8]


@pytest.mark.parametrize("kw", [dict(patience=2), dict(patience=1, cooldown=2, factor=0.5),
                                dict(patience=0, threshold=0.2, threshold_mode="abs",
                                     min_lr=0.02),
                                dict(mode="max", patience=1)])
def test_reduce_on_plateau_matches_torch(kw):
    torch = pytest.importorskip("torch", reason="compare with torch's ReduceLROnPlateau")
    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=1.0)
    sched = torch.optim.lr_scheduler.ReduceLROnPlateau(opt, **kw)
    mine = ReduceLROnPlateau(monitor="val_loss", **kw)
    mine.begin(1.0, len(METRICS), 1, 1)
    for e, m in enumerate(METRICS):
        assert mine.lr(e) == pytest.approx(opt.param_groups[0]["lr"]), e
        sched.step(m)
        mine.epoch_end(e, {"val_loss": m})


def test_reduce_on_plateau_by_hand_and_monitor_errors():
    s = ReduceLROnPlateau(patience=1, factor=0.5)
    s.begin(1.0, 10, 1, 1)
    seen = []
    for e, loss in enumerate([3.0, 2.0, 2.0, 2.0, 2.0, 1.0]):
        seen.append(s.lr(e))
        s.epoch_end(e, {"loss": loss})  # 'auto' falls back to 'loss' without validation
    # improvement at 0, 1; bad at 2, 3 (> patience 1 after 2 bad) -> halve; bad 4,... -> 5 halves
    assert seen == [1.0, 1.0, 1.0, 1.0, 0.5, 0.5]
    with pytest.raises(ValueError, match="monitors 'val_accuracy'"):
        ReduceLROnPlateau(monitor="val_accuracy").epoch_end(0, {"loss": 1.0}) or None


def test_one_cycle_shape():
    """fastai's 1cycle: half-cosines lr max/div -> max -> max/div_final and moms reversed,
    position = batches done / total batches."""
    s = OneCycle(max_lr=1.0, pct_start=0.25, div=25.0, div_final=1e5)
    s.begin(0.1, 4, 25, 100)
    lrs = np.concatenate([s.batch_lrs(e, 0, 25) for e in range(4)])
    moms = np.concatenate([s.batch_moms(e, 0, 25) for e in range(4)])
    pos = np.arange(100) / 100

    def cos_phase(a, b, u):  # a + (b - a)(1 - cos(pi u))/2
        return a + (b - a) * (1 - np.cos(np.pi * u)) / 2
    want = np.where(pos < 0.25, cos_phase(1 / 25, 1.0, pos / 0.25),
                    cos_phase(1.0, 1e-5, (pos - 0.25) / 0.75))
    np.testing.assert_allclose(lrs, want, rtol=1e-12)
    assert lrs[0] == pytest.approx(1 / 25) and lrs.max() == pytest.approx(1.0)
    assert np.argmax(lrs) == 25 and lrs[-1] < 1e-3
    np.testing.assert_allclose(moms, np.where(pos < 0.25, cos_phase(0.95, 0.85, pos / 0.25),
                                              cos_phase(0.85, 0.95, (pos - 0.25) / 0.75)))
    # split into any chunks: the same values
    assert np.array_equal(np.concatenate([s.batch_lrs(1, 0, 7), s.batch_lrs(1, 7, 18)]),
                          s.batch_lrs(1, 0, 25))


def _replay_sgd(p0, lr, X, y, lrs, moms=None):
    """The reference replay of a [4, 6, 3] relu/softmax net trained by SGD (momentum 0.9)
    for three epochs of 12 batches of 4 unshuffled rows, at the per-batch rates given."""
    p, st = p0, {"step": 0}
    Y = np.eye(3)[y]
    for e in range(3):
        part = slice(12 * e, 12 * e + 12)
        p, st, _ = ref.train_chunk(p, {"kind": "sgd", "lr": lr, "momentum": 0.9}, [4, 6, 3],
                                   ["relu", "softmax"], [0.01] * 2, {"loss": "cce"}, X, Y, None,
                                   None, 0, 12, 4, st, lr_steps=lrs[part],
                                   mom_steps=None if moms is None else moms[part])
    return p


def test_one_cycle_runs_per_batch_in_c_and_chunking_does_not_matter(monkeypatch):
    """fit_one_cycle passes per-batch lr and momentum arrays to C: equal to the reference run
    with the same arrays, whatever the chunk sizes."""
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((45, 4)), rng.integers(0, 3, 45)
    kw = dict(epochs=3, max_lr=0.05, batch_size=4, shuffle=False,
              optimizer=SGD(lr=0.01, momentum=0.9), verbose=0)
    net = MLP([4, 6, 3], seed=1, dtype=np.float64)
    p0 = net._params.copy()
    net.fit_one_cycle(X, y, **kw)
    monkeypatch.setattr(_driver.Chunking, "next",
                        lambda self, b, t, n: setattr(self, "size", 1 + (self.size % 3)))
    other = MLP([4, 6, 3], seed=1, dtype=np.float64).fit_one_cycle(X, y, **kw)
    assert np.array_equal(net._params, other._params)
    s = OneCycle(max_lr=0.05)
    s.begin(0.01, 3, 12, 45)
    lrs = np.concatenate([s.batch_lrs(e, 0, 12) for e in range(3)])
    moms = np.concatenate([s.batch_moms(e, 0, 12) for e in range(3)])
    p = _replay_sgd(p0, 0.01, X, y, lrs, moms)
    assert_close(net._params, p, np.float64, kind="trajectory")
    assert net.history_["lr"][-1] == pytest.approx(lrs[-1])


def test_fit_records_the_schedule_and_adagrad_lr_decay():
    rng = np.random.default_rng(1)
    X, y = rng.standard_normal((20, 3)), rng.integers(0, 2, 20)
    net = MLP([3, 4, 2], seed=0).fit(X, y, epochs=5, optimizer=SGD(lr=0.2),
                                     lr_schedule=ExponentialLR(0.5), verbose=0)
    assert net.history_["lr"] == pytest.approx([0.2 * 0.5**e for e in range(5)])
    net = MLP([3, 4, 2], seed=0).fit(X, y, epochs=3, optimizer="sgd", learning_rate=0.1,
                                     lr_schedule="step", verbose=0)
    assert net.history_["lr"] == pytest.approx([0.1] * 3)
    # plateau on the training loss: only a 99% drop counts as improvement, so after the
    # first epoch every epoch is bad and (patience 0) halves the rate for the next one
    rng = np.random.default_rng(2)
    X, Y = rng.standard_normal((30, 3)), rng.standard_normal((30, 2))
    net = MLP([3, 5, 2], seed=0, activation="tanh", dtype=np.float64)
    net.fit(X, Y, epochs=4, batch_size=30, verbose=0,
            lr_schedule=ReduceLROnPlateau(patience=0, factor=0.5, threshold=0.99), optimizer="sgd")
    assert net.history_["lr"] == pytest.approx([0.01, 0.01, 0.005, 0.0025])


def test_get_schedule_names_and_errors():
    assert isinstance(get_schedule(None), Constant)
    assert isinstance(get_schedule("one-cycle"), OneCycle)
    assert isinstance(get_schedule("plateau"), ReduceLROnPlateau)
    with pytest.raises(ValueError, match="lr_schedule must be"):
        get_schedule("cosine-restarts")
    with pytest.raises(ValueError, match="'gamma' parameter of StepLR"):
        StepLR(2, gamma=0)
    with pytest.raises(ValueError, match="'pct_start' parameter of OneCycle"):
        OneCycle(pct_start=1.0)


def test_lr_find_sweeps_restores_and_suggests(tmp_path):
    rng = np.random.default_rng(3)
    X = rng.standard_normal((400, 6))
    y = (X[:, 0] - X[:, 1] > 0).astype(int)
    net = MLP([6, 16, 2], seed=0)
    net.fit(X, y, epochs=1, optimizer=Adam(lr=1e-3), verbose=0)
    before = (net._params.copy(), net._opt_state["step"], net._rng.bit_generator.state,
              dict(net.history_))
    res = net.lr_find(X, y, start_lr=1e-5, end_lr=10.0, num_it=80, optimizer="sgd")
    assert np.array_equal(net._params, before[0]) and net._opt_state["step"] == before[1]
    assert net._rng.bit_generator.state == before[2] and net.history_ == before[3]
    assert len(res.lrs) == len(res.losses) == len(res.raw_losses) <= 80
    assert np.all(np.diff(res.lrs) > 0) and res.lrs[0] == pytest.approx(1e-5)
    np.testing.assert_allclose(res.lrs, 1e-5 * 1e6 ** (np.arange(len(res.lrs)) / 80))
    assert 1e-5 < res.suggestion < 10 and set(res.suggestions) == {"valley", "steep", "minimum"}
    # the loss falls somewhere in the sweep, then (SGD at rate 10) blows up and stops early
    assert res.losses.min() < 0.8 * np.median(res.losses[:10])
    big = net.lr_find(X, y, start_lr=1e-3, end_lr=1e4, num_it=100, optimizer="sgd")
    assert len(big.lrs) < 100
    pytest.importorskip("matplotlib", reason="plotting needs matplotlib")
    fig = res.plot(tmp_path / "lr.png")
    assert (tmp_path / "lr.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert fig.axes[0].get_xscale() == "log"


def test_lr_finder_smoothing_and_valley():
    raw = np.array([5.0, 4.0, 3.0, 2.0, 1.0, 2.0, 4.0, 8.0])
    res = LRFinderResult.from_run(np.logspace(-4, 0, 8), raw, beta=0.5)
    # debiased EMA: avg_i = 0.5 avg + 0.5 x_i, reported as avg_i / (1 - 0.5^(i+1))
    avg, want = 0.0, []
    for i, v in enumerate(raw):
        avg = 0.5 * avg + 0.5 * v
        want.append(avg / (1 - 0.5 ** (i + 1)))
    np.testing.assert_allclose(res.losses, want)
    with pytest.raises(ValueError, match="end_lr must exceed start_lr"):
        MLP([2, 2]).lr_find(np.zeros((4, 2)), [0, 1, 0, 1], start_lr=1.0, end_lr=0.1,
                            optimizer="sgd")


# ---- torch's closed forms: cosine, warm restarts, linear warmup, their combinations ----------

def _seq(s, steps, base=0.5, epochs=None):
    """The rates of ``steps`` consecutive steps (epochs of one batch)."""
    s.begin(base, epochs or steps, 1, 10)
    return np.array([s.lr(e) for e in range(steps)])


def test_cosine_and_linear_closed_forms_by_hand():
    lrs = _seq(CosineAnnealingLR(T_max=4, eta_min=0.1), 9)
    # eta_min + (base - eta_min)(1 + cos(pi t / T_max))/2, and on past T_max (period 2 T_max)
    np.testing.assert_allclose(lrs, [0.5, 0.1 + 0.4 * (1 + math.sqrt(0.5)) / 2, 0.3,
                                     0.1 + 0.4 * (1 - math.sqrt(0.5)) / 2, 0.1,
                                     0.1 + 0.4 * (1 - math.sqrt(0.5)) / 2, 0.3,
                                     0.1 + 0.4 * (1 + math.sqrt(0.5)) / 2, 0.5], rtol=1e-14)
    # T_max=None anneals over the whole fit
    np.testing.assert_allclose(_seq(CosineAnnealingLR(), 5), 0.5 * (1 + np.cos(np.pi * np.arange(5)
                                                                              / 5)) / 2)
    # linear warmup 0.25 -> 1 over 3 steps, then flat; and a linear decay
    np.testing.assert_allclose(_seq(LinearLR(0.25, 1.0, 3), 6),
                               [0.125, 0.25, 0.375, 0.5, 0.5, 0.5], rtol=1e-14)
    np.testing.assert_allclose(_seq(LinearLR(1.0, 0.0, 4), 6), [0.5, 0.375, 0.25, 0.125, 0, 0],
                               atol=1e-15)


def test_warm_restarts_cycles_by_hand():
    s = CosineAnnealingWarmRestarts(T_0=2, T_mult=2, eta_min=0.0)
    s.begin(1.0, 20, 1, 1)
    cur, length = s.cycle(np.arange(16))
    # cycles of 2, 4, 8 steps starting at 0, 2, 6, 14
    assert cur.tolist() == [0, 1, 0, 1, 2, 3, 0, 1, 2, 3, 4, 5, 6, 7, 0, 1]
    assert length.tolist() == [2, 2, 4, 4, 4, 4, 8, 8, 8, 8, 8, 8, 8, 8, 16, 16]
    lrs = _seq(s, 16, base=1.0)
    np.testing.assert_allclose(lrs, (1 + np.cos(np.pi * cur / length)) / 2, rtol=1e-14)
    assert lrs[[0, 2, 6, 14]].tolist() == [1.0, 1.0, 1.0, 1.0]
    flat = _seq(CosineAnnealingWarmRestarts(3, eta_min=0.2), 7, base=1.0)  # T_mult=1: period 3
    np.testing.assert_allclose(flat, 0.2 + 0.8 * (1 + np.cos(np.pi * (np.arange(7) % 3) / 3)) / 2)


def test_sequential_and_chained_by_hand():
    warm, cos = LinearLR(0.1, 1.0, 2), CosineAnnealingLR(T_max=4)
    lrs = _seq(SequentialLR([warm, cos], milestones=[2]), 8, base=1.0)
    # the cosine restarts its count at the milestone
    np.testing.assert_allclose(lrs, [0.1, 0.55, 1.0, (1 + math.sqrt(0.5)) / 2, 0.5,
                                     (1 - math.sqrt(0.5)) / 2, 0.0, (1 - math.sqrt(0.5)) / 2],
                               atol=1e-15)
    # inside SequentialLR a cosine without T_max anneals over its own stretch: 2 + 6 = 8 steps
    lrs = _seq(SequentialLR([LinearLR(0.5, 1.0, 2), CosineAnnealingLR()], [2]), 8, base=1.0)
    np.testing.assert_allclose(lrs[2:], (1 + np.cos(np.pi * np.arange(6) / 6)) / 2)
    # three stretches, a flat one between
    lrs = _seq(SequentialLR([LinearLR(0.5, 1.0, 2), Constant(), ExponentialLR(0.5)], [2, 4]), 7,
               base=1.0)
    np.testing.assert_allclose(lrs, [0.5, 0.75, 1, 1, 1, 0.5, 0.25])
    # chained: the factors multiply
    lrs = _seq(ChainedScheduler([LinearLR(0.5, 1.0, 2), ExponentialLR(0.5)]), 4, base=2.0)
    np.testing.assert_allclose(lrs, [1.0, 0.75, 0.5, 0.25])


def test_per_batch_closed_forms_count_batches_and_ignore_chunking():
    s = SequentialLR([LinearLR(0.1, 1.0, 5, interval="batch"),
                      CosineAnnealingWarmRestarts(4, 2, 0.01, interval="batch")], milestones=[5])
    assert s.per_batch and s.interval == "batch"
    s.begin(0.3, 3, 7, 70)  # 3 epochs of 7 batches
    whole = np.concatenate([s.batch_lrs(e, 0, 7) for e in range(3)])
    split = np.concatenate([np.concatenate([s.batch_lrs(e, 0, 3), s.batch_lrs(e, 3, 1),
                                            s.batch_lrs(e, 4, 3)]) for e in range(3)])
    assert np.array_equal(whole, split)
    t = np.arange(21)
    cur, length = CosineAnnealingWarmRestarts(4, 2).cycle(np.maximum(t - 5, 0))
    want = np.where(t < 5, 0.3 * (0.1 + 0.9 * np.minimum(t, 5) / 5),
                    0.01 + 0.29 * (1 + np.cos(np.pi * cur / length)) / 2)
    np.testing.assert_allclose(whole, want, rtol=1e-14)
    # a per-batch cosine without T_max anneals over every batch of the fit
    c = CosineAnnealingLR(interval="step")  # Lightning's name for a batch
    c.begin(1.0, 2, 5, 50)
    np.testing.assert_allclose(np.concatenate([c.batch_lrs(e, 0, 5) for e in range(2)]),
                               (1 + np.cos(np.pi * np.arange(10) / 10)) / 2)


def test_closed_form_errors():
    with pytest.raises(ValueError, match="'interval' parameter of CosineAnnealingLR"):
        CosineAnnealingLR(interval="iteration")
    with pytest.raises(ValueError, match="'T_0' parameter of CosineAnnealingWarmRestarts"):
        CosineAnnealingWarmRestarts(0)
    with pytest.raises(ValueError, match="'T_mult' parameter"):
        CosineAnnealingWarmRestarts(2, T_mult=1.5)
    with pytest.raises(ValueError, match="'start_factor' parameter of LinearLR"):
        LinearLR(start_factor=0)
    with pytest.raises(ValueError, match="'end_factor' parameter of LinearLR"):
        LinearLR(end_factor=1.5)
    with pytest.raises(ValueError, match="different intervals"):
        SequentialLR([LinearLR(interval="batch"), CosineAnnealingLR()], [5])
    with pytest.raises(ValueError, match="'milestones' parameter of SequentialLR"):
        SequentialLR([LinearLR(), CosineAnnealingLR()], [5, 6])
    with pytest.raises(ValueError, match="'milestones' parameter of SequentialLR"):
        SequentialLR([LinearLR(), CosineAnnealingLR(), StepLR()], [5, 5])
    with pytest.raises(ValueError, match="combines closed-form schedules"):
        ChainedScheduler([LinearLR(), ReduceLROnPlateau()])
    with pytest.raises(ValueError, match="must not be empty"):
        ChainedScheduler([])
    assert isinstance(get_schedule("cosine"), CosineAnnealingLR)
    assert isinstance(get_schedule("LinearLR"), LinearLR)


def _torch_lrs(torch, make, steps, base):
    """torch's rates for ``steps`` steps: lr read before each optimizer step, then the
    scheduler steps (the loop torch's docs show)."""
    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=base)
    with warnings.catch_warnings():  # SequentialLR's internal step(0) warns (deprecated form)
        warnings.simplefilter("ignore")
        sched = make(opt)
        out = []
        for _ in range(steps):
            out.append(opt.param_groups[0]["lr"])
            opt.step()
            sched.step()
    return np.array(out)


def test_closed_forms_match_torch():
    torch = require_peer("torch", "compare with torch.optim.lr_scheduler")
    L = torch.optim.lr_scheduler
    cases = [
        (CosineAnnealingLR(10, 0.01), lambda o: L.CosineAnnealingLR(o, 10, 0.01), 35),
        (CosineAnnealingLR(7), lambda o: L.CosineAnnealingLR(o, 7), 20),
        (CosineAnnealingWarmRestarts(3, 2, 0.001),
         lambda o: L.CosineAnnealingWarmRestarts(o, 3, 2, 0.001), 40),
        (CosineAnnealingWarmRestarts(5), lambda o: L.CosineAnnealingWarmRestarts(o, 5), 17),
        (LinearLR(0.25, 1.0, 4), lambda o: L.LinearLR(o, 0.25, 1.0, 4), 9),
        (LinearLR(1.0, 0.1, 5), lambda o: L.LinearLR(o, 1.0, 0.1, 5), 9),
        (SequentialLR([LinearLR(0.1, 1.0, 3), CosineAnnealingLR(7, 0.02)], [3]),
         lambda o: L.SequentialLR(o, [L.LinearLR(o, 0.1, 1.0, 3), L.CosineAnnealingLR(o, 7, 0.02)],
                                  [3]), 16),
        (SequentialLR([LinearLR(0.5, 1.0, 2), ExponentialLR(0.8), StepLR(2, 0.5)], [4, 7]),
         lambda o: L.SequentialLR(o, [L.LinearLR(o, 0.5, 1.0, 2), L.ExponentialLR(o, 0.8),
                                      L.StepLR(o, 2, 0.5)], [4, 7]), 12),
        (ChainedScheduler([LinearLR(0.2, 1.0, 4), ExponentialLR(0.9)]),
         lambda o: L.ChainedScheduler([L.LinearLR(o, 0.2, 1.0, 4), L.ExponentialLR(o, 0.9)]), 10),
        (ChainedScheduler([LinearLR(0.2, 1.0, 3), CosineAnnealingLR(8)]),
         lambda o: L.ChainedScheduler([L.LinearLR(o, 0.2, 1.0, 3), L.CosineAnnealingLR(o, 8)]), 12),
    ]
    for mine, make, steps in cases:
        theirs = _torch_lrs(torch, make, steps, 0.3)
        np.testing.assert_allclose(_seq(mine, steps, base=0.3), theirs, rtol=1e-9, atol=1e-12,
                                   err_msg=repr(mine))


def test_per_batch_schedule_follows_the_reference_whatever_the_chunks(monkeypatch):
    """A per-batch warmup + cosine schedule reaches C as an array of rates per chunk:
    the same weights for any chunking, equal to the reference replay with those rates."""
    rng = np.random.default_rng(4)
    X, y = rng.standard_normal((45, 4)), rng.integers(0, 3, 45)
    sched = SequentialLR([LinearLR(0.1, 1.0, 6, interval="batch"),
                          CosineAnnealingWarmRestarts(5, 2, 0.001, interval="batch")], [6])
    kw = dict(epochs=3, batch_size=4, shuffle=False, lr_schedule=sched,
              optimizer=SGD(lr=0.05, momentum=0.9), verbose=0)
    net = MLP([4, 6, 3], seed=1, dtype=np.float64)
    p0 = net._params.copy()
    net.fit(X, y, **kw)
    monkeypatch.setattr(_driver.Chunking, "next",
                        lambda self, b, t, n: setattr(self, "size", 1 + (self.size % 3)))
    other = MLP([4, 6, 3], seed=1, dtype=np.float64).fit(X, y, **kw)
    assert np.array_equal(net._params, other._params)
    sched.begin(0.05, 3, 12, 45)
    lrs = np.concatenate([sched.batch_lrs(e, 0, 12) for e in range(3)])
    p = _replay_sgd(p0, 0.05, X, y, lrs)
    assert_close(net._params, p, np.float64, kind="trajectory")
    assert net.history_["lr"] == pytest.approx(lrs[11::12].tolist())


def test_fit_with_a_named_cosine_records_it_per_epoch():
    rng = np.random.default_rng(5)
    X, y = rng.standard_normal((20, 3)), rng.integers(0, 2, 20)
    net = MLP([3, 4, 2], seed=0).fit(X, y, epochs=5, optimizer=SGD(lr=0.1), lr_schedule="cosine",
                                     verbose=0)
    assert net.history_["lr"] == pytest.approx([0.05 * (1 + math.cos(math.pi * e / 5))
                                                for e in range(5)])
    # per-epoch warm restarts: lr back at the base after each cycle of 2 epochs
    net.fit(X, y, epochs=4, optimizer=SGD(lr=0.1), verbose=0,
            lr_schedule=CosineAnnealingWarmRestarts(2, eta_min=0.02))
    assert net.history_["lr"][5:] == pytest.approx([0.1, 0.06, 0.1, 0.06])


def test_per_batch_warmup_and_cosine_follow_the_pytorch_trajectory():
    """Adam with LinearLR warmup then CosineAnnealingLR, stepped after every batch in torch
    (scheduler.step() after optimizer.step()): the same weights in float64."""
    torch = require_peer("torch", "trajectory parity with PyTorch")
    L = torch.optim.lr_scheduler
    rng = np.random.default_rng(6)
    X, y = rng.standard_normal((24, 3)), rng.integers(0, 3, 24)
    net = MLP([3, 7, 3], activation="tanh", loss="cce", dtype=np.float64, seed=4)
    (i, h), (_, o) = net._shapes()
    tnet = torch.nn.Sequential(torch.nn.Linear(i, h), torch.nn.Tanh(),
                               torch.nn.Linear(h, o)).double()
    with torch.no_grad():
        for lin, w, b in zip((tnet[0], tnet[2]), net.coefs_, net.intercepts_):
            lin.weight.copy_(torch.tensor(w.T))
            lin.bias.copy_(torch.tensor(b))
    topt = torch.optim.Adam(tnet.parameters(), lr=0.05)
    tX, ty = torch.tensor(X), torch.tensor(y)
    with warnings.catch_warnings():  # SequentialLR's internal step(0) warns (deprecated form)
        warnings.simplefilter("ignore")
        tsched = L.SequentialLR(topt, [L.LinearLR(topt, 0.1, 1.0, 4),
                                       L.CosineAnnealingLR(topt, 10)], [4])
        for _ in range(4):
            for lo in range(0, 24, 6):
                topt.zero_grad()
                torch.nn.functional.cross_entropy(tnet(tX[lo:lo + 6]), ty[lo:lo + 6]).backward()
                topt.step()
                tsched.step()
    sched = SequentialLR([LinearLR(0.1, 1.0, 4, interval="batch"),
                          CosineAnnealingLR(10, interval="batch")], [4])
    net.fit(X, y, epochs=4, batch_size=6, shuffle=False, optimizer=Adam(lr=0.05),
            lr_schedule=sched, verbose=0)
    for lin, w, b in zip((tnet[0], tnet[2]), net.coefs_, net.intercepts_):
        assert_close(w, lin.weight.detach().numpy().T, np.float64, kind="trajectory", what="W")
        assert_close(b, lin.bias.detach().numpy(), np.float64, kind="trajectory", what="b")
