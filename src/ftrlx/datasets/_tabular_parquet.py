"""Streaming reader for Parquet click logs: :class:`ParquetReader` and :func:`iter_parquet`."""

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ._tabular_base import _LINE, TabularReader, _weight_name


class ParquetReader(TabularReader):
    """Parquet row groups read batch by batch."""

    def _tables(self):
        import pyarrow.parquet as pq

        with pq.ParquetFile(self.path) as pf:
            names = pf.schema_arrow.names
            features = self._columns_needed(names)
            columns = list(dict.fromkeys(([self.label] if self.label else []) + features + self._extra_columns()))
            row = 0
            for batch in pf.iter_batches(batch_size=self.chunk_size, columns=columns):
                table = pa.Table.from_batches([batch])
                if self.track_rows:
                    table = table.append_column(_LINE, pa.array(np.arange(row + 1, row + 1 + batch.num_rows)))
                if self.label is not None:
                    table = self._check_label(table, row)
                if self.weight_column is not None:
                    table = self._check_weight(table, row)
                row += batch.num_rows
                yield table

    def _check_label(self, table, row):
        col = table.column(self.label)
        if not (pa.types.is_integer(col.type) or pa.types.is_floating(col.type) or pa.types.is_boolean(col.type)):
            raise ValueError(
                f"{self.path}: label column {self.label!r} has type {col.type}, "
                "not a number; convert it before writing the file"
            )
        values = pc.cast(col, pa.float64()).to_numpy(zero_copy_only=False)
        missing = col.is_null().to_numpy(zero_copy_only=False) if col.null_count else np.zeros(values.size, bool)
        wrong = ~missing & ~np.isfinite(values)
        if self.label_values is not None:
            wrong |= ~missing & ~wrong & ~np.isin(values, self.label_values)
        bad = missing | wrong
        if bad.any():
            if self.on_bad_lines == "error":
                r = int(np.flatnonzero(bad)[0])
                kind = (
                    "a finite number"
                    if self.label_values is None
                    else "one of " + ", ".join(f"{v:g}" for v in self.label_values)
                )
                self._bad(
                    row + r + 1,
                    "the label is missing" if missing[r] else f"label {float(values[r])!r} is not {kind}",
                    "drop these rows, pass label=None, or pass on_bad_lines='skip'",
                )
            self._skip_lines(row + 1 + np.flatnonzero(bad))
            keep = pa.array(~bad)
            table, values = table.filter(keep), values[~bad]
        index = table.column_names.index(self.label)
        return table.set_column(index, self.label, pa.array(values))

    def _check_weight(self, table, row):
        """The weight column as float64, its missing, negative or non-finite rows reported or skipped.

        After :meth:`_check_label`, which removes rows only when it skips them (never before an error)."""
        col = table.column(self.weight_column)
        if not (pa.types.is_integer(col.type) or pa.types.is_floating(col.type)):
            raise ValueError(
                f"{self.path}: weight column {self.weight_column!r} has type {col.type}, "
                "not a number; convert it before writing the file"
            )
        values = pc.cast(col, pa.float64()).to_numpy(zero_copy_only=False)
        bad = ~(np.isfinite(values) & (values >= 0))
        if col.null_count:
            bad |= col.is_null().to_numpy(zero_copy_only=False)
        if bad.any():
            if self.on_bad_lines == "error":
                r = int(np.flatnonzero(bad)[0])
                self._bad(
                    row + r + 1,
                    f"weight {col[r].as_py()!r} is not a finite number >= 0",
                    "drop these rows, or pass on_bad_lines='skip'",
                )
            # the rows' own line numbers when they are tracked (an earlier skip may have removed rows)
            lines = table.column(_LINE).to_numpy() if _LINE in table.column_names else row + 1 + np.arange(bad.size)
            self._skip_lines(lines[bad])
            table, values = table.filter(pa.array(~bad)), values[~bad]
        return table.set_column(table.column_names.index(self.weight_column), self.weight_column, pa.array(values))


def iter_parquet(
    path, label=None, categorical=(), numeric=(), chunk_size=100_000, hasher=None, on_bad_lines="error", weight=None
):
    """Stream a Parquet file as hashed CSR chunks.

    Only the named columns are read, one batch at a time.

    Parameters
    ----------
    path : str or path-like
        The Parquet file.
    label : str or None
        Numeric label column; None yields ``y=None`` (features only).
    categorical, numeric : sequence of str, default=()
        Feature columns, as in :func:`iter_csv`.
    chunk_size : int, default=100_000
        Rows per chunk (the last one shorter).
    hasher : CategoricalHasher or None, default=None
        As in :func:`iter_csv`.
    on_bad_lines : {'error', 'skip'}, default='error'
        A row whose label is missing or not a finite number raises
        ``ValueError("file:row N: ...")`` or is skipped and counted in
        ``skipped``; so does a row whose weight is missing, negative or not
        finite.
    weight : str or None, default=None
        A numeric column of importance weights, as in :func:`iter_csv`.

    Returns
    -------
    reader : iterable of (X, y), or of (X, y, w) with ``weight``
        With attributes ``rows_read``, ``skipped`` and ``hasher``.

    Examples
    --------
    >>> import os, tempfile
    >>> import pyarrow as pa, pyarrow.parquet as pq
    >>> from ftrlx.datasets import iter_parquet
    >>> path = os.path.join(tempfile.mkdtemp(), "clicks.parquet")
    >>> pq.write_table(pa.table({"y": [1, 0, 1], "app": ["a", None, "b"]}), path)
    >>> [(X.nnz, y.tolist()) for X, y in iter_parquet(path, "y", categorical=["app"])]
    [(2, [1.0, 0.0, 1.0])]
    """
    reader = ParquetReader(path, chunk_size, label, categorical, numeric, hasher, on_bad_lines)
    reader.weight_column = _weight_name(weight)
    return reader
