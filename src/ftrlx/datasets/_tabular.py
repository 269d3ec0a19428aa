"""Streaming readers for delimited text (CSV/TSV) and Parquet click logs.

The readers live in ``_tabular_base`` (what they share), ``_tabular_text`` and ``_tabular_parquet``; this module
gathers them under the names the rest of ftrlx imports."""

from ._tabular_base import TabularReader, _combined, _text_sep, _weight_name  # noqa: F401
from ._tabular_parquet import ParquetReader, iter_parquet  # noqa: F401
from ._tabular_text import TextReader, _CompiledPlan, iter_csv  # noqa: F401

__all__ = ["iter_csv", "iter_parquet"]
