"""``ftrlx train``: what a run leaves behind: the model's metadata, the saved model (rescued when its output
fails), the summary on stderr and the --json report, and the frontier run of several --l1 values."""

import json
import os
import sys
import time

import numpy as np

from ._cli_common import EXIT_OK, UsageError, _check_outputs, _fmt_metric, _json_ready


def _model_metadata(args, est, history, training, inverse):
    """``(metadata, passes)``: the metadata saved with the model (the run's results added to ``training``) and
    the summary of the passes (None for one pass)."""
    last = history.last("train")
    rows_seen = last["rows_seen"]
    training.update(rows_seen=rows_seen, progressive_logloss=last["cum_logloss"], progressive_auc=last["cum_auc"])
    passes = _passes_summary(args, history)
    if passes:
        training.update(passes=passes)
    meta = {"rows_seen": rows_seen, "training": training}
    if inverse is not None:
        meta["inverse_map"] = {"rows": args.invert_rows, "columns": inverse.for_model(est.coef_)}
    return meta, passes


def _json_report(args, last, seconds, passes, table):
    """What ``--json`` prints for a run."""
    return {
        "rows": last["rows_seen"],
        "rows_read": last["rows_read"],
        "seconds": round(seconds, 3),
        "rows_per_s": last["rows_read"] / max(seconds, 1e-9),
        "progressive_logloss": last["cum_logloss"],
        "progressive_auc": last["cum_auc"],
        "nnz": last["nnz"],
        "model": args.output,
        **(passes or {}),
        "progress": table.lines,
    }


def _passes_summary(args, history):
    """With several passes: the passes trained, each pass's held-out log loss, the best pass, an early stop."""
    if args.epochs == 1:
        return None
    done = max(rec.get("pass", 0) for rec in history) + 1
    out = {"passes_trained": done}
    if args.holdout_every is not None:
        losses = history.pass_losses()
        finite = [i for i, v in enumerate(losses) if v == v]
        out["pass_holdout_logloss"] = losses
        out["best_pass"] = min(finite, key=losses.__getitem__) + 1 if finite else None
    out["early_stopped"] = (
        args.early_stop is not None
        and done < args.epochs
        and (args.max_rows is None or history[-1]["rows_read"] < args.max_rows)
    )
    return out


def _train_frontier(args, est, chunks, training, hasher):
    """``--l1 a,b,c``: one pass trains a model per value; write the frontier and save the selected model."""
    from ftrlx._path import fit_frontier

    for flag, value in (
        ("--checkpoint", args.checkpoint),
        ("--holdout-every", args.holdout_every),
        ("--early-stop", args.early_stop),
        ("--max-rows", args.max_rows),
        ("--sparse-output", args.sparse_output),
    ):
        if value is not None:
            raise UsageError(f"{flag} is not supported with several --l1 values (a frontier run)")
    stem = os.path.splitext(args.output)[0]
    csv_path, png_path = stem + ".frontier.csv", stem + ".frontier.png"
    _check_outputs((csv_path, "the frontier CSV"), (png_path, "the frontier PNG"))
    t0 = time.perf_counter()
    model, result = fit_frontier(
        est,
        chunks,
        args.l1,
        csv_path=csv_path,
        png_path=png_path,
        rule=args.select,
        tolerance=args.select_tolerance,
        title=f"{args.algo}: non-zero weights against progressive log loss",
    )
    seconds = time.perf_counter() - t0
    record = result.select(args.select, tolerance=args.select_tolerance).record
    training.update(
        rows_seen=result.rows,
        progressive_logloss=record.get("progressive_logloss"),
        progressive_auc=record.get("progressive_auc"),
        frontier=os.path.basename(csv_path),
    )
    _save_safely(model, args.output, {"rows_seen": result.rows, "training": training})
    if not args.quiet:
        print(
            f"frontier        {len(args.l1)} models in one pass over {result.rows:,} rows, {seconds:.1f} s; "
            f"{csv_path}, {png_path}",
            file=sys.stderr,
        )
        print(f"selected        {record} ({args.select})", file=sys.stderr)
        print(f"model written   {args.output}", file=sys.stderr)
    if args.json:
        print(
            json.dumps(
                _json_ready(
                    {
                        "rows": result.rows,
                        "seconds": round(seconds, 3),
                        "selected": record,
                        "frontier_csv": csv_path,
                        "frontier_png": png_path,
                        "model": args.output,
                    }
                ),
                default=str,
            )
        )
    return EXIT_OK


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
        raise OSError(
            f"could not write the model to {path!r} ({exc.strerror or exc}); the trained model was saved "
            f"to {rescue!r} instead"
        ) from exc


def _summary(history, est, seconds, output, passes=None):
    last = history.last("train")
    hold = history.last("holdout")
    coef = getattr(est, "coef_", None)
    total = int(np.size(coef)) if coef is not None else 0
    nnz = last["nnz"] or 0
    err = sys.stderr
    print(
        f"rows trained    {last['rows_seen']:,} in {seconds:.1f} s "
        f"({last['rows_read'] / max(seconds, 1e-9):,.0f} rows/s)",
        file=err,
    )
    print(
        f"progressive     log loss {_fmt_metric(last['cum_logloss'])}  "
        f"AUC {_fmt_metric(last['cum_auc'])}  positive rate {_fmt_metric(last['cum_pos_rate'], 4)}",
        file=err,
    )
    if hold is not None:
        print(
            f"holdout         log loss {_fmt_metric(hold['cum_logloss'])}  "
            f"AUC {_fmt_metric(hold['cum_auc'])}  rows {sum(r['rows'] for r in history if r['kind'] == 'holdout'):,}",
            file=err,
        )
    if passes and "pass_holdout_logloss" in passes:
        losses = "  ".join(_fmt_metric(v) for v in passes["pass_holdout_logloss"])
        stop = "early stop; " if passes["early_stopped"] else ""
        print(
            f"passes          {passes['passes_trained']} ({stop}the model is the last pass's; best pass "
            f"{passes['best_pass']}); holdout log loss per pass {losses}",
            file=err,
        )
    if total:
        print(f"non-zero        {nnz:,} of {total:,} weights ({nnz / total:.2%})", file=err)
    if output:
        print(f"model written   {output}", file=err)
