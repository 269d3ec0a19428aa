"""Single-pass training throughput on synthetic click-through data.

Trains every ftrlx classifier, scikit-learn's SGDClassifier, Vowpal Wabbit,
datatable's Ftrl and river's FTRL-Proximal on the same hashed one-hot click
data (``ftrlx.datasets.make_click_data``: Zipf-distributed categories in 39
fields, a sparse logistic ground truth), first 80% of the rows for training,
the rest for testing, and reports for each learner:

* train rows/s and non-zeros/s of one pass (the peers are credited with the
  same input non-zeros as the hashed CSR would have: rows x fields),
* the speed ratio against ``SGDClassifier.partial_fit`` and against
  datatable ``Ftrl`` on one thread, at the same number of columns,
* the peak resident memory the training pass adds above its input data,
* test log loss, test AUC and the number of non-zero weights,

and, for every ftrlx classifier, the cost per row of ``partial_fit`` on
100-row batches at each number of columns (with the cost of one large
``partial_fit`` over the same rows, to separate per-call overhead from the
kernel).

Each learner runs in its own child process, forked once the data is built:
the child builds the learner's input (not timed), trains a throw-away model on
a few rows (warm-up, not timed), resets the kernel's peak-RSS counter, times
the training pass, then reads the peak again.  Results go to
``bench/results/throughput.{md,json}`` (``--quick``: ``bench/out/``).

    python bench/bench_throughput.py                 # 1,000,000 rows, 2^20 and 2^24 columns
    python bench/bench_throughput.py --quick         # smoke run, seconds
    python bench/bench_throughput.py --rows 200000 --bits 20 --only FTRL --repeat 3
"""

import argparse
import gc
import json
import os
import shlex
import sys
import time
from pathlib import Path
from types import SimpleNamespace

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _peers
from _throughput_learners import (
    BENCH_DIR,
    FTRLX_CLASSIFIERS,
    TEST_FRACTION,
    load_click_data,
    selected,
    throughput_learners,
)
from _throughput_measure import (
    measure_learner,
    run_in_child,
    run_interleaved,
    small_batch_calls,
    summarize_small_batch,
    summarize_throughput,
    time_small_batch,
)
from _throughput_report import add_ratios, check_targets, format_cell, machine_info, write_markdown

# --------------------------------------------------------------------------- main


def parse_args(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rows", type=int, default=1_000_000, help="rows generated (80%% train, 20%% test)")
    ap.add_argument("--bits", type=int, nargs="+", default=[20, 24], help="log2 of the number of hashed columns")
    ap.add_argument(
        "--repeat",
        type=int,
        default=1,
        help="timed runs per learner, each in a fresh child, round-robin over the learners; best kept",
    )
    ap.add_argument(
        "--only",
        action="append",
        default=[],
        metavar="NAME",
        help="run only learners whose name contains NAME (case-insensitive; repeatable)",
    )
    ap.add_argument("--chunk", type=int, default=10_000, help="rows per partial_fit call in the main table")
    ap.add_argument("--batch", type=int, default=100, help="rows per partial_fit call in the small-batch table")
    ap.add_argument("--calls", type=int, default=2_000, help="timed partial_fit calls in the small-batch table")
    ap.add_argument(
        "--sgd-calls",
        type=int,
        default=20,
        help="timed partial_fit calls for the SGDClassifier reference row of the small-batch table",
    )
    ap.add_argument("--no-small-batch", action="store_true", help="skip the small-batch table")
    ap.add_argument("--small-batch-only", action="store_true", help="only the small-batch table")
    ap.add_argument(
        "--vw-parsed-rows",
        type=int,
        default=50_000,
        help="rows for the VW learn-only rows (Examples parsed before timing); 0 skips them",
    )
    ap.add_argument("--profile", action="store_true", help="cProfile the small-batch calls (into the JSON)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--timeout", type=float, default=1800, help="seconds per child before it is killed")
    ap.add_argument(
        "--quick",
        action="store_true",
        help="smoke run: 20,000 rows, 2^16 and 2^18 columns, 50 small-batch calls, output to bench/out/",
    )
    ap.add_argument(
        "--out", type=Path, default=None, help="output path without suffix (default bench/results/throughput)"
    )
    args = ap.parse_args(argv)
    if args.quick:
        args.rows, args.bits, args.calls, args.vw_parsed_rows = 20_000, [16, 18], 50, 3_000
    if args.out is None:
        args.out = BENCH_DIR / ("out/throughput_quick" if args.quick else "results/throughput")
    if args.batch * (args.calls + 1) > args.rows * (1 - TEST_FRACTION):
        ap.error("--batch x (--calls + 1) must not exceed the training rows")
    return args


def main(argv=None):
    # Long on purpose: the benchmark's one sequence (select the learners, build each width's data, run the learners
    # interleaved and print their rows, then the small-batch table and the outputs), whose steps read best in order.
    args = parse_args(argv)
    command = " ".join(
        ["python bench/bench_throughput.py"] + [shlex.quote(a) for a in (sys.argv[1:] if argv is None else argv)]
    )
    learners = [lr for lr in throughput_learners(args) if selected(lr.name, args.only)]
    notes = []
    for lr in learners:
        if not lr.available():
            msg = f"{lr.name}: skipped, `{lr.requires}` is not installed"
            if msg not in notes:
                print("note:", msg, flush=True)
                notes.append(msg)
    learners = [lr for lr in learners if lr.available()]
    if args.small_batch_only:
        learners = []
    small_names = (
        [] if args.no_small_batch else [n for n in FTRLX_CLASSIFIERS + ["SGDClassifier"] if selected(n, args.only)]
    )

    report = {
        "command": command,
        "machine": machine_info(),
        "config": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items() if k != "out"},
        "datasets": {},
        "results": [],
        "small_batch": [],
        "notes": notes,
    }
    report["config"]["out"] = (
        str(args.out.relative_to(BENCH_DIR.parent)) if args.out.is_relative_to(BENCH_DIR.parent) else args.out.name
    )
    report["load_average_start"] = os.getloadavg()
    vw_cache = None
    small_data = {}
    first_bits = args.bits[0]
    for bits in args.bits:
        t0 = time.perf_counter()
        data, info = load_click_data(args.rows, bits, args.seed)
        report["datasets"][str(bits)] = info
        print(
            f"2^{bits}: {info['rows']:,} rows, {info['nnz']:,} non-zeros, generated in {info['generate_s']} s",
            flush=True,
        )
        if any(isinstance(lr, _peers.VWLearner) for lr in learners):
            key = info["sha1_raw"] + info["sha1_labels"]
            if vw_cache is None or vw_cache[0] != key:
                vw_cache = (
                    key,
                    _peers.vw_lines(data.raw_train, data.y_train),
                    _peers.vw_lines(data.raw_test, data.y_test),
                )
            data.vw_train, data.vw_test = vw_cache[1], vw_cache[2]
        todo = [lr for lr in learners if lr.hashed or bits == first_bits]
        runs = run_interleaved(
            {
                lr.name: (lambda rep, lr=lr, data=data: run_in_child(measure_learner, args.timeout, lr, data))
                for lr in todo
            },
            args.repeat,
        )
        for lr in todo:
            row = summarize_throughput(lr, runs[lr.name], data, info)
            report["results"].append(row)
            if "error" in row:
                print(f"  {lr.name:42s} 2^{bits}: ERROR {row['error'].strip().splitlines()[-1]}", flush=True)
            else:
                quality = f"log loss {row['log_loss']:.5f}" if "log_loss" in row else "(speed only)"
                print(
                    f"  {lr.name:42s} 2^{bits}: {row['rows_per_s']:>12,.0f} rows/s  {quality}  "
                    f"peak +{format_cell(row['peak_above_data_mib'], '.1f')} MiB",
                    flush=True,
                )
        if small_names:
            # only the training rows are kept for the small-batch table, which runs once every width is built
            small_data[bits] = SimpleNamespace(bits=bits, X_train=data.X_train, y_train=data.y_train)
        del data
        gc.collect()
        print(f"2^{bits} done in {time.perf_counter() - t0:.0f} s", flush=True)

    # The small-batch table compares widths: one child per learner and round times all of them, interleaved.
    datas = list(small_data.values())
    runs = run_interleaved(
        {
            name: (
                lambda rep, name=name: run_in_child(
                    time_small_batch,
                    args.timeout,
                    name,
                    datas,
                    args.batch,
                    small_batch_calls(name, args),
                    args.profile and rep == args.repeat - 1,
                )
            )
            for name in small_names
        },
        args.repeat,
    )
    for name in small_names:
        for bits, data in small_data.items():
            per_width = [r if "error" in r else dict(r[bits]) for r in runs[name]]
            row = summarize_small_batch(name, per_width, data, args)
            report["small_batch"].append(row)
            if "error" in row:
                print(f"small-batch {name:30s} 2^{bits}: ERROR {row['error'].strip().splitlines()[-1]}", flush=True)
            else:
                print(
                    f"small-batch {name:30s} 2^{bits}: {row['running_small_us_per_row']:.3f} µs/row running, "
                    f"{row['small_us_per_row']:.3f} fresh (one call {row['running_large_us_per_row']:.3f}, "
                    f"{row['large_us_per_row']:.3f})",
                    flush=True,
                )
    small_data.clear()

    report["load_average_end"] = os.getloadavg()
    add_ratios(report["results"])
    report["targets"] = check_targets(report["results"], report["small_batch"])
    args.out.parent.mkdir(parents=True, exist_ok=True)
    json_path, md_path = args.out.with_suffix(".json"), args.out.with_suffix(".md")
    json_path.write_text(json.dumps(report, indent=1, default=float) + "\n")
    write_markdown(md_path, report)
    print(f"wrote {md_path.name} and {json_path.name} in {md_path.parent}")
    for t in report["targets"]:
        where = f" [2^{t['bits']}]" if t["bits"] else ""
        print(f"target: {t['target']}{where}: {t['measured']} -> {'holds' if t['holds'] else 'MISSED'}")


if __name__ == "__main__":
    main()
