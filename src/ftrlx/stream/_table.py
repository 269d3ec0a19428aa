"""A progress table in the manner of Vowpal Wabbit's: one line at doubling counts of trained rows.

Each line is derived from the per-chunk records of the run (:class:`ftrlx.stream.History`) alone, so the table
printed while training, the ``progress`` list of ``ftrlx train --json`` and the history CSV agree: the log loss
since the last line is recovered from the cumulative means (``cum_logloss`` times ``rows_seen``), the rate from
``rows_read`` and ``elapsed_s``.  Non-zeros are shown where the record has them (``nnz_every``, the last chunk):
the table never counts them itself.
"""

import math
import sys

#: Keys of one line of the table, in column order.
LINE_KEYS = ("chunk", "rows", "logloss", "since_last", "auc", "nnz", "rows_per_s")

_HEADER = f"{'rows':>12} {'logloss':>9} {'since':>9} {'AUC':>7} {'nnz':>10} {'rows/s':>10}"


class ProgressTable:
    """Turn the per-chunk records into table lines at ``first``, ``2*first``, ``4*first``, ... trained rows.

    At most one line per chunk (the metrics are per chunk): a chunk that crosses several thresholds gives one line,
    and the next threshold is the first doubling past its row count.  Only trained chunks make lines (held-out
    chunks have their own cumulative metrics in the history).

    Parameters
    ----------
    first : int, default=1000
        Trained rows of the first line.
    write : callable, optional
        Called with each text line (the header first), e.g. :func:`write_stderr`; by default nothing is printed
        and :attr:`lines` keeps the table.

    Examples
    --------
    >>> t = ProgressTable(first=10)
    >>> t.add({"kind": "train", "rows_seen": 6, "rows_read": 6, "cum_logloss": 0.5, "cum_auc": 0.6,
    ...        "nnz": None, "elapsed_s": 1.0}) is None
    True
    >>> line = t.add({"kind": "train", "rows_seen": 12, "rows_read": 12, "cum_logloss": 0.4,
    ...               "cum_auc": 0.7, "nnz": 5, "elapsed_s": 2.0})
    >>> line["rows"], round(line["since_last"], 6), line["nnz"], line["rows_per_s"]
    (12, 0.4, 5, 6.0)
    """

    def __init__(self, first=1000, write=None):
        if isinstance(first, bool) or not isinstance(first, int) or first < 1:
            raise ValueError(f"first must be a positive integer, got {first!r}")
        self.next_at = first
        self.write = write
        self.lines = []
        self._header_done = False
        self._last = (0, 0.0)  # (rows_seen, sum of the losses) at the last line
        self._clock = (0, 0.0)  # (rows_read, elapsed_s) at the last line or the last record of an earlier run

    def add(self, rec):
        """Take the next record; return the line it makes (a dict with :data:`LINE_KEYS`) or None."""
        if rec.get("kind") != "train":
            return None
        rows = int(rec["rows_seen"])
        if rows < self.next_at:
            return None
        while self.next_at <= rows:
            self.next_at *= 2
        loss = _num(rec.get("cum_logloss"))
        total = loss * rows
        prev_rows, prev_total = self._last
        since = (total - prev_total) / (rows - prev_rows) if rows > prev_rows else math.nan
        read, elapsed = int(rec["rows_read"]), _num(rec.get("elapsed_s"))
        dt = elapsed - self._clock[1]
        rate = (read - self._clock[0]) / dt if dt > 0 else math.nan
        line = {
            "chunk": rec.get("chunk"),
            "rows": rows,
            "logloss": loss,
            "since_last": since,
            "auc": _num(rec.get("cum_auc")),
            "nnz": rec.get("nnz"),
            "rows_per_s": rate,
        }
        self._last, self._clock = (rows, total), (read, elapsed)
        self.lines.append(line)
        if self.write is not None:
            if not self._header_done:
                self.write(_HEADER)
                self._header_done = True
            self.write(format_line(line))
        return line

    def replay(self, history):
        """Take the records of an earlier run (a resumed checkpoint's) without printing; the clock restarts."""
        write, self.write = self.write, None
        try:
            for rec in history:
                self.add(rec)
        finally:
            self.write = write
        if history:
            self._clock = (int(history[-1]["rows_read"]), 0.0)


def write_stderr(line):
    """Print a line on stderr above a tqdm progress bar, if one is shown."""
    from tqdm.auto import tqdm

    tqdm.write(line, file=sys.stderr)


def format_line(line):
    """One table line as text, in the columns of the header."""
    nnz = "" if line["nnz"] is None else f"{line['nnz']:,}"
    rate = "" if math.isnan(line["rows_per_s"]) else f"{line['rows_per_s']:,.0f}"
    return (
        f"{line['rows']:>12,} {_f(line['logloss'], 9, 6)} {_f(line['since_last'], 9, 6)} "
        f"{_f(line['auc'], 7, 4)} {nnz:>10} {rate:>10}"
    )


def _num(value):
    return math.nan if value is None or value == "" else float(value)


def _f(value, width, digits):
    return f"{'':>{width}}" if math.isnan(value) else f"{value:>{width}.{digits}f}"
