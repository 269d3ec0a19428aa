"""Passive-aggressive classification against scikit-learn's implementation of the same updates, and its edge cases.

PA-I and PA-II are ``SGDClassifier(loss='hinge', penalty=None, learning_rate='pa1'/'pa2', eta0=C)``: one pass in
the same row order must give the same model (bitwise without an intercept; scikit-learn adds the intercept to
the margin last, ftrlx first, hence a few ulps with one).  scikit-learn scales the intercept's step by 0.01 for
sparse input, so its side is trained on the dense matrix.
"""

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.linear_model import SGDClassifier

import ftrlx
from ftrlx._reference import fit_eager


def problem(seed=0, n=2000, d=60):
    rng = np.random.default_rng(seed)
    X = sp.random(n, d, density=0.1, format="csr", random_state=seed)
    X.data = rng.normal(size=X.nnz)
    y = (X @ rng.normal(size=d) + 0.5 * rng.normal(size=n) > 0).astype(int)  # noisy labels
    return X, y


@pytest.mark.parametrize("variant", ["pa1", "pa2"])
@pytest.mark.parametrize("C", [0.01, 1.0])
@pytest.mark.parametrize("fit_intercept", [False, True])
def test_one_pass_equals_scikit_learn(variant, C, fit_intercept):
    X, y = problem()
    ours = ftrlx.PassiveAggressiveClassifier(C=C, variant=variant, fit_intercept=fit_intercept)
    ours.partial_fit(X, y, classes=[0, 1])
    theirs = SGDClassifier(
        loss="hinge", penalty=None, learning_rate=variant, eta0=C, fit_intercept=fit_intercept, shuffle=False
    ).partial_fit(X.toarray(), y, classes=[0, 1])
    if fit_intercept:
        assert_allclose(ours.coef_, theirs.coef_, rtol=0, atol=1e-13)
        assert_allclose(ours.intercept_, theirs.intercept_, rtol=0, atol=1e-13)
    else:
        assert_array_equal(ours.coef_, theirs.coef_)


def test_a_row_with_a_margin_of_one_changes_nothing():
    X = sp.csr_matrix(np.array([[2.0, 0.0], [1.0, 0.0]]))
    model = ftrlx.PassiveAggressiveClassifier(variant="pa", fit_intercept=False).partial_fit(X[:1], [1], classes=[0, 1])
    assert_allclose(model.coef_, [[0.5, 0.0]])  # tau = 1 / 4: the margin becomes exactly 1
    before = model.coef_.copy()
    model.partial_fit(sp.csr_matrix(np.array([[2.0, 0.0]])), [1])  # margin 1: passive
    assert_array_equal(model.coef_, before)


@pytest.mark.parametrize("variant", ["pa", "pa1", "pa2"])
def test_an_empty_row_moves_only_pa2(variant):
    empty = sp.csr_matrix((1, 3))
    model = ftrlx.PassiveAggressiveClassifier(C=0.5, variant=variant).partial_fit(empty, [1], classes=[0, 1])
    assert_array_equal(model.coef_, [[0.0, 0.0, 0.0]])
    # PA-II: tau = 1 / (0 + 1 / (2 C)) = 2 C
    assert_array_equal(model.intercept_, [1.0 if variant == "pa2" else 0.0])


def test_pa1_caps_the_step_at_C():
    X = sp.csr_matrix(np.array([[0.1, 0.0]]))  # |x|^2 = 0.01: PA would take tau = 100
    model = ftrlx.PassiveAggressiveClassifier(C=0.3, variant="pa1", fit_intercept=False)
    model.partial_fit(X, [1], classes=[0, 1])
    assert_allclose(model.coef_, [[0.3 * 0.1, 0.0]])


def test_the_oracle_agrees_with_batches_and_weights():
    X, y = problem(seed=3, n=300, d=20)
    sw = np.random.default_rng(4).uniform(0.0, 2.0, size=300)
    params = {"C": 0.2, "variant": "pa2"}
    model = ftrlx.PassiveAggressiveClassifier(**params, batch_size=4).partial_fit(
        X, y, classes=[0, 1], sample_weight=sw
    )
    state = fit_eager("passive_aggressive", params, X, 2.0 * y - 1.0, sw, loss="hinge", batch_size=4)
    assert_allclose(model.coef_.ravel(), state.coef(), rtol=1e-10, atol=1e-12)
    assert_allclose(model.intercept_, [state.intercept()], rtol=1e-10, atol=1e-12)


def test_only_the_hinge_loss_is_offered():
    X, y = problem(n=50)
    with pytest.raises(ValueError, match="loss"):
        ftrlx.PassiveAggressiveClassifier(loss="log_loss").fit(X, y)
    assert not hasattr(ftrlx.PassiveAggressiveClassifier().fit(X, y), "predict_proba")
