"""benchmarks/harness.py (``fastmlp bench``) and the peak probe work, and their parity checks can fail.

No timing is asserted here (speed goals live in benchmarks/ and
``fastmlp bench`` only): these tests run the script on its smallest row in
--quick mode, break a kernel's result on purpose to see the row aborted, and
check the pieces the table is built from (the textbook NumPy step against
fastmlp.reference, the peers' parity, the probe's operation count).
"""
from __future__ import annotations

import json

import numpy as np
import pytest

from fastmlp import _core as core
from benchmarks import harness as bench
from fastmlp import reference as ref
from fastmlp.testing import assert_close

QUICK = ["--quick", "--rows", "A/1/1", "--dtype", "float32", "--peers", "numpy"]


def test_quick_run_prints_the_table_and_writes_json(tmp_path, capsys):
    out = tmp_path / "bench.json"
    assert bench.main([*QUICK, "--json", str(out), "--markdown"]) == 0
    text = capsys.readouterr().out
    assert "A/1/1" in text and "goals:" in text and "measured peak GFLOP/s" in text
    assert "| A/1/1 | " in text and "| goal | measured | met |" in text  # the Markdown copy
    doc = json.loads(out.read_text())
    assert doc["parity_failures"] == []
    (row,) = doc["rows"]
    assert row["row"] == "A/1/1" and row["dtype"] == "float32" and row["goal_us"] == 4.0
    assert set(row["peers"]) == {"numpy"}
    for t in (row["fastmlp"], row["fastmlp_per_call"], row["peers"]["numpy"]):
        assert t["best"] > 0 and t["steps"] >= 1 and t["repeats"] >= 1
    assert row["flops"] == bench.step_flops((784, 16, 16, 10), 1)
    assert doc["peak_gflops"]["float32/1"] > 0
    assert doc["goals"][0]["goal"].startswith("A/1/1 float32 <= 4 us/step")


def test_a_wrong_training_kernel_aborts_its_row(monkeypatch, tmp_path, capsys):
    real_train = core.train

    def wrong_train(call):  # a kernel whose update is slightly off
        r = real_train(call)
        params = call["params"]
        params[: params.size // 2] *= 1.001
        return r

    monkeypatch.setattr(core, "train", wrong_train)
    out = tmp_path / "bench.json"
    assert bench.main([*QUICK, "--json", str(out)]) == 1
    cap = capsys.readouterr()
    assert "PARITY FAILED: A/1/1 float32, fastmlp" in cap.err
    assert "PARITY FAILED in 1 row(s)" in cap.out
    doc = json.loads(out.read_text())
    assert doc["rows"] == [] and doc["parity_failures"][0]["row"] == "A/1/1"


def test_a_wrong_forward_kernel_aborts_the_inference_row(monkeypatch, capsys):
    real_forward = core.forward_net

    def wrong_forward(out, *args, **kw):
        real_forward(out, *args, **kw)
        out[0, 0] += 0.01

    monkeypatch.setattr(core, "forward_net", wrong_forward)
    argv = ["--quick", "--rows", "infer", "--infer-batch", "2", "--dtype", "float64",
            "--peers", "numpy"]
    assert bench.main(argv) == 1
    assert "PARITY FAILED: infer D/2/2 float64, fastmlp" in capsys.readouterr().err


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_parity_check_catches_a_one_percent_gradient_error(dtype):
    p = bench.make_problem((30, 12, 7, 4), 5, 1, dtype, n_rows=10)

    class OffTrainer(bench.FastmlpTrainer):
        def __init__(self, q):
            super().__init__(q)
            self.opt["lr"] *= 1.01

    bench.check_step_parity(p, bench.FastmlpTrainer, "fastmlp")  # the real one passes
    with pytest.raises(bench.ParityError, match="update"):
        bench.check_step_parity(p, OffTrainer, "off")


@pytest.mark.parametrize("batch", [1, 6])
def test_textbook_numpy_step_is_the_reference_step(batch):
    """The bench's NumPy peer computes what fastmlp.reference.train computes."""
    p = bench.make_problem((9, 6, 5, 3), batch, 1, np.float64, n_rows=2 * batch)
    tr = bench.NumpyTrainer(p)
    tr.steps(2)
    sizes = list(p.sizes)
    want, *_ = ref.train(p.flat_params(), {"kind": "sgd", "lr": p.lr}, sizes,
                         ["relu", "relu", "softmax"], [0.0] * 3, {"loss": "cce"}, p.x, p.Y,
                         n_batches=2, batch=batch)
    assert_close(tr.flat_params(), want, np.float64, what="numpy textbook vs reference")


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("peer", ["torch", "sklearn"])
def test_peers_pass_parity(peer, dtype):
    pytest.importorskip({"torch": "torch", "sklearn": "sklearn"}[peer],
                        reason=f"{peer} is an optional benchmark peer")
    p = bench.make_problem((20, 8, 6, 3), 4, 1, dtype, n_rows=8)
    bench.check_step_parity(p, bench.TRAINERS[peer], peer)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("isa", core.peak_isas())
@pytest.mark.parametrize("n_threads", [1, 2])
def test_peak_probe_does_the_work_it_counts(isa, dtype, n_threads):
    # mul = add = 1 from acc = 0: every lane of every chain ends at exactly reps
    sums = np.full(n_threads, np.nan)
    reps = 1000
    flops = core.peak_run(sums, dtype, isa, 1.0, 1.0, reps, n_threads)
    per_thread = flops / n_threads
    assert per_thread % (2 * reps) == 0  # 2 FLOPs per lane per rep
    assert sums.tolist() == [per_thread / 2] * n_threads
    assert bench.peak_gflops(n_threads, dtype, isa, seconds=0.001, repeats=1) > 0


def test_peak_probe_rejects_bad_arguments():
    sums = np.zeros(1)
    with pytest.raises(ValueError, match="isa"):
        core.peak_run(sums, "float32", "neon512", 1.0, 1.0, 10, 1)
    with pytest.raises(ValueError, match="dtype"):
        core.peak_run(sums, "float16", "", 1.0, 1.0, 10, 1)
    with pytest.raises(ValueError, match="n_threads"):
        core.peak_run(sums, "float32", "", 1.0, 1.0, 10, 2)


@pytest.mark.parametrize("argv, msg", [
    (["--rows", "Z/1/1"], "unknown row"),
    (["--dtype", "float16"], "--dtype"),
    (["--peers", "jax"], "unknown"),
    (["--threads", "0"], "--threads"),
])
def test_usage_errors_exit_2(argv, msg, capsys):
    assert bench.main(argv) == 2
    assert msg in capsys.readouterr().err


def test_flop_counts():
    # forward 2*B*sum(in*out); backward adds dW for every layer and dX for all but the first
    assert bench.forward_flops((784, 16, 16, 10), 1) == 2 * (784 * 16 + 16 * 16 + 16 * 10)
    assert bench.step_flops((784, 16, 16, 10), 32) == 2 * 32 * (
        2 * (784 * 16 + 16 * 16 + 16 * 10) + (16 * 16 + 16 * 10))


@pytest.mark.parametrize("batch", [1, 3, 64])
def test_parity_problem_keeps_pre_activations_off_the_relu_kink(batch):
    p = bench.make_problem((50, 40, 30, 5), batch, 1, np.float32, n_rows=batch)
    q = p.away_from_kinks()
    a = q.x.astype(np.float64)
    for l in range(2):
        assert np.array_equal(q.Ws[l], p.Ws[l])
        z = a @ q.Ws[l] + q.bs[l]
        assert np.abs(z).min() >= 4e-4 * np.abs(z).max()  # >> float32 rounding of z
        if batch > 3:
            assert 0.3 < (z > 0).mean() < 0.7
        a = np.maximum(z, 0)


def test_epoch_goals_per_dtype():
    """The 0.3 s epoch goal is float32's; the float64 epoch is held to the float64
    goals (no slower than the best peer's float64, >= 0.4x the float32 speed)."""
    def row(dtype: str, fit_s: float, peer_s: float) -> dict:
        t = bench.Timing(best=fit_s / 100, median=fit_s / 100, steps=100, repeats=1)
        p = bench.Timing(best=peer_s / 100, median=peer_s / 100, steps=100, repeats=1)
        return {"kind": "epoch", "row": "epoch B/32/1", "dtype": dtype, "samples": 3200,
                "steps": 100, "fastmlp": t, "fastmlp_fit": t, "peers": {"numpy": p},
                "goal_s": 0.3 if dtype == "float32" else None}

    run = bench.Run(settings=None, dtypes=[], peers=[], threads_override=None)
    run.rows = [row("float32", 0.25, 0.5), row("float64", 0.7, 0.9)]
    goals = bench.evaluate(run)
    assert [g["met"] for g in goals] == [True, True, False]
    assert "<= 0.3 s" in goals[0]["goal"] and "float32" in goals[0]["goal"]
    assert "best peer's float64 (numpy)" in goals[1]["goal"] and goals[1]["measured"] == "0.700 vs 0.900 s"
    assert goals[2]["measured"] == "0.36 x"  # 0.25 / 0.7


class _FakeTime:
    """Stands in for the ``time`` module inside fastmlp.bench: a clock that moves
    only when a contender's ``run(k)`` says its steps took so long, so the sizing
    logic is tested on exact timings whatever the machine's load."""

    def __init__(self) -> None:
        self.now = 0.0

    def perf_counter(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def test_repeats_are_sized_from_a_run_of_many_steps(monkeypatch):
    """A contender whose single step costs far more than its steps in a longer
    run (fastmlp's one-step calls do not defer their updates) gets repeats of
    about ``min_time``, not k = min_time / (one step's time)."""
    clock = _FakeTime()  # times are binary fractions: the arithmetic is exact
    monkeypatch.setattr(bench, "time", clock)
    calls = []

    def run(k: int) -> None:  # one step alone: 1/32 s; in a run of k > 1 steps: 1/1024 s each
        calls.append(k)
        clock.now += 1 / 32 if k == 1 else k / 1024

    s = bench.Settings(min_time=1 / 16, repeats=3, min_repeats=1, settle=0.0)
    t = bench.measure([bench.Contender("c", run)], s)["c"]
    # warm-up, one timed step (k = (1/16) / (1/32) = 2), a 2-step run at 1/1024 s
    # a step (k = 64), then the repeats; the one-step sizing would keep k = 2
    assert calls == [1, 1, 2, 64, 64, 64]
    assert (t.steps, t.repeats) == (64, 3)
    assert t.best == t.median == 1 / 1024


def test_repeats_stop_at_the_budget(monkeypatch):
    """Past ``min_repeats``, repeats stop once ``budget`` seconds per contender are spent."""
    clock = _FakeTime()
    monkeypatch.setattr(bench, "time", clock)
    calls = []

    def run(k: int) -> None:  # 1/8 s a step whatever k: k = (1/2) / (1/8) = 4
        calls.append(k)
        clock.now += k / 8

    s = bench.Settings(min_time=0.5, repeats=50, min_repeats=2, budget=0.5, settle=0.0)
    t = bench.measure([bench.Contender("c", run)], s)["c"]
    # k * (1/8 s) = 0.5 s is over budget / 4: no sizing run.  The first repeat ends
    # at 0.75 s, past the 0.5 s budget, but min_repeats = 2 runs a second; then stop
    assert calls == [1, 1, 4, 4]
    assert (t.steps, t.repeats) == (4, 2)
    assert t.best == 1 / 8


def test_bf16_rows_parity_and_goal():
    """The bf16 rows' machinery on a small net: fastmlp bf16 passes the float64 step's
    parity at the 'bfloat16' tolerance (and fails it at float32's: the products are bf16),
    and the goal compares the bf16 step time with float32's of the same run."""
    p = bench.make_problem((60, 48, 5), 32, 1, np.float32, n_rows=64)
    bf16 = lambda q: bench.FastmlpTrainer(q, compute="bfloat16")  # noqa: E731
    bench.check_step_parity(p, bf16, "fastmlp bf16", "bfloat16")
    with pytest.raises(bench.ParityError):
        bench.check_step_parity(p, bf16, "fastmlp bf16")
    t = lambda s: bench.Timing(best=s, median=s, steps=1, repeats=1)  # noqa: E731
    row = {"kind": "bf16", "row": "bf16 D/256/1", "dtype": "float32", "threads": 1,
           "flops": 1e9, "fastmlp": t(0.55), "fastmlp_f32": t(1.0), "peers": {},
           "goal_ratio": 0.6}
    run = bench.Run(bench.Settings(), ["float32"], [], None)
    run.rows = [row]
    (goal,) = bench.evaluate(run)
    assert goal["met"] and goal["measured"] == "0.550 x"
    row["fastmlp"] = t(0.7)
    assert not bench.evaluate(run)[0]["met"]
