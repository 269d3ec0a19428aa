"""Streaming readers for delimited text and Parquet: what both share (:class:`TabularReader`, value parsing).

:mod:`ftrlx.datasets._tabular` gathers the readers: the text ones live in ``_tabular_text``, Parquet in
``_tabular_parquet``."""

import math
import os

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .._hashing_tables import _names
from ._base import ChunkReader, bad_line, rows_record

# The column that carries each row's line number through a table when rows are tracked.
_LINE = "\0line"


def _parse_strings(arr, parse):
    """Parse a string column once per distinct value.

    Returns ``(values, missing, bad)``: float64 values (NaN where missing or
    bad), the empty cells, and the cells ``parse`` rejected.
    """
    encoded = pc.dictionary_encode(_combined(arr))
    codes = encoded.indices.to_numpy(zero_copy_only=False)
    uniques = encoded.dictionary.to_pylist()
    parsed = np.full(len(uniques) + 1, np.nan)
    state = np.zeros(len(uniques) + 1, dtype=np.int8)  # 0 ok, 1 missing, 2 bad
    for k, text in enumerate(uniques):
        if text is None or text == "":
            state[k] = 1
            continue
        try:
            parsed[k] = parse(text)
        except ValueError:
            state[k] = 2
    state[-1] = 1
    if encoded.indices.null_count:
        codes = np.where(encoded.indices.is_null().to_numpy(zero_copy_only=False), len(uniques), codes)
    return parsed[codes], state[codes] == 1, state[codes] == 2


def _combined(arr):
    return arr.combine_chunks() if isinstance(arr, pa.ChunkedArray) else arr


def _text_sep(path):
    stem = os.fspath(path)
    for suffix in (".gz", ".bz2"):
        if stem.endswith(suffix):
            stem = stem[: -len(suffix)]
    return "\t" if stem.endswith((".tsv", ".tab")) else ","


class TabularReader(ChunkReader):
    """Shared logic of the tabular readers: validate, then hash per chunk.

    A subclass yields pyarrow tables of string columns (``_tables``); this
    class checks labels and numeric cells, reports or skips bad rows, and
    hashes ``chunk_size`` rows at a time.
    """

    binary_label = False
    integer_columns = ()
    #: A column of importance weights (never a feature): chunks are then ``(X, y, w)``; set by ``weight=``.
    weight_column = None

    def __init__(self, path, chunk_size, label, categorical, numeric, hasher, on_bad_lines):
        super().__init__(path, chunk_size, on_bad_lines)
        self.label = None if label is None else str(label)
        categorical = _names(categorical) or []
        numeric = _names(numeric) or []
        if hasher is None:
            from ..hashing import CategoricalHasher

            hasher = CategoricalHasher(n_features=2**20, categorical=categorical or None, numeric=numeric or None)
        elif not hasattr(hasher, "transform"):
            raise TypeError(f"hasher must be a CategoricalHasher or transformer, got {hasher!r}")
        self.hasher = hasher
        self.numeric = list(dict.fromkeys(numeric + (_names(getattr(hasher, "numeric", None)) or [])))
        named = categorical + self.numeric + (_names(getattr(hasher, "categorical", None)) or [])
        for pair in getattr(hasher, "interactions", ()) or ():
            named += _names(pair)
        # None means: every column but the label.
        self.features = list(dict.fromkeys(named)) or None
        #: A column that names each row (never a feature); with ``track_rows`` its values are the rows' ids.
        self.id_column = None
        #: The labels allowed (e.g. (0, 1) for a binary classifier): any other is a bad line. None: any finite one.
        self.label_values = None

    def _columns_needed(self, names):
        duplicated = sorted({n for n in names if names.count(n) > 1})
        if duplicated:
            raise bad_line(
                self.path,
                1,
                f"column name(s) {duplicated} appear more than once in the header",
                "give every column its own name",
            )
        if self.label is not None and self.label not in names:
            raise bad_line(self.path, 1, f"no label column {self.label!r} among {names}", "pass the right label=")
        if self.id_column is not None and self.id_column not in names:
            raise bad_line(
                self.path, 1, f"no id column {self.id_column!r} among {names}", "name an existing column as the id"
            )
        weight = self.weight_column
        if weight is not None and (weight not in names or weight == self.label or weight in (self.features or ())):
            raise bad_line(
                self.path,
                1,
                f"no weight column {weight!r} among {names}"
                if weight not in names
                else f"the weight column {weight!r} is also the label or a feature",
                "name a column that is neither the label nor a feature as the weight",
            )
        features = self.features
        if features is None:
            features = [n for n in names if n not in (self.label, self.id_column, weight)]
        missing = [c for c in features if c not in names]
        if missing:
            raise bad_line(
                self.path,
                1,
                f"no column(s) {missing} among {names}",
                "check the categorical, numeric and hasher column names",
            )
        return features

    def _chunks(self):
        return self._table_chunks(self._tables())

    def _table_chunks(self, tables, pending=()):
        """Hash ``chunk_size`` rows at a time; ``pending`` holds tables of rows read before ``tables``."""
        pending = list(pending)
        n_pending = sum(t.num_rows for t in pending)
        for table in tables:
            if table is None or table.num_rows == 0:
                continue
            pending.append(table)
            n_pending += table.num_rows
            while n_pending >= self.chunk_size:
                whole = pa.concat_tables(pending)
                yield self._hash(whole.slice(0, self.chunk_size))
                pending = [whole.slice(self.chunk_size)]
                n_pending -= self.chunk_size
        if n_pending:
            yield self._hash(pa.concat_tables(pending))

    def _extra_columns(self):
        """Columns read besides the label and the features: the id, when rows are tracked; the weight."""
        extra = [self.id_column] if self.track_rows and self.id_column is not None else []
        return extra + ([self.weight_column] if self.weight_column is not None else [])

    def _hash(self, table):
        y = rows = None
        if self.track_rows:
            ids = None
            if self.id_column is not None:
                ids = table.column(self.id_column).to_pylist()
            rows = rows_record(table.column(_LINE).to_numpy(), ids)
            table = table.drop_columns([_LINE])
        if self.label is not None:
            y = table.column(self.label).to_numpy().astype(np.float64)
            table = table.drop_columns([self.label])
        if self.id_column is not None and self.id_column in table.column_names:
            table = table.drop_columns([self.id_column])
        w = None
        if self.weight_column is not None:
            w = table.column(self.weight_column).to_numpy().astype(np.float64)
            table = table.drop_columns([self.weight_column])
        X = self.hasher.transform(table)
        if rows is not None:
            return X, y, rows
        return (X, y) if w is None else (X, y, w)

    def _validate(self, table, lines):
        """Convert label/numeric columns and drop (or report) bad rows."""
        n = table.num_rows
        bad = np.zeros(n, dtype=bool)
        checks = []
        columns = {}
        if self.label is not None:
            label = table.column(self.label)
            if self.binary_label:
                values, missing, wrong = _parse_strings(label, _parse_binary)
            else:
                values, missing, wrong = _parse_strings(label, _parse_finite)
                if self.label_values is not None:
                    wrong |= ~missing & ~wrong & ~np.isin(values, self.label_values)
            checks.append((missing, lambda r: "the label is missing"))
            kind = (
                "0 or 1"
                if self.binary_label
                else (
                    "a finite number"
                    if self.label_values is None
                    else "one of " + ", ".join(f"{v:g}" for v in self.label_values)
                )
            )
            checks.append((wrong, lambda r, label=label: f"label {label[r].as_py()!r} is not {kind}"))
            columns[self.label] = values
        if self.weight_column is not None:
            col = table.column(self.weight_column)
            values, missing, wrong = _parse_strings(col, _parse_weight)
            checks.append(
                (missing | wrong, lambda r, col=col: f"weight {col[r].as_py()!r} is not a finite number >= 0")
            )
            columns[self.weight_column] = values
        for name in self.numeric:
            if name not in table.column_names:
                continue
            col = table.column(name)
            integer = name in self.integer_columns
            values, _, wrong = _parse_strings(col, int if integer else _parse_finite)
            what = "an integer" if integer else "a finite number"
            checks.append(
                (wrong, lambda r, col=col, name=name, what=what: f"{name} value {col[r].as_py()!r} is not {what}")
            )
            columns[name] = values
        for mask, _ in checks:
            bad |= mask
        if bad.any():
            if self.on_bad_lines == "error":
                r = int(np.flatnonzero(bad)[0])
                message = next(msg for mask, msg in checks if mask[r])
                self._bad(self._where(lines, r), message(r))
            self._skip_lines(lines[bad])
            keep = pa.array(~bad)
            table = table.filter(keep)
            columns = {k: v[~bad] for k, v in columns.items()}
            lines = lines[~bad]
        for name, values in columns.items():
            table = table.set_column(table.column_names.index(name), name, pa.array(values))
        return table, lines

    @staticmethod
    def _where(lines, r):
        return int(lines[r])


def _header_text(path, raw):
    """The header line as text: UTF-8 (a leading byte-order mark dropped), or an error naming the file."""
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise bad_line(
            path,
            1,
            f"the header is not UTF-8 text (byte {raw[exc.start : exc.start + 1]!r} at position {exc.start})",
            "convert the file to UTF-8",
        ) from None


def _parse_finite(text):
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(text)
    return value


def _parse_weight(text):
    value = float(text)
    if not (math.isfinite(value) and value >= 0):
        raise ValueError(text)
    return value


def _parse_binary(text):
    if text in ("0", "1"):
        return float(text)
    raise ValueError(text)


def _weight_name(weight):
    if isinstance(weight, bool) or (weight is not None and not isinstance(weight, (str, int))):
        raise TypeError(f"weight must be a column name or None, got {weight!r}")
    return None if weight is None else str(weight)
