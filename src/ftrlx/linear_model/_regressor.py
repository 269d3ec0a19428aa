"""Regression (the mixin of every online regressor)."""

import numpy as np
from sklearn.base import RegressorMixin
from sklearn.utils import column_or_1d

from .._validation import (
    Options,
    as_float_array,
)
from ._support import _atomic


class OnlineRegressorMixin(RegressorMixin):
    """Regression with the squared error."""

    _parameter_constraints = {"loss": [Options("squared_error")]}

    def _xy(self, X, y, reset):
        """Validated X (the kernel's CSR) and float64 targets; the O(nnz) path for a CSR X of float values with a
        1-D numeric y, scikit-learn's ``validate_data`` otherwise."""
        fast = self._fast_Xy(X, y, reset, "biuf")
        if fast is None:
            X, y = self._validate_Xy(X, y, reset=reset, y_numeric=True)
            y = as_float_array(column_or_1d(y, warn=True), "y", type(self).__name__)
            if not np.isfinite(y).all():
                row = int(np.flatnonzero(~np.isfinite(y))[0])
                raise ValueError(
                    f"{type(self).__name__}: Input y contains NaN or infinity ({y[row]} in row {row}); "
                    "remove those rows."
                )
            return X, np.ascontiguousarray(y)
        X, y = fast[0], np.ascontiguousarray(fast[1], dtype=np.float64)
        if not np.isfinite(y).all():
            raise ValueError(f"{type(self).__name__}: Input y contains NaN or infinity; remove those rows.")
        if reset:
            self._reset_features(X)
        return X, y

    @_atomic
    def fit(self, X, y, sample_weight=None):
        """Fit with ``max_iter`` passes over (X, y); resets the model unless ``warm_start=True``.

        Returns
        -------
        self
        """
        self._validate_params()
        warm = self.warm_start and hasattr(self, "state_")
        X, y = self._xy(X, y, reset=not warm)
        sw = self._sample_weight(sample_weight, X, allow_all_zero=False)
        self._train(X, [y], [sw], self.max_iter, first_call=not warm, shuffle=self.shuffle)
        self.n_iter_ = self.max_iter
        return self

    @_atomic
    def partial_fit(self, X, y, sample_weight=None, progressive=None):
        """One pass over (X, y), continuing from the current state.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
        sample_weight : array-like of shape (n_samples,), default=None
        progressive : ndarray of float64, default=None
            Progressive validation in the same pass: a C-contiguous float64 array of shape (n_samples,), filled with
            the ``predict`` value each row had just before the model trained on it (with ``batch_size=b``, at the
            weights of the start of its batch; a model's first rows meet the untrained model, whose margin is 0).
            It costs no second pass over the data: the kernel computes these margins to train anyway.  Its shape
            and dtype are checked before the model changes; when the call raises, its contents are unspecified.

        Returns
        -------
        self

        Examples
        --------
        >>> import numpy as np, scipy.sparse as sp
        >>> from ftrlx import OGDRegressor
        >>> X = sp.csr_matrix(np.ones((3, 1)))
        >>> before = np.empty(3)
        >>> reg = OGDRegressor(eta0=0.5, learning_rate="constant").partial_fit(X, [2.0, 2.0, 2.0], progressive=before)
        >>> before                          # predictions made before each row was learnt
        array([0., 2., 2.])
        """
        self._validate_params()
        first = not hasattr(self, "state_")
        X, y = self._xy(X, y, reset=first)
        sw = self._sample_weight(sample_weight, X, allow_all_zero=True)
        progressive = self._progressive_out(progressive, X.shape[0], 1)
        self._train(X, [y], [sw], 1, first_call=first, shuffle=False, progressive=progressive)
        self.n_iter_ = 1
        return self

    def predict(self, X):
        """Predicted values, shape (n_samples,)."""
        return self._decision(X)[:, 0]

    @property
    def coef_(self):
        """Weights, shape (n_features,); CSR of shape (1, n_features) after ``sparsify()``."""
        coef = self._coef_intercept()[0]
        return self._wrap_coef(coef) if getattr(self, "sparse_coef_", False) else coef[0]

    @property
    def intercept_(self):
        """Intercept, shape (1,)."""
        return self._coef_intercept()[1]
