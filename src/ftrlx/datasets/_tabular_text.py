"""Streaming reader for delimited text (CSV/TSV): :class:`TextReader` and :func:`iter_csv`."""

import csv
import io

import numpy as np
import pyarrow as pa
import pyarrow.csv as pa_csv

from .._hashing_core import exact_hasher
from ._base import bad_line, iter_line_blocks, open_binary, split_lines
from ._tabular_base import _LINE, TabularReader, _header_text, _text_sep, _weight_name

try:
    from .._kernels import _tsv
    from ._text_blocks import compiled_chunks
except ImportError:  # pragma: no cover - an install without the compiled kernels reads with pyarrow
    _tsv = None


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

        Supported: a :class:`~ftrlx.hashing.CategoricalHasher` (or its scikit-learn-free core,
        :class:`~ftrlx._hashing_core.HashingCore`) with explicit ``categorical`` columns, a 0/1 label, and every
        hashed column read from the file (or derived by the kernel); any numeric columns, numeric mode,
        interactions, signs, seed and dtype.
        """
        if not self.binary_label or self.label is None or not exact_hasher(self.hasher):
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


def _click_log_args(labels, label_column, hasher, default_hasher):
    """The label, categorical, numeric and hasher arguments a fixed-layout click-log reader (Criteo, Avazu)
    passes to :class:`TextReader`: ``label_column`` unless ``labels`` is False, ``default_hasher()`` for no
    hasher. ``labels`` must be True or False."""
    if labels not in (True, False):
        raise ValueError(f"labels must be True or False, got {labels!r}")
    return label_column if labels else None, (), (), default_hasher() if hasher is None else hasher


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
