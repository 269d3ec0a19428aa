"""Scaling out: how iterative parameter mixing (ftrlx.dask) trades accuracy and traffic for workers.

    python bench/bench_scale.py --simulate            # 1M rows of make_click_data, 2^18 columns
    python bench/bench_scale.py --simulate --quick    # 100k rows, for a look in under a minute or two
    python bench/bench_scale.py --threads             # threads on this machine: 1M rows (--ten-million: 10M)

``--simulate`` runs W = 1..64 virtual workers in this process with the combine code of ftrlx.dask (each round
every virtual worker trains on its next block of rows, then the combine step), and reports the test log loss
against W and against the number of rounds, next to one process trained on the same rows in order, with the
bytes a round moves.  It then times the real Dask run (a LocalCluster of 1 and 2 worker processes) on the same
rows.  Results go to scale_simulation.md and .json in ``--out`` (bench/results by default).  Each experiment is one function returning a
list of table rows; add new ones the same way and list them in EXPERIMENTS.

``--threads`` (bench/_threads_bench.py) measures n_jobs on this machine: rows/s and test log loss of FTRL,
AdaGrad and OGD against 1, 2 and all cores (hogwild and deterministic), datatable's multi-threaded FTRL and the
one-vs-rest case, interleaved runs, medians; results go to scale_threads.md and .json in ``--out`` (``_10m`` and
``_quick`` for those sizes).
"""

import argparse
import copy
import json
import os
import time

import numpy as np
from sklearn.metrics import log_loss

import ftrlx
import ftrlx.dask as fdask
from ftrlx.datasets import make_click_data

HERE = os.path.dirname(os.path.abspath(__file__))
N_FEATURES = 2**18
WORKERS = (1, 2, 4, 8, 16, 32, 64)
MODES = ("delta", "average", "weights")


def load_data(n_rows):
    """Train on the first 90% of the rows, test on the last 10%."""
    X, y = make_click_data(n_rows, n_features=N_FEATURES, seed=0)
    cut = int(0.9 * n_rows)
    return {"X": X[:cut], "y": y[:cut], "Xt": X[cut:], "yt": y[cut:]}


def test_loss(est, data):
    return float(log_loss(data["yt"], est.predict_proba(data["Xt"])[:, 1]))


def single_process(est, data):
    return copy.deepcopy(est).partial_fit(data["X"], data["y"], classes=[0, 1])


def schedule(data, n_workers, n_rounds):
    """Consecutive blocks: in round r virtual worker w trains on block r * n_workers + w."""
    X, y = data["X"], data["y"]
    n = X.shape[0] // (n_workers * n_rounds)
    return [
        [
            [
                (
                    X[(r * n_workers + w) * n : (r * n_workers + w + 1) * n],
                    y[(r * n_workers + w) * n : (r * n_workers + w + 1) * n],
                )
            ]
            for w in range(n_workers)
        ]
        for r in range(n_rounds)
    ]


def mix(est, data, n_workers, n_rounds, mode):
    """One simulated run: test loss, and per round the touched columns, the bytes moved and the combine time."""
    est = copy.deepcopy(est)
    n_slots = len(est._merge_kinds()[0])
    tally = {"up": [], "down": [], "union": []}

    def on_round(r, master, messages, update):
        touched = sum(m.idx.size for m in messages)
        tally["up"].append(touched * (n_slots * 8 + 8))  # (index, slots) per touched column of each worker
        tally["union"].append(update.idx.size)
        tally["down"].append(n_workers * fdask.update_nbytes(update))

    start = time.perf_counter()
    fdask.mix_in_process(est, schedule(data, n_workers, n_rounds), classes=[0, 1], combine=mode, on_round=on_round)
    seconds = time.perf_counter() - start
    return {
        "loss": test_loss(est, data),
        "seconds": seconds,
        "union_per_round": float(np.mean(tally["union"])),
        "bytes_up_per_round": float(np.mean(tally["up"])),
        "bytes_down_per_round": float(np.mean(tally["down"])),
    }


def gap(loss, reference):
    return 100.0 * (loss / reference - 1.0)


def _modes_row(est, data, n_workers, n_rounds, ref, delta_details=False):
    """One table row: every combine mode's test log loss and gap at ``n_workers`` x ``n_rounds``; printed."""
    row = {"workers": n_workers, "rounds": n_rounds, "rows_per_round": data["X"].shape[0] // n_rounds, "single": ref}
    for mode in MODES:
        out = mix(est, data, n_workers, n_rounds, mode)
        row[mode] = out["loss"]
        row[f"{mode}_gap_%"] = gap(out["loss"], ref)
        if delta_details and mode == "delta":
            row.update(
                union=out["union_per_round"],
                up=out["bytes_up_per_round"],
                down=out["bytes_down_per_round"],
                seconds=out["seconds"],
            )
    print(row, flush=True)
    return row


def experiment_workers(data, n_rounds=100):
    """FTRL: test log loss against the number of workers at a fixed number of rounds, each combine mode."""
    est = ftrlx.FTRLClassifier()
    ref = test_loss(single_process(est, data), data)
    return [_modes_row(est, data, W, n_rounds, ref, delta_details=True) for W in WORKERS]


def experiment_rounds(data, n_workers=8, rounds=(5, 10, 25, 50, 100, 200, 400)):
    """FTRL at a fixed number of workers: test log loss against the number of mixing rounds."""
    est = ftrlx.FTRLClassifier()
    ref = test_loss(single_process(est, data), data)
    return [_modes_row(est, data, n_workers, R, ref) for R in rounds]


def experiment_algorithms(data, n_workers=8, n_rounds=100):
    """Every classifier: delta against average, and what 'auto' picks."""
    # the global-rate learners at the rates the committed results were measured with (written out, so that a
    # change of defaults does not change what the table means)
    models = [
        ftrlx.FTRLClassifier(),
        ftrlx.RDAClassifier(gamma=1.0),
        ftrlx.FOBOSClassifier(eta0=0.5, l2=1e-4),
        ftrlx.TruncatedGradientClassifier(eta0=0.5, period=1),
        ftrlx.AdaGradClassifier(l1=1e-5, l2=1e-5),
        ftrlx.LazyAdamClassifier(),
        ftrlx.OGDClassifier(eta0=0.5),
        ftrlx.OGDClassifier(eta0=0.5, l1=1e-6),
    ]
    rows = []
    for est in models:
        ref = test_loss(single_process(est, data), data)
        row = {"estimator": repr(est), "single": ref, "auto": fdask.resolve_combine(est, "auto")}
        for mode in ("delta", "average"):
            row[f"{mode}_gap_%"] = gap(mix(est, data, n_workers, n_rounds, mode)["loss"], ref)
        rows.append(row)
        print(row, flush=True)
    return rows


def _dask_run(data, n_workers, n_blocks, repeats):
    import dask.bag as db
    from dask.distributed import Client, LocalCluster

    X, y = data["X"], data["y"]
    n = X.shape[0] // n_blocks
    with (
        LocalCluster(n_workers=n_workers, processes=True, threads_per_worker=1, dashboard_address=":0") as cluster,
        Client(cluster) as client,
    ):
        pieces = client.scatter([[(X[i * n : (i + 1) * n], y[i * n : (i + 1) * n])] for i in range(n_blocks)])
        times, est = [], None
        for _ in range(repeats):
            start = time.perf_counter()
            est = fdask.fit(ftrlx.FTRLClassifier(), db.from_delayed(pieces), client=client, classes=[0, 1])
            times.append(time.perf_counter() - start)
        del pieces
    return float(np.median(times)), est, n * n_blocks


def experiment_dask(data, n_blocks=50, repeats=3):
    """The real thing: a LocalCluster of 1 and 2 worker processes (one thread each) on the same rows."""
    rows = []
    single = ftrlx.FTRLClassifier()
    start = time.perf_counter()
    single.partial_fit(data["X"], data["y"], classes=[0, 1])
    rows.append(
        {
            "run": "one process, partial_fit",
            "rows_per_s": data["X"].shape[0] / (time.perf_counter() - start),
            "loss": test_loss(single, data),
            "rounds": 0,
        }
    )
    for W in (1, 2):
        seconds, est, n_rows = _dask_run(data, W, n_blocks, repeats)
        rows.append(
            {
                "run": f"ftrlx.dask, {W} worker(s)",
                "rows_per_s": n_rows / seconds,
                "loss": test_loss(est, data),
                "rounds": n_blocks // W,
            }
        )
        print(rows[-1], flush=True)
    return rows


EXPERIMENTS = {
    "workers": experiment_workers,
    "rounds": experiment_rounds,
    "algorithms": experiment_algorithms,
    "dask": experiment_dask,
}


def _cell(column, value):
    if not isinstance(value, float):
        return str(value)
    if column.endswith("%"):
        return f"{value:+.2f}"
    if column in ("single", "delta", "loss"):
        return f"{value:.4f}"
    return f"{value:,.0f}"


def _md_table(rows, columns, cell=_cell):
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(cell(c, r.get(c, "")) for c in columns) + " |" for r in rows]
    return "\n".join(lines)


def write_results(results, n_rows, path_base):
    with open(path_base + ".json", "w") as fh:
        json.dump({"rows": n_rows, "n_features": N_FEATURES, "results": results}, fh, indent=1)
    cols = {
        "workers": [
            "workers",
            "rows_per_round",
            "single",
            "delta",
            "delta_gap_%",
            "average_gap_%",
            "weights_gap_%",
            "union",
            "up",
            "down",
        ],
        "rounds": ["workers", "rounds", "rows_per_round", "single", "delta_gap_%", "average_gap_%", "weights_gap_%"],
        "algorithms": ["estimator", "single", "auto", "delta_gap_%", "average_gap_%"],
        "dask": ["run", "rounds", "rows_per_s", "loss"],
    }
    parts = [
        f"# Scale-out simulation ({n_rows:,} rows of make_click_data, 2^18 columns, 90% train / 10% test)\n",
        "Regenerate with `python bench/bench_scale.py --simulate`. Losses are test log losses; `*_gap_%` is the "
        "gap to one process trained on the same rows in order; `union` is the columns touched in a round, "
        "`up`/`down` the bytes a round gathers from the workers and broadcasts back (indices and float64 "
        "slots).\n",
    ]
    for name, rows in results.items():
        parts.append(f"## {name}\n\n{EXPERIMENTS[name].__doc__.strip()}\n\n{_md_table(rows, cols[name])}\n")
    with open(path_base + ".md", "w") as fh:
        fh.write("\n".join(parts))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--simulate", action="store_true", help="run the virtual-worker experiments")
    parser.add_argument("--threads", action="store_true", help="run the threads-on-one-machine experiment")
    parser.add_argument("--ten-million", action="store_true", help="--threads on 10M rows instead of 1M")
    parser.add_argument("--repeats", type=int, default=3, help="--threads: interleaved runs per configuration")
    parser.add_argument("--quick", action="store_true", help="100k rows instead of 1M")
    parser.add_argument("--only", nargs="*", choices=sorted(EXPERIMENTS), help="run these experiments only")
    parser.add_argument(
        "--out",
        default=os.path.join(HERE, "results"),
        help="folder for scale_simulation.{md,json} and scale_threads*.{md,json} (default: bench/results)",
    )
    args = parser.parse_args(argv)
    if not (args.simulate or args.threads):
        parser.error("nothing to do: pass --simulate or --threads")
    if args.threads:
        import _threads_bench

        n_rows = 100_000 if args.quick else 10_000_000 if args.ten_million else 1_000_000
        rows, meta = _threads_bench.experiment_threads(n_rows, args.repeats)
        suffix = "_10m" if args.ten_million else "_quick" if args.quick else ""
        os.makedirs(args.out, exist_ok=True)
        _threads_bench.write(rows, meta, os.path.join(args.out, "scale_threads" + suffix), _md_table)
        if not args.simulate:
            return
    n_rows = 100_000 if args.quick else 1_000_000
    data = load_data(n_rows)
    results = {name: EXPERIMENTS[name](data) for name in (args.only or EXPERIMENTS)}
    os.makedirs(args.out, exist_ok=True)
    write_results(results, n_rows, os.path.join(args.out, "scale_simulation"))


if __name__ == "__main__":
    main()
