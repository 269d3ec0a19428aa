"""Rows that are not canonical at the speed of canonical ones: ``partial_fit`` and shuffled ``fit``.

    python bench/bench_noncanonical.py            # 800k rows of make_click_data (39 fields, 2^20 columns), 7 repeats
    python bench/bench_noncanonical.py --quick    # 100k rows, 1 repeat: a smoke run

CTR code that builds its CSR by hand, field by field from hashed values, hands the learners rows whose columns are
in no order (each field's hash lands anywhere), and a hash collision repeats a column within a row.  The kernels
search such a row for a repeated column as they reach it, train on it in place when there is none, and merge it
in a small buffer when there is; this measures what that costs against the same rows in canonical form
(``X.copy(); X.sum_duplicates()``), which train to the same model (to the rounding of each margin's sum for rows
out of order, whose terms come in another order).  Each case is one
``FTRLClassifier().partial_fit`` over all rows (wall clock of the call, after a warm-up on a throw-away model):

* ``unsorted``: every row of the canonical matrix with its entries in a random order;
* ``repeated, sorted``: the second entry of every row takes the first's column (rows still sorted);
* ``repeated, unsorted``: the same rows, entries in a random order;

and one epoch of ``fit(max_iter=1)`` with ``shuffle=True`` against ``shuffle=False``, with ``n_jobs=1`` and with
``n_jobs=2`` (whose second thread gathers the rows of the shuffled epoch ahead of the training).  The cases are interleaved
over the repeats; medians reported, with the ratios of the targets (non-canonical / canonical <= 1.15, shuffled /
ordered <= 1.30).  Results go to bench/results/noncanonical.md and .json (or ``--out``).
"""

import argparse
import os
import platform
import statistics
import time

import numpy as np
import scipy.sparse as sp
from _machine import cpu_model, write_results

import ftrlx
from ftrlx.datasets import make_click_data

HERE = os.path.dirname(os.path.abspath(__file__))


def permuted_rows(X, rng):
    """X with each row's entries in a random order (the same rows)."""
    n = np.diff(X.indptr)
    keys = np.repeat(np.arange(X.shape[0]), n) + rng.random(X.nnz)  # row first, a random place within it
    order = np.argsort(keys, kind="stable")
    return sp.csr_matrix((X.data[order], X.indices[order], X.indptr.copy()), shape=X.shape)


def repeated_column(X):
    """X with the second entry of every row (of two or more) given the first entry's column."""
    indices = X.indices.copy()
    starts = X.indptr[:-1][np.diff(X.indptr) >= 2]
    indices[starts + 1] = indices[starts]
    return sp.csr_matrix((X.data.copy(), indices, X.indptr.copy()), shape=X.shape)


def summed(X):
    X = X.copy()
    X.sum_duplicates()
    return X


def cases(rows, seed):
    X, y = make_click_data(rows, seed=seed)
    X.sum_duplicates()
    rng = np.random.default_rng(seed)
    repeated = repeated_column(X)
    return y, {
        "canonical": X,
        "unsorted": permuted_rows(X, rng),
        "repeated, sorted": repeated,
        "repeated, unsorted": permuted_rows(repeated, rng),
        "repeated, canonical": summed(repeated),
    }


def partial_fit_seconds(X, y):
    ftrlx.FTRLClassifier().partial_fit(X[:2000], y[:2000], classes=[0, 1])
    model = ftrlx.FTRLClassifier()
    t0 = time.perf_counter()
    model.partial_fit(X, y, classes=[0, 1])
    return time.perf_counter() - t0


def fit_seconds(X, y, shuffle, n_jobs):
    model = ftrlx.FTRLClassifier(max_iter=1, shuffle=shuffle, random_state=0, n_jobs=n_jobs)
    t0 = time.perf_counter()
    model.fit(X, y)
    return time.perf_counter() - t0


def run(args):
    y, data = cases(args.rows, args.seed)
    times = {}
    for _ in range(args.repeats):
        for name, X in data.items():
            times.setdefault(f"partial_fit, {name}", []).append(partial_fit_seconds(X, y))
        for n_jobs in (1, 2):
            for shuffle in (False, True):
                times.setdefault(f"fit, shuffle={shuffle}, n_jobs={n_jobs}", []).append(
                    fit_seconds(data["canonical"], y, shuffle, n_jobs)
                )
    med = {k: statistics.median(v) for k, v in times.items()}
    pf = "partial_fit, "
    return {
        "machine": f"{platform.machine()}, {os.cpu_count()} cores ({cpu_model('unknown CPU')}), Python "
        f"{platform.python_version()}",
        "rows": args.rows,
        "nnz_per_row": round(data["canonical"].nnz / args.rows, 1),
        "repeats": args.repeats,
        "seconds": times,
        "median_seconds": med,
        "ratios": {
            "unsorted / canonical": med[pf + "unsorted"] / med[pf + "canonical"],
            "repeated, sorted / its canonical form": med[pf + "repeated, sorted"] / med[pf + "repeated, canonical"],
            "repeated, unsorted / its canonical form": med[pf + "repeated, unsorted"] / med[pf + "repeated, canonical"],
            "fit shuffle=True / shuffle=False, n_jobs=1": med["fit, shuffle=True, n_jobs=1"]
            / med["fit, shuffle=False, n_jobs=1"],
            "fit shuffle=True / shuffle=False, n_jobs=2": med["fit, shuffle=True, n_jobs=2"]
            / med["fit, shuffle=False, n_jobs=2"],
        },
    }


def markdown(report, command):
    lines = [
        "# Rows that are not canonical\n",
        f"`{command}` on {report['machine']}; {report['rows']:,} rows of `make_click_data` "
        f"({report['nnz_per_row']} non-zeros per row, 2^20 columns), `FTRLClassifier` defaults; wall seconds of "
        f"each call, medians of {report['repeats']} interleaved runs (all runs in the .json).\n",
        "| call | median s | rows/s |",
        "|---|---|---|",
    ]
    for name, value in report["median_seconds"].items():
        lines.append(f"| {name} | {value:.3f} | {report['rows'] / value:,.0f} |")
    lines += ["", "| ratio | value | target |", "|---|---|---|"]
    for name, value in report["ratios"].items():
        lines.append(f"| {name} | {value:.2f} | {'<= 1.30' if name.startswith('fit') else '<= 1.15'} |")
    return "\n".join(lines) + "\n"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=800_000)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--quick", action="store_true", help="100k rows, 1 repeat")
    parser.add_argument("--out", default=os.path.join(HERE, "results"))
    args = parser.parse_args(argv)
    if args.quick:
        args.rows, args.repeats = 100_000, 1
    report = run(args)
    command = "python bench/bench_noncanonical.py" + (" --quick" if args.quick else "")
    write_results(args.out, "noncanonical", args.quick, report, markdown(report, command))


if __name__ == "__main__":
    main()
