"""The one epoch driver (fastmlp._driver): its chunking, its stats decoder, its optimizer state."""
from __future__ import annotations

import numpy as np
import pytest

from fastmlp import _backend as B
from fastmlp import _driver as D
from fastmlp.optim import SGD, Adam, RMSprop


def test_stats_are_decoded_by_name():
    stats = np.arange(9, dtype=np.float64)
    st = B.TrainStats.decode(stats)
    assert (st.data_loss, st.correct, st.rows, st.penalty, st.abs_err, st.sq_err) == (
        0.0, 1.0, 2.0, 3.0, 4.0, 5.0)
    assert st.sq_err_k.tolist() == [6.0, 7.0, 8.0]
    stats[6] = -1  # a copy: later C calls do not change a decoded record
    assert st.sq_err_k[0] == 6.0
    assert [int(m) for m in B.Metric] == [0, 1, 2, 3]


def test_one_optimizer_state_model():
    p = np.zeros(5, np.float32)
    st = D.prepare_state(None, Adam(lr=0.1), p)
    assert st["step"] == 0 and st["s1"].shape == (5,) and st["s3"] is None
    st["step"] = 7
    assert D.prepare_state(st, Adam(lr=0.2), p)["step"] == 7  # same layout: kept
    assert D.prepare_state(st, SGD(lr=0.1, momentum=0.9), p)["step"] == 0  # new layout
    st64 = D.prepare_state(st, Adam(lr=0.2), p.astype(np.float64))
    assert st64["step"] == 7 and st64["s1"].dtype == np.float64  # cast, not dropped
    assert RMSprop().alpha == B.RMSPROP_ALPHA


def test_calls_end_on_flush_steps():
    a = B.core.TRAIN_ALIGN
    assert D.aligned_count(5, 0, 1, 100) == a  # nothing to flush before step a: run to it
    assert D.aligned_count(a + 3, 0, 1, 100) == a
    assert D.aligned_count(3, a - 1, 2, 100) == 1
    assert D.aligned_count(7, 0, 3, 100) == 7  # batches > 2 rows never defer
    assert D.aligned_count(7, 0, 1, 7) == 7  # the epoch's end


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dense_and_sparse_input_flush_at_the_same_steps(dtype, monkeypatch):
    """Sparse rows are read in place as CSR (the plain step); dense rows at batch 1 under
    plain SGD defer the updates of the wide layers and write them at the ends of calls,
    so the driver ends every call on a flush step whatever its size: the result does not
    depend on the chunk size, bit for bit, and sparse follows dense (trajectory tolerance)."""
    sp = pytest.importorskip("scipy.sparse")
    pytest.importorskip("sklearn")
    import warnings

    from fastmlp.sklearn import MLPClassifier
    from fastmlp.sklearn import _mlp as sk_mlp
    from fastmlp.testing import assert_close

    rng = np.random.default_rng(5)
    X = rng.standard_normal((203, 50)).astype(dtype)
    X[X < 0.3] = 0
    y = rng.integers(0, 4, 203)
    got = {}
    for chunk in (7, 16384):  # 7 batches per call, or the whole epoch in one
        monkeypatch.setattr(sk_mlp, "_CHUNK_ROWS", chunk)
        for name, Xin in (("dense", X), ("csr", sp.csr_matrix(X))):
            m = MLPClassifier((300,), solver="sgd", batch_size=1, max_iter=2, random_state=0,
                              learning_rate_init=0.01, momentum=0.0, alpha=0.0, n_threads=1)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                m.fit(Xin, y)
            got[name, chunk] = [c.copy() for c in m.coefs_]
    for name in ("dense", "csr"):
        for a, b in zip(got[name, 7], got[name, 16384]):
            assert np.array_equal(a, b)
    for a, b in zip(got["csr", 7], got["dense", 7]):
        assert_close(a, b, dtype, kind="trajectory", what="csr vs dense")
