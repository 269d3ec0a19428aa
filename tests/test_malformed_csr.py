"""A CSR matrix whose arrays do not fit its shape is refused at every entry point, before any kernel runs."""

import numpy as np
import pytest
import scipy.sparse as sp

import ftrlx


def _malformed(kind):
    X = sp.eye(4, format="csr")
    if kind == "long indptr":
        X.indptr = np.array([0, 1, 2, 3, 4, 4, 4, 4], dtype=X.indptr.dtype)
    elif kind == "short indptr":
        X.indptr = X.indptr[:3]
    else:  # the last row pointer short of the stored entries
        X.indptr = np.array([0, 1, 2, 3, 3], dtype=X.indptr.dtype)
    return X


@pytest.mark.parametrize("kind", ["long indptr", "short indptr", "last pointer"])
@pytest.mark.parametrize("call", ["predict_proba", "decision_function", "partial_fit", "fit"])
def test_malformed_indptr_is_a_clear_error(kind, call):
    model = ftrlx.FTRLClassifier().partial_fit(sp.eye(4, format="csr"), [0, 1, 0, 1], classes=[0, 1])
    before = model.coef_.copy()
    X = _malformed(kind)
    with pytest.raises(ValueError, match="not a valid CSR matrix"):
        if call in ("partial_fit", "fit"):
            getattr(model, call)(X, np.array([0, 1, 0, 1]))
        else:
            getattr(model, call)(X)
    np.testing.assert_array_equal(model.coef_, before)
