"""The check of X that threaded training runs first (``_threads.scan``) gives what the one-thread scan gives.

Each thread scans a range of rows, and ``combine_scans`` must then report the fault the whole-matrix scan reports
(row pointers before entries, the first fault in storage order) whatever the ranges, for every kind of fault.
"""

from types import SimpleNamespace

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import ftrlx
from ftrlx._kernels import _check
from ftrlx.linear_model import _threads

FAULTS = ["negative", "too large", "nan", "inf", "unsorted", "repeated", "pointer down", "pointer past", "first"]


def _matrix(seed, n_rows, n_features, dtype):
    rng = np.random.default_rng(seed)
    X = sp.random(n_rows, n_features, density=0.3, format="csr", random_state=rng, dtype=np.float64)
    X.indices = X.indices.astype(dtype)
    X.indptr = X.indptr.astype(dtype)
    return X


def _spoil(X, fault, at):
    """X's arrays (a namespace: scipy refuses some of these faults) with ``fault`` put in near the share ``at``
    of its rows (or of its entries)."""
    X = SimpleNamespace(
        data=X.data.copy(), indices=X.indices.copy(), indptr=X.indptr.copy(), shape=X.shape, nnz=X.data.shape[0]
    )
    row = min(X.shape[0] - 1, int(at * X.shape[0]))
    k = min(X.nnz - 1, int(at * X.nnz))
    if fault == "negative":
        X.indices[k] = -1
    elif fault == "too large":
        X.indices[k] = X.shape[1]
    elif fault in ("nan", "inf"):
        X.data[k] = np.nan if fault == "nan" else -np.inf
    elif fault in ("unsorted", "repeated"):
        a, b = X.indptr[row], X.indptr[row + 1]
        if b - a >= 2:
            first = X.indices[a + 1] if fault == "repeated" else X.indices[a]
            X.indices[a], X.indices[a + 1] = X.indices[a + 1], first
    elif fault == "pointer down":
        X.indptr[row + 1] = X.indptr[row] - 1
    elif fault == "pointer past":
        X.indptr[row + 1] = X.nnz + 5
    else:  # the first row pointer not 0
        X.indptr[0] = 1
    return X


def _both(X, n_threads, monkeypatch):
    monkeypatch.setattr(_threads, "SCAN_MIN_ENTRIES", 1)
    return _check.scan_csr(X.data, X.indices, X.indptr, X.shape[1]), _threads.scan(X, n_threads)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    seed=st.integers(0, 2**31),
    n_rows=st.integers(1, 40),
    n_threads=st.integers(2, 6),
    faults=st.lists(st.tuples(st.sampled_from(FAULTS), st.floats(0, 1)), max_size=3),
    dtype=st.sampled_from([np.int32, np.int64]),
)
def test_threaded_scan_equals_the_one_thread_scan(seed, n_rows, n_threads, faults, dtype, monkeypatch):
    X = _matrix(seed, n_rows, 12, dtype)
    for fault, at in faults:
        X = _spoil(X, fault, at)
    one, threaded = _both(X, n_threads, monkeypatch)
    assert threaded == one


@pytest.mark.parametrize("fault", FAULTS)
def test_each_fault_is_found_in_every_range(fault, monkeypatch):
    X = _matrix(0, 60, 20, np.int32)
    for at in (0.0, 0.2, 0.5, 0.8, 1.0):
        one, threaded = _both(_spoil(X, fault, at), 4, monkeypatch)
        assert threaded == one
        if fault not in ("unsorted", "repeated"):
            assert one[0] > _check.NOT_CANONICAL


def test_a_pointer_fault_comes_before_an_earlier_entry_fault(monkeypatch):
    # the one-thread scan checks every row pointer before any entry: a later range's pointer fault wins
    X = _spoil(_spoil(_matrix(1, 50, 20, np.int32), "negative", 0.05), "pointer past", 0.9)
    one, threaded = _both(X, 3, monkeypatch)
    assert one[0] == _check.BAD_INDPTR and threaded == one


def test_threaded_training_reports_the_same_fault(monkeypatch):
    X = _matrix(2, 300, 30, np.int32)
    X.data[int(0.7 * X.nnz)] = np.nan
    y = np.arange(300) % 2
    monkeypatch.setattr(_threads, "SCAN_MIN_ENTRIES", 1)
    messages = []
    for n_jobs in (1, 2):
        with pytest.raises(ValueError) as err:
            ftrlx.FTRLClassifier(n_jobs=n_jobs, parallel="hogwild").partial_fit(X, y, classes=[0, 1])
        messages.append(str(err.value))
    assert messages[0] == messages[1]
