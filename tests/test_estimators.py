"""The estimators: scikit-learn conformance, streaming equivalences, failure atomicity, input handling."""

import pickle

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.utils.estimator_checks import parametrize_with_checks

import ftrlx
from ftrlx import linear_model as lm
from ftrlx.linear_model import DivergenceError

CLASSIFIERS = [getattr(lm, n) for n in lm.__all__ if n.endswith("Classifier")]
REGRESSORS = [getattr(lm, n) for n in lm.__all__ if n.endswith("Regressor")]
ALL = CLASSIFIERS + REGRESSORS

SAMPLE_WEIGHT_REASON = (
    "online learners are not invariant to repeating a row k times versus weighting it by k (the per-coordinate "
    "adaptive rates and the step counter see k steps instead of one); scikit-learn x-fails the same checks for "
    "SGDClassifier/SGDRegressor"
)


def expected_failed_checks(estimator):
    failures = {
        "check_sample_weight_equivalence_on_dense_data": SAMPLE_WEIGHT_REASON,
        "check_sample_weight_equivalence_on_sparse_data": SAMPLE_WEIGHT_REASON,
    }
    if isinstance(estimator, lm.FTRLRegressor):
        failures["check_regressors_train"] = (
            "the check sets alpha=0.01 assuming alpha is a penalty strength; in FTRL alpha is the learning-rate "
            "scale, so it makes the model learn 10x slower (with the default alpha=0.1 the score is 0.81)"
        )
    return failures


# scikit-learn's checks train the regressors with their default learning rates on unscaled data, where RDA, OGD,
# FOBOS and truncated gradient genuinely diverge (margins 1e11-1e15 times the targets): the warning is right there
@pytest.mark.filterwarnings("ignore::ftrlx.linear_model.DivergenceWarning")
@parametrize_with_checks([cls() for cls in ALL], expected_failed_checks=expected_failed_checks)
def test_sklearn_compatible(estimator, check):
    check(estimator)


# ---------------------------------------------------------------------------------------------- helpers


def random_csr(n_rows, n_features, density, seed, dtype=np.float64, index_dtype=np.int32):
    rng = np.random.default_rng(seed)
    X = sp.random(n_rows, n_features, density=density, format="csr", random_state=seed, dtype=np.float64)
    X.data = rng.normal(size=X.nnz)
    X = sp.csr_matrix(
        (X.data.astype(dtype), X.indices.astype(index_dtype), X.indptr.astype(index_dtype)), shape=X.shape
    )
    return X


def problem(cls, n_rows=120, n_features=30, seed=0, n_classes=2):
    X = random_csr(n_rows, n_features, 0.2, seed)
    rng = np.random.default_rng(seed + 1)
    w = rng.normal(size=(n_features, max(n_classes, 1)))
    scores = X @ w
    if issubclass(cls, lm._classifier.OnlineClassifierMixin):
        y = scores.argmax(axis=1) if n_classes > 2 else (scores[:, 0] > 0).astype(int)
    else:
        y = scores[:, 0] + 0.1 * rng.normal(size=n_rows)
    return X, y


def snapshot(est):
    return {k: np.copy(getattr(est, k)) for k in ("state_", "istate_", "gstate_")} | {
        "classes_": np.copy(getattr(est, "classes_", np.array([]))),
        "n_features_in_": est.n_features_in_,
    }


def assert_same_state(a, b):
    assert a.keys() == b.keys()
    for k in a:
        np.testing.assert_array_equal(a[k], b[k], err_msg=k)


def partial_fit(est, X, y, classes=None, **kw):
    if isinstance(est, lm._classifier.OnlineClassifierMixin):
        return est.partial_fit(X, y, classes=classes, **kw)
    return est.partial_fit(X, y, **kw)


def classes_of(cls, y):
    return np.unique(y) if issubclass(cls, lm._classifier.OnlineClassifierMixin) else None


# ---------------------------------------------------------------------------------------------- equivalences


@pytest.mark.parametrize("cls", ALL, ids=lambda c: c.__name__)
@pytest.mark.parametrize("batch_size", [1, 4])
def test_chunked_partial_fit_equals_one_epoch_of_fit_bitwise(cls, batch_size):
    X, y = problem(cls, n_rows=96, n_classes=3)
    fitted = cls(max_iter=1, shuffle=False, batch_size=batch_size).fit(X, y)
    streamed = cls(batch_size=batch_size)
    for start in range(0, 96, 24):  # chunk sizes are multiples of batch_size: batches never span calls
        partial_fit(streamed, X[start : start + 24], y[start : start + 24], classes=classes_of(cls, y))
    assert_same_state(snapshot(fitted), snapshot(streamed))
    np.testing.assert_array_equal(fitted.coef_, streamed.coef_)
    assert streamed.t_ == 96 // batch_size


@pytest.mark.parametrize("cls", ALL, ids=lambda c: c.__name__)
def test_pickle_mid_stream_then_continue_is_bitwise_identical(cls):
    X, y = problem(cls, n_rows=90)
    classes = classes_of(cls, y)
    a, b = cls(), cls()
    partial_fit(a, X[:45], y[:45], classes=classes)
    partial_fit(b, X[:45], y[:45], classes=classes)
    b = pickle.loads(pickle.dumps(b))
    partial_fit(a, X[45:], y[45:])
    partial_fit(b, X[45:], y[45:])
    assert_same_state(snapshot(a), snapshot(b))
    np.testing.assert_array_equal(
        a.decision_function(X) if hasattr(a, "decision_function") else a.predict(X),
        b.decision_function(X) if hasattr(b, "decision_function") else b.predict(X),
    )


@pytest.mark.parametrize("cls", ALL, ids=lambda c: c.__name__)
def test_reading_coef_does_not_change_training(cls):
    # the lazy kernels catch up when coefficients are read; reading must not alter the state or later results
    X, y = problem(cls, n_rows=80)
    a, b = cls(), cls()
    for est, peek in ((a, True), (b, False)):
        for start in range(0, 80, 20):
            partial_fit(est, X[start : start + 20], y[start : start + 20], classes=classes_of(cls, y))
            if peek:
                _ = est.coef_, est.intercept_, est.n_nonzero_
    assert_same_state(snapshot(a), snapshot(b))


@pytest.mark.parametrize("cls", ALL, ids=lambda c: c.__name__)
def test_input_formats_and_dtypes_give_identical_models(cls):
    X, y = problem(cls, n_rows=60)
    X.data = np.round(X.data * 8) / 8  # exactly representable in float32
    X.eliminate_zeros()  # a stored zero is a (mathematically neutral) touch: the dense variant would not have it
    ref = cls(random_state=0).fit(X, y).coef_
    variants = [
        X.toarray(),
        X.tocsc(),
        X.tocoo(),
        sp.csr_array(X),
        sp.csr_matrix((X.data, X.indices.astype(np.int64), X.indptr.astype(np.int64)), shape=X.shape),
        X.astype(np.float32),
    ]
    for Xv in variants:
        np.testing.assert_array_equal(cls(random_state=0).fit(Xv, y).coef_, ref)


@pytest.mark.parametrize("cls", [lm.FTRLClassifier, lm.FOBOSClassifier, lm.LazyAdamRegressor], ids=lambda c: c.__name__)
def test_duplicate_and_unsorted_indices_are_summed(cls):
    X, y = problem(cls, n_rows=40, n_features=8)
    Xc = X.tocoo()
    # split every value into two halves stored as separate (duplicate) entries, in reversed order
    rows = np.concatenate([Xc.row, Xc.row])[::-1]
    cols = np.concatenate([Xc.col, Xc.col])[::-1]
    vals = np.concatenate([Xc.data * 0.5, Xc.data * 0.5])[::-1]
    order = np.argsort(rows, kind="stable")
    rows, cols, vals = rows[order], cols[order], vals[order]
    indptr = np.searchsorted(rows, np.arange(X.shape[0] + 1)).astype(np.int32)
    Xdup = sp.csr_matrix((vals, cols.astype(np.int32), indptr), shape=X.shape)
    assert not Xdup.has_canonical_format
    kw = dict(max_iter=1, shuffle=False)
    np.testing.assert_allclose(cls(**kw).fit(Xdup, y).coef_, cls(**kw).fit(X, y).coef_, rtol=1e-12, atol=1e-15)


def test_canonical_float32_csr_is_not_copied():
    X, y = problem(lm.FTRLClassifier, n_rows=50)
    X = X.astype(np.float32)
    est = lm.FTRLClassifier()
    Xk = est._validate_X(X, reset=True)
    assert Xk.data is X.data or np.shares_memory(Xk.data, X.data)
    assert np.shares_memory(Xk.indices, X.indices)


def test_ftrl_without_regularisation_is_adagrad():
    X, y = problem(lm.FTRLClassifier, n_rows=200, n_features=40)
    ftrl = lm.FTRLClassifier(alpha=0.3, beta=0.7, l1=0.0, l2=0.0, max_iter=2, random_state=1).fit(X, y)
    ada = lm.AdaGradClassifier(eta0=0.3, eps=0.7, max_iter=2, random_state=1).fit(X, y)
    np.testing.assert_allclose(ftrl.coef_, ada.coef_, rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(ftrl.intercept_, ada.intercept_, rtol=1e-10)


# ---------------------------------------------------------------------------------------------- failures


def bad_chunks(cls, X, y):
    """(description, kwargs for partial_fit) pairs that must all be rejected."""
    n, d = X.shape
    X_nan = X.copy()
    X_nan.data[0] = np.nan
    X_inf = X.copy()
    X_inf.data[-1] = np.inf
    neg = sp.csr_matrix((X.data.copy(), X.indices.copy(), X.indptr.copy()), shape=X.shape)
    neg.indices[0] = -3
    out = sp.csr_matrix((X.data.copy(), X.indices.copy(), X.indptr.copy()), shape=X.shape)
    out.indices[-1] = d + 5
    cases = [
        ("nan in X", dict(X=X_nan, y=y)),
        ("inf in X", dict(X=X_inf, y=y)),
        ("negative index", dict(X=neg, y=y)),
        ("index out of range", dict(X=out, y=y)),
        ("changed feature count", dict(X=sp.hstack([X, X[:, :1]]).tocsr(), y=y)),
        ("wrong length y", dict(X=X, y=y[:-1])),
        ("negative sample weight", dict(X=X, y=y, sample_weight=-np.ones(n))),
        ("nan sample weight", dict(X=X, y=y, sample_weight=np.full(n, np.nan))),
    ]
    if issubclass(cls, lm._classifier.OnlineClassifierMixin):
        cases.append(("unknown label", dict(X=X, y=np.where(y == y[0], 99, y))))
        cases.append(("different classes", dict(X=X, y=y, classes=[0, 1, 2, 3, 4])))
    else:
        y_nan = y.astype(float).copy()
        y_nan[3] = np.nan
        cases.append(("nan in y", dict(X=X, y=y_nan)))
    return cases


@pytest.mark.parametrize("cls", ALL, ids=lambda c: c.__name__)
def test_failed_partial_fit_leaves_the_model_bitwise_unchanged(cls):
    X, y = problem(cls, n_rows=60)
    est = partial_fit(cls(), X[:30], y[:30], classes=classes_of(cls, y))
    before = snapshot(est)
    coef_before = est.coef_.copy()
    for _what, kwargs in bad_chunks(cls, X[30:], y[30:]):
        with pytest.raises(ValueError):
            est.partial_fit(**kwargs)
        assert_same_state(before, snapshot(est))
    est.set_params(batch_size=0)
    with pytest.raises(ValueError, match="batch_size=0"):
        est.partial_fit(X[30:], y[30:])
    est.set_params(batch_size=1)
    assert_same_state(before, snapshot(est))
    np.testing.assert_array_equal(coef_before, est.coef_)


def bad_fit_inputs(cls, X, y):
    """(description, kwargs for fit) pairs that must be rejected by fit (which may change the width and labels)."""
    keep = {
        "nan in X",
        "inf in X",
        "negative index",
        "index out of range",
        "wrong length y",
        "negative sample weight",
        "nan sample weight",
        "nan in y",
    }
    cases = [(what, kw) for what, kw in bad_chunks(cls, X, y) if what in keep]
    decreasing = sp.csr_matrix((X.data.copy(), X.indices.copy(), X.indptr.copy()), shape=X.shape)
    decreasing.indptr[2], decreasing.indptr[3] = decreasing.indptr[3], decreasing.indptr[2]
    cases.append(("decreasing indptr", dict(X=decreasing, y=y)))
    if issubclass(cls, lm._classifier.OnlineClassifierMixin):
        cases.append(("continuous labels", dict(X=X, y=np.linspace(0, 1, X.shape[0]))))
    return cases


@pytest.mark.parametrize("cls", ALL, ids=lambda c: c.__name__)
def test_failed_fit_leaves_the_model_bitwise_unchanged(cls):
    # the rejected data has another width and other labels than the fitted model: a fit that recorded them before
    # failing would show
    X, y = problem(cls, n_rows=30, n_features=30)
    X2, y2 = problem(cls, n_rows=40, n_features=25, seed=3, n_classes=3)
    est = cls(random_state=0).fit(X, y)
    before = snapshot(est)
    for _what, kwargs in bad_fit_inputs(cls, X2, y2):
        with pytest.raises(ValueError):
            est.fit(**kwargs)
        assert_same_state(before, snapshot(est))
    unfitted = cls()
    with pytest.raises(ValueError):
        unfitted.fit(**bad_fit_inputs(cls, X2, y2)[0][1])
    assert not hasattr(unfitted, "n_features_in_") and not hasattr(unfitted, "classes_")


@pytest.mark.parametrize("cls", [lm.FTRLClassifier, lm.OGDRegressor], ids=lambda c: c.__name__)
@pytest.mark.parametrize("shuffle", [False, True])
def test_non_canonical_csr_found_while_training_is_summed_first(cls, shuffle):
    # fresh state is checked block by block as it trains; a repeated column found late restarts on a summed copy
    X, y = problem(cls, n_rows=3000, n_features=40, seed=5)
    rows = X.indptr[-2]  # the last row's first entry: duplicate it, split in halves
    data = np.insert(X.data, rows, X.data[rows] * 0.5)
    data[rows + 1] *= 0.5
    indices = np.insert(X.indices, rows, X.indices[rows])
    indptr = X.indptr.copy()
    indptr[-1] += 1
    Xdup = sp.csr_matrix((data, indices, indptr), shape=X.shape)
    assert not Xdup.has_canonical_format
    kw = dict(max_iter=2, shuffle=shuffle, random_state=np.random.RandomState(0))
    a = cls(**kw).fit(Xdup, y)
    kw["random_state"] = np.random.RandomState(0)
    b = cls(**kw).fit(X, y)
    np.testing.assert_allclose(a.coef_, b.coef_, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("cls", ALL, ids=lambda c: c.__name__)
def test_csr_fast_path_gives_the_general_paths_model(cls):
    # a CSR X with an ndarray y is validated in one pass; lists, dense X and feature names go through
    # scikit-learn's validate_data: the models must not differ
    X, y = problem(cls, n_rows=60)
    ref = cls(random_state=0).fit(X.toarray(), y)
    for Xv, yv in ((X, y), (X, list(y)), (sp.csr_array(X), y)):
        est = cls(random_state=0).fit(Xv, yv)
        assert est.n_features_in_ == X.shape[1]
        assert_same_state(snapshot(ref), snapshot(est))


def test_csr_fast_path_resets_feature_names():
    pd = pytest.importorskip("pandas")
    X, y = problem(lm.FTRLClassifier, n_rows=40)
    frame = pd.DataFrame(X.toarray(), columns=[f"f{i}" for i in range(X.shape[1])])
    est = lm.FTRLClassifier().fit(frame, y)
    assert hasattr(est, "feature_names_in_")
    est.fit(X, y)
    assert not hasattr(est, "feature_names_in_") and est.n_features_in_ == X.shape[1]


def test_scan_csr_reports_the_first_fault():
    from ftrlx._kernels import _check

    X = sp.csr_matrix(np.array([[1.0, 0.0, 2.0], [0.0, 3.0, 0.0], [4.0, 5.0, 6.0]]))
    assert _check.scan_csr(X.data, X.indices, X.indptr, 3) == (_check.CANONICAL, -1, -1)
    unsorted = X.indices.copy()
    unsorted[[3, 4]] = unsorted[[4, 3]]
    assert _check.scan_csr(X.data, unsorted, X.indptr, 3)[0] == _check.NOT_CANONICAL
    repeated = X.indices.copy()
    repeated[4] = repeated[3]
    assert _check.scan_csr(X.data, repeated, X.indptr, 3)[0] == _check.NOT_CANONICAL
    data = X.data.copy()
    data[4] = np.nan
    negative = X.indices.copy()
    negative[5] = -2
    assert _check.scan_csr(data, negative, X.indptr, 3) == (_check.NOT_FINITE, 2, 4)  # the first fault wins
    assert _check.scan_csr(X.data, negative, X.indptr, 3) == (_check.NEGATIVE_INDEX, 2, 5)
    assert _check.scan_csr(X.data, X.indices, X.indptr, 2) == (_check.INDEX_TOO_LARGE, 0, 1)
    for indptr in ([0, 2, 1, 6], [1, 2, 3, 6], [0, 2, 3, 7]):
        code, _, _ = _check.scan_csr(X.data, X.indices, np.array(indptr, dtype=X.indptr.dtype), 3)
        assert code == _check.BAD_INDPTR
    empty = sp.csr_matrix((0, 4))
    assert _check.scan_csr(empty.data, empty.indices, empty.indptr, 4) == (_check.CANONICAL, -1, -1)


def test_bad_csr_errors_name_the_row_and_column():
    X, y = problem(lm.FTRLRegressor, n_rows=40)
    bad = X.copy()
    bad.data[bad.indptr[5]] = np.inf
    col = bad.indices[bad.indptr[5]]
    for batch_size in (1, 4):  # the training kernel finds it through the row's margin, not a divergence
        with pytest.raises(ValueError, match=rf"NaN or infinity \(inf in row 5, column {col}\)"):
            lm.FTRLRegressor(batch_size=batch_size).fit(bad, y)
    labels = np.arange(40) % 3
    with pytest.raises(ValueError, match=rf"NaN or infinity \(inf in row 5, column {col}\)"):
        lm.AdaGradClassifier(max_iter=2, random_state=0).fit(bad, labels)
    bad = sp.csr_matrix((X.data.copy(), X.indices.copy(), X.indptr.copy()), shape=X.shape)
    bad.indptr[3] = bad.indptr[4] + 1
    with pytest.raises(ValueError, match="row pointers"):
        lm.FTRLRegressor().fit(bad, y)


def test_kernel_rejects_state_of_another_algorithm():
    from ftrlx._kernels import _online

    X, y = problem(lm.FTRLRegressor, n_rows=10)
    code = _online.ALGORITHMS["ftrl"][0]
    state, istate, gs = np.zeros((X.shape[1], 3)), np.zeros(2), np.zeros(_online.GLOBAL_SLOTS)
    with pytest.raises(ValueError, match="do not fit algorithm"):
        _online.fit(code, {}, X.data, X.indices, X.indptr, y, np.ones(10), None, state, istate, gs, 3, 1, True)
    with pytest.raises(ValueError, match="do not fit algorithm"):
        _online.coefficients(code, {}, state, istate, gs, True)


def test_parameters_are_checked_again_whenever_they_change():
    # partial_fit remembers the last valid combination of values; any change, in value or type, is checked
    X, y = problem(lm.FTRLClassifier, n_rows=40)
    est = lm.FTRLClassifier(max_iter=1).partial_fit(X, y, classes=[0, 1])
    for bad in (dict(max_iter=True), dict(max_iter=1.0), dict(alpha=float("nan")), dict(class_weight=[1, 2])):
        est.set_params(**bad)
        with pytest.raises(ValueError, match="is not valid"):
            est.partial_fit(X, y)
        est.set_params(max_iter=1, alpha=0.1, class_weight=None)
        est.partial_fit(X, y)
    weights = {0: 1.0}
    est.set_params(class_weight=weights).partial_fit(X, y)
    weights[7] = 2.0  # a dict changed in place is checked again too
    with pytest.raises(ValueError, match=r"class_weight names labels \[7\]"):
        est.partial_fit(X, y)


def test_error_messages_name_the_value_and_a_remedy():
    X, y = problem(lm.FTRLClassifier, n_rows=40)
    est = lm.FTRLClassifier().partial_fit(X, y, classes=[0, 1])
    with pytest.raises(ValueError, match=r"labels \[7\] that are not in classes \[0, 1\].*classes= on the first"):
        est.partial_fit(X, np.full(40, 7))
    with pytest.raises(ValueError, match="X has 31 features, but FTRLClassifier is expecting 30 features"):
        est.partial_fit(sp.hstack([X, X[:, :1]]).tocsr(), y)
    bad = sp.csr_matrix((X.data.copy(), X.indices.copy(), X.indptr.copy()), shape=X.shape)
    bad.indices[0] = -1
    with pytest.raises(ValueError, match=r"negative column index \(-1\)"):
        est.partial_fit(bad, y)
    with pytest.raises(ValueError, match="alpha=-1 is not valid.*set_params"):
        lm.FTRLClassifier(alpha=-1).fit(X, y)
    with pytest.raises(ValueError, match="classes must be passed on the first call"):
        lm.FTRLClassifier().partial_fit(X, y)
    with pytest.raises(ValueError, match="'balanced'.*cannot be used with partial_fit"):
        lm.FTRLClassifier(class_weight="balanced").partial_fit(X, y, classes=[0, 1])
    with pytest.raises(ValueError, match="eta0 \\* l2 = 2 must be below 1"):
        lm.OGDClassifier(eta0=2.0, l2=1.0).fit(X, y)


def test_divergence_is_reported_with_a_remedy():
    X = sp.csr_matrix(np.array([[1e300, 0.0], [0.0, 1e300], [1e300, 1e300]]))
    y = np.array([1.0e300, -1.0e300, 1.0e300])
    with pytest.raises(DivergenceError, match="overflowed.*Lower the learning rate, or scale the features"):
        lm.OGDRegressor(eta0=1.0, learning_rate="constant", max_iter=3).fit(X, y)


# ---------------------------------------------------------------------------------------------- behaviour


def test_multiclass_string_labels_and_class_weight():
    X, y = problem(lm.FTRLClassifier, n_rows=150, n_classes=3)
    labels = np.array(["cat", "dog", "eel"])[y]
    clf = lm.FTRLClassifier(l1=0.0, class_weight={"cat": 2.0}, random_state=0).fit(X, labels)
    assert clf.coef_.shape == (3, 30) and clf.intercept_.shape == (3,)
    assert set(clf.predict(X)) <= set(labels)
    proba = clf.predict_proba(X)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    assert (clf.predict(X) == labels).mean() > 0.7


def test_predict_proba_only_for_log_loss():
    assert hasattr(lm.FTRLClassifier(), "predict_proba")
    assert not hasattr(lm.FTRLClassifier(loss="hinge"), "predict_proba")


@pytest.mark.parametrize("cls", [lm.FTRLClassifier, lm.RDARegressor], ids=lambda c: c.__name__)
def test_sparsify_densify(cls):
    X, y = problem(cls, n_rows=80)
    est = cls(random_state=0).fit(X, y)
    pred = est.predict(X)
    dense = est.coef_
    est.sparsify()
    assert sp.issparse(est.coef_)
    np.testing.assert_array_equal(est.coef_.toarray().ravel(), np.ravel(dense))
    np.testing.assert_array_equal(est.predict(X), pred)
    partial_fit(est, X, y)  # training keeps working, and coef_ follows it
    assert sp.issparse(est.coef_)
    est.densify()
    assert isinstance(est.coef_, np.ndarray)


def test_zero_weight_row_is_a_no_op_for_ftrl_but_advances_the_step():
    X, y = problem(lm.FTRLClassifier, n_rows=20)
    a = lm.FTRLClassifier().partial_fit(X[:10], y[:10], classes=[0, 1])
    b = lm.FTRLClassifier().partial_fit(X[:10], y[:10], classes=[0, 1])
    b.partial_fit(X[10:11], y[10:11], sample_weight=[0.0])
    np.testing.assert_array_equal(a.state_, b.state_)
    assert b.t_ == a.t_ + 1


def test_public_names_are_exported():
    for name in lm.__all__:
        if name not in ("DivergenceError", "DivergenceWarning"):  # under ftrlx.linear_model only
            assert getattr(ftrlx, name) is getattr(lm, name)


@pytest.mark.datasets
@pytest.mark.parametrize("cls", CLASSIFIERS, ids=lambda c: c.__name__)
def test_defaults_learn_a9a_in_one_pass(cls, datasets_dir):
    from sklearn.datasets import load_svmlight_file
    from sklearn.metrics import roc_auc_score

    X, y = load_svmlight_file(datasets_dir / "libsvm_a9a" / "a9a.gz", n_features=123)
    Xt, yt = load_svmlight_file(datasets_dir / "libsvm_a9a" / "a9a.t.gz", n_features=123)
    clf = cls(max_iter=1, random_state=0).fit(X, y)
    # LIBLINEAR's logistic regression reaches about 0.85 accuracy and 0.90 AUC on a9a
    assert clf.score(Xt, yt) > 0.84
    assert roc_auc_score(yt, clf.decision_function(Xt)) > 0.895
