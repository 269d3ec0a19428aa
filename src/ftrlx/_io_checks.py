"""Checks of what an ftrlx model file holds: the class it names and the estimator state (see :mod:`ftrlx.io`).

Part of :mod:`ftrlx.io`."""

import functools
import numbers

import numpy as np

from ._io_container import FormatError
from ._io_encoding import _decode, _Rows
from ._kernels.registry import ALGORITHMS

# Only classes below these module prefixes may be named in a file.
_TRUSTED_PREFIXES = ("ftrlx.",)


def _class_path(obj):
    cls = type(obj)
    # Prefer the public name (ftrlx.FTRLClassifier) so files survive moves of
    # the private module that defines the class.
    if cls.__module__.startswith("ftrlx."):
        import ftrlx

        if cls.__name__ in getattr(ftrlx, "__all__", ()) and getattr(ftrlx, cls.__name__) is cls:
            return f"ftrlx.{cls.__name__}"
    return f"{cls.__module__}.{cls.__qualname__}"


def _check_trusted(class_path, action):
    if not isinstance(class_path, str) or not (class_path + ".").startswith(_TRUSTED_PREFIXES):
        raise FormatError(
            f"refusing to {action} class {class_path!r}: only classes from the ftrlx package "
            "can be stored in an ftrlx model file; use pickle or joblib for other objects"
        )


@functools.cache
def _model_classes():
    """The classes the format holds, by every name a file may give them: the online linear estimators."""
    from ftrlx import linear_model
    from ftrlx.linear_model._base import _OnlineLinearModel

    names = {}
    for name in linear_model.__all__:
        cls = getattr(linear_model, name)
        if isinstance(cls, type) and issubclass(cls, _OnlineLinearModel):
            # the estimators' own modules, and the one they all shared before they had their own
            for module in ("ftrlx", "ftrlx.linear_model", cls.__module__, "ftrlx.linear_model._estimators"):
                names[f"{module}.{name}"] = cls
    return names


def _check_registered(cls, class_path, action):
    if cls is None or cls not in _model_classes().values():
        raise FormatError(
            f"refusing to {action} class {class_path!r}: the ftrlx model format holds only the online linear "
            "estimators of ftrlx.linear_model (FTRLClassifier, RDARegressor, ...); use pickle or joblib "
            "for other objects (or a newer ftrlx, if one wrote the file)"
        )


def _resolve_class(class_path, path="the file"):
    """The estimator class a file names; only the registered classes, looked up without importing anything."""
    _check_trusted(class_path, "load")
    cls = _model_classes().get(class_path)
    _check_registered(cls, class_path, f"load {path!r} as")
    return cls


# --------------------------------------------------------------------------
# checks of a loaded estimator: a file that passed its checksum is still untrusted input, and the kernels trust
# the state they are given completely (an n_features_in_ larger than the state array reads and writes out of
# bounds), so every attribute is checked against what an estimator of the class can hold.

_FITTED = ("n_features_in_", "state_", "istate_", "gstate_")
_FITTED_OPTIONAL = ("n_iter_", "sparse_coef_", "feature_names_in_")
_MAX_STEPS = 2.0**53  # a step counter beyond this is no longer an exact integer in float64
_REMEDY = "the file was altered or damaged; use a copy written by ftrlx.save"


def _bad(path, name, problem, remedy=_REMEDY):
    return FormatError(f"{path}: {name}: {problem}; {remedy}")


def _describe(value):
    if isinstance(value, np.ndarray):
        return f"an array of dtype {value.dtype} and shape {value.shape}"
    text = repr(value)
    return f"{type(value).__name__} {text if len(text) <= 60 else text[:57] + '...'}"


def _is_int(value):
    return isinstance(value, numbers.Integral) and not isinstance(value, (bool, np.bool_))


def _check_names(cls, state, path):
    """Only the attributes an estimator of ``cls`` has; returns whether the state is that of a fitted model."""
    from ftrlx.linear_model._classifier import OnlineClassifierMixin

    params = cls._get_param_names()
    fitted = _FITTED + (("classes_",) if issubclass(cls, OnlineClassifierMixin) else ())
    allowed = set(params) | set(fitted) | set(_FITTED_OPTIONAL)
    for key in state:
        if not isinstance(key, str) or key not in allowed:
            raise _bad(
                path,
                f"state[{key!r}]",
                f"is not an attribute of a {cls.__name__} (it has the "
                f"hyper-parameters {', '.join(params)} and the fitted attributes "
                f"{', '.join(fitted + _FITTED_OPTIONAL)})",
            )
    for name in params:
        if name not in state:
            raise _bad(path, name, f"the hyper-parameter is missing from the state of the {cls.__name__}")
    present = [name for name in fitted + _FITTED_OPTIONAL if name in state]
    missing = [name for name in fitted if name not in state]
    if present and missing:
        raise _bad(path, missing[0], f"is missing, but the file has the fitted attribute {present[0]}")
    return bool(present)


def _first_nonfinite(arr):
    """Index of the first NaN or infinity of ``arr``, or None (in blocks, so a large state needs no big mask)."""
    flat = arr.reshape(-1)
    step = 1 << 20
    for lo in range(0, flat.size, step):
        bad = np.flatnonzero(~np.isfinite(flat[lo : lo + step]))
        if bad.size:
            return np.unravel_index(lo + int(bad[0]), arr.shape)
    return None


def _state_array(path, name, value, shape, why):
    """A float64 array of exactly ``shape``, finite, C-contiguous and writable (the kernels' buffers)."""
    if not isinstance(value, np.ndarray) or value.dtype != np.float64:
        raise _bad(path, name, f"must be a float64 array, found {_describe(value)}")
    if value.shape != shape:
        raise _bad(path, name, f"has shape {value.shape}, but {why} needs {shape}")
    at = _first_nonfinite(value)
    if at is not None:
        raise _bad(path, name, f"holds {value[at]} at index {tuple(int(i) for i in at)}; the state must be finite")
    return np.require(value, requirements=["C", "W"])


def _check_classes(path, classes, n_outputs):
    if not isinstance(classes, np.ndarray) or classes.ndim != 1 or classes.dtype.kind not in "biufUS":
        raise _bad(path, "classes_", f"must be a 1-d array of numbers or strings, found {_describe(classes)}")
    if classes.dtype.kind == "f" and not np.isfinite(classes).all():
        raise _bad(path, "classes_", "holds NaN or infinity")
    if classes.size < 2 or not np.array_equal(np.unique(classes), classes):
        raise _bad(
            path, "classes_", f"must be at least two distinct labels in sorted order, found {classes.tolist()!r}"
        )
    expected = 1 if classes.size == 2 else classes.size
    if n_outputs != expected:
        raise _bad(path, "state_", f"has {n_outputs} outputs, but {classes.size} classes need {expected}")


def _check_step_counter(path, gstate):
    steps = gstate[:, 0]
    if not ((steps >= 0) & (steps <= _MAX_STEPS) & (steps == np.floor(steps))).all():
        raise _bad(
            path,
            "gstate_",
            f"column 0 (t_, steps taken) must hold whole numbers in [0, 2**53], found {steps.tolist()!r}",
        )


def _n_outputs(raw):
    """The number of outputs a state array (or its stored rows) claims; 1 where it claims none."""
    claims = isinstance(raw, _Rows) or (isinstance(raw, np.ndarray) and raw.ndim == 3)
    return raw.shape[0] if claims and raw.shape[0] >= 1 else 1


def _check_fitted(cls, state, path):
    """Shapes, dtypes, finiteness and consistency of the fitted attributes; the arrays made kernel-ready."""
    from ftrlx._kernels import _online
    from ftrlx.linear_model._classifier import OnlineClassifierMixin

    n_features = state["n_features_in_"]
    if not _is_int(n_features) or n_features < 1:
        raise _bad(path, "n_features_in_", f"must be a positive integer, found {_describe(n_features)}")
    _, n_slots, n_islots = _online.ALGORITHMS[cls._algorithm]
    raw = state["state_"]
    n_outputs = _n_outputs(raw)
    why = f"a {cls.__name__} with n_features_in_={n_features} and {n_outputs} output(s)"
    state["n_features_in_"] = int(n_features)
    shape = (n_outputs, int(n_features), n_slots)
    if isinstance(raw, _Rows):  # format version 2: the stored rows are checked, the rest is zero
        slots = _check_rows(path, "state_", raw, shape, why)
    else:
        state["state_"] = slots = _state_array(path, "state_", raw, shape, why)
    # the small arrays are copied, so that no two attributes can share one buffer
    state["istate_"] = _state_array(path, "istate_", state["istate_"], (n_outputs, n_islots), why).copy()
    state["gstate_"] = _state_array(path, "gstate_", state["gstate_"], (n_outputs, _online.GLOBAL_SLOTS), why).copy()
    _check_step_counter(path, state["gstate_"])
    slot = ALGORITHMS[cls._algorithm].nonnegative_slot
    if slot is not None:
        for name, values in (("state_", slots), ("istate_", state["istate_"])):
            if (values[..., slot] < 0).any():
                raise _bad(path, name, f"slot {slot} accumulates squared gradients but holds a negative value")
    if issubclass(cls, OnlineClassifierMixin):
        _check_classes(path, state["classes_"], n_outputs)
    elif n_outputs != 1:
        raise _bad(path, "state_", f"has {n_outputs} outputs, but a regressor has one")
    _check_optional(path, state, n_features)
    if isinstance(raw, _Rows):
        state["state_"] = _dense_state(path, "state_", raw)


def _check_rows(path, name, rows, shape, why):
    """The stored rows of a state (format version 2) against the ``shape`` the model needs: the arrays' types and
    shapes, the row pointers, the row indices (sorted, each once, in range) and finite values.  Returns the
    values, one row of slots per stored row."""
    if rows.shape != shape:
        raise _bad(path, name, f"has shape {rows.shape}, but {why} needs {shape}")
    n_outputs, n_rows, n_slots = shape
    indptr, indices, values = rows.indptr, rows.indices, rows.values
    if not (isinstance(indptr, np.ndarray) and indptr.dtype == np.int64 and indptr.shape == (n_outputs + 1,)):
        raise _bad(
            path,
            name,
            f"the row pointers of its stored rows must be an int64 array of shape "
            f"({n_outputs + 1},), found {_describe(indptr)}",
        )
    if not (isinstance(indices, np.ndarray) and indices.dtype in (np.int32, np.int64) and indices.ndim == 1):
        raise _bad(
            path, name, f"the indices of its stored rows must be a 1-d int32 or int64 array, found {_describe(indices)}"
        )
    if not (isinstance(values, np.ndarray) and values.dtype == np.float64 and values.shape == (indices.size, n_slots)):
        raise _bad(
            path,
            name,
            f"the values of its {indices.size} stored rows must be a float64 array of shape "
            f"({indices.size}, {n_slots}), found {_describe(values)}",
        )
    if indptr[0] != 0 or indptr[-1] != indices.size or (np.diff(indptr) < 0).any():
        raise _bad(
            path,
            name,
            f"the row pointers must rise from 0 to {indices.size} (the number of stored rows), "
            f"found {indptr.tolist()[:10]!r}",
        )
    for k in range(n_outputs):
        _check_row_indices(path, name, k, indices[indptr[k] : indptr[k + 1]], n_rows)
    at = _first_nonfinite(values)
    if at is not None:
        j, slot = (int(i) for i in at)
        where = (rows.output_of(j), int(indices[j]), slot)
        raise _bad(path, name, f"holds {values[j, slot]} at index {where}; the state must be finite")
    return values


def _check_row_indices(path, name, k, stored, n_rows):
    """The stored rows of output ``k``: strictly increasing (sorted, none twice) and within ``[0, n_rows)``."""
    if not stored.size:
        return
    stored = stored.astype(np.int64)  # (differences of int32 indices could overflow)
    bad = np.flatnonzero(np.diff(stored) <= 0)
    if bad.size:
        i = int(bad[0])
        raise _bad(
            path,
            name,
            f"the stored rows of output {k} must be strictly increasing (sorted, each once), "
            f"found row {stored[i]} then row {stored[i + 1]} at positions {i} and {i + 1}",
        )
    if stored[0] < 0 or stored[-1] >= n_rows:
        row = stored[0] if stored[0] < 0 else stored[-1]
        raise _bad(path, name, f"output {k} stores row {row}, outside [0, {n_rows})")


def _dense_state(path, name, rows):
    """The dense state of checked stored rows (np.zeros maps the pages of the rows never stored lazily)."""
    try:
        return rows.to_dense()
    except (MemoryError, ValueError, OverflowError) as exc:
        raise _bad(
            path,
            name,
            f"a state of shape {rows.shape} cannot be allocated ({exc})",
            remedy="load the model on a machine with more memory",
        ) from None


def _check_optional(path, state, n_features):
    if "n_iter_" in state and not (_is_int(state["n_iter_"]) and state["n_iter_"] >= 0):
        raise _bad(path, "n_iter_", f"must be a non-negative integer, found {_describe(state['n_iter_'])}")
    if "sparse_coef_" in state and not isinstance(state["sparse_coef_"], (bool, np.bool_)):
        raise _bad(path, "sparse_coef_", f"must be True or False, found {_describe(state['sparse_coef_'])}")
    if "feature_names_in_" in state:
        names = state["feature_names_in_"]
        if not (isinstance(names, np.ndarray) and names.dtype.kind == "U" and names.shape == (n_features,)):
            raise _bad(
                path, "feature_names_in_", f"must be {n_features} strings (one per feature), found {_describe(names)}"
            )
        state["feature_names_in_"] = names.astype(object)  # as scikit-learn records them


def _same_value(a, b):
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return (
            isinstance(a, np.ndarray)
            and isinstance(b, np.ndarray)
            and a.dtype == b.dtype
            and a.shape == b.shape
            and a.tobytes() == b.tobytes()
        )
    return type(a) is type(b) and repr(a) == repr(b)


def _check_params_entry(cls, params, state, path):
    """The header's ``params`` (what ``ftrlx info`` shows) must be the hyper-parameters the model has."""
    names = cls._get_param_names()
    if not isinstance(params, dict) or sorted(params, key=str) != sorted(names):
        raise _bad(path, "params", f"must name exactly the hyper-parameters of a {cls.__name__}")
    for name in names:
        if not _same_value(params[name], state[name]):
            raise _bad(path, name, f"the header says {params[name]!r} but the model state has {state[name]!r}")


def _decoded(path, header, key, arrays, kind=dict, rows=None):
    try:
        value = _decode(header[key], arrays, rows)
    except KeyError:
        raise FormatError(f"{path}: header entry {key!r} is missing; {_REMEDY}") from None
    except (FormatError, RecursionError) as exc:
        raise FormatError(f"{path}: header entry {key!r}: {exc}; {_REMEDY}") from None
    if not isinstance(value, kind):
        raise _bad(path, key, f"must be a mapping, found {_describe(value)}")
    return value
