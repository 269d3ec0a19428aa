"""The scikit-learn layer shared by every sparse online learner.

The estimator validates its hyper-parameters and data once per call, encodes labels, folds class weights into
sample weights, allocates state and builds the row order; the compiled kernel (``ftrlx._kernels._online``) does the
rest without the GIL.  State lives in three float64 arrays per output (one output for regression and binary
classification, one per class for one-vs-rest):

* ``state_``   shape (n_outputs, n_features, n_slots): the per-coordinate state (e.g. FTRL's z and n);
* ``istate_``  shape (n_outputs, n_intercept_slots): the intercept's own, unregularised state;
* ``gstate_``  shape (n_outputs, 3): global quantities, ``gstate_[:, 0]`` being the number of steps taken.

``coef_`` and ``intercept_`` are computed from the state when read (an O(n_features) pass), never stored, so they
are always those of the current step and training never pays for them.
"""

import contextlib
import functools
import numbers

import numpy as np
import scipy.sparse as sp
from scipy.special import expit
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.utils import check_random_state, column_or_1d
from sklearn.utils.class_weight import compute_class_weight
from sklearn.utils.metaestimators import available_if
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data

from .._kernels import _check, _online
from .._validation import (
    ClassWeight,
    Interval,
    Options,
    RandomState,
    as_float_array,
    check_weights,
    kernel_csr,
    raise_csr_fault,
    validate_params,
)
from . import _guard, _threads

LOSSES = {"log_loss": 0, "hinge": 1, "modified_huber": 2, "squared_error": 3}
SCHEDULES = {"constant": 0, "invsqrt": 1, "linear": 2}

# what every entry point accepts for X before it becomes the kernel's canonical CSR; NaN and infinity are left to
# the CSR checks, whose message names the row and the column
_X_OPTIONS = dict(
    accept_sparse=["csr", "csc", "coo"],
    dtype=[np.float64, np.float32],
    accept_large_sparse=True,
    ensure_all_finite=False,
)

POSITIVE = Interval(0, None, closed="neither")
NON_NEGATIVE = Interval(0, None, closed="left")


def _label_array(y, kinds):
    """y as a 1-D ndarray when it already is one (or a list that becomes one) of a dtype kind in ``kinds``."""
    if not isinstance(y, np.ndarray):
        if not isinstance(y, (list, tuple)):
            return None
        y = np.asarray(y)
        if y.dtype.kind not in "biuf":  # strings or mixed types from a list: let scikit-learn judge them
            return None
    return y if y.ndim == 1 and y.dtype.kind in kinds else None


_RESTORED_ON_ERROR = ("n_features_in_", "feature_names_in_", "classes_")
# hyper-parameters that only training reads (prediction validates the others)
_TRAINING_ONLY = ("batch_size", "max_iter", "shuffle", "random_state", "warm_start", "class_weight")


def _atomic(method):
    """Make a training method run alone on its estimator and leave the model as it was when it raises.

    The call holds the estimator's lock throughout (``_guard.call_lock``), so that concurrent calls on one
    estimator run one after the other.  The state arrays are taken care of by ``_train`` (a first call installs
    new state only on success; a later one undoes its in-place changes on failure); this puts back the attributes
    that validation records early: the width, the feature names and the classes."""

    @functools.wraps(method)
    def call(self, *args, **kwargs):
        with _guard.call_lock(self):
            saved = {name: self.__dict__[name] for name in _RESTORED_ON_ERROR if name in self.__dict__}
            try:
                return method(self, *args, **kwargs)
            except BaseException:
                for name in _RESTORED_ON_ERROR:
                    if name in saved:
                        self.__dict__[name] = saved[name]
                    else:
                        self.__dict__.pop(name, None)
                raise

    return call


def _labels_outside(labels, known):
    """The sorted unique ``labels`` that are not in the sorted unique ``known`` (a binary search each)."""
    try:
        at = np.minimum(np.searchsorted(known, labels), len(known) - 1)
        return labels[known[at] != labels]
    except TypeError:  # labels of types that do not compare with the classes
        return np.setdiff1d(labels, known)


@contextlib.contextmanager
def _numbers_only(estimator, X, y=None):
    """Word the bare "could not convert string to float" of scikit-learn's validation: which argument, and what
    to do (the conversion is retried only on that error path)."""
    try:
        yield
    except ValueError as exc:
        if "could not convert" not in str(exc):
            raise
        bad = "X"
        if y is not None:
            try:
                np.asarray(y, dtype=np.float64)
            except (TypeError, ValueError):
                bad = "y"
        remedy = (
            "encode text features first (e.g. ftrlx.hashing.CategoricalHasher, or sklearn's OneHotEncoder)"
            if bad == "X"
            else "a regressor needs numeric targets"
        )
        raise ValueError(f"{type(estimator).__name__}: {bad} must hold numbers ({exc}); {remedy}.") from None


class DivergenceError(ValueError):
    """Raised when a margin or the model state overflows during training (learning rate too large, features badly
    scaled, or weights too large); the call is undone."""


DivergenceWarning = _guard.DivergenceWarning


class _OnlineLinearModel(BaseEstimator):
    """Base class: subclasses set ``_algorithm`` and extend ``_parameter_constraints`` and ``_kernel_params``."""

    _algorithm = None
    _parameter_constraints = {
        "fit_intercept": [Options(True, False)],
        "batch_size": [Interval(1, None, closed="left", integer=True)],
        "max_iter": [Interval(1, None, closed="left", integer=True)],
        "shuffle": [Options(True, False)],
        "random_state": [RandomState()],
        "warm_start": [Options(True, False)],
        # threads (ftrlx.linear_model._threads)
        "n_jobs": [_threads.NJobs()],
        "parallel": [Options(*_threads.PARALLEL)],
    }

    # ---- hooks for subclasses ----

    def _kernel_params(self):
        """Hyper-parameters as the kernel's Params fields."""
        raise NotImplementedError

    def _more_validate_params(self):
        """Cross-parameter rules (one place, called after the per-parameter checks)."""

    # ---- shared machinery ----

    def __getstate__(self):
        # a copy: object.__getstate__ hands out the instance's own __dict__, whose caches must survive
        state = dict(super().__getstate__())
        for name in _guard.TRANSIENT:  # caches, the lock and the undo journals: pickles and saved models start without
            state.pop(name, None)
        return state

    def __setstate__(self, state):
        super().__setstate__(state)
        self.__dict__.pop("_lock", None)
        _guard.call_lock(self)

    def _params_key(self, for_prediction):
        """The values to check (only what prediction reads, ``for_prediction``) as a cache key, or None when one of
        them can change in place (a dict of class weights, a RandomState: checked on every call)."""
        names = [name for name in self._parameter_constraints if not (for_prediction and name in _TRAINING_ONLY)]
        values = [getattr(self, name) for name in names]
        if not all(v is None or isinstance(v, (str, bool, numbers.Number)) for v in values):
            return names, None
        return names, tuple((type(v), v) for v in values)  # with the types: True == 1, but only 1 is an integer

    def _validate_params(self, for_prediction=False):
        # Checked once per combination of values: a stream of small partial_fit calls would otherwise spend a
        # third of its time re-checking the same constraints.  ``for_prediction``: only what prediction reads
        # (set_params(alpha=nan) then predict is an error too); it never writes the cache, which training fills
        # for both (prediction leaves the estimator's __dict__ as it is).
        names, key = self._params_key(for_prediction)
        slot = "_validated_predict" if for_prediction else "_validated_params"
        if key is not None and self.__dict__.get(slot) == key:
            return
        validate_params(self, names)
        if for_prediction:
            return
        self._more_validate_params()
        if key is not None:
            self._validated_params = key
        self._validated_predict = self._params_key(True)[1]

    @property
    def _slots(self):
        return _online.ALGORITHMS[self._algorithm]

    def _validate_X(self, X, reset):
        """The general validation path (scikit-learn's ``validate_data``), ending in the kernel's CSR.

        With ``reset`` (a call that trains fresh state) the CSR checks are left to the training kernel."""
        with _numbers_only(self, X):
            X = validate_data(self, X, reset=reset, **_X_OPTIONS)
        return self._to_kernel_csr(X, scan=not reset)

    def _validate_Xy(self, X, y, reset, **y_options):
        """``_validate_X`` for X and y together (a missing y is an error, as scikit-learn requires)."""
        with _numbers_only(self, X, y if y_options.get("y_numeric") else None):
            X, y = validate_data(self, X, y, reset=reset, **_X_OPTIONS, **y_options)
        return self._to_kernel_csr(X, scan=not reset), y

    def _fast_csr(self, X, reset=False):
        """The streaming case, validated in O(nnz) without scikit-learn's generic machinery.

        A CSR matrix/array of float32/float64 values: check exactly what the kernel relies on (width, finiteness,
        index range, row pointers) in one pass and return the kernel's CSR; return None for anything else, which
        then takes the general ``validate_data`` path.  ``reset`` is for a call that (re)starts the model (``fit``,
        the first ``partial_fit``): the training kernel then makes the checks as it goes, on fresh state.
        Otherwise the model must be fitted, and X must have its width.  The caller records ``n_features_in_``
        (``_reset_features``) once the rest of the call has been validated.
        """
        if not (sp.issparse(X) and X.format == "csr" and X.dtype in (np.float32, np.float64)):
            return None
        if X.shape[0] == 0 or X.shape[1] == 0:
            return None  # validate_data words these errors
        if not reset:
            if not hasattr(self, "state_") or hasattr(self, "feature_names_in_"):
                return None
            if X.shape[1] != self.n_features_in_:
                raise ValueError(
                    f"X has {X.shape[1]} features, but {type(self).__name__} is expecting {self.n_features_in_} "
                    "features as input."
                )
        return self._to_kernel_csr(X, scan=not reset)

    def _fast_Xy(self, X, y, reset, kinds):
        """``(X, y)`` through ``_fast_csr`` when X is CSR and y a 1-D array (of a dtype kind in ``kinds``) with one
        label per row; None for anything else, which takes ``validate_data``.  The caller checks y's values and
        then calls ``_reset_features`` when ``reset``."""
        y_array = _label_array(y, kinds)
        if not (sp.issparse(X) and y_array is not None and y_array.shape[0] == X.shape[0]):
            return None
        fast = self._fast_csr(X, reset=reset)
        return None if fast is None else (fast, y_array)

    def _reset_features(self, X):
        """What ``validate_data(reset=True)`` records about X, for input that took the fast path."""
        self.n_features_in_ = X.shape[1]
        if hasattr(self, "feature_names_in_"):
            del self.feature_names_in_

    def _to_kernel_csr(self, X, scan=True):
        X, canonical = kernel_csr(X, type(self).__name__, scan=scan)
        # what the scan found, for the kernel call on this very X (``_canonical``); a call that trains fresh state
        # leaves the check to the kernel, which finds out for itself
        self._scanned = (X, canonical)
        if not sp.issparse(X) or X.format != "csr":  # pragma: no cover - kernel_csr guarantees it
            raise TypeError(f"{type(self).__name__}: could not convert X to CSR")
        return X

    def _sample_weight(self, sample_weight, X, allow_all_zero):
        name = type(self).__name__
        if sample_weight is None:
            return np.ones(X.shape[0], dtype=np.float64)
        sw = as_float_array(sample_weight, "sample_weight", name)
        if sw.ndim == 0:
            sw = np.full(X.shape[0], float(sw))
        if sw.shape != (X.shape[0],):
            raise ValueError(
                f"{name}: sample_weight has shape {sw.shape} but X has {X.shape[0]} rows; pass one weight per row."
            )
        check_weights(sw, lambda i: f"sample_weight[{i}] (row {i})", name)
        # in partial_fit a chunk whose weights are all zero is legitimate (it still advances the step counter);
        # fit on such data could learn nothing
        if not allow_all_zero and not np.any(sw > 0):
            raise ValueError(f"{name}: sample_weight is zero for every row; fit needs at least one positive weight.")
        return np.ascontiguousarray(sw)

    def _new_state(self, n_outputs, n_features):
        _, n_slots, n_islots = self._slots
        # np.zeros maps untouched pages lazily, so a large hashed space costs memory only where rows land
        return (
            np.zeros((n_outputs, n_features, n_slots), dtype=np.float64),
            np.zeros((n_outputs, n_islots), dtype=np.float64),
            np.zeros((n_outputs, _online.GLOBAL_SLOTS), dtype=np.float64),
        )

    def _canonical(self, X):
        """Whether the scan of this call found every row of X canonical (then the kernel need not look at each
        row's indices), and forget it: the record holds X, and applies to nothing else."""
        scanned = self.__dict__.pop("_scanned", None)
        return bool(scanned is not None and scanned[0] is X and scanned[1])

    def _run_kernel(
        self,
        X,
        targets,
        weights,
        order,
        state,
        istate,
        gstate,
        check,
        canonical,
        progressive=None,
        undo=None,
        stats=None,
    ):
        """Train every output on the rows of X (in ``order``); targets/weights are per-output arrays.

        ``canonical``: every row is known to be canonical (the kernel then need not look at each row's indices).
        With ``check`` (fresh state only) the kernel checks X as it trains the first output (all of X: a fault
        stops it, and a complete pass has seen every row).  Returns ``(fault, canonical)``: a fault as
        ``(code, row, position)``, with the state half-trained (to be discarded), or None; and what is known
        about the rows now (what the check found, if there was one).  ``progressive``: None, or an array of shape
        (n_samples, n_outputs) whose column k receives output k's margin of each row before training on it.
        ``undo``: the call's ``_guard.Undo`` (its journals record what the kernel changes), or None for fresh state;
        ``stats[0]`` is raised to the largest |margin| met.  A step that fails raises DivergenceError (its
        changes, and those of the steps before it, are for the caller to undo)."""
        # ---- n_jobs threads (ftrlx.linear_model._threads); one thread takes the loop below ----
        if _threads.threaded(self, state.shape[0], X.shape[0]):
            return _threads.run_kernel(
                self, X, targets, weights, order, state, istate, gstate, check, canonical, progressive, undo, stats
            )
        code = self._slots[0]
        params = self._kernel_params()
        loss = LOSSES[self.loss]
        for k in range(state.shape[0]):
            bad, fault, row, pos = _online.fit(
                code,
                params,
                X.data,
                X.indices,
                X.indptr,
                targets[k],
                weights[k],
                order,
                state[k],
                istate[k],
                gstate[k],
                loss,
                self.batch_size,
                self.fit_intercept,
                check and k == 0,
                progressive,
                k,
                canonical,
                None if undo is None else undo.journals[k],
                stats,
            )
            if fault == _online.STATE_OVERFLOW:
                raise _guard.overflow_error(self, X, weights[k], order, bad, k)
            if fault > _check.NOT_CANONICAL:
                return (fault, row, pos), False
            if check and k == 0:
                canonical = fault == _check.CANONICAL
            if bad >= 0:
                row = bad if order is None else int(order[bad])
                if check:
                    # the kernel does not scan values: a NaN or infinity shows as a non-finite margin
                    start = X.indptr[row]
                    nonfinite = np.flatnonzero(~np.isfinite(X.data[start : X.indptr[row + 1]]))
                    if nonfinite.size:
                        return (_check.NOT_FINITE, row, start + int(nonfinite[0])), False
                raise _guard.divergence_error(self, row, undone=True)
        return None, canonical

    def _train(self, X, targets, weights, epochs, first_call, shuffle, progressive=None):
        """Run ``epochs`` passes (in a fresh random order each when ``shuffle``).

        A first call trains new state and installs it only if training succeeds; X has not been checked yet, and
        the first pass checks it block by block as it trains.  Later calls update the model's state in place, and
        undo it all when anything raises (a step that overflows, an interrupt): the kernel's journals record each
        coordinate it changes, once, before the first change.  Rows with unsorted or repeated columns need nothing
        here: the kernel sorts and merges each such row as it reaches it."""
        rng = check_random_state(self.random_state) if shuffle else None
        if first_call:
            state, istate, gstate = self._new_state(len(targets), X.shape[1])
            undo = None
        else:
            state, istate, gstate = self.state_, self.istate_, self.gstate_
            undo = _guard.Undo(self, state, istate, gstate)
        canonical = self._canonical(X)
        stats = np.zeros(1)
        try:
            for epoch in range(epochs):
                order = rng.permutation(X.shape[0]).astype(np.int64) if shuffle else None
                fault, canonical = self._run_kernel(
                    X,
                    targets,
                    weights,
                    order,
                    state,
                    istate,
                    gstate,
                    first_call and epoch == 0,
                    canonical,
                    progressive,
                    undo,
                    stats,
                )
                if fault is not None:
                    raise_csr_fault(X, *fault, type(self).__name__)
        except BaseException:
            if undo is not None:
                undo.restore()
            raise
        if undo is not None:
            undo.forget()
        self.state_, self.istate_, self.gstate_ = state, istate, gstate
        if first_call:
            self.__dict__.pop("_margin_warned", None)
        _guard.warn_large_margins(self, stats[0], targets)

    def _progressive_out(self, progressive, n_samples, n_outputs):
        """The caller's ``progressive`` array as the kernel writes it, shape (n_samples, n_outputs), once checked
        (before any state is touched); None for None."""
        if progressive is None:
            return None
        shape = (n_samples,) if n_outputs == 1 else (n_samples, n_outputs)
        ok = (
            isinstance(progressive, np.ndarray)
            and progressive.dtype == np.float64
            and progressive.shape == shape
            and progressive.flags.c_contiguous
            and progressive.flags.writeable
        )
        if not ok:
            got = (
                f"a {'' if progressive.flags.c_contiguous else 'non-contiguous '}"
                f"{'' if progressive.flags.writeable else 'read-only '}{progressive.dtype} array of shape "
                f"{progressive.shape}"
                if isinstance(progressive, np.ndarray)
                else type(progressive).__name__
            )
            raise ValueError(
                f"{type(self).__name__}: progressive must be a writeable C-contiguous float64 array of shape {shape} "
                f"(one margin per row of X{', per class' if n_outputs > 1 else ''}); got {got}. "
                f"Pass e.g. numpy.empty({shape})."
            )
        return progressive.reshape(n_samples, n_outputs)

    def _decision(self, X):
        check_is_fitted(self, "state_")
        self._validate_params(for_prediction=True)
        fast = self._fast_csr(X)
        X = self._validate_X(X, reset=False) if fast is None else fast
        self.__dict__.pop("_scanned", None)  # the decision kernel looks at each row itself
        code = self._slots[0]
        params = self._kernel_params()
        n_outputs = self.state_.shape[0]
        out = np.empty((X.shape[0], n_outputs), dtype=np.float64)
        for k in range(n_outputs):
            _online.decision(
                code,
                params,
                X.data,
                X.indices,
                X.indptr,
                self.state_[k],
                self.istate_[k],
                self.gstate_[k],
                self.fit_intercept,
                out,
                k,
            )
        return out

    def _coef_intercept(self):
        check_is_fitted(self, "state_")
        self._validate_params(for_prediction=True)
        code = self._slots[0]
        params = self._kernel_params()
        rows = [
            _online.coefficients(code, params, self.state_[k], self.istate_[k], self.gstate_[k], self.fit_intercept)
            for k in range(self.state_.shape[0])
        ]
        full = np.vstack(rows)
        return full[:, :-1], full[:, -1].copy()

    @property
    def t_(self):
        """Number of optimizer steps taken so far (one per batch of ``batch_size`` rows)."""
        check_is_fitted(self, "state_")
        return int(self.gstate_[0, 0])

    @property
    def n_nonzero_(self):
        """Number of non-zero coefficients (over all outputs), counted from the state without building ``coef_``."""
        check_is_fitted(self, "state_")
        self._validate_params(for_prediction=True)
        code = self._slots[0]
        params = self._kernel_params()
        return sum(
            _online.count_nonzero(code, params, self.state_[k], self.gstate_[k]) for k in range(self.state_.shape[0])
        )

    def sparsify(self):
        """Expose ``coef_`` as a scipy CSR matrix from now on (training keeps working; see ``densify``).

        Returns
        -------
        self
        """
        check_is_fitted(self, "state_")
        self.sparse_coef_ = True
        return self

    def densify(self):
        """Expose ``coef_`` as a dense array again (the default).

        Returns
        -------
        self
        """
        check_is_fitted(self, "state_")
        self.sparse_coef_ = False
        return self

    def _wrap_coef(self, coef):
        if getattr(self, "sparse_coef_", False):
            return sp.csr_matrix(coef)
        return coef

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags


def _schedule_constraints():
    return {
        "eta0": [POSITIVE],
        "learning_rate": [Options(*SCHEDULES)],
        "decay_steps": [Interval(1, None, closed="left", integer=True)],
        "eta_final": [Options(None), NON_NEGATIVE],
    }


def _schedule_params(est):
    eta_final = 0.01 * est.eta0 if est.eta_final is None else est.eta_final
    return {
        "eta0": float(est.eta0),
        "schedule": SCHEDULES[est.learning_rate],
        "decay_steps": float(est.decay_steps),
        "eta_final": float(eta_final),
    }


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
            classes = np.unique(column_or_1d(classes))
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
        scores = self.decision_function(X)
        if scores.ndim == 1:
            p = expit(scores)
            return np.column_stack([1.0 - p, p])
        p = expit(scores)
        total = p.sum(axis=1, keepdims=True)
        uniform = np.full_like(p, 1.0 / p.shape[1])
        return np.divide(p, total, out=uniform, where=total > 0)

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
