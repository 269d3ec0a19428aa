"""The Vowpal Wabbit and river learners of frontier.py: VW's ``--l1`` (default learner and ``--ftrl``) through
its command line and model files, and river's FTRL-Proximal on a prefix of the training rows.
"""

import math
import os
import re
import tempfile
import time

import numpy as np
from _frontier_learners import metrics, point
from scipy.special import expit

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
