"""Streaming readers for click logs, svmlight and Vowpal Wabbit files, and synthetic click data.

Every reader returns a re-iterable object that yields ``(X, y)`` chunks: ``X``
a CSR matrix, ``y`` a float64 array (:func:`iter_vw` adds the importance
weights: ``(X, y, sample_weight)``). Only one block of the file is held in
memory at a time; ``.gz`` and ``.bz2`` files are decompressed on the fly.
"""

from ._avazu import avazu_hasher, iter_avazu
from ._criteo import criteo_hasher, iter_criteo
from ._svmlight import iter_svmlight
from ._synthetic import iter_click_data, make_click_data, write_click_data
from ._tabular import iter_csv, iter_parquet
from ._vw import iter_vw

__all__ = [
    "avazu_hasher",
    "criteo_hasher",
    "iter_avazu",
    "iter_click_data",
    "iter_criteo",
    "iter_csv",
    "iter_parquet",
    "iter_svmlight",
    "iter_vw",
    "make_click_data",
    "write_click_data",
]
