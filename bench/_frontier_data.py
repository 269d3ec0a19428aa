"""The data sets of frontier.py: make_click_data, the click logs and the svmlight sets found under the data
folder, hashed, chunked and split into training and held-out rows.
"""

import os
from pathlib import Path

import numpy as np
import scipy.sparse as sp

BENCH_DIR = Path(__file__).resolve().parent
REPO = BENCH_DIR.parent


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
