"""The ftrlx and scikit-learn learners of frontier.py: a whole L1 grid per ftrlx family in one pass with
``ftrlx.path`` after a small learning-rate tuning, and SGDClassifier by partial_fit and by fit, with the metrics
and the points they record.
"""

import json
import math
import time
import warnings

import numpy as np
from _frontier_data import rechunk

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
