"""Class labels to one-hot rows: integer labels 0..K-1 take a direct path
(no search per label) that must agree with the general one."""
from __future__ import annotations

import numpy as np
import pytest

from fastmlp import MLP


def _searched_one_hot(classes: np.ndarray, y: np.ndarray, K: int) -> np.ndarray:
    idx = np.searchsorted(classes, y)
    assert (classes[idx] == y).all()
    if K == 1:
        return idx.astype(float).reshape(-1, 1)
    out = np.zeros((len(y), K))
    out[np.arange(len(y)), idx] = 1
    return out


@pytest.mark.parametrize("ydtype", [np.int64, np.int32, np.uint8])
@pytest.mark.parametrize("labels,K", [(np.arange(4), 4), (np.array([0, 1, 2]), 4),
                                      (np.array([3, 5, 9, 11]), 4), (np.array([0, 1]), 1),
                                      (np.array([2, 7]), 1)])
def test_integer_labels_encode_like_a_search(dtype, ydtype, labels, K):
    rng = np.random.default_rng(0)
    y = labels[rng.integers(0, len(labels), 50)].astype(ydtype)
    y[:len(labels)] = labels  # every label present
    m = MLP([3, 5, K], seed=0, dtype=dtype)
    Y = m._encode(y, len(y), fitting=True)
    assert Y.dtype == dtype and Y.shape == (50, K) and Y.flags.c_contiguous
    assert np.array_equal(Y, _searched_one_hot(m.classes_, y, K))
    # encoding again (the model knows its classes now) gives the same rows
    assert np.array_equal(m._encode(y[::-1], len(y), fitting=False), Y[::-1])


@pytest.mark.parametrize("bad", [-1, 4, 7])
def test_labels_outside_0_to_k_are_rejected(bad):
    m = MLP([3, 5, 4], seed=0)
    m._encode(np.arange(4), 4, fitting=True)
    assert np.array_equal(m.classes_, np.arange(4))
    with pytest.raises(ValueError, match=rf"cannot represent: \[{bad}\]"):
        m._encode(np.array([0, bad, 1]), 3, fitting=False)
