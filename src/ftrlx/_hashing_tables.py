"""The input tables :class:`ftrlx.hashing.CategoricalHasher` accepts, seen as named columns."""

import numbers

import numpy as np
import pyarrow as pa


def _columns_of(X):
    """Return ``(names, n_rows, get)`` for any supported input table."""
    if isinstance(X, (pa.Table, pa.RecordBatch)):
        names = [str(c) for c in X.column_names]
        return names, X.num_rows, lambda name: X.column(name)
    if isinstance(X, dict):
        names = [str(k) for k in X]
        by_name = {str(k): v for k, v in X.items()}
        lengths = {len(v) for v in by_name.values()}
        if len(lengths) > 1:
            raise ValueError(f"the columns of the dict have different lengths {sorted(lengths)}")
        n_rows = lengths.pop() if lengths else 0
        return names, n_rows, by_name.__getitem__
    if hasattr(X, "columns") and hasattr(X, "iloc"):  # a pandas DataFrame
        return _dataframe_columns(X)
    arr = np.asarray(X)
    if arr.ndim != 2:
        raise ValueError(
            f"expected a 2-D array, a DataFrame, a pyarrow Table or a dict of columns; "
            f"got an array of shape {arr.shape}"
        )
    names = [str(i) for i in range(arr.shape[1])]
    return names, arr.shape[0], lambda name: arr[:, int(name)]


def _dataframe_columns(X):
    names = [str(c) for c in X.columns]
    if len(set(names)) != len(names):
        raise ValueError("the DataFrame has duplicate column names")
    by_name = dict(zip(names, X.columns))

    def get(name):
        series = X[by_name[name]]
        try:
            return pa.Array.from_pandas(series)
        except (pa.ArrowException, TypeError, ValueError):
            return series.to_numpy()

    return names, len(X), get


def _names(value):
    """A column name or a sequence of them as a list of str (None stays None)."""
    if value is None:
        return None
    if isinstance(value, (str, bytes, numbers.Integral)):
        value = [value]
    return [str(v) for v in value]
