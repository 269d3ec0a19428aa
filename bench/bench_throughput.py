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
import hashlib
import json
import multiprocessing as mp
import os
import platform
import shlex
import subprocess
import sys
import time
import traceback
from importlib import metadata
from pathlib import Path
from types import SimpleNamespace

import numpy as np
from sklearn.linear_model import SGDClassifier
from sklearn.metrics import log_loss, roc_auc_score

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _peers

BENCH_DIR = Path(__file__).resolve().parent
N_FIELDS = 39
TEST_FRACTION = 0.2
FTRLX_CLASSIFIERS = [
    "FTRLClassifier",
    "RDAClassifier",
    "FOBOSClassifier",
    "TruncatedGradientClassifier",
    "AdaGradClassifier",
    "LazyAdamClassifier",
    "OGDClassifier",
]
SGD_NAME = "SGDClassifier.partial_fit"
DT1_NAME = "datatable Ftrl (nthreads=1)"


# --------------------------------------------------------------------------- learners


def ftrlx_factory(cls_name, **extra):
    """A zero-argument factory for an ftrlx classifier (FTRL gets the shared hyper-parameters)."""

    def make():
        import ftrlx

        params = dict(_peers.FTRL_PARAMS) if cls_name == "FTRLClassifier" else {}
        return getattr(ftrlx, cls_name)(**params, **extra)

    return make


def sgd_factory(**extra):
    def make():
        return SGDClassifier(loss="log_loss", penalty="l1", random_state=0, **extra)

    return make


def throughput_learners(args):
    """Every learner of the main table, in table order."""
    out = []
    for name in FTRLX_CLASSIFIERS:
        out.append(
            _peers.EstimatorLearner(f"{name}.fit", ftrlx_factory(name, max_iter=1, shuffle=False), "fit", "ftrlx")
        )
        out.append(
            _peers.EstimatorLearner(
                f"{name}.partial_fit", ftrlx_factory(name), "partial_fit", "ftrlx", chunk_rows=args.chunk
            )
        )
    out.append(_peers.EstimatorLearner(SGD_NAME, sgd_factory(), "partial_fit", "scikit-learn", chunk_rows=args.chunk))
    out.append(
        _peers.EstimatorLearner(
            "SGDClassifier.fit", sgd_factory(max_iter=1, tol=None, shuffle=False), "fit", "scikit-learn"
        )
    )
    p = _peers.FTRL_PARAMS
    vw_ftrl = f"--ftrl --ftrl_alpha {p['alpha']} --ftrl_beta {p['beta']} --l1 {p['l1']} --l2 {p['l2']}"
    out.append(_peers.VWLearner("VW default", ""))
    out.append(_peers.VWLearner("VW --ftrl", vw_ftrl))
    if args.vw_parsed_rows:
        out.append(_peers.VWParsedLearner("VW default, learn only (pre-parsed)", "", args.vw_parsed_rows))
        out.append(_peers.VWParsedLearner("VW --ftrl, learn only (pre-parsed)", vw_ftrl, args.vw_parsed_rows))
    out.append(_peers.DatatableFtrlLearner(DT1_NAME, 1))
    out.append(_peers.DatatableFtrlLearner("datatable Ftrl (nthreads=2)", 2))
    out.append(_peers.RiverFtrlLearner("river FTRLProximal"))
    return out


def selected(name, only):
    return not only or any(o.lower() in name.lower() for o in only)


# --------------------------------------------------------------------------- data


def load_click_data(rows, bits, seed):
    """Hashed CSR, labels and raw category ids; first 80% train, rest test."""
    from ftrlx.datasets import make_click_data

    t0 = time.perf_counter()
    X, y, raw = make_click_data(rows, n_fields=N_FIELDS, n_features=2**bits, seed=seed, return_raw=True)
    seconds = time.perf_counter() - t0
    X = X.tocsr()
    y = np.asarray(y)
    n_train = int(round(rows * (1 - TEST_FRACTION)))
    data = SimpleNamespace(
        bits=bits,
        X_train=X[:n_train],
        y_train=y[:n_train],
        X_test=X[n_train:],
        y_test=y[n_train:],
        raw_train=raw[:n_train],
        raw_test=raw[n_train:],
        vw_train=None,
        vw_test=None,
    )
    info = {
        "rows": rows,
        "train_rows": n_train,
        "test_rows": rows - n_train,
        "fields": N_FIELDS,
        "columns": 2**bits,
        "seed": seed,
        "generate_s": round(seconds, 2),
        "nnz": int(X.nnz),
        "train_nnz": int(data.X_train.nnz),
        "nnz_per_row": X.nnz / rows,
        "index_dtype": str(X.indices.dtype),
        "value_dtype": str(X.dtype),
        "positive_rate_train": float(data.y_train.mean()),
        "positive_rate_test": float(data.y_test.mean()),
        "sha1_labels": hashlib.sha1(np.ascontiguousarray(y).tobytes()).hexdigest()[:12],
        "sha1_raw": hashlib.sha1(np.ascontiguousarray(raw).tobytes()).hexdigest()[:12],
    }
    return data, info


# --------------------------------------------------------------------------- memory


def _status(field):
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024.0  # kB -> MiB
    raise KeyError(field)


def release_free_memory():
    """Hand memory that malloc keeps after free() back to the kernel (glibc only)."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


def reset_peak_rss():
    """Reset VmHWM to the current RSS (Linux >= 4.0); returns (RSS MiB, method)."""
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
        return _status("VmRSS"), "clear_refs"
    except OSError:
        # Cannot reset: the increase is measured from the peak so far, which
        # under-reports when the input build peaked above the training pass.
        return _status("VmHWM"), "VmHWM before/after"


# --------------------------------------------------------------------------- children


def _run_in_child(target, timeout, *args):
    """Run ``target(*args)`` in a forked child; its return value or {'error': ...}."""
    ctx = mp.get_context("fork")
    recv, send = ctx.Pipe(duplex=False)

    def child():
        try:
            out = target(*args)
        except BaseException:
            out = {"error": traceback.format_exc(limit=8)}
        send.send(out)
        send.close()

    proc = ctx.Process(target=child)
    proc.start()
    send.close()
    out = None
    if recv.poll(timeout):
        try:
            out = recv.recv()
        except EOFError:
            out = None
    proc.join(10 if out is not None else 0.1)
    if proc.is_alive():
        proc.kill()
        proc.join()
        if out is None:
            out = {"error": f"timed out after {timeout} s"}
    if out is None:
        out = {"error": f"child exited with code {proc.exitcode} and no result"}
    return out


def _measure(learner, data):
    """Child body: prepare, warm up, time the training pass, score on the test rows."""
    inputs = learner.prepare(data)
    learner.warm_up(inputs)
    gc.collect()
    release_free_memory()
    rss_start, method = reset_peak_rss()
    c0, t0 = time.process_time(), time.perf_counter()
    model = learner.train(inputs)
    wall = time.perf_counter() - t0
    cpu = time.process_time() - c0
    peak = _status("VmHWM")
    t0 = time.perf_counter()
    proba = learner.predict_proba(model, inputs)
    predict_s = time.perf_counter() - t0
    out = {
        "train_s": wall,
        "train_cpu_s": cpu,
        "rss_start_mib": rss_start,
        "peak_above_data_mib": max(peak - rss_start, 0.0),
        "peak_method": method,
    }
    if proba is not None:
        y = data.y_test
        out.update(
            predict_s=predict_s, log_loss=float(log_loss(y, proba, labels=[0, 1])), auc=float(roc_auc_score(y, proba))
        )
    n = learner.n_nonzero(model)
    if n is not None:
        out["n_nonzero"] = int(n)
    return out


def summarize_throughput(learner, runs, data, info):
    """One table row from a learner's runs: the fastest run, with every time kept."""
    n_rows = learner.n_rows(info["train_rows"])
    ok = [r for r in runs if "error" not in r]
    row = {
        "learner": learner.name,
        "family": learner.family,
        "bits": data.bits if learner.hashed else None,
        "train_rows": n_rows,
        "setup": learner.describe(),
    }
    if not ok:
        row["error"] = runs[-1]["error"]
        return row
    best = min(ok, key=lambda r: r["train_s"])
    # the CSR learners are credited with the CSR's non-zeros, the others with rows x fields
    nnz = info["train_nnz"] if isinstance(learner, _peers.EstimatorLearner) else n_rows * N_FIELDS
    row.update(best)
    if learner.speed_only:
        row["peak_above_data_mib"] = None
    row.update(
        rows_per_s=n_rows / best["train_s"],
        nnz_per_s=nnz / best["train_s"],
        all_train_s=[r["train_s"] for r in ok],
        repeat=len(ok),
    )
    return row


def _small_batch(cls_name, datas, batch, calls, profile, block=100):
    """Child body: µs/row of ``partial_fit`` on ``batch``-row calls, and of one call over the same rows, at every
    width in ``datas``, each measured twice: on fresh state, and in a running stream (state already trained on
    the other training rows).

    The widths are timed in one process, in turns of ``block`` calls (about 10,000 rows, some 10 ms): the load on
    a shared machine drifts over seconds, and interleaving makes every width see the same load.  Fresh state pays,
    once, for the first write to each page of the state arrays (they are mapped lazily, so the operating system
    zero-fills a page when a row first lands on it); a running stream has paid it already."""
    make = sgd_factory() if cls_name == "SGDClassifier" else ftrlx_factory(cls_name)
    rows = calls * batch
    widths = {}
    for data in datas:
        X, y = data.X_train, data.y_train
        widths[data.bits] = SimpleNamespace(
            batches=[(X[i * batch : (i + 1) * batch], y[i * batch : (i + 1) * batch]) for i in range(calls + 1)],
            X_all=X[batch : batch + rows],
            y_all=y[batch : batch + rows],
            X_rest=X[batch + rows :],
            y_rest=y[batch + rows :],
        )

    warm = make()  # first-call effects, on a throw-away model of narrow width
    for Xb, yb in widths[datas[0].bits].batches[:5]:
        warm.partial_fit(_peers.narrow(Xb), yb, classes=[0, 1])
    del warm
    gc.collect()

    def model(w, running):
        est = make()
        est.partial_fit(*w.batches[0], classes=[0, 1])  # the first call allocates the state: not timed
        if running and w.X_rest.shape[0]:
            est.partial_fit(w.X_rest, w.y_rest)  # the rest of the training rows, not timed
        return est

    out = {bits: {"running_warm_rows": int(w.X_rest.shape[0])} for bits, w in widths.items()}
    order = list(widths)
    for prefix, running in (("", False), ("running_", True)):
        models = {bits: model(w, running) for bits, w in widths.items()}
        small = dict.fromkeys(widths, 0.0)
        gc.collect()
        for turn, first in enumerate(range(1, calls + 1, block)):
            for bits in order if turn % 2 == 0 else order[::-1]:
                est, todo = models[bits], widths[bits].batches[first : first + block]
                t0 = time.perf_counter()
                for Xb, yb in todo:
                    est.partial_fit(Xb, yb)
                small[bits] += time.perf_counter() - t0
        del models
        for bits in order if running else order[::-1]:
            w = widths[bits]
            est = model(w, running)
            gc.collect()
            t0 = time.perf_counter()
            est.partial_fit(w.X_all, w.y_all)
            large = time.perf_counter() - t0
            del est
            out[bits].update(
                {
                    f"{prefix}small_us_per_row": small[bits] / rows * 1e6,
                    f"{prefix}large_us_per_row": large / rows * 1e6,
                    f"{prefix}overhead_us_per_call": (small[bits] - large) / calls * 1e6,
                }
            )
    if profile:
        import cProfile
        import io
        import pstats

        w = widths[order[-1]]
        est = model(w, True)
        prof = cProfile.Profile()
        prof.enable()
        for Xb, yb in w.batches[1:]:
            est.partial_fit(Xb, yb)
        prof.disable()
        buf = io.StringIO()
        pstats.Stats(prof, stream=buf).sort_stats("cumulative").print_stats(30)
        out[order[-1]]["profile_cumulative_top30"] = strip_paths(buf.getvalue())
    return out


SMALL_BATCH_KEYS = [
    f"{p}{k}" for p in ("", "running_") for k in ("small_us_per_row", "large_us_per_row", "overhead_us_per_call")
]


def small_batch_calls(cls_name, args):
    # SGDClassifier.partial_fit costs O(n_features) per call (seconds at 2^24): fewer calls
    return min(args.calls, args.sgd_calls) if cls_name == "SGDClassifier" else args.calls


def strip_paths(text):
    """Profile text with file names relative to site-packages or the repository (no machine paths)."""
    import re
    import sysconfig

    roots = {
        sysconfig.get_paths()["purelib"],
        sysconfig.get_paths()["platlib"],
        str(BENCH_DIR.parent / "src"),
        str(BENCH_DIR.parent),
        sysconfig.get_paths()["stdlib"],
    }
    for root in sorted(roots, key=len, reverse=True):
        text = text.replace(root.rstrip("/") + "/", "")
    return re.sub(r"(?<![\w.])/\S*/", "", text)


def summarize_small_batch(cls_name, runs, data, args):
    bad = [r for r in runs if "error" in r]
    if bad:
        return {"learner": cls_name, "bits": data.bits, "error": bad[0]["error"]}
    # each measurement is the best of the repeats on its own (they are independent timings)
    best = {k: min(r[k] for r in runs) for k in SMALL_BATCH_KEYS}
    profile = next((r["profile_cumulative_top30"] for r in runs if "profile_cumulative_top30" in r), None)
    best.update(
        learner=cls_name,
        bits=data.bits,
        batch_rows=args.batch,
        calls=small_batch_calls(cls_name, args),
        running_warm_rows=runs[0]["running_warm_rows"],
        all_runs={k: [r[k] for r in runs] for k in SMALL_BATCH_KEYS},
    )
    if profile:
        best["profile_cumulative_top30"] = profile
    return best


def run_interleaved(jobs, repeat):
    """``jobs``: {key: zero-argument callable running one child}. Round-robin over the jobs ``repeat`` times,
    so that whatever else loads the machine spreads over all of them alike; a job that fails is not retried."""
    runs = {key: [] for key in jobs}
    for rep in range(repeat):
        for key, job in jobs.items():
            if runs[key] and "error" in runs[key][-1]:
                continue
            runs[key].append(job(rep))
    return runs


# --------------------------------------------------------------------------- machine


def _version(dist):
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return None


def machine_info():
    model = None
    try:
        lscpu = subprocess.run(["lscpu"], capture_output=True, text=True, check=True).stdout
        fields = dict(line.split(":", 1) for line in lscpu.splitlines() if ":" in line)
        fields = {k.strip(): v.strip() for k, v in fields.items()}
        model = fields.get("Model name")
        sockets = int(fields.get("Socket(s)", "1"))
        cores = int(fields.get("Core(s) per socket", "0")) * sockets or None
        threads = int(fields.get("Thread(s) per core", "1"))
        hypervisor = fields.get("Hypervisor vendor")
    except (OSError, subprocess.CalledProcessError, ValueError):
        cores, threads, hypervisor = None, None, None
    mem_kb = None
    with open("/proc/meminfo") as fh:
        for line in fh:
            if line.startswith("MemTotal:"):
                mem_kb = int(line.split()[1])
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=BENCH_DIR, capture_output=True, text=True, check=True
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        commit = None
    import ftrlx

    return {
        "cpu": model,
        "cores": cores,
        "threads_per_core": threads,
        "logical_cpus": os.cpu_count(),
        "hypervisor": hypervisor,
        "ram_gib": round(mem_kb / 2**20, 1) if mem_kb else None,
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "ftrlx": ftrlx.__version__,
        "ftrlx_commit": commit,
        "versions": {
            d: _version(d) for d in ("numpy", "scipy", "scikit-learn", "Cython", "vowpalwabbit", "datatable", "river")
        },
    }


# --------------------------------------------------------------------------- report


def _fmt_int(x):
    return f"{x:,.0f}" if x is not None else "–"


def _fmt(x, spec):
    return format(x, spec) if x is not None else "–"


def add_ratios(rows):
    by = {(r["learner"], r["bits"]): r for r in rows if "error" not in r}
    for r in rows:
        if "error" in r:
            continue
        for key, ref in (("x_sgd_partial_fit", SGD_NAME), ("x_datatable_1thread", DT1_NAME)):
            bits = r["bits"]
            if bits is None:  # unhashed (river): compare with the first width measured
                bits = min((b for (n, b) in by if n == ref and b is not None), default=None)
            base = by.get((ref, bits))
            r[key] = r["rows_per_s"] / base["rows_per_s"] if base else None


def check_targets(rows, small):
    """The issue's targets, each with the measured value and whether it holds."""
    by = {(r["learner"], r["bits"]): r for r in rows if "error" not in r}
    bits_list = sorted({r["bits"] for r in rows if r["bits"] is not None})
    out = []

    def add(target, bits, value, holds):
        out.append({"target": target, "bits": bits, "measured": value, "holds": holds})

    for bits in bits_list:
        ftrl = by.get(("FTRLClassifier.fit", bits))
        dt1, sgd = by.get((DT1_NAME, bits)), by.get((SGD_NAME, bits))
        if ftrl and dt1:
            x = ftrl["rows_per_s"] / dt1["rows_per_s"]
            add("FTRLClassifier.fit rows/s ≥ 1.3× datatable Ftrl (nthreads=1)", bits, f"{x:.2f}×", x >= 1.3)
            d = ftrl["log_loss"] - dt1["log_loss"]
            add("FTRLClassifier test log loss within 0.002 of datatable Ftrl", bits, f"{d:+.5f}", abs(d) <= 0.002)
        for name in FTRLX_CLASSIFIERS:
            r = by.get((f"{name}.fit", bits))
            if r and sgd:
                need = 3.0 if name == "FTRLClassifier" else 2.0
                x = r["rows_per_s"] / sgd["rows_per_s"]
                add(f"{name}.fit rows/s ≥ {need:g}× SGDClassifier.partial_fit", bits, f"{x:.2f}×", x >= need)
    if len(bits_list) >= 2:
        lo, hi = bits_list[0], bits_list[-1]
        sb = {(s["learner"], s["bits"]): s for s in small if "error" not in s}
        for name in FTRLX_CLASSIFIERS:
            a, b = sb.get((name, lo)), sb.get((name, hi))
            if a and b:
                x = b["running_small_us_per_row"] / a["running_small_us_per_row"]
                add(
                    f"{name}.partial_fit, 100-row batches in a running stream: µs/row at 2^{hi} within 20% of 2^{lo}",
                    None,
                    f"{x:.2f}×",
                    abs(x - 1) <= 0.2,
                )
    return out


def write_markdown(path, report):
    m, cfg = report["machine"], report["config"]
    v = m["versions"]
    lines = [
        "# Single-pass training throughput on synthetic click data",
        "",
        f"Command: `{report['command']}`",
        "",
        f"Machine: {m['cpu']}, {m['cores']} cores ({m['logical_cpus']} logical CPUs"
        + (f", {m['hypervisor']} guest" if m.get("hypervisor") else "")
        + f"), {m['ram_gib']} GiB RAM, {m['os']}; "
        f"Python {m['python']}, ftrlx {m['ftrlx']} ({m['ftrlx_commit']}), numpy {v['numpy']}, scipy {v['scipy']}, "
        f"scikit-learn {v['scikit-learn']}, vowpalwabbit {v['vowpalwabbit'] or 'not installed'}, "
        f"datatable {v['datatable'] or 'not installed'}, river {v['river'] or 'not installed'}. "
        "Load average (1, 5, 15 min) at start {:.2f} {:.2f} {:.2f}, at end {:.2f} {:.2f} {:.2f}.".format(
            *report["load_average_start"], *report["load_average_end"]
        ),
        "",
    ]
    for bits, info in report["datasets"].items():
        lines.append(
            f"Data at 2^{bits} columns: `make_click_data({info['rows']}, n_fields={info['fields']}, "
            f"n_features=2**{bits}, seed={info['seed']})`: {info['train_rows']:,} training rows, "
            f"{info['test_rows']:,} test rows, {info['nnz_per_row']:.2f} non-zeros per row, "
            f"{100 * info['positive_rate_train']:.2f}% positives (train), labels sha1 {info['sha1_labels']}."
        )
    lines += [
        "",
        f"One pass over the training rows, each learner in a fresh forked child, after a {_peers.WARM_UP_ROWS}-row "
        f"warm-up on a throw-away model; best of {cfg['repeat']} run(s). nnz/s: non-zeros of the hashed CSR per "
        f"second (peers: rows × {N_FIELDS}). Peak RSS: the increase of the child's peak resident set during the "
        "training pass, above its input data. `.partial_fit` rows: "
        f"{cfg['chunk']:,}-row chunks; `.fit` rows: one epoch (`max_iter=1, shuffle=False`; SGDClassifier also "
        "`tol=None`).",
        "",
    ]
    header = (
        "| learner | bits | train rows/s | nnz/s | × SGD.partial_fit | × datatable 1 thread "
        "| peak RSS above data (MiB) | test log loss | test AUC | non-zero weights |"
    )
    for bits in sorted({r["bits"] for r in report["results"] if r["bits"] is not None}):
        lines += [f"## 2^{bits} columns", "", header, "|" + "---|" * 10]
        for r in report["results"]:
            if r["bits"] != bits and not (r["bits"] is None and bits == int(min(report["datasets"], key=int))):
                continue
            label = "–" if r["bits"] is None else str(r["bits"])
            if "error" in r:
                lines.append(
                    f"| {r['learner']} | {label} | error: {r['error'].strip().splitlines()[-1]} | | | | | | | |"
                )
                continue
            lines.append(
                f"| {r['learner']} | {label} | {_fmt_int(r['rows_per_s'])} | {_fmt_int(r['nnz_per_s'])} "
                f"| {_fmt(r.get('x_sgd_partial_fit'), '.2f')} | {_fmt(r.get('x_datatable_1thread'), '.2f')} "
                f"| {_fmt(r['peak_above_data_mib'], '.1f')} | {_fmt(r.get('log_loss'), '.5f')} "
                f"| {_fmt(r.get('auc'), '.4f')} | {_fmt_int(r.get('n_nonzero'))} |"
            )
        lines.append("")
    if report["small_batch"]:
        bl = sorted({s["bits"] for s in report["small_batch"]})
        lines += [
            f"## partial_fit on {cfg['batch']}-row batches",
            "",
            f"{cfg['calls']:,} timed calls of {cfg['batch']} rows, after one untimed first call (which allocates "
            f"the state); 'one call': a single `partial_fit` over the same {cfg['batch'] * cfg['calls']:,} rows; "
            "overhead = (time of the small calls − time of the one call) / calls. *Running stream*: the model has "
            "first been trained (untimed) on the other training rows, so its state is in memory, as it is for "
            "every call of a long stream but the first few. *Fresh state*: the calls start right after the first "
            "call, and so also pay, once, for the operating system's first write to each page of the state "
            "arrays (zero-filled on first touch). Each number is the best of the repeats. SGDClassifier, for "
            f"reference: {min(cfg['calls'], cfg['sgd_calls'])} calls only, as its `partial_fit` does work "
            "proportional to the number of columns on every call.",
            "",
        ]
        two = len(bl) > 1
        cols = [
            ("running_small_us_per_row", "running stream µs/row", ".3f", True),
            ("small_us_per_row", "fresh state µs/row", ".3f", True),
            ("running_large_us_per_row", "running one call µs/row", ".3f", False),
            ("running_overhead_us_per_call", "running overhead µs/call", ".1f", False),
        ]
        head = ["learner"]
        for _, title, _, with_ratio in cols:
            head += [f"{title} 2^{b}" for b in bl] + ([f"ratio 2^{bl[-1]}/2^{bl[0]}"] if with_ratio and two else [])
        lines += ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        by = {(s["learner"], s["bits"]): s for s in report["small_batch"]}
        for name in dict.fromkeys(s["learner"] for s in report["small_batch"]):
            cells = [by.get((name, b), {}) for b in bl]
            if any("error" in c for c in cells):
                lines.append(f"| {name} | error |" + " |" * (len(head) - 2))
                continue
            row = [name]
            for key, _, fmt, with_ratio in cols:
                row += [_fmt(c.get(key), fmt) for c in cells]
                if with_ratio and two:
                    a, b = cells[0].get(key), cells[-1].get(key)
                    row.append(_fmt(b / a if a and b else None, ".2f"))
            lines.append("| " + " | ".join(row) + " |")
        lines.append("")
    if report["targets"]:
        lines += ["## Targets", "", "| target | bits | measured | holds |", "|---|---|---|---|"]
        for t in report["targets"]:
            lines.append(
                f"| {t['target']} | {t['bits'] if t['bits'] is not None else '–'} | {t['measured']} "
                f"| {'yes' if t['holds'] else '**no**'} |"
            )
        lines.append("")
    if report["notes"]:
        lines += ["## Notes", ""] + [f"* {n}" for n in report["notes"]] + [""]
    Path(path).write_text("\n".join(lines))


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
            {lr.name: (lambda rep, lr=lr, data=data: _run_in_child(_measure, args.timeout, lr, data)) for lr in todo},
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
                    f"peak +{_fmt(row['peak_above_data_mib'], '.1f')} MiB",
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
                lambda rep, name=name: _run_in_child(
                    _small_batch,
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
