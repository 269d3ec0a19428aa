"""The main job, a file in and a model out, against the peers: whole processes, start-up included.

Every job reads the same synthetic click log (``ftrlx.datasets.write_click_data``) and trains one pass of FTRL (or
the peer's learner) on it, in a fresh process, timed by the wall clock from start to exit.  The learners are
interleaved: every repeat runs each job once, in a rotated order, and the tables report medians.

Jobs on the Criteo layout (the same rows, the same 39 fields):

* ``ftrlx train --format criteo FILE.tsv`` (compiled parse and hash, read ahead in a thread, per-row progressive
  validation);
* ``ftrlx train --format vw FILE.vw``: ftrlx reading the Vowpal Wabbit text of the same rows;
* Vowpal Wabbit on that text with its own file parser: ``vowpalwabbit.Workspace("-d FILE.vw --ftrl ...")`` (the pip
  package ships no ``vw`` binary, so this is ``vw -d`` in a Python process);
* datatable ``fread`` + ``Ftrl(nepochs=1, nthreads=1)`` on the TSV (datatable hashes the raw columns itself).

Jobs on the svmlight rows of the same generator (39 hashed columns per row, one-based):

* ``ftrlx train --format svmlight FILE.svm``;
* Vowpal Wabbit ``-d`` on the same rows as VW text (``label |f index:value ...``);
* scikit-learn ``load_svmlight_file`` + ``SGDClassifier(loss="log_loss").partial_fit`` in 100,000-row chunks.

Reported: rows/s, peak RSS of the process, progressive log loss and AUC where the learner reports them (Vowpal
Wabbit's own "average loss"; datatable and scikit-learn report none in one pass), non-zero weights, and the ratios
that the targets are read from.  The in-memory line times ``FTRLClassifier.partial_fit`` on the same rows already
hashed (the speed the pipeline is measured against).

    python bench/bench_pipeline.py                       # 1M and 10M rows, 2^20 and 2^24 bits, 3 repeats
    python bench/bench_pipeline.py --quick --out DIR  # 100k rows, one repeat, a smoke run
"""

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import _peers  # noqa: E402
from _machine import shown_argv  # noqa: E402

P = _peers.FTRL_PARAMS
VW_FTRL = f"--ftrl --ftrl_alpha {P['alpha']} --ftrl_beta {P['beta']} --l1 {P['l1']} --l2 {P['l2']}"
CHUNK = 100_000

VW_JOB = """
import json, sys
from vowpalwabbit import Workspace
ws = Workspace(sys.argv[1])
loss = ws.get_sum_loss() / max(ws.get_weighted_examples(), 1.0)
ws.finish()
print(json.dumps({"progressive_logloss": loss}))
"""

DATATABLE_JOB = """
import json, sys
import datatable as dt
from datatable.models import Ftrl
dt.options.nthreads = 1
frame = dt.fread(sys.argv[1], header=False, sep="\\t")
y = frame[:, 0]
del frame[:, 0]
model = Ftrl(alpha={alpha}, beta={beta}, lambda1={l1}, lambda2={l2}, nbins=2 ** int(sys.argv[2]), nepochs=1)
model.fit(frame, y)
print(json.dumps({{}}))
""".format(**P)

SKLEARN_JOB = f"""
import json, sys
import numpy as np
from sklearn.datasets import load_svmlight_file
from sklearn.linear_model import SGDClassifier
X, y = load_svmlight_file(sys.argv[1])
clf = SGDClassifier(loss="log_loss", random_state=0)
for start in range(0, X.shape[0], {CHUNK}):
    clf.partial_fit(X[start:start + {CHUNK}], y[start:start + {CHUNK}], classes=[0.0, 1.0])
print(json.dumps({{"nnz": int(np.count_nonzero(clf.coef_))}}))
"""


# Starts a job and reports its wall time, peak RSS and exit status on the file descriptor it is given. A child starts as a copy of
# its parent, and its peak RSS counts the parent's memory: a small launcher keeps the bench's own memory (the
# generated inputs, the imported libraries) out of the jobs' figures.
LAUNCHER = """
import os, sys, time
t0 = time.perf_counter()
pid = os.posix_spawn(sys.argv[2], sys.argv[2:], os.environ)
_, status, usage = os.wait4(pid, 0)
os.write(int(sys.argv[1]), f"{time.perf_counter() - t0} {usage.ru_maxrss} {os.waitstatus_to_exitcode(status)}".encode())
"""


def run_process(cmd):
    """Run ``cmd``; return (wall seconds, peak RSS in MB, the JSON object it printed last on stdout)."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        report_r, report_w = os.pipe()
        proc = subprocess.Popen(
            [sys.executable, "-c", LAUNCHER, str(report_w)] + cmd, stdout=out, stderr=err, pass_fds=(report_w,)
        )
        os.close(report_w)
        with os.fdopen(report_r, "rb") as fh:
            report = fh.read().decode().split()
        proc.wait()
        out.seek(0)
        err.seek(0)
        text, errors = out.read().decode(), err.read().decode()
    if proc.returncode != 0 or len(report) != 3 or int(report[2]) != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({report}):\n{errors[-2000:]}")
    lines = [line for line in text.splitlines() if line.startswith("{")]
    return float(report[0]), int(report[1]) / 1024.0, json.loads(lines[-1]) if lines else {}


def ftrlx_cmd(path, fmt, bits, model, history=None):
    cmd = [sys.executable, "-m", "ftrlx", "train", path, "--format", fmt, "--bits", str(bits), "-o", model]
    return cmd + ["--quiet", "--json"] + (["--history", history] if history else [])


def vw_cmd(path, bits):
    args = f"-d {path} --loss_function logistic -b {bits} {VW_FTRL} --quiet"
    return [sys.executable, "-c", VW_JOB, args]


def write_inputs(folder, rows, kinds=("tsv", "vw", "svm", "svm.vw")):
    """The Criteo TSV, its VW text, the svmlight rows and their VW text (those of ``kinds``), each written once."""
    from ftrlx.datasets import write_click_data

    paths = {k: os.path.join(folder, f"clicks_{rows}.{k}") for k in ("tsv", "vw", "svm", "svm.vw")}
    if "tsv" in kinds and not os.path.exists(paths["tsv"]):
        write_click_data(paths["tsv"], rows, seed=1)
    if "vw" in kinds and not os.path.exists(paths["vw"]):
        write_click_data(paths["vw"], rows, format="vw", seed=1)
    if {"svm", "svm.vw"} & set(kinds) and not os.path.exists(paths["svm"]):
        write_click_data(paths["svm"], rows, format="svmlight", seed=1)
    if "svm.vw" in kinds and not os.path.exists(paths["svm.vw"]):
        _svmlight_as_vw(paths["svm"], paths["svm.vw"])
    return paths


def _svmlight_as_vw(src, dst):
    """The svmlight rows as VW text: ``1 |f 12:1 407:1 ...`` (labels 0/1 become -1/1)."""
    with open(src) as fin, open(dst + ".part", "w") as fout:
        for line in fin:
            label, _, rest = line.partition(" ")
            fout.write(("1 |f " if float(label) > 0 else "-1 |f ") + rest)
    os.replace(dst + ".part", dst)


def jobs_for(paths, bits, workdir):
    model = os.path.join(workdir, "model.ftrlx")
    return {
        "ftrlx train --format criteo": ftrlx_cmd(
            paths["tsv"], "criteo", bits, model, os.path.join(workdir, "history.csv")
        ),
        "ftrlx train --format vw": ftrlx_cmd(paths["vw"], "vw", bits, model),
        "VW -d (criteo fields as VW text)": vw_cmd(paths["vw"], bits),
        "datatable fread + Ftrl (1 thread)": [sys.executable, "-c", DATATABLE_JOB, paths["tsv"], str(bits)],
        "ftrlx train --format svmlight": ftrlx_cmd(paths["svm"], "svmlight", bits, model),
        "VW -d (svmlight rows as VW text)": vw_cmd(paths["svm.vw"], bits),
        "sklearn load_svmlight_file + SGD.partial_fit": [sys.executable, "-c", SKLEARN_JOB, paths["svm"]],
    }


def in_memory_rows_per_s(path, bits, repeats):
    """``FTRLClassifier.partial_fit`` on the rows of ``path`` hashed beforehand (not timed), median rows/s.

    Measured in a child process: the rows held in memory would otherwise stay in this process's footprint, and a
    child forked later starts with it (its peak RSS would count the parent's)."""
    _, _, info = run_process([sys.executable, os.path.abspath(__file__), "--in-memory", path, str(bits), str(repeats)])
    return info["rows_per_s"]


def _in_memory(path, bits, repeats):
    import ftrlx
    from ftrlx.datasets import criteo_hasher, iter_criteo

    chunks = list(iter_criteo(path, chunk_size=CHUNK, hasher=criteo_hasher(2**bits)))
    rows = sum(X.shape[0] for X, _ in chunks)
    speeds = []
    for _ in range(repeats):
        est = ftrlx.FTRLClassifier(**P)
        t0 = time.perf_counter()
        for X, y in chunks:
            est.partial_fit(X, y, classes=[0, 1])
        speeds.append(rows / (time.perf_counter() - t0))
    print(json.dumps({"rows_per_s": statistics.median(speeds)}))


def run(args):
    workdir = tempfile.mkdtemp(prefix="bench_pipeline_")
    data_dir = args.data_dir or workdir
    os.makedirs(data_dir, exist_ok=True)
    results = []
    try:
        for rows in args.rows:
            print(f"writing the {rows:,}-row inputs to {data_dir} ...", file=sys.stderr, flush=True)
            few = rows > args.peer_rows_limit
            kinds = ("tsv", "vw") if few else ("tsv", "vw", "svm", "svm.vw")
            # written by a child: the generator's memory would stay in this process, and count in the peak RSS
            # of every job started after it (a child starts as a copy of its parent)
            run_process(
                [sys.executable, os.path.abspath(__file__), "--write-inputs", data_dir, str(rows), ",".join(kinds)]
            )
            paths = write_inputs(data_dir, rows, ())
            for bits in args.bits:
                jobs = _selected(jobs_for(paths, bits, workdir), few, args.jobs)
                timings = {name: [] for name in jobs}
                for r in range(args.repeats):
                    _one_round(jobs, r, rows, bits, workdir, timings)
                memory = None
                if rows <= 1_000_000 and "ftrlx train --format criteo" in jobs:
                    memory = in_memory_rows_per_s(paths["tsv"], bits, args.repeats)
                results.append(_summarise(rows, bits, timings, memory))
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
        if not args.data_dir and os.path.isdir(data_dir):
            shutil.rmtree(data_dir, ignore_errors=True)
    return results


def _selected(jobs, few, wanted):
    if few:  # above --peer-rows-limit only the Criteo jobs run
        jobs = {
            k: v
            for k, v in jobs.items()
            if k.startswith("ftrlx train --format criteo") or k.startswith("VW -d (criteo") or k.startswith("datatable")
        }
    if wanted:
        jobs = {k: v for k, v in jobs.items() if any(w in k for w in wanted)}
    return {k: v for k, v in jobs.items() if _runnable(k)}


def _one_round(jobs, r, rows, bits, workdir, timings):
    """Every job once, the order rotated by ``r``."""
    names = list(jobs)
    for name in names[r % len(names) :] + names[: r % len(names)]:
        seconds, rss, info = run_process(jobs[name])
        if name == "ftrlx train --format criteo":
            info["chunk_seconds"] = chunk_seconds(os.path.join(workdir, "history.csv"))
        timings[name].append((seconds, rss, info))
        print(f"  {rows:>10,} rows 2^{bits} {name:<48} {seconds:7.2f} s  {rss:7.0f} MB", file=sys.stderr, flush=True)


def chunk_seconds(history_csv):
    """Median seconds per chunk of a ``ftrlx train --history`` run, after the first chunk (which also allocates
    the model's state) and without the last one (usually shorter)."""
    import csv

    with open(history_csv, newline="") as fh:
        records = [r for r in csv.DictReader(fh) if r["kind"] == "train"]
    times = [int(r["rows"]) / float(r["rows_per_s"]) for r in records[1:-1] if r["rows_per_s"]]
    return statistics.median(times) if times else None


def _runnable(name):
    if name.startswith("VW"):
        return _peers.available("vowpalwabbit")
    if name.startswith("datatable"):
        return _peers.available("datatable")
    return True


def _summarise(rows, bits, timings, memory):
    out = {"rows": rows, "bits": bits, "jobs": {}, "in_memory_partial_fit_rows_per_s": memory}
    for name, runs in timings.items():
        seconds = statistics.median(s for s, _, _ in runs)
        info = runs[-1][2]
        out["jobs"][name] = {
            "seconds": seconds,
            "all_seconds": [s for s, _, _ in runs],
            "rows_per_s": rows / seconds,
            "peak_rss_mb": statistics.median(m for _, m, _ in runs),
            "progressive_logloss": info.get("progressive_logloss"),
            "progressive_auc": info.get("progressive_auc"),
            "nnz": info.get("nnz"),
            "train_seconds": statistics.median(i["seconds"] for _, _, i in runs)
            if info.get("seconds") is not None
            else None,
            "chunk_seconds": statistics.median(i["chunk_seconds"] for _, _, i in runs)
            if info.get("chunk_seconds") is not None
            else None,
        }
    return out


def ratios(results):
    """The target ratios, per (rows, bits)."""
    lines = []
    for res in results:
        jobs = res["jobs"]

        def ratio(a, b):
            if a in jobs and b in jobs:
                return jobs[b]["seconds"] / jobs[a]["seconds"]
            return None

        entry = {
            "rows": res["rows"],
            "bits": res["bits"],
            "criteo_vs_vw": ratio("ftrlx train --format criteo", "VW -d (criteo fields as VW text)"),
            "criteo_vs_datatable": ratio("ftrlx train --format criteo", "datatable fread + Ftrl (1 thread)"),
            "svmlight_vs_vw": ratio("ftrlx train --format svmlight", "VW -d (svmlight rows as VW text)"),
            "svmlight_vs_sklearn": ratio(
                "ftrlx train --format svmlight", "sklearn load_svmlight_file + SGD.partial_fit"
            ),
        }
        mem = res["in_memory_partial_fit_rows_per_s"]
        crit = jobs.get("ftrlx train --format criteo")
        if mem and crit:
            entry["pipeline_efficiency"] = crit["rows_per_s"] / mem
            if crit["train_seconds"]:
                # file to model inside the process: reading, parsing, hashing, training, metrics (fit_stream)
                entry["pipeline_efficiency_in_process"] = res["rows"] / crit["train_seconds"] / mem
        if mem and crit and crit["chunk_seconds"]:
            # the time per chunk beyond training it (the in-memory kernel on the same rows, same width): reading,
            # parsing, hashing, checks, metrics and Python, what grows with the width if anything per chunk does
            entry["chunk_overhead_seconds"] = overhead(crit, mem)
        entry.update(_across(results, res, crit))
        vw = jobs.get("VW -d (criteo fields as VW text)")
        fv = jobs.get("ftrlx train --format vw")
        if vw and fv and vw["progressive_logloss"] and fv["progressive_logloss"]:
            entry["logloss_vs_vw"] = fv["progressive_logloss"] / vw["progressive_logloss"] - 1.0
        lines.append(entry)
    return lines


def overhead(job, mem):
    """The median seconds per chunk of ``job`` less the in-memory training of a chunk at ``mem`` rows/s."""
    return job["chunk_seconds"] - CHUNK / mem


def _across(results, res, crit):
    """The Criteo job's peak RSS against the smallest file at the same width, its time per chunk (and the part of it
    beyond training, where the in-memory speed is known) against the narrowest width at the same rows."""
    out = {}
    if crit is None:
        return out
    for other in results:
        job = other["jobs"].get("ftrlx train --format criteo")
        if job is None:
            continue
        if (
            other["bits"] == res["bits"]
            and other["rows"] < res["rows"]
            and other["rows"] == min(o["rows"] for o in results if o["bits"] == res["bits"])
        ):
            out["rss_vs_rows"] = (other["rows"], crit["peak_rss_mb"] / job["peak_rss_mb"])
        if (
            other["rows"] == res["rows"]
            and other["bits"] < res["bits"]
            and job["chunk_seconds"]
            and crit["chunk_seconds"]
            and other["bits"] == min(o["bits"] for o in results if o["rows"] == res["rows"])
        ):
            out["chunk_vs_bits"] = (other["bits"], crit["chunk_seconds"] / job["chunk_seconds"])
            mem, mem0 = res["in_memory_partial_fit_rows_per_s"], other["in_memory_partial_fit_rows_per_s"]
            if mem and mem0:
                out["overhead_vs_bits"] = (other["bits"], overhead(crit, mem) / overhead(job, mem0))
    return out


def _fmt(v, spec):
    return "" if v is None else format(v, spec)


def markdown(results, args):
    out = [
        "# The main job: a file in, a model out",
        "",
        f"`python bench/bench_pipeline.py {' '.join(shown_argv(args.argv))}` on {_machine()}; medians of "
        f"{args.repeats} interleaved runs of whole processes (start-up included).",
        "",
    ]
    for res in results:
        out += [
            f"## {res['rows']:,} rows, 2^{res['bits']} hashed columns",
            "",
            "| job | wall s | rows/s | in-process s | s per chunk | peak RSS MB | progressive log loss | "
            "progressive AUC | non-zeros |",
            "|---|---|---|---|---|---|---|---|---|",
        ]
        for name, j in res["jobs"].items():
            out.append(
                f"| {name} | {j['seconds']:.2f} | {j['rows_per_s']:,.0f} | {_fmt(j['train_seconds'], '.2f')} | "
                f"{_fmt(j['chunk_seconds'], '.3f')} | {j['peak_rss_mb']:.0f} | "
                f"{_fmt(j['progressive_logloss'], '.5f')} | {_fmt(j['progressive_auc'], '.5f')} | "
                f"{_fmt(j['nnz'], ',')} |"
            )
        mem = res["in_memory_partial_fit_rows_per_s"]
        if mem:
            out += [
                "",
                f"In-memory `FTRLClassifier.partial_fit` on the same rows, hashed beforehand: {mem:,.0f} rows/s "
                f"({CHUNK / mem:.3f} s per chunk of {CHUNK:,} rows).",
            ]
        out.append("")
    out += [
        "## Ratios",
        "",
        "Speed ratios are peer wall time / ftrlx wall time (above 1: ftrlx is faster). Pipeline / in-memory: "
        "the Criteo job's rows/s over in-memory `partial_fit`'s, with the whole process (start-up included) "
        "and within the process (`fit_stream`: read, parse, hash, train, metrics). RSS vs rows: peak RSS of "
        "the Criteo job over that on the smallest file at the same width; chunk vs bits: its median seconds "
        "per chunk (after the first) over that at the narrowest width; overhead vs bits: the same for the time "
        "per chunk beyond training it (s per chunk less the in-memory `partial_fit` time of a chunk at the same "
        "width: the pipeline's own work per chunk).",
        "",
        "| rows | bits | criteo vs VW | criteo vs datatable | svmlight vs VW | svmlight vs sklearn | "
        "pipeline / in-memory (process) | (in process) | log loss vs VW | RSS vs rows | chunk vs bits | "
        "overhead per chunk s | overhead vs bits |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in ratios(results):
        rss = r.get("rss_vs_rows")
        chunk = r.get("chunk_vs_bits")
        extra = r.get("overhead_vs_bits")
        out.append(
            f"| {r['rows']:,} | {r['bits']} | {_fmt(r['criteo_vs_vw'], '.2f')} | "
            f"{_fmt(r['criteo_vs_datatable'], '.2f')} | {_fmt(r['svmlight_vs_vw'], '.2f')} | "
            f"{_fmt(r['svmlight_vs_sklearn'], '.2f')} | {_fmt(r.get('pipeline_efficiency'), '.0%')} | "
            f"{_fmt(r.get('pipeline_efficiency_in_process'), '.0%')} | "
            f"{_fmt(r.get('logloss_vs_vw'), '+.2%')} | "
            f"{'' if rss is None else f'{rss[1]:.2f} (vs {rss[0]:,})'} | "
            f"{'' if chunk is None else f'{chunk[1]:.2f} (vs 2^{chunk[0]})'} | "
            f"{_fmt(r.get('chunk_overhead_seconds'), '.3f')} | "
            f"{'' if extra is None else f'{extra[1]:.2f} (vs 2^{extra[0]})'} |"
        )
    return "\n".join(out) + "\n"


def _machine():
    return f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--in-memory"]:
        _in_memory(argv[1], int(argv[2]), int(argv[3]))
        return
    if argv[:1] == ["--write-inputs"]:
        write_inputs(argv[1], int(argv[2]), argv[3].split(","))
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--rows",
        type=lambda s: [int(float(v)) for v in s.split(",")],
        default=[1_000_000, 10_000_000],
        help="file sizes, comma-separated (default: 1e6,1e7)",
    )
    parser.add_argument("--bits", type=lambda s: [int(v) for v in s.split(",")], default=[20, 24])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument(
        "--peer-rows-limit",
        type=int,
        default=1_000_000,
        help="above this many rows only the Criteo jobs run (default: 1e6)",
    )
    parser.add_argument("--data-dir", help="keep the generated inputs here (default: a temporary folder)")
    parser.add_argument("--out", default=os.path.join(HERE, "results"), help="folder for pipeline.{json,md}")
    parser.add_argument(
        "--jobs",
        type=lambda s: s.split(","),
        default=None,
        help="run only the jobs whose names contain one of these comma-separated words",
    )
    parser.add_argument("--quick", action="store_true", help="100k rows, 2^20, one repeat (a smoke run)")
    args = parser.parse_args(argv)
    args.argv = argv
    if args.quick:
        args.rows, args.bits, args.repeats = [100_000], [20], 1
    results = run(args)
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "pipeline.json"), "w") as fh:
        json.dump(
            {"machine": _machine(), "argv": shown_argv(argv), "results": results, "ratios": ratios(results)},
            fh,
            indent=1,
        )
    text = markdown(results, args)
    with open(os.path.join(args.out, "pipeline.md"), "w") as fh:
        fh.write(text)
    print(text)


if __name__ == "__main__":
    main()
