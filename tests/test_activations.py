"""The activations whose derivative needs z (gelu, gelu_tanh, silu, elu, selu, softplus),
the ACT layer that runs them (and any other activation) in the training step, and the
per-layer leaky-ReLU slope: C against fastmlp.reference, the reference and the C
gradient against finite differences, whole trajectories against the reference and
against PyTorch (float64, the same initial weights and batches).

Definitions restated (torch.nn.functional; C: csrc/layers/act_impl.h):
  gelu       z Phi(z)                          ' = Phi(z) + z phi(z)
  gelu_tanh  z/2 (1 + tanh(c (z + k z^3)))     c = sqrt(2/pi), k = 0.044715
  silu       z s(z)                            ' = s (1 + z (1 - s))
  elu        z > 0 ? z : alpha (e^z - 1)       ' = z > 0 ? 1 : alpha e^z
  selu       scale elu(z) with alpha = 1.6732632..., scale = 1.0507009...
  softplus   z > 20 ? z : log(1 + e^z)         ' = z > 20 ? 1 : s(z)
"""
from __future__ import annotations

import json

import numpy as np
import pytest

from fastmlp import MLP
from fastmlp import _core as core
from fastmlp import reference as ref
from fastmlp._backend import ACTIVATIONS, LOSSES, NORMS, OPTIMIZERS, train_steps
from fastmlp.testing import (FD_RTOL, FD_STEP, assert_close, assert_train_trajectory,
                             require_peer, tolerance)

NEW = ["gelu", "gelu_tanh", "silu", "elu", "selu", "softplus"]
OLD = ["identity", "step", "sigmoid", "tanh", "relu", "leaky_relu"]
PARAM = 0.7  # leaky_relu's slope, elu's alpha (the others ignore it)
# the kinks, the softplus threshold, where exp under/overflows in each dtype, the
# +-40 clamp of gelu's tails, and values whose cube overflows float32
EXTREMES = [0.0, -1e-8, 1e-8, 19.9, 20.0, 20.1, -20.0, 39.0, 40.0, 41.0, -40.0, -41.0, 88.0,
            89.0, -88.0, -104.0, 709.0, 710.0, -745.0, 1e4, -1e4, 1e13, -1e13, 1e30, -1e30]


def _values(rng, n, dtype):
    z = rng.standard_normal(n) * 3.0
    z[:len(EXTREMES)] = EXTREMES
    return z.astype(dtype)


def _assert_parts(actual, desired, dtype, what):
    """The extremes elementwise (relative, or absolute near 0), the rest scale-aware."""
    k, tol = len(EXTREMES), tolerance(dtype)
    assert np.isfinite(actual).all(), f"{what}: non-finite values"
    np.testing.assert_allclose(actual[:k], desired[:k], rtol=tol, atol=tol, err_msg=what)
    assert_close(actual[k:], desired[k:], dtype, what=what)


@pytest.mark.parametrize("act", OLD + NEW)
def test_act_layer_matches_reference(dtype, n_threads, act):
    """Every elementwise activation through the ACT layer's pair, at ordinary and extreme z:
    finite everywhere, and the reference's values and derivatives."""
    rng = np.random.default_rng(1)
    z = _values(rng, 5000, dtype)
    a, dz = np.empty_like(z), np.empty_like(z)
    core.act_layer_forward(a, z, ACTIVATIONS[act], PARAM, n_threads)
    _assert_parts(a, ref.act_forward(z, act, PARAM), dtype, f"{act} forward")
    da = rng.standard_normal(z.size).astype(dtype)
    core.act_layer_backward(dz, da, z, a, ACTIVATIONS[act], PARAM, n_threads)
    desired = ref.act_backward(da, ref.act_forward(z, act, PARAM), act, PARAM, z)
    _assert_parts(dz, desired, dtype, f"{act} backward")


@pytest.mark.parametrize("act", ["silu", "elu", "selu", "softplus", "gelu"])
def test_float32_exponentials_are_accurate(act):
    """The float32 forms run on act_impl.h's vectorisable exp (vexp.h), not libm's: held to
    the float64 reference within 16 ulp (plus 1 ulp of 1 near the derivatives' zeros)
    over the whole range where their exponentials matter."""
    z = np.linspace(-95.0, 30.0, 250_001).astype(np.float32)
    a, dz = np.empty_like(z), np.ones_like(z)
    core.act_layer_forward(a, z, ACTIVATIONS[act], PARAM, 1)
    core.act_layer_backward(dz, dz, z, a, ACTIVATIONS[act], PARAM, 1)
    if act != "gelu":  # gelu's own value is erf's (libm), with float32's cancellation below 0
        np.testing.assert_allclose(a, ref.act_forward(z, act, PARAM), rtol=1e-6, atol=1e-37)
    want = ref.act_grad_z(z, act, PARAM)
    if act == "gelu":  # Phi = a / z carries a's rounding: below 0, a few ulp of a
        keep = z > -1.0
        dz, want = dz[keep], want[keep]
    np.testing.assert_allclose(dz, want, rtol=1e-6, atol=6e-8)


@pytest.mark.parametrize("act", ["relu", "gelu", "softplus"])
def test_act_layer_threads_do_not_change_a_bit(dtype, act):
    """Split over threads (enough elements for them), in place or not: the same bits."""
    rng = np.random.default_rng(2)
    z = _values(rng, 600_001, dtype)
    da = rng.standard_normal(z.size).astype(dtype)
    out = {}
    for nt in (1, 2):
        a, dz = np.empty_like(z), da.copy()
        core.act_layer_forward(a, z, ACTIVATIONS[act], PARAM, nt)
        core.act_layer_backward(dz, dz, z, a, ACTIVATIONS[act], PARAM, nt)  # in place
        out[nt] = a, dz
    assert np.array_equal(out[1][0], out[2][0]) and np.array_equal(out[1][1], out[2][1])
    inplace = z.copy()
    core.act_layer_forward(inplace, inplace, ACTIVATIONS[act], PARAM, 2)
    assert np.array_equal(inplace, out[1][0])


@pytest.mark.parametrize("act", NEW)
def test_fused_forward_kernels_apply_the_new_activations(dtype, act):
    """In the GEMM's write-back (linear_forward) and in place (act_forward): the forward
    needs no z, so the fused forms serve inference."""
    rng = np.random.default_rng(3)
    x, w, b = (rng.standard_normal(s).astype(dtype) for s in ((9, 5), (5, 7), (7,)))
    out = np.empty((9, 7), dtype)
    core.linear_forward(out, x, w, b, ACTIVATIONS[act], PARAM, 1)
    assert_close(out, ref.linear_forward(x, w, b, act, PARAM), dtype, what=act)
    a = _values(rng, 50, dtype)
    want = ref.act_forward(a, act, PARAM)
    core.act_forward(a.reshape(5, 10), ACTIVATIONS[act], PARAM)
    _assert_parts(a, want, dtype, act)


@pytest.mark.parametrize("act", NEW)
def test_output_based_kernels_refuse_the_new_activations(act):
    with pytest.raises(ValueError, match="output-based"):
        core.act_backward(np.zeros(3), np.zeros(3), np.zeros(3), ACTIVATIONS[act])
    with pytest.raises(ValueError, match="output-based"):
        core.linear_backward(np.zeros((2, 2)), np.zeros(2), np.zeros((1, 2)), np.zeros((1, 2)),
                             np.zeros((1, 2)), np.zeros((2, 2)), ACTIVATIONS[act])
    assert core.act_needs_z(ACTIVATIONS[act]) and not core.act_needs_z(ACTIVATIONS["tanh"])


@pytest.mark.parametrize("act", NEW)
def test_reference_derivative_is_the_finite_difference(act):
    z = np.concatenate([np.linspace(-6, 6, 41), [-30.0, 19.0, 21.0, 35.0]])
    z = z[np.abs(z) > 1e-3]  # elu/selu have a kink at 0 (alpha != 1)
    h = FD_STEP * np.maximum(1.0, np.abs(z))
    numeric = (ref.act_forward(z + h, act, PARAM) - ref.act_forward(z - h, act, PARAM)) / (2 * h)
    np.testing.assert_allclose(ref.act_grad_z(z, act, PARAM), numeric, rtol=FD_RTOL,
                               atol=FD_RTOL)


@pytest.mark.parametrize("loss", ["mse", "mae"])
@pytest.mark.parametrize("out_act", NEW)
def test_loss_kernel_with_a_new_output_activation(dtype, loss, out_act):
    rng = np.random.default_rng(4)
    z = (rng.standard_normal((12, 5)) * 3).astype(dtype)
    z[0] = [0.3, -2.0, 25.0, -50.0, 1.5]  # past softplus' threshold, gelu's far tail
    y, sw = rng.standard_normal((12, 5)).astype(dtype), rng.random(12).astype(dtype)
    p, dz = np.empty_like(z), np.empty_like(z)
    got = core.loss(p, dz, z, y, sw, LOSSES[loss], ACTIVATIONS[out_act], PARAM, 0.1)
    want, rp, rdz = ref.loss(z, y, sw, loss, out_act, PARAM, 0.1)
    assert got == pytest.approx(want, rel=tolerance(dtype))
    assert_close(p, rp, dtype, what="p")
    assert_close(dz, rdz, dtype, what="dz")
    zz = z.copy()  # in place, as the training step calls it: act'(z) is taken before p
    core.loss(zz, dz, zz, y, sw, LOSSES[loss], ACTIVATIONS[out_act], PARAM, 0.1)
    assert_close(dz, rdz, dtype, what="dz, p aliasing z")


def _net(acts, sizes, out_act="softmax", params=PARAM):
    acts_a = np.array([ACTIVATIONS[a] for a in acts + [out_act]], np.int32)
    return np.array(sizes, np.int64), acts_a, np.full(len(acts) + 1, params)


@pytest.mark.parametrize("act", NEW)
@pytest.mark.parametrize("loss,out_act", [("cce", "softmax"), ("mse", "softplus"),
                                          ("mse", "gelu")])
def test_full_net_gradient_is_the_finite_difference(act, loss, out_act):
    """C's full-data objective and gradient (the step's layers, in float64) against central
    differences of that objective: dL/dW through two ACT layers and the loss."""
    rng = np.random.default_rng(5)
    sizes = [4, 6, 5, 3]
    sizes_a, acts_a, slopes = _net([act, act], sizes, out_act)
    n = ref.n_params(sizes)
    params = rng.standard_normal(n) * 0.7
    x = rng.standard_normal((10, 4))
    y = np.eye(3)[rng.integers(0, 3, 10)] if loss == "cce" else rng.standard_normal((10, 3))
    cfg = {"loss": LOSSES[loss], "l2": 0.0}
    work = np.empty(core.workspace_size(sizes_a, acts_a, slopes, 4))

    def objective(p):
        g = np.empty(n)
        return core.loss_grad(g, work, p, sizes_a, acts_a, slopes, cfg, x, y, None, 4, 1), g

    _, grad = objective(params)
    numeric = np.empty(n)
    for i in range(n):
        e = np.zeros(n)
        e[i] = FD_STEP
        numeric[i] = (objective(params + e)[0] - objective(params - e)[0]) / (2 * FD_STEP)
    scale = np.abs(numeric).max()
    assert scale > 1e-3, "the gradient is trivially zero: the check would prove nothing"
    np.testing.assert_allclose(grad, numeric, rtol=1e-5, atol=1e-6 * scale)
    _, rg = ref.loss_grad(params, sizes, [act, act, out_act], slopes,
                          {"loss": loss}, x, y)
    assert_close(grad, rg, np.float64, what="C gradient vs reference")


CASES = [(act, opt) for act in NEW for opt in ("sgd", "adam")]


@pytest.mark.parametrize("act,opt", CASES, ids=[f"{a}-{o}" for a, o in CASES])
def test_trajectory_matches_reference(dtype, n_threads, act, opt):
    """10 steps over 3 calls, dropout after the first hidden layer, batches of 7 rows:
    the fast step's run (which is the plain step: an ACT layer takes no speed path),
    the plain step's and the reference's, side by side."""
    rng = np.random.default_rng(6)
    sizes = [5, 16, 12, 3]
    acts = [act, "tanh", "softmax"]
    x = rng.standard_normal((70, 5)).astype(dtype)
    y = np.eye(3, dtype=dtype)[rng.integers(0, 3, 70)]
    params = (rng.standard_normal(ref.n_params(sizes)) * 0.4).astype(dtype)
    slopes = np.array([PARAM, 0.0, 0.0])
    opt_d = {"kind": opt, "lr": 0.05 if opt == "sgd" else 0.01, "momentum": 0.9 if opt == "sgd"
             else 0.0}
    cfg = {"loss": "cce", "dropout": [0.2, 0.0], "seed": 11}
    assert_train_trajectory(params, opt_d, sizes, acts, slopes, cfg, x, y,
                            [(0, 3), (21, 3), (42, 4)], 7, n_threads,
                            order=rng.permutation(70),
                            no_paths={l: list(core.FAST_PATHS) for l in range(3)})


@pytest.mark.parametrize("acts", [["relu", "tanh"], ["leaky_relu", "sigmoid"],
                                  ["identity", "step"], ["gelu", "relu"]])
def test_act_layers_for_every_activation(dtype, acts):
    """cfg act_layers: every hidden activation as its own ACT layer (as a normalisation
    layer will need): the same trajectory as the fused layers and the reference."""
    rng = np.random.default_rng(7)
    sizes = [6, 9, 8, 2]
    x = rng.standard_normal((40, 6)).astype(dtype)
    y = rng.standard_normal((40, 2)).astype(dtype)
    params = (rng.standard_normal(ref.n_params(sizes)) * 0.5).astype(dtype)
    slopes = np.array([0.3, 0.2, 0.0])
    assert_train_trajectory(params, {"kind": "adam", "lr": 0.01}, sizes, [*acts, "identity"],
                            slopes, {"loss": "mse", "act_layers": True, "dropout": [0.0, 0.3],
                                     "seed": 3}, x, y, [(0, 3), (15, 2)], 5)


NORM_CHAINS = [
    # acts, norms, optimizer, cfg extras: NORM then an ACT layer (gelu, silu, elu), and
    # act_layers putting relu and tanh after their NORM layers as ACT layers too.  SGD, not
    # Adam: a bias under a batch norm has a zero gradient in exact arithmetic, and Adam
    # turns the rounding noise there into steps of size lr (see tests/test_norm.py)
    (["gelu", "silu", "softmax"], ["batch", "layer"], {"kind": "sgd", "lr": 0.1}, {}),
    (["relu", "tanh", "softmax"], ["layer", "batch"],
     {"kind": "sgd", "lr": 0.05, "momentum": 0.9, "nesterov": True}, {"act_layers": True}),
    (["elu", "softplus", "softmax"], ["batch", None],
     {"kind": "sgd", "lr": 0.05, "momentum": 0.9}, {"dropout": [0.2, 0.1], "seed": 5}),
]


@pytest.mark.parametrize("case", range(len(NORM_CHAINS)))
def test_norm_then_act_layer_matches_reference(dtype, n_threads, case):
    """DENSE(identity) -> NORM -> ACT: 6 steps of single-batch calls held to the reference
    (parameters, the norms' scales and shifts, running statistics), then inference."""
    acts, norms, opt, extra = NORM_CHAINS[case]
    sizes, n, batch = [5, 9, 7, 3], 24, 8
    rng = np.random.default_rng(20 + case)
    x = rng.standard_normal((n, 5)).astype(dtype)
    y = np.eye(3, dtype=dtype)[rng.integers(0, 3, n)]
    n_norm = sum(o for o, k in zip(sizes[1:-1], norms) if k)
    params = (rng.standard_normal(ref.n_params(sizes) + 2 * n_norm) * 0.5).astype(dtype)
    for gb in ref.unpack_norm(params, sizes, norms):  # scales near 1
        if gb is not None:
            gb[0][...] += 1
    slopes = np.array([PARAM, PARAM, 0.0])
    net = (np.array(sizes, np.int64), np.array([ACTIVATIONS[a] for a in acts], np.int32), slopes)
    nm = np.array([NORMS[k] for k in norms], np.int32)
    cfg = {"loss": "cce", **extra}
    ccfg = {**cfg, "loss": LOSSES["cce"]}
    dropout = ccfg.pop("dropout", None)
    p, st = params.copy(), ref.norm_state_init(sizes, norms).astype(dtype)
    s1, s2, grad = np.zeros_like(p), np.zeros_like(p), np.empty_like(p)
    work = np.empty(core.workspace_size(*net, batch, nm), dtype)
    rp, rstate = params, {"norm_state": None}
    for step in range(6):
        start = step % 3 * batch
        copt = {**opt, "kind": OPTIMIZERS[opt["kind"]], "step": step}
        train_steps(params=p, grad=grad, work=work, stats=np.zeros(4), net=net, opt=copt,
                    cfg=ccfg, x=x, y=y, start=start, n_batches=1, batch=batch, s1=s1, s2=s2,
                    dropout=None if dropout is None else np.array(dropout, np.float64),
                    n_threads=n_threads, norms=nm, norm_state=st)
        rp, rstate, _ = ref.train_chunk(rp, {**opt, "step": step}, sizes, acts, slopes, cfg, x,
                                        y, None, None, start, 1, batch,
                                        {**rstate, "step": step}, norms=norms)
        what = f"step {step + 1}"
        assert_close(p, rp, dtype, kind="trajectory", what=f"params, {what}")
        assert_close(st, rstate["norm_state"], dtype, kind="trajectory", what=f"stats, {what}")
    out = np.empty((n, 3), dtype)
    core.forward_net(out, work, p, *net, x, batch, n_threads, nm, st)
    assert_close(out, ref.forward_net(p, sizes, acts, slopes, x, norms, st), dtype,
                 kind="trajectory", what="forward_net")


def test_per_layer_leaky_slopes():
    """leaky_slope as a list: one per hidden layer (then 0.01 for an output leaky_relu),
    or with the output layer's; the C net gets them per layer and trains as the reference."""
    net = MLP([3, 5, 4, 2], activation="leaky_relu", leaky_slope=[0.1, 0.4], loss="mse",
              dtype=np.float64, seed=0)
    assert list(net._net_arrays()[2]) == [0.1, 0.4, 0.0]
    out = MLP([3, 5, 4, 2], activation="leaky_relu", leaky_slope=[0.1, 0.4, 0.2],
              output_activation="leaky_relu", loss="mse")
    assert list(out._net_arrays()[2]) == [0.1, 0.4, 0.2]
    assert list(MLP([3, 5, 4, 2], activation="leaky_relu", output_activation="leaky_relu",
                    loss="mse", leaky_slope=[0.1, 0.4])._net_arrays()[2]) == [0.1, 0.4, 0.01]
    rng = np.random.default_rng(8)
    X, Y = rng.standard_normal((30, 3)), rng.standard_normal((30, 2))
    p = net._params.copy()
    net.fit(X, Y, epochs=2, batch_size=10, shuffle=False, optimizer="sgd", lr=0.1, verbose=0)
    for epoch in range(2):
        p, _, _, _, _ = ref.train(p, {"kind": "sgd", "lr": 0.1, "step": 3 * epoch},
                                  [3, 5, 4, 2], ["leaky_relu", "leaky_relu", "identity"],
                                  [0.1, 0.4, 0.0], {"loss": "mse", "loss_per_output": True},
                                  X, Y, None, None, 0, 3, 10)
    assert_close(net._params, p, np.float64, kind="trajectory")


@pytest.mark.parametrize("kwargs,match", [
    ({"activation": "gelu2"}, "activation 'gelu2'"),
    ({"activation": ["gelu", 3]}, "activation"),
    ({"elu_alpha": -1.0}, "elu_alpha"),
    ({"elu_alpha": float("nan")}, "elu_alpha"),
    ({"elu_alpha": "1"}, "elu_alpha"),
    ({"leaky_slope": [0.1]}, "leaky_slope: 2 hidden layers need 2 slopes"),
    ({"leaky_slope": [0.1, -0.2]}, r"leaky_slope\[1\]"),
    ({"leaky_relu_slope": [0.1, float("inf")]}, r"leaky_relu_slope\[1\]"),
    ({"output_activation": "gelu_exact"}, "output activation 'gelu_exact'"),
])
def test_bad_activation_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        MLP([3, 4, 4, 2], **kwargs)


def test_names_and_aliases():
    net = MLP([3, 4, 4, 4, 4, 4, 4, 2], activation=["GELU", "gelu-tanh", "silu", "elu", "selu",
                                                    "softplus"], loss="mse")
    assert net.activations == NEW
    assert MLP([2, 3, 1], output_activation="softplus", loss="mse").output_activation == "softplus"


@pytest.mark.parametrize("dt", [np.float32, np.float64])
def test_inference_matches_reference_on_one_and_two_threads(dt):
    """predict (fm_forward_net, its ACT layers on a team) against the reference forward."""
    rng = np.random.default_rng(9)
    net = MLP([40, 64, 64, 48, 3], activation=["gelu", "elu", "softplus"], elu_alpha=0.5,
              loss="mse", output_activation="silu", dtype=dt, seed=1, n_threads=1)
    X = rng.standard_normal((3000, 40)).astype(dt)
    sizes, acts, slopes = net._net_arrays()
    want = ref.forward_net(net._params, net.layers, ["gelu", "elu", "softplus", "silu"],
                           slopes, X)
    got1 = net.predict(X)
    net.n_threads = 2
    got2 = net.predict(X)
    assert_close(got1, want, dt)
    assert_close(got2, want, dt)


def test_save_load_predicts_identically(tmp_path):
    rng = np.random.default_rng(10)
    X, y = rng.standard_normal((60, 4)), rng.integers(0, 3, 60)
    net = MLP([4, 8, 8, 8, 3], activation=["gelu", "elu", "leaky_relu"], elu_alpha=0.3,
              leaky_slope=[0.01, 0.02, 0.3], seed=0)
    net.fit(X, y, epochs=3, verbose=0)
    path = net.save(tmp_path / "m.npz")
    back = MLP.load(path)
    assert back.activations == net.activations and back.elu_alpha == 0.3
    assert back.leaky_slope == [0.01, 0.02, 0.3]
    assert np.array_equal(back.predict_proba(X), net.predict_proba(X))
    assert back.summary(print_fn=None) == net.summary(print_fn=None)
    # a file written before elu_alpha existed loads with torch's default alpha
    data = dict(np.load(path, allow_pickle=False))
    cfg = json.loads(str(data["config"]))
    del cfg["elu_alpha"]
    data["config"] = np.array(json.dumps(cfg))
    np.savez(tmp_path / "old.npz", **data)
    assert MLP.load(tmp_path / "old.npz").elu_alpha == 1.0


def test_summary_shows_the_activation_parameters():
    text = MLP([3, 4, 4, 4, 2], activation=["gelu_tanh", "elu", "leaky_relu"], elu_alpha=0.5,
               leaky_slope=0.2, loss="mse").summary(print_fn=None)
    assert [ln.split()[-1] for ln in text.splitlines() if "(Dense" in ln] == [
        "gelu_tanh", "elu(alpha=0.5)", "leaky_relu(0.2)", "identity"]


# ---- PyTorch ------------------------------------------------------------------------

def _torch_act(torch, name):
    nn = torch.nn
    return {"gelu": lambda: nn.GELU(), "gelu_tanh": lambda: nn.GELU(approximate="tanh"),
            "silu": lambda: nn.SiLU(), "elu": lambda: nn.ELU(alpha=PARAM),
            "selu": lambda: nn.SELU(), "softplus": lambda: nn.Softplus()}[name]()


def _torch_twin(torch, net, hidden_acts, out_act=None):
    """A float64 torch Sequential with the MLP's weights (torch's W is fastmlp's W.T)."""
    mods, lins = [], []
    for l, (i, o) in enumerate(net._shapes()):
        lins.append(torch.nn.Linear(i, o).double())
        mods.append(lins[-1])
        act = hidden_acts[l] if l < len(hidden_acts) else out_act
        if act is not None:
            mods.append(act)
    with torch.no_grad():
        for lin, w, b in zip(lins, net.coefs_, net.intercepts_):
            lin.weight.copy_(torch.tensor(w.T))
            lin.bias.copy_(torch.tensor(b))
    return torch.nn.Sequential(*mods), lins


def _follow_torch(torch, net, tnet, lins, opt_name, X, Y):
    """Train both on the same batches, one step per fit call; compare after every step."""
    topt = {"sgd": lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9),
            "adam": lambda p: torch.optim.Adam(p, lr=0.01)}[opt_name](tnet.parameters())
    kw = {"sgd": {"optimizer": "sgd", "lr": 0.1, "momentum": 0.9},
          "adam": {"optimizer": "adam", "lr": 0.01}}[opt_name]
    for step, lo in enumerate(range(0, len(X), 6)):
        xb, yb = X[lo:lo + 6], Y[lo:lo + 6]
        topt.zero_grad()
        torch.nn.functional.mse_loss(tnet(torch.tensor(xb)), torch.tensor(yb)).backward()
        topt.step()
        net.fit(xb, yb, epochs=1, batch_size=6, shuffle=False, verbose=0, **kw)
        for l, (lin, w, b) in enumerate(zip(lins, net.coefs_, net.intercepts_)):
            what = f"step {step}, layer {l}"
            assert_close(w, lin.weight.detach().numpy().T, np.float64, "trajectory", what)
            assert_close(b, lin.bias.detach().numpy(), np.float64, "trajectory", what)
    tnet.eval()  # batch norm: the running statistics, as predict uses
    with torch.no_grad():
        want = tnet(torch.tensor(X)).numpy()
    assert_close(net.predict(X), want, np.float64, "trajectory", "predictions")


@pytest.mark.parametrize("opt", ["sgd", "adam"])
@pytest.mark.parametrize("act", NEW)
def test_follows_pytorch_step_by_step(act, opt):
    torch = require_peer("torch", "trajectory parity with torch.nn.functional's activations")
    rng = np.random.default_rng(12)
    X, Y = rng.standard_normal((36, 4)) * 2, rng.standard_normal((36, 3))
    net = MLP([4, 10, 8, 3], activation=act, elu_alpha=PARAM, loss="mse", dtype=np.float64,
              seed=3)
    tnet, lins = _torch_twin(torch, net, [_torch_act(torch, act), _torch_act(torch, act)])
    _follow_torch(torch, net, tnet, lins, opt, X, Y)


@pytest.mark.parametrize("kind", ["batch", "layer"])
def test_norm_then_gelu_follows_pytorch(kind):
    """Linear -> BatchNorm1d (LayerNorm) -> GELU -> Linear, SGD, float64: step by step."""
    torch = require_peer("torch", "trajectory parity of a normalised GELU network")
    rng = np.random.default_rng(15)
    X, Y = rng.standard_normal((36, 4)) * 2, rng.standard_normal((36, 3))
    net = MLP([4, 10, 3], activation="gelu", norm=kind, loss="mse", dtype=np.float64, seed=5)
    norm = torch.nn.BatchNorm1d(10) if kind == "batch" else torch.nn.LayerNorm(10)
    lins = [torch.nn.Linear(4, 10).double(), torch.nn.Linear(10, 3).double()]
    tnet = torch.nn.Sequential(lins[0], norm.double(), torch.nn.GELU(), lins[1])
    with torch.no_grad():
        for lin, w, b in zip(lins, net.coefs_, net.intercepts_):
            lin.weight.copy_(torch.tensor(w.T))
            lin.bias.copy_(torch.tensor(b))
    _follow_torch(torch, net, tnet, lins, "sgd", X, Y)


def test_leaky_slopes_and_softplus_output_follow_pytorch():
    torch = require_peer("torch", "trajectory parity with torch.nn's LeakyReLU and Softplus")
    rng = np.random.default_rng(13)
    X, Y = rng.standard_normal((30, 4)) * 2, rng.random((30, 2)) * 3
    net = MLP([4, 9, 7, 2], activation="leaky_relu", leaky_slope=[0.05, 0.3],
              output_activation="softplus", loss="mse", dtype=np.float64, seed=4)
    nn = torch.nn
    tnet, lins = _torch_twin(torch, net, [nn.LeakyReLU(0.05), nn.LeakyReLU(0.3)], nn.Softplus())
    _follow_torch(torch, net, tnet, lins, "adam", X, Y)


def test_dropins_accept_the_new_activations():
    import warnings

    from fastmlp.sklearn import MLPRegressor

    rng = np.random.default_rng(14)
    X, y = rng.standard_normal((60, 3)), rng.standard_normal(60)
    for act in NEW:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # ConvergenceWarning after 3 iterations
            est = MLPRegressor(hidden_layer_sizes=(8,), activation=act, max_iter=3,
                               random_state=0).fit(X, y)
        assert np.isfinite(est.predict(X)).all(), act


def test_export_steps_carry_each_layers_parameter():
    """The exporters (fastmlp.export; tests/test_export.py runs the new activations through
    ONNX and the C file) see each layer's own slope and ELU's alpha."""
    from fastmlp.export import inference_steps

    net = MLP([3, 4, 4, 4, 2], activation=["leaky_relu", "elu", "leaky_relu"],
              leaky_slope=[0.1, 0.2, 0.3], elu_alpha=0.5, output_activation="leaky_relu",
              loss="mse")
    acts = [(s.name, s.param) for s in inference_steps(net).steps if s.kind == "act"]
    assert acts == [("leaky_relu", 0.1), ("elu", 0.5), ("leaky_relu", 0.3), ("leaky_relu", 0.01)]


@pytest.mark.parametrize("kwargs", [{"leaky_slope": [0.1, 0.2]}, {"activation": "elu"}])
def test_quantize_refuses_per_layer_parameters(kwargs):
    net = MLP([3, 4, 4, 2], **{"activation": "leaky_relu", **kwargs}, loss="mse")
    with pytest.raises(ValueError, match="one activation parameter for all layers"):
        net.quantize("bfloat16")


@pytest.mark.parametrize("act", ["gelu", "elu"])
def test_act_layers_above_a_csr_first_layer(act):
    """A scipy.sparse CSR input feeds the ACT layer's z through the CSR kernels: the same
    weights and predictions as the dense input."""
    sp = pytest.importorskip("scipy.sparse")
    rng = np.random.default_rng(16)
    X = sp.random(120, 60, density=0.08, format="csr", random_state=3, dtype=np.float64)
    y = rng.integers(0, 3, 120)
    fits = [MLP(hidden=[12, 8], activation=act, elu_alpha=PARAM, seed=0, dtype=np.float64,
                n_threads=1).fit(Xin, y, epochs=3, batch_size=16, verbose=0)
            for Xin in (X, X.toarray())]
    for a, b in zip(fits[0].coefs_ + fits[0].intercepts_, fits[1].coefs_ + fits[1].intercepts_):
        assert_close(a, b, np.float64, kind="trajectory", what="weights")
    assert_close(fits[0].predict_proba(X), fits[1].predict_proba(X.toarray()), np.float64,
                 kind="trajectory", what="predict_proba")
