"""The file contract of fastmlp.io (docs/RELIABILITY.md, "Files"): crafted files that used
to let other exceptions escape, entries that are well-formed alone but inconsistent
together, save refusing what load would refuse, and the mode of the files written."""
from __future__ import annotations

import io as _stdio
import json
import os
import pathlib
import stat
import struct
import zipfile

import numpy as np
import pytest

import fastmlp
from fastmlp import MLP
from fastmlp.io import ModelFileError
from fastmlp.optim import SGD, Adagrad, Adam, RMSprop


def _fitted(opt=None, labels=None, dtype=np.float32):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((40, 4))
    y = rng.integers(0, 3, 40) if labels is None else np.asarray(labels)[rng.integers(0, 3, 40)]
    net = MLP([4, 6, 3], seed=2, dtype=dtype, loss="cce")
    net.fit(X, y, epochs=1, optimizer=opt or Adam(lr=0.01, amsgrad=True), verbose=0)
    return net


def _entries(path) -> dict:
    with np.load(path, allow_pickle=False) as z:
        return {k: z[k] for k in z.files}


def _write(tmp_path, arrays: dict, name="edited.npz") -> pathlib.Path:
    dst = tmp_path / name
    np.savez(dst, **arrays)
    return dst


def _edit(tmp_path, src, drop=(), **replace) -> pathlib.Path:
    arrays = {k: v for k, v in _entries(src).items() if k not in drop}
    arrays.update(replace)
    return _write(tmp_path, arrays)


def _edit_json(tmp_path, src, key, change) -> pathlib.Path:
    obj = json.loads(str(_entries(src)[key]))
    change(obj)
    return _edit(tmp_path, src, **{key: np.array(json.dumps(obj))})


@pytest.fixture
def saved(tmp_path):
    return pathlib.Path(_fitted().save(tmp_path / "good.npz"))


def test_modelfileerror_is_exported_and_a_valueerror():
    assert fastmlp.ModelFileError is ModelFileError and issubclass(ModelFileError, ValueError)


# ---------------------------------------------------------------------- crafted zip containers
def _patch_zip_headers(data: bytes, local_off: int, central_off: int, value: int,
                       width: str = "<H") -> bytes:
    """Set a field of every local (PK\\3\\4) and central (PK\\1\\2) header."""
    out = bytearray(data)
    for sig, off in ((b"PK\x03\x04", local_off), (b"PK\x01\x02", central_off)):
        i = out.find(sig)
        while i >= 0:
            struct.pack_into(width, out, i + off, value)
            i = out.find(sig, i + 4)
    return bytes(out)


@pytest.mark.parametrize("method", [8, 12, 14, 99])  # deflate, bzip2, lzma, unknown
def test_a_compression_method_is_refused_cleanly(tmp_path, saved, method):
    bad = _patch_zip_headers(saved.read_bytes(), 8, 10, method)
    p = tmp_path / "m.npz"
    p.write_bytes(bad)
    with pytest.raises(ModelFileError, match=f"compression method {method}"):
        MLP.load(p)


def test_savez_compressed_is_refused_with_the_reason(tmp_path, saved):
    p = tmp_path / "c.npz"
    np.savez_compressed(p, **_entries(saved))
    with pytest.raises(ModelFileError, match="uncompressed members only"):
        MLP.load(p)


def test_the_encrypted_flag_is_refused_cleanly(tmp_path, saved):
    p = tmp_path / "m.npz"
    p.write_bytes(_patch_zip_headers(saved.read_bytes(), 6, 8, 0x1))
    with pytest.raises(ModelFileError, match="encrypted"):
        MLP.load(p)


def _npy(header: dict, payload: bytes = b"") -> bytes:
    buf = _stdio.BytesIO()
    np.lib.format.write_array_header_1_0(buf, header)
    return buf.getvalue() + payload


def _zip(tmp_path, members: dict, name="crafted.npz") -> pathlib.Path:
    p = tmp_path / name
    with zipfile.ZipFile(p, "w") as zf:
        for k, v in members.items():
            zf.writestr(k + ".npy", v)
    return p


def _members(src) -> dict:
    with zipfile.ZipFile(src) as zf:
        return {n[:-4]: zf.read(n) for n in zf.namelist()}


@pytest.mark.parametrize("shape", [(10**12,), (10**6, 10**6), (2**62, 4), (-1, -8)])
def test_a_header_claiming_more_than_the_file_holds_allocates_nothing(tmp_path, saved, shape):
    members = _members(saved)
    members["params"] = _npy({"descr": "<f4", "fortran_order": False, "shape": shape},
                             b"\0" * 64)
    with pytest.raises(ModelFileError, match="params"):
        MLP.load(_zip(tmp_path, members))


def test_a_zip_directory_claiming_huge_members(tmp_path, saved):
    data = bytearray(saved.read_bytes())
    i = data.find(b"PK\x01\x02")
    struct.pack_into("<I", data, i + 20, 0xFFFFFFF0)  # compressed size
    struct.pack_into("<I", data, i + 24, 0xFFFFFFF0)  # uncompressed size
    p = tmp_path / "m.npz"
    p.write_bytes(bytes(data))
    with pytest.raises(ModelFileError):
        MLP.load(p)


@pytest.mark.parametrize("descr", ["|O", "<c16", [("a", "<f4")], "|V8", "<M8[s]", "<f2"])
def test_entries_of_foreign_dtypes(tmp_path, saved, descr):
    members = _members(saved)
    members["params"] = _npy({"descr": descr, "fortran_order": False, "shape": (2,)},
                             b"\0" * (2 * 16))
    with pytest.raises(ModelFileError):
        MLP.load(_zip(tmp_path, members))


def test_not_a_regular_file(tmp_path):
    with pytest.raises(ModelFileError, match="not a regular file"):
        MLP.load(tmp_path)
    os.mkfifo(tmp_path / "fifo")
    with pytest.raises(ModelFileError, match="not a regular file"):  # and no hang on open
        MLP.load(tmp_path / "fifo")


def test_a_bad_thread_count_is_the_arguments_error_not_the_files(saved):
    with pytest.raises(ValueError, match="n_threads") as info:
        MLP.load(saved, n_threads=0)
    assert not isinstance(info.value, ModelFileError)


# ---------------------------------------------------------------------- inconsistent entries
@pytest.mark.parametrize("change, fragment", [
    (lambda s: s["state"].update(state=-1), "PCG64 state"),
    (lambda s: s["state"].update(inc=2**130), "PCG64 state"),
    (lambda s: s.update(bit_generator="MT19937"), "PCG64 state"),
    (lambda s: s.update(has_uint32=7), "PCG64 state"),
    (lambda s: s.clear(), "PCG64 state"),
])
def test_rng_states_out_of_range(tmp_path, saved, change, fragment):
    with pytest.raises(ModelFileError, match=fragment):
        MLP.load(_edit_json(tmp_path, saved, "rng", change))


@pytest.mark.parametrize("classes, fragment", [
    (np.array([0, 1]), "should be 3 labels"),
    (np.array([0, 1, 2, 3]), "should be 3 labels"),
    (np.array([2, 1, 0]), "not sorted"),
    (np.array([0, 0, 1]), "not sorted"),
    (np.array([0.0, np.nan, 1.0]), "NaN"),
    (np.array([[0, 1, 2]]), "should be 3 labels"),
    (np.array([1 + 0j, 2, 3]), "dtype complex128"),
])
def test_classes_inconsistent_with_the_network(tmp_path, saved, classes, fragment):
    with pytest.raises(ModelFileError, match=fragment):
        MLP.load(_edit(tmp_path, saved, classes=classes))


@pytest.mark.parametrize("opt, key, value, fragment", [
    (Adam(lr=0.01, amsgrad=True), "opt_s2", -1.0, "negative"),
    (Adam(lr=0.01, amsgrad=True), "opt_s3", -1.0, "negative"),
    (Adagrad(lr=0.01), "opt_s1", -0.5, "negative"),
    (RMSprop(lr=0.01), "opt_s1", -0.5, "negative"),
    (Adam(lr=0.01), "opt_s1", np.inf, "NaN or infinity"),
    (SGD(lr=0.1, momentum=0.9), "opt_s1", np.nan, "NaN or infinity"),
])
def test_optimizer_buffers_out_of_range(tmp_path, opt, key, value, fragment):
    src = _fitted(opt).save(tmp_path / "o.npz")
    buf = _entries(src)[key].copy()
    buf[3] = value
    with pytest.raises(ModelFileError, match=fragment):
        MLP.load(_edit(tmp_path, src, **{key: buf}))


@pytest.mark.parametrize("change, fragment", [
    (lambda s: s.update(step=-3), "step"),
    (lambda s: s.update(step=1.5), "step"),
    (lambda s: s.update(step=2**70), "step"),
    (lambda s: s.update(layout=["nadam", False, False]), "layout"),
    (lambda s: s.update(layout=["adam", False]), "layout"),
    (lambda s: s.update(kind=0), "kind"),
    (lambda s: s.update(layout=["adam", False, False]), "needs"),  # amsgrad's s3 present
    (lambda s: s.update(lr=float("inf")), "lr"),
])
def test_optimizer_state_out_of_range(tmp_path, saved, change, fragment):
    with pytest.raises(ModelFileError, match=fragment):
        MLP.load(_edit_json(tmp_path, saved, "optimizer", change))


def test_optimizer_buffers_without_their_description(tmp_path, saved):
    with pytest.raises(ModelFileError, match="without an 'optimizer' entry"):
        MLP.load(_edit(tmp_path, saved, drop=("optimizer",)))
    with pytest.raises(ModelFileError, match="needs"):
        MLP.load(_edit(tmp_path, saved, drop=("opt_s3",)))


@pytest.mark.parametrize("change, fragment", [
    (lambda c: c.update(layers=[4, 10**6, 10**6, 3], activation=["relu"] * 2, dropout=[0, 0]),
     "params has"),  # checked against the file: no 10^12-parameter allocation
    (lambda c: c.update(layers=[4, 0, 3]), "layers"),
    (lambda c: c.update(layers=[4, True, 3]), "layers"),
    (lambda c: c.update(layers=[4, 6.0, 3]), "layers"),
    (lambda c: c.update(activation=["relu", "tanh"]), "activation"),
    (lambda c: c.update(activation=["swish"]), "activation"),
    (lambda c: c.update(dropout=[1.5]), "dropout"),
    (lambda c: c.update(dtype="float16"), "dtype"),
    (lambda c: c.update(dtype="float64"), "params has"),
    (lambda c: c.update(leaky_slope=-1), "leaky_slope"),
    (lambda c: c.update(input_noise=float("nan")), "input_noise"),
    (lambda c: c.update(seed=-5), "seed"),
    (lambda c: c.update(noise_seed="-1"), "noise_seed"),
    (lambda c: c.update(noise_seed=str(2**64)), "noise_seed"),
    (lambda c: c.update(loss="hinge"), "loss"),
    (lambda c: c.update(loss="auto"), "auto"),
    (lambda c: c.update(output_activation=3), "output_activation"),
    (lambda c: c.pop("init"), "keys"),
    (lambda c: c.update(extra=1), "keys"),
])
def test_config_out_of_range(tmp_path, saved, change, fragment):
    with pytest.raises(ModelFileError, match=fragment):
        MLP.load(_edit_json(tmp_path, saved, "config", change))


@pytest.mark.parametrize("replace, fragment", [
    ({"history": np.array(json.dumps({"loss": ["x"]}))}, "history"),
    ({"history": np.array(json.dumps([1, 2]))}, "history"),
    ({"history": np.array("[" * 100000)}, "JSON"),  # deep nesting: no RecursionError
    ({"format_version": np.array(1.0)}, "format_version"),
    ({"fastmlp_version": np.array(3)}, "fastmlp_version"),
    # 7 required + 6 optional entries; the fixture holds all but norm_state
    ({"surprise": np.zeros(2), "surprise2": np.zeros(2)}, "more than the 13 expected"),
    ({"params": np.zeros((5, 3), np.float32)}, "params has"),
])
def test_other_entries_out_of_range(tmp_path, saved, replace, fragment):
    with pytest.raises(ModelFileError, match=fragment):
        MLP.load(_edit(tmp_path, saved, **replace))


def test_a_failed_load_builds_nothing_and_a_good_one_is_complete(tmp_path, saved):
    net = MLP.load(saved)
    assert net._opt_state["s3"] is not None and net._opt_state["step"] > 0
    X = np.random.default_rng(1).standard_normal((40, 4))
    net.fit(X, np.arange(40) % 3, epochs=1, optimizer=Adam(lr=0.01, amsgrad=True), verbose=0)


# ---------------------------------------------------------------------- what save writes
def test_save_refuses_non_finite_weights_and_writes_nothing(tmp_path):
    net = _fitted()
    net._params[5] = np.nan
    with pytest.raises(ValueError, match="params contain NaN or infinity.*must be finite"):
        net.save(tmp_path / "nan.npz")
    assert os.listdir(tmp_path) == []


def test_save_refuses_non_finite_optimizer_state(tmp_path):
    net = _fitted()
    net._opt_state["s2"][0] = np.inf
    with pytest.raises(ValueError, match="opt_s2 contains NaN or infinity"):
        net.save(tmp_path / "inf.npz")
    assert os.listdir(tmp_path) == []


def test_save_refuses_classes_load_would_refuse(tmp_path):
    net = _fitted()
    net.classes_ = np.array([3, 1, 2])
    with pytest.raises(ValueError, match="not sorted"):
        net.save(tmp_path / "c.npz")


def test_save_refuses_history_that_is_not_json(tmp_path):
    net = _fitted()
    net.history_["custom"] = [object()]
    with pytest.raises(ValueError, match="history_ is not plain"):
        net.save(tmp_path / "h.npz")


@pytest.mark.parametrize("mask", [0o022, 0o027, 0o077, 0o000, 0o002])
def test_a_new_file_respects_the_umask(tmp_path, mask):
    old = os.umask(mask)
    try:
        path = _fitted().save(tmp_path / "m.npz")
    finally:
        os.umask(old)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o666 & ~mask


def test_a_replaced_file_keeps_its_mode(tmp_path):
    path = tmp_path / "m.npz"
    path.write_bytes(b"old")
    os.chmod(path, 0o640)
    _fitted().save(path)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o640
    assert MLP.load(path).layers == [4, 6, 3]


@pytest.mark.parametrize("labels", [None, ["b", "a", "c"], [2.5, -1.0, 7.0], [True, False, True]])
@pytest.mark.parametrize("opt", [SGD(lr=0.1), SGD(lr=0.1, momentum=0.9), Adagrad(lr=0.1),
                                 RMSprop(lr=0.01, centered=True, momentum=0.5),
                                 Adam(lr=0.01), Adam(lr=0.01, amsgrad=True)])
def test_what_save_writes_loads(tmp_path, labels, opt):
    if labels is not None and len(set(labels)) < 3:
        net = MLP([4, 5, 1], seed=0)
        y = np.asarray(labels)[np.arange(20) % 3]
        net.fit(np.random.default_rng(0).standard_normal((20, 4)), y, epochs=1, optimizer=opt,
                verbose=0)
    else:
        net = _fitted(opt, labels)
    back = MLP.load(net.save(tmp_path / "m.npz"))
    assert np.array_equal(back._params, net._params)
    assert (back.classes_ is None) == (net.classes_ is None)
