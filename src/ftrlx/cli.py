"""The ``ftrlx`` command line: train, predict, evaluate, info and demo.

Run ``ftrlx --help`` (or ``python -m ftrlx --help``) for the commands and
``ftrlx COMMAND --help`` for their options.  :func:`main` is the entry point
and returns the exit status instead of exiting, so it can be called from
Python.

Examples
--------
>>> from ftrlx.cli import build_parser
>>> args = build_parser().parse_args(["train", "clicks.svm", "--l1", "2", "-o", "m.ftrlx"])
>>> args.command, args.algo, args.l1, args.output
('train', 'ftrl', 2.0, 'm.ftrlx')
"""

import argparse
import contextlib
import json
import math
import os
import re
import sys
import time
import traceback

import numpy as np

EXIT_OK, EXIT_ERROR, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130
#: The input name that means standard input.
STDIN = "-"

EPILOG = """\
exit status:
  0    success
  1    runtime or data error (one line on stderr; add --debug for the traceback)
  2    usage error (bad command line)
  130  interrupted by Ctrl-C (training writes its checkpoint first; rerun with --resume)
"""

ALGOS = {
    "ftrl": "FTRLClassifier",
    "rda": "RDAClassifier",
    "fobos": "FOBOSClassifier",
    "tg": "TruncatedGradientClassifier",
    "adagrad": "AdaGradClassifier",
    "lazyadam": "LazyAdamClassifier",
    "ogd": "OGDClassifier",
}
FORMATS = ("svmlight", "criteo", "avazu", "csv", "parquet", "vw")
_EXTENSIONS = {".svm": "svmlight", ".svmlight": "svmlight", ".libsvm": "svmlight",
               ".csv": "csv", ".tsv": "csv", ".parquet": "parquet", ".pq": "parquet", ".vw": "vw"}
# a Criteo log line: the label and 39 feature fields, tab-separated
_CRITEO_FIELDS = 40
# Hyper-parameters with a flag of their own; anything else goes through --param.
_PARAM_FLAGS = ("alpha", "beta", "l1", "l2", "eta0", "gamma", "rho", "learning_rate", "loss")


class UsageError(Exception):
    """A bad command line discovered after parsing (exit status 2)."""


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        self.print_usage(sys.stderr)
        raise UsageError(f"{self.prog}: error: {message}")


# --------------------------------------------------------------------------
# helpers


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
        raise UsageError(
            f"cannot tell the format of {path!r} from its name; pass --format "
            f"({'|'.join(FORMATS)})"
        )
    return fmt


def _reader_config(args, saved=None):
    """Everything needed to open the input the same way again."""
    cfg = dict(saved or {})
    for key in ("format", "label", "sep", "on_bad_lines"):
        value = getattr(args, key, None)
        if value is not None:
            cfg[key] = value
    for key in ("categorical", "numeric", "ignore"):
        value = getattr(args, key, None)
        if value is not None:
            cfg[key] = _columns(value)
    if cfg.get("format") is None:
        cfg["format"] = _infer_format(args.inputs[0])
        if cfg["format"] == "csv" and not cfg.get("label") and _looks_like_criteo(args.inputs[0]):
            cfg["format"] = "criteo"
            if not getattr(args, "quiet", False):
                print(f"ftrlx: reading {args.inputs[0]} as a Criteo log ({_CRITEO_FIELDS} tab-separated fields, "
                      "label first); pass --format to choose another layout", file=sys.stderr)
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


def _open(path, cfg, chunk_size, hasher=None, n_features=None):
    from ftrlx import datasets

    if path != STDIN and not os.path.exists(path):
        raise FileNotFoundError(f"input file {path!r} does not exist")
    fmt = cfg["format"]
    bad = {"on_bad_lines": cfg.get("on_bad_lines") or "error"}
    if fmt == "svmlight":
        return datasets.iter_svmlight(path, chunk_size=chunk_size, n_features=n_features, **bad)
    if fmt == "vw":
        return datasets.iter_vw(path, chunk_size=chunk_size, n_features=n_features or 2**20, **bad)
    if fmt == "criteo":
        return datasets.iter_criteo(path, chunk_size=chunk_size, hasher=hasher, **bad)
    if fmt == "avazu":
        return datasets.iter_avazu(path, chunk_size=chunk_size, hasher=hasher, **bad)
    tabular = {"label": cfg.get("label"), "categorical": _categorical(path, cfg),
               "numeric": cfg.get("numeric") or ()}
    if fmt == "csv":
        return datasets.iter_csv(path, chunk_size=chunk_size, hasher=hasher,
                                 sep=cfg.get("sep"), **tabular, **bad)
    if fmt == "parquet":
        if not tabular["label"]:
            tabular.pop("label")
        return datasets.iter_parquet(path, chunk_size=chunk_size, hasher=hasher, **tabular)
    raise UsageError(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")


def _categorical(path, cfg):
    """The categorical columns: as given, or every column but the label, the numeric and the ignored ones."""
    categorical, ignore = cfg.get("categorical") or [], set(cfg.get("ignore") or ())
    if not ignore:
        return categorical
    if not categorical:
        skip = ignore | set(cfg.get("numeric") or ()) | {cfg.get("label")}
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
    """The hasher to read ``path`` with: from ``spec``, or the reader's default at ``bits``."""
    if cfg["format"] in ("svmlight", "vw"):
        return None
    from ftrlx.hashing import CategoricalHasher

    if spec is None:
        spec = dict(_open(path, cfg, 1).hasher.get_spec())
        if bits is not None:
            spec["n_features"] = 2 ** bits
    return CategoricalHasher.from_spec(spec)


def _check_bits(bits):
    if bits is not None and not 1 <= bits <= 31:
        raise UsageError(f"--bits must be between 1 and 31, got {bits}")


def _estimator(args):
    import ftrlx

    est = getattr(ftrlx, ALGOS[args.algo])()
    valid = est.get_params()
    params = {}
    for name in _PARAM_FLAGS:
        value = getattr(args, name, None)
        if isinstance(value, list):  # an --l1 grid: the models of the path get the values
            value = value[0]
        if value is not None:
            if name not in valid:
                raise UsageError(
                    f"--{name.replace('_', '-')} does not apply to --algo {args.algo} "
                    f"(its parameters: {', '.join(sorted(valid))})"
                )
            params[name] = value
    for item in args.param or ():
        name, sep, value = item.partition("=")
        if not sep or name not in valid:
            raise UsageError(
                f"--param {item!r}: expected NAME=VALUE with NAME one of {', '.join(sorted(valid))}"
            )
        params[name] = _parse_value(value)
    if args.seed is not None:
        params["random_state"] = args.seed
    if getattr(args, "class_weight", None):
        params["class_weight"] = _class_weight(args.class_weight)
    est.set_params(**params)
    # Report a bad value now, not after the input has been opened.
    validate = getattr(est, "_validate_params", None)
    if validate is not None:
        validate()
    return est


def _floats(text):
    """One number, or a comma-separated list of them (a grid)."""
    try:
        values = [float(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number or numbers separated by commas, got {text!r}")
    if not values:
        raise argparse.ArgumentTypeError(f"expected a number or numbers separated by commas, got {text!r}")
    return values[0] if len(values) == 1 else values


def _class_weight(text):
    """``--class-weight 0:1,1:5`` as the dict {0: 1.0, 1: 5.0}."""
    weights = {}
    for item in _columns(text):
        label, sep, weight = item.partition(":")
        try:
            weights[_parse_value(label)] = float(weight)
        except ValueError:
            sep = ""
        if not sep:
            raise UsageError(f"--class-weight {text!r}: expected LABEL:WEIGHT pairs separated by commas, e.g. 0:1,1:5")
    return weights


def _options(args, est):
    """What the command line set, for the model's provenance: the learner, its non-default parameters, training."""
    defaults = type(est)().get_params()
    params = {k: v for k, v in est.get_params().items() if repr(v) != repr(defaults.get(k))}
    return {"algo": args.algo, "params": params, "epochs": args.epochs, "bits": args.bits,
            "holdout_every": args.holdout_every, "max_rows": args.max_rows}


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
            fh.write(line.encode("ascii"))

    _atomic_write(path, write)


def _fmt_metric(value, digits=6):
    return "nan" if value is None or (isinstance(value, float) and math.isnan(value)) \
        else f"{value:.{digits}f}"


# --------------------------------------------------------------------------
# commands


def cmd_train(args):
    import ftrlx
    from ftrlx.stream import fit_stream

    _check_bits(args.bits)
    cfg = _reader_config(args)
    est = _estimator(args)
    for path in args.inputs:
        if path != STDIN and not os.path.exists(path):
            raise FileNotFoundError(f"input file {path!r} does not exist")
    if args.inputs.count(STDIN) > 1:
        raise UsageError("standard input (-) can be given only once")
    if args.epochs < 1:
        raise UsageError(f"--epochs must be at least 1, got {args.epochs}")
    with _replayable(args.inputs, args.epochs) as inputs:
        return _train(args, cfg, est, inputs)


@contextlib.contextmanager
def _replayable(inputs, epochs):
    """The inputs, with standard input or a pipe copied to a temporary file when it must be read more than once."""
    spooled, out = [], []
    try:
        for path in inputs:
            if epochs > 1 and (path == STDIN or not os.path.isfile(path)):
                path = _spool(path)
                spooled.append(path)
            out.append(path)
        yield out
    finally:
        for path in spooled:
            os.remove(path)


def _spool(path):
    import shutil
    import tempfile

    from ftrlx.datasets._base import open_binary

    src = open_binary(path) if path == STDIN else open(path, "rb")
    with src:
        # a gzip stream stays compressed on disk (its name tells the readers to decompress it)
        suffix = ".gz" if path != STDIN and src.peek(2)[:2] == b"\x1f\x8b" else ""
        fd, spooled = tempfile.mkstemp(prefix="ftrlx-input-", suffix=suffix)
        with os.fdopen(fd, "wb") as dst:
            shutil.copyfileobj(src, dst, 1 << 22)
    return spooled


def _train(args, cfg, est, inputs):
    import ftrlx
    from ftrlx.stream import fit_stream

    if args.resume and not args.checkpoint:
        raise UsageError("--resume needs --checkpoint PATH (the checkpoint to resume from)")
    if args.checkpoint_every and not args.checkpoint:
        raise UsageError("--checkpoint-every needs --checkpoint PATH")
    _check_outputs((args.output, "-o model output"), (args.checkpoint, "--checkpoint"),
                   (args.sparse_output, "--sparse-output"), (args.history, "--history"))
    hasher = _hasher_for(cfg, inputs[0], args.bits)
    n_features = 2 ** args.bits if cfg["format"] in ("svmlight", "vw") and args.bits else None

    def chunks():
        for _ in range(args.epochs):
            for path in inputs:
                yield from _open(path, cfg, args.chunk_size, hasher=hasher, n_features=n_features)

    training = {
        "inputs": [os.path.basename(p) for p in args.inputs],
        "epochs": args.epochs,
        "chunk_size": args.chunk_size,
        "reader": cfg,
        "hasher_spec": None if hasher is None else hasher.get_spec(),
        "options": _options(args, est),
    }
    if args.resume:
        _check_resumable(args.checkpoint, training)
    if isinstance(args.l1, list):
        return _train_frontier(args, est, chunks(), training, hasher)
    t0 = time.perf_counter()
    history = fit_stream(
        est, chunks(), holdout_every=args.holdout_every, checkpoint=args.checkpoint,
        checkpoint_every=args.checkpoint_every, resume=args.resume,
        progress=not args.quiet, history_csv=args.history, max_rows=args.max_rows,
        checkpoint_metadata={"training": training}, nnz_every=args.nnz_every,
    )
    seconds = time.perf_counter() - t0
    last = history.last("train")
    if last is None:
        raise ValueError("the input had no training rows; check the file and --holdout-every")
    rows_seen = last["rows_seen"]
    training.update(rows_seen=rows_seen, progressive_logloss=last["cum_logloss"],
                    progressive_auc=last["cum_auc"])
    _save_safely(est, args.output, {"rows_seen": rows_seen, "training": training})
    if args.sparse_output:
        from ftrlx.io import export_sparse

        export_sparse(est, args.sparse_output, hasher=hasher, metadata={"rows_seen": rows_seen, "training": training})
    if not args.quiet:
        _summary(history, est, seconds, args.output)
    if args.json:
        print(json.dumps(_json_ready({
            "rows": rows_seen, "rows_read": last["rows_read"], "seconds": round(seconds, 3),
            "rows_per_s": last["rows_read"] / max(seconds, 1e-9), "progressive_logloss": last["cum_logloss"],
            "progressive_auc": last["cum_auc"], "nnz": last["nnz"], "model": args.output})))
    return EXIT_OK


def _train_frontier(args, est, chunks, training, hasher):
    """``--l1 a,b,c``: one pass trains a model per value; write the frontier and save the selected model."""
    from ftrlx._path import fit_frontier

    for flag, value in (("--checkpoint", args.checkpoint), ("--holdout-every", args.holdout_every),
                        ("--max-rows", args.max_rows), ("--sparse-output", args.sparse_output)):
        if value is not None:
            raise UsageError(f"{flag} is not supported with several --l1 values (a frontier run)")
    stem = os.path.splitext(args.output)[0]
    csv_path, png_path = stem + ".frontier.csv", stem + ".frontier.png"
    _check_outputs((csv_path, "the frontier CSV"), (png_path, "the frontier PNG"))
    t0 = time.perf_counter()
    model, result = fit_frontier(est, chunks, args.l1, csv_path=csv_path, png_path=png_path, rule=args.select,
                                 tolerance=args.select_tolerance,
                                 title=f"{args.algo}: non-zero weights against progressive log loss")
    seconds = time.perf_counter() - t0
    record = result.select(args.select, tolerance=args.select_tolerance).record
    training.update(rows_seen=result.rows, progressive_logloss=record.get("progressive_logloss"),
                    progressive_auc=record.get("progressive_auc"), frontier=os.path.basename(csv_path))
    _save_safely(model, args.output, {"rows_seen": result.rows, "training": training})
    if not args.quiet:
        print(f"frontier        {len(args.l1)} models in one pass over {result.rows:,} rows, {seconds:.1f} s; "
              f"{csv_path}, {png_path}", file=sys.stderr)
        print(f"selected        {record} ({args.select})", file=sys.stderr)
        print(f"model written   {args.output}", file=sys.stderr)
    if args.json:
        print(json.dumps(_json_ready({"rows": result.rows, "seconds": round(seconds, 3), "selected": record,
                                      "frontier_csv": csv_path, "frontier_png": png_path,
                                      "model": args.output}), default=str))
    return EXIT_OK


def _check_outputs(*outputs):
    """Every output can be written: checked before training, so that a bad path does not cost the run."""
    from ftrlx.io import check_writable

    for path, what in outputs:
        if path is not None and path != STDIN:
            check_writable(path, what)


def _save_safely(est, path, metadata):
    """Save the trained model; if that fails now, save it in the temporary folder and say where."""
    import tempfile

    import ftrlx

    try:
        ftrlx.save(est, path, metadata=metadata)
    except OSError as exc:
        fd, rescue = tempfile.mkstemp(prefix="ftrlx-rescued-", suffix=".ftrlx")
        os.close(fd)
        ftrlx.save(est, rescue, metadata=metadata)
        raise OSError(f"could not write the model to {path!r} ({exc.strerror or exc}); the trained model was saved "
                      f"to {rescue!r} instead") from exc


def _check_resumable(checkpoint, training):
    """Refuse to resume from a checkpoint that was written while training on other inputs or options."""
    if not os.path.exists(checkpoint):
        return
    from ftrlx.io import read_header

    saved = (read_header(checkpoint).get("metadata") or {}).get("training") or {}
    for key, flag in (("inputs", "the input files"), ("epochs", "--epochs"), ("chunk_size", "--chunk-size"),
                      ("reader", "the reader options (--format, --label, ...)"),
                      ("hasher_spec", "the hashing (--bits, ...)")):
        if key in saved and saved[key] != training[key]:
            raise UsageError(
                f"--resume: checkpoint {checkpoint!r} was written with {flag} = {saved[key]!r}, not "
                f"{training[key]!r}; resume with the same inputs and options, or pass another --checkpoint"
            )


def _json_ready(record):
    return {k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in record.items()}


def _summary(history, est, seconds, output):
    last = history.last("train")
    hold = history.last("holdout")
    coef = getattr(est, "coef_", None)
    total = int(np.size(coef)) if coef is not None else 0
    nnz = last["nnz"] or 0
    err = sys.stderr
    print(f"rows trained    {last['rows_seen']:,} in {seconds:.1f} s "
          f"({last['rows_read'] / max(seconds, 1e-9):,.0f} rows/s)", file=err)
    print(f"progressive     log loss {_fmt_metric(last['cum_logloss'])}  "
          f"AUC {_fmt_metric(last['cum_auc'])}  positive rate {_fmt_metric(last['cum_pos_rate'], 4)}",
          file=err)
    if hold is not None:
        print(f"holdout         log loss {_fmt_metric(hold['cum_logloss'])}  "
              f"AUC {_fmt_metric(hold['cum_auc'])}  rows {sum(r['rows'] for r in history if r['kind'] == 'holdout'):,}",
              file=err)
    if total:
        print(f"non-zero        {nnz:,} of {total:,} weights ({nnz / total:.2%})", file=err)
    if output:
        print(f"model written   {output}", file=err)


def _model_and_reader(args):
    import ftrlx
    from ftrlx.io import read_header

    header = read_header(args.model)
    model = ftrlx.load(args.model)
    training = (header.get("metadata") or {}).get("training") or {}
    cfg = _reader_config(args, training.get("reader"))
    spec = training.get("hasher_spec")
    if spec is None and cfg["format"] not in ("svmlight", "vw"):
        spec = getattr(model, "hasher_spec", None)
    hasher = _hasher_for(cfg, args.inputs[0], None, spec=spec)
    n_features = getattr(model, "n_features_in_", None) if cfg["format"] in ("svmlight", "vw") else None
    return model, cfg, hasher, n_features


def _scores(model, X):
    if hasattr(model, "predict_proba"):
        try:
            proba = model.predict_proba(X)
        except AttributeError:
            proba = None
        if proba is not None:
            return np.asarray(proba)[:, -1], True
    return np.asarray(model.decision_function(X), dtype=np.float64), False


def cmd_predict(args):
    args.inputs = [args.input]
    _check_outputs((args.output, "-o predictions output"))
    model, cfg, hasher, n_features = _model_and_reader(args)
    reader = _open(args.input, cfg, args.chunk_size, hasher=hasher, n_features=n_features)

    def lines():
        for chunk in reader:
            scores, _ = _scores(model, chunk[0])
            yield from (f"{s!r}\n" for s in scores.tolist())

    _write_lines(args.output, lines())
    return EXIT_OK


def cmd_evaluate(args):
    from ftrlx.metrics import RunningAUC, RunningLogLoss

    args.inputs = [args.input]
    model, cfg, hasher, n_features = _model_and_reader(args)
    classes = getattr(model, "classes_", None)
    if classes is None or len(classes) != 2:
        raise ValueError("evaluate scores binary classifiers; this model has "
                         f"classes {None if classes is None else list(classes)}")
    positive = classes[-1]
    ll, auc, rows, correct = RunningLogLoss(), RunningAUC(), 0, 0
    is_proba = True
    for X, y, *_ in _open(args.input, cfg, args.chunk_size, hasher=hasher, n_features=n_features):
        y = np.asarray(y)
        yb = y == positive
        outside = ~(yb | (y == classes[0]))
        if outside.any():
            raise ValueError(
                f"{args.input}: label {y[outside][0].item()!r} is not one of the model's classes "
                f"{np.asarray(classes).tolist()}; evaluate the model on data labelled like its training data"
            )
        scores, is_proba = _scores(model, X)
        if is_proba:
            ll.update(yb, scores)
            correct += int(((scores > 0.5) == yb).sum())
        else:
            correct += int(((scores > 0) == yb).sum())
        auc.update(yb, scores)
        rows += y.size
    result = {"rows": rows, "logloss": ll.value if is_proba else float("nan"),
              "auc": auc.value, "accuracy": correct / rows if rows else float("nan")}
    if args.json:
        print(json.dumps({k: (None if isinstance(v, float) and math.isnan(v) else v)
                          for k, v in result.items()}))
    else:
        print(f"rows      {rows}")
        print(f"logloss   {_fmt_metric(result['logloss'])}")
        print(f"auc       {_fmt_metric(result['auc'])}")
        print(f"accuracy  {_fmt_metric(result['accuracy'])}")
    return EXIT_OK


def cmd_info(args):
    import ftrlx
    from ftrlx.io import read_header

    header = read_header(args.model)
    model = ftrlx.load(args.model)
    meta = header.get("metadata") or {}
    training = meta.get("training") or {}
    if header["kind"] == "sparse":
        n_features, nnz, total = model.n_features_in_, model.n_nonzero, meta.get("n_weights")
    else:
        n_features = getattr(model, "n_features_in_", None)
        coef = getattr(model, "coef_", None)
        total = None if coef is None else int(np.size(coef))
        nnz = getattr(model, "n_nonzero_", None)
        if nnz is None and coef is not None:
            nnz = int(np.count_nonzero(coef))
    info = {
        "file": args.model,
        "format_version": header["format_version"],
        "kind": header["kind"],
        "class": header["class"],
        "ftrlx_version": header["ftrlx_version"],
        "created": header["created"],
        "n_features": n_features,
        "n_nonzero": nnz,
        "n_weights": total,
        "rows_seen": meta.get("rows_seen", training.get("rows_seen")),
        "inputs": training.get("inputs"),
        "reader": training.get("reader"),
        "hasher": training.get("hasher_spec"),
        "trained_with": training.get("options"),
        "progressive_logloss": training.get("progressive_logloss"),
        "progressive_auc": training.get("progressive_auc"),
        "params": header["params"],
    }
    if args.json:
        print(json.dumps(info, default=str))
        return EXIT_OK
    width = max(len(k) for k in info)
    for key, value in info.items():
        if key == "params" or value is None:
            continue
        if key == "n_nonzero" and total:
            value = f"{value} ({value / total:.2%} of {total})"
        print(f"{key:<{width}}  {_printable(value)}")
    if info["params"]:
        print("params:")
        for key, value in sorted(info["params"].items()):
            print(f"  {_printable(key)} = {_printable(repr(value))}")
    return EXIT_OK


def _printable(value):
    """``value`` as one line of text, control characters escaped (a file cannot fake lines of output)."""
    text = value if isinstance(value, str) else json.dumps(value, default=str) if isinstance(
        value, (dict, list)) else str(value)
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode("ascii") for c in text)


def cmd_demo(args):
    import ftrlx
    from ftrlx.datasets import iter_click_data
    from ftrlx.stream import fit_stream

    _check_bits(args.bits)
    if args.rows < 1 or args.chunk_size < 1:
        raise UsageError(f"--rows and --chunk-size must be positive, got {args.rows} and {args.chunk_size}")
    plot = None if args.no_plot else args.plot
    if plot is not None:
        try:
            import matplotlib  # noqa: F401
        except ImportError:
            print("ftrlx: matplotlib is not installed, so no plot will be drawn "
                  "(pip install 'ftrlx[viz]')", file=sys.stderr)
            plot = None
    if plot is not None:
        out_dir = os.path.dirname(os.path.abspath(plot))
        if not os.path.isdir(out_dir):
            raise FileNotFoundError(f"plot directory {out_dir!r} does not exist; create it first")
    say = (lambda *a, **k: None) if args.quiet else print
    say(f"ftrlx demo: {args.rows:,} synthetic click rows, 2^{args.bits} hashed features, "
        f"FTRL-Proximal with progressive validation", file=sys.stderr)
    est = ftrlx.FTRLClassifier(alpha=args.alpha, l1=args.l1, random_state=args.seed)
    chunks = iter_click_data(args.rows, chunk_size=args.chunk_size, n_features=2 ** args.bits,
                             seed=args.seed)
    t0 = time.perf_counter()
    history = fit_stream(est, chunks, progress=not args.quiet, total_rows=args.rows,
                         holdout_every=args.holdout_every, nnz_every=args.chunk_size)
    seconds = time.perf_counter() - t0
    if not args.quiet:
        _summary(history, est, seconds, None)
    if args.output:
        ftrlx.save(est, args.output, metadata={"rows_seen": history.last()["rows_seen"],
                                               "training": {"inputs": ["ftrlx demo"]}})
        say(f"model written   {args.output}", file=sys.stderr)
    if plot is not None:
        _plot(history, plot)
        say(f"plot written    {plot}", file=sys.stderr)
    last = history.last()
    print(json.dumps({"rows": last["rows_seen"], "progressive_logloss": last["cum_logloss"],
                      "progressive_auc": last["cum_auc"], "nnz": last["nnz"],
                      "n_weights": int(np.size(est.coef_)), "seconds": round(seconds, 3)}))
    return EXIT_OK


def _plot(history, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from ftrlx.io import _atomic_write

    rows = history.column("rows_seen")
    fig, (ax1, ax2) = plt.subplots(2, 1, figsize=(7, 6), sharex=True)
    ax1.plot(rows, history.column("cum_logloss"), label="cumulative")
    ax1.plot(rows, history.column("logloss"), alpha=0.5, label="per chunk")
    ax1.set_ylabel("progressive log loss")
    ax1.legend()
    ax2.plot(rows, history.column("nnz"), color="C2")
    ax2.set_ylabel("non-zero weights")
    ax2.set_xlabel("rows seen")
    fig.suptitle("FTRL-Proximal on a synthetic click stream")
    fig.tight_layout()
    _atomic_write(path, lambda fh: fig.savefig(fh, format="png", dpi=100))
    plt.close(fig)


# --------------------------------------------------------------------------
# parser


def _add_reader_options(p, defaults_from_model=False):
    note = " (default: as recorded in the model)" if defaults_from_model else ""
    g = p.add_argument_group("input")
    g.add_argument("--format", choices=FORMATS,
                   help="input format (default: " + ("as recorded in the model)" if defaults_from_model else
                                                     "from the file name; a .tsv of 40 fields is criteo)"))
    g.add_argument("--label", help=f"label column (csv, parquet){note}")
    g.add_argument("--categorical", metavar="COLS",
                   help=f"comma-separated categorical columns to hash (csv, parquet){note}")
    g.add_argument("--numeric", metavar="COLS",
                   help=f"comma-separated numeric columns (csv, parquet){note}")
    g.add_argument("--sep", help="csv field separator (default: tab for .tsv/.tab files, comma otherwise)")
    g.add_argument("--ignore", metavar="COLS",
                   help=f"comma-separated columns that are not features, e.g. ids or leaking columns (csv, parquet){note}")
    g.add_argument("--on-bad-lines", choices=("error", "skip"),
                   help="what to do with malformed lines (default: error)")
    g.add_argument("--chunk-size", type=int, default=100_000, metavar="N",
                   help="rows per chunk (default: 100000)")


def _common_options(p, default):
    p.add_argument("--debug", action="store_true", default=default, help="show the full traceback on errors")
    p.add_argument("-q", "--quiet", action="store_true", default=default,
                   help="no progress bar or summary on stderr")
    return p


def build_parser():
    """The argparse parser of the ``ftrlx`` command."""
    common = _common_options(argparse.ArgumentParser(add_help=False), default=False)
    # the same options after the command; SUPPRESS keeps a command's default from overwriting a global -q
    after = _common_options(argparse.ArgumentParser(add_help=False), default=argparse.SUPPRESS)

    from ftrlx import __version__

    parser = _Parser(
        prog="ftrlx", parents=[common], epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Fast sparse online learning: train, evaluate and serve linear "
                    "click-through models on streams larger than memory.",
    )
    parser.add_argument("--version", action="version", version=f"ftrlx {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    kw = {"parents": [after], "epilog": EPILOG,
          "formatter_class": argparse.RawDescriptionHelpFormatter}

    p = sub.add_parser("train", help="train a model on one or more files", **kw,
                       description="Train a classifier on a stream of files with progressive "
                                   "validation, checkpoints and resume.")
    p.add_argument("inputs", nargs="+", metavar="INPUT", help="training file(s), read in order")
    p.add_argument("-o", "--output", default="model.ftrlx", metavar="MODEL",
                   help="model file to write (default: model.ftrlx)")
    _add_reader_options(p)
    p.add_argument("--bits", type=int, default=None,
                   help="hash into 2**BITS features (default: the reader's default, 2**20)")
    g = p.add_argument_group("model")
    g.add_argument("--algo", choices=sorted(ALGOS), default="ftrl", help="learner (default: ftrl)")
    g.add_argument("--loss", help="loss (default: log_loss)")
    for name in ("alpha", "beta", "l1", "l2", "eta0", "gamma", "rho"):
        if name == "l1" and p.prog.endswith("train"):
            g.add_argument("--l1", type=_floats, metavar="L1[,L1...]",
                           help="l1 hyper-parameter; several values train one model each in one pass and write "
                                "their sparsity/accuracy frontier (MODEL.frontier.csv/.png), saving the one --select "
                                "picks")
            continue
        g.add_argument(f"--{name}", type=float, help=f"{name} hyper-parameter of the learner")
    if p.prog.endswith("train"):
        g.add_argument("--select", choices=("sparsest", "best"), default="sparsest",
                       help="with several --l1 values: the fewest weights within --select-tolerance of the best "
                            "progressive log loss (sparsest, the default), or the best log loss")
        g.add_argument("--select-tolerance", type=float, default=0.01, metavar="FRACTION",
                       help="relative log-loss tolerance of --select sparsest (default: 0.01)")
    g.add_argument("--learning-rate", dest="learning_rate", help="learning-rate schedule")
    g.add_argument("--param", action="append", metavar="NAME=VALUE",
                   help="any other estimator parameter (repeatable)")
    g.add_argument("--seed", type=int, help="random_state of the estimator")
    g.add_argument("--class-weight", dest="class_weight", metavar="LABEL:W,...",
                   help="weight of each class's rows, e.g. 0:1,1:5")
    g = p.add_argument_group("training")
    g.add_argument("--epochs", type=int, default=1, help="passes over the input (default: 1)")
    g.add_argument("--max-rows", type=int, metavar="N", help="stop after N rows")
    g.add_argument("--holdout-every", type=int, metavar="K",
                   help="score every K-th chunk without training on it")
    g.add_argument("--checkpoint", metavar="PATH", help="checkpoint file")
    g.add_argument("--checkpoint-every", type=int, metavar="N",
                   help="write the checkpoint every N trained rows")
    g.add_argument("--resume", action="store_true",
                   help="continue from --checkpoint if it exists (same inputs and options)")
    g.add_argument("--history", metavar="CSV", help="write per-chunk metrics as CSV")
    g.add_argument("--nnz-every", type=int, metavar="N", dest="nnz_every",
                   help="count the non-zero weights every N rows (default: only at the end)")
    g.add_argument("--json", action="store_true",
                   help="print a JSON summary on stdout (rows, seconds, progressive metrics, non-zeros)")
    g.add_argument("--sparse-output", metavar="PATH",
                   help="also export the non-zero weights for serving")
    p.set_defaults(func=cmd_train)

    p = sub.add_parser("predict", help="write predicted probabilities, one per line", **kw,
                       description="Score INPUT with MODEL: the positive-class probability "
                                   "(decision value for non-probabilistic losses), one per line.")
    p.add_argument("model", metavar="MODEL")
    p.add_argument("input", metavar="INPUT")
    p.add_argument("-o", "--output", default="-", metavar="OUT",
                   help="output file (default: standard output)")
    _add_reader_options(p, defaults_from_model=True)
    p.set_defaults(func=cmd_predict)

    p = sub.add_parser("evaluate", help="log loss, AUC and accuracy of a model on a file", **kw,
                       description="Evaluate MODEL on the labelled INPUT.")
    p.add_argument("model", metavar="MODEL")
    p.add_argument("input", metavar="INPUT")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    _add_reader_options(p, defaults_from_model=True)
    p.set_defaults(func=cmd_evaluate)

    p = sub.add_parser("info", help="describe a model file", **kw,
                       description="Show class, parameters, size, sparsity and provenance "
                                   "of a model file.")
    p.add_argument("model", metavar="MODEL")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=cmd_info)

    p = sub.add_parser("demo", help="train FTRL on a generated click log and plot it", **kw,
                       description="Generate a synthetic click log as a stream, train "
                                   "FTRL-Proximal with progressive validation, print the "
                                   "metrics and sparsity, and plot them.")
    p.add_argument("--rows", type=int, default=1_000_000, help="rows to generate (default: 1000000)")
    p.add_argument("--chunk-size", type=int, default=20_000, help="rows per chunk (default: 20000)")
    p.add_argument("--bits", type=int, default=20, help="hash space 2**BITS (default: 20)")
    p.add_argument("--alpha", type=float, default=0.1, help="FTRL alpha (default: 0.1)")
    p.add_argument("--l1", type=float, default=1.0, help="FTRL l1 (default: 1.0)")
    p.add_argument("--holdout-every", type=int, metavar="K", help="hold out every K-th chunk")
    p.add_argument("--seed", type=int, default=0, help="data and model seed (default: 0)")
    p.add_argument("--plot", default="ftrlx-demo.png", metavar="PNG",
                   help="picture of log loss and non-zeros (default: ftrlx-demo.png)")
    p.add_argument("--no-plot", action="store_true", help="do not draw the picture")
    p.add_argument("-o", "--output", metavar="MODEL", help="also save the model")
    p.set_defaults(func=cmd_demo)
    return parser


def main(argv=None):
    """Run the ``ftrlx`` command line; return the exit status.

    Parameters
    ----------
    argv : list of str, optional
        Arguments without the program name (default: ``sys.argv[1:]``).

    Returns
    -------
    int
        0 on success, 1 on a runtime or data error, 2 on a usage error,
        130 when interrupted.
    """
    argv = sys.argv[1:] if argv is None else list(argv)
    debug = "--debug" in argv
    try:
        parser = build_parser()
        try:
            args = parser.parse_args(argv)
        except SystemExit as exc:  # --help and --version
            return int(exc.code or 0)
        if args.command is None:
            parser.print_help(sys.stderr)
            return EXIT_USAGE
        return args.func(args)
    except UsageError as exc:
        print(exc if str(exc).startswith("ftrlx") else f"ftrlx: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt as exc:
        if debug:
            traceback.print_exc()
        message = str(exc) or "interrupted"
        print(f"ftrlx: {message}", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # the reader of our output went away (``ftrlx predict ... | head``): that is its choice, not an error
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_OK
    except Exception as exc:  # noqa: BLE001 - the one place that turns errors into a status
        if debug:
            traceback.print_exc()
        text = _cli_remedies(" ".join(str(exc).split()) or type(exc).__name__)
        print(f"ftrlx: error: {text}", file=sys.stderr)
        return EXIT_ERROR


# The library's remedies name Python arguments; on the command line the user needs the flags.
_REMEDIES = (
    (re.compile(r"on_bad_lines='skip'"), "--on-bad-lines skip"),
    (re.compile(r"pass binary=False to keep labels as written"),
     "the command line trains binary classifiers on labels -1/0/+1"),
    (re.compile(r"pass a larger n_features"), "train with --bits B to fold every index into 2**B columns"),
    (re.compile(r"pass the stream's two labels as classes="), "train on 0/1 labels"),
)
_SET_PARAMS = re.compile(r"Fix it with set_params\((\w+)=\.\.\.\) or in the constructor\.")


def _cli_remedies(text):
    for pattern, flag in _REMEDIES:
        text = pattern.sub(flag, text)

    def flag_for(match):
        name = match.group(1)
        if name in _PARAM_FLAGS:
            return f"Fix it with --{name.replace('_', '-')}."
        return f"Fix it with --param {name}=VALUE."

    return _SET_PARAMS.sub(flag_for, text)


def run_process(argv=None):
    """:func:`main` as the whole of a process (the ``ftrlx`` command, ``python -m ftrlx``).

    The cyclic garbage collector stays off: start-up imports some 10^5 long-lived objects that it would
    traverse again and again, and the commands' loops create no reference cycles. The objects are frozen before
    the process exits, so that the interpreter's last collections skip them too (together about a third of a
    second of a short run).
    """
    import gc

    gc.disable()
    try:
        return main(argv)
    finally:
        gc.freeze()


def _entry():
    sys.exit(run_process())


if __name__ == "__main__":  # pragma: no cover
    _entry()
