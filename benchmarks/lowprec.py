"""``fastmlp bench --rows quant``: int8 and bfloat16 inference, side by side in one run.

For each row (net/batch/threads: D/4096/1, D/4096/2, B/1/1) one problem of
:mod:`benchmarks.harness` (Glorot weights, inputs in [0, 1)) runs through

* **float32**: fastmlp's float forward (``_core.forward_net``, softmax output);
* **int8**: ``MLP.quantize('int8')`` (dynamic per-row activations), its C
  forward (``_core.QNet.forward``) then the softmax;
* **bf16**: ``MLP.quantize('bfloat16')``'s forward;
* **ort-int8**: onnxruntime on the same net's ONNX graph after
  ``onnxruntime.quantization.quantize_dynamic`` (when onnx and onnxruntime
  are installed; ``intra_op_num_threads`` = the row's threads);
* **torch-bf16**: the same ``nn.Sequential`` cast to ``torch.bfloat16`` (when
  PyTorch is installed; ``torch.set_num_threads``),

all timed interleaved by :func:`benchmarks.harness.measure`.  Parity first:
fastmlp int8's logits on 64 rows equal :func:`fastmlp.reference.qforward_net`'s
bit for bit (else the row aborts); every low-precision contender's
probabilities are within 0.05 of the float64 NumPy forward's (else it is
dropped, loudly).  The int8 peak is measured in the same run by the
``vpdpbusd`` probe (``_core.peak_i8_run``); every int8 time is also given as
a fraction of it (2 operations per multiply-add, as FLOPs).
"""
from __future__ import annotations

import os
import tempfile
import time
from typing import Any, Optional

import numpy as np

from benchmarks import harness as H
from fastmlp import _core as core

#: rows: (net, batch, threads)
QUANT_ROWS = (("D", 4096, 1), ("D", 4096, 2), ("B", 1, 1))
#: the issue's bars: time ratios to float32 (lower is faster) and the int8 fraction of peak
INT8_MAX_RATIO, INT8_MIN_PEAK, BF16_MAX_RATIO, BATCH1_MAX_RATIO = 0.28, 0.75, 0.55, 1.0
PARITY_ATOL = 0.05  # probabilities of a low-precision forward vs float64


def peak_i8_gops(n_threads: int = 1, seconds: float = 0.05, repeats: int = 5) -> Optional[float]:
    """The machine's int8 peak: GOP/s of the vpdpbusd probe on ``n_threads`` threads
    (best of ``repeats``, sized by :func:`benchmarks.harness.probe_rate`), or None
    without AVX512_VNNI."""
    if core.peak_i8_run(np.zeros(1), 1000, 1) < 0:
        return None
    return H.probe_rate(core.peak_i8_run, n_threads, seconds, repeats)


def _net(p: H.Problem):
    import fastmlp

    net = fastmlp.MLP(list(p.sizes), activation="relu", loss="cce", n_threads=p.threads)
    net.set_parameters([w.astype(np.float32) for w in p.Ws], [b.astype(np.float32) for b in p.bs])
    return net


def _onnx_int8(p: H.Problem, tmp: str):
    """onnxruntime's session of the net's ONNX graph after quantize_dynamic, or None."""
    try:
        import onnx
        from onnx import TensorProto, helper, numpy_helper
        import onnxruntime as ort
        from onnxruntime.quantization import quantize_dynamic
    except ImportError:
        return None
    nodes, inits, prev = [], [], "X"
    L = len(p.Ws)
    for l, (w, b) in enumerate(zip(p.Ws, p.bs)):
        inits += [numpy_helper.from_array(w.astype(np.float32), f"W{l}"),
                  numpy_helper.from_array(b.astype(np.float32), f"B{l}")]
        nodes += [helper.make_node("MatMul", [prev, f"W{l}"], [f"M{l}"]),
                  helper.make_node("Add", [f"M{l}", f"B{l}"], [f"Z{l}"])]
        prev = f"Z{l}"
        if l + 1 < L:
            nodes.append(helper.make_node("Relu", [prev], [f"H{l}"]))
            prev = f"H{l}"
    nodes.append(helper.make_node("Softmax", [prev], ["P"], axis=1))
    graph = helper.make_graph(
        nodes, "mlp", [helper.make_tensor_value_info("X", TensorProto.FLOAT, [None, p.sizes[0]])],
        [helper.make_tensor_value_info("P", TensorProto.FLOAT, [None, p.sizes[-1]])], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    f32, i8 = os.path.join(tmp, "mlp.onnx"), os.path.join(tmp, "mlp_int8.onnx")
    onnx.save(model, f32)
    quantize_dynamic(f32, i8)
    so = ort.SessionOptions()
    so.intra_op_num_threads = p.threads
    so.inter_op_num_threads = 1
    return ort.InferenceSession(i8, so, providers=["CPUExecutionProvider"])


def quant_row(run: H.Run, net_name: str, batch: int, threads: int) -> Optional[dict]:
    """One low-precision inference row (see the module docstring)."""
    from fastmlp import reference as ref

    threads = run.threads(threads)
    key = f"quant {net_name}/{batch}/{threads}"
    p = H.make_problem(H.NETS[net_name], batch, threads, np.float32, n_rows=batch)
    net = _net(p)
    q8, qb = net.quantize("int8"), net.quantize("bfloat16")
    sizes, acts, slopes = H._net_arrays(p.sizes)
    params = p.flat_params().astype(np.float32)
    work = np.empty(core.workspace_size(sizes, acts, slopes, batch), np.float32)
    out = np.empty((batch, p.sizes[-1]), np.float32)
    qwork = np.empty(q8._qnet.workspace_size(batch), np.uint8)
    qout = np.empty((batch, p.sizes[-1]), np.float32)

    def f32() -> np.ndarray:
        core.forward_net(out, work, params, sizes, acts, slopes, p.x, batch, threads)
        return out

    def int8() -> np.ndarray:
        q8._qnet.forward(qout, qwork, p.x, batch, threads)
        core.act_forward(qout, core.ACT_SOFTMAX, 0.0)
        return qout

    def bf16() -> np.ndarray:
        o = qb._logits(p.x)
        core.act_forward(o, core.ACT_SOFTMAX, 0.0)
        return o

    head = np.ascontiguousarray(p.x[:64])
    layers = [{"w_q": w, "wscale": s, "bias": b, "act": "relu"}
              for w, s, b in zip(q8.qcoefs_, q8.coef_scales_, q8.intercepts_)]
    if not np.array_equal(q8._logits(head), ref.qforward_net(layers, head)):
        H._loud(run, key, np.float32, "fastmlp int8",
                H.ParityError("int8 logits differ from fastmlp.reference.qforward_net"), True)
        return None
    want = H.numpy_forward(p.Ws, p.bs, p.x.astype(np.float64))
    fwds: list = [("float32", f32, None), ("int8", int8, None), ("bf16", bf16, None)]
    with tempfile.TemporaryDirectory() as tmp:
        sess = _onnx_int8(p, tmp)
    if sess is not None:
        fwds.append(("ort-int8", lambda: sess.run(["P"], {"X": p.x})[0], None))
    if "torch" in run.peers:
        import torch

        tt = H.TorchTrainer(p)
        model = tt.model.to(torch.bfloat16)
        xt = torch.from_numpy(p.x).to(torch.bfloat16)

        def tbf16() -> np.ndarray:
            with torch.no_grad():
                return torch.softmax(model(xt), dim=1).float().numpy()

        fwds.append(("torch-bf16", tbf16, tt.threads))
    cs = []
    for name, fwd, ctx in fwds:
        ctx = ctx or (lambda: H.blas_threads(threads))
        with ctx():
            err = float(np.abs(np.asarray(fwd(), np.float64) - want).max())
        if err > PARITY_ATOL and name != "float32":
            run.notes.append(f"{key}: {name} dropped (probabilities {err:.3g} from float64)")
            continue
        cs.append(H.Contender(name, lambda k, f=fwd: [f() for _ in range(k)], ctx))
    run.probe(np.float32, threads, repeats=10)
    peak8 = peak_i8_gops(threads, run.settings.peak_seconds, run.settings.peak_repeats)
    H._say(f"  {key}: timing " + ", ".join(c.name for c in cs))
    t = H.measure(cs, run.settings)
    return {"kind": "quant", "row": key, "net": net_name, "batch": batch, "threads": threads,
            "dtype": "float32", "flops": H.forward_flops(p.sizes, batch), "times": t,
            "fastmlp": t["float32"], "peak_i8": peak8, "peak_f32": run.peak(np.float32, threads)}


def quant_goals(r: dict) -> list[dict]:
    """The issue's bars for one quant row."""
    t, f = r["times"], r["times"]["float32"].best
    net_b = f"{r['net']}/{r['batch']}/{r['threads']}"
    goals = []
    if net_b.startswith("D/4096/1"):
        if "int8" in t:
            goals.append({"goal": f"int8 {net_b} <= {INT8_MAX_RATIO}x float32",
                          "measured": f"{t['int8'].best / f:.3f}x",
                          "met": t["int8"].best / f <= INT8_MAX_RATIO})
            if r["peak_i8"]:
                frac = r["flops"] / t["int8"].best / 1e9 / r["peak_i8"]
                goals.append({"goal": f"int8 {net_b} >= {INT8_MIN_PEAK:.0%} of int8 peak",
                              "measured": f"{frac:.1%}", "met": frac >= INT8_MIN_PEAK})
        if "bf16" in t:
            goals.append({"goal": f"bf16 {net_b} <= {BF16_MAX_RATIO}x float32",
                          "measured": f"{t['bf16'].best / f:.3f}x",
                          "met": t["bf16"].best / f <= BF16_MAX_RATIO})
    if r["batch"] == 1:
        for name in ("int8", "bf16"):
            if name in t:
                goals.append({"goal": f"{name} {net_b} no slower than float32",
                              "measured": f"{t[name].best / f:.3f}x",
                              "met": t[name].best / f <= BATCH1_MAX_RATIO})
    return goals


def format_quant(r: dict) -> str:
    """One row as text: time, ratio to float32, fraction of the matching peak."""
    t, f = r["times"], r["times"]["float32"].best
    cells = []
    for name, tm in t.items():
        g = r["flops"] / tm.best / 1e9
        peak = r["peak_i8"] if "int8" in name else r["peak_f32"] if name == "float32" else None
        frac = f", {g / peak:.0%} of {'int8' if 'int8' in name else 'fp32'} peak" if peak else ""
        cells.append(f"{name} {tm.best * 1e3:.3f} ms ({tm.best / f:.3f}x{frac})")
    pk = "-" if not r["peak_i8"] else f"{r['peak_i8']:.0f}"
    return (f"{r['row']}, forward only, time (ratio to float32): " + "; ".join(cells)
            + f"; int8 peak {pk} GOP/s, fp32 peak {r['peak_f32']:.1f} GFLOP/s")


def run_quant_rows(run: H.Run) -> list[dict]:
    """Every quant row (QUANT_ROWS)."""
    return [r for r in (quant_row(run, *row) for row in QUANT_ROWS) if r is not None]


# --------------------------------------------------------------------------- CPU time
def cpu_time_rows(rounds: int = 8) -> list[str]:
    """One-thread rows timed in the thread's CPU time (``time.thread_time``), best of
    ``rounds``: on a machine shared with other busy processes the wall clock of a
    100-ms forward pass rarely sees a quiet moment, its CPU time does (cache
    contention with the neighbours still counts).  float32, bf16 and int8 as in
    :func:`quant_row`, plus the int8 peak probe timed the same way."""
    lines = []
    sums = np.zeros(1)
    peak = 0.0
    for _ in range(rounds):
        t0 = time.thread_time()
        ops = core.peak_i8_run(sums, 1_000_000, 1)
        if ops < 0:
            break
        peak = max(peak, ops / (time.thread_time() - t0) / 1e9)
    for net_name, batch in (("D", 4096), ("B", 1)):
        p = H.make_problem(H.NETS[net_name], batch, 1, np.float32, n_rows=batch)
        net = _net(p)
        q8, qb = net.quantize("int8"), net.quantize("bfloat16")
        sizes, acts, slopes = H._net_arrays(p.sizes)
        params = p.flat_params().astype(np.float32)
        work = np.empty(core.workspace_size(sizes, acts, slopes, batch), np.float32)
        out = np.empty((batch, p.sizes[-1]), np.float32)
        qwork = np.empty(q8._qnet.workspace_size(batch), np.uint8)
        qout = out.copy()
        reps = 2 if batch > 1 else 3000

        def best(fn) -> float:
            fn()
            b = 1e9
            for _ in range(rounds):
                t0 = time.thread_time()
                for _ in range(reps):
                    fn()
                b = min(b, (time.thread_time() - t0) / reps)
            return b

        tf = best(lambda: core.forward_net(out, work, params, sizes, acts, slopes, p.x, batch, 1))
        ti = best(lambda: (q8._qnet.forward(qout, qwork, p.x, batch, 1),
                           core.act_forward(qout, core.ACT_SOFTMAX, 0.0)))
        tb = best(lambda: core.act_forward(qb._logits(p.x), core.ACT_SOFTMAX, 0.0))
        ops = H.forward_flops(p.sizes, batch) / ti / 1e9
        lines.append(f"{net_name}/{batch}/1 CPU time: float32 {tf * 1e3:.3f} ms, bf16 "
                     f"{tb * 1e3:.3f} ms = {tb / tf:.3f}x float32, int8 "
                     f"{ti * 1e3:.3f} ms = {ti / tf:.3f}x float32, {ops:.0f} GOP/s"
                     + (f" = {ops / peak:.1%} of the int8 peak ({peak:.0f} GOP/s)" if peak else ""))
    return lines


if __name__ == "__main__":
    for line in cpu_time_rows():
        print(line)
