"""What a one-pass grid costs: ``ftrlx.path`` against one model and against K separate passes.

    python bench/bench_path.py                 # 1M rows of write_click_data (Criteo layout), K = 8, 3 repeats
    python bench/bench_path.py --quick         # 100k rows, 1 repeat: a smoke run

Jobs, each timed in this process (the file is written once, before the first job), interleaved over the repeats,
medians reported:

* ``read``: read and hash the file, no training (``iter_criteo``);
* ``one``: one model from the file (``fit_stream``);
* ``path_file``: ``ftrlx.path`` with K L1 values from the file, on ``--jobs`` threads;
* ``path_mem``: the same on chunks already in memory, on ``--jobs`` threads and on one thread;
* ``separate_mem``: K separate ``fit_stream`` passes over the chunks in memory;
* ``cli_one`` and ``cli_path``: the same jobs as a user runs them from the shell, whole processes timed from
  start to exit: ``ftrlx train --format criteo FILE -o MODEL`` and the same with ``--l1`` (K values) and
  ``--jobs``, which also writes the frontier (CSV and PNG) and saves the model ``--select`` picks.

The ratios are those of the one-pass grid's targets: path from the file / one model (<= 2.5; in the process,
and as whole commands), path / K separate in-memory passes (<= 0.7).  Results go to bench/results/path.md and
.json (or ``--out``).
"""

import argparse
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np
from _machine import write_results

import ftrlx
from ftrlx.datasets import iter_criteo, write_click_data

HERE = os.path.dirname(os.path.abspath(__file__))
L1_VALUES = [0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0, 20.0]


def template():
    return ftrlx.FTRLClassifier()


def job_read(path, chunks, args):
    return sum(X.shape[0] for X, _ in iter_criteo(path, chunk_size=args.chunk_size))


def job_one(path, chunks, args):
    model = template()
    ftrlx.fit_stream(model, iter_criteo(path, chunk_size=args.chunk_size), progress=False)
    return model.n_nonzero_


def job_path_file(path, chunks, args):
    return ftrlx.path(
        template(), iter_criteo(path, chunk_size=args.chunk_size), l1=L1_VALUES[: args.k], n_jobs=args.jobs
    )


def job_path_mem(path, chunks, args):
    return ftrlx.path(template(), chunks, l1=L1_VALUES[: args.k], n_jobs=args.jobs)


def job_path_mem_1(path, chunks, args):
    return ftrlx.path(template(), chunks, l1=L1_VALUES[: args.k], n_jobs=1)


def job_separate_mem(path, chunks, args):
    for l1 in L1_VALUES[: args.k]:
        ftrlx.fit_stream(template().set_params(l1=l1), chunks, progress=False)


def _command(path, args, *extra):
    model = os.path.join(os.path.dirname(path), "model.ftrlx")
    cmd = [sys.executable, "-m", "ftrlx", "train", path, "--format", "criteo", "-o", model, "--quiet"]
    cmd += ["--chunk-size", str(args.chunk_size), *extra]
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)


def job_cli_one(path, chunks, args):
    _command(path, args)


def job_cli_path(path, chunks, args):
    _command(path, args, "--l1", ",".join(str(v) for v in L1_VALUES[: args.k]), "--jobs", str(args.jobs))


JOBS = {
    "read": job_read,
    "one": job_one,
    "path_file": job_path_file,
    "path_mem": job_path_mem,
    "path_mem_1": job_path_mem_1,
    "separate_mem": job_separate_mem,
    "cli_one": job_cli_one,
    "cli_path": job_cli_path,
}


def check_bitwise(chunks, args):
    """Each model of the path is the configuration trained alone (the promise the timing relies on)."""
    result = ftrlx.path(template(), chunks, l1=L1_VALUES[: args.k], n_jobs=args.jobs)
    for l1, model in zip(L1_VALUES, result.estimators):
        alone = template().set_params(l1=l1)
        ftrlx.fit_stream(alone, chunks, progress=False)
        if not np.array_equal(alone.state_, model.state_):
            raise AssertionError(f"path model l1={l1} differs from the model trained alone")


def run(args):
    tmp = tempfile.mkdtemp(prefix="bench_path_")
    path = os.path.join(tmp, "clicks.tsv")
    write_click_data(path, args.rows, seed=1)
    chunks = [(X, y) for X, y in iter_criteo(path, chunk_size=args.chunk_size)]
    check_bitwise(chunks, args)
    times = {name: [] for name in JOBS}
    loads = []
    for _ in range(args.repeats):
        for name, job in JOBS.items():
            start = time.perf_counter()
            job(path, chunks, args)
            times[name].append(time.perf_counter() - start)
        loads.append(os.getloadavg()[0])
    shutil.rmtree(tmp)
    med = {name: statistics.median(v) for name, v in times.items()}
    return {
        "rows": args.rows,
        "k": args.k,
        "jobs": args.jobs,
        "chunk_size": args.chunk_size,
        "repeats": args.repeats,
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
        "load_average_1min": loads,
        "seconds": times,
        "median_seconds": med,
        "ratios": {
            "path_file / one": med["path_file"] / med["one"],
            "path_file / separate_mem": med["path_file"] / med["separate_mem"],
            "path_mem / separate_mem": med["path_mem"] / med["separate_mem"],
            "path_mem_1 / separate_mem": med["path_mem_1"] / med["separate_mem"],
            "cli_path / cli_one": med["cli_path"] / med["cli_one"],
        },
    }


LABELS = {
    "read": "read and hash the file, no training",
    "one": "one model from the file (`fit_stream`)",
    "path_file": "`ftrlx.path`, K models, from the file",
    "path_mem": "`ftrlx.path`, K models, chunks in memory",
    "path_mem_1": "`ftrlx.path`, K models, chunks in memory, 1 thread",
    "separate_mem": "K separate `fit_stream` passes, chunks in memory",
    "cli_one": "`ftrlx train` one model, whole process",
    "cli_path": "`ftrlx train --l1 ...` K models, frontier and selected model written, whole process",
}


def markdown(report, command):
    lines = [
        f"# One pass for a grid: `ftrlx.path`\n\n`{command}` on {report['machine']}; K = {report['k']} FTRL "
        f"models (L1 {L1_VALUES[: report['k']]}), {report['rows']:,} rows of `write_click_data` (Criteo layout), "
        f"{report['chunk_size']:,}-row chunks, `n_jobs={report['jobs']}`; medians of {report['repeats']} "
        f"interleaved runs; 1-minute load average after each repeat: "
        f"{', '.join(f'{v:.1f}' for v in report['load_average_1min'])}.\n",
        "| job | seconds |",
        "|---|---|",
    ]
    for name, label in LABELS.items():
        lines.append(f"| {label} | {report['median_seconds'][name]:.2f} |")
    lines += ["", "| ratio | value | target |", "|---|---|---|"]
    targets = {
        "path_file / one": "<= 2.5",
        "path_mem / separate_mem": "<= 0.7",
        "path_file / separate_mem": "",
        "path_mem_1 / separate_mem": "",
        "cli_path / cli_one": "<= 2.5",
    }
    for name, value in report["ratios"].items():
        lines.append(f"| {name} | {value:.2f} | {targets[name]} |")
    return "\n".join(lines) + "\n"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--chunk-size", type=int, default=100_000)
    parser.add_argument("--k", type=int, default=8, choices=range(1, len(L1_VALUES) + 1))
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="100k rows, 1 repeat")
    parser.add_argument("--out", default=os.path.join(HERE, "results"))
    args = parser.parse_args(argv)
    if args.quick:
        args.rows, args.repeats, args.chunk_size = 100_000, 1, 20_000
    report = run(args)
    command = "python bench/bench_path.py" + (" --quick" if args.quick else "")
    write_results(args.out, "path", args.quick, report, markdown(report, command))


if __name__ == "__main__":
    main()
