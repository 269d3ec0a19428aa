"""Synthetic click logs with a known sparse logistic ground truth."""

import os
from functools import lru_cache

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv
import scipy.sparse as sp

from ._base import check_chunk_size, open_binary_write

__all__ = ["make_click_data", "iter_click_data", "write_click_data"]

# Rows are generated in blocks of this size, each from its own random stream
# keyed by (seed, block index); any chunking of the stream then sees the same rows.
_BLOCK = 1 << 16
_PILOT_ROWS = 50_000
_TOP_VALUES = 50
_N_INT_COLUMNS = 13
_N_CAT_COLUMNS = 26


def field_names(n_fields):
    """Names of the synthetic fields: ``f0``, ``f1``, ..."""
    return [f"f{j}" for j in range(n_fields)]


@lru_cache(maxsize=64)
def _zipf_cdf(vocab_size, zipf_a):
    ranks = np.arange(1, vocab_size + 1, dtype=np.float64)
    weights = ranks**-zipf_a
    cdf = np.cumsum(weights)
    cdf /= cdf[-1]
    cdf.flags.writeable = False
    return cdf


class _ClickModel:
    """The generating process behind make_click_data and its relatives."""

    def __init__(
        self, n_fields=39, n_features=2**20, vocab_sizes=None, zipf_a=1.2, positive_rate=0.1, n_informative=None, seed=0
    ):
        if isinstance(n_fields, bool) or not isinstance(n_fields, (int, np.integer)) or n_fields < 1:
            raise ValueError(f"n_fields must be a positive integer, got {n_fields!r}")
        if vocab_sizes is None:
            vocab_sizes = np.round(np.logspace(1, 6, n_fields)).astype(np.int64) if n_fields > 1 else np.array([10])
        vocab_sizes = np.asarray(vocab_sizes, dtype=np.int64).reshape(-1)
        if vocab_sizes.size != n_fields or (vocab_sizes < 1).any():
            raise ValueError(
                f"vocab_sizes must hold {n_fields} positive integers (one per field), got {vocab_sizes.tolist()}"
            )
        if not zipf_a > 0:
            raise ValueError(f"zipf_a must be positive, got {zipf_a!r}")
        if not 0 < positive_rate < 1:
            raise ValueError(f"positive_rate must be in (0, 1), got {positive_rate!r}")
        if n_informative is None:
            n_informative = max(1, n_fields // 2)
        if not 0 <= n_informative <= n_fields:
            raise ValueError(f"n_informative must be in [0, {n_fields}], got {n_informative!r}")
        if not isinstance(seed, (int, np.integer)) or seed < 0:
            raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
        self.n_fields = int(n_fields)
        self.n_features = n_features
        self.vocab_sizes = vocab_sizes
        self.zipf_a = float(zipf_a)
        self.positive_rate = float(positive_rate)
        self.seed = int(seed)
        self.names = field_names(self.n_fields)

        rng = np.random.default_rng([self.seed, 1])
        self.informative = np.sort(rng.choice(self.n_fields, n_informative, replace=False))
        scale = 2.0 / np.sqrt(max(n_informative, 1))
        self.weights = {int(j): rng.normal(0.0, scale, min(_TOP_VALUES, int(vocab_sizes[j]))) for j in self.informative}
        pilot_rng = np.random.default_rng([self.seed, 2])
        pilot = self._draw_ids(pilot_rng, _PILOT_ROWS)
        self.intercept = _solve_intercept(self._logit_without_intercept(pilot), positive_rate)

    def hasher(self):
        from ..hashing import CategoricalHasher

        return CategoricalHasher(n_features=self.n_features, categorical=self.names)

    def _draw_ids(self, rng, n):
        # Field-major (n_fields, n): each field's ids are contiguous.
        ids = np.empty((self.n_fields, n), dtype=np.int64)
        for j, vocab in enumerate(self.vocab_sizes.tolist()):
            cdf = _zipf_cdf(vocab, self.zipf_a)
            ranks = np.searchsorted(cdf, rng.random(n), side="right")
            ids[j] = np.minimum(ranks, vocab - 1)
        return ids

    def _logit_without_intercept(self, ids):
        logit = np.zeros(ids.shape[1])
        for j, w in self.weights.items():
            col = ids[j]
            top = col < w.size
            logit[top] += w[col[top]]
        return logit

    def block(self, index, with_missing=False):
        """Rows of block ``index``: ids (n_fields, BLOCK), labels, missing mask."""
        rng = np.random.default_rng([self.seed, 3, index])
        ids = self._draw_ids(rng, _BLOCK)
        p = 1.0 / (1.0 + np.exp(-(self.intercept + self._logit_without_intercept(ids))))
        y = (rng.random(_BLOCK) < p).astype(np.float64)
        missing = None
        if with_missing:
            rates = np.random.default_rng([self.seed, 4]).uniform(0.0, 0.4, self.n_fields)
            rates[np.random.default_rng([self.seed, 5]).random(self.n_fields) < 0.5] = 0.0
            missing = np.random.default_rng([self.seed, 6, index]).random(ids.shape) < rates[:, None]
        return ids, y, missing

    def rows(self, n_samples, chunk_size, with_missing=False):
        """Yield ``(ids, y, missing)`` chunks of exactly chunk_size rows (field-major)."""
        pending = []
        n_pending = 0
        produced = 0
        block = 0
        while produced < n_samples:
            want = min(chunk_size, n_samples - produced)
            while n_pending < want:
                ids, y, missing = self.block(block, with_missing)
                block += 1
                pending.append((ids, y, missing))
                n_pending += _BLOCK
            parts = _split(pending, want)
            pending = parts[1]
            n_pending -= want
            produced += want
            yield parts[0]


def _split(pending, n):
    """Take the first n rows out of a list of (ids, y, missing) blocks."""
    head, tail, need = [], [], n
    for part in pending:
        rows = part[1].shape[0]
        if need >= rows:
            head.append(part)
            need -= rows
        elif need > 0:
            head.append(tuple(None if p is None else p[..., :need] for p in part))
            tail.append(tuple(None if p is None else p[..., need:] for p in part))
            need = 0
        else:
            tail.append(part)
    joined = tuple(None if head[0][k] is None else np.concatenate([h[k] for h in head], axis=-1) for k in range(3))
    return joined, tail


def _solve_intercept(logits, rate):
    """Intercept b with mean(sigmoid(b + logits)) == rate, by bisection."""
    lo, hi = -40.0, 40.0
    for _ in range(100):
        mid = 0.5 * (lo + hi)
        mean = np.mean(1.0 / (1.0 + np.exp(-(mid + logits))))
        if mean < rate:
            lo = mid
        else:
            hi = mid
    return 0.5 * (lo + hi)


_MODEL_DOC = """
    n_fields : int, default=39
        Number of categorical fields (Criteo has 13 + 26 = 39 columns).
    n_features : int, default=2**20
        Width of the hashed output.
    vocab_sizes : sequence of int or None, default=None
        Number of distinct values per field. None: log-spaced from 10 to
        10**6 over the fields.
    zipf_a : float, default=1.2
        Exponent of the truncated Zipf law: value of rank r (id r - 1) has
        probability proportional to ``r ** -zipf_a`` within its field.
    positive_rate : float, default=0.1
        Target click rate; the intercept is solved for it.
    n_informative : int or None, default=None
        Fields that carry weight in the ground truth (None: half of them).
    seed : int, default=0
        Everything is a function of the arguments and this seed."""


def make_click_data(
    n_samples=100_000,
    n_fields=39,
    n_features=2**20,
    vocab_sizes=None,
    zipf_a=1.2,
    positive_rate=0.1,
    n_informative=None,
    seed=0,
    return_raw=False,
):
    """Generate a synthetic click log as a hashed one-hot CSR matrix.

    Field ``j`` (named ``f<j>``) takes the value of id ``k`` with probability
    proportional to ``(k + 1) ** -zipf_a`` over its vocabulary, so a few ids
    are very frequent and most are rare, as in click logs. Each
    ``(field, id)`` pair is hashed into ``n_features`` columns by
    :class:`ftrlx.hashing.CategoricalHasher` (token ``b"f<j>\\x00<id>"``), so
    one row has ``n_fields`` ones unless two of its tokens collide.

    Labels follow a sparse logistic model: in ``n_informative`` randomly chosen
    fields, each of the 50 most frequent ids gets a weight drawn from
    ``N(0, (2 / sqrt(n_informative))**2)``; all other ids weigh nothing. The
    intercept is solved by bisection on a separate 50,000-row sample so
    that the mean click probability is ``positive_rate``, and
    ``y ~ Bernoulli(sigmoid(intercept + sum of weights))``.

    Rows are generated in blocks of 65,536, each from a random stream keyed
    by ``(seed, block index)``; the first rows are therefore the same for any
    ``n_samples``, and :func:`iter_click_data` streams exactly these rows.

    Parameters
    ----------
    n_samples : int, default=100_000
        Number of rows.
    {model}
    return_raw : bool, default=False
        Also return the category ids.

    Returns
    -------
    X : scipy.sparse.csr_matrix of shape (n_samples, n_features)
    y : ndarray of float64, 0/1
    raw : ndarray of int64, shape (n_samples, n_fields)
        Only with ``return_raw=True``: the id of each field (0 is the most
        frequent id).

    Examples
    --------
    >>> from ftrlx.datasets import make_click_data
    >>> X, y, raw = make_click_data(1000, n_fields=5, n_features=2**12, seed=1,
    ...                             return_raw=True)
    >>> X.shape, raw.shape, sorted(set(y.tolist()))
    ((1000, 4096), (1000, 5), [0.0, 1.0])
    >>> bool((X.sum(axis=1) == 5).all())  # one token per field
    True
    >>> X2, y2 = make_click_data(10, n_fields=5, n_features=2**12, seed=1)
    >>> (X2 != X[:10]).nnz, bool((y2 == y[:10]).all())
    (0, True)
    """
    chunks = list(
        iter_click_data(
            n_samples,
            chunk_size=max(n_samples, 1),
            n_fields=n_fields,
            n_features=n_features,
            vocab_sizes=vocab_sizes,
            zipf_a=zipf_a,
            positive_rate=positive_rate,
            n_informative=n_informative,
            seed=seed,
            return_raw=True,
        )
    )
    if chunks:
        X, y, raw = chunks[0]
    else:
        X = sp.csr_matrix((0, n_features))
        y = np.zeros(0)
        raw = np.zeros((0, n_fields), dtype=np.int64)
    return (X, y, raw) if return_raw else (X, y)


def iter_click_data(
    n_samples,
    chunk_size=100_000,
    n_fields=39,
    n_features=2**20,
    vocab_sizes=None,
    zipf_a=1.2,
    positive_rate=0.1,
    n_informative=None,
    seed=0,
    return_raw=False,
):
    """Stream the rows of :func:`make_click_data` in chunks, with bounded memory.

    The concatenated chunks equal ``make_click_data`` with the same arguments,
    whatever ``chunk_size``.

    Parameters
    ----------
    n_samples : int
        Total number of rows.
    chunk_size : int, default=100_000
        Rows per chunk (the last one shorter).
    {model}
    return_raw : bool, default=False
        Yield ``(X, y, raw)`` instead of ``(X, y)``.

    Yields
    ------
    X : scipy.sparse.csr_matrix of shape (rows, n_features)
    y : ndarray of float64
    raw : ndarray of int64, only with ``return_raw=True``

    Examples
    --------
    >>> from ftrlx.datasets import iter_click_data
    >>> [X.shape[0] for X, y in iter_click_data(250, chunk_size=100, n_fields=3)]
    [100, 100, 50]
    """
    chunk_size = check_chunk_size(chunk_size)
    if isinstance(n_samples, bool) or not isinstance(n_samples, (int, np.integer)) or n_samples < 0:
        raise ValueError(f"n_samples must be a non-negative integer, got {n_samples!r}")
    model = _ClickModel(n_fields, n_features, vocab_sizes, zipf_a, positive_rate, n_informative, seed)
    hasher = model.hasher()
    for ids, y, _ in model.rows(int(n_samples), chunk_size):
        X = hasher.transform({name: ids[j] for j, name in enumerate(model.names)})
        yield (X, y, np.ascontiguousarray(ids.T)) if return_raw else (X, y)


make_click_data.__doc__ = make_click_data.__doc__.replace("{model}", _MODEL_DOC.strip())
iter_click_data.__doc__ = iter_click_data.__doc__.replace("{model}", _MODEL_DOC.strip())


def write_click_data(path, n_samples, format="criteo", seed=0, chunk_size=100_000, **kwargs):
    """Write a synthetic click log to a file, streaming (bounded memory).

    ``format='criteo'`` writes the Criteo display-advertising TSV layout:
    ``label``, 13 integer columns and 26 categorical columns of 8 hex digits,
    no header, empty cells for missing values. The integer columns are the
    ids of fields ``f0..f12`` (Zipf-distributed, like counts) and the hex
    values are the MurmurHash3 of the tokens of fields ``f13..f38``. About
    half of the fields have missing cells (each at a rate up to 40%), drawn
    after the labels so the labels are those of :func:`make_click_data`.
    ``format='svmlight'`` writes the hashed rows of :func:`make_click_data`
    (one-based indices, labels 0/1). ``format='vw'`` writes the rows of
    ``format='criteo'`` (same seed: same labels, values and missing cells) as
    Vowpal Wabbit text for :func:`ftrlx.datasets.iter_vw`: label -1/+1, then
    one namespace ``f`` holding a categorical feature ``<column>=<value>`` per
    present cell (``I1=3``, ..., ``C26=0a1b2c3d``; missing cells are left
    out), so VW and ftrlx can be trained on the same fields. A path ending in
    ``.gz`` is compressed (level 1, for speed).

    Parameters
    ----------
    path : str or path-like
        Output file.
    n_samples : int
        Number of rows.
    format : {'criteo', 'svmlight', 'vw'}, default='criteo'
        File layout.
    seed : int, default=0
        Random seed, as in :func:`make_click_data`.
    chunk_size : int, default=100_000
        Rows generated and written at a time.
    **kwargs
        Other arguments of :func:`make_click_data` (``zipf_a``,
        ``positive_rate``, ``vocab_sizes``, ``n_features`` for svmlight, ...).
        The Criteo and VW layouts need ``n_fields=39``.

    Returns
    -------
    path : str
        The path written.

    Examples
    --------
    >>> import os, tempfile
    >>> from ftrlx.datasets import write_click_data, iter_criteo
    >>> path = write_click_data(os.path.join(tempfile.mkdtemp(), "clicks.tsv"), 500)
    >>> line = open(path).readline().rstrip("\\n").split("\\t")
    >>> len(line), line[0] in ("0", "1")
    (40, True)
    >>> sum(X.shape[0] for X, y in iter_criteo(path, chunk_size=200))
    500
    >>> path = write_click_data(os.path.join(tempfile.mkdtemp(), "clicks.vw"), 500, format="vw")
    >>> open(path).readline().split()[:2]
    ['-1', '|f']
    """
    path = os.fspath(path)
    chunk_size = check_chunk_size(chunk_size)
    if format not in ("criteo", "svmlight", "vw"):
        raise ValueError(f"format must be 'criteo', 'svmlight' or 'vw', got {format!r}")
    unknown = set(kwargs) - {"n_fields", "n_features", "vocab_sizes", "zipf_a", "positive_rate", "n_informative"}
    if unknown:
        raise TypeError(f"write_click_data got unexpected arguments {sorted(unknown)}")
    if format == "svmlight":
        from sklearn.datasets import dump_svmlight_file  # here: importing sklearn.datasets takes 0.3 s

        with open_binary_write(path) as fh:
            for X, y in iter_click_data(n_samples, chunk_size=chunk_size, seed=seed, **kwargs):
                dump_svmlight_file(X, y.astype(np.int64), fh, zero_based=False)
        return path
    n_fields = kwargs.pop("n_fields", _N_INT_COLUMNS + _N_CAT_COLUMNS)
    if n_fields != _N_INT_COLUMNS + _N_CAT_COLUMNS:
        raise ValueError(
            f"the {'Criteo' if format == 'criteo' else 'VW'} layout has 39 fields "
            f"(13 integer + 26 categorical), got n_fields={n_fields}"
        )
    kwargs.pop("n_features", None)
    model = _ClickModel(n_fields=n_fields, seed=seed, **kwargs)
    names = ["label"] + [f"I{j}" for j in range(1, 14)] + [f"C{j}" for j in range(1, 27)]
    options = pa_csv.WriteOptions(include_header=False, delimiter="\t", quoting_style="none")
    with open_binary_write(path) as fh:
        writer = None
        for ids, y, missing in model.rows(int(n_samples), chunk_size, with_missing=True):
            columns = [pa.array(y.astype(np.int8))]
            for j in range(_N_INT_COLUMNS):
                columns.append(pa.array(ids[j], mask=missing[j]))
            for j in range(_N_INT_COLUMNS, n_fields):
                columns.append(_hex_column(j, ids[j], missing[j]))
            table = pa.table(columns, names=names)
            if format == "vw":
                table = _vw_lines(table)
            if writer is None:
                writer = pa_csv.CSVWriter(fh, table.schema, write_options=options)
            writer.write_table(table)
        if writer is not None:
            writer.close()
    return path


def _vw_lines(table):
    """One VW line per row of a Criteo table: ``-1 |f I1=3 ... C26=0a1b2c3d``, no missing cells."""
    labels = pa.array(["-1", "1"]).take(table.column("label"))
    tokens = []
    for name in table.column_names[1:]:
        column = table.column(name)
        if pa.types.is_integer(column.type):
            column = pc.cast(column, pa.string())
        tokens.append(pc.binary_join_element_wise(f"{name}=", column, ""))
    lines = pc.binary_join_element_wise(labels, "|f", *tokens, " ", null_handling="skip")
    return pa.table([lines], names=["line"])


def _hex_column(field, ids, missing):
    """8-hex-digit categorical values, formatted once per distinct id."""
    uniques, codes = np.unique(ids, return_inverse=True)
    prefix = b"f%d\x00" % field
    from ..hashing import murmurhash3_32_many

    hashes = murmurhash3_32_many([prefix + b"%d" % v for v in uniques.tolist()])
    values = pa.array([f"{h:08x}" for h in hashes.tolist()])
    indices = pa.array(codes.reshape(-1).astype(np.int32), mask=missing)
    return values.take(indices)
