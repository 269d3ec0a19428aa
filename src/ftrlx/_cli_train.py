"""``ftrlx train``: the estimator from the flags, the stream of the inputs, checkpoints, the summary."""

import argparse
import contextlib
import json
import math
import os
import time

from ._cli_common import (
    _PARAM_FLAGS,
    ALGOS,
    DEFAULT_BITS,
    EXIT_OK,
    STDIN,
    UsageError,
    _check_bits,
    _check_counts,
    _check_outputs,
    _column_names,
    _columns,
    _hasher_for,
    _json_ready,
    _open,
    _parse_value,
    _reader_config,
)
from ._cli_train_report import _json_report, _model_metadata, _save_safely, _summary, _train_frontier
from ._invert import sample_map


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
            raise UsageError(f"--param {item!r}: expected NAME=VALUE with NAME one of {', '.join(sorted(valid))}")
        params[name] = _parse_value(value)
    if args.seed is not None:
        params["random_state"] = args.seed
    if getattr(args, "class_weight", None):
        params["class_weight"] = _class_weight(args.class_weight)
    params.update(_threads(args, valid))
    est.set_params(**params)
    # Report a bad value now, not after the input has been opened.
    validate = getattr(est, "_validate_params", None)
    if validate is not None:
        try:
            validate()
        except (TypeError, ValueError) as exc:  # a value given on the command line: a usage error
            raise UsageError(str(exc)) from None
    _check_hogwild(est)
    return est


def _threads(args, valid):
    """``--jobs N --parallel MODE``: the estimator's ``n_jobs`` and ``parallel``."""
    jobs, mode = getattr(args, "jobs", None), getattr(args, "parallel", None)
    if jobs is not None and (jobs == 0 or isinstance(jobs, bool)):
        raise UsageError(
            f"--jobs must be a positive number of threads, or -1 for every core (-2 all but one, ...), got {jobs}"
        )
    if mode is not None and jobs is None:
        raise UsageError(f"--parallel {mode} says how --jobs threads share the work; pass --jobs N (N > 1) too")
    params = {}
    if jobs is not None and "n_jobs" in valid:
        params["n_jobs"] = jobs
    if mode is not None and "parallel" in valid:
        params["parallel"] = mode
    return params


def _check_hogwild(est):
    """A learner that cannot train hogwild is refused before any input is read."""
    from ftrlx.linear_model._threads import effective_n_jobs, hogwild_refusal

    if getattr(est, "parallel", None) == "hogwild" and effective_n_jobs(est.n_jobs) > 1:
        reason = hogwild_refusal(est)
        if reason is not None:
            raise UsageError(reason)


def _floats(text):
    """One number, or a comma-separated list of them (a grid)."""
    try:
        values = [float(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number or numbers separated by commas, got {text!r}") from None
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
        if sep and not (math.isfinite(weights[_parse_value(label)]) and weights[_parse_value(label)] > 0):
            raise UsageError(
                f"--class-weight {text!r}: the weight of class {label} must be a positive finite number, got {weight}"
            )
        if not sep:
            raise UsageError(f"--class-weight {text!r}: expected LABEL:WEIGHT pairs separated by commas, e.g. 0:1,1:5")
    return weights


def _options(args, est):
    """What the command line set, for the model's provenance: the learner, its non-default parameters, training."""
    defaults = type(est)().get_params()
    params = {k: v for k, v in est.get_params().items() if repr(v) != repr(defaults.get(k))}
    return {
        "algo": args.algo,
        "params": params,
        "epochs": args.epochs,
        "early_stop": args.early_stop,
        "bits": args.bits,
        "jobs": est.get_params().get("n_jobs"),
        "parallel": est.get_params().get("parallel"),
        "holdout_every": args.holdout_every,
        "max_rows": args.max_rows,
        "weight": getattr(args, "weight", None),
    }


def cmd_train(args):

    _check_bits(args.bits)
    cfg = _reader_config(args)
    _check_weight(cfg)
    _check_keep(cfg, args.inputs[0])
    for path in args.inputs:
        if path != STDIN and not os.path.exists(path):
            raise FileNotFoundError(f"input file {path!r} does not exist")
    if args.inputs.count(STDIN) > 1:
        raise UsageError("standard input (-) can be given only once")
    _check_counts(args)
    _check_early_stop(args)
    with _replayable(args.inputs, args.epochs) as inputs:
        _check_train_outputs(args)
        hasher, n_features = _input_hasher(args, cfg, inputs)
        if args.resume:
            _adopt_decisions(args.checkpoint, cfg)
        one_pass = _pass_over(args, cfg, inputs, hasher, n_features)
        with _reading_ahead(args, inputs, one_pass) as one_pass:
            # the estimator's import (scikit-learn: about half a second of Python) runs while the first chunks
            # are parsed; a bad value is still reported before any training
            est = _estimator(args)
            return _train(args, cfg, est, inputs, hasher, one_pass)


#: Chunks of the first input read while the estimators are imported (at most; see ftrlx.stream._source.HeadStart).
HEAD_START_CHUNKS = 2


@contextlib.contextmanager
def _reading_ahead(args, inputs, one_pass):
    """``one_pass`` whose first pass is already being read in a background thread (inputs that are regular files;
    others are read when training starts, as a pipe may block)."""
    if not all(path != STDIN and os.path.isfile(path) for path in inputs):
        yield one_pass
        return
    from ftrlx.stream._source import HeadStart

    limit = HEAD_START_CHUNKS
    if args.max_rows is not None:
        limit = max(1, min(limit, -(-args.max_rows // args.chunk_size)))
    with HeadStart(one_pass(), limit) as early:
        started = [early]

        def passes():
            return started.pop().take() if started else one_pass()

        yield passes


def _check_weight(cfg):
    """``--weight COLUMN``: a column of the CSV or Parquet input that is neither the label nor a feature."""
    weight = cfg.get("weight")
    if weight is None:
        return
    if cfg["format"] not in ("csv", "parquet"):
        raise UsageError(
            f"--weight reads a column of importance weights from csv or parquet input, not {cfg['format']}"
        )
    for key, flag in (
        ("label", "--label"),
        ("id", "--id"),
        ("categorical", "--categorical"),
        ("numeric", "--numeric"),
        ("ignore", "--ignore"),
    ):
        value = cfg.get(key)
        if weight == value or (isinstance(value, list) and weight in value):
            raise UsageError(
                f"--weight {weight}: the column is also given to {flag}; the weight column is never "
                "a feature, the label or the id"
            )


def _check_keep(cfg, path):
    """``--keep FIELDS``: fields of the input (csv, parquet: its columns; criteo: I1..I13, C1..C26), not with
    --ignore."""
    keep = cfg.get("keep")
    if not keep:
        return
    if cfg["format"] not in ("csv", "parquet", "criteo"):
        raise UsageError(f"--keep chooses the fields of csv, parquet or criteo input, not {cfg['format']}")
    if cfg.get("ignore"):
        raise UsageError(
            "--keep FIELDS (only these are features) and --ignore COLS (all but these) exclude each "
            "other; pass one of them"
        )
    if cfg["format"] == "criteo":
        from ftrlx.datasets._criteo import CRITEO_COLUMNS

        names = CRITEO_COLUMNS[1:]
    elif path == STDIN:
        return  # the header is read once, by the reader (which names a missing column)
    else:
        names = _column_names(path, cfg)
    unknown = [c for c in keep if c not in names]
    not_features = [c for c in keep if c in (cfg.get("label"), cfg.get("id"), cfg.get("weight"))]
    if unknown or not_features:
        raise UsageError(
            f"--keep: no field {unknown[0]!r} among {', '.join(names)}"
            if unknown
            else f"--keep: {not_features[0]!r} is the label, the id or the weight, never a feature"
        )


def _check_early_stop(args):
    if args.early_stop is None:
        return
    if args.holdout_every is None:
        raise UsageError(
            "--early-stop N watches the held-out log loss: pass --holdout-every K too (every K-th chunk "
            "of each pass is held out)"
        )
    if args.epochs == 1:
        raise UsageError("--early-stop N stops a run of several passes: pass --passes P (P > 1) too")


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


def _train(args, cfg, est, inputs, hasher, one_pass):
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
    inverse = _inverse_map(args, cfg, inputs[0], hasher)
    if isinstance(args.l1, list):
        import itertools

        chunks = itertools.chain.from_iterable(one_pass() for _ in range(args.epochs))
        return _train_frontier(args, est, chunks, training, hasher)
    history, seconds, table = _fit_inputs(args, est, one_pass, training)
    last = history.last("train")
    if last is None:
        raise ValueError("the input had no training rows; check the file and --holdout-every")
    meta, passes = _model_metadata(args, est, history, training, inverse)
    _save_safely(est, args.output, meta)
    if args.sparse_output:
        from ftrlx.io import export_sparse

        export_sparse(est, args.sparse_output, hasher=hasher, metadata=meta)
    if not args.quiet:
        _summary(history, est, seconds, args.output, passes)
    if args.json:
        print(json.dumps(_json_ready(_json_report(args, last, seconds, passes, table))))
    return EXIT_OK


def _check_train_outputs(args):
    """The checkpoint flags go together, and every output can be written (before any training)."""
    if args.resume and not args.checkpoint:
        raise UsageError("--resume needs --checkpoint PATH (the checkpoint to resume from)")
    if args.checkpoint_every and not args.checkpoint:
        raise UsageError("--checkpoint-every needs --checkpoint PATH")
    _check_outputs(
        (args.output, "-o model output"),
        (args.checkpoint, "--checkpoint"),
        (args.sparse_output, "--sparse-output"),
        (args.history, "--history"),
    )


def _input_hasher(args, cfg, inputs):
    """``(hasher, n_features)`` of the inputs: the hasher of hashed formats (with --interactions), the fixed width
    of svmlight and VW input."""
    hasher = _with_interactions(_hasher_for(cfg, inputs[0], args.bits), cfg, args.interactions)
    n_features = 2**args.bits if cfg["format"] in ("svmlight", "vw") and args.bits else None
    if cfg["format"] == "svmlight":
        # a fixed width, whatever index comes later in the stream: larger indices fold into it
        n_features, cfg["fold"] = 2 ** (args.bits or DEFAULT_BITS), True
    return hasher, n_features


def _pass_over(args, cfg, inputs, hasher, n_features):
    """A function that reads every input once, chunk by chunk (called once per pass)."""

    def one_pass():
        for path in inputs:
            reader = _open(path, cfg, args.chunk_size, hasher=hasher, n_features=n_features, weights=True)
            if hasattr(reader, "label_values"):  # the classifiers of the command line train on 0/1 labels
                reader.label_values = (0.0, 1.0)
            for chunk in reader:
                if "zero_based" not in cfg and getattr(reader, "zero_based_used", None) is not None:
                    # the first file decides; every later file (and pass) is read the same way
                    cfg["zero_based"] = reader.zero_based_used
                yield chunk

    return one_pass


def _fit_inputs(args, est, one_pass, training):
    """Train on the passes over the inputs with the flags' schedule; ``(history, seconds, progress table)``."""
    from ftrlx.stream import fit_stream
    from ftrlx.stream._table import ProgressTable, write_stderr

    table = ProgressTable(write=None if args.quiet or args.json else write_stderr)
    t0 = time.perf_counter()
    history = fit_stream(
        est,
        one_pass,
        table=table,
        passes=args.epochs,
        early_stop=args.early_stop,
        holdout_every=args.holdout_every,
        checkpoint=args.checkpoint,
        checkpoint_every=args.checkpoint_every,
        resume=args.resume,
        progress=not args.quiet,
        history_csv=args.history,
        max_rows=args.max_rows,
        checkpoint_metadata={"training": training},
        nnz_every=args.nnz_every,
    )
    return history, time.perf_counter() - t0, table


def _with_interactions(hasher, cfg, pairs):
    """``--interactions A,B`` (repeatable): field pairs crossed by the hasher, or VW namespace pairs of the reader.

    The crosses are part of the hasher spec (or of the reader options, for VW) recorded in the model, so predict and
    evaluate cross the same way."""
    if not pairs:
        return hasher
    parsed = []
    for item in pairs:
        pair = [c.strip() for c in item.split(",")]
        if len(pair) != 2 or not all(pair):
            raise UsageError(f"--interactions {item!r}: expected two fields separated by a comma, e.g. C1,C2")
        parsed.append(pair)
    if cfg["format"] == "vw":
        bad = [",".join(p) for p in parsed if any(len(c) != 1 for c in p)]
        if bad:
            raise UsageError(
                f"--interactions {bad[0]!r}: VW input crosses namespaces by their first letter, e.g. "
                "--interactions u,a (VW's -q ua)"
            )
        cfg["interactions"] = ["".join(p) for p in parsed]
        return hasher
    if hasher is None:
        raise UsageError(f"--interactions crosses hashed fields; {cfg['format']} input has no fields to cross")
    spec = dict(hasher.get_spec())
    spec["interactions"] = [list(p) for p in spec["interactions"]] + parsed
    fields = set(spec["categorical"] or ()) | set(spec["numeric"] or ())
    unknown = [c for p in parsed for c in p if spec["categorical"] is not None and c not in fields]
    if unknown:
        raise UsageError(f"--interactions: no field {unknown[0]!r} among the hashed fields {', '.join(sorted(fields))}")
    return type(hasher).from_spec(spec)


def _inverse_map(args, cfg, path, hasher):
    """The inverse hash of a sample of the first input (None: no hasher, --invert-rows 0, or stdin read once)."""
    rows = 0 if args.invert_rows is None else args.invert_rows  # opt-in: the sample costs a fixed ~0.7 s
    if rows < 0:
        raise UsageError(f"--invert-rows must be 0 (no map) or a number of rows, got {rows}")
    if hasher is None or rows == 0 or path == STDIN:
        return None
    return sample_map(_open(path, cfg, args.chunk_size, hasher=hasher), rows)


def _adopt_decisions(checkpoint, cfg):
    """What the reader decided in the run a checkpoint continues (the svmlight index base), so that the resumed run
    reads its inputs the same way."""
    if not os.path.exists(checkpoint):
        return
    from ftrlx.io import read_header

    saved = ((read_header(checkpoint).get("metadata") or {}).get("training") or {}).get("reader") or {}
    if "zero_based" in saved and "zero_based" not in cfg:
        cfg["zero_based"] = saved["zero_based"]


def _check_resumable(checkpoint, training):
    """Refuse to resume from a checkpoint that was written while training on other inputs or options."""
    if not os.path.exists(checkpoint):
        return
    from ftrlx.io import read_header

    saved = (read_header(checkpoint).get("metadata") or {}).get("training") or {}
    for key, flag in (
        ("inputs", "the input files"),
        ("epochs", "--epochs"),
        ("chunk_size", "--chunk-size"),
        ("reader", "the reader options (--format, --label, ...)"),
        ("hasher_spec", "the hashing (--bits, ...)"),
    ):
        if key in saved and saved[key] != training[key]:
            raise UsageError(
                f"--resume: checkpoint {checkpoint!r} was written with {flag} = {saved[key]!r}, not "
                f"{training[key]!r}; resume with the same inputs and options, or pass another --checkpoint"
            )
