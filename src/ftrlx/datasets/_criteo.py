"""Reader for the Criteo display-advertising click logs."""

from ._tabular import TextReader
from ._tabular_text import _click_log_args

__all__ = ["iter_criteo", "CRITEO_COLUMNS", "criteo_hasher"]

CRITEO_INTEGER = [f"I{j}" for j in range(1, 14)]
CRITEO_CATEGORICAL = [f"C{j}" for j in range(1, 27)]
CRITEO_COLUMNS = ["label"] + CRITEO_INTEGER + CRITEO_CATEGORICAL


def criteo_hasher(n_features=2**20):
    """The default feature hashing for Criteo rows.

    The 26 categorical columns are hashed as categorical values and the 13
    integer columns are binned (``numeric_mode='log_bin'``: 0, 1 and 2 keep
    their own bins, larger counts fall in ``floor(ln(x)**2)`` bins).

    Parameters
    ----------
    n_features : int, default=2**20
        Width of the hashed output.

    Returns
    -------
    hasher : CategoricalHasher

    Examples
    --------
    >>> criteo_hasher(2**18).get_spec()["numeric_mode"]
    'log_bin'
    """
    from ..hashing import CategoricalHasher  # here: scikit-learn is not needed to read a file

    return CategoricalHasher(**criteo_hashing(n_features))


def criteo_hashing(n_features=2**20):
    """The parameters of :func:`criteo_hasher` (for a hasher class of one's own: ``HashingCore(**params)``)."""
    return {
        "n_features": n_features,
        "categorical": CRITEO_CATEGORICAL,
        "numeric": CRITEO_INTEGER,
        "numeric_mode": "log_bin",
    }


class CriteoReader(TextReader):
    """Criteo TSV rows: label, I1..I13, C1..C26; see :func:`iter_criteo`."""

    binary_label = True
    integer_columns = frozenset(CRITEO_INTEGER)
    _compiled = True

    def __init__(self, path, chunk_size, hasher, on_bad_lines, labels=True, id_field=None):
        args = _click_log_args(labels, "label", hasher, criteo_hasher)
        names = CRITEO_COLUMNS if labels else CRITEO_COLUMNS[1:]
        if id_field is not None:  # a first field that names the row (not a Criteo column)
            if id_field in CRITEO_COLUMNS:
                raise ValueError(f"the id field cannot be named like a Criteo column, got {id_field!r}")
            names = [id_field] + names
        super().__init__(path, chunk_size, *args, on_bad_lines, sep="\t", header=False, column_names=names)
        self.id_column = id_field
        # Criteo values never contain quotes; treating '"' as data is faster and safer.
        self.quote = None


def iter_criteo(path, chunk_size=100_000, hasher=None, on_bad_lines="error", labels=True):
    """Stream a Criteo display-advertising log (Kaggle 2014 / Terabyte) as CSR chunks.

    Each line holds 40 tab-separated fields and there is no header:
    ``label`` (0/1), the integer counts ``I1..I13`` and the categorical
    values ``C1..C26`` (8 hex digits). Empty fields are missing values.

    Parameters
    ----------
    path : str or path-like
        The file (``train.txt``, ``day_0``, ...); ``.gz``/``.bz2`` are
        decompressed on the fly.
    chunk_size : int, default=100_000
        Rows per chunk (the last one shorter).
    hasher : CategoricalHasher or None, default=None
        Feature hashing; None means :func:`criteo_hasher` (2**20 columns,
        ``C*`` categorical, ``I*`` log-binned). It is applied to a table with
        the column names above.
    on_bad_lines : {'error', 'skip'}, default='error'
        A line with another number of fields, a label other than 0/1 or a
        non-integer ``I`` value raises ``ValueError("file:line: ...")``, or is
        skipped and counted in ``skipped``.
    labels : bool, default=True
        With False the lines have no label (39 fields, ``I1`` first: a file
        to score) and ``y`` is None.

    Returns
    -------
    reader : iterable of (X, y)
        ``y`` is float64 0/1. Attributes ``rows_read``, ``skipped``, ``hasher``.

    Examples
    --------
    >>> import os, tempfile
    >>> from ftrlx.datasets import iter_criteo
    >>> row = "\\t".join(["1", "5", "", "-1"] + ["0"] * 10 + ["68fd1e64"] * 25 + [""])
    >>> path = os.path.join(tempfile.mkdtemp(), "day_0")
    >>> with open(path, "w") as f:
    ...     _ = f.write(row + "\\n" + row.replace("1", "0", 1) + "\\n")
    >>> reader = iter_criteo(path)
    >>> [(X.getnnz(axis=1).tolist(), y.tolist()) for X, y in reader]
    [([37, 37], [1.0, 0.0])]
    """
    return CriteoReader(path, chunk_size, hasher, on_bad_lines, labels)
