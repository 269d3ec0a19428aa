"""The ``--threads`` experiment of bench_scale.py: rows/s and test log loss against threads on one machine.

FTRL, AdaGrad and OGD (ftrlx defaults; OGD at eta0=0.5) with n_jobs = 1, 2 and every core, in the 'hogwild' and 'deterministic'
modes, next to datatable's multi-threaded FTRL (same FTRL hyper-parameters, ``dt.options.nthreads``) on the same
rows, and the one-vs-rest case (4 classes, parallel='outputs').  Two controls frame the hogwild numbers: two
independent FTRL models trained at once, one per thread (what two threads give work that shares nothing: the
machine's own ceiling), and FTRL on rows of as many columns drawn uniformly at random (no column shared by many
rows, labels those of the click rows: its loss means nothing).  Every configuration is run ``repeats`` times,
interleaved (one pass over all configurations, then the next), and the median time is reported.  Each timed run
trains a fresh model with one ``partial_fit`` over the training rows (datatable: one ``fit``, which hashes its
raw columns itself).
"""

import os
import platform
import time
from types import SimpleNamespace

import numpy as np
from _machine import cpu_model
from sklearn.metrics import log_loss

import ftrlx
from ftrlx.datasets import make_click_data

BITS = 20


def machine():
    """What the numbers were measured on, and how busy it was."""
    cpu = cpu_model("unknown")
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "usable_cores": len(os.sched_getaffinity(0)),
        "python": platform.python_version(),
        "load_average": os.getloadavg(),
    }


def _uniform_columns(X, seed=1):
    """X's shape and row lengths, each row's columns drawn uniformly (sorted, repeats summed)."""
    import scipy.sparse as sp

    rng = np.random.default_rng(seed)
    U = sp.csr_matrix((X.data, rng.integers(0, X.shape[1], X.nnz, dtype=X.indices.dtype), X.indptr), shape=X.shape)
    U.sum_duplicates()
    return U


def _data(n_rows):
    X, y, raw = make_click_data(n_rows, n_features=2**BITS, seed=0, return_raw=True)
    cut = int(0.9 * n_rows)
    return SimpleNamespace(
        X_uniform=_uniform_columns(X[:cut]),
        Xt_uniform=_uniform_columns(X[cut:], seed=2),
        X=X[:cut],
        y=y[:cut],
        Xt=X[cut:],
        yt=y[cut:],
        raw_train=raw[:cut],
        raw_test=raw[cut:],
        y_train=y[:cut],
        bits=BITS,
    )


UNIFORM = "FTRLClassifier, random columns"
TWO_MODELS = "FTRLClassifier, two models"

# OGD at the rate the committed results were measured with (its default is now 1.0)
SETTINGS = {"OGDClassifier": {"eta0": 0.5}}


def _configs(cores):
    threads = sorted({1, 2, cores})
    out = []
    for name in ("FTRLClassifier", "AdaGradClassifier", "OGDClassifier"):
        out.append((name, 1, "serial"))
        out += [(name, n, mode) for n in threads if n > 1 for mode in ("hogwild", "deterministic")]
    out += [
        (UNIFORM, 1, "serial"),
        (UNIFORM, 2, "hogwild"),
        (TWO_MODELS, 1, "serial"),
        (TWO_MODELS, 2, "a model per thread"),
    ]
    out += [("datatable Ftrl", n, "hogwild (datatable)") for n in threads]
    out += [("FTRLClassifier, 4 classes", n, "outputs") for n in (1, 2)]
    return out


def _four_classes(y):
    # two classes among the clicks, two among the rest: every class a real learning problem
    return np.where(y == 1, np.arange(len(y)) % 2, 2 + np.arange(len(y)) % 2)


def _run_two(n_threads, data):
    """Two fresh FTRL models, each trained on every row: one after the other, or at once on two threads."""
    from concurrent.futures import ThreadPoolExecutor

    models = [ftrlx.FTRLClassifier(), ftrlx.FTRLClassifier()]
    start = time.perf_counter()
    with ThreadPoolExecutor(n_threads) as pool:
        list(pool.map(lambda est: est.partial_fit(data.X, data.y, classes=[0, 1]), models))
    # the rows/s of the table count each model's rows: half the time per model
    seconds = (time.perf_counter() - start) / 2
    return seconds, log_loss(data.yt, models[0].predict_proba(data.Xt)[:, 1]), None


def _run_ftrlx(cfg, data):
    name, n_jobs, mode = cfg
    if name == TWO_MODELS:
        return _run_two(n_jobs, data)
    if name == UNIFORM:
        data = SimpleNamespace(**{**vars(data), "X": data.X_uniform, "Xt": data.Xt_uniform})
    parallel = "outputs" if mode in ("serial", "outputs") else mode
    est = getattr(ftrlx, name.split(",")[0])(n_jobs=n_jobs, parallel=parallel, **SETTINGS.get(name, {}))
    ovr = name.endswith("classes")
    y, classes = (_four_classes(data.y), [0, 1, 2, 3]) if ovr else (data.y, [0, 1])
    start = time.perf_counter()
    est.partial_fit(data.X, y, classes=classes)
    seconds = time.perf_counter() - start
    if ovr:
        return seconds, log_loss(_four_classes(data.yt), est.predict_proba(data.Xt), labels=classes), est
    return seconds, log_loss(data.yt, est.predict_proba(data.Xt)[:, 1]), est


def _run_datatable(cfg, data, inputs):
    from _peers import DatatableFtrlLearner

    learner = DatatableFtrlLearner("datatable", cfg[1])
    key = ("dt", cfg[1])
    if key not in inputs:
        inputs[key] = learner.prepare(data)  # sets dt.options.nthreads
        learner.warm_up(inputs[key])
    import datatable as dt

    dt.options.nthreads = cfg[1]
    start = time.perf_counter()
    model = learner.train(inputs[key])
    seconds = time.perf_counter() - start
    return seconds, log_loss(data.yt, learner.predict_proba(model, inputs[key])), None


def experiment_threads(n_rows=1_000_000, repeats=3):
    """Threads on one machine: rows/s and test log loss against n_jobs (interleaved runs, medians)."""
    data = _data(n_rows)
    cores = len(os.sched_getaffinity(0))
    configs = _configs(cores)
    have_dt = _available("datatable")
    if not have_dt:
        configs = [c for c in configs if not c[0].startswith("datatable")]
    before = os.getloadavg()
    times, losses, models, inputs = {}, {}, {}, {}
    _run_ftrlx(
        ("FTRLClassifier", 1, "serial"), SimpleNamespace(**{**vars(data), "X": data.X[:2000], "y": data.y[:2000]})
    )  # warm-up
    for _ in range(repeats):
        for cfg in configs:
            out = _run_datatable(cfg, data, inputs) if cfg[0].startswith("datatable") else _run_ftrlx(cfg, data)
            times.setdefault(cfg, []).append(out[0])
            losses.setdefault(cfg, []).append(out[1])
            models.setdefault(cfg, []).append(out[2])
    rows = _rows(configs, times, losses, models, data.X.shape[0])
    for row in rows:
        print(row, flush=True)
    return rows, {
        "machine": {**machine(), "load_average_before": before, "load_average_after": os.getloadavg()},
        "rows": n_rows,
        "bits": BITS,
        "repeats": repeats,
    }


def _available(module):
    import importlib.util

    return importlib.util.find_spec(module) is not None


def _same_bits(models):
    models = [m for m in models if m is not None]
    return all(
        np.array_equal(m.state_, models[0].state_) and np.array_equal(m.istate_, models[0].istate_) for m in models[1:]
    )


def _rows(configs, times, losses, models, n_train):
    rows = []
    for cfg in configs:
        name, n, mode = cfg
        base = next(c for c in configs if c[0] == name and c[1] == 1)
        seconds = float(np.median(times[cfg]))
        row = {
            "model": name,
            "threads": n,
            "mode": mode,
            "rows_per_s": n_train / seconds,
            "speedup": float(np.median(times[base])) / seconds,
            "loss": float(np.median(losses[cfg])),
            "loss_vs_1": float(np.median(losses[cfg]) - np.median(losses[base])),
        }
        if mode in ("deterministic", "outputs") and name not in ("datatable Ftrl", TWO_MODELS):
            row["bitwise_repeats"] = "yes" if _same_bits(models[cfg]) else "no"
        if mode == "outputs" and n > 1:
            row["bitwise_vs_1"] = "yes" if _same_bits(models[cfg] + models[base]) else "no"
        rows.append(row)
    return rows


COLUMNS = ["model", "threads", "mode", "rows_per_s", "speedup", "loss", "loss_vs_1", "bitwise_repeats", "bitwise_vs_1"]


def cell(column, value):
    if isinstance(value, float):
        if column == "rows_per_s":
            return f"{value:,.0f}"
        if column == "speedup":
            return f"{value:.2f}x"
        return f"{value:+.4f}" if column == "loss_vs_1" else f"{value:.4f}"
    return str(value)


def write(rows, meta, path_base, md_table):
    """The .json and .md results; ``md_table(rows, columns, cell)`` draws the table."""
    import json

    with open(path_base + ".json", "w") as fh:
        json.dump({**meta, "results": rows}, fh, indent=1)
    m = meta["machine"]
    text = [
        f"# Threads on one machine ({meta['rows']:,} rows of make_click_data, 2^{meta['bits']} columns, "
        "90% train / 10% test)\n",
        f"Regenerate with `python bench/bench_scale.py --threads` (`--ten-million` for 10M rows). Machine: "
        f"{m['cpu']}, {m['usable_cores']} usable cores, Python {m['python']}; load average "
        f"{', '.join(f'{v:.2f}' for v in m['load_average_before'])} before and "
        f"{', '.join(f'{v:.2f}' for v in m['load_average_after'])} after the run.  Medians of "
        f"{meta['repeats']} interleaved runs; `speedup` and `loss_vs_1` are against the same model on one "
        "thread (for datatable: datatable on one thread); `bitwise_repeats`: every repeat gave the same "
        "bits; `bitwise_vs_1`: the same bits as n_jobs=1.\n",
        (__doc__.split("\n\n", 1)[1]).strip() + "\n",
        md_table(rows, COLUMNS, cell) + "\n",
    ]
    with open(path_base + ".md", "w") as fh:
        fh.write("\n".join(text))
