"""The counter RNG's normals and dropout masks on every kernel target.

Definitions (csrc/rng/rng.h, fastmlp.reference):
  unif(i)  = (u64(i) >> 11) 2^-53,  u64(i) = mix(key + (i+1) G)
  normal(2j), normal(2j+1) = r cos t, r sin t,  r = sqrt(-2 ln(1 - unif(2j))), t = 2 pi unif(2j+1)
  dropout drops unit i iff unif(i) < p and scales the rest by 1/(1-p)

Each target ("avx512", "avx2", "generic": polynomial log/sincos; "ref": libm) is
checked against the NumPy reference, for chunking and thread independence, and
the normals for their distribution: moments, tails and a Kolmogorov-Smirnov
test against the normal CDF on 2^20 draws.
"""
from __future__ import annotations

import math

import numpy as np
import pytest

from fastmlp import _core as core
from fastmlp import reference as ref
from fastmlp.testing import assert_close

KEYS = [(0, 1, 0), (12345, 7, 3), (2**64 - 1, 2**40, 64)]
# around the pair, vector (8 lanes) and staging-block (128 pairs) boundaries
SIZES = [1, 2, 3, 15, 16, 17, 255, 256, 257, 1000, 4097, 20_001]


def c_normals(n: int, seed: int, step: int, stream: int, n_threads: int = 1) -> np.ndarray:
    out = np.full(n, np.nan)
    core.rng_normal(out, seed, step, stream, n_threads)
    return out


@pytest.mark.parametrize("seed,step,stream", KEYS)
def test_normals_match_the_reference(target, n_threads, seed, step, stream):
    n = 20_001
    got = c_normals(n, seed, step, stream, n_threads)
    assert_close(got, ref.rng_normal(seed, step, stream, n), np.float64,
                 what=f"normals on {target}")


def test_normals_do_not_depend_on_length_chunking_or_threads(target):
    """normal(i) is a pure function of i: any prefix of a longer stream is the
    shorter stream bit for bit (whatever lane, block or chunk computes it), and
    so is the stream from two threads."""
    long = c_normals(50_001, 9, 2, 1)
    for n in SIZES:
        assert np.array_equal(c_normals(n, 9, 2, 1), long[:n]), n
    assert np.array_equal(c_normals(50_001, 9, 2, 1, n_threads=2), long)


def test_noise_is_the_same_for_both_dtypes_and_any_thread_count(target):
    """x + sigma*normal(i) is computed in double and rounded once, so a float32
    model sees the float64 model's noise rounded to float32."""
    n = 40_000  # enough work for two threads
    z64 = np.zeros(n)
    core.gaussian_noise(z64, 0.25, 4, 5, 0, 1)
    for n_threads in (1, 2):
        z32 = np.zeros(n, np.float32)
        core.gaussian_noise(z32, 0.25, 4, 5, 0, n_threads)
        assert np.array_equal(z32, z64.astype(np.float32))
        w64 = np.zeros(n)
        core.gaussian_noise(w64, 0.25, 4, 5, 0, n_threads)
        assert np.array_equal(w64, z64)
    assert np.array_equal(z64, 0.25 * c_normals(n, 4, 5, 0))


@pytest.mark.parametrize("n", [1, 17, 4097, 70_001])
def test_gaussian_noise_kernel_matches_the_reference(target, dtype, n_threads, n):
    x = np.linspace(-3, 3, n).astype(dtype)
    xc = x.copy()
    core.gaussian_noise(xc, 0.7, 3, 4, 0, n_threads)
    assert_close(xc, ref.gaussian_noise(x, 0.7, 3, 4, 0), dtype, what=f"noise on {target}")


@pytest.mark.parametrize("p", [0.0, 1e-9, 0.3, 0.5, 0.999])
def test_dropout_masks_are_the_reference_masks(target, dtype, n_threads, p):
    n = 70_001
    rng = np.random.default_rng(7)
    h = rng.standard_normal(n).astype(dtype)
    out = np.full(n, np.nan, dtype)
    core.dropout_forward(out, h, p, 5, 6, 7, n_threads)
    want = ref.dropout_forward(h, p, 5, 6, 7)
    assert np.array_equal(out == 0, want == 0)
    assert_close(out, want, dtype, what=f"dropout on {target}")
    d = h.copy()
    core.dropout_backward(d, p, 5, 6, 7, n_threads)
    assert np.array_equal(d, out)  # backward is the forward rule with the same key


def test_dropout_threshold_is_exact(target):
    """Unit i is dropped iff unif(i) < p exactly: with p equal to some unif(j), unit j
    is kept and the units whose uniform is one ulp (2^-53) lower are dropped."""
    n = 4096
    u = ref.rng_uniform(11, 12, 13, n)
    h = np.ones(n)
    for j in (5, 100, 4000):
        for p in (u[j], u[j] + 2.0**-54, u[j] - 2.0**-53, np.nextafter(u[j], 0)):
            if not 0 <= p < 1:
                continue
            out = np.empty(n)
            core.dropout_forward(out, h, p, 11, 12, 13, 1)
            assert np.array_equal(out == 0, u < p), (j, p)


def test_dropout_multiplies_like_the_reference():
    """out = h * (1/(1-p) or 0), as the reference: a dropped negative unit is -0.0."""
    h = np.full(64, -2.0)
    out = np.empty(64)
    core.dropout_forward(out, h, 0.5, 1, 2, 3, 1)
    want = ref.dropout_forward(h, 0.5, 1, 2, 3)
    assert (want == 0).any() and (want == -4.0).any()
    np.testing.assert_array_equal(out, want)
    np.testing.assert_array_equal(np.signbit(out), np.signbit(want))


def _normal_cdf(x: np.ndarray) -> np.ndarray:
    erf = np.frompyfunc(math.erf, 1, 1)
    return 0.5 * (1.0 + erf(x / math.sqrt(2.0)).astype(np.float64))


def _normal_sf(x: float) -> float:
    return 0.5 * math.erfc(x / math.sqrt(2.0))


def test_normals_have_the_normal_distribution():
    """2^20 draws of the default target: moments within 5 standard errors, the
    Kolmogorov-Smirnov distance below its 0.1% critical value, tail counts within
    5 binomial standard errors, Box-Muller's bound on |z|, and the two members of a
    pair uncorrelated."""
    n = 1 << 20
    z = c_normals(n, 2024, 1, 0)
    se = 1.0 / math.sqrt(n)
    assert abs(z.mean()) < 5 * se
    assert abs(z.var() - 1.0) < 5 * math.sqrt(2.0) * se
    assert abs(np.mean(z**3)) < 5 * math.sqrt(15.0) * se  # var(z^3) = 15
    assert abs(np.mean(z**4) - 3.0) < 5 * math.sqrt(96.0) * se  # var(z^4) = 105 - 9
    d = np.abs(_normal_cdf(np.sort(z)) - (np.arange(n) + 0.5) / n).max() + 0.5 / n
    assert d < 1.95 * se  # KS: P(D > 1.95/sqrt(n)) ~ 0.001
    for t in (1.0, 2.0, 3.0, 4.0):
        p = 2 * _normal_sf(t)
        assert abs(np.count_nonzero(np.abs(z) > t) - n * p) < 5 * math.sqrt(n * p * (1 - p)) + 1, t
    assert np.abs(z).max() <= math.sqrt(-2 * math.log(2.0**-53))
    assert abs(np.corrcoef(z[0::2], z[1::2])[0, 1]) < 5 * math.sqrt(2.0) * se
    assert abs(np.corrcoef(z[0::2] ** 2, z[1::2] ** 2)[0, 1]) < 5 * math.sqrt(2.0) * se
    # a different step gives an unrelated stream
    assert abs(np.corrcoef(z[:100_000], c_normals(100_000, 2024, 2, 0))[0, 1]) < 0.02


def test_the_statistical_checks_can_fail():
    """The checks above reject what they should: uniforms, a sd-1.01 sample, a single
    Box-Muller branch reused for both members of the pair."""
    n = 1 << 20
    se = 1.0 / math.sqrt(n)
    z = c_normals(n, 2024, 1, 0)
    assert abs((1.01 * z).var() - 1.0) > 5 * math.sqrt(2.0) * se
    u = (ref.rng_uniform(1, 1, 1, n) - 0.5) * math.sqrt(12.0)  # mean 0, sd 1, not normal
    d = np.abs(_normal_cdf(np.sort(u)) - (np.arange(n) + 0.5) / n).max() + 0.5 / n
    assert d > 1.95 * se
    cos_only = np.repeat(z[0::2], 2)
    assert abs(np.corrcoef(cos_only[0::2], cos_only[1::2])[0, 1]) > 0.99
