"""Tests for ftrlx.init: shapes, bounds, moments, sparsity, seeding, errors."""

import numpy as np
import pytest

from ftrlx import init

RANDOM_INITS = {
    "fan_in_uniform": lambda m, n, **kw: init.fan_in_uniform(m, n, **kw),
    "glorot_uniform": lambda m, n, **kw: init.glorot_uniform(m, n, **kw),
    "glorot_normal": lambda m, n, **kw: init.glorot_normal(m, n, **kw),
    "sparse_init": lambda m, n, **kw: init.sparse_init(m, n, min(3, m), **kw),
}


@pytest.mark.parametrize("name", sorted(RANDOM_INITS))
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_shape_dtype_and_reproducibility(name, dtype):
    f = RANDOM_INITS[name]
    W = f(7, 5, rng=3, dtype=dtype)
    assert W.shape == (7, 5) and W.dtype == dtype
    np.testing.assert_array_equal(W, f(7, 5, rng=3, dtype=dtype))
    np.testing.assert_array_equal(W, f(7, 5, rng=np.random.default_rng(3), dtype=dtype))
    assert not np.array_equal(W, f(7, 5, rng=4, dtype=dtype))
    # A Generator is advanced in place: two draws from it differ.
    g = np.random.default_rng(0)
    assert not np.array_equal(f(7, 5, rng=g), f(7, 5, rng=g))
    assert f(7, 5, rng=None).shape == (7, 5)


def test_fan_in_uniform_bounds_and_moments():
    m, n = 400, 300
    W = init.fan_in_uniform(m, n, rng=0)
    a = 1 / np.sqrt(m)
    assert np.all(np.abs(W) <= a)
    # 120k draws: the mean's standard error is a/sqrt(3*120000) ~ 8e-5.
    assert abs(W.mean()) < 5 * a / np.sqrt(3 * W.size)
    np.testing.assert_allclose(W.var(), a**2 / 3, rtol=0.02)
    # The extremes come close to the bound (the support really is the full interval).
    assert W.max() > 0.99 * a and W.min() < -0.99 * a


@pytest.mark.parametrize("gain", [1.0, np.sqrt(2.0)])
def test_glorot_uniform_bounds_and_moments(gain):
    m, n = 250, 350
    W = init.glorot_uniform(m, n, gain=gain, rng=1)
    a = gain * np.sqrt(6 / (m + n))
    assert np.all(np.abs(W) <= a)
    assert W.max() > 0.99 * a and W.min() < -0.99 * a
    np.testing.assert_allclose(W.var(), gain**2 * 2 / (m + n), rtol=0.02)
    assert abs(W.mean()) < 5 * a / np.sqrt(3 * W.size)


def test_glorot_normal_moments():
    m, n = 300, 500
    W = init.glorot_normal(m, n, gain=1.5, rng=2)
    s = 1.5 * np.sqrt(2 / (m + n))
    np.testing.assert_allclose(W.std(), s, rtol=0.02)
    assert abs(W.mean()) < 5 * s / np.sqrt(W.size)
    # Normal, not uniform: excess kurtosis ~ 0 (uniform would give -1.2).
    z = (W - W.mean()) / W.std()
    assert abs((z**4).mean() - 3) < 0.1
    assert np.abs(W).max() > 3 * s  # untruncated tails


@pytest.mark.parametrize("m,n,k", [(10, 7, 1), (10, 7, 4), (10, 7, 10), (1, 3, 1)])
def test_sparse_init_exactly_k_per_unit(m, n, k):
    W = init.sparse_init(m, n, k, scale=0.5, rng=5)
    np.testing.assert_array_equal((W != 0).sum(axis=0), np.full(n, k))


def test_sparse_init_positions_uniform_and_values_normal():
    m, n, k = 8, 20000, 2
    W = init.sparse_init(m, n, k, scale=2.0, rng=6)
    # Each row is chosen for a column with probability k/m.
    freq = (W != 0).mean(axis=1)
    np.testing.assert_allclose(freq, k / m, atol=5 * np.sqrt(k / m * (1 - k / m) / n))
    vals = W[W != 0]
    np.testing.assert_allclose(vals.std(), 2.0, rtol=0.02)
    assert abs(vals.mean()) < 5 * 2.0 / np.sqrt(vals.size)


def test_bias_rules():
    np.testing.assert_array_equal(init.zeros_bias(4), np.zeros(4))
    assert init.zeros_bias(2, dtype=np.float32).dtype == np.float32
    np.testing.assert_array_equal(init.relu_bias(3), np.full(3, 0.1))
    np.testing.assert_array_equal(init.relu_bias(3, 0.02), np.full(3, 0.02))


def test_marginal_bias_logit_matches_base_rate():
    rng = np.random.default_rng(0)
    y = (rng.random((1000, 3)) < [0.1, 0.5, 0.8]).astype(int)
    b = init.marginal_bias(y)
    # sigmoid(b) reproduces the positive rate of each column.
    np.testing.assert_allclose(1 / (1 + np.exp(-b)), y.mean(axis=0), rtol=1e-12)
    assert init.marginal_bias(y[:, 0]).shape == (1,)
    # Laplace smoothing: (0 + 1) / (4 + 2).
    np.testing.assert_allclose(init.marginal_bias([0, 0, 0, 0], smoothing=1.0), [np.log(1 / 5)])


def test_marginal_bias_other_links():
    np.testing.assert_allclose(init.marginal_bias([[1.0, 2.0], [3.0, 8.0]], link="identity"), [2.0, 5.0])
    np.testing.assert_allclose(init.marginal_bias([0, 1, 5], link="log"), [np.log(2.0)])
    y = np.array([2, 0, 0, 1, 0, 2])
    b = init.marginal_bias(y, link="softmax")
    p = np.exp(b) / np.exp(b).sum()
    np.testing.assert_allclose(p, [3 / 6, 1 / 6, 2 / 6], rtol=1e-12)
    assert abs(b.sum()) < 1e-12


@pytest.mark.parametrize(
    "call, exc, match",
    [
        (lambda: init.fan_in_uniform(0, 3), ValueError, "fan_in"),
        (lambda: init.fan_in_uniform(3, -1), ValueError, "fan_out"),
        (lambda: init.fan_in_uniform(2.0, 3), TypeError, "fan_in"),
        (lambda: init.fan_in_uniform(True, 3), TypeError, "fan_in"),
        (lambda: init.glorot_uniform(3, 3, gain=0), ValueError, "gain"),
        (lambda: init.glorot_normal(3, 3, gain=np.inf), ValueError, "gain"),
        (lambda: init.glorot_normal(3, 3, dtype=np.int64), ValueError, "dtype"),
        (lambda: init.glorot_normal(3, 3, rng=np.random.RandomState(0)), TypeError, "Generator"),
        (lambda: init.glorot_normal(3, 3, rng=1.5), TypeError, "rng"),
        (lambda: init.glorot_normal(3, 3, rng=-1), ValueError, "non-negative"),
        (lambda: init.sparse_init(3, 3, 4), ValueError, "k must be <= fan_in=3"),
        (lambda: init.sparse_init(3, 3, 0), ValueError, "k must be >= 1"),
        (lambda: init.sparse_init(3, 3, 1, scale=-1.0), ValueError, "scale"),
        (lambda: init.zeros_bias(0), ValueError, "n_units"),
        (lambda: init.relu_bias(2, 0.0), ValueError, "value"),
        (lambda: init.relu_bias(2, -0.1), ValueError, "value"),
        (lambda: init.marginal_bias([0, 1], link="probit"), ValueError, "link"),
        (lambda: init.marginal_bias([1, 1, 1]), ValueError, "smoothing > 0"),
        (lambda: init.marginal_bias([0, 2]), ValueError, "binary"),
        (lambda: init.marginal_bias([0, 1], smoothing=-1), ValueError, "smoothing"),
        (lambda: init.marginal_bias([], link="identity"), ValueError, "non-empty"),
        (lambda: init.marginal_bias([1.0, np.nan], link="identity"), ValueError, "NaN"),
        (lambda: init.marginal_bias([-1.0, 3.0], link="log"), ValueError, ">= 0"),
        (lambda: init.marginal_bias([0.0, 0.0], link="log"), ValueError, "positive mean"),
        (lambda: init.marginal_bias([[0, 1]], link="softmax"), ValueError, "1-d"),
        (lambda: init.marginal_bias(["a", "b"], link="identity"), TypeError, "numeric"),
    ],
)
def test_bad_arguments_raise(call, exc, match):
    with pytest.raises(exc, match=match):
        call()
