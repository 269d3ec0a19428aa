"""Sparsity/accuracy frontiers: non-zero weights against log loss and AUC, every L1 learner against its peers.

For each data set, every learner with an L1 knob is trained once per value of a grid of at least 8 L1 strengths
(one pass each, after a small learning-rate tuning that this script performs and records), on the same hashed
columns:

* ftrlx: FTRL, RDA (plain and enhanced), FOBOS, truncated gradient, AdaGrad (FOBOS and RDA forms of L1) and OGD,
  each whole grid in one pass with ``ftrlx.path``; LazyAdam (no L1) as a reference point;
* scikit-learn ``SGDClassifier(penalty='l1')``, by ``partial_fit`` over chunks (one pass) and by ``fit``
  (``max_iter=1``);
* Vowpal Wabbit ``--l1`` with its default learner, and ``--ftrl --l1``;
* river's FTRL-Proximal (on a prefix of the training rows: it learns about 10,000 rows/s).

Every point records the non-zero weights, the progressive log loss and AUC (each training row scored just before
the model trains on it: per row for ftrlx, VW and river; per chunk for SGDClassifier.partial_fit, which is scored
chunk by chunk; none for SGDClassifier.fit) and the held-out log loss and AUC (a separate test split the models
never train on).  Outputs: ``frontier.md``, ``frontier.json`` and one ``frontier_<data>.png`` per data set.

    python bench/frontier.py                 # every data set found, make_click_data at 1M rows
    python bench/frontier.py --quick         # smoke run (under a minute), into bench/out/
    python bench/frontier.py --only a9a --only click
"""

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _peers  # noqa: E402
from _frontier_data import BENCH_DIR, Data, load_datasets
from _frontier_learners import ftrlx_specs, grid, run_path_family, run_sgd_fit, run_sgd_partial
from _frontier_report import TOLERANCE, format_value, frontier_summary, min_of, plot_dataset, write_outputs
from _frontier_vw_river import run_river, run_vw, vw_lines

# --------------------------------------------------------------------------- one data set


def run_dataset(data, args, log):
    import ftrlx

    n = args.n_values
    tune_rows = min(data.n_train, 20_000 if args.quick else 200_000)
    results = []
    for family, (factory, lr_name, candidates, (lo, hi)) in ftrlx_specs().items():
        if args.quick:
            candidates = candidates[:2]
        results.append(run_path_family(family, factory(), lr_name, candidates, grid(lo, hi, n), data, tune_rows))
        log(data.name, results[-1])
    lazy = run_path_family(
        "LazyAdam (no L1)", ftrlx.LazyAdamClassifier(), "eta0", [1e-3, 1e-2, 3e-2], [], data, tune_rows
    )
    log(data.name, lazy)
    results.append(lazy)
    alphas = grid(1e-8, 1e-2, n)
    results.append(run_sgd_partial(alphas, data, tune_rows))
    log(data.name, results[-1])
    results.append(run_sgd_fit(alphas, data, results[-1]["tuning"]["chosen"]))
    log(data.name, results[-1])
    results += run_peers(data, args, tune_rows, log, results[0]["tuning"]["chosen"])
    return results


def run_peers(data, args, tune_rows, log, ftrl_alpha):
    n, out = args.n_values, []
    if _peers.available("vowpalwabbit"):
        rows = min(data.n_train, args.vw_rows)
        X, y = data.train_rows(rows)
        sub = Data(data.name, [(X, y)], data.X_test, data.y_test, data.note)
        lines = vw_lines(X, y)
        vw_tune = min(rows, tune_rows // 2)
        out.append(
            run_vw("VW --l1 (default learner)", "", "-l", [0.1, 0.5, 2.0], grid(1e-9, 1e-3, n), sub, lines, vw_tune)
        )
        out[-1]["rows"] = rows
        log(data.name, out[-1])
        out.append(
            run_vw(
                "VW --ftrl --l1",
                "--ftrl --ftrl_beta 1 --l2 1",
                "--ftrl_alpha",
                [0.03, 0.1, 0.3],
                grid(1e-2, 1e3, n),
                sub,
                lines,
                vw_tune,
            )
        )
        out[-1]["rows"] = rows
        log(data.name, out[-1])
    else:
        print("[frontier] vowpalwabbit not installed: its rows are skipped", flush=True)
    if _peers.available("river"):
        out.append(run_river(grid(1e-2, 1e3, n), data, ftrl_alpha, min(data.n_train, args.river_rows), args.river_rows))
        log(data.name, out[-1])
    else:
        print("[frontier] river not installed: its rows are skipped", flush=True)
    return out


def parse_args(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="smoke run: fewer rows and values (under a minute)")
    ap.add_argument("--out", type=Path, default=None, help="output folder (default bench/results; --quick: bench/out)")
    ap.add_argument("--only", action="append", default=[], help="data set name (repeatable)")
    ap.add_argument("--n-values", type=int, default=None, help="L1 values per learner (default 10; --quick 8)")
    ap.add_argument("--vw-rows", type=int, default=None, help="training rows for VW (default all; --quick 2000)")
    ap.add_argument("--river-rows", type=int, default=None, help="rows for river (default 50000; --quick 1000)")
    args = ap.parse_args(argv)
    args.out = args.out or BENCH_DIR / ("out" if args.quick else "results")
    args.n_values = args.n_values or (8 if args.quick else 10)
    args.vw_rows = args.vw_rows or (2_000 if args.quick else 10**9)
    args.river_rows = args.river_rows or (1_000 if args.quick else 50_000)
    if args.n_values < 8:
        ap.error("--n-values must be at least 8 (the frontier needs them)")
    return args


def _log(name, result):
    pts = result["points"]
    print(
        f"[frontier] {name:12s} {result['family']:28s} nnz {min(p['n_nonzero'] for p in pts):>9,}.."
        f"{max(p['n_nonzero'] for p in pts):<9,} best held-out log loss {format_value(min_of(pts, 'heldout_logloss'))}",
        flush=True,
    )


def main(argv=None):
    from bench_throughput import machine_info

    args = parse_args(argv)
    start, load_start = time.perf_counter(), [round(v, 2) for v in os.getloadavg()]
    info = machine_info()
    report = {
        "command": "python bench/frontier.py " + " ".join(argv if argv is not None else sys.argv[1:]),
        "machine": f"{info['cpu']}, {info['logical_cpus']} logical CPUs, {info['ram_gib']} GiB; "
        f"ftrlx {info['ftrlx_commit']}",
        "machine_info": info,
        "tolerance": TOLERANCE,
        "load_start": load_start,
        "datasets": [],
    }
    args.out.mkdir(parents=True, exist_ok=True)
    for data in load_datasets(args.quick, set(args.only)):
        results = run_dataset(data, args, _log)
        summary = {m: frontier_summary(results, m) for m in ("progressive_logloss", "heldout_logloss")}
        report["datasets"].append(
            {
                "name": data.name,
                "note": data.note,
                "n_train": data.n_train,
                "n_test": data.X_test.shape[0],
                "n_features": data.n_features,
                "results": results,
                "summary": summary,
            }
        )
        plot_dataset(data.name, data.note, results, args.out / f"frontier_{data.name}.png")
        report["seconds"], report["load_end"] = time.perf_counter() - start, [round(v, 2) for v in os.getloadavg()]
        write_outputs(args.out, report)  # after every data set, so that a long run leaves its part behind
    print(
        f"[frontier] wrote {args.out}/frontier.md, frontier.json and the PNGs in {time.perf_counter() - start:.0f} s",
        flush=True,
    )


if __name__ == "__main__":
    main()
