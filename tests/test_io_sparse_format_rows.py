"""Format version 2 of ftrlx.io in memory: the state's rows that are not all zero, and the blobs written in pieces.

Checked here: the scan that finds those rows against the obvious slow one (hypothesis), that the stored rows give
the array back bitwise, that a strided state is scanned like a contiguous one, and that a blob streamed in pieces
is the bytes numpy saves.
"""

from unittest import mock

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import ftrlx.io as fio

# ---------------------------------------------------------------------------------------------------------------
# the scan and the stored rows


def slow_touched_rows(dense):
    return np.flatnonzero(dense.view(np.uint64).reshape(dense.shape).any(axis=1))


SPECIAL = [0.0, -0.0, 1.0, -2.5, np.nan, np.inf, -np.inf, 5e-324, 1e308]


@settings(max_examples=150, deadline=None)
@given(
    n=st.integers(0, 300),
    slots=st.integers(1, 3),
    density=st.floats(0.0, 1.0),
    seed=st.integers(0, 2**32 - 1),
    scan_rows=st.sampled_from([1, 7, 32, 64, 100, 1 << 18]),
    group=st.sampled_from([1, 3, 32]),
)
def test_the_scan_finds_exactly_the_rows_with_a_bit_set(n, slots, density, seed, scan_rows, group):
    rng = np.random.default_rng(seed)
    dense = np.zeros((n, slots))
    rows = rng.random(n) < density
    dense[rows] = rng.choice(SPECIAL, size=(int(rows.sum()), slots))
    expected = slow_touched_rows(dense)
    with mock.patch.object(fio, "_SCAN_ROWS", scan_rows), mock.patch.object(fio, "_SCAN_GROUP", group):
        found = fio._touched_rows(dense)
        limited = [fio._touched_rows(dense, limit) for limit in (expected.size, expected.size - 1)]
    assert found.dtype.kind == "i"
    np.testing.assert_array_equal(found, expected)
    np.testing.assert_array_equal(limited[0], expected)
    assert limited[1] is None or expected.size == 0  # (a negative limit is never asked for)


@settings(max_examples=60, deadline=None)
@given(outputs=st.integers(1, 4), n=st.integers(1, 200), slots=st.integers(1, 3), seed=st.integers(0, 2**32 - 1))
def test_stored_rows_give_back_the_array_bitwise(outputs, n, slots, seed):
    rng = np.random.default_rng(seed)
    dense = np.where(rng.random((outputs, n, 1)) < 0.3, rng.choice(SPECIAL, size=(outputs, n, slots)), 0.0)
    rows = fio._Rows.from_dense(dense)
    n_touched = sum(slow_touched_rows(d).size for d in dense)
    if n_touched * (4 + 8 * slots) > dense.nbytes:  # more bytes than the dense array: stored dense
        assert rows is None
        return
    assert rows.indptr.dtype == np.int64 and rows.indices.dtype == np.int32 and rows.values.shape[1] == slots
    for k in range(outputs):
        np.testing.assert_array_equal(rows.indices[rows.indptr[k] : rows.indptr[k + 1]], slow_touched_rows(dense[k]))
    again = rows.to_dense()
    assert again.shape == dense.shape and again.tobytes() == dense.tobytes()


def test_a_non_contiguous_state_is_scanned_like_a_contiguous_one():
    dense = np.zeros((1, 70, 4))
    dense[0, [3, 40, 69], 1] = [1.0, -0.0, 2.0]
    view = dense[:, :, 1:3]  # every row strided
    np.testing.assert_array_equal(fio._Rows.from_dense(view).indices, [3, 40, 69])


@pytest.mark.parametrize(
    "arr",
    [
        np.arange(12.0).reshape(3, 4),
        np.asfortranarray(np.arange(12.0).reshape(3, 4)),
        np.asarray(np.int64(7)),
        np.zeros((0, 5)),
        np.array(["ab", "c"]),
        np.array([1.0, 2.0], dtype=">f8"),
        np.array([True, False]),
        np.array(["2024-01-01"], dtype="datetime64[D]"),
        np.zeros(3, dtype=[("a", "<i4"), ("b", "<f8")]),
    ],
    ids=lambda a: f"{a.dtype.str}{a.shape}",
)
def test_streamed_blobs_are_the_bytes_numpy_saves(arr):
    c = np.require(arr, requirements="C")
    with mock.patch.object(fio, "_PIECE", 5):  # many pieces
        streamed = fio._npy_header(c) + b"".join(bytes(p) for p in fio._npy_data(c))
    assert streamed == fio._npy_bytes(c)
