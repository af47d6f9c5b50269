"""Parity of every C kernel with fastmlp.reference (NumPy, float64).

Grid: every GEMM target this machine runs x float32/float64 x 1 and N
threads x awkward shapes (1 sample, 1 feature, sizes that are not multiples
of any vector width or block size, and sizes crossing typical cache blocks).
Tolerances: fastmlp.testing.TOLERANCES.
"""
from __future__ import annotations

import numpy as np
import pytest

from fastmlp import _core as core
from fastmlp import reference as ref
from fastmlp._backend import ACTIVATIONS, LOSSES, OPTIMIZERS
from fastmlp.testing import assert_close

HIDDEN = ["identity", "step", "sigmoid", "tanh", "relu", "leaky_relu"]
# (N, IN, OUT): 1 sample, 1 feature, 1 output, primes, MR/NR +-1 for 4/6/8/16-wide
# tiles, sizes past typical MC/KC/NC blocks (256/384/4096), and one past the
# 2^23 multiply-adds from which the GEMM splits over threads (gemm_config.h's
# FM_GEMM_MT_WORK) in all three products
SHAPES = [(1, 1, 1), (1, 7, 3), (3, 1, 5), (5, 3, 1), (7, 17, 9), (16, 16, 16), (15, 33, 31),
          (17, 65, 7), (33, 129, 47), (64, 300, 130), (1, 784, 16), (257, 385, 33),
          (2, 1031, 4099), (32, 300, 130), (129, 520, 131)]


def rand(rng, shape, dtype, scale=1.0):
    return (rng.standard_normal(shape) * scale).astype(dtype)


@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: "x".join(map(str, s)))
@pytest.mark.parametrize("act", HIDDEN + ["softmax"])
def test_linear_forward(target, dtype, n_threads, shape, act):
    rng = np.random.default_rng(hash((shape, act)) % 2**32)
    N, IN, OUT = shape
    x, w, b = rand(rng, (N, IN), dtype), rand(rng, (IN, OUT), dtype, IN ** -0.5), rand(rng, OUT, dtype)
    out = np.empty((N, OUT), dtype)
    core.linear_forward(out, x, w, b, ACTIVATIONS[act], 0.1, n_threads)
    desired = ref.linear_forward(x, w, b, act, 0.1)
    if act == "step":  # exact outputs; only z within rounding of 0 may flip
        z = ref.linear_forward(x, w, b, "identity")
        ok = (out == desired) | (np.abs(z) < 1e-4)
        assert ok.all()
    else:
        assert_close(out, desired, dtype, what=f"forward {act}")


@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: "x".join(map(str, s)))
@pytest.mark.parametrize("act_in", HIDDEN)
def test_linear_backward(target, dtype, n_threads, shape, act_in):
    rng = np.random.default_rng(hash((shape, act_in, 1)) % 2**32)
    N, IN, OUT = shape
    # x plays the role of the previous layer's activation output
    x = ref.act_forward(rand(rng, (N, IN), np.float64), act_in, 0.1).astype(dtype)
    w, dz = rand(rng, (IN, OUT), dtype, IN ** -0.5), rand(rng, (N, OUT), dtype)
    dx, dw, db = np.empty((N, IN), dtype), np.empty((IN, OUT), dtype), np.empty(OUT, dtype)
    dx[...], dw[...], db[...] = np.nan, np.nan, np.nan  # outputs must be overwritten
    core.linear_backward(dw, db, dx, dz, x, w, ACTIVATIONS[act_in], 0.1, n_threads)
    rdx, rdw, rdb = ref.linear_backward(dz, x, w, act_in, 0.1)
    assert_close(dw, rdw, dtype, what="dw")
    assert_close(db, rdb, dtype, what="db")
    assert_close(dx, rdx, dtype, what="dx")


def test_linear_backward_without_dx(dtype):
    rng = np.random.default_rng(3)
    x, w, dz = rand(rng, (9, 5), dtype), rand(rng, (5, 4), dtype), rand(rng, (9, 4), dtype)
    dw, db = np.empty((5, 4), dtype), np.empty(4, dtype)
    core.linear_backward(dw, db, None, dz, x, w)
    _, rdw, rdb = ref.linear_backward(dz, x, w)
    assert_close(dw, rdw, dtype)
    assert_close(db, rdb, dtype)


@pytest.mark.parametrize("act", HIDDEN + ["softmax"])
def test_act_forward_backward(dtype, act):
    rng = np.random.default_rng(5)
    z = rand(rng, (13, 11), dtype, 3.0)
    z[0, :3] = [0.0, 40.0, -40.0]  # the kink and saturation
    a = z.copy()
    core.act_forward(a, ACTIVATIONS[act], 0.2)
    assert_close(a, ref.act_forward(z, act, 0.2), dtype, what=act)
    if act == "softmax":
        return  # softmax's backward is fused with the loss (test_loss)
    da = rand(rng, (13, 11), dtype)
    dz = np.empty(da.size, dtype)
    core.act_backward(dz, da.ravel(), a.ravel(), ACTIVATIONS[act], 0.2)
    assert_close(dz, ref.act_backward(da, a, act, 0.2).ravel(), dtype, what=act)


def test_sigmoid_extremes_are_finite(dtype):
    a = np.array([[-1e4, -100.0, 0.0, 100.0, 1e4]], dtype)
    core.act_forward(a, ACTIVATIONS["sigmoid"])
    assert np.isfinite(a).all() and a[0, 0] == 0 and a[0, -1] == 1 and a[0, 2] == 0.5


LOSS_CASES = [("mse", "identity"), ("mse", "sigmoid"), ("mse", "tanh"), ("mse", "relu"),
              ("mse", "leaky_relu"), ("mse", "softmax"), ("mae", "identity"), ("mae", "sigmoid"),
              ("bce", "sigmoid"), ("cce", "softmax")]


# softmax needs 2+ outputs, so softmax cases get no K == 1 shapes
LOSS_GRID = [(loss, act, N, K) for loss, act in LOSS_CASES
             for N, K in [(1, 1), (1, 3), (7, 1), (9, 10)] if not (act == "softmax" and K == 1)]


@pytest.mark.parametrize("loss,out_act,N,K", LOSS_GRID)
@pytest.mark.parametrize("weighted", [False, True])
def test_loss(dtype, loss, out_act, weighted, N, K):
    rng = np.random.default_rng(7)
    z = rand(rng, (N, K), dtype, 2.0)
    if loss in ("bce", "cce"):
        y = np.eye(K, dtype=dtype)[rng.integers(0, K, N)] if loss == "cce" else \
            rng.integers(0, 2, (N, K)).astype(dtype)
    else:
        y = rand(rng, (N, K), dtype)
    sw = rng.uniform(0.5, 2.0, N).astype(dtype) if weighted else None
    p, dz = np.empty_like(z), np.empty_like(z)
    L = core.loss(p, dz, z, y, sw, LOSSES[loss], ACTIVATIONS[out_act], 0.1, 1.0 / N)
    rL, rp, rdz = ref.loss(z, y, sw, loss, out_act, 0.1, 1.0 / N)
    assert_close(L, rL, dtype, what="loss")
    assert_close(p, rp, dtype, what="p")
    assert_close(dz, rdz, dtype, what="dz")


def test_cross_entropy_is_stable_for_huge_logits(dtype):
    z = np.array([[1e4, -1e4, 0.0], [-1e4, 1e4, 5.0]], dtype)
    y = np.array([[0, 1, 0], [1, 0, 0]], dtype)
    p, dz = np.empty_like(z), np.empty_like(z)
    L = core.loss(p, dz, z, y, None, LOSSES["cce"], ACTIVATIONS["softmax"], 0.0, 0.5)
    assert np.isfinite(L) and np.isfinite(dz).all()
    assert L == pytest.approx(ref.loss(z, y, None, "cce", "softmax", 0, 0.5)[0], rel=1e-6)
    zb = np.array([[1e4], [-1e4]], dtype)
    yb = np.array([[0], [0]], dtype)
    Lb = core.loss(np.empty_like(zb), np.empty_like(zb), zb, yb, None, LOSSES["bce"],
                   ACTIVATIONS["sigmoid"], 0.0, 1.0)
    assert Lb == pytest.approx(1e4, rel=1e-6)


OPT_CASES = [
    {"kind": "sgd", "lr": 0.1},
    {"kind": "sgd", "lr": 0.1, "momentum": 0.9},
    {"kind": "sgd", "lr": 0.1, "momentum": 0.9, "dampening": 0.3, "weight_decay": 0.01},
    {"kind": "sgd", "lr": 0.1, "momentum": 0.9, "nesterov": True, "l1": 0.001},
    {"kind": "adagrad", "lr": 0.05, "eps": 1e-10},
    {"kind": "rmsprop", "lr": 0.01, "alpha": 0.9, "weight_decay": 0.1},
    {"kind": "adam", "lr": 0.01},
    {"kind": "adam", "lr": 0.01, "beta1": 0.5, "beta2": 0.9, "eps": 1e-6, "weight_decay": 0.1},
    {"kind": "adamw", "lr": 0.01, "weight_decay": 0.1},
    {"kind": "sgd", "lr": 0.1, "momentum": 0.9, "sklearn": True},
    {"kind": "sgd", "lr": 0.1, "momentum": 0.9, "nesterov": True, "sklearn": True},
    {"kind": "adam", "lr": 0.01, "eps": 1e-3, "sklearn": True},
]


@pytest.mark.parametrize("opt", OPT_CASES, ids=lambda o: "-".join(f"{k}={v}" for k, v in o.items()))
@pytest.mark.parametrize("n", [1, 7, 1000, 40001])
def test_optimizer_steps(dtype, n_threads, opt, n):
    """Three steps from fresh state; weight decay only on the first n//2 entries."""
    rng = np.random.default_rng(11)
    w = rand(rng, n, dtype)
    s1, s2 = np.zeros(n, dtype), np.zeros(n, dtype)
    rw, rs1, rs2 = w.astype(np.float64), None, None
    copt = {**opt, "kind": OPTIMIZERS[opt["kind"]]}
    for step in (1, 2, 3):
        g = rand(rng, n, dtype)
        core.optim_update(w, s1, s2, g, {**copt, "step": step}, n // 2, n_threads)
        rw, rs1, rs2 = ref.optim_update(rw, g, {**opt, "step": step}, rs1, rs2, n // 2)
    assert_close(w, rw, dtype, what="w")
    if opt["kind"] != "sgd" or opt.get("momentum"):
        assert_close(s1, rs1, dtype, what="state 1")
    if opt["kind"] in ("adam", "adamw"):
        assert_close(s2, rs2, dtype, what="state 2")


@pytest.mark.parametrize("m,n,k", [(1, 1, 1), (3, 5, 7), (17, 31, 65), (64, 64, 64),
                                   (129, 67, 300), (300, 257, 2), (300, 130, 40)])
@pytest.mark.parametrize("form", ["nn", "tn", "nt", "tt"])
def test_gemm_strides_alpha_beta(target, dtype, n_threads, m, n, k, form):
    rng = np.random.default_rng(m * n * k)
    a = rand(rng, (m, k), dtype) if form[0] == "n" else rand(rng, (k, m), dtype).T
    b = rand(rng, (k, n), dtype) if form[1] == "n" else rand(rng, (n, k), dtype).T
    c0 = rand(rng, (m, n), dtype)
    for alpha, beta in [(1.0, 0.0), (-0.5, 1.0), (2.0, 0.25)]:
        c = c0.copy()
        if beta == 0:
            c[...] = np.nan  # never read when beta == 0
        core.gemm(c, a, b, alpha, beta, n_threads=n_threads)
        desired = alpha * (a.astype(np.float64) @ b.astype(np.float64)) + beta * c0
        assert_close(c, desired, dtype, what=f"gemm {form} a={alpha} b={beta}")


def test_reference_gemm_is_a_target():
    assert "ref" in core.available_targets()
    assert core.simd_target() in core.available_targets()
    with pytest.raises(ValueError, match="not available"):
        core.set_target("no-such-target")
