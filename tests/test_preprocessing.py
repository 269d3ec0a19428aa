"""Tests for ftrlx.preprocessing: streaming == batch, sklearn parity, sparsity, dtypes, errors."""

import copy
from fractions import Fraction

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.linear_model import SGDClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import MaxAbsScaler, Normalizer, StandardScaler
from sklearn.utils.estimator_checks import parametrize_with_checks

from ftrlx.preprocessing import RowL2Normalizer, StreamingMaxAbsScaler, StreamingStdScaler

SCALERS = [StreamingMaxAbsScaler, StreamingStdScaler]
ALL = SCALERS + [RowL2Normalizer]
# The sklearn transformer each one must agree with.
ORACLE = {
    StreamingMaxAbsScaler: lambda: MaxAbsScaler(),
    StreamingStdScaler: lambda: StandardScaler(with_mean=False),
    RowL2Normalizer: lambda: Normalizer(norm="l2"),
}
FORMATS = {
    "dense": np.asarray,
    "csr_matrix": sp.csr_matrix,
    "csc_matrix": sp.csc_matrix,
    "coo_matrix": sp.coo_matrix,
    "csr_array": sp.csr_array,
    "csc_array": sp.csc_array,
    "coo_array": sp.coo_array,
}


@parametrize_with_checks([cls() for cls in ALL])
def test_sklearn_compatible(estimator, check):
    check(estimator)


def _data(n=60, p=7, seed=0, density=0.3, offset=0.0):
    """Sparse-ish data with a constant-zero column and very different column scales."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, p)) * np.logspace(-3, 3, p) + offset
    X[rng.random((n, p)) > density] = 0.0
    X[:, 2] = 0.0
    return X


def _dense(A):
    return A.toarray() if sp.issparse(A) else np.asarray(A)


@pytest.mark.parametrize("cls", SCALERS)
@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_partial_fit_over_chunks_equals_fit(cls, fmt):
    X = _data(seed=1)
    full = cls().fit(FORMATS[fmt](X))
    stream = cls()
    for chunk in np.array_split(X, [1, 9, 10, 33]):
        stream.partial_fit(FORMATS[fmt](chunk))
    assert stream.n_samples_seen_ == full.n_samples_seen_ == X.shape[0]
    np.testing.assert_allclose(stream.scale_, full.scale_, rtol=1e-12)
    np.testing.assert_allclose(
        _dense(stream.transform(FORMATS[fmt](X))), _dense(full.transform(FORMATS[fmt](X))), rtol=1e-12
    )


def test_chunks_may_mix_formats():
    X = _data(seed=2)
    stream = StreamingStdScaler()
    for chunk, fmt in zip(np.array_split(X, 3), ["dense", "csc_matrix", "coo_array"]):
        stream.partial_fit(FORMATS[fmt](chunk))
    np.testing.assert_allclose(stream.var_, X.var(axis=0), rtol=1e-12)


@pytest.mark.parametrize("cls", ALL)
@pytest.mark.parametrize("fmt", ["dense", "csr_matrix", "csc_array"])
def test_agrees_with_sklearn(cls, fmt):
    X = FORMATS[fmt](_data(seed=3))
    ours, theirs = cls().fit(X), ORACLE[cls]().fit(X)
    if cls is not RowL2Normalizer:
        np.testing.assert_allclose(ours.scale_, theirs.scale_, rtol=1e-12)
    if cls is StreamingStdScaler:
        np.testing.assert_allclose(ours.var_, theirs.var_, rtol=1e-12)
    Y = FORMATS[fmt](_data(seed=4))
    np.testing.assert_allclose(_dense(ours.transform(Y)), _dense(theirs.transform(Y)), rtol=1e-12)


def test_std_scaler_is_stable_with_a_large_mean():
    # Mean 1e9, spread 1: sums of x and x^2 would lose every digit of the variance.
    rng = np.random.default_rng(5)
    X = 1e9 + rng.normal(size=(3000, 2))
    stream = StreamingStdScaler()
    for chunk in np.array_split(X, 37):
        stream.partial_fit(chunk)
    exact = [_exact_variance(column) for column in X.T]
    np.testing.assert_allclose(stream.var_, exact, rtol=1e-14)
    np.testing.assert_allclose(StreamingStdScaler().fit(X).var_, exact, rtol=1e-14)


def _exact_variance(values):
    """Population variance in exact rational arithmetic, rounded once."""
    v = [Fraction(float(x)) for x in values]
    mean = sum(v) / len(v)
    return float(sum((x - mean) ** 2 for x in v) / len(v))


def test_std_scaler_variance_by_hand_with_implicit_zeros():
    # Column values 3, 0, 0, 1 (two of them implicit): mean 1, variance (4 + 1 + 1 + 0) / 4.
    X = sp.csr_matrix(([3.0, 1.0], ([0, 3], [0, 0])), shape=(4, 1))
    s = StreamingStdScaler().fit(X)
    np.testing.assert_allclose(s.mean_, [1.0])
    np.testing.assert_allclose(s.var_, [1.5])
    np.testing.assert_allclose(s.transform(X).toarray().ravel(), [3 / np.sqrt(1.5), 0, 0, 1 / np.sqrt(1.5)])


def test_constant_features_get_scale_one():
    X = np.column_stack([np.full(1000, 0.1), np.zeros(1000), np.arange(1000.0)])
    for scaler in (StreamingStdScaler(), StreamingMaxAbsScaler()):
        for chunk in np.array_split(X, 7):
            scaler.partial_fit(chunk)
    std = StreamingStdScaler().fit(X)
    assert std.scale_[0] == std.scale_[1] == 1.0
    assert std.scale_[2] == pytest.approx(np.arange(1000.0).std(), rel=1e-12)
    maxabs = StreamingMaxAbsScaler().fit(X)
    np.testing.assert_array_equal(maxabs.scale_, [0.1, 1.0, 999.0])


def test_duplicate_sparse_entries_are_summed():
    # Non-canonical CSR: entry (0, 0) stored twice as -3 and +5, i.e. the value 2.
    X = sp.csr_matrix((np.array([-3.0, 5.0, 1.0]), np.array([0, 0, 1]), np.array([0, 3])), shape=(1, 2))
    assert StreamingMaxAbsScaler().fit(X).max_abs_.tolist() == [2.0, 1.0]
    np.testing.assert_allclose(RowL2Normalizer().transform(X).toarray(), [[2 / np.sqrt(5), 1 / np.sqrt(5)]])


@pytest.mark.parametrize("cls", ALL)
@pytest.mark.parametrize("fmt", sorted(FORMATS))
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dtype_and_sparse_format_preserved(cls, fmt, dtype):
    X = FORMATS[fmt](_data(seed=6).astype(dtype))
    out = cls().fit(X).transform(X)
    assert out.dtype == dtype
    if fmt == "dense":
        assert isinstance(out, np.ndarray)
        return
    assert sp.issparse(out)
    assert out.format == ("csc" if fmt.startswith("csc") else "csr")
    assert isinstance(out, sp.sparray) == isinstance(X, sp.sparray)
    # Same pattern: nothing is centred or filled in.
    assert out.nnz == X.nnz


@pytest.mark.parametrize("cls", ALL)
def test_integer_input_becomes_float64(cls):
    X = np.array([[1, 0, 3], [0, 2, -4]])
    out = cls().fit(X).transform(X)
    assert out.dtype == np.float64
    np.testing.assert_allclose(out, ORACLE[cls]().fit(X).transform(X.astype(float)), rtol=1e-12)


@pytest.mark.parametrize("cls", ALL)
def test_huge_sparse_input_is_never_densified(cls):
    # Dense, this would need 1.6 TB; sparse it is a few hundred kB.
    n, p = 200_000, 1_000_000
    rng = np.random.default_rng(7)
    nnz = 5000
    X = sp.csr_matrix((rng.normal(size=nnz), (rng.integers(0, n, nnz), rng.integers(0, p, nnz))), shape=(n, p))
    est = cls()
    est.partial_fit(X[: n // 2])
    est.partial_fit(X[n // 2 :])
    out = est.transform(X)
    assert sp.issparse(out) and out.shape == (n, p) and out.nnz <= nnz


@pytest.mark.parametrize("cls", SCALERS)
def test_inverse_transform_round_trip(cls):
    for fmt in ("dense", "csr_matrix", "csc_matrix"):
        X = FORMATS[fmt](_data(seed=8))
        est = cls().fit(X)
        np.testing.assert_allclose(_dense(est.inverse_transform(est.transform(X))), _dense(X), rtol=1e-13)


def test_row_l2_normalizer():
    X = np.array([[3.0, 0.0, -4.0], [0.0, 0.0, 0.0], [1e200, 1e200, 0.0], [1e-200, 0.0, 0.0]])
    for fmt in ("dense", "csr_matrix", "csc_matrix"):
        out = _dense(RowL2Normalizer().transform(FORMATS[fmt](X)))
        h = np.sqrt(0.5)
        np.testing.assert_allclose(out, [[0.6, 0, -0.8], [0, 0, 0], [h, h, 0], [1, 0, 0]], rtol=1e-15)
    est = RowL2Normalizer()
    assert est.partial_fit(X) is est and est.n_features_in_ == 3
    assert not hasattr(est, "n_samples_seen_")
    with pytest.raises(ValueError, match="3 features"):
        est.partial_fit(np.ones((2, 4)))


@pytest.mark.parametrize("cls", ALL)
def test_changed_feature_count_raises_and_keeps_state(cls):
    est = cls().partial_fit(_data(p=7, seed=9))
    state = copy.deepcopy(est.__dict__)
    for bad in (np.ones((3, 6)), sp.csr_matrix(np.ones((3, 8)))):
        with pytest.raises(ValueError, match="X has .* features, but .* is expecting 7 features"):
            est.partial_fit(bad)
        with pytest.raises(ValueError, match="expecting 7 features"):
            est.transform(bad)
    assert state.keys() == est.__dict__.keys()
    for k, v in state.items():
        np.testing.assert_array_equal(est.__dict__[k], v)


@pytest.mark.parametrize("cls", ALL)
@pytest.mark.parametrize("bad_value", [np.nan, np.inf, -np.inf])
@pytest.mark.parametrize("fmt", ["dense", "csr_matrix"])
def test_non_finite_input_raises_and_keeps_state(cls, bad_value, fmt):
    X = _data(seed=10)
    X[3, 4] = bad_value
    fresh = cls()
    with pytest.raises(ValueError, match="NaN|infinity"):
        fresh.partial_fit(FORMATS[fmt](X))
    assert fresh.__dict__ == cls().__dict__  # nothing recorded
    est = cls().fit(_data(seed=11))
    state = copy.deepcopy(est.__dict__)
    with pytest.raises(ValueError, match="NaN|infinity"):
        est.fit(FORMATS[fmt](X))
    for k, v in state.items():
        np.testing.assert_array_equal(est.__dict__[k], v)


def test_fit_resets_but_partial_fit_accumulates():
    a, b = _data(seed=12), 10 * _data(seed=13)
    est = StreamingMaxAbsScaler().fit(a).fit(b)
    np.testing.assert_array_equal(est.max_abs_, np.abs(b).max(axis=0))
    est.partial_fit(a)
    np.testing.assert_array_equal(est.max_abs_, np.maximum(np.abs(a), np.abs(b)).max(axis=0))
    assert est.n_samples_seen_ == a.shape[0] + b.shape[0]


def test_copy_false_scales_in_place():
    X = sp.csr_matrix(_data(seed=14))
    est = StreamingMaxAbsScaler(copy=False).fit(X)
    out = est.transform(X)
    assert out is X and abs(X).max() == 1.0
    D = _data(seed=14)
    before = D.copy()
    StreamingStdScaler().fit(D).transform(D)  # copy=True leaves the input alone
    np.testing.assert_array_equal(D, before)


@pytest.mark.parametrize("cls", ALL)
def test_in_a_pipeline_before_a_sparse_learner(cls):
    rng = np.random.default_rng(15)
    X = sp.random(400, 30, density=0.2, format="csr", random_state=16) * 100
    w = rng.normal(size=30)
    y = (X @ w > 0).astype(int)
    pipe = make_pipeline(cls(), SGDClassifier(random_state=0, max_iter=50, tol=None))
    pipe.fit(X, y)
    assert pipe.score(X, y) > 0.8
