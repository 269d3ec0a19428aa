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
import json
import math
import os
import re
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import scipy.sparse as sp
from scipy.special import expit

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _peers  # noqa: E402

BENCH_DIR = Path(__file__).resolve().parent
REPO = BENCH_DIR.parent
TOLERANCE = 0.01  # "equal accuracy": within 1% of the best log loss (see frontier_summary)


# --------------------------------------------------------------------------- data


class Data:
    """Training chunks and a held-out split on one set of (hashed) columns."""

    def __init__(self, name, chunks, X_test, y_test, note):
        self.name, self.chunks, self.note = name, chunks, note
        self.X_test, self.y_test = X_test.tocsr(), np.asarray(y_test, dtype=np.float64)
        self.n_features = X_test.shape[1]
        self.n_train = sum(X.shape[0] for X, _ in chunks)

    def train_rows(self, limit=None):
        """The first ``limit`` training rows as one CSR matrix and labels."""
        X = sp.vstack([X for X, _ in self.chunks], format="csr")
        y = np.concatenate([y for _, y in self.chunks])
        return (X, y) if limit is None else (X[:limit], y[:limit])


def data_dir():
    return Path(os.environ.get("FTRLX_DATA", REPO.parent / "shared" / "datasets"))


def rechunk(X, y, rows):
    return [(X[i : i + rows], y[i : i + rows]) for i in range(0, X.shape[0], rows)]


def _read_all(reader, limit=None):
    Xs, ys = [], []
    for X, y in reader:
        Xs.append(X)
        ys.append(y)
    X, y = sp.vstack(Xs, format="csr"), np.concatenate(ys)
    return (X, y) if limit is None else (X[:limit], y[:limit])


def _split(name, X, y, chunk, note, test_fraction=0.2):
    cut = int(round(X.shape[0] * (1 - test_fraction)))
    return Data(name, rechunk(X[:cut], y[:cut], chunk), X[cut:], y[cut:], note)


def load_click(quick):
    from ftrlx.datasets import make_click_data

    rows, bits = (10_000, 15) if quick else (1_000_000, 20)
    X, y = make_click_data(n_samples=rows, n_features=2**bits, seed=0)
    return _split(
        "click",
        X,
        y,
        10_000 if not quick else 1_000,
        f"make_click_data({rows:,} rows, 2^{bits} columns, seed 0); held out: the last 20%",
    )


def load_criteo(root, limit):
    from ftrlx.datasets import iter_criteo

    d = root / "criteo_kaggle_head8k"
    X, y = _read_all(iter_criteo(d / "train.tsv.gz", chunk_size=1_000), limit)
    Xt, yt = _read_all(iter_criteo(d / "test.tsv.gz", chunk_size=1_000))
    return Data(
        "criteo",
        rechunk(X, y, 500),
        Xt,
        yt,
        "Criteo Kaggle sample, criteo_hasher() (2^20 columns); held out: test.tsv.gz (391 rows)",
    )


def load_talkingdata(root, limit):
    from ftrlx.datasets import iter_csv

    path = root / "talkingdata_adtracking_sample" / "train_sample.csv.gz"
    X, y = _read_all(iter_csv(path, label="is_attributed", categorical=["ip", "app", "device", "os", "channel"]), limit)
    return _split(
        "talkingdata",
        X,
        y,
        1_000,
        "TalkingData train_sample (5 categorical ids hashed, 2^20 columns); "
        "held out: the last 20% (the sample is in random order)",
    )


def load_svm(root, name, limit):
    from ftrlx.datasets import iter_svmlight

    spec = {
        "a9a": ("libsvm_a9a", "a9a.gz", "a9a.t.gz", 123),
        "w8a": ("libsvm_w8a", "w8a.gz", None, 300),
        "rcv1": ("rcv1_vw_small", "rcv1_small.train.svm.gz", "rcv1_small.test.svm.gz", 47_237),
    }[name]
    folder, train, test, width = spec
    read = lambda f: _read_all(iter_svmlight(root / folder / f, n_features=width, zero_based=False))  # noqa: E731
    X, y = read(train)
    if test is None:
        # w8a's file is grouped by label in places: shuffle once (seeded) before the 80/20 split
        order = np.random.default_rng(0).permutation(X.shape[0])
        X, y = X[order], y[order]
        X, y = X[:limit], y[:limit]
        return _split(name, X, y, 500, f"{train}, {width} columns, seeded shuffle; held out: the last 20%")
    Xt, yt = read(test)
    X, y = X[:limit], y[:limit]
    return Data(name, rechunk(X, y, 500), Xt, yt, f"{train}, {width} columns; held out: {test}")


def load_datasets(quick, only):
    root, limit = data_dir(), (3_000 if quick else None)
    loaders = [
        ("click", lambda: load_click(quick)),
        ("criteo", lambda: load_criteo(root, limit)),
        ("talkingdata", lambda: load_talkingdata(root, limit and 20_000)),
    ]  # 0.23% positives
    loaders += [(n, (lambda n=n: load_svm(root, n, limit))) for n in ("a9a", "w8a", "rcv1")]
    for name, load in loaders:
        if only and name not in only:
            continue
        try:
            data = load()
        except FileNotFoundError as exc:
            print(f"[frontier] skipping {name}: {exc.filename or exc} not found (set FTRLX_DATA)", flush=True)
            continue
        except Exception as exc:  # noqa: BLE001 - a reader that fails skips its data set, with the reason
            print(f"[frontier] skipping {name}: reading it failed: {type(exc).__name__}: {exc}", flush=True)
            continue
        yield data


# --------------------------------------------------------------------------- learners


def grid(lo, hi, n):
    return [float(v) for v in np.logspace(math.log10(lo), math.log10(hi), n)]


# family -> (estimator factory, learning-rate parameter, candidates, L1 range (lo, hi))
def ftrlx_specs():
    import ftrlx

    return {
        "FTRL": (lambda: ftrlx.FTRLClassifier(), "alpha", [0.03, 0.1, 0.3], (1e-2, 1e3)),
        "RDA": (lambda: ftrlx.RDAClassifier(), "gamma", [0.3, 1.0, 3.0], (1e-6, 1e-1)),
        "RDA enhanced (rho=0.005)": (lambda: ftrlx.RDAClassifier(rho=0.005), "gamma", [0.3, 1.0, 3.0], (1e-6, 1e-1)),
        "FOBOS": (lambda: ftrlx.FOBOSClassifier(), "eta0", [0.1, 0.5, 2.0], (1e-8, 1e-2)),
        # period=1, as the committed results were measured (the default is now 10)
        "TruncatedGradient": (
            lambda: ftrlx.TruncatedGradientClassifier(period=1),
            "eta0",
            [0.1, 0.5, 2.0],
            (1e-8, 1e-2),
        ),
        "AdaGrad (FOBOS L1)": (
            lambda: ftrlx.AdaGradClassifier(l1_form="fobos"),
            "eta0",
            [0.03, 0.1, 0.3],
            (1e-6, 1e-1),
        ),
        "AdaGrad (RDA L1)": (lambda: ftrlx.AdaGradClassifier(l1_form="rda"), "eta0", [0.03, 0.1, 0.3], (1e-6, 1e-1)),
        "OGD": (lambda: ftrlx.OGDClassifier(), "eta0", [0.1, 0.5, 2.0], (1e-8, 1e-2)),
    }


def metrics(y, p):
    """Log loss and AUC (those of sklearn's log_loss and roc_auc_score, computed by ftrlx.metrics without their
    per-call checks), NaN where undefined (one class)."""
    from ftrlx.metrics import RunningAUC, binary_log_loss

    y = np.asarray(y) > 0
    if y.all() or not y.any():
        return math.nan, math.nan
    auc = RunningAUC(exact_limit=max(y.size, 1))
    auc.update(y, np.asarray(p, dtype=np.float64))
    return float(binary_log_loss(y.astype(np.float64), p)), float(auc.value)


def heldout_of(model, data):
    return metrics(data.y_test, model.predict_proba(data.X_test)[:, 1])


def tune_path(template, lr_name, candidates, l1_value, data, tune_rows):
    """The learning rate of the lowest progressive log loss on the first ``tune_rows`` rows, at one mild L1."""
    import ftrlx

    X, y = data.train_rows(tune_rows)
    kwargs = {"params": {lr_name: candidates}}
    if l1_value is not None:
        kwargs["l1"] = [l1_value]
    res = ftrlx.path(template, rechunk(X, y, data.chunks[0][0].shape[0]), **kwargs)
    losses = {str(r[lr_name]): r["progressive_logloss"] for r in res.to_records()}
    best = min(res.to_records(), key=lambda r: r["progressive_logloss"])[lr_name]
    return best, {
        "parameter": lr_name,
        "at_l1": l1_value,
        "rows": X.shape[0],
        "progressive_logloss": losses,
        "chosen": best,
    }


def run_path_family(family, template, lr_name, candidates, l1_values, data, tune_rows):
    """Tune, then the whole L1 grid in one ftrlx.path pass; one point per value."""
    import ftrlx

    l1_mild = l1_values[2] if l1_values else None
    best, tuning = tune_path(template, lr_name, candidates, l1_mild, data, tune_rows)
    template = template.set_params(**{lr_name: best})
    start = time.perf_counter()
    res = ftrlx.path(template, data.chunks, l1=l1_values or None)
    seconds = time.perf_counter() - start
    points = []
    for model, rec in zip(res.estimators, res.to_records()):
        ho_ll, ho_auc = heldout_of(model, data)
        points.append(
            point(
                rec.get(ftrlx._path.l1_param(model)) if l1_values else None,
                rec["n_nonzero"],
                rec["progressive_logloss"],
                rec["progressive_auc"],
                ho_ll,
                ho_auc,
                rec["train_seconds"],
            )
        )
    return {
        "family": family,
        "library": "ftrlx",
        "progressive": "per row",
        "tuning": tuning,
        "params": _plain_params(template),
        "path_seconds": seconds,
        "points": points,
    }


def point(l1, nnz, p_ll, p_auc, h_ll, h_auc, seconds):
    return {
        "l1": l1,
        "n_nonzero": None if nnz is None else int(nnz),
        "progressive_logloss": p_ll,
        "progressive_auc": p_auc,
        "heldout_logloss": h_ll,
        "heldout_auc": h_auc,
        "seconds": seconds,
    }


def _plain_params(est):
    return {k: v for k, v in est.get_params().items() if v is None or isinstance(v, (bool, int, float, str))}


# scikit-learn ------------------------------------------------------------------------------------------------

SGD_RATES = [
    {"learning_rate": "optimal"},
    {"learning_rate": "invscaling", "eta0": 0.1},
    {"learning_rate": "invscaling", "eta0": 0.5},
]


def sgd(**params):
    from sklearn.linear_model import SGDClassifier

    return SGDClassifier(loss="log_loss", penalty="l1", random_state=0, **params)


def run_sgd_partial(l1_values, data, tune_rows):
    """SGDClassifier.partial_fit, one pass over the chunks; its alpha grid through ftrlx.path (chunk scoring)."""
    import ftrlx

    X, y = data.train_rows(tune_rows)
    losses = {}
    for rate in SGD_RATES:
        res = ftrlx.path(sgd(**rate), rechunk(X, y, data.chunks[0][0].shape[0]), l1=[l1_values[2]])
        losses[json.dumps(rate)] = res.to_records()[0]["progressive_logloss"]
    best = json.loads(min(losses, key=losses.get))
    res = ftrlx.path(sgd(**best), data.chunks, l1=l1_values)
    points = []
    for model, rec in zip(res.estimators, res.to_records()):
        points.append(
            point(
                rec["alpha"],
                rec["n_nonzero"],
                rec["progressive_logloss"],
                rec["progressive_auc"],
                *heldout_of(model, data),
                rec["train_seconds"],
            )
        )
    tuning = {
        "parameter": "learning_rate/eta0",
        "at_alpha": l1_values[2],
        "rows": X.shape[0],
        "progressive_logloss": losses,
        "chosen": best,
    }
    return {
        "family": "sklearn SGD(l1).partial_fit",
        "library": "scikit-learn",
        "progressive": f"per chunk of {data.chunks[0][0].shape[0]} rows",
        "tuning": tuning,
        "params": _plain_params(sgd(**best)),
        "points": points,
    }


def run_sgd_fit(l1_values, data, chosen_rate):
    X, y = data.train_rows()
    points = []
    for alpha in l1_values:
        model = sgd(alpha=alpha, max_iter=1, tol=None, shuffle=False, **chosen_rate)
        start = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # one epoch does not converge, by design
            model.fit(X, y)
        seconds = time.perf_counter() - start
        points.append(
            point(alpha, np.count_nonzero(model.coef_), math.nan, math.nan, *heldout_of(model, data), seconds)
        )
    return {
        "family": "sklearn SGD(l1).fit",
        "library": "scikit-learn",
        "progressive": "none (held-out only)",
        "tuning": {"parameter": "learning_rate/eta0", "chosen": chosen_rate, "from": "the partial_fit tuning"},
        "params": _plain_params(sgd(max_iter=1, tol=None, shuffle=False, **chosen_rate)),
        "points": points,
    }


# Vowpal Wabbit -----------------------------------------------------------------------------------------------

VW_CONSTANT = 11650396  # the hash of VW's constant feature, before masking


def vw_bits(n_features):
    """The fewest bits that keep every column its own weight and VW's constant above them (then the model's
    weights below ``n_features`` are exactly the columns')."""
    bits = max(1, math.ceil(math.log2(max(n_features, 2))))
    while (VW_CONSTANT & (2**bits - 1)) < n_features:
        bits += 1
    return bits


def vw_lines(X, y):
    """``"1 | 17:1 4096:0.5"`` per row: numeric names are VW's indices, so VW sees the same columns."""
    X = X.tocsr()
    out = []
    for i in range(X.shape[0]):
        a, b = X.indptr[i], X.indptr[i + 1]
        feats = " ".join(f"{j}:{v:.9g}" for j, v in zip(X.indices[a:b].tolist(), X.data[a:b].tolist()))
        out.append(("1 | " if y[i] > 0 else "-1 | ") + feats)
    return out


def vw_train(args, lines, n_features):
    """One pass with per-row progressive predictions; returns (p, weights, constant) of the model VW saves.

    With ``--l1`` VW's default learner keeps the weights untruncated and the accumulated truncation (its
    ``l1_state``) aside, and truncates when it predicts and when it saves a model with ``-f``; the
    ``--readable_model`` it writes at the end of training lists the untruncated weights.  So the model is saved
    with ``-f``, loaded again (``-i ... -t``) and written as a readable model: that one holds the weights VW
    predicts with, and its non-zeros are the model's."""
    from vowpalwabbit import Workspace

    tmp = tempfile.mkdtemp(prefix="frontier_vw_")
    binary, readable = os.path.join(tmp, "model.vw"), os.path.join(tmp, "model.txt")
    ws = Workspace(f"{args} --loss_function logistic --link logistic -b {vw_bits(n_features)} --quiet -f {binary}")
    p = np.empty(len(lines))
    for i, line in enumerate(lines):
        ex = ws.example(line)
        ws.learn(ex)
        p[i] = ex.get_simplelabel_prediction()  # made before the update: progressive
        ws.finish_example(ex)
    ws.finish()
    Workspace(f"-i {binary} -t --quiet --readable_model {readable}").finish()
    w, constant = read_vw_model(readable, n_features)
    for f in (binary, readable):
        os.remove(f)
    os.rmdir(tmp)
    return p, w, constant


def read_vw_model(path, n_features):
    """The column weights (below ``n_features``) and the constant of a VW readable model."""
    w, constant = np.zeros(n_features), 0.0
    pattern = re.compile(r"^(\d+):(\S+)")
    const_index = VW_CONSTANT & (2 ** vw_bits(n_features) - 1)
    with open(path) as fh:
        for line in fh:
            m = pattern.match(line)
            if m:
                i, v = int(m.group(1)), float(m.group(2))
                if i < n_features:
                    w[i] = v
                elif i == const_index:
                    constant = v
    return w, constant


def run_vw(family, base_args, lr_flag, candidates, l1_values, data, lines, tune_rows):
    y = np.concatenate([yc for _, yc in data.chunks])
    losses = {}
    for lr in candidates:
        p, _, _ = vw_train(f"{base_args} {lr_flag} {lr} --l1 {l1_values[2]}", lines[:tune_rows], data.n_features)
        losses[str(lr)] = metrics(y[:tune_rows], p)[0]
    best = min(candidates, key=lambda lr: losses[str(lr)])
    points = []
    for l1 in l1_values:
        start = time.perf_counter()
        p, w, constant = vw_train(f"{base_args} {lr_flag} {best} --l1 {l1}", lines, data.n_features)
        seconds = time.perf_counter() - start
        ho = metrics(data.y_test, expit(data.X_test @ w + constant))
        points.append(point(l1, np.count_nonzero(w), *metrics(y, p), *ho, seconds))
    return {
        "family": family,
        "library": "vowpalwabbit",
        "progressive": "per row",
        "tuning": {
            "parameter": lr_flag,
            "at_l1": l1_values[2],
            "rows": min(tune_rows, len(lines)),
            "progressive_logloss": losses,
            "chosen": best,
        },
        "params": {
            "args": f"{base_args} {lr_flag} {best} --l1 L1 --loss_function logistic --link logistic "
            f"-b {vw_bits(data.n_features)}"
        },
        "points": points,
    }


# river -------------------------------------------------------------------------------------------------------


def run_river(l1_values, data, alpha, rows, test_rows):
    from river import linear_model, optim

    X, y = data.train_rows(rows)
    dicts = [
        dict(zip(X.indices[X.indptr[i] : X.indptr[i + 1]].tolist(), X.data[X.indptr[i] : X.indptr[i + 1]].tolist()))
        for i in range(X.shape[0])
    ]
    Xt, yt = data.X_test[:test_rows], data.y_test[:test_rows]
    tests = [
        dict(
            zip(Xt.indices[Xt.indptr[i] : Xt.indptr[i + 1]].tolist(), Xt.data[Xt.indptr[i] : Xt.indptr[i + 1]].tolist())
        )
        for i in range(Xt.shape[0])
    ]
    labels = (y > 0).tolist()
    points = []
    for l1 in l1_values:
        model = linear_model.LogisticRegression(optimizer=optim.FTRLProximal(alpha=alpha, beta=1.0, l1=l1, l2=1.0))
        p = np.empty(len(dicts))
        start = time.perf_counter()
        for i, (x, label) in enumerate(zip(dicts, labels)):
            p[i] = model.predict_proba_one(x)[True]
            model.learn_one(x, label)
        seconds = time.perf_counter() - start
        ph = np.array([model.predict_proba_one(x)[True] for x in tests])
        nnz = sum(1 for v in model.weights.values() if v != 0)
        points.append(point(l1, nnz, *metrics(y, p), *metrics(yt, ph), seconds))
    return {
        "family": "river FTRL",
        "library": "river",
        "progressive": "per row",
        "tuning": {"chosen": alpha, "parameter": "alpha", "from": "ftrlx FTRL's tuning"},
        "params": {"alpha": alpha, "beta": 1.0, "l2": 1.0},
        "rows": X.shape[0],
        "test_rows": Xt.shape[0],
        "points": points,
    }


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


# --------------------------------------------------------------------------- summary


def nnz_at(points, metric, target):
    """Fewest non-zero weights at which a frontier reaches ``metric <= target``: the sparsest point that does,
    moved toward the next sparser point by linear interpolation of the loss in log(nnz); None if none does."""
    pts = sorted(
        (p["n_nonzero"], p[metric]) for p in points if p["n_nonzero"] is not None and not math.isnan(p[metric])
    )
    ok = [(nz, v) for nz, v in pts if v <= target]
    if not ok:
        return None
    n_hi, v_hi = min(ok)
    sparser = [(nz, v) for nz, v in pts if nz < n_hi]
    if not sparser or n_hi == 0:
        return float(n_hi)
    n_lo, v_lo = max(sparser)
    if n_lo == 0 or v_lo <= v_hi:
        return float(n_hi)
    frac = (v_lo - target) / (v_lo - v_hi)
    return float(math.exp(math.log(n_lo) + frac * (math.log(n_hi) - math.log(n_lo))))


def frontier_summary(results, metric):
    """Every family's non-zero weights against FTRL's at equal accuracy, as in McMahan et al. 2013, Table 1.

    For each family the level is the worse of the two families' best losses, plus TOLERANCE (relative): both
    frontiers reach it, and each is read at the fewest weights that reach it (``nnz_at``)."""
    ftrl = next(r for r in results if r["family"] == "FTRL")
    ftrl_best = _min(ftrl["points"], metric)
    if math.isnan(ftrl_best):
        return None  # e.g. a held-out split with one class only
    rows = []
    for r in results:
        best = _min(r["points"], metric)
        if math.isnan(best):
            continue
        level = max(best, ftrl_best) * (1 + TOLERANCE)
        nz, base = nnz_at(r["points"], metric, level), nnz_at(ftrl["points"], metric, level)
        rows.append(
            {
                "family": r["family"],
                "best": best,
                "level": level,
                "nnz": nz,
                "ftrl_nnz": base,
                "vs_ftrl": None if nz is None or not base else nz / base - 1,
            }
        )
    return {"metric": metric, "ftrl_best": ftrl_best, "tolerance": TOLERANCE, "rows": rows}


# --------------------------------------------------------------------------- outputs

STYLES = {"ftrlx": "-", "scikit-learn": "--", "vowpalwabbit": ":", "river": "-."}


def plot_dataset(name, note, results, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(13, 5.2))
    for ax, metric, title in (
        (axes[0], "progressive_logloss", "progressive (each row scored before training)"),
        (axes[1], "heldout_logloss", "held-out split"),
    ):
        for i, r in enumerate(results):
            pts = sorted(
                (p["n_nonzero"], p[metric]) for p in r["points"] if p["n_nonzero"] and not math.isnan(p[metric])
            )
            if pts:  # tab20: one colour per family (the default cycle repeats after ten)
                ax.plot(
                    *zip(*pts),
                    marker="o",
                    markersize=3.5,
                    linestyle=STYLES[r["library"]],
                    label=r["family"],
                    color=plt.cm.tab20(i % 20),
                )
        ax.set_xscale("log")
        ax.set_xlabel("non-zero weights (log scale)")
        ax.set_ylabel(f"{metric.split('_')[0].replace('heldout', 'held-out')} log loss")
        ax.set_title(title, fontsize=10)
        ax.grid(True, which="both", alpha=0.3)
        _zoom(ax, results, metric)
    axes[1].legend(fontsize=7, loc="upper right")
    fig.suptitle(f"{name}: sparsity/accuracy frontier ({note})", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _zoom(ax, results, metric):
    """Keep the interesting part: from the best loss to a little above the worst of the families' best points."""
    bests = [
        min(v for v in (p[metric] for p in r["points"]) if not math.isnan(v))
        for r in results
        if any(not math.isnan(p[metric]) for p in r["points"])
    ]
    lo = min(bests)
    hi = max(max(bests), lo * 1.15)
    ax.set_ylim(lo - 0.02 * (hi - lo), hi + 0.25 * (hi - lo))


def _f(v, spec=".4f"):
    return "–" if v is None or (isinstance(v, float) and math.isnan(v)) else format(v, spec)


def markdown_dataset(entry):
    out = [f"### {entry['name']}", "", entry["note"] + f"; {entry['n_train']:,} training rows.", ""]
    out += [
        "| family | progressive | rows | tuned | L1 range | nnz range | best progressive log loss | "
        "best held-out log loss | best held-out AUC |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in entry["results"]:
        pts = r["points"]
        l1s = [p["l1"] for p in pts if p["l1"] is not None]
        nz = [p["n_nonzero"] for p in pts]
        out.append(
            f"| {r['family']} | {r['progressive']} | {r.get('rows', entry['n_train']):,} | "
            f"{r['tuning'].get('parameter', '')}={r['tuning']['chosen']} | "
            f"{_f(min(l1s), '.0e') if l1s else '–'}..{_f(max(l1s), '.0e') if l1s else '–'} | "
            f"{min(nz):,}..{max(nz):,} | {_f(_min(pts, 'progressive_logloss'))} | "
            f"{_f(_min(pts, 'heldout_logloss'))} | {_f(_max(pts, 'heldout_auc'))} |"
        )
    for key, label in (("progressive_logloss", "progressive"), ("heldout_logloss", "held-out")):
        s = entry["summary"][key]
        if s is None:
            out += ["", f"No {label} log loss (one class only in that split)."]
            continue
        out += [
            "",
            f"Non-zero weights at equal {label} log loss: for each family, the level is the worse of its "
            f"best and FTRL's best ({_f(s['ftrl_best'])}) plus {TOLERANCE:.0%}; both frontiers are read at the "
            "fewest weights that reach it (interpolated in log weights):",
            "",
            f"| family | best {label} log loss | level | nnz | FTRL nnz | vs FTRL |",
            "|---|---|---|---|---|---|",
        ]
        for row in s["rows"]:
            out.append(
                f"| {row['family']} | {_f(row['best'])} | {_f(row['level'])} | {_f(row['nnz'], ',.0f')} | "
                f"{_f(row['ftrl_nnz'], ',.0f')} | {_f(row['vs_ftrl'], '+.0%')} |"
            )
    return out + ["", f"![{entry['name']} frontier](frontier_{entry['name']}.png)", ""]


def _min(pts, key):
    vals = [p[key] for p in pts if not math.isnan(p[key])]
    return min(vals) if vals else math.nan


def _max(pts, key):
    vals = [p[key] for p in pts if not math.isnan(p[key])]
    return max(vals) if vals else math.nan


def write_outputs(out, report):
    out.mkdir(parents=True, exist_ok=True)
    (out / "frontier.json").write_text(json.dumps(report, indent=1, default=float) + "\n")
    lines = [
        "# Sparsity/accuracy frontiers",
        "",
        f"Command: `{report['command']}`. Machine: {report['machine']}. "
        f"Load average at start/end: {report['load_start']} / {report['load_end']}. "
        f"Wall time {report['seconds']:.0f} s.",
        "",
        "Progressive metrics: every training row scored by the model just before it trains on it (per row for "
        "ftrlx, VW and river; per chunk for SGDClassifier.partial_fit; SGDClassifier.fit has none). Held-out "
        "metrics: a split the models never train on. Each learner's learning rate was tuned first (lowest "
        "progressive log loss on a training prefix, at the third L1 value of its grid); see frontier.json.",
        "",
    ]
    for entry in report["datasets"]:
        lines += markdown_dataset(entry)
    (out / "frontier.md").write_text("\n".join(lines) + "\n")


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
        f"{max(p['n_nonzero'] for p in pts):<9,} best held-out log loss {_f(_min(pts, 'heldout_logloss'))}",
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
