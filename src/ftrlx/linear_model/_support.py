"""What the online estimators share below the estimator class: loss and schedule codes, validation options,
label arrays, the all-or-nothing call wrapper, the schedule hyper-parameters."""

import contextlib
import functools

import numpy as np

from .._validation import (
    Interval,
    Options,
)
from . import _guard

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


def store_params(estimator, arguments):
    """What every estimator's ``__init__`` does with its arguments (``locals()``): keep each, unchanged, as the
    attribute of its name (scikit-learn's convention: validation happens when the estimator is used)."""
    for name, value in arguments.items():
        if name != "self":
            setattr(estimator, name, value)
