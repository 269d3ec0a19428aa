"""Shared parts of the command line: exit codes, usage errors, input formats, readers and hashers, outputs."""

import json
import math
import os
import sys

from ._kernels.registry import ALGORITHMS

EXIT_OK, EXIT_ERROR, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130
#: The input name that means standard input.
STDIN = "-"

# --algorithm names -> the classifier each trains (the registry's first estimator of each algorithm)
ALGOS = {algorithm.cli: algorithm.estimators[0] for algorithm in ALGORITHMS.values()}
FORMATS = ("svmlight", "criteo", "avazu", "csv", "parquet", "vw")
_EXTENSIONS = {
    ".svm": "svmlight",
    ".svmlight": "svmlight",
    ".libsvm": "svmlight",
    ".csv": "csv",
    ".tsv": "csv",
    ".parquet": "parquet",
    ".pq": "parquet",
    ".vw": "vw",
}
#: Width 2**DEFAULT_BITS of svmlight and VW models trained without --bits (svmlight indices beyond it fold into it).
DEFAULT_BITS = 20
# a Criteo log line: the label and 39 feature fields, tab-separated
_CRITEO_FIELDS = 40
# Hyper-parameters with a flag of their own; anything else goes through --param.
_PARAM_FLAGS = ("alpha", "beta", "l1", "l2", "eta0", "gamma", "rho", "learning_rate", "loss")


class UsageError(Exception):
    """A bad command line discovered after parsing (exit status 2)."""


def _parse_value(text):
    low = text.lower()
    if low in ("none", "null"):
        return None
    if low in ("true", "false"):
        return low == "true"
    for conv in (int, float):
        try:
            return conv(text)
        except ValueError:
            pass
    return text


def _columns(text):
    return [c for c in (text or "").split(",") if c]


def _infer_format(path):
    base = os.path.basename(path).lower()
    for suffix in (".gz", ".bz2", ".xz"):
        if base.endswith(suffix):
            base = base[: -len(suffix)]
    fmt = _EXTENSIONS.get(os.path.splitext(base)[1])
    if fmt is None:
        raise UsageError(f"cannot tell the format of {path!r} from its name; pass --format ({'|'.join(FORMATS)})")
    return fmt


def _reader_config(args, saved=None):
    """Everything needed to open the input the same way again."""
    cfg = dict(saved or {})
    for key in ("format", "label", "sep", "on_bad_lines", "id", "zero_based", "weight"):
        value = getattr(args, key, None)
        if value is not None:
            cfg[key] = value
    for key in ("categorical", "numeric", "ignore", "keep"):
        value = getattr(args, key, None)
        if value is not None:
            cfg[key] = _columns(value)
    if cfg.get("format") is None:
        cfg["format"] = _infer_format(args.inputs[0])
        if cfg["format"] == "csv" and not cfg.get("label") and _looks_like_criteo(args.inputs[0]):
            cfg["format"] = "criteo"
            if not getattr(args, "quiet", False):
                print(
                    f"ftrlx: reading {args.inputs[0]} as a Criteo log ({_CRITEO_FIELDS} tab-separated fields, "
                    "label first); pass --format to choose another layout",
                    file=sys.stderr,
                )
    if cfg["format"] == "csv" and not cfg.get("label"):
        raise UsageError(
            "--format csv needs --label COLUMN (and usually --categorical/--numeric); for a Criteo log (label, "
            "I1..I13, C1..C26, tab-separated, no header) pass --format criteo"
        )
    return cfg


def _looks_like_criteo(path):
    """Whether the first line of ``path`` has the Criteo layout: 40 tab-separated fields, a 0/1 label first."""
    from ftrlx.datasets._base import open_binary

    try:
        with open_binary(path) as fh:
            line = fh.readline(1 << 20).rstrip(b"\r\n")
    except (OSError, EOFError, ValueError):
        return False
    fields = line.split(b"\t")
    return len(fields) == _CRITEO_FIELDS and fields[0] in (b"0", b"1")


def _open(path, cfg, chunk_size, hasher=None, n_features=None, labels=True, track=False, weights=False):
    """The reader of ``path`` as ``cfg`` describes it; ``labels=False`` reads a file without labels, ``track`` keeps
    each row's line number (and id: ``cfg["id"]``) for scoring line by line, ``weights`` reads the importance weights
    of ``cfg["weight"]`` (chunks ``(X, y, w)``; otherwise the column is only left out of the features)."""
    from ftrlx import datasets
    from ftrlx.datasets._criteo import CriteoReader

    if path != STDIN and not os.path.exists(path):
        raise FileNotFoundError(f"input file {path!r} does not exist")
    fmt = cfg["format"]
    bad = {"on_bad_lines": cfg.get("on_bad_lines") or "error"}
    if fmt == "svmlight":
        reader = datasets.iter_svmlight(
            path,
            chunk_size=chunk_size,
            n_features=n_features,
            zero_based=cfg.get("zero_based", "auto"),
            fold=bool(cfg.get("fold")) and n_features is not None,
            labels=labels,
            **bad,
        )
    elif fmt == "vw":
        reader = datasets.iter_vw(
            path,
            chunk_size=chunk_size,
            n_features=n_features or 2**20,
            interactions=cfg.get("interactions") or (),
            labels=labels,
            **bad,
        )
    elif fmt == "criteo":
        reader = CriteoReader(path, chunk_size, hasher, bad["on_bad_lines"], labels=labels, id_field=cfg.get("id"))
    elif fmt == "avazu":
        reader = datasets.iter_avazu(path, chunk_size=chunk_size, hasher=hasher, labels=labels, **bad)
        reader.id_column = cfg.get("id")
    elif fmt in ("csv", "parquet"):
        keep = cfg.get("keep")
        tabular = {
            "label": cfg.get("label") if labels else None,
            "categorical": _categorical(path, cfg),
            "numeric": [c for c in cfg.get("numeric") or () if not keep or c in keep],
        }
        if fmt == "csv":
            reader = datasets.iter_csv(path, chunk_size=chunk_size, hasher=hasher, sep=cfg.get("sep"), **tabular, **bad)
        else:
            reader = datasets.iter_parquet(path, chunk_size=chunk_size, hasher=hasher, **tabular, **bad)
        reader.id_column = cfg.get("id")
        if weights:
            reader.weight_column = cfg.get("weight")
    else:
        raise UsageError(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")
    reader.track_rows = track
    return reader


def _categorical(path, cfg):
    """The categorical columns: as given, or every column but the label, the numeric, the ignored ones and the
    weight (listed, so that the hasher the model records never hashes the weight column)."""
    categorical = cfg.get("categorical") or []
    keep = cfg.get("keep")
    if keep:  # only these fields: the categorical ones among them, or all of them but the numeric ones
        return (
            [c for c in categorical if c in keep]
            if categorical
            else [c for c in keep if c not in set(cfg.get("numeric") or ())]
        )
    ignore = set(cfg.get("ignore") or ()) | ({cfg["weight"]} if cfg.get("weight") else set())
    if not ignore:
        return categorical
    if not categorical:
        skip = ignore | set(cfg.get("numeric") or ()) | {cfg.get("label"), cfg.get("id")}
        categorical = [c for c in _column_names(path, cfg) if c not in skip]
    return [c for c in categorical if c not in ignore]


def _column_names(path, cfg):
    if cfg["format"] == "parquet":
        import pyarrow.parquet as pq

        return list(pq.read_schema(path).names)
    import csv

    from ftrlx.datasets._base import open_binary
    from ftrlx.datasets._tabular import _text_sep

    with open_binary(path) as fh:
        first = fh.readline().decode("utf-8-sig").rstrip("\r\n")
    return next(csv.reader([first], delimiter=cfg.get("sep") or _text_sep(path)), [])


def _hasher_for(cfg, path, bits, spec=None):
    """The hasher to read ``path`` with: from ``spec``, or the reader's default at ``bits``.

    A :class:`~ftrlx._hashing_core.HashingCore`: it hashes as ``CategoricalHasher`` does, and needs no scikit-learn,
    so that ``train`` can start reading while scikit-learn is imported."""
    if cfg["format"] in ("svmlight", "vw"):
        return None
    from ftrlx._hashing_core import HashingCore

    if spec is None:
        spec = dict(_default_spec(path, cfg))
        if cfg.get("keep") and cfg["format"] == "criteo":
            spec["categorical"] = [c for c in spec["categorical"] if c in cfg["keep"]]
            spec["numeric"] = [c for c in spec["numeric"] if c in cfg["keep"]]
        if bits is not None:
            spec["n_features"] = 2**bits
    return HashingCore.from_spec(spec)


def _default_spec(path, cfg):
    """The spec of the reader's default hasher for ``path``; the click-log layouts' without opening a reader."""
    from ftrlx._hashing_core import HashingCore
    from ftrlx.datasets._avazu import avazu_hashing
    from ftrlx.datasets._criteo import criteo_hashing

    layouts = {"criteo": criteo_hashing, "avazu": avazu_hashing}
    if cfg["format"] in layouts:
        return HashingCore(**layouts[cfg["format"]]()).get_spec()
    return _open(path, cfg, 1).hasher.get_spec()


#: Flags that count rows, chunks or passes: each must be at least 1 when given.
_COUNT_FLAGS = ("chunk_size", "epochs", "max_rows", "holdout_every", "checkpoint_every", "nnz_every", "early_stop")


def _check_counts(args):
    for name in _COUNT_FLAGS:
        value = getattr(args, name, None)
        if value is not None and value < 1:
            flag = "--passes (--epochs)" if name == "epochs" else f"--{name.replace('_', '-')}"
            raise UsageError(f"{flag} must be at least 1, got {value}")


def _check_bits(bits):
    if bits is not None and not 1 <= bits <= 31:
        raise UsageError(f"--bits must be between 1 and 31, got {bits}")


def _write_lines(path, lines):
    """Write text lines to ``path`` atomically, or to stdout for ``-``."""
    if path in (None, "-"):
        for line in lines:
            sys.stdout.write(line)
        sys.stdout.flush()
        return
    from ftrlx.io import _atomic_write

    def write(fh):
        for line in lines:
            fh.write(line.encode("utf-8"))

    _atomic_write(path, write)


def _fmt_metric(value, digits=6):
    # "n/a" where there is no value: no rows yet, or a log loss of a model without probabilities (hinge loss,
    # passive-aggressive)
    return "n/a" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{value:.{digits}f}"


def _check_outputs(*outputs):
    """Every output can be written: checked before training, so that a bad path does not cost the run."""
    from ftrlx.io import check_writable

    for path, what in outputs:
        if path is not None and path != STDIN:
            check_writable(path, what)


def _json_ready(record):
    return {k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in record.items()}


def _printable(value):
    """``value`` as one line of text, control characters escaped (a file cannot fake lines of output)."""
    text = (
        value
        if isinstance(value, str)
        else json.dumps(value, default=str)
        if isinstance(value, (dict, list))
        else str(value)
    )
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode("ascii") for c in text)
