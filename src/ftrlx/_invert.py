"""The inverted hash of a training run: hashed column -> the ``field=value`` that was seen there (``ftrlx info --top``).

The map is built from a sample of the input, the first ``rows`` rows, read once more before training: for every
field the distinct values of the sample (NumPy/pyarrow factorisation), their tokens hashed in one compiled call per
field.  Its cost follows the sample and the number of distinct values, not the stream.  Each column keeps the first
token seen there (a collision shows one of its tokens); at save time only the columns with a non-zero weight are
kept, at most :data:`MAX_ENTRIES` of them (the largest weights first).
"""

import numpy as np

#: Most entries stored in a model file.
MAX_ENTRIES = 2**16


def _labels(hasher, table):
    """(columns, labels) of every distinct token of ``table`` under ``hasher``, in the hasher's order."""
    from ._hashing_reference import _factorize, _pair_tokens
    from ._hashing_tokens import _bin_codes_and_tokens
    from .hashing import murmurhash3_32_many

    names = list(table.column_names)
    categorical, numeric, pairs, _ = hasher._plan(names)
    n, seed, mode = int(hasher.n_features), int(hasher.seed), hasher.numeric_mode
    cache, cols, labels = {}, [], []

    def tokens_of(name):
        if name not in cache:
            col = table.column(name)
            cache[name] = _bin_codes_and_tokens(col, name) if name in numeric and mode != "value" else _factorize(col)
        return cache[name]

    def emit(prefix, shown, tokens):
        if tokens:
            cols.append(murmurhash3_32_many([prefix + t for t in tokens], seed).astype(np.int64) % n)
            labels.extend(shown + t.decode("utf-8", "replace") for t in tokens)

    for name in categorical:
        emit(name.encode() + b"\x00", name + "=", tokens_of(name)[1])
    for name in numeric:
        if mode in ("value", "both"):
            cols.append(murmurhash3_32_many([name.encode()], seed).astype(np.int64) % n)
            labels.append(name)
        if mode in ("log_bin", "both"):
            emit(name.encode() + b"\x00", name + "=", tokens_of(name)[1])
    for a, b in pairs:
        tokens, _ = _pair_tokens(a, b, tokens_of(a), tokens_of(b), table.num_rows)
        shown = [t.replace(b"\x00", b"=", 1).replace(b"\x00", b" ^ ", 1).replace(b"\x00", b"=", 1) for t in tokens]
        if tokens:
            cols.append(murmurhash3_32_many(tokens, seed).astype(np.int64) % n)
            labels.extend(s.decode("utf-8", "replace") for s in shown)
    return (np.concatenate(cols) if cols else np.zeros(0, np.int64)), labels


class InverseMap:
    """Column -> first label seen, filled table by table."""

    def __init__(self):
        self.columns = np.zeros(0, np.int64)
        self.labels = []

    def add(self, hasher, table):
        cols, labels = _labels(hasher, table)
        if not labels:
            return
        cols = np.concatenate([self.columns, cols])
        first = np.unique(cols, return_index=True)[1]  # the first occurrence of every column, old ones first
        everything = self.labels + labels
        self.columns, self.labels = cols[first], [everything[i] for i in first.tolist()]

    def for_model(self, weights, limit=MAX_ENTRIES):
        """The entries of the columns whose weight is non-zero, the largest |weight| first, at most ``limit``."""
        w = np.abs(np.asarray(weights, dtype=np.float64).ravel())
        keep = self.columns[(self.columns < w.size)]
        idx = np.flatnonzero(self.columns < w.size)
        nz = w[keep] != 0
        idx, keep = idx[nz], keep[nz]
        order = np.argsort(-w[keep], kind="stable")[:limit]
        return {str(int(keep[i])): self.labels[int(idx[i])] for i in order.tolist()}


def sample_map(reader, rows):
    """The inverse map of the first ``rows`` rows that ``reader`` (a tabular reader of the input) parses."""
    import pyarrow as pa

    inv, seen, pending = InverseMap(), 0, []
    for table in reader._tables():
        if table is None or table.num_rows == 0:
            continue
        table = table.slice(0, rows - seen)
        pending.append(table)
        seen += table.num_rows
        if seen >= rows:
            break
    if pending:
        table = pa.concat_tables(pending)
        drop = [c for c in (reader.label, reader.id_column) if c is not None and c in table.column_names]
        inv.add(reader.hasher, table.drop_columns(drop))
    return inv
