"""Rows with unsorted or repeated column indices, handled inside the kernels, against the paths they replace.

A row is trained on in its own order, each repeated column's values summed into its first appearance in order of
appearance: bitwise what training on that merged row gives (``merged_in_place``), and the model of the canonical
form ``X.copy(); X.sum_duplicates()`` to the rounding of the margin's sum, whose terms come in another order.
Sorted rows give the canonical form's model bitwise when no column appears more than twice in a row (two values
sum the same in either order; scipy's sort does not keep the order of three equal columns).  Also: shuffled
epochs, which gather rows in the permuted order, against training on the permuted rows themselves; the scan's
verdict against a plain walk; and the non-zero count against ``coef_``.
"""

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose, assert_array_equal

import ftrlx
from ftrlx import linear_model as lm
from ftrlx._kernels import _online, _row_paths
from ftrlx._reference import estimators

# other settings than test_progressive's: other schedules, AdaGrad's RDA form, rounding truncation
PARAMS = {
    "ftrl": {"alpha": 0.3, "beta": 0.5, "l1": 0.02, "l2": 0.0},
    "rda": {"l1": 0.02, "gamma": 2.0},
    "fobos": {"eta0": 0.3, "learning_rate": "constant", "l1": 0.02, "l2": 0.1},
    "truncated_gradient": {"eta0": 0.3, "gravity": 0.05, "theta": 0.3, "period": 3, "truncation": "rounding"},
    "adagrad": {"eta0": 0.3, "eps": 0.1, "eps_placement": "inside", "l1": 0.02, "l2": 0.1, "l1_form": "rda"},
    "lazy_adam": {"eta0": 0.1, "beta1": 0.5, "beta2": 0.9, "epsilon": 1e-3},
    "ogd": {"eta0": 0.3, "learning_rate": "invsqrt", "l1": 0.0, "l2": 0.1},
    "passive_aggressive": {"C": 0.2, "variant": "pa2"},
}
ALL = [getattr(lm, n) for n in lm.__all__ if n.endswith(("Classifier", "Regressor"))]
EXAMPLES = settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def raw_csr(rng, n, d, max_nnz, max_repeat, dtype=np.float64, index_dtype=np.int32, in_order=False):
    """Rows of up to max_nnz entries in random order (``in_order``: sorted), each column at most max_repeat times in
    a row."""
    indices, data, indptr = [], [], [0]
    for _ in range(n):
        cols = rng.choice(d, size=min(d, int(rng.integers(0, max_nnz + 1))), replace=False)
        cols = np.concatenate([cols] + [cols[rng.random(cols.size) < 0.3] for _ in range(max_repeat - 1)])
        rng.shuffle(cols)
        indices.extend(np.sort(cols) if in_order else cols)
        data.extend(rng.integers(-16, 17, size=cols.size) / 8.0 if dtype == np.float32 else rng.normal(size=cols.size))
        indptr.append(len(indices))
    return sp.csr_matrix(
        (np.asarray(data, dtype=dtype), np.asarray(indices, dtype=index_dtype), np.asarray(indptr, dtype=index_dtype)),
        shape=(n, d),
    )


def summed(X):
    X = X.copy()
    X.sum_duplicates()
    return X


def merged_in_place(X):
    """X with each row's repeated columns summed into their first appearance, in order of appearance and in the
    values' own precision, the row otherwise in its own order (what the kernels train on)."""
    indices, data, indptr = [], [], [0]
    for i in range(X.shape[0]):
        row = {}
        for j, v in zip(X.indices[X.indptr[i] : X.indptr[i + 1]], X.data[X.indptr[i] : X.indptr[i + 1]]):
            row[j] = row[j] + v if j in row else v
        indices.extend(row)
        data.extend(row.values())
        indptr.append(len(indices))
    return sp.csr_matrix(
        (np.asarray(data, dtype=X.dtype), np.asarray(indices, dtype=X.indices.dtype), np.asarray(indptr)),
        shape=X.shape,
    )


def make(algo, regression, **kw):
    classifier, regressor = estimators(algo)
    cls = regressor if regression else classifier
    return cls(**PARAMS[algo], **kw)


def stream(est, X, y, cuts, regression):
    for a, b in zip([0, *cuts], [*cuts, X.shape[0]]):
        if b > a:
            est.partial_fit(X[a:b], y[a:b]) if regression else est.partial_fit(X[a:b], y[a:b], classes=[0, 1, 2])
    return est


def check_same(a, b, X, exact, form=summed):
    """a trained on X, b on form(X): the same state and the same scores (a's on X itself, no copy)."""
    compare = assert_array_equal if exact else lambda u, v: assert_allclose(u, v, rtol=1e-12, atol=1e-14)
    for name in ("state_", "istate_", "gstate_"):
        compare(getattr(a, name), getattr(b, name))
    scores = (
        (lambda e, M: e.predict(M))
        if hasattr(a, "predict") and not hasattr(a, "classes_")
        else (lambda e, M: e.decision_function(M))
    )
    compare(scores(a, X), scores(b, form(X)))


@pytest.mark.parametrize("algo", list(PARAMS))
@EXAMPLES
@given(
    seed=st.integers(0, 2**32 - 1),
    batch_size=st.sampled_from([1, 3]),
    max_repeat=st.sampled_from([2, 3]),
    regression=st.booleans(),
    float32=st.booleans(),
    int64=st.booleans(),
    n_features=st.integers(1, 12),
    cuts=st.lists(st.integers(0, 40), max_size=2),
    in_order=st.booleans(),
)
def test_non_canonical_rows_train_as_their_summed_copy(
    algo, seed, batch_size, max_repeat, regression, float32, int64, n_features, cuts, in_order
):
    regression = regression and estimators(algo)[1] is not None  # classification for a classifier-only algorithm
    rng = np.random.default_rng(seed)
    X = raw_csr(
        rng,
        40,
        n_features,
        6,
        max_repeat,
        np.float32 if float32 else np.float64,
        np.int64 if int64 else np.int32,
        in_order,
    )
    y = rng.normal(size=40) if regression else rng.integers(0, 3, size=40)
    cuts = sorted(cuts)
    kw = dict(batch_size=batch_size, shuffle=False)
    a = stream(make(algo, regression, **kw), X, y, cuts, regression)
    b = stream(make(algo, regression, **kw), summed(X), y, cuts, regression)
    check_same(a, b, X, exact=in_order and max_repeat == 2)
    c = stream(make(algo, regression, **kw), merged_in_place(X), y, cuts, regression)
    check_same(a, c, X, exact=True, form=merged_in_place)


@pytest.mark.parametrize("algo", list(PARAMS))
@pytest.mark.parametrize("batch_size", [1, 4])
def test_shuffled_fit_on_non_canonical_rows(algo, batch_size):
    rng = np.random.default_rng(7)
    X = raw_csr(rng, 300, 25, 8, 2)
    y = rng.integers(0, 3, size=300)
    kw = dict(batch_size=batch_size, max_iter=3, shuffle=True, random_state=3)
    a = make(algo, False, **kw).fit(X, y)
    check_same(a, make(algo, False, **kw).fit(merged_in_place(X), y), X, exact=True, form=merged_in_place)
    check_same(a, make(algo, False, **kw).fit(summed(X), y), X, exact=False)


@pytest.mark.parametrize("cls", ALL, ids=lambda c: c.__name__)
def test_chunked_partial_fit_equals_fit_on_non_canonical_rows(cls):
    rng = np.random.default_rng(11)
    X = raw_csr(rng, 96, 20, 7, 3)
    y = rng.normal(size=96) if cls.__name__.endswith("Regressor") else rng.integers(0, 3, size=96)
    fitted = cls(max_iter=1, shuffle=False, batch_size=4).fit(X, y)
    streamed = cls(batch_size=4)
    for start in range(0, 96, 24):
        kw = {} if cls.__name__.endswith("Regressor") else {"classes": [0, 1, 2]}
        streamed.partial_fit(X[start : start + 24], y[start : start + 24], **kw)
    for name in ("state_", "istate_", "gstate_"):
        assert_array_equal(getattr(fitted, name), getattr(streamed, name))


def test_non_canonical_matrix_is_not_copied():
    X = raw_csr(np.random.default_rng(0), 30, 10, 5, 2)
    assert not X.has_canonical_format
    Xk, canonical = ftrlx._validation.kernel_csr(X, "test")
    assert Xk is X and canonical is False
    data, indices = X.data.copy(), X.indices.copy()
    lm.FTRLClassifier().fit(X, np.arange(30) % 2).decision_function(X)
    assert_array_equal(X.data, data)
    assert_array_equal(X.indices, indices)


@pytest.mark.parametrize(
    "n_features,row_length",
    [
        (50_000, 128),  # the longest rows searched in SIMD lanes
        (50_000, 129),  # longer: sorted by qsort
        (50_000, 300),
    ],
)
def test_rows_either_side_of_the_longest_searched_in_simd(n_features, row_length):
    rng = np.random.default_rng(5)
    n = 30
    cols = rng.integers(0, n_features, size=(n, row_length))
    cols[:, 1] = cols[:, 0]  # a repeated column in every row
    cols[:, 2] = n_features - 1  # the largest key
    X = sp.csr_matrix(
        (
            rng.normal(size=n * row_length),
            cols.ravel().astype(np.int32),
            np.arange(0, n * row_length + 1, row_length).astype(np.int32),
        ),
        shape=(n, n_features),
    )
    y = rng.integers(0, 2, size=n)
    a = lm.RDAClassifier(batch_size=3).partial_fit(X, y, classes=[0, 1])
    touched = np.unique(cols)
    for form, same in ((merged_in_place, assert_array_equal), (summed, lambda u, v: assert_allclose(u, v, 1e-12))):
        b = lm.RDAClassifier(batch_size=3).partial_fit(form(X), y, classes=[0, 1])
        same(a.state_[:, touched], b.state_[:, touched])
        same(a.decision_function(X), b.decision_function(form(X)))


@pytest.mark.parametrize("algo", list(PARAMS))
@pytest.mark.parametrize("batch_size", [1, 5])
def test_kernel_gathering_an_order_equals_training_on_the_permuted_rows(algo, batch_size):
    # the shuffled epoch gathers blocks of rows in the permuted order: the same run as on X[order] itself, with the
    # progressive margins indexed by row
    rng = np.random.default_rng(2)
    n, d = 5000, 300  # several gathered blocks
    X = raw_csr(rng, n, d, 12, 2)
    y = np.where(rng.random(n) < 0.3, 1.0, -1.0)
    sw = rng.uniform(0.5, 2.0, size=n)
    order = rng.permutation(n).astype(np.int64)
    code, n_slots, n_islots = _online.ALGORITHMS[algo]
    est = make(algo, False)
    params = est._kernel_params()
    runs = []
    for M, yy, ww, o in ((X, y, sw, order), (X[order], y[order], sw[order], None)):
        state, istate, gs = np.zeros((d, n_slots)), np.zeros(n_islots), np.zeros(_online.GLOBAL_SLOTS)
        prog = np.full((n, 1), np.nan)
        result = _online.fit(
            code, params, M.data, M.indices, M.indptr, yy, ww, o, state, istate, gs, 0, batch_size, True, True, prog, 0
        )
        assert result == (-1, _online_check_not_canonical(), -1, -1)
        runs.append((state, istate, gs, prog[:, 0]))
    for u, v in zip(runs[0][:3], runs[1][:3]):
        assert_array_equal(u, v)
    assert_array_equal(runs[0][3][order], runs[1][3])


def _online_check_not_canonical():
    from ftrlx._kernels import _check

    return _check.NOT_CANONICAL


def test_fault_under_shuffle_names_its_row_and_column():
    rng = np.random.default_rng(4)
    X = raw_csr(rng, 4000, 50, 10, 2)
    row = 3210
    X.indices[X.indptr[row] + 1] = 50  # past the last column
    with pytest.raises(ValueError, match=rf"column index 50 in row {row}, but the matrix has only 50"):
        lm.FTRLClassifier(shuffle=True, random_state=0).fit(X, rng.integers(0, 2, size=4000))


@pytest.mark.parametrize("cls", ALL, ids=lambda c: c.__name__)
def test_n_nonzero_counts_the_coefficients(cls):
    rng = np.random.default_rng(9)
    X = raw_csr(rng, 200, 40, 6, 2)
    y = rng.normal(size=200) if cls.__name__.endswith("Regressor") else rng.integers(0, 3, size=200)
    est = cls(max_iter=2, random_state=0).fit(X, y)
    coef = np.atleast_2d(est.coef_)
    assert est.n_nonzero_ == np.count_nonzero(coef)
    assert est.n_nonzero_ > 0


@given(
    keys=st.lists(st.integers(0, 2**31 - 1), unique=True, max_size=130),
)
@EXAMPLES
def test_row_ranks_of_every_path_are_the_sorted_places(keys):
    # the AVX2 path (where the processor has it) and the plain loop: each key's place in the sorted row
    keys = np.asarray(keys, dtype=np.int32)
    expected = np.empty(keys.size, dtype=np.int32)
    expected[np.argsort(keys, kind="stable")] = np.arange(keys.size)
    for generic in (False, True):
        assert_array_equal(_row_paths.row_ranks(keys, generic), expected)


@given(
    keys=st.lists(st.integers(0, 2**31 - 1), max_size=130) | st.lists(st.integers(0, 40), max_size=60),
    generic=st.booleans(),
)
@EXAMPLES
def test_row_repeats_and_first_places_of_every_path(keys, generic):
    # the AVX2 path (where the processor has it: blocks against earlier blocks and their own rotations) and the
    # plain loop, against numpy; also a repeat planted at every distance, within a block of 8 and across blocks
    keys = np.asarray(keys, dtype=np.int32)
    assert _row_paths.row_repeats(keys, generic) == (np.unique(keys).size < keys.size)
    assert_array_equal(_row_paths.row_first(keys, generic), [list(keys).index(key) for key in keys])
    distinct = np.arange(0, 3 * 41, 3, dtype=np.int32)
    assert not _row_paths.row_repeats(distinct, generic)
    for i in range(distinct.size):
        for j in range(i + 1, distinct.size):
            planted = distinct.copy()
            planted[j] = planted[i]
            assert _row_paths.row_repeats(planted, generic), (i, j)
            expected = np.arange(distinct.size)
            expected[j] = i
            assert_array_equal(_row_paths.row_first(planted, generic), expected)


def test_sorted_rows_with_repeated_columns_merge_in_order():
    # sorted rows whose only fault is a repeated column skip the sort: the merge alone, values summed in order
    X = sp.csr_matrix(
        (np.array([1.0, 2.0, 4.0, 0.5, 0.25]), np.array([0, 0, 3, 1, 1], dtype=np.int32), np.array([0, 3, 5])),
        shape=(2, 5),
    )
    assert not X.has_canonical_format
    y = np.array([0, 1])
    a = lm.FTRLClassifier(l1=0.0).partial_fit(X, y, classes=[0, 1])
    b = lm.FTRLClassifier(l1=0.0).partial_fit(summed(X), y, classes=[0, 1])
    assert_array_equal(a.state_, b.state_)
    assert_array_equal(a.decision_function(X), b.decision_function(summed(X)))


def first_csr_fault(X, n_features, check_finite):
    """The scan's verdict by plain Python: the first (row, position) holding a bad column or (``check_finite``)
    a non-finite value, else whether some row repeats or misorders a column."""
    from ftrlx._kernels import _check

    canonical = True
    for i in range(X.shape[0]):
        for k in range(X.indptr[i], X.indptr[i + 1]):
            j = X.indices[k]
            if j < 0:
                return _check.NEGATIVE_INDEX, i, k
            if j >= n_features:
                return _check.INDEX_TOO_LARGE, i, k
            if check_finite and not np.isfinite(X.data[k]):
                return _check.NOT_FINITE, i, k
            canonical &= k == X.indptr[i] or j > X.indices[k - 1]
    return (_check.CANONICAL if canonical else _check.NOT_CANONICAL), -1, -1


@EXAMPLES
@given(seed=st.integers(0, 2**32 - 1), in_order=st.booleans(), faults=st.integers(0, 3))
def test_the_scan_finds_the_first_fault_of_rows_in_any_order(seed, in_order, faults):
    # rows out of order take the branch-free range check, rows in order the first/last one: either way the first
    # fault by row and position, its kind, and whether the rows are canonical, as an element-by-element walk finds
    from ftrlx._kernels import _check

    rng = np.random.default_rng(seed)
    X = raw_csr(rng, 30, 12, 8, 2, in_order=in_order)
    for _ in range(faults if X.nnz else 0):
        k = rng.integers(X.nnz)
        kind = rng.integers(3)
        if kind == 0:
            X.indices[k] = -int(rng.integers(1, 4))
        elif kind == 1:
            X.indices[k] = 12 + int(rng.integers(0, 3))
        else:
            X.data[k] = np.nan
    expected = first_csr_fault(X, 12, True)
    assert _check.scan_csr(X.data, X.indices, X.indptr, 12) == expected
