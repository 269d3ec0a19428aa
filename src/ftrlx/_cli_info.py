"""``ftrlx info`` and ``ftrlx demo``."""

import json
import os
import sys
import time

import numpy as np

from ._cli_common import EXIT_OK, UsageError, _check_bits, _printable
from ._cli_train import _summary


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
    top = None
    if args.top is not None:
        if args.top < 1:
            raise UsageError(f"--top must be at least 1, got {args.top}")
        top = _top_weights(model, header["kind"], meta.get("inverse_map") or {}, args.top)
        info["top_weights"] = top
    if args.json:
        print(json.dumps(info, default=str))
        return EXIT_OK
    if top is not None:
        _print_top(top, meta.get("inverse_map"))
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


def _nonzero_weights(model, kind):
    """(output, column, weight) arrays of every non-zero weight of the model."""
    if kind == "sparse":
        counts = np.diff(model.indptr)
        return np.repeat(np.arange(counts.size), counts), model.indices, model.values
    coef = np.atleast_2d(np.asarray(getattr(model, "coef_", np.zeros((1, 0)))))
    out, col = np.nonzero(coef)
    return out, col, coef[out, col]


def _top_weights(model, kind, inverse, k):
    """The ``k`` largest |weights| as dicts: column, feature (``field=value`` from the inverse map), weight."""
    out, col, w = _nonzero_weights(model, kind)
    order = np.argsort(-np.abs(w), kind="stable")[:k]
    columns = inverse.get("columns") or {}
    classes = getattr(model, "classes_", None)
    multi = out.size and int(out.max()) > 0
    rows = []
    for i in order.tolist():
        c = int(col[i])
        rec = {"column": c, "feature": columns.get(str(c)), "weight": float(w[i])}
        if multi:
            rec["class"] = classes[int(out[i])].item() if classes is not None else int(out[i])
        rows.append(rec)
    return rows


def _print_top(top, inverse):
    if not inverse:
        print(
            "# no inverse map in this model (svmlight columns are the file's indices; a map is kept for "
            "criteo, avazu, csv and parquet runs of ftrlx train): features shown as #column"
        )
    for rank, rec in enumerate(top, 1):
        feature = rec["feature"] if rec["feature"] is not None else f"#{rec['column']}"
        where = f"  class={_printable(rec['class'])}" if "class" in rec else ""
        print(f"{rank:>4}  {rec['weight']:+.6f}  {_printable(feature)}{where}")


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
            print(
                "ftrlx: matplotlib is not installed, so no plot will be drawn (pip install 'ftrlx[viz]')",
                file=sys.stderr,
            )
            plot = None
    if plot is not None:
        out_dir = os.path.dirname(os.path.abspath(plot))
        if not os.path.isdir(out_dir):
            raise FileNotFoundError(f"plot directory {out_dir!r} does not exist; create it first")
    say = (lambda *a, **k: None) if args.quiet else print
    say(
        f"ftrlx demo: {args.rows:,} synthetic click rows, 2^{args.bits} hashed features, "
        f"FTRL-Proximal with progressive validation",
        file=sys.stderr,
    )
    est = ftrlx.FTRLClassifier(alpha=args.alpha, l1=args.l1, random_state=args.seed)
    chunks = iter_click_data(args.rows, chunk_size=args.chunk_size, n_features=2**args.bits, seed=args.seed)
    t0 = time.perf_counter()
    history = fit_stream(
        est,
        chunks,
        progress=not args.quiet,
        total_rows=args.rows,
        holdout_every=args.holdout_every,
        nnz_every=args.chunk_size,
    )
    seconds = time.perf_counter() - t0
    if not args.quiet:
        _summary(history, est, seconds, None)
    if args.output:
        ftrlx.save(
            est,
            args.output,
            metadata={"rows_seen": history.last()["rows_seen"], "training": {"inputs": ["ftrlx demo"]}},
        )
        say(f"model written   {args.output}", file=sys.stderr)
    if plot is not None:
        _plot(history, plot)
        say(f"plot written    {plot}", file=sys.stderr)
    last = history.last()
    print(
        json.dumps(
            {
                "rows": last["rows_seen"],
                "progressive_logloss": last["cum_logloss"],
                "progressive_auc": last["cum_auc"],
                "nnz": last["nnz"],
                "n_weights": int(np.size(est.coef_)),
                "seconds": round(seconds, 3),
            }
        )
    )
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
