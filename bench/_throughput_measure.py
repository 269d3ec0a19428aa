"""How bench_throughput.py measures: the peak resident memory, a forked child per timed run, the training pass and
the small-batch calls in it, and the interleaved repeats.
"""

import gc
import multiprocessing as mp
import time
import traceback
from types import SimpleNamespace

import _peers
from _throughput_learners import BENCH_DIR, N_FIELDS, ftrlx_factory, sgd_factory
from sklearn.metrics import log_loss, roc_auc_score

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


def run_in_child(target, timeout, *args):
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


def measure_learner(learner, data):
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


def time_small_batch(cls_name, datas, batch, calls, profile, block=100):
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
