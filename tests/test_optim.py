"""Optimizers: the formulas restated by hand, the C kernel against the reference,
the reference against torch.optim, and whole training runs against PyTorch's.

Conventions checked (see fastmlp.optim): torch.optim's definitions -- SGD's
momentum buffer holds gradients (b = g on step 1, then momentum*b +
(1-dampening)*g), Adam's eps is added after bias-correcting sqrt(v), RMSprop's
and Adagrad's eps outside the root, AdamW's decay decoupled.
"""
from __future__ import annotations

import math

import numpy as np
import pytest

from fastmlp import MLP
from fastmlp import _core as core
from fastmlp import reference as ref
from fastmlp._backend import OPTIMIZERS
from fastmlp.optim import SGD, Adagrad, Adam, AdamW, RMSprop, get_optimizer
from fastmlp.testing import assert_close


def _step(opt, w, g, t, state=None, n_decay=None):
    return ref.optim_step(np.array(w, float), np.array(g, float), {**opt, "step": t}, state,
                          n_decay)


# ---- 1. each rule restated for one scalar ---------------------------------------------

def test_sgd_momentum_dampening_nesterov_by_hand():
    lr, mu, damp, g1, g2, w0 = 0.1, 0.9, 0.25, 0.5, -0.25, 1.0
    # momentum with dampening: b1 = g1 (no dampening on the first step); b2 = mu*b1 + (1-damp)*g2
    o = {"kind": "sgd", "lr": lr, "momentum": mu, "dampening": damp}
    w1, st = _step(o, [w0], [g1], 1)
    w2, st = _step(o, w1, [g2], 2, st)
    b2 = mu * g1 + (1 - damp) * g2
    assert st["s1"][0] == pytest.approx(b2)
    assert w2[0] == pytest.approx(w0 - lr * g1 - lr * b2)
    # Nesterov: d = g + mu*b
    o = {"kind": "sgd", "lr": lr, "momentum": mu, "nesterov": True}
    w1, st = _step(o, [w0], [g1], 1)
    w2, _ = _step(o, w1, [g2], 2, st)
    b2 = mu * g1 + g2
    assert w2[0] == pytest.approx(w0 - lr * (g1 + mu * g1) - lr * (g2 + mu * b2))
    # coupled weight decay and L1 enter the gradient: g' = g + wd*w + l1*sign(w)
    w1, _ = _step({"kind": "sgd", "lr": lr, "weight_decay": 0.1, "l1": 0.01}, [w0], [g1], 1)
    assert w1[0] == pytest.approx(w0 - lr * (g1 + 0.1 * w0 + 0.01))


def test_adagrad_rmsprop_by_hand():
    lr, eps, g1, g2, w0 = 0.1, 1e-10, 0.5, -0.25, 1.0
    # Adagrad: s = init + g^2; w -= lr*g/(sqrt(s)+eps)
    o = {"kind": "adagrad", "lr": lr, "eps": eps, "initial_accumulator_value": 0.3}
    w1, st = _step(o, [w0], [g1], 1)
    assert st["s1"][0] == pytest.approx(0.3 + g1**2)
    assert w1[0] == pytest.approx(w0 - lr * g1 / (math.sqrt(0.3 + g1**2) + eps))
    # RMSprop centered with momentum: v = (1-a)g^2, m = (1-a)g, den = sqrt(v - m^2) + eps,
    # b = g/den, w -= lr*b
    a, mu = 0.9, 0.5
    o = {"kind": "rmsprop", "lr": lr, "alpha": a, "eps": 1e-8, "momentum": mu, "centered": True}
    w1, st = _step(o, [w0], [g1], 1)
    den1 = math.sqrt((1 - a) * g1**2 - ((1 - a) * g1) ** 2) + 1e-8
    assert w1[0] == pytest.approx(w0 - lr * g1 / den1)
    w2, st = _step(o, w1, [g2], 2, st)
    v2 = a * (1 - a) * g1**2 + (1 - a) * g2**2
    m2 = a * (1 - a) * g1 + (1 - a) * g2
    b2 = mu * g1 / den1 + g2 / (math.sqrt(v2 - m2**2) + 1e-8)
    assert w2[0] == pytest.approx(w1[0] - lr * b2)


def test_adam_amsgrad_adamw_by_hand():
    lr, b1, b2, eps, w0 = 0.01, 0.9, 0.999, 1e-8, 1.0
    g1, g2 = 0.5, 0.01
    o = {"kind": "adam", "lr": lr, "eps": eps, "amsgrad": True}
    w1, st = _step(o, [w0], [g1], 1)
    # t = 1: m = 0.1 g, v = 0.001 g^2: the step is lr * g/|g| (eps after bias correction)
    assert w1[0] == pytest.approx(w0 - lr * g1 / (abs(g1) + eps))
    w2, st = _step(o, w1, [g2], 2, st)
    m = b1 * (1 - b1) * g1 + (1 - b1) * g2
    v = b2 * (1 - b2) * g1**2 + (1 - b2) * g2**2
    vmax = max((1 - b2) * g1**2, v)  # AMSGrad keeps the running max of v
    assert st["s3"][0] == pytest.approx(vmax)
    step = lr / (1 - b1**2) * m / (math.sqrt(vmax) / math.sqrt(1 - b2**2) + eps)
    assert w2[0] == pytest.approx(w1[0] - step)
    # AdamW: w *= 1 - lr*wd first, the Adam step uses the raw gradient
    w1, _ = _step({"kind": "adamw", "lr": lr, "weight_decay": 0.1}, [w0], [g1], 1)
    assert w1[0] == pytest.approx(w0 * (1 - lr * 0.1) - lr * g1 / (abs(g1) + eps))


# ---- 2. the C kernel against the reference ------------------------------------------

THIRD_BUFFER_CASES = [
    {"kind": "rmsprop", "lr": 0.01, "alpha": 0.9, "momentum": 0.9},
    {"kind": "rmsprop", "lr": 0.01, "alpha": 0.9, "centered": True},
    {"kind": "rmsprop", "lr": 0.01, "alpha": 0.95, "momentum": 0.5, "centered": True,
     "weight_decay": 0.05},
    {"kind": "adam", "lr": 0.01, "amsgrad": True},
    {"kind": "adamw", "lr": 0.01, "weight_decay": 0.1, "amsgrad": True},
    {"kind": "adam", "lr": 0.01, "amsgrad": True, "sklearn": True},
]


@pytest.mark.parametrize("opt", THIRD_BUFFER_CASES,
                         ids=lambda o: "-".join(f"{k}={v}" for k, v in o.items()))
@pytest.mark.parametrize("n", [1, 7, 40001])
def test_kernel_third_buffer_rules(dtype, n_threads, opt, n):
    """Four steps from fresh state (RMSprop momentum/centered, AMSGrad), decay on n//2."""
    rng = np.random.default_rng(5)
    w = rng.standard_normal(n).astype(dtype)
    s1, s2, s3 = (np.zeros(n, dtype) for _ in range(3))
    rw, rst = w.astype(np.float64), None
    copt = {**opt, "kind": OPTIMIZERS[opt["kind"]]}
    for step in range(1, 5):
        g = (rng.standard_normal(n) * (1 + step)).astype(dtype)  # growing: AMSGrad's max moves
        core.optim_update(w, s1, s2, g, {**copt, "step": step}, n // 2, n_threads, s3=s3)
        rw, rst = ref.optim_step(rw, g, {**opt, "step": step}, rst, n // 2)
    assert_close(w, rw, dtype, what="w")
    for k, buf in (("s1", s1), ("s2", s2), ("s3", s3)):
        assert_close(buf, rst[k], dtype, what=k)


def test_kernel_requires_the_third_buffer():
    w = np.zeros(3)
    with pytest.raises(ValueError, match="s3 is required"):
        core.optim_update(w, w.copy(), w.copy(), w.copy(),
                          {"kind": OPTIMIZERS["adam"], "lr": 0.1, "amsgrad": True, "step": 1})


# ---- 3. the reference against torch.optim -------------------------------------------

TORCH_CASES = [
    ("SGD", {"lr": 0.1}, {"kind": "sgd", "lr": 0.1}),
    ("SGD", {"lr": 0.1, "momentum": 0.9, "dampening": 0.3, "weight_decay": 0.01},
     {"kind": "sgd", "lr": 0.1, "momentum": 0.9, "dampening": 0.3, "weight_decay": 0.01}),
    ("SGD", {"lr": 0.1, "momentum": 0.9, "nesterov": True},
     {"kind": "sgd", "lr": 0.1, "momentum": 0.9, "nesterov": True}),
    ("Adagrad", {"lr": 0.1, "weight_decay": 0.1, "initial_accumulator_value": 0.2},
     {"kind": "adagrad", "lr": 0.1, "weight_decay": 0.1, "initial_accumulator_value": 0.2,
      "eps": 1e-10}),
    ("RMSprop", {"lr": 0.01, "alpha": 0.9, "weight_decay": 0.1},
     {"kind": "rmsprop", "lr": 0.01, "alpha": 0.9, "weight_decay": 0.1}),
    ("RMSprop", {"lr": 0.01, "momentum": 0.8, "centered": True},
     {"kind": "rmsprop", "lr": 0.01, "momentum": 0.8, "centered": True, "alpha": 0.99}),
    ("Adam", {"lr": 0.01, "betas": (0.8, 0.99), "eps": 1e-6, "weight_decay": 0.1},
     {"kind": "adam", "lr": 0.01, "beta1": 0.8, "beta2": 0.99, "eps": 1e-6,
      "weight_decay": 0.1}),
    ("Adam", {"lr": 0.01, "amsgrad": True}, {"kind": "adam", "lr": 0.01, "amsgrad": True}),
    ("AdamW", {"lr": 0.01, "weight_decay": 0.1, "amsgrad": True},
     {"kind": "adamw", "lr": 0.01, "weight_decay": 0.1, "amsgrad": True}),
]


@pytest.mark.parametrize("cls,kwargs,mine", TORCH_CASES,
                         ids=[f"{c}-{i}" for i, (c, _, _) in enumerate(TORCH_CASES)])
def test_reference_matches_torch_optim(cls, kwargs, mine):
    torch = pytest.importorskip("torch", reason="the reference is checked against torch.optim")
    rng = np.random.default_rng(3)
    w0 = rng.standard_normal(11)
    grads = [rng.standard_normal(11) * (1 + t) for t in range(6)]
    p = torch.nn.Parameter(torch.tensor(w0, dtype=torch.float64))
    topt = getattr(torch.optim, cls)([p], **kwargs)
    w, st = w0.copy(), None
    for t, g in enumerate(grads, start=1):
        p.grad = torch.tensor(g, dtype=torch.float64)
        topt.step()
        w, st = ref.optim_step(w, g, {**mine, "step": t}, st)
    np.testing.assert_allclose(w, p.detach().numpy(), rtol=1e-12, atol=1e-14)


def _torch_twin(torch, net, act):
    """A float64 torch Sequential(Linear, act, Linear) holding the MLP's weights
    (torch stores W as (out, in): the transpose of fastmlp's layout)."""
    (i, h), (_, o) = net._shapes()
    tnet = torch.nn.Sequential(torch.nn.Linear(i, h), act(), torch.nn.Linear(h, o)).double()
    with torch.no_grad():
        for lin, w, b in zip((tnet[0], tnet[2]), net.coefs_, net.intercepts_):
            lin.weight.copy_(torch.tensor(w.T))
            lin.bias.copy_(torch.tensor(b))
    return tnet


FIT_CASES = [
    ("SGD", {"lr": 0.1, "momentum": 0.9, "nesterov": True, "weight_decay": 1e-3}),
    ("SGD", {"lr": 0.1, "momentum": 0.9, "dampening": 0.5}),
    ("Adagrad", {"lr": 0.1, "lr_decay": 0.05, "initial_accumulator_value": 0.1,
                 "weight_decay": 0.01}),
    ("RMSprop", {"lr": 0.01, "momentum": 0.9, "centered": True, "weight_decay": 0.01}),
    ("Adam", {"lr": 0.01, "weight_decay": 0.01, "amsgrad": True}),
    ("AdamW", {"lr": 0.02}),
]


@pytest.mark.parametrize("cls,kwargs", FIT_CASES, ids=[f"{c}-{i}" for i, (c, _) in
                                                      enumerate(FIT_CASES)])
def test_fit_follows_the_pytorch_trajectory(cls, kwargs):
    """The same net, init, batches and torch.optim optimizer in PyTorch: same weights after
    3 epochs of 6 batches (float64), so a user moving from PyTorch gets the same run."""
    torch = pytest.importorskip("torch", reason="trajectory parity with PyTorch")
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((30, 4)), rng.integers(0, 3, 30)
    net = MLP([4, 8, 3], activation="tanh", loss="cce", dtype=np.float64, seed=0)
    tnet = _torch_twin(torch, net, torch.nn.Tanh)
    topt = getattr(torch.optim, cls)(tnet.parameters(), **kwargs)
    tX, ty = torch.tensor(X), torch.tensor(y)
    for _ in range(3):
        for lo in range(0, 30, 5):
            topt.zero_grad()
            torch.nn.functional.cross_entropy(tnet(tX[lo:lo + 5]), ty[lo:lo + 5]).backward()
            topt.step()
    opt = getattr(__import__("fastmlp.optim", fromlist=[cls]), cls)(**kwargs)
    net.fit(X, y, epochs=3, batch_size=5, shuffle=False, optimizer=opt, verbose=0)
    for lin, w, b in zip((tnet[0], tnet[2]), net.coefs_, net.intercepts_):
        assert_close(w, lin.weight.detach().numpy().T, np.float64, kind="trajectory", what="W")
        assert_close(b, lin.bias.detach().numpy(), np.float64, kind="trajectory", what="b")


def test_fit_with_step_schedule_follows_pytorch():
    """SGD momentum with StepLR: torch's buffer holds gradients, so the lr drop acts at once."""
    torch = pytest.importorskip("torch", reason="trajectory parity with PyTorch")
    from fastmlp.schedules import StepLR

    rng = np.random.default_rng(1)
    X, Y = rng.standard_normal((20, 3)), rng.standard_normal((20, 2))
    net = MLP([3, 6, 2], activation="sigmoid", loss="mse", dtype=np.float64, seed=2)
    tnet = _torch_twin(torch, net, torch.nn.Sigmoid)
    topt = torch.optim.SGD(tnet.parameters(), lr=0.2, momentum=0.9)
    sched = torch.optim.lr_scheduler.StepLR(topt, step_size=2, gamma=0.3)
    for _ in range(5):
        for lo in range(0, 20, 4):
            topt.zero_grad()
            torch.nn.functional.mse_loss(tnet(torch.tensor(X[lo:lo + 4])),
                                         torch.tensor(Y[lo:lo + 4])).backward()
            topt.step()
        sched.step()
    net.fit(X, Y, epochs=5, batch_size=4, shuffle=False, optimizer=SGD(lr=0.2, momentum=0.9),
            lr_schedule=StepLR(step_size=2, gamma=0.3), verbose=0)
    assert net.history_["lr"] == pytest.approx([0.2, 0.2, 0.06, 0.06, 0.018])
    for lin, w in zip((tnet[0], tnet[2]), net.coefs_):
        assert_close(w, lin.weight.detach().numpy().T, np.float64, kind="trajectory")


# ---- 4. the objects and fit's optimizer argument --------------------------------------

def test_defaults_match_torch_optim():
    assert SGD().lr == 1e-3 and SGD().momentum == 0 and not SGD().nesterov
    assert Adagrad().lr == 1e-2 and Adagrad().eps == 1e-10
    assert RMSprop().lr == 1e-2 and RMSprop().alpha == 0.99 and RMSprop().eps == 1e-8
    assert Adam().lr == 1e-3 and Adam().betas == (0.9, 0.999) and Adam().weight_decay == 0
    assert AdamW().weight_decay == 1e-2
    assert repr(Adam(lr=0.1)) == ("Adam(lr=0.1, betas=(0.9, 0.999), eps=1e-08, weight_decay=0.0, "
                                  "amsgrad=False)")


@pytest.mark.parametrize("make,match", [
    (lambda: SGD(lr=-1), "'lr' parameter of SGD"),
    (lambda: SGD(lr=0.1, nesterov=True), "Nesterov momentum requires"),
    (lambda: SGD(lr=0.1, momentum=0.9, dampening=0.1, nesterov=True), "zero dampening"),
    (lambda: Adam(betas=(0.9, 1.0)), r"'betas\[1\]' parameter of Adam"),
    (lambda: Adam(betas=0.9), "'betas' parameter of Adam"),
    (lambda: RMSprop(alpha=1.5), "'alpha' parameter of RMSprop"),
    (lambda: Adagrad(eps=float("nan")), "'eps' parameter of Adagrad"),
    (lambda: AdamW(amsgrad="yes"), "'amsgrad' parameter of AdamW must be a bool"),
    (lambda: get_optimizer("lbfgs"), "unknown optimizer 'lbfgs'"),
    (lambda: get_optimizer(Adam(), learning_rate=0.1), "set learning_rate on it"),
    (lambda: get_optimizer(Adam), "got the class Adam"),
    (lambda: get_optimizer("adam", momentum=0.9), "momentum applies to 'sgd' and 'rmsprop'"),
    (lambda: get_optimizer("adam", nesterov=True), "nesterov applies to optimizer='sgd'"),
])
def test_bad_optimizer_arguments(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_names_build_the_classes_with_fits_rate():
    o = get_optimizer("adam")  # no rate: the class's own (fit's default for 'adam')
    assert isinstance(o, Adam) and o.lr == 1e-3 and o.betas == (0.9, 0.999)
    assert get_optimizer("sgd").lr == 0.01  # fit's documented default for 'sgd'
    assert get_optimizer("adam", 0.01).lr == 0.01
    o = get_optimizer("sgd", 0.5, 0.9, True)
    assert o == SGD(lr=0.5, momentum=0.9, nesterov=True)
    assert get_optimizer("RMSprop", 0.1, 0.5) == RMSprop(lr=0.1, momentum=0.5)


def test_name_and_object_train_identically():
    rng = np.random.default_rng(4)
    X, y = rng.standard_normal((40, 3)), rng.integers(0, 2, 40)
    a = MLP([3, 5, 2], seed=1).fit(X, y, epochs=2, optimizer="adam", learning_rate=0.01, verbose=0)
    b = MLP([3, 5, 2], seed=1).fit(X, y, epochs=2, optimizer=Adam(lr=0.01), verbose=0)
    assert np.array_equal(a._params, b._params)


def test_state_carries_over_between_fits_until_the_rule_changes():
    rng = np.random.default_rng(6)
    X, y = rng.standard_normal((32, 3)), rng.integers(0, 2, 32)
    net = MLP([3, 4, 2], seed=0)
    net.fit(X, y, epochs=1, batch_size=8, optimizer=Adam(lr=0.01), verbose=0)
    assert net._opt_state["step"] == 4
    net.fit(X, y, epochs=1, batch_size=8, optimizer=Adam(lr=0.001), verbose=0)
    assert net._opt_state["step"] == 8 and net._opt_state["lr"] == 0.001
    net.fit(X, y, epochs=1, batch_size=8, optimizer=Adam(lr=0.001, amsgrad=True), verbose=0)
    assert net._opt_state["step"] == 4  # a new buffer layout starts afresh
    net.fit(X, y, epochs=1, batch_size=8, optimizer="sgd", verbose=0)
    assert net._opt_state["step"] == 4 and net._opt_state["kind"] == OPTIMIZERS["sgd"]
    net.reset_optimizer()
    assert net._opt_state is None


def test_two_fits_equal_one_longer_fit():
    """Carried-over state: fit(2) + fit(2) is fit(4) (same shuffles, moments and step)."""
    rng = np.random.default_rng(7)
    X, y = rng.standard_normal((50, 4)), rng.integers(0, 3, 50)
    a = MLP([4, 6, 3], seed=3, dropout=0.2)
    a.fit(X, y, epochs=2, optimizer=RMSprop(lr=0.01, momentum=0.5, centered=True), verbose=0)
    a.fit(X, y, epochs=2, optimizer=RMSprop(lr=0.01, momentum=0.5, centered=True), verbose=0)
    b = MLP([4, 6, 3], seed=3, dropout=0.2)
    b.fit(X, y, epochs=4, optimizer=RMSprop(lr=0.01, momentum=0.5, centered=True), verbose=0)
    assert np.array_equal(a._params, b._params)


def test_decay_bias_false_leaves_biases_undecayed():
    X = np.zeros((4, 2))
    Y = np.zeros((4, 1))  # zero inputs and targets: only decay moves the biases
    net = MLP([2, 1], loss="mse", dtype=np.float64, seed=0)
    net.intercepts_ = [np.array([1.0])]
    net.fit(X, Y, epochs=1, batch_size=None, optimizer=SGD(lr=0.1, weight_decay=0.5,
                                                           decay_bias=False), verbose=0)
    # gradient of the bias: 2*(b - 0) = 2 -> b = 1 - 0.1*2 (no decay term)
    assert net.intercepts_[0][0] == pytest.approx(0.8)
    net.intercepts_ = [np.array([1.0])]
    net.fit(X, Y, epochs=1, batch_size=None, optimizer=SGD(lr=0.1, weight_decay=0.5), verbose=0)
    assert net.intercepts_[0][0] == pytest.approx(1 - 0.1 * (2 + 0.5))
