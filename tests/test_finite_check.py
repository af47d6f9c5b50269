"""X's finite check inside fm_train: a fit checks each batch of its first epoch
in C right before using it (cfg check_finite), and a NaN or an infinity
anywhere in X leaves the model exactly as it was before the call."""
from __future__ import annotations

import copy

import numpy as np
import pytest

from fastmlp import MLP
from fastmlp import _core as core
from fastmlp import _backend as backend
from fastmlp._backend import ACTIVATIONS, LOSSES, OPTIMIZERS, train_steps

N, BS = 103, 10  # 11 batches, the last of 3 rows


def _fingerprint(obj):
    """A comparable, bit-exact picture of a model attribute."""
    if isinstance(obj, np.ndarray):
        return ("ndarray", obj.dtype.str, obj.shape, obj.tobytes())
    if isinstance(obj, np.random.Generator):
        return ("rng", _fingerprint(obj.bit_generator.state))
    if isinstance(obj, dict):
        return ("dict", tuple((k, _fingerprint(v)) for k, v in obj.items()))
    if isinstance(obj, (list, tuple)):
        return (type(obj).__name__, tuple(_fingerprint(v) for v in obj))
    if isinstance(obj, float):
        return ("float", np.float64(obj).tobytes())
    return (type(obj).__name__, obj)


def _model_state(m: MLP) -> dict:
    return {k: _fingerprint(v) for k, v in vars(m).items()}


def _data(dtype, seed=0):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((N, 6)).astype(dtype), rng.integers(0, 3, N)


def _row_in_batch(m: MLP, batch: int, shuffle: bool) -> int:
    """A row of X that epoch 0 of m's next fit puts in `batch` (the trainer draws
    epoch 0's permutation from m._rng first)."""
    order = np.arange(N)
    if shuffle:
        copy.deepcopy(m._rng).shuffle(order)
    rows = order[batch * BS:(batch + 1) * BS]
    return int(rows[len(rows) // 2])


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf], ids=["nan", "inf", "-inf"])
def test_kernel_matches_numpy(dtype, bad):
    rng = np.random.default_rng(1)
    for n in (1, 2, 31, 32, 33, 64, 100, 1000):
        x = (rng.standard_normal(n) * 1e3).astype(dtype)
        assert core.all_finite(x)
        for i in sorted({0, n // 2, n - 1, max(0, n - 33)}):
            xb = x.copy()
            xb[i] = bad
            assert not core.all_finite(xb), (n, i)
    big = np.full(100, np.finfo(dtype).max, dtype=dtype)
    big[::2] *= -1
    tiny = np.full(100, np.finfo(dtype).smallest_subnormal, dtype=dtype)
    assert core.all_finite(big) and core.all_finite(tiny) and core.all_finite(-0.0 * tiny)
    assert core.all_finite(np.zeros(0, dtype=dtype))


def _train_setup(dtype, shuffled, seed=0, sizes=(6, 9, 3), bs=BS, momentum=0.9):
    rng = np.random.default_rng(seed)
    acts = ["relu"] * (len(sizes) - 2) + ["softmax"]
    sizes_a = np.array(sizes, np.int64)
    acts_a = np.array([ACTIVATIONS[a] for a in acts], np.int32)
    slopes = np.zeros(len(acts))
    x = rng.standard_normal((N, sizes[0])).astype(dtype)
    y = np.eye(sizes[-1], dtype=dtype)[rng.integers(0, sizes[-1], N)]
    params = (rng.standard_normal(int(core.n_params(sizes_a, acts_a, slopes))) * 0.5).astype(dtype)
    order = rng.permutation(N).astype(np.int64) if shuffled else None
    return {"sizes": sizes_a, "acts": acts_a, "slopes": slopes, "x": x, "y": y,
            "params": params, "order": order, "bs": bs, "momentum": momentum}


def _run(setup, x, start, n_batches, check, n_threads, noise=0.0):
    params, bs = setup["params"], setup["bs"]
    sizes_a, acts_a, slopes = setup["sizes"], setup["acts"], setup["slopes"]
    dtype = params.dtype
    p = params.copy()
    s1, s2, grad = np.zeros_like(p), np.zeros_like(p), np.empty_like(p)
    work = np.empty(core.workspace_size(sizes_a, acts_a, slopes, bs), dtype)
    stats = np.zeros(16)
    opt = {"kind": OPTIMIZERS["sgd"], "lr": 0.05, "momentum": setup["momentum"], "step": 3}
    cfg = {"loss": LOSSES["cce"], "metric": 1, "check_finite": check, "input_noise": noise,
           "seed": 7}
    done, step = train_steps(params=p, grad=grad, work=work, stats=stats,
                             net=(sizes_a, acts_a, slopes), opt=opt, cfg=cfg, x=x, y=setup["y"],
                             order=setup["order"], start=start, n_batches=n_batches, batch=bs,
                             s1=s1, s2=s2, n_threads=n_threads)
    return done, step, p, s1, stats


@pytest.mark.parametrize("shuffled", [False, True])
@pytest.mark.parametrize("noise", [0.0, 0.3])
def test_check_changes_nothing_on_finite_data(dtype, n_threads, shuffled, noise):
    setup = _train_setup(dtype, shuffled)
    x = setup["x"]
    a = _run(setup, x, 2 * BS, 9, False, n_threads, noise)
    b = _run(setup, x, 2 * BS, 9, True, n_threads, noise)
    assert a[0] == b[0] == 9 and a[1] == b[1] == 12
    for u, v in zip(a[2:], b[2:]):
        assert u.tobytes() == v.tobytes()


# a batch of 2 through a 64x128 first layer: its plain-SGD updates are deferred
# (csrc/train/fast/lowrank.h) and must be flushed when a bad batch ends the call
SETUPS = {"small": {}, "deferred": {"sizes": (64, 128, 10), "bs": 2, "momentum": 0.0}}


@pytest.mark.parametrize("shuffled", [False, True])
@pytest.mark.parametrize("bad_batch", [0, 4, 8])  # of the call; 8 is the last
@pytest.mark.parametrize("kind", list(SETUPS))
def test_bad_batch_stops_the_call_before_it(dtype, n_threads, shuffled, bad_batch, kind):
    setup = _train_setup(dtype, shuffled, **SETUPS[kind])
    order, bs = setup["order"], setup["bs"]
    start = 2 * bs
    n_batches = 9 if kind == "small" else 12  # "small": the last batch is partial
    pos = start + bad_batch * bs + 1
    row = int(order[pos]) if shuffled else pos
    x = setup["x"].copy()
    x[row, 4] = np.nan
    done, step, p, s1, stats = _run(setup, x, start, n_batches, True, n_threads)
    assert done == -(bad_batch + 1)
    # exactly the batches before the bad one were trained, nothing of it
    ref = _run(setup, setup["x"], start, bad_batch, False, n_threads)
    assert ref[0] == bad_batch and step == ref[1] == 3 + bad_batch
    for u, v in zip((p, s1, stats), ref[2:]):
        assert u.tobytes() == v.tobytes()
    # unchecked, the NaN goes through (that is what the check is for)
    assert _run(setup, x, start, n_batches, False, n_threads)[0] == n_batches


def _pretrained(dtype, n_threads, seed=0):
    X, y = _data(dtype, seed)
    m = MLP([6, 8, 3], seed=seed, dtype=dtype, n_threads=n_threads)
    m.fit(X, y, epochs=2, batch_size=BS, optimizer="adam", verbose=0)
    return m


@pytest.mark.parametrize("shuffle", [False, True])
@pytest.mark.parametrize("where", ["first", "middle", "last"])
def test_fit_with_nan_leaves_the_model_as_before(dtype, n_threads, shuffle, where):
    """Bit for bit: weights, optimizer state and step, RNG, history, classes, loss."""
    batch = {"first": 0, "middle": 5, "last": N // BS}[where]  # the last one is partial
    X, y = _data(dtype, seed=1)

    def fresh():
        return MLP([6, 8, 3], seed=3, dtype=dtype, n_threads=n_threads)

    def pretrained():
        return _pretrained(dtype, n_threads)

    for make, optimizer in [(fresh, "sgd"),
                            (pretrained, "adam"),   # its optimizer state is reused in place
                            (pretrained, "sgd")]:   # its optimizer state is replaced
        m = make()
        Xb = X.copy()
        Xb[_row_in_batch(m, batch, shuffle), 2] = np.nan
        before, hist = _model_state(m), m.history_
        with pytest.raises(ValueError, match="^X contains NaN; all values must be finite$"):
            m.fit(Xb, y, epochs=3, batch_size=BS, optimizer=optimizer, shuffle=shuffle,
                  verbose=0)
        assert _model_state(m) == before
        assert m.history_ is hist
        # and it trains on as a model that never saw the bad call
        twin = make()
        for net in (m, twin):
            net.fit(X, y, epochs=1, batch_size=BS, optimizer=optimizer, shuffle=shuffle,
                    verbose=0)
        for net in (m, twin):
            del net.history_["time"]  # wall-clock seconds
        assert _model_state(m) == _model_state(twin)


@pytest.mark.parametrize("bad,word", [(np.inf, "infinity"), (-np.inf, "infinity")])
def test_fit_with_infinity(dtype, bad, word):
    X, y = _data(dtype)
    X[N - 1, 0] = bad
    m = _pretrained(dtype, 1)
    before = _model_state(m)
    with pytest.raises(ValueError, match=f"^X contains {word}"):
        m.fit(X, y, batch_size=BS, verbose=0, optimizer="sgd", epochs=10)
    assert _model_state(m) == before


def test_nan_and_infinity_report_nan_as_before():
    """The message does not depend on which bad value the loop met first."""
    X, y = _data(np.float32)
    X[0, 0], X[N - 1, 1] = np.inf, np.nan
    with pytest.raises(ValueError, match="^X contains NaN"):
        MLP([6, 8, 3], seed=0).fit(X, y, batch_size=BS, shuffle=False, verbose=0,
                                   optimizer="sgd", epochs=10)


def test_rows_split_off_for_validation_are_checked_before_training():
    X, y = _data(np.float64)
    X[N - 1, 0] = np.nan  # in the last 10%: evaluated, never trained on
    m = _pretrained(np.float64, 1)
    before = _model_state(m)
    with pytest.raises(ValueError, match="^X contains NaN"):
        m.fit(X, y, batch_size=BS, validation_split=0.1, verbose=0, optimizer="sgd", epochs=10)
    assert _model_state(m) == before
    Xv = X[:5].copy()
    with pytest.raises(ValueError, match="^validation_data X contains NaN"):
        m.fit(X[:-5], y[:-5], batch_size=BS, validation_data=(Xv * X[N - 1, 0], y[:5]),
              verbose=0, optimizer="sgd", epochs=10)
    assert _model_state(m) == before


def test_only_the_first_epoch_is_checked(monkeypatch):
    seen = []
    real = backend.train_steps

    def spy(**kw):
        seen.append(kw["cfg"]["check_finite"])
        return real(**kw)

    monkeypatch.setattr(backend, "train_steps", spy)
    X, y = _data(np.float32)
    m = MLP([6, 8, 3], seed=0)
    m.fit(X, y, epochs=3, batch_size=BS, verbose=0, optimizer="sgd")
    n_first = seen.index(False)
    assert n_first >= 1 and all(seen[:n_first]) and not any(seen[n_first:])
    assert len(seen) - n_first >= 2  # epochs 2 and 3 ran unchecked


def test_lr_find_still_checks_x_up_front():
    """lr_find trains only num_it batches, so it checks all of X before starting."""
    X, y = _data(np.float32)
    X[N - 1, 0] = np.nan
    m = MLP([6, 8, 3], seed=0)
    with pytest.raises(ValueError, match="^X contains NaN"):
        m.lr_find(X, y, num_it=6, batch_size=BS, optimizer="sgd")
