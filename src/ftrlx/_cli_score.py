"""``ftrlx predict`` and ``ftrlx evaluate``: a saved model applied to a file, read as it was trained."""

import json
import math
import sys

import numpy as np

from ._cli_common import EXIT_OK, _check_counts, _fmt_metric, _hasher_for, _open, _reader_config


def _model_and_reader(args):
    import ftrlx
    from ftrlx.io import read_header

    _check_counts(args)
    header = read_header(args.model)
    model = ftrlx.load(args.model)
    training = (header.get("metadata") or {}).get("training") or {}
    cfg = _reader_config(args, training.get("reader"))
    spec = training.get("hasher_spec")
    if spec is None and cfg["format"] not in ("svmlight", "vw"):
        spec = getattr(model, "hasher_spec", None)
    if cfg["format"] == "svmlight" and "zero_based" not in cfg and not getattr(args, "quiet", False):
        print(
            f"ftrlx: {args.model} does not record whether its svmlight indices start at 0 or 1; deciding from "
            f"{args.inputs[0]} (pass --zero-based or --one-based to be sure)",
            file=sys.stderr,
        )
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


def cmd_evaluate(args):
    from ftrlx.metrics import RunningAUC, RunningLogLoss

    args.inputs = [args.input]
    model, cfg, hasher, n_features = _model_and_reader(args)
    classes = getattr(model, "classes_", None)
    if classes is None or len(classes) != 2:
        raise ValueError(
            f"evaluate scores binary classifiers; this model has classes {None if classes is None else list(classes)}"
        )
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
        if not is_proba:
            auc.scores = "margin"  # decision values: binned as they are past the AUC's exact rows
        if is_proba:
            ll.update(yb, scores)
            correct += int(((scores > 0.5) == yb).sum())
        else:
            correct += int(((scores > 0) == yb).sum())
        auc.update(yb, scores)
        rows += y.size
    result = {
        "rows": rows,
        "logloss": ll.value if is_proba else float("nan"),
        "auc": auc.value,
        "accuracy": correct / rows if rows else float("nan"),
    }
    if args.json:
        print(json.dumps({k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in result.items()}))
    else:
        print(f"rows      {rows}")
        print(f"logloss   {_fmt_metric(result['logloss'])}")
        print(f"auc       {_fmt_metric(result['auc'])}")
        print(f"accuracy  {_fmt_metric(result['accuracy'])}")
    return EXIT_OK
