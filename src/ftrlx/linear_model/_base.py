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

import numbers

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted, validate_data

from .._kernels import _check, _online, registry
from .._validation import (
    Interval,
    Options,
    RandomState,
    as_float_array,
    check_weights,
    kernel_csr,
    raise_csr_fault,
    validate_params,
)
from . import _ahead, _guard, _threads
from ._support import _TRAINING_ONLY, _X_OPTIONS, LOSSES, _label_array, _numbers_only


class DivergenceError(ValueError):
    """Raised when a margin or the model state overflows during training (learning rate too large, features badly
    scaled, or weights too large); the call is undone."""


DivergenceWarning = _guard.DivergenceWarning


class _OnlineLinearModel(BaseEstimator):
    """Base class: subclasses set ``_algorithm`` and ``_kernel_params``, and declare the constraints of their own
    parameters in ``_parameter_constraints``."""

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

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        # A class's constraints are its bases' (the mixins' included) and then its own, so that each class declares
        # only its own parameters, and may narrow one of its bases' (passive-aggressive's loss).
        merged = {}
        for klass in reversed(cls.__mro__):
            merged.update(klass.__dict__.get("_parameter_constraints", {}))
        cls._parameter_constraints = merged

    # ---- hooks for subclasses ----

    def _kernel_params(self):
        """Hyper-parameters as the kernel's Params fields."""
        raise NotImplementedError

    def _more_validate_params(self):
        """Cross-parameter rules (one place, called after the per-parameter checks)."""

    def _global_clock(self):
        """What global clock every step of this model reads and writes (a phrase), or None: a model with one
        cannot train with ``parallel='hogwild'``."""
        return None

    def _merge_kinds(self):
        """How copies of this model's state trained apart combine (threads in 'deterministic' mode, ftrlx.dask):
        the kind of each slot of a coordinate and of the intercept (``registry.SLOT_KINDS``), and whether the
        copies are averaged rather than their changes summed.  The registry's entry, which an algorithm whose
        slots change meaning with a hyper-parameter adjusts."""
        entry = registry.ALGORITHMS[self._algorithm]
        return entry.slots, entry.intercept_slots, entry.averaged

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
        # ---- n_jobs threads (ftrlx.linear_model._threads, and _ahead for a shuffled epoch of one output); one
        # thread takes the loop below ----
        if _threads.threaded(self, state.shape[0], X.shape[0]):
            return _threads.run_kernel(
                self, X, targets, weights, order, state, istate, gstate, check, canonical, progressive, undo, stats
            )
        if _ahead.applies(self, X, order, state.shape[0], progressive):
            return _ahead.run_kernel(
                self, X, targets, weights, order, state, istate, gstate, check, canonical, undo, stats
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
                fault = _guard.nonfinite_fault(X, row) if check else None
                if fault is not None:
                    return fault, False
                raise _guard.divergence_error(self, row, undone=True)
        return None, canonical

    def _train(self, X, targets, weights, epochs, first_call, shuffle, progressive=None):
        """Run ``epochs`` passes (in a fresh random order each when ``shuffle``).

        A first call trains new state and installs it only if training succeeds; X has not been checked yet, and
        the first pass checks it block by block as it trains.  Later calls update the model's state in place, and
        undo it all when anything raises (a step that overflows, an interrupt): the kernel's journals record each
        coordinate it changes, once, before the first change.  Rows with unsorted or repeated columns need nothing
        here: the kernel merges a row's repeated columns as it reaches it."""
        rng = check_random_state(self.random_state) if shuffle else None
        if first_call:
            state, istate, gstate = self._new_state(len(targets), X.shape[1])
            undo = None
        else:
            state, istate, gstate = self.state_, self.istate_, self.gstate_
            # ``_no_undo``: the caller discards this model if the call fails (``_guard``), so nothing is recorded
            undo = None if self.__dict__.get("_no_undo") else _guard.Undo(self, state, istate, gstate)
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
