"""Re-chunking CSR pieces (the svmlight and VW readers): bitwise what stacking row slices with scipy gives."""

import numpy as np
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from ftrlx.datasets._base import rechunk_csr


def reference(pieces, chunk_size):
    """Chunks of ``chunk_size`` rows, each the scipy stack of row slices of the pieces (widened as needed)."""
    rows = [(piece, r) for piece in pieces for r in range(piece[0].shape[0])]
    for start in range(0, len(rows), chunk_size):
        group = rows[start : start + chunk_size]
        width = max(piece[0].shape[1] for piece, _ in group)
        Xs = []
        for piece, r in group:
            X = piece[0][r : r + 1].copy()
            X.resize((1, width))
            Xs.append(X)
        yield (sp.vstack(Xs, format="csr"),) + tuple(
            np.concatenate([piece[k][r : r + 1] for piece, r in group]) for k in range(1, len(group[0][0]))
        )


@st.composite
def piece_streams(draw):
    pieces = []
    width = draw(st.integers(1, 50))
    dtype = draw(st.sampled_from([np.float32, np.float64]))
    extra = draw(st.booleans())
    for _ in range(draw(st.integers(0, 6))):
        n = draw(st.integers(0, 9))
        width += draw(st.integers(0, 5))  # widths may grow along the stream
        X = sp.random(
            n,
            width,
            density=draw(st.sampled_from([0.0, 0.1, 0.5])),
            format="csr",
            dtype=dtype,
            random_state=draw(st.integers(0, 2**16)),
        )
        if draw(st.booleans()):
            X = sp.csr_matrix((X.data, X.indices.astype(np.int64), X.indptr.astype(np.int64)), shape=X.shape)
        y = np.arange(n, dtype=np.float64) + 100 * len(pieces)
        pieces.append((X, y, y * 2) if extra else (X, y))
    return pieces


@settings(max_examples=200, deadline=None)
@given(pieces=piece_streams(), chunk_size=st.integers(1, 12))
def test_rechunk_stacks_like_scipy(pieces, chunk_size):
    got = list(rechunk_csr(iter(pieces), chunk_size))
    expected = list(reference(pieces, chunk_size))
    assert len(got) == len(expected)
    for g, e in zip(got, expected):
        assert len(g) == len(e) and g[0].shape == e[0].shape and g[0].format == "csr"
        for a, b in ((g[0].data, e[0].data), (g[0].indices, e[0].indices), (g[0].indptr, e[0].indptr)) + tuple(
            zip(g[1:], e[1:])
        ):
            assert a.dtype == b.dtype and a.tobytes() == b.tobytes()


def test_a_whole_piece_alone_is_yielded_as_it_is():
    X = sp.random(5, 8, density=0.3, format="csr", random_state=0)
    y = np.zeros(5)
    (chunk,) = list(rechunk_csr(iter([(X, y)]), 5))
    assert chunk[0] is X and chunk[1] is y


def test_chunks_kept_by_the_caller_stay_intact():
    rng = np.random.default_rng(3)
    pieces = [(sp.random(7, 30, density=0.3, format="csr", random_state=k), rng.random(7)) for k in range(40)]
    kept = [(X, X.data.copy(), X.indices.copy(), X.indptr.copy()) for X, _ in rechunk_csr(iter(pieces), 5)][::2]
    for X, data, indices, indptr in kept:  # chunks made after them reused only the arrays of dropped ones
        assert np.array_equal(X.data, data) and np.array_equal(X.indices, indices)
        assert np.array_equal(X.indptr, indptr)
