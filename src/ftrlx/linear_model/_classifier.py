"""Classification: labels, one-vs-rest, class weights, probabilities (the mixin of every online classifier)."""

import numbers

import numpy as np
from sklearn.base import ClassifierMixin
from sklearn.utils import column_or_1d
from sklearn.utils.class_weight import compute_class_weight
from sklearn.utils.metaestimators import available_if
from sklearn.utils.multiclass import check_classification_targets

from .._margins import probabilities
from .._validation import (
    ClassWeight,
    Options,
    check_weights,
)
from ._support import _atomic, _labels_outside


def _classes_1d(classes):
    """``classes`` as a 1-D array: a 1-D list or array of numbers or strings as it is, anything else through
    scikit-learn's ``column_or_1d`` (which words the errors and warns of a column vector).  The stream passes
    ``classes`` with every chunk; the plain case skips ``column_or_1d``'s data-frame probes, which load pandas."""
    if isinstance(classes, (list, tuple, np.ndarray)):
        array = np.asarray(classes)
        if array.ndim == 1 and array.dtype.kind in "biufUS":
            return array
    return column_or_1d(classes)


class OnlineClassifierMixin(ClassifierMixin):
    """Classification: labels, one-vs-rest, class weights, probabilities."""

    _parameter_constraints = {
        "loss": [Options("log_loss", "hinge", "modified_huber")],
        "class_weight": [ClassWeight()],
    }

    def _check_y(self, y):
        y = column_or_1d(y, warn=True)
        check_classification_targets(y)
        return y

    def _classifier_Xy(self, X, y, reset, check_targets=True):
        """Validated X (the kernel's CSR) and labels.

        A CSR X of float values with a 1-D array of labels takes the O(nnz) path; anything else goes through
        scikit-learn's ``validate_data``.  ``check_targets=False`` (partial_fit) leaves the labels to be checked
        against ``classes`` by the caller.
        """
        fast = self._fast_Xy(X, y, reset, "biuUSf")
        if fast is None:
            X, y = self._validate_Xy(X, y, reset=reset)
            return X, self._check_y(y)
        X, y = fast
        if check_targets and y.dtype.kind == "f":
            if not np.isfinite(y).all():
                raise ValueError(f"{type(self).__name__}: Input y contains NaN or infinity; remove those rows.")
            check_classification_targets(np.unique(y))  # the label type is decided by the distinct values
        if reset:
            self._reset_features(X)
        return X, y

    def _targets(self, y, sample_weight, class_weight):
        """Per-output targets in {-1, +1} and weights (sample weight times class weight)."""
        classes = self.classes_
        cw = dict(zip(classes, class_weight))
        if len(classes) == 2:
            pos = y == classes[1]
            targets = [np.where(pos, 1.0, -1.0)]
            if cw[classes[0]] == cw[classes[1]] == 1.0:
                weights = [sample_weight]
            else:
                weights = [sample_weight * np.where(pos, cw[classes[1]], cw[classes[0]])]
        else:
            targets, weights = [], []
            for c in classes:
                pos = y == c
                targets.append(np.where(pos, 1.0, -1.0))
                weights.append(sample_weight * np.where(pos, cw[c], 1.0))
        return [np.ascontiguousarray(t) for t in targets], [np.ascontiguousarray(w) for w in weights]

    def _class_weight_array(self, y, for_partial_fit):
        if self.class_weight == "balanced" and for_partial_fit:
            raise ValueError(
                f"{type(self).__name__}: class_weight='balanced' needs the class frequencies of the whole data set "
                "and cannot be used with partial_fit; pass a dict {label: weight} computed beforehand, "
                "e.g. with sklearn.utils.class_weight.compute_class_weight."
            )
        if isinstance(self.class_weight, dict):
            unknown = set(self.class_weight) - set(self.classes_.tolist())
            if unknown:
                raise ValueError(
                    f"{type(self).__name__}: class_weight names labels {sorted(unknown, key=str)} that are not "
                    f"among the classes {self.classes_.tolist()}."
                )
            for label, weight in self.class_weight.items():
                if isinstance(weight, (bool, np.bool_)) or not isinstance(weight, numbers.Real):
                    raise ValueError(
                        f"{type(self).__name__}: class_weight[{label!r}] = {weight!r} is not a number; class weights "
                        "must be finite numbers in [0, 1e150]."
                    )
        if self.class_weight is None:
            return np.ones(len(self.classes_))
        weights = compute_class_weight(self.class_weight, classes=self.classes_, y=y)
        check_weights(weights, lambda i: f"class_weight[{self.classes_.tolist()[i]!r}]", type(self).__name__)
        return weights

    @_atomic
    def fit(self, X, y, sample_weight=None):
        """Fit with ``max_iter`` passes over (X, y), shuffled each pass when ``shuffle`` (by ``random_state``).

        Resets the model unless ``warm_start=True``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
        sample_weight : array-like of shape (n_samples,), default=None

        Returns
        -------
        self
        """
        self._validate_params()
        warm = self.warm_start and hasattr(self, "state_")
        X, y = self._classifier_Xy(X, y, reset=not warm)
        classes = np.unique(y)
        if warm and not np.array_equal(classes, self.classes_) and not set(classes) <= set(self.classes_):
            raise ValueError(
                f"{type(self).__name__}: warm_start fit got labels {classes.tolist()} but the model was trained "
                f"on {self.classes_.tolist()}; refit with warm_start=False."
            )
        if not warm:
            if len(classes) < 2:
                raise ValueError(
                    f"{type(self).__name__}: the number of classes has to be greater than one; got "
                    f"{len(classes)} class ({classes.tolist()}). A classifier needs examples of at least two labels."
                )
        sw = self._sample_weight(sample_weight, X, allow_all_zero=False)
        self.classes_ = self.classes_ if warm else classes
        cw = self._class_weight_array(y, for_partial_fit=False)
        targets, weights = self._targets(y, sw, cw)
        self._train(X, targets, weights, self.max_iter, first_call=not warm, shuffle=self.shuffle)
        self.n_iter_ = self.max_iter
        return self

    @_atomic
    def partial_fit(self, X, y, classes=None, sample_weight=None, progressive=None):
        """One pass over (X, y) in the given row order, continuing from the current state.

        Batches of ``batch_size`` rows never span two calls.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
        classes : array-like, default=None
            All labels that will ever appear; required on the first call, optional (and checked) afterwards.
        sample_weight : array-like of shape (n_samples,), default=None
        progressive : ndarray of float64, default=None
            Progressive validation in the same pass: a C-contiguous float64 array of shape (n_samples,) for two classes, (n_samples, n_classes) otherwise (one-vs-rest), filled with
            the ``decision_function`` value each row had just before the model trained on it (with ``batch_size=b``, at the
            weights of the start of its batch; a model's first rows meet the untrained model, whose margin is 0).
            It costs no second pass over the data: the kernel computes these margins to train anyway.  Its shape
            and dtype are checked before the model changes; when the call raises, its contents are unspecified.

        Returns
        -------
        self

        Examples
        --------
        Score each chunk of a stream before learning from it, in one call:

        >>> import numpy as np, scipy.sparse as sp
        >>> from ftrlx import FTRLClassifier
        >>> X = sp.csr_matrix(np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 0.0], [0.0, 1.0]]))
        >>> y = np.array([1, 0, 1, 0])
        >>> margins = np.empty(4)
        >>> clf = FTRLClassifier(alpha=0.5, l1=0.0, fit_intercept=False)
        >>> clf = clf.partial_fit(X, y, classes=[0, 1], progressive=margins)
        >>> margins[:2]                     # the first rows meet weights that nothing has moved yet
        array([0., 0.])
        >>> bool(margins[2] > 0 > margins[3])   # the next ones, what the first two taught it
        True
        """
        self._validate_params()
        first = not hasattr(self, "state_")
        name = type(self).__name__
        if first and classes is None:
            raise ValueError(
                f"{name}: classes must be passed on the first call to partial_fit (all labels that will ever "
                "appear, e.g. classes=[0, 1])."
            )
        if classes is not None:
            classes = np.unique(_classes_1d(classes))
            if not first and not np.array_equal(classes, self.classes_):
                raise ValueError(
                    f"{name}: classes={classes.tolist()} is not the same as on the first call to partial_fit "
                    f"({self.classes_.tolist()})."
                )
            if len(classes) < 2:
                raise ValueError(f"{name}: classes must name at least two labels; got {classes.tolist()}.")
        X, y = self._classifier_Xy(X, y, reset=first, check_targets=False)
        known = classes if first else self.classes_
        unknown = _labels_outside(np.unique(y), known)
        if unknown.size:
            raise ValueError(
                f"{name}: y contains labels {unknown.tolist()} that are not in classes {known.tolist()}. "
                "Pass every label that will ever appear through classes= on the first call."
            )
        sw = self._sample_weight(sample_weight, X, allow_all_zero=True)
        progressive = self._progressive_out(progressive, X.shape[0], 1 if len(known) == 2 else len(known))
        self.classes_ = known
        cw = self._class_weight_array(y, for_partial_fit=True)
        targets, weights = self._targets(y, sw, cw)
        self._train(X, targets, weights, 1, first_call=first, shuffle=False, progressive=progressive)
        self.n_iter_ = 1
        return self

    def decision_function(self, X):
        """Margins: shape (n_samples,) for two classes, (n_samples, n_classes) otherwise."""
        scores = self._decision(X)
        return scores[:, 0] if scores.shape[1] == 1 else scores

    def predict(self, X):
        """Predicted labels."""
        scores = self.decision_function(X)
        if scores.ndim == 1:
            return self.classes_[(scores > 0).astype(int)]
        return self.classes_[scores.argmax(axis=1)]

    def _has_proba(self):
        return self.loss == "log_loss"

    @available_if(_has_proba)
    def predict_proba(self, X):
        """Probabilities (log loss only): [1 - p, p] for two classes, normalised one-vs-rest sigmoids otherwise."""
        return probabilities(self.decision_function(X))

    @available_if(_has_proba)
    def predict_log_proba(self, X):
        """Logarithm of ``predict_proba``."""
        with np.errstate(divide="ignore"):
            return np.log(self.predict_proba(X))

    @property
    def coef_(self):
        """Weights, shape (1, n_features) for two classes or (n_classes, n_features); CSR after ``sparsify()``."""
        return self._wrap_coef(self._coef_intercept()[0])

    @property
    def intercept_(self):
        """Intercepts, shape (1,) for two classes or (n_classes,)."""
        return self._coef_intercept()[1]
