"""Reader for the Avazu click-through prediction logs."""

import datetime

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ._tabular import TextReader, _combined
from ._tabular_text import _click_log_args

__all__ = ["iter_avazu", "avazu_hasher"]

AVAZU_CATEGORICAL = [
    "C1",
    "banner_pos",
    "site_id",
    "site_domain",
    "site_category",
    "app_id",
    "app_domain",
    "app_category",
    "device_id",
    "device_ip",
    "device_model",
    "device_type",
    "device_conn_type",
    "C14",
    "C15",
    "C16",
    "C17",
    "C18",
    "C19",
    "C20",
    "C21",
]
AVAZU_DERIVED = ["hour_of_day", "weekday"]


def avazu_hasher(n_features=2**20):
    """The default feature hashing for Avazu rows.

    All 21 categorical columns plus the two columns derived from ``hour``
    (``hour_of_day`` 0-23 and ``weekday`` 0-6, Monday = 0) are hashed as
    categorical values; ``id`` is not used.

    Parameters
    ----------
    n_features : int, default=2**20
        Width of the hashed output.

    Returns
    -------
    hasher : CategoricalHasher

    Examples
    --------
    >>> len(avazu_hasher().get_spec()["categorical"])
    23
    """
    from ..hashing import CategoricalHasher  # here: scikit-learn is not needed to read a file

    return CategoricalHasher(**avazu_hashing(n_features))


def avazu_hashing(n_features=2**20):
    """The parameters of :func:`avazu_hasher` (for a hasher class of one's own: ``HashingCore(**params)``)."""
    return {"n_features": n_features, "categorical": AVAZU_CATEGORICAL + AVAZU_DERIVED}


class AvazuReader(TextReader):
    """Avazu CSV with header; see :func:`iter_avazu`."""

    binary_label = True
    _compiled = True
    _hour_column = "hour"

    def __init__(self, path, chunk_size, hasher, on_bad_lines, labels=True):
        args = _click_log_args(labels, "click", hasher, avazu_hasher)
        super().__init__(path, chunk_size, *args, on_bad_lines, sep=",", header=True)

    def _columns_needed(self, names):
        return super()._columns_needed(list(names) + AVAZU_DERIVED)

    def _raw_columns(self, needed):
        raw = [c for c in needed if c not in AVAZU_DERIVED]
        if len(raw) < len(needed) and "hour" not in raw:
            raw.append("hour")
        return raw

    def _hashed_columns(self, raw):
        columns = list(raw)
        if "hour" in columns:  # as _derive: the derived columns appended, the hour kept only if hashed
            columns += AVAZU_DERIVED
            if "hour" not in (getattr(self.hasher, "categorical", None) or []):
                columns.remove("hour")
        return columns

    def _derived_sources(self):
        return {name: name for name in AVAZU_DERIVED}

    def _derive(self, table, lines):
        if "hour" not in table.column_names:
            return table
        hour = _combined(table.column("hour"))
        encoded = pc.dictionary_encode(hour)
        codes = encoded.indices.to_numpy(zero_copy_only=False)
        uniques = encoded.dictionary.to_pylist()
        hour_of_day, weekday, ok = [], [], np.ones(len(uniques), dtype=bool)
        for k, text in enumerate(uniques):
            parsed = _parse_hour(text)
            ok[k] = parsed is not None
            hour_of_day.append(parsed[0] if parsed else "")
            weekday.append(parsed[1] if parsed else "")
        bad = ~ok[codes]
        if bad.any():
            if self.on_bad_lines == "error":
                r = int(np.flatnonzero(bad)[0])
                self._bad(int(lines[r]), f"hour {hour[r].as_py()!r} is not of the form YYMMDDHH")
            self._skip_lines(lines[bad])
            table = table.filter(pa.array(~bad))
            codes = codes[~bad]
        indices = pa.array(codes.astype(np.int32))
        table = table.append_column("hour_of_day", pa.array(hour_of_day).take(indices))
        table = table.append_column("weekday", pa.array(weekday).take(indices))
        if "hour" not in (getattr(self.hasher, "categorical", None) or []):
            table = table.drop_columns(["hour"])
        return table


def _parse_hour(text):
    if len(text) != 8 or not text.isdigit():
        return None
    try:
        day = datetime.date(2000 + int(text[:2]), int(text[2:4]), int(text[4:6]))
    except ValueError:
        return None
    hh = int(text[6:])
    if hh > 23:
        return None
    return str(hh), str(day.weekday())


def iter_avazu(path, chunk_size=100_000, hasher=None, on_bad_lines="error", labels=True):
    """Stream an Avazu click log (Kaggle 2014 ``train``) as CSR chunks.

    The file is CSV with a header line: ``id, click, hour, C1, banner_pos,
    site_id, site_domain, site_category, app_id, app_domain, app_category,
    device_id, device_ip, device_model, device_type, device_conn_type,
    C14..C21``. ``click`` is the 0/1 label and ``id`` is ignored. ``hour``
    (``YYMMDDHH``) is replaced by two categorical columns, ``hour_of_day``
    (0-23) and ``weekday`` (0-6, Monday = 0): the raw hour never repeats
    between the training and test days, its hour of day and weekday do.

    Parameters
    ----------
    path : str or path-like
        The file; ``.gz``/``.bz2`` are decompressed on the fly.
    chunk_size : int, default=100_000
        Rows per chunk (the last one shorter).
    hasher : CategoricalHasher or None, default=None
        Feature hashing; None means :func:`avazu_hasher`. It sees the columns
        above plus ``hour_of_day`` and ``weekday``.
    on_bad_lines : {'error', 'skip'}, default='error'
        A line with another number of fields, a click other than 0/1 or a bad
        hour raises ``ValueError("file:line: ...")``, or is skipped and counted.
    labels : bool, default=True
        With False the file has no ``click`` column (Kaggle's ``test``) and
        ``y`` is None.

    Returns
    -------
    reader : iterable of (X, y)
        ``y`` is float64 0/1. Attributes ``rows_read``, ``skipped``, ``hasher``.

    Examples
    --------
    >>> import os, tempfile
    >>> from ftrlx.datasets import iter_avazu
    >>> header = ("id,click,hour,C1,banner_pos,site_id,site_domain,site_category,app_id,"
    ...           "app_domain,app_category,device_id,device_ip,device_model,device_type,"
    ...           "device_conn_type,C14,C15,C16,C17,C18,C19,C20,C21")
    >>> row = "7,1,14102100," + ",".join(["x"] * 21)
    >>> path = os.path.join(tempfile.mkdtemp(), "train.csv")
    >>> with open(path, "w") as f:
    ...     _ = f.write(header + "\\n" + row + "\\n")
    >>> X, y = next(iter(iter_avazu(path)))
    >>> X.nnz, y.tolist()
    (23, [1.0])
    """
    return AvazuReader(path, chunk_size, hasher, on_bad_lines, labels)
