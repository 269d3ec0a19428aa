"""Bad input against every estimator: a clear ValueError, and a fitted model left bitwise as it was.

Huge, tiny and non-finite values in X, in the sample weights and the class weights, malformed CSR matrices,
hyper-parameters that make training overflow (also for one-vs-rest, where earlier classes train before a later
one fails), and hyper-parameters that prediction reads.  Where a value is legal but extreme, the model either
refuses the call (unchanged) or trains to a state that is still finite.
"""

import pickle
import warnings
from fractions import Fraction

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ftrlx import linear_model as lm
from ftrlx.linear_model import DivergenceError, DivergenceWarning

ALL = [getattr(lm, name) for name in lm.__all__ if name.endswith(("Classifier", "Regressor"))]
CLASSIFIERS = [cls for cls in ALL if cls.__name__.endswith("Classifier")]
# the algorithms that accumulate squared gradients: a value whose square overflows cannot be trained on
SQUARES = [
    lm.FTRLClassifier,
    lm.FTRLRegressor,
    lm.AdaGradClassifier,
    lm.AdaGradRegressor,
    lm.LazyAdamClassifier,
    lm.LazyAdamRegressor,
]
# hyper-parameters that make every step explode
EXPLOSIVE = {"FTRL": {"alpha": 1e308, "beta": 0.0}, "RDA": {"gamma": 1e-308}}
ids = lambda c: c.__name__  # noqa: E731

N_FEATURES = 6


def problem(n_rows=40, n_classes=2, seed=0):
    rng = np.random.default_rng(seed)
    X = sp.random(n_rows, N_FEATURES, density=0.5, format="csr", random_state=seed, dtype=np.float64)
    y = rng.integers(0, n_classes, n_rows)
    return X, y


def fitted(cls, n_classes=2, fresh_last_column=False, **params):
    """A model after one partial_fit; ``fresh_last_column``: one that has never seen its last column."""
    X, y = problem(n_classes=n_classes)
    if fresh_last_column:
        X = sp.csr_matrix(X.toarray() * (np.arange(N_FEATURES) < N_FEATURES - 1))
    model = cls(**params)
    if cls in CLASSIFIERS:
        return model.partial_fit(X, y, classes=np.arange(n_classes))
    return model.partial_fit(X, y.astype(float))


def labels(cls, n):
    return np.arange(n) % 2 if cls in CLASSIFIERS else np.linspace(-1.0, 1.0, n)


def snapshot(model):
    return {
        name: np.array(getattr(model, name), copy=True)
        for name in ("state_", "istate_", "gstate_", "coef_", "intercept_")
    }


def assert_unchanged(model, before):
    for name, value in before.items():
        np.testing.assert_array_equal(getattr(model, name), value, err_msg=name, strict=True)


def refused(model, call, match=None):
    """``call(model)`` raises a ValueError (matching ``match``) and leaves the model bitwise as it was."""
    before = snapshot(model)
    t = model.t_
    with pytest.raises(ValueError, match=match):
        call(model)
    assert_unchanged(model, before)
    assert model.t_ == t


def refused_or_finite(model, call):
    """A legal but extreme input: refused with the model unchanged, or trained to a finite state."""
    before = snapshot(model)
    try:
        call(model)
    except ValueError as exc:
        assert "overflowed" in str(exc) and "model is as it was" in str(exc)
        assert_unchanged(model, before)
    else:
        for name in ("state_", "istate_", "gstate_"):
            assert np.isfinite(getattr(model, name)).all(), name


# ------------------------------------------------------------------------------------------------ values in X


@pytest.mark.parametrize("cls", SQUARES, ids=ids)
@pytest.mark.parametrize("value", [1e160, -1e200, 1e300])
def test_a_value_whose_square_overflows_is_refused(cls, value):
    # in a column that the model has not learnt yet (its weight 0, the margin moderate, the gradient about the
    # value itself): elsewhere the huge margin would saturate the loss and the step would be tiny
    model = fitted(cls, fresh_last_column=True)
    X = sp.csr_matrix(np.array([[1.0, 0, 0, 0, 0, 0], [0, 0, 0, 0, 0, value]]))
    refused(
        model,
        lambda m: m.partial_fit(X, labels(cls, 2)),
        match="overflowed while training on row 1.*column 5.*the call was undone",
    )
    assert np.isfinite(model.predict(X[:1])).all()


@pytest.mark.parametrize("cls", ALL, ids=ids)
@pytest.mark.parametrize("value", [1e160, 1e300, -1e308])
@pytest.mark.parametrize("batch_size", [1, 3])
def test_a_huge_finite_value_never_corrupts_the_state(cls, value, batch_size):
    model = fitted(cls, batch_size=batch_size)
    X = sp.csr_matrix(np.array([[0, 1.0, 0, 0, 0, 0], [0, 0, value, 0, 0, 1.0], [0, 0, value, 0, 0, 0]]))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DivergenceWarning)
        refused_or_finite(model, lambda m: m.partial_fit(X, labels(cls, 3)))


@pytest.mark.parametrize("cls", ALL, ids=ids)
@pytest.mark.parametrize("value", [np.nan, np.inf, -np.inf])
@pytest.mark.parametrize("sparse", [True, False])
def test_a_non_finite_value_names_its_row_and_column(cls, value, sparse):
    model = fitted(cls)
    X = np.ones((3, N_FEATURES))
    X[2, 4] = value
    X = sp.csr_matrix(X) if sparse else X
    refused(model, lambda m: m.partial_fit(X, labels(cls, 3)), match="NaN or infinity.*row 2, column 4")
    with pytest.raises(ValueError, match="row 2, column 4"):
        model.predict(X)
    with pytest.raises(ValueError, match="row 2, column 4"):  # a first call too
        cls().fit(X, labels(cls, 3))


@pytest.mark.parametrize("cls", ALL, ids=ids)
def test_tiny_values_train_to_a_finite_model(cls):
    model = fitted(cls, fresh_last_column=True)
    X = sp.csr_matrix(np.array([[0, 0, 0, 0, 0, 1e-170], [0, 0, 0, 0, 0, 5e-324], [0, 0, 0, 0, 0, 1e-170]]))
    model.partial_fit(X, labels(cls, 3))
    assert np.isfinite(model.state_).all() and np.isfinite(model.coef_).all()


@pytest.mark.parametrize("cls", [lm.FTRLClassifier, lm.FTRLRegressor], ids=ids)
@pytest.mark.parametrize("batch_size", [1, 2])
def test_ftrl_without_smoothing_treats_a_tiny_gradient_as_a_small_one(cls, batch_size):
    # beta = l2 = 0: the weight is alpha z / sqrt(n); g^2 underflowing left n = 0 and z != 0 (weight inf).  The
    # weight of a fresh coordinate does not depend on the gradient's scale, so 1e-170 must give what 1e-10 gives.
    coefs = []
    for x in (1e-10, 1e-170):
        model = fitted(cls, fresh_last_column=True, beta=0.0, l1=0.0, l2=0.0, batch_size=batch_size)
        X = sp.csr_matrix(np.array([[0, 0, 0, 0, 0, x]] * 2))
        model.partial_fit(X, labels(cls, 2)[::-1] if cls in CLASSIFIERS else [1.0, 1.0])
        coefs.append(np.ravel(model.coef_)[-1])
    assert np.isfinite(coefs[1]) and coefs[1] != 0.0
    np.testing.assert_allclose(coefs[1], coefs[0], rtol=1e-6)


@pytest.mark.parametrize("cls", [lm.AdaGradClassifier, lm.AdaGradRegressor], ids=ids)
@pytest.mark.parametrize("placement", ["outside", "inside"])
def test_adagrad_rda_form_without_eps_stays_finite_when_squares_underflow(cls, placement):
    model = fitted(cls, fresh_last_column=True, eps=0.0, eps_placement=placement, l1_form="rda")
    model.partial_fit(sp.csr_matrix(np.array([[0, 0, 0, 0, 0, 1e-170]])), labels(cls, 1))
    assert np.isfinite(model.coef_).all() and np.isfinite(model.intercept_).all()


def test_binary_features_with_a_large_unsmoothed_rate_do_not_diverge():
    # saturated margins give gradients near 1e-200 on fresh coordinates: their squares underflowed, the weight
    # became infinite and a later row's margin "overflowed"
    X = sp.random(2000, 50, density=0.1, format="csr", random_state=0)
    X.data[:] = 1.0
    y = np.random.default_rng(0).integers(0, 2, 2000)
    model = lm.FTRLClassifier(alpha=1e3, beta=0.0, l1=0.0, l2=0.0).partial_fit(X, y, classes=[0, 1])
    assert np.isfinite(model.coef_).all() and model.t_ == 2000


# ---------------------------------------------------------------------------------------- weights


@pytest.mark.parametrize("cls", ALL, ids=ids)
@pytest.mark.parametrize("weight", [np.nan, np.inf, -1.0, 1e200, "a"])
def test_a_bad_sample_weight_is_refused(cls, weight):
    model = fitted(cls)
    X, _ = problem(n_rows=3, seed=1)
    sw = [1.0, weight, 1.0]
    refused(
        model,
        lambda m: m.partial_fit(X, labels(cls, 3), sample_weight=sw),
        match="sample_weight" + ("" if weight == "a" else r"\[1\] \(row 1\)"),
    )


@pytest.mark.parametrize("cls", CLASSIFIERS, ids=ids)
@pytest.mark.parametrize("weight", [-5, np.nan, np.inf, 1e300, "a", None])
def test_a_bad_class_weight_names_the_class(cls, weight):
    model = fitted(cls)
    X, y = problem(n_rows=4, seed=1)
    model.set_params(class_weight={0: 1.0, 1: weight})
    refused(model, lambda m: m.partial_fit(X, y), match=r"class_weight\[1\] = ")
    with pytest.raises(ValueError, match=r"class_weight\[1\] = "):
        cls(class_weight={0: 1.0, 1: weight}).fit(X, y)


@pytest.mark.parametrize("cls", CLASSIFIERS, ids=ids)
def test_one_vs_rest_is_undone_when_a_later_class_overflows(cls):
    # the rows of class 2 are weighted 1e150 and hold 1e150: classes 0 and 1 train on them (as negatives, weight
    # 1), then class 2 overflows; all three must be as they were
    model = fitted(cls, n_classes=3)
    X = sp.csr_matrix(np.array([[1e150, 0, 0, 0, 0, 0], [1e150, 1.0, 0, 0, 0, 0], [0, 1.0, 0, 0, 0, 0]]))
    y = [2, 2, 0]
    if cls is lm.PassiveAggressiveClassifier:
        # its steps are scale-free (loss / |x|^2), so large values cannot overflow it; a tiny row makes plain PA's
        # step 1e300, finite for classes 0 and 1 and overflowing at class 2's weight of 1e150
        model.set_params(variant="pa")
        X, y = sp.csr_matrix(np.array([[1e-150, 0, 0, 0, 0, 0]])), [2]
    model.set_params(class_weight={2: 1e150})
    refused(model, lambda m: m.partial_fit(X, y), match="overflow")


# ---------------------------------------------------------------------------------------- hyper-parameters


def _explosive(cls):
    for family, params in EXPLOSIVE.items():
        if cls.__name__.startswith(family):
            return params
    return {"eta0": 1e308}


@pytest.mark.parametrize("cls", ALL, ids=ids)
@pytest.mark.parametrize("n_classes", [2, 3])
def test_an_exploding_learning_rate_is_undone(cls, n_classes):
    if cls not in CLASSIFIERS and n_classes == 3:
        pytest.skip("regressors have one output")
    if cls is lm.PassiveAggressiveClassifier:
        pytest.skip("passive-aggressive has no learning rate: its step is the row's loss over its squared norm")
    model = fitted(cls, n_classes=n_classes)
    model.set_params(**_explosive(cls))
    X = sp.csr_matrix(np.full((6, N_FEATURES), 3.0))
    y = np.arange(6) % n_classes if cls in CLASSIFIERS else np.full(6, 50.0)
    refused(model, lambda m: m.partial_fit(X, y), match="overflowed")


@pytest.mark.parametrize("cls", ALL, ids=ids)
def test_prediction_validates_what_it_reads(cls):
    model = fitted(cls)
    X, _ = problem(n_rows=3, seed=2)
    model.set_params(fit_intercept="yes")
    for call in ("predict", "decision_function" if cls in CLASSIFIERS else "predict"):
        with pytest.raises(ValueError, match="fit_intercept='yes' is not valid"):
            getattr(model, call)(X)
    with pytest.raises(ValueError, match="fit_intercept"):
        model.coef_  # noqa: B018
    model.set_params(fit_intercept=True, batch_size=0)  # read by training only
    model.predict(X)


def test_prediction_refuses_a_nan_learning_rate():
    model = fitted(lm.FTRLClassifier)
    model.set_params(alpha=np.nan)
    with pytest.raises(ValueError, match="alpha=nan is not valid"):
        model.predict_proba(problem(n_rows=2)[0])


@pytest.mark.parametrize("value", [2**64, -(2**63)])
def test_an_integer_beyond_64_bits_is_refused(value):
    with pytest.raises(ValueError, match="batch_size=.* must be an integer in \\[1, 2\\*\\*63\\)"):
        lm.FTRLClassifier(batch_size=value).fit(*problem())


def test_fractions_and_big_integers_work_as_their_float_values():
    X, y = problem()
    a = lm.FTRLClassifier(alpha=Fraction(1, 4), l1=Fraction(0), shuffle=False).fit(X, y)
    b = lm.FTRLClassifier(alpha=0.25, l1=0.0, shuffle=False).fit(X, y)
    np.testing.assert_array_equal(a.coef_, b.coef_)
    lm.OGDClassifier(decay_steps=2**62, learning_rate="linear").fit(X, y)


# ---------------------------------------------------------------------------------------- malformed CSR


def _malformed(kind):
    X = sp.csr_matrix(np.eye(4, N_FEATURES))
    if kind == "long indptr":
        X.indptr = np.array([0, 1, 2, 3, 4, 4, 4], dtype=X.indptr.dtype)
    elif kind == "short indptr":
        X.indptr = X.indptr[:3]
    elif kind == "last pointer":
        X.indptr = np.array([0, 1, 2, 3, 3], dtype=X.indptr.dtype)
    elif kind == "negative index":
        X.indices = X.indices.copy()
        X.indices[2] = -1
    else:
        X.indices = X.indices.copy()
        X.indices[2] = N_FEATURES
    return X


@pytest.mark.parametrize("cls", ALL, ids=ids)
@pytest.mark.parametrize("kind", ["long indptr", "short indptr", "last pointer", "negative index", "big index"])
def test_a_malformed_csr_matrix_is_refused(cls, kind):
    model = fitted(cls)
    X = _malformed(kind)
    refused(model, lambda m: m.partial_fit(X, labels(cls, 4)), match="CSR|column index")
    with pytest.raises(ValueError, match="CSR|column index"):
        model.predict(X)


@pytest.mark.parametrize("cls", ALL, ids=ids)
def test_strided_index_arrays_are_accepted(cls):
    model = fitted(cls)
    X, _ = problem(n_rows=5, seed=3)
    twice = lambda a: np.repeat(a, 2)[::2]  # noqa: E731 - a view with a stride of two elements
    Y = sp.csr_matrix((X.data, twice(X.indices), twice(X.indptr)), shape=X.shape)
    assert not Y.indices.flags.c_contiguous
    reference = pickle.loads(pickle.dumps(model))
    np.testing.assert_array_equal(model.predict(Y), reference.predict(X))
    model.partial_fit(Y, labels(cls, 5))
    reference.partial_fit(X, labels(cls, 5))
    np.testing.assert_array_equal(model.state_, reference.state_)


@pytest.mark.parametrize("cls", ALL, ids=ids)
def test_strings_are_named(cls):
    model = fitted(cls)
    X = np.ones((2, N_FEATURES), dtype=object)
    X[1, 3] = "a"
    refused(model, lambda m: m.partial_fit(X, labels(cls, 2)), match="X must hold numbers")
    if cls not in CLASSIFIERS:
        refused(model, lambda m: m.partial_fit(np.ones((2, N_FEATURES)), ["a", "b"]), match="y must hold numbers")


# ---------------------------------------------------------------------------------------- the warning


def test_a_diverging_regressor_warns_once():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 5)) * 3
    y = 60 + X.sum(axis=1)
    model = lm.OGDRegressor(eta0=5.0, learning_rate="constant")
    with pytest.warns(DivergenceWarning, match="probably diverging"):
        model.partial_fit(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("error", DivergenceWarning)
        try:
            model.partial_fit(X, y)  # once per estimator
        except DivergenceError:
            pass


def test_getstate_leaves_the_estimators_caches_alone():
    model = fitted(lm.FTRLClassifier)
    model._validate_params()
    assert "_validated_params" in model.__dict__
    state = model.__getstate__()
    assert "_validated_params" in model.__dict__ and "_validated_params" not in state
    assert "_lock" not in state and "_undo" not in state


# ---------------------------------------------------------------------------------------- properties


@pytest.mark.parametrize("cls", ALL, ids=ids)
@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    value=st.floats(allow_nan=False, allow_infinity=False),
    weight=st.floats(min_value=0.0, max_value=1e150),
    column=st.integers(0, N_FEATURES - 1),
)
def test_any_finite_value_and_weight_leave_a_finite_state_or_nothing(cls, value, weight, column):
    model = fitted(cls)
    X = np.zeros((3, N_FEATURES))
    X[:, column] = value
    X[1, (column + 1) % N_FEATURES] = 1.0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DivergenceWarning)
        refused_or_finite(
            model, lambda m: m.partial_fit(sp.csr_matrix(X), labels(cls, 3), sample_weight=[1.0, weight, weight])
        )
