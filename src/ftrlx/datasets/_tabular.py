"""Streaming readers for delimited text (CSV/TSV) and Parquet click logs."""

import csv
import io
import math
import os

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv

from ..hashing import CategoricalHasher, _names
from ._base import ChunkReader, bad_line, iter_line_blocks, open_binary, rows_record, split_lines

try:
    from .._kernels import _tsv
    from ._text_blocks import compiled_chunks
except ImportError:  # pragma: no cover - an install without the compiled kernels reads with pyarrow
    _tsv = None

__all__ = ["iter_csv", "iter_parquet"]

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


class TextReader(TabularReader):
    """Delimited text, read in blocks of lines with exact line numbers.

    A subclass that sets ``_compiled = True`` (the Criteo and Avazu readers) parses and hashes each block with
    the compiled kernel ``ftrlx._kernels._tsv`` when its hasher allows (see :meth:`_compiled_plan`); set it
    False on an instance to force the pyarrow path, which gives bitwise the same chunks and errors.
    """

    #: Parse with the compiled kernel where the configuration allows it.
    _compiled = False
    #: Avazu: the YYMMDDHH column the derived columns come from (validated whenever it is read).
    _hour_column = None
    #: Threads parsing blocks at once on the compiled path; None: one per core (at most 4), 0: none besides the
    #: reading thread. Every setting gives the same chunks and errors.
    parse_threads = None

    def __init__(
        self, path, chunk_size, label, categorical, numeric, hasher, on_bad_lines, sep, header, column_names=None
    ):
        super().__init__(path, chunk_size, label, categorical, numeric, hasher, on_bad_lines)
        if sep is None:
            sep = _text_sep(path)
        if not isinstance(sep, str) or len(sep) != 1:
            raise ValueError(f"sep must be a single character, got {sep!r}")
        self.sep = sep
        self.header = bool(header)
        self.column_names = column_names
        self.quote = '"'

    def _derive(self, table, lines):
        """Hook for readers that compute extra columns; returns the table."""
        return table

    def _tables(self):
        return self._parse_blocks(self._blocks())

    def _parse_blocks(self, blocks):
        for block, line0, names, needed in blocks:
            yield self._parse_block(block, line0, names, needed)

    def _header(self, fh):
        """``(names, first_line)`` after reading the header of ``fh`` (names None: to guess), or None if empty."""
        if not self.header:
            return self.column_names, 1
        raw = fh.readline()
        if not raw.strip():
            return None
        return next(csv.reader([_header_text(self.path, raw).rstrip("\r\n")], delimiter=self.sep)), 2

    def _blocks(self):
        """Yield ``(block, first_line, names, needed)`` for the blocks of whole lines after the header."""
        with open_binary(self.path) as fh:
            head = self._header(fh)
            if head is None:
                return
            names, first_line = head
            needed = None
            for block, line0 in iter_line_blocks(fh, first_line):
                if names is None:
                    names = self._guess_names(block)
                if needed is None:
                    needed = self._columns_needed(names)
                yield block, line0, names, needed

    def _guess_names(self, block):
        for raw in block.split(b"\n"):
            if raw.strip(b"\r"):
                row = next(csv.reader([raw.decode("utf-8").rstrip("\r")], delimiter=self.sep))
                return [str(i) for i in range(len(row))]
        return []

    def _parse_block(self, block, line0, names, needed):
        buf = np.frombuffer(block, dtype=np.uint8)
        starts, ends = split_lines(buf)
        line_numbers = line0 + np.arange(starts.size)
        empty = ends == starts
        sep_byte = ord(self.sep)
        hits = np.flatnonzero(buf == sep_byte)
        n_fields = np.searchsorted(hits, ends) - np.searchsorted(hits, starts) + 1
        if self.quote:
            quotes = np.flatnonzero(buf == ord(self.quote))
            quoted = np.searchsorted(quotes, ends) > np.searchsorted(quotes, starts)
            for i in np.flatnonzero(quoted):
                text = block[starts[i] : ends[i]].decode("utf-8", "replace")
                n_fields[i] = len(next(csv.reader([text], delimiter=self.sep)))
        wrong = ~empty & (n_fields != len(names))
        keep = ~empty & ~wrong
        if wrong.any() and self.on_bad_lines == "error":
            # Report the first bad line of any kind: check the lines before it first.
            first = int(np.flatnonzero(wrong)[0])
            keep[first:] = False
            if keep.any():
                self._parse_kept(block, buf, starts, keep, line_numbers, names, needed)
        for i in np.flatnonzero(wrong):
            self._bad(
                int(line_numbers[i]),
                f"expected {len(names)} {_sep_name(self.sep)}-separated fields, found {n_fields[i]}",
            )
        return self._parse_kept(block, buf, starts, keep, line_numbers, names, needed)

    def _parse_kept(self, block, buf, starts, keep, line_numbers, names, needed):
        if not keep.any():
            return None
        data = block
        if not keep.all():
            newline_ends = np.flatnonzero(buf == 10)
            data = buf[np.repeat(keep, newline_ends - starts + 1)].tobytes()
        table = pa_csv.read_csv(
            io.BytesIO(data),
            read_options=pa_csv.ReadOptions(column_names=names),
            parse_options=pa_csv.ParseOptions(delimiter=self.sep, quote_char=self.quote or False),
            convert_options=pa_csv.ConvertOptions(
                column_types={n: pa.string() for n in names},
                include_columns=list(
                    dict.fromkeys(
                        ([self.label] if self.label else []) + self._raw_columns(needed) + self._extra_columns()
                    )
                ),
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
        lines = line_numbers[keep]
        if table.num_rows != lines.size:
            raise bad_line(
                self.path,
                int(lines[0]),
                "a quoted value spans several lines, which this reader does not support",
                "put each record on one line",
            )
        table, lines = self._validate(table, lines)
        if self.track_rows:
            table = table.append_column(_LINE, pa.array(lines, type=pa.int64()))
        return self._derive(table, lines)

    def _raw_columns(self, needed):
        return needed

    def _hashed_columns(self, raw):
        """The columns of the table the hasher transforms, given the raw columns read."""
        return list(raw)

    def _derived_sources(self):
        """Derived columns the kernel computes itself: name -> source kind of ``_tsv.SOURCE_KINDS``."""
        return {}

    # -- the compiled path ------------------------------------------------------------------------------------
    def _chunks(self):
        self._switched_at = None
        if not self._compiled or _tsv is None or self.track_rows:
            self._switched_at = 0
            return super()._chunks()
        return self._compiled_chunks()

    def _compiled_chunks(self):
        """Chunks parsed and hashed by the kernel, block by block (see :mod:`ftrlx.datasets._text_blocks`).

        Where the kernel stops (a bad line to report, or an input it leaves to pyarrow), the rows not yet
        yielded are parsed again by the pyarrow path, which then reads the rest of the file: its chunks and
        errors are the reference the kernel reproduces.
        """
        with open_binary(self.path) as fh:
            head = self._header(fh)
            if head is not None:
                yield from compiled_chunks(self, fh, *head)

    def _reparse(self, pending, names, needed):
        """The pending rows as pyarrow tables (the bad lines among them were counted already)."""
        skipped = self.skipped
        tables = [self._parse_block(block, line0, names, needed).slice(first) for _, first, block, line0, _ in pending]
        self.skipped = skipped
        return tables

    def _compiled_plan(self, names, needed):
        """The kernel's configuration for this file, or None where only the pyarrow path is exact.

        Supported: a :class:`CategoricalHasher` with explicit ``categorical`` columns, a 0/1 label, and every
        hashed column read from the file (or derived by the kernel); any numeric columns, numeric mode,
        interactions, signs, seed and dtype.
        """
        if not self.binary_label or self.label is None or type(self.hasher) is not CategoricalHasher:
            return None
        try:
            spec = self.hasher.get_spec()
        except (TypeError, ValueError):
            return None  # the pyarrow path reports it
        categorical, numeric = spec["categorical"], spec["numeric"]
        pairs = [tuple(p) for p in spec["interactions"]]
        derived = self._derived_sources()
        raw = self._raw_columns(needed)
        seen = set(self._hashed_columns(raw))
        used = (categorical or []) + numeric + [c for p in pairs for c in p]
        if (
            categorical is None
            or not used
            or len(set(names)) != len(names)
            or any(c not in seen or c == self.label for c in used)
            or self.numeric != list(dict.fromkeys(numeric))
            or any(c in derived or c == self._hour_column for c in numeric)
            or any(c in names for c in derived)
        ):
            return None
        return _CompiledPlan(self, names, raw, spec, derived)


class _CompiledPlan:
    """A :class:`~ftrlx._kernels._tsv.BlockParser` for one file, with what assembling its chunks needs.

    The slots follow ``CategoricalHasher.transform``'s emission order (categorical columns, then each numeric
    column's value and bin, then interactions): ties between colliding tokens are summed in that order.
    """

    def __init__(self, reader, names, raw, spec, derived):
        mode = spec["numeric_mode"]
        numeric = spec["numeric"]
        sources, index = [], {}

        def source(name):
            if name not in index:
                if name in numeric:
                    kind = "int" if name in reader.integer_columns else "float"
                    field = names.index(name)
                elif name in derived:
                    kind, field = derived[name], names.index(reader._hour_column)
                else:
                    kind, field = "raw", names.index(name)
                index[name] = len(sources)
                sources.append((_tsv.SOURCE_KINDS[kind], field))
            return index[name]

        for name in reader.numeric:  # validated in the reader's order
            source(name)
        slots = []
        for name in spec["categorical"]:
            slots.append((_tsv.SLOT_KINDS["cat"], source(name), 0, name.encode() + b"\0", b""))
        for name in numeric:
            if mode in ("value", "both"):
                slots.append((_tsv.SLOT_KINDS["value"], source(name), 0, name.encode(), b""))
            if mode in ("log_bin", "both"):
                slots.append((_tsv.SLOT_KINDS["bin"], source(name), 0, name.encode() + b"\0", b""))
        for a, b in spec["interactions"]:
            slots.append(
                (_tsv.SLOT_KINDS["pair"], source(a), source(b), a.encode() + b"\0", b"\0" + b.encode() + b"\0")
            )
        hour = reader._hour_column
        hour_field = names.index(hour) if hour is not None and hour in raw else -1
        self.n_slots = len(slots)
        self.n_features = int(spec["n_features"])
        self.dtype = np.dtype(spec["dtype"])
        # Values other than +-1 are summed in NumPy's order; +-1 sum exactly in any order.
        self.exact = mode in ("value", "both")
        self.spare = []  # buffers of consumed pieces, for the next blocks
        self._args = (
            len(names),
            ord(reader.sep),
            ord(reader.quote) if reader.quote else -1,
            names.index(reader.label),
            hour_field,
            sources,
            slots,
            self.n_features,
            int(spec["seed"]),
            bool(spec["signed"]),
            mode == "value",
            bool(spec["signed"]) or self.exact,
        )
        self.parsers = [self.new_parser()]  # the free parsers (one per thread parsing at once)

    def new_parser(self):
        # values +-1: each row's runs are summed by the parse, and a chunk is a copy of its rows
        return _tsv.BlockParser(*self._args, merge=not self.exact)


def _sep_name(sep):
    return {"\t": "tab", ",": "comma", ";": "semicolon", " ": "space", "|": "pipe"}.get(sep, repr(sep))


def iter_csv(
    path,
    label,
    categorical=(),
    numeric=(),
    sep=None,
    header=True,
    chunk_size=100_000,
    hasher=None,
    on_bad_lines="error",
    weight=None,
):
    """Stream a CSV/TSV file of named columns as hashed CSR chunks.

    The file is read a few MB at a time; every line must hold one record
    (quoted values may contain the separator but not a newline). Empty lines
    are ignored.

    Parameters
    ----------
    path : str or path-like
        The file; ``.gz`` and ``.bz2`` are decompressed on the fly.
    label : str or int or None
        The label column (its position when ``header=False``); cells must be
        numbers. None reads features only and yields ``y=None``.
    categorical : sequence of str, default=()
        Columns hashed as categorical values.
    numeric : sequence of str, default=()
        Columns parsed as numbers (empty cells are missing).
    sep : str or None, default=None
        Field separator; None means tab for ``.tsv``/``.tab`` files (also
        compressed) and comma otherwise.
    header : bool, default=True
        Whether the first line names the columns. Without it the columns are
        named "0", "1", ...
    chunk_size : int, default=100_000
        Rows per chunk (the last one shorter).
    hasher : CategoricalHasher or None, default=None
        How the features are built. None: ``CategoricalHasher(n_features=2**20,
        categorical=categorical, numeric=numeric)`` (all columns but the
        label if both lists are empty). A given hasher's own columns are read
        too, so ``categorical``/``numeric`` may then be left empty.
    on_bad_lines : {'error', 'skip'}, default='error'
        A line with the wrong number of fields, a bad label or a non-numeric
        numeric cell raises ``ValueError("file:line: ...")`` or is skipped and
        counted in ``skipped``.
    weight : str or None, default=None
        A column of importance weights (as Vowpal Wabbit's): never a
        feature; the chunks are then ``(X, y, w)``, the ``sample_weight`` of
        :func:`ftrlx.fit_stream`. A weight that is empty, negative or not a
        finite number makes a bad line.

    Returns
    -------
    reader : iterable of (X, y), or of (X, y, w) with ``weight``
        With attributes ``rows_read``, ``skipped`` and ``hasher``.

    Examples
    --------
    >>> import os, tempfile
    >>> from ftrlx.datasets import iter_csv
    >>> path = os.path.join(tempfile.mkdtemp(), "clicks.csv")
    >>> with open(path, "w") as f:
    ...     _ = f.write("clicked,site,price\\n1,news,2.5\\n0,shop,\\n\\n0,news,1\\n")
    >>> reader = iter_csv(path, label="clicked", categorical=["site"], numeric=["price"])
    >>> [(X.shape, y.tolist()) for X, y in reader]
    [((3, 1048576), [1.0, 0.0, 0.0])]
    >>> X, y = next(iter(reader))
    >>> X.getnnz(axis=1)  # the missing price gives no feature
    array([2, 1, 2], dtype=int32)
    """
    reader = TextReader(path, chunk_size, label, categorical, numeric, hasher, on_bad_lines, sep, header)
    reader.weight_column = _weight_name(weight)
    return reader


def _weight_name(weight):
    if isinstance(weight, bool) or (weight is not None and not isinstance(weight, (str, int))):
        raise TypeError(f"weight must be a column name or None, got {weight!r}")
    return None if weight is None else str(weight)


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
