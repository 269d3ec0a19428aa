"""Streaming training with per-row progressive validation, checkpoints and resume.

:func:`fit_stream` is the training loop for data that does not fit in memory.  It is built from small parts, one job
each, in the order a row travels:

* a **source** (:func:`prefetch`): the chunks of the stream, read ahead in a background thread so that parsing
  chunk k+1 overlaps training on chunk k (the compiled readers and the kernels both release the GIL);
* **progressive scoring and training** (``_scoring``): each row is scored by the model just before the model
  trains on it, in the same kernel pass (the kernel writes the margins it computes anyway), or scored only for
  held-out chunks;
* **sinks**: the cumulative metrics (``_tally``), the :class:`History` records, the progress bar and
  the :class:`ProgressTable`, and
  crash-safe checkpoints with an exact resume (``_checkpoint``).
"""

from ._history import COLUMNS, History, StreamInterrupted
from ._loop import fit_stream
from ._source import prefetch
from ._table import ProgressTable

__all__ = ["fit_stream", "History", "StreamInterrupted", "prefetch", "COLUMNS", "ProgressTable"]
