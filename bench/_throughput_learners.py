"""The learners of bench_throughput.py (every ftrlx classifier, SGDClassifier and the peers) and the click data
they train on.
"""

import hashlib
import time
from pathlib import Path
from types import SimpleNamespace

import _peers
import numpy as np
from sklearn.linear_model import SGDClassifier

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
