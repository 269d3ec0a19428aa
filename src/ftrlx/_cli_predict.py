"""``ftrlx predict``: one line of output per input line, for labelled and unlabelled files.

Whether a file holds labels is seen from its first data line (Criteo: 40 fields with a label, 39 without; svmlight:
a line that starts with ``index:value`` has no label; VW: nothing but a tag before the first ``|``; CSV/Parquet: no
column named like the training label).  The output has one line per record of the input, in order: the
prediction, or ``nan`` for a line that ``--on-bad-lines skip`` skipped; blank lines, comment lines and a header make
none.  Its layout:

* one number per line (the positive-class probability of a binary classifier, the prediction of a regressor, the
  decision value of a classifier without probabilities);
* VW input: VW's ``-p`` layout, ``prediction tag`` (the tag without its quote; the prediction alone where a line has
  none), and ``class:probability ... tag`` for a multiclass model;
* otherwise, with an id column (``--id``) or a multiclass model: CSV with a header, the id first, then
  ``prediction`` or one probability column per class.
"""

import csv
import io

import numpy as np

from ._cli_common import _CRITEO_FIELDS, EXIT_OK, _check_outputs, _write_lines
from ._cli_score import _model_and_reader


def cmd_predict(args):
    from ._cli_train import _replayable

    args.inputs = [args.input]
    _check_outputs((args.output, "-o predictions output"))
    # standard input is copied to a file first: its first line decides how the rest is read
    with _replayable([args.input], 2) as (path,):
        args.inputs = [path]
        model, cfg, hasher, n_features = _model_and_reader(args)
        labels = has_labels(path, cfg)
        track = cfg["format"] == "vw" or cfg.get("id") is not None or cfg.get("on_bad_lines") == "skip"
        reader = _open_for(path, cfg, args, hasher, n_features, labels, track)
        layout = _Layout(model, cfg)
        lines = layout.lines(reader, track)
        _write_lines(args.output, lines)
    return EXIT_OK


def _open_for(path, cfg, args, hasher, n_features, labels, track):
    from ._cli_common import _open

    return _open(path, cfg, args.chunk_size, hasher=hasher, n_features=n_features, labels=labels, track=track)


# --------------------------------------------------------------------------
# does the file hold labels?


def has_labels(path, cfg):
    """Whether ``path`` holds labels, from its first data line (or its header, or its schema)."""
    fmt = cfg["format"]
    if fmt == "parquet":
        import pyarrow.parquet as pq

        return cfg.get("label") in pq.read_schema(path).names
    first = _first_data_line(path, comment=b"#" if fmt == "svmlight" else None)
    if first is None:
        return True  # an empty file: nothing to score either way
    if fmt == "svmlight":
        token = first.split(None, 1)[0]
        return b":" not in token or token.startswith(b"qid:")
    if fmt == "vw":
        return _vw_has_label(first)
    if fmt == "criteo":
        n = first.count(b"\t") + 1
        extra = cfg.get("id") is not None
        if n in (_CRITEO_FIELDS + extra, _CRITEO_FIELDS - 1 + extra):
            return n == _CRITEO_FIELDS + extra
        raise ValueError(
            f"{path}:1: expected {_CRITEO_FIELDS + extra} tab-separated fields (label first) or "
            f"{_CRITEO_FIELDS - 1 + extra} (no label), found {n}"
        )
    label = "click" if fmt == "avazu" else cfg.get("label")
    return label in _header_names(first, cfg, path)


def _first_data_line(path, comment=None):
    from ftrlx.datasets._base import open_binary

    with open_binary(path) as fh:
        for raw in fh:
            line = raw.strip()
            if line and not (comment and line.startswith(comment)):
                return line
    return None


def _vw_has_label(line):
    head, bar, _ = line.partition(b"|")
    words = head.split()
    if words and (words[-1].startswith(b"'") or (bar and not head[-1:].isspace())):
        words = words[:-1]  # the tag
    return bool(words)


def _header_names(first, cfg, path):
    from ftrlx.datasets._tabular import _text_sep

    text = first.decode("utf-8-sig", "replace")
    return next(csv.reader([text], delimiter=cfg.get("sep") or _text_sep(path)), [])


# --------------------------------------------------------------------------
# the output


class _Layout:
    """How predictions are written: the values of each row, and the text of a line."""

    def __init__(self, model, cfg):
        self.model = model
        classes = getattr(model, "classes_", None)
        self.classes = None if classes is None else [_text(c) for c in np.asarray(classes).tolist()]
        self.multi = self.classes is not None and len(self.classes) > 2
        self.vw = cfg["format"] == "vw"
        self.id_name = cfg.get("id")
        self.csv = not self.vw and (self.id_name is not None or self.multi)

    def header(self):
        if not self.csv:
            return None
        names = self.classes if self.multi else ["prediction"]
        return _csv_line(([self.id_name] if self.id_name is not None else []) + names)

    def values(self, X):
        """The prediction columns of the rows of ``X``: an (n, k) float array."""
        model = self.model
        if self.classes is None:
            return np.asarray(model.predict(X), dtype=np.float64).reshape(X.shape[0], -1)
        if hasattr(model, "predict_proba"):
            try:
                proba = np.asarray(model.predict_proba(X), dtype=np.float64)
            except AttributeError:  # a loss without probabilities
                proba = None
            if proba is not None:
                return proba if self.multi else proba[:, -1:]
        return np.asarray(model.decision_function(X), dtype=np.float64).reshape(X.shape[0], -1)

    def row_texts(self, values, ids):
        cells = [[repr(v) for v in row] for row in values.tolist()]
        if self.vw:
            if self.multi:
                cells = [[" ".join(f"{c}:{v}" for c, v in zip(self.classes, row))] for row in cells]
            return [" ".join(row + ([tag] if tag else [])) + "\n" for row, tag in zip(cells, ids)]
        if self.csv:
            if self.id_name is not None:
                cells = [[_text("" if i is None else i)] + row for row, i in zip(cells, ids)]
            return [_csv_line(row) for row in cells]
        return [row[0] + "\n" for row in cells]

    def bad_text(self):
        k = len(self.classes) if self.multi else 1
        if self.vw:
            return " ".join(["nan"] * k if not self.multi else [f"{c}:nan" for c in self.classes]) + "\n"
        if self.csv:
            return _csv_line(([""] if self.id_name is not None else []) + ["nan"] * k)
        return "nan\n"

    def lines(self, reader, track):
        """The output lines: the header, then one per record line of the input, bad ones included."""
        head = self.header()
        if head is not None:
            yield head
        pending, seen = np.zeros(0, dtype=np.int64), 0
        for chunk in reader:
            X = chunk[0]
            rows = chunk[2] if track else None
            ids = [None] * X.shape[0] if rows is None else rows["id"].tolist()
            texts = self.row_texts(self.values(X), ids) if X.shape[0] else []
            if track:
                new = reader.bad_lines[seen:]
                seen += len(new)
                pending = np.sort(np.concatenate([pending, np.asarray(new, dtype=np.int64)]))
                if rows.size:
                    cut = int(np.searchsorted(pending, rows["line"][-1]))
                    before, pending = pending[:cut], pending[cut:]
                    texts = _interleave(texts, rows["line"], before, self.bad_text())
            yield from texts
        if track:
            pending = np.sort(np.concatenate([pending, np.asarray(reader.bad_lines[seen:], dtype=np.int64)]))
            yield from [self.bad_text()] * pending.size


def _interleave(texts, lines, bad, bad_text):
    """``texts`` (the rows at ``lines``) with ``bad_text`` put where each of the ``bad`` lines falls."""
    if not bad.size:
        return texts
    at = np.searchsorted(lines, bad).tolist()
    out, start = [], 0
    for k in at:
        out.extend(texts[start:k])
        out.append(bad_text)
        start = k
    out.extend(texts[start:])
    return out


def _text(value):
    return value if isinstance(value, str) else str(value)


def _csv_line(cells):
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerow(cells)
    return buf.getvalue()
