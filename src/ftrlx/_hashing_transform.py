"""CategoricalHasher.transform on the compiled kernels of ``ftrlx._kernels._hashing``.

Each emitted field (a categorical column, a numeric column's value or its
bins, an interaction) fills one row of two field-major blocks (contiguous
writes per field): C, the output column of each row's token (``n_features``
when the row has none), and V, its value, kept only when values are not all
one (signed hashing, numeric values). The kernel then sorts each row's few slots, sums repeated columns and
drops missing slots and zeros. The fields keep the order of the NumPy
reference (:mod:`ftrlx._hashing_reference`), which sums collisions in field
order, so the output is bitwise the same.
"""

import numpy as np
import scipy.sparse as sp

from ._hashing_reference import _check_finite
from ._hashing_tables import _columns_of
from ._hashing_tokens import _as_float
from ._hashing_views import bin_view, column_view
from ._kernels import _hashing as _kernel

# Rows of at most this many fields are sorted by the kernel (insertion sort), wider ones by numpy.
SORT_IN_KERNEL_MAX_FIELDS = 6


def transform_compiled(hasher, X):
    """``hasher.transform(X)``: see :meth:`ftrlx.hashing.CategoricalHasher.transform`."""
    names, n_rows, get = _columns_of(X)
    categorical, numeric, pairs, dtype = hasher._plan(names)
    mode = hasher.numeric_mode
    with_value = mode in ("value", "both")
    with_bins = mode in ("log_bin", "both")
    n_fields = len(categorical) + len(numeric) * (with_value + with_bins) + len(pairs)
    blocks = _Blocks(n_rows, n_fields, hasher, with_values=bool(hasher.signed or (numeric and with_value)))
    views = {}

    def view_of(name):
        # Categorical view of a column (its values, or its log-bin tokens), built once per chunk.
        if name not in views:
            if name in numeric and mode != "value":
                views[name] = bin_view(get(name), name)
            else:
                views[name] = column_view(get(name))
        return views[name]

    for name in categorical:
        blocks.tokens(name, view_of(name))
    for name in numeric:
        if with_value:
            x = _as_float(get(name), name)
            _check_finite(x, name)
            blocks.values(name, x)
        if with_bins:
            blocks.tokens(name, view_of(name))
    for a, b in pairs:
        blocks.pair(a, b, view_of(a), view_of(b))
    return blocks.csr(dtype)


def _buffers(view):
    """A TokenView's arrays, in the order the emitting kernels take them."""
    return view.codes, view.offsets, view.data, view.validity, view.validity_offset


class _Blocks:
    """The C and V blocks of one chunk, filled one field (column) at a time."""

    def __init__(self, n_rows, n_fields, hasher, with_values):
        self.n_features = int(hasher.n_features)
        self.seed = int(hasher.seed)
        self.signed = bool(hasher.signed)
        self.C = np.empty((n_fields, n_rows), dtype=np.int64)
        self.V = np.empty((n_fields, n_rows), dtype=np.float64) if with_values else None
        self.j = 0

    def _emit(self, kernel, *args):
        """Fill row ``j`` of C (and V) with ``kernel(*args, seed, n_features, signed, C, V, j)``; next row."""
        kernel(*args, self.seed, self.n_features, self.signed, self.C, self.V, self.j)
        self.j += 1

    def tokens(self, name, view):
        """A field of tokens ``b"<name>\\x00<token>"``."""
        prefix = np.frombuffer(name.encode("utf-8") + b"\x00", dtype=np.uint8)
        self._emit(_kernel.emit_tokens, prefix, *_buffers(view))

    def pair(self, a, b, view_a, view_b):
        """The interaction field ``b"<a>\\x00<token a>\\x00<b>\\x00<token b>"``."""
        head = np.frombuffer(a.encode("utf-8") + b"\x00", dtype=np.uint8)
        mid = np.frombuffer(b"\x00" + b.encode("utf-8") + b"\x00", dtype=np.uint8)
        self._emit(_kernel.emit_pairs, head, mid, *_buffers(view_a), *_buffers(view_b))

    def values(self, name, x):
        """A numeric value field: the hash of the name alone, holding x (no entry for NaN or 0)."""
        token = np.frombuffer(name.encode("utf-8"), dtype=np.uint8)
        h = int(_kernel.hash_table(np.array([0, token.size], dtype=np.int64), token, self.seed)[0])
        sign = -1.0 if self.signed and h >> 31 else 1.0
        present = ~np.isnan(x)
        present &= x != 0
        self.C[self.j] = np.where(present, h % self.n_features, self.n_features)
        self.V[self.j] = np.where(present, x * sign, 0.0)
        self.j += 1

    def csr(self, dtype):
        """The CSR matrix: sorted, summed indices, no explicit zeros, int32 indices when they fit."""
        n_fields, n_rows = self.C.shape
        n_features = self.n_features
        if n_fields == 0 or n_rows == 0:
            return sp.csr_matrix((n_rows, n_features), dtype=dtype)
        size = n_rows * n_fields
        # Row sort keys: column << field_bits | field. Without values the order among equal columns does
        # not matter, so the bare column is enough.
        field_bits = max(1, (n_fields - 1).bit_length()) if self.V is not None else 0
        narrow_keys = (n_features << field_bits) | (n_fields - 1) < 2**32
        keys = np.empty((n_rows, n_fields), dtype=np.uint32 if narrow_keys else np.uint64)
        _kernel.row_keys(self.C, keys, field_bits)
        self.C = None
        # numpy's (vectorised) sort wins on wide rows; short rows are sorted in the kernel's walk.
        rows_sorted = n_fields > SORT_IN_KERNEL_MAX_FIELDS
        if rows_sorted:
            keys.sort(axis=1)
        narrow = n_features < 2**31 and size < 2**31
        # Room for every slot; pages past the entries actually written are never touched.
        indices = np.empty(size, dtype=np.int32 if narrow else np.int64)
        data = np.empty(size, dtype=np.float64)
        indptr = np.empty(n_rows + 1, dtype=np.int64)
        nnz = _kernel.assemble_csr(keys, field_bits, rows_sorted, self.V, n_features, indices, data, indptr)
        self.V = None
        index_dtype = np.int32 if n_features < 2**31 and nnz < 2**31 else np.int64
        X = sp.csr_matrix(
            (
                data[:nnz].astype(dtype, copy=False),
                indices[:nnz].astype(index_dtype, copy=False),
                indptr.astype(index_dtype),
            ),
            shape=(n_rows, n_features),
        )
        X.has_sorted_indices = True
        X.has_canonical_format = True
        return X
