"""bf16 products (csrc/gemm/bf16.h) and bf16 mixed-precision training.

The bf16 GEMM has one contract for every path -- "ref" (the scalar
specification), the emulating micro-kernels of "generic", "avx2", "avx512", and
vdpbf16ps where the CPU has AVX512_BF16 -- so the tests hold each of them to
:func:`fastmlp.reference.bf16_matmul` BIT FOR BIT, for every shape, thread count
and epilogue, and whole bf16 training runs to each other bit for bit across
paths and threads.  Against float64 math and the float64 reference's training
the tolerances are ``fastmlp.testing``'s "bfloat16" ones.
"""
from __future__ import annotations

import numpy as np
import pytest

import fastmlp
from fastmlp import MLP
from fastmlp import _core as core
from fastmlp import reference as ref
from fastmlp._backend import ACTIVATIONS
from fastmlp.testing import assert_close, assert_train_trajectory, tolerance

TARGETS = fastmlp.available_targets()


def _dp_available() -> bool:
    before = core.bf16_dp()
    ok = core.bf16_dp(True)
    core.bf16_dp(before)
    return ok


DP = _dp_available()
#: (target, vdpbf16ps on): every emulation, and the instruction where present
PATHS = [(t, False) for t in TARGETS] + ([("avx512", True)] if DP else [])


@pytest.fixture(params=PATHS, ids=[f"{t}-{'dp' if d else 'emu'}" for t, d in PATHS])
def bf16_path(request):
    """Run the test on one bf16 path, then restore the default."""
    before = (fastmlp.simd_target(), core.bf16_dp())
    target, dp = request.param
    fastmlp.set_target(target)
    core.bf16_dp(dp)
    assert core.bf16_dp() == dp
    yield request.param
    fastmlp.set_target(before[0])
    core.bf16_dp(before[1])


def bits(a: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(a, np.float32).view(np.uint32)


def assert_same_bits(actual, desired, what=""):
    a, d = bits(actual), bits(desired)
    bad = a != d
    if bad.any():
        idx = np.argwhere(bad)[:5]
        pairs = ", ".join(f"{tuple(map(int, i))}: {np.asarray(actual)[tuple(i)]!r} vs "
                          f"{np.asarray(desired)[tuple(i)]!r}" for i in idx)
        raise AssertionError(f"{what}: {int(bad.sum())} of {a.size} differ; first: {pairs}")


# ---------------------------------------------------------------- rounding
def test_bf16_round_hand_checked():
    x = np.array([1.0, 1 + 2**-8, 1 + 3 * 2**-8, 1 + 2**-8 + 2**-20, -1 - 2**-8, 3.4e38,
                  np.inf, -np.inf, 0.0, -0.0, 1e-39, -1e-39, 2**-126], np.float32)
    want = np.array([1.0, 1.0, 1 + 2**-6, 1 + 2**-7, -1.0, np.inf, np.inf, -np.inf, 0.0, -0.0,
                     0.0, -0.0, 2**-126], np.float32)
    # ties to even (1 + 2^-8 -> 1, 1 + 3*2^-8 -> 1 + 2^-6), above the tie rounds up,
    # overflow to inf, denormals to a signed zero (DAZ), the smallest normal kept
    got = np.empty_like(x)
    core.bf16_round(got, x)
    assert_same_bits(got, want, "C")
    assert_same_bits(ref.bf16_round(x), want, "reference")
    nan = np.array([np.nan, -np.nan], np.float32)
    payload = np.array([0x7F800001, 0xFF800100], np.uint32).view(np.float32)  # low payloads
    for v in (nan, payload):
        core.bf16_round(out := np.empty_like(v), v)
        assert np.isnan(out).all() and np.isnan(ref.bf16_round(v)).all()
        assert_same_bits(out, ref.bf16_round(v), "NaN")


def test_bf16_round_matches_reference_on_all_exponents():
    rng = np.random.default_rng(0)
    u = rng.integers(0, 2**32, 200_000, dtype=np.uint64).astype(np.uint32)
    x = u.view(np.float32)
    got = np.empty_like(x)
    core.bf16_round(got, x)
    want = ref.bf16_round(x)
    assert_same_bits(got, want, "random bit patterns")
    assert (bits(want) & 0xFFFF == 0).all()


# ---------------------------------------------------------------- the GEMM
SHAPES = [(1, 1, 1), (1, 2, 1), (3, 5, 7), (8, 33, 32), (9, 31, 17), (7, 64, 48),
          (17, 513, 33), (33, 1031, 65), (130, 100, 97), (64, 2, 300)]


def _operands(rng, m, k, n, scale=1.0):
    a = (rng.standard_normal((m, k)) * scale).astype(np.float32)
    b = (rng.standard_normal((k, n)) * np.exp(rng.uniform(-3, 3, (k, 1)))).astype(np.float32)
    return a, b


@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: "x".join(map(str, s)))
def test_gemm_bf16_bit_exact(bf16_path, n_threads, shape):
    m, k, n = shape
    rng = np.random.default_rng(m * 1000 + k * 7 + n)
    a, b = _operands(rng, m, k, n)
    want = ref.bf16_matmul(a, b)
    for name, (av, bv) in {"row-major": (a, b), "a transposed": (np.asfortranarray(a), b),
                           "b transposed": (a, np.asfortranarray(b))}.items():
        c = np.full((m, n), np.nan, np.float32)
        core.gemm_bf16(c, av, bv, n_threads=n_threads)
        assert_same_bits(c, want, f"{bf16_path} {name}")
    c0 = rng.standard_normal((m, n)).astype(np.float32)
    c = c0.copy()
    core.gemm_bf16(c, a, b, beta=1.0, n_threads=n_threads)
    assert_same_bits(c, ref.bf16_matmul(a, b, c0), "beta=1")
    # and against float64 math at the bf16 tolerance
    assert_close(want, a.astype(np.float64) @ b.astype(np.float64), "bfloat16", what="vs float64")


def test_gemm_bf16_deep_and_threaded_products_are_blocking_independent(bf16_path):
    """k past the KC blocks and a product big enough for threads: one chain per element."""
    rng = np.random.default_rng(5)
    a, b = _operands(rng, 150, 1300, 70)
    want = ref.bf16_matmul(a, b)
    for nt in (1, 2, 3):
        c = np.empty((150, 70), np.float32)
        core.gemm_bf16(c, a, b, n_threads=nt)
        assert_same_bits(c, want, f"{nt} threads")


def _on_every_path(fn):
    before = (fastmlp.simd_target(), core.bf16_dp())
    try:
        for path in PATHS:
            fastmlp.set_target(path[0])
            core.bf16_dp(path[1])
            fn(path)
    finally:
        fastmlp.set_target(before[0])
        core.bf16_dp(before[1])


def _one(acc, a_even, a_odd, b_even, b_odd):
    """The chain acc + (a_odd b_odd) + (a_even b_even) of one pair, on one C path."""
    c = np.array([[acc]], np.float32)
    core.gemm_bf16(c, np.array([[a_even, a_odd]], np.float32),
                   np.array([[b_even], [b_odd]], np.float32), beta=1.0)
    return c[0, 0]


#: (acc, a_even, a_odd, b_even, b_odd, result): hand-made pairs whose result tells the
#: accumulation orders and the flush apart (u = 2^-12, so u*u = 2^-24, half an ulp of 1)
U = 2.0 ** -12
CHAIN_CASES = [
    # odd product first: 1 + 2^-24 ties to 1, then 1 - 2^-24 is exact (even first: 1)
    (1.0, -U, U, U, U, 1 - 2.0 ** -24),
    (1.0, U, -U, U, U, 1.0),  # (even first: 1 - 2^-24)
    # one rounding per product, not per pair: 1 + 2^-24 + 2^-24 -> 1 (exact pair sum: 1 + 2^-23)
    (1.0, U, U, U, U, 1.0),
    # a sum below FLT_MIN is flushed: FLT_MIN - 2^-150 is tiny (rounds to itself) -> 0
    (2.0 ** -126, -(2.0 ** -70), 0.0, 2.0 ** -80, 0.0, 0.0),
    # ... but FLT_MIN - 2^-151 rounds (to 24 bits) up to FLT_MIN, which is kept
    (2.0 ** -126, -(2.0 ** -76), 0.0, 2.0 ** -75, 0.0, 2.0 ** -126),
    # a denormal start is zero (DAZ); a denormal product alone is flushed
    (1e-40, 0.0, 0.0, 0.0, 0.0, 0.0),
    (0.0, 2.0 ** -100, 0.0, 2.0 ** -30, 0.0, 0.0),
]


@pytest.mark.parametrize("case", CHAIN_CASES, ids=range(len(CHAIN_CASES)))
def test_gemm_bf16_chain_order_and_flush(case):
    """vdpbf16ps's semantics on hand-made pairs (measured on this machine's AVX512_BF16 and
    the contract of every emulation and of the reference): the odd (high) product is
    added before the even one, each addition rounded once, a tiny sum flushed."""
    *args, want = case
    acc, ae, ao, be, bo = args

    def check(path):
        got = _one(*args)
        assert bits(np.float32(got)) == bits(np.float32(want)), (path, got, want)

    _on_every_path(check)
    ref_got = ref.bf16_matmul(np.array([[ae, ao]], np.float32), np.array([[be], [bo]], np.float32),
                              np.array([[acc]], np.float32))[0, 0]
    assert bits(np.float32(ref_got)) == bits(np.float32(want)), (ref_got, want)


def test_gemm_bf16_bit_exact_near_the_denormal_range():
    """Random chains whose sums cross FLT_MIN: every path and the reference agree."""
    rng = np.random.default_rng(9)
    m, k, n = 16, 40, 33
    a = (rng.standard_normal((m, k)) * 2.0 ** rng.integers(-68, -60, (m, k))).astype(np.float32)
    b = (rng.standard_normal((k, n)) * 2.0 ** rng.integers(-68, -60, (k, n))).astype(np.float32)
    c0 = (rng.standard_normal((m, n)) * 2.0 ** -125).astype(np.float32)
    want = ref.bf16_matmul(a, b, c0)
    assert (want == 0).any() and (np.abs(want) >= 2.0 ** -126).any()

    def check(path):
        c = c0.copy()
        core.gemm_bf16(c, a, b, beta=1.0)
        assert_same_bits(c, want, str(path))

    _on_every_path(check)


@pytest.mark.parametrize("epi", ["bias_act", "dact"])
@pytest.mark.parametrize("act", ["identity", "sigmoid", "tanh", "relu", "leaky_relu"])
def test_gemm_bf16_epilogues(bf16_path, epi, act):
    rng = np.random.default_rng(11)
    a, b = _operands(rng, 37, 90, 45)
    bias = rng.standard_normal(45).astype(np.float32)
    z = ref.act_forward(rng.standard_normal((37, 45)), act, 0.1).astype(np.float32)
    kw = ({"epi": core.EPI_BIAS_ACT, "bias": bias} if epi == "bias_act"
          else {"epi": core.EPI_DACT, "z": z})
    c = np.empty((37, 45), np.float32)
    core.gemm_bf16(c, a, b, act=ACTIVATIONS[act], slope=0.1, n_threads=2, **kw)
    spec = np.empty_like(c)
    core.gemm_bf16(spec, a, b, act=ACTIVATIONS[act], slope=0.1, ref=True, **kw)
    assert_same_bits(c, spec, "against the scalar specification")
    p = ref.bf16_matmul(a, b).astype(np.float64)
    want = (ref.act_forward(p + bias, act, 0.1) if epi == "bias_act"
            else ref.act_backward(p, z, act, 0.1))
    assert_close(c, want, np.float32)


def test_gemm_bf16_nan_and_inf_propagate(bf16_path):
    a = np.ones((3, 4), np.float32)
    b = np.ones((4, 5), np.float32)
    a[0, 1], b[2, 3] = np.nan, np.inf
    c = np.empty((3, 5), np.float32)
    core.gemm_bf16(c, a, b)
    assert np.isnan(c[0]).all() and np.isinf(c[1:, 3]).all()
    want = ref.bf16_matmul(a, b)  # NaN payloads are not part of the contract
    assert (np.isnan(want) == np.isnan(c)).all()
    assert_same_bits(np.where(np.isnan(c), 0, c), np.where(np.isnan(want), 0, want))


# ---------------------------------------------------------------- the dense layer
def test_linear_bf16_forward_backward(bf16_path):
    rng = np.random.default_rng(3)
    N, IN, OUT = 33, 70, 21
    x = rng.standard_normal((N, IN)).astype(np.float32)
    w = (rng.standard_normal((IN, OUT)) * IN ** -0.5).astype(np.float32)
    b = rng.standard_normal(OUT).astype(np.float32)
    out = np.empty((N, OUT), np.float32)
    core.linear_forward_bf16(out, x, w, b, ACTIVATIONS["identity"], 0.0, 2)
    assert_same_bits(out, ref.bf16_matmul(x, w) + b, "forward")
    dz = rng.standard_normal((N, OUT)).astype(np.float32)
    dw, db, dx = np.empty_like(w), np.empty_like(b), np.empty_like(x)
    core.linear_backward_bf16(dw, db, dx, dz, x, w, ACTIVATIONS["identity"], 0.0, False, 2)
    assert_same_bits(dw, ref.bf16_matmul(x.T, dz), "dW")
    assert_same_bits(dx, ref.bf16_matmul(dz, w.T), "dX")
    assert_close(db, dz.astype(np.float64).sum(0), np.float32)
    dw2 = dw.copy()
    core.linear_backward_bf16(dw2, db, None, dz, x, w, ACTIVATIONS["identity"], 0.0, True, 1)
    assert_same_bits(dw2, ref.bf16_matmul(x.T, dz, dw), "dW accumulated")


# ---------------------------------------------------------------- training
BF16_CFG = {"loss": "cce", "metric": 1, "compute": "bfloat16"}


@pytest.mark.parametrize("opt", [{"kind": "sgd", "lr": 0.1},
                                 {"kind": "sgd", "lr": 0.05, "momentum": 0.9},
                                 {"kind": "adam", "lr": 1e-3}], ids=["sgd", "momentum", "adam"])
def test_bf16_training_trajectory_matches_reference(opt):
    rng = np.random.default_rng(1)
    sizes, acts = [20, 48, 24, 5], ["relu", "tanh", "softmax"]
    x = rng.standard_normal((96, 20)).astype(np.float32)
    y = np.eye(5, dtype=np.float32)[rng.integers(0, 5, 96)]
    params = (rng.standard_normal(ref.n_params(sizes)) * 0.2).astype(np.float32)
    slopes = np.zeros(3)
    assert_train_trajectory(params, opt, sizes, acts, slopes, BF16_CFG, x, y,
                            [(0, 3), (48, 3)], batch=16, n_threads=2)


def test_bf16_training_with_dropout_and_noise_matches_reference():
    rng = np.random.default_rng(2)
    sizes, acts = [12, 40, 3], ["relu", "softmax"]
    x = rng.standard_normal((64, 12)).astype(np.float32)
    y = np.eye(3, dtype=np.float32)[rng.integers(0, 3, 64)]
    params = (rng.standard_normal(ref.n_params(sizes)) * 0.3).astype(np.float32)
    cfg = {**BF16_CFG, "dropout": [0.25], "seed": 7, "l2": 1e-3}
    assert_train_trajectory(params, {"kind": "sgd", "lr": 0.1}, sizes, acts, np.zeros(2), cfg,
                            x, y, [(0, 4)], batch=16)


def _train_c(params, x, y, sizes, acts, batch, n_threads, n_batches=6):
    from fastmlp._backend import OPTIMIZERS, train_steps

    sizes_a = np.array(sizes, np.int64)
    acts_a = np.array([ACTIVATIONS[a] for a in acts], np.int32)
    slopes = np.zeros(len(acts))
    p = params.copy()
    work = np.empty(core.workspace_size(sizes_a, acts_a, slopes, batch), np.float32)
    stats = np.zeros(4)
    train_steps(params=p, grad=np.empty_like(p), work=work, stats=stats,
                net=(sizes_a, acts_a, slopes), opt={"kind": OPTIMIZERS["sgd"], "lr": 0.05},
                cfg={"loss": 3, "metric": 1, "compute": core.COMPUTE_BF16}, x=x, y=y,
                n_batches=n_batches, batch=batch, n_threads=n_threads)
    return p, stats


def test_bf16_training_is_identical_on_every_path_and_thread_count():
    """A whole run (big enough to split products over threads) gives the same bits on
    every bf16 path, 1 or 3 threads: nothing in it depends on the path."""
    rng = np.random.default_rng(4)
    sizes, acts = [300, 257, 10], ["relu", "softmax"]
    x = rng.standard_normal((384, 300)).astype(np.float32)
    y = np.eye(10, dtype=np.float32)[rng.integers(0, 10, 384)]
    params = (rng.standard_normal(ref.n_params(sizes)) * 0.05).astype(np.float32)
    runs = {}
    before = (fastmlp.simd_target(), core.bf16_dp())
    try:
        for target, dp in PATHS:
            fastmlp.set_target(target)
            core.bf16_dp(dp)
            for nt in (1, 3):
                runs[(target, dp, nt)] = _train_c(params, x, y, sizes, acts, 128, nt)
    finally:
        fastmlp.set_target(before[0])
        core.bf16_dp(before[1])
    (p0, s0), key0 = next(iter(runs.values())), next(iter(runs))
    for key, (p, s) in runs.items():
        assert_same_bits(p, p0, f"params {key} vs {key0}")
        assert s[0] == s0[0] and s[1] == s0[1], (key, s, s0)
    # and it trained: not the float32 result, but near it
    f32 = params.copy()
    from fastmlp._backend import OPTIMIZERS, train_steps
    sizes_a = np.array(sizes, np.int64)
    acts_a = np.array([ACTIVATIONS[a] for a in acts], np.int32)
    train_steps(params=f32, grad=np.empty_like(f32),
                work=np.empty(core.workspace_size(sizes_a, acts_a, np.zeros(2), 128), np.float32),
                stats=np.zeros(4), net=(sizes_a, acts_a, np.zeros(2)),
                opt={"kind": OPTIMIZERS["sgd"], "lr": 0.05}, cfg={"loss": 3, "metric": 1},
                x=x, y=y, n_batches=6, batch=128)
    assert not np.array_equal(bits(f32), bits(p0))
    assert_close(p0, f32, "bfloat16", kind="trajectory")


# ---------------------------------------------------------------- the model API
def test_compute_dtype_is_validated_in_one_place():
    assert MLP([4, 3, 2]).compute_dtype == "float32"
    assert MLP([4, 3, 2], dtype=np.float64).compute_dtype == "float64"
    for alias in ("bfloat16", "bf16", "mixed_bfloat16", "BFloat16"):
        assert MLP([4, 3, 2], compute_dtype=alias).compute_dtype == "bfloat16"
    with pytest.raises(ValueError, match="compute_dtype='bfloat16' needs dtype=float32"):
        MLP([4, 3, 2], dtype=np.float64, compute_dtype="bfloat16")
    with pytest.raises(ValueError, match="compute_dtype must be"):
        MLP([4, 3, 2], compute_dtype="float16")
    with pytest.raises(ValueError, match="compute_dtype"):
        MLP([4, 3, 2], compute_dtype="float64")


def test_compute_dtype_in_summary_repr_and_file(tmp_path):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((200, 6)).astype(np.float32)
    y = (X[:, 0] > 0).astype(int) + (X[:, 1] > 0)
    net = MLP([6, 16, 3], compute_dtype="bfloat16", seed=0, n_threads=1)
    assert "compute bfloat16" in net.summary(print_fn=None)
    assert "compute_dtype=bfloat16" in repr(net)
    assert "compute" not in MLP([6, 16, 3]).summary(print_fn=None)
    net.fit(X, y, epochs=2, batch_size=32, verbose=0)
    path = net.save(tmp_path / "m.npz")
    back = MLP.load(path, n_threads=1)
    assert back.compute_dtype == "bfloat16"
    # continuing training after a load equals continuing the original
    net.fit(X, y, epochs=1, batch_size=32, verbose=0, shuffle=False)
    back.fit(X, y, epochs=1, batch_size=32, verbose=0, shuffle=False)
    assert_same_bits(back._params, net._params, "after load")


def test_bf16_fit_uses_bf16_products_and_float32_state():
    rng = np.random.default_rng(1)
    X = rng.standard_normal((256, 10)).astype(np.float32)
    y = (X[:, :3].sum(1) > 0).astype(int)
    nets = {cd: MLP([10, 32, 2], compute_dtype=cd, seed=3, n_threads=1).fit(
        X, y, epochs=3, batch_size=32, verbose=0, shuffle=False) for cd in ("float32", "bfloat16")}
    pf, pb = nets["float32"]._params, nets["bfloat16"]._params
    assert pb.dtype == np.float32 and not np.array_equal(pf, pb)
    # the master weights keep updates far below bf16's resolution of the weights
    assert (bits(pb) & 0xFFFF).any()
    assert_close(pb, pf, "bfloat16", kind="trajectory")
    assert abs(nets["bfloat16"].score(X, y) - nets["float32"].score(X, y)) < 0.05


@pytest.mark.slow
def test_mnist_accuracy_bar_small_budget(shared_data):
    """The accuracy bar of docs/performance.md ("bf16 training accuracy") at a smaller
    budget: 784-16-16-10 (the demo's recipe) on 20,000 training images for 3 epochs,
    float32 and bfloat16 from the same seed, within 0.5 points on the 10,000 test images."""
    from fastmlp import datasets
    from fastmlp.cli.demos import SPEC_MNIST

    Xtr, ytr = datasets.load_mnist(shared_data, "train", as_float=True)
    Xte, yte = datasets.load_mnist(shared_data, "test", as_float=True)
    Xtr, ytr = Xtr[:20000], ytr[:20000]
    acc = {}
    for cd in ("float32", "bfloat16"):
        net = MLP(list(SPEC_MNIST.layers), activation="relu", loss="cce", seed=0, init="auto",
                  input_noise=SPEC_MNIST.input_noise, compute_dtype=cd)
        net.fit(Xtr, ytr, epochs=3, batch_size=32, learning_rate=0.01, optimizer="sgd",
                momentum=0.9, l2=SPEC_MNIST.l2, verbose=0)
        acc[cd] = net.score(Xte, yte)
    assert acc["float32"] > 0.9
    assert abs(acc["bfloat16"] - acc["float32"]) <= 0.005, acc


# ---------------------------------------------------------------- the probe
def test_bf16_peak_probe():
    sums = np.zeros(2)
    flops = core.peak_bf16_run(sums, 1000, 1)
    if not DP:
        assert flops == -1
        return
    assert flops == 4 * 16 * 16 * 1000
    assert sums[0] == 2 * 16 * 16 * 1000  # each lane gains 1*1 + 1*1 per round


def test_tolerance_keys():
    assert tolerance("bfloat16", "trajectory") > tolerance(np.float32, "trajectory")
