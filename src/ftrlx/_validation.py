"""Validation at the boundary: hyper-parameter constraints and sparse input checks.

Kernels trust their input completely; everything they rely on is checked here, once per call, before any state
is touched, so that a rejected call leaves a fitted model exactly as it was.
"""

import contextlib
import math
from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp

# Sample and class weights above this are refused: the product of two of them stays finite, and a weight whose
# square overflows float64 could never train any algorithm.
MAX_WEIGHT = 1e150
# integer hyper-parameters reach the kernels as 64-bit integers
_INT_LIMIT = 2**63
# chunks checked once by a caller that hands each chunk to many models (``checked_once``): id -> (X, canonical)
_CHECKED = {}


class Interval:
    """A numeric range constraint, e.g. ``Interval(0, None, closed="neither")`` for a positive real.

    Any real number is accepted (``fractions.Fraction``, big Python integers) when its float value is in range;
    an integer constraint also needs the value to fit in 64 bits."""

    def __init__(self, low, high, closed="both", integer=False, allow_inf=False):
        self.low, self.high, self.closed = low, high, closed
        self.integer, self.allow_inf = integer, allow_inf

    def describe(self):
        kind = "an integer" if self.integer else "a real number"
        left = "[" if self.closed in ("both", "left") else "("
        right = "]" if self.closed in ("both", "right") else ")"
        low = "-inf" if self.low is None else self.low
        high = "inf" if self.high is None else self.high
        if self.integer and self.high is None:
            high, right = "2**63", ")"
        return f"{kind} in {left}{low}, {high}{right}"

    def accepts(self, value):
        if isinstance(value, (bool, np.bool_)):
            return False
        if self.integer and not (isinstance(value, Integral) and -_INT_LIMIT < value < _INT_LIMIT):
            return False
        if not isinstance(value, Real):
            return False
        try:
            value = float(value)  # a Fraction, a big int, a NumPy scalar: compared as the kernels will see it
        except (OverflowError, TypeError, ValueError):
            return False
        if math.isnan(value):
            return False
        if math.isinf(value) and not (self.allow_inf and value > 0 and self.high is None):
            return False
        if self.low is not None:
            if value < self.low or (value == self.low and self.closed in ("neither", "right")):
                return False
        if self.high is not None:
            if value > self.high or (value == self.high and self.closed in ("neither", "left")):
                return False
        return True


class Options:
    """One of a fixed set of values (strings, None, booleans)."""

    def __init__(self, *values):
        self.values = values

    def describe(self):
        return "one of " + ", ".join(repr(v) for v in self.values)

    def accepts(self, value):
        return any(value is v or (isinstance(v, str) and value == v) for v in self.values)


class ClassWeight:
    def describe(self):
        return "None, 'balanced' or a dict {label: weight}"

    def accepts(self, value):
        return value is None or value == "balanced" or isinstance(value, dict)


class RandomState:
    def describe(self):
        return "None, an int or a numpy.random.RandomState"

    def accepts(self, value):
        return value is None or isinstance(value, (Integral, np.random.RandomState)) and not isinstance(value, bool)


def validate_params(estimator, names=None):
    """Check every hyper-parameter of ``estimator`` (or those in ``names``) against its class's
    ``_parameter_constraints``."""
    name = type(estimator).__name__
    for param, rules in estimator._parameter_constraints.items():
        if names is not None and param not in names:
            continue
        value = getattr(estimator, param)
        if not any(rule.accepts(value) for rule in rules):
            allowed = " or ".join(rule.describe() for rule in rules)
            raise ValueError(
                f"{name}: {param}={value!r} is not valid; it must be {allowed}. "
                f"Fix it with set_params({param}=...) or in the constructor."
            )


def _check_csr_arrays(X, name):
    """The array lengths every kernel relies on: one row pointer per row plus one, as many values as indices, the
    last row pointer at the number of stored entries (a malformed matrix would make a kernel read or write past its
    buffers)."""
    n_rows = X.shape[0]
    if X.indptr.ndim != 1 or X.indptr.shape[0] != n_rows + 1:
        raise ValueError(
            f"{name}: X is not a valid CSR matrix: it has {n_rows} rows but {X.indptr.shape[0]} row pointers "
            f"(indptr needs {n_rows + 1}). Rebuild it with scipy.sparse.csr_matrix."
        )
    if X.data.shape != X.indices.shape or X.data.ndim != 1:
        raise ValueError(
            f"{name}: X is not a valid CSR matrix: {X.data.shape[0]} values for {X.indices.shape[0]} indices. "
            "Rebuild it with scipy.sparse.csr_matrix."
        )
    if n_rows and int(X.indptr[-1]) != X.indices.shape[0]:
        raise ValueError(
            f"{name}: X is not a valid CSR matrix: its last row pointer is {int(X.indptr[-1])} but it stores "
            f"{X.indices.shape[0]} entries. Rebuild it with scipy.sparse.csr_matrix."
        )


def kernel_csr(X, estimator_name, scan=True):
    """The kernels' CSR: int32/int64 indices of one dtype, contiguous values, every index and value checked.

    One O(nnz) pass (``ftrlx._kernels._check.scan_csr``) checks the row pointers, the column range and finiteness.
    Rows with unsorted or repeated column indices are valid: the kernels train on such a row in place, or merge
    its repeated columns in a small buffer as they reach it, so X is never copied for them (only to fix its
    layout).  Raises ``ValueError`` naming the first bad entry.

    Returns ``(X, canonical)``: ``canonical`` tells whether every row has strictly increasing indices (the kernels
    then need not look at each row), None with ``scan=False``, which only fixes the layout and leaves the checks to
    the training kernel: it makes them block by block as it trains fresh state (``raise_csr_fault`` then words its
    findings).
    """
    from ._kernels._check import CANONICAL, NOT_CANONICAL, scan_csr

    known = _CHECKED.get(id(X))
    if known is not None and known[0] is X:
        return X, known[1] if scan else None
    if not sp.issparse(X):
        X = sp.csr_matrix(X)
    elif X.format != "csr":
        X = X.tocsr()
    _check_csr_arrays(X, estimator_name)
    if X.indptr.dtype != X.indices.dtype or X.indices.dtype not in (np.int32, np.int64):
        # scipy keeps both the same in practice; the kernels require it
        dtype = np.int64 if np.int64 in (X.indptr.dtype, X.indices.dtype) else np.int32
        X = sp.csr_matrix((X.data, X.indices.astype(dtype), X.indptr.astype(dtype)), shape=X.shape, copy=False)
    if not (X.data.flags.c_contiguous and X.indices.flags.c_contiguous and X.indptr.flags.c_contiguous):
        # views with strides (e.g. of a larger array) are copied: the kernels read contiguous arrays
        X = sp.csr_matrix(
            (np.ascontiguousarray(X.data), np.ascontiguousarray(X.indices), np.ascontiguousarray(X.indptr)),
            shape=X.shape,
            copy=False,
        )
    if not scan:
        return X, None
    code, row, pos = scan_csr(X.data, X.indices, X.indptr, X.shape[1])
    if code > NOT_CANONICAL:
        raise_csr_fault(X, code, row, pos, estimator_name)
    return X, code == CANONICAL


@contextlib.contextmanager
def checked_once(X, canonical):
    """For one chunk that many models train on (``ftrlx.path``), checked once by the caller: inside the block,
    ``kernel_csr`` of this very matrix (what ``kernel_csr`` returned for the chunk) answers ``(X, canonical)``
    without scanning it again.  The chunk cannot change meanwhile: the caller holds it until every model is
    done."""
    _CHECKED[id(X)] = (X, canonical)
    try:
        yield
    finally:
        _CHECKED.pop(id(X), None)


def raise_csr_fault(X, code, row, pos, name):
    """The ValueError for a fault found by ``scan_csr`` (or the training kernel's check), naming where it is."""
    from ._kernels import _check

    n_features = X.shape[1]
    if code == _check.NEGATIVE_INDEX:
        raise ValueError(
            f"{name}: X has a negative column index ({X.indices[pos]}) in row {row}; a CSR matrix needs indices in "
            f"[0, {n_features}). Rebuild it with valid indices."
        )
    if code == _check.INDEX_TOO_LARGE:
        raise ValueError(
            f"{name}: X has column index {X.indices[pos]} in row {row}, but the matrix has only {n_features} "
            "columns. Rebuild it with the right shape, or valid indices."
        )
    if code == _check.NOT_FINITE:
        raise ValueError(
            f"{name}: Input X contains NaN or infinity ({X.data[pos]} in row {row}, column {X.indices[pos]}); "
            "remove or impute those values."
        )
    raise ValueError(
        f"{name}: X is not a valid CSR matrix: its row pointers (indptr) must start at 0, never decrease and end "
        f"at most at nnz={X.indices.shape[0]} (found {pos} at row {row}). Rebuild it with scipy.sparse.csr_matrix."
    )


def check_weights(values, what, name):
    """``values`` (float64) are finite, non-negative and at most MAX_WEIGHT; the ValueError names the first bad one
    (``what(i)`` words its place, e.g. "sample_weight[3]")."""
    bad = ~(np.isfinite(values) & (values >= 0) & (values <= MAX_WEIGHT))
    if not bad.any():
        return
    i = int(np.flatnonzero(bad)[0])
    v = float(values[i])
    if not math.isfinite(v):
        why = "is not finite"
    elif v < 0:
        why = "is negative"
    else:
        why = f"is above {MAX_WEIGHT:g} (the model state would overflow)"
    raise ValueError(f"{name}: {what(i)} = {v:g} {why}; weights must be finite numbers in [0, {MAX_WEIGHT:g}].")


def as_float_array(values, what, name):
    """``values`` as float64, or a ValueError naming ``what`` when they are not numbers (strings, objects)."""
    try:
        return np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(
            f"{name}: {what} must hold numbers ({exc}); convert it, e.g. with numpy.asarray(..., "
            "dtype=float), after encoding any text."
        ) from None
