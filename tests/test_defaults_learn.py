"""Out of the box, every estimator learns something useful on the public samples.

Each classifier, with its default hyper-parameters (only the shuffling seed is fixed), must beat the constant
prediction (the training positive rate) in held-out log loss (where it predicts probabilities), rank the held-out rows (AUC above 0.65) and, on the
sets where a yes/no decision is the point (spam, a9a's income), beat the majority class in accuracy: a model that
predicts one class for every row fails.  Each regressor must beat the training mean in squared error.
"""

import gzip

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.metrics import accuracy_score, log_loss, roc_auc_score

import ftrlx
from ftrlx import linear_model as lm

pytestmark = pytest.mark.datasets

CLASSIFIERS = [getattr(lm, n) for n in lm.__all__ if n.endswith("Classifier")]
REGRESSORS = [getattr(lm, n) for n in lm.__all__ if n.endswith("Regressor")]


def _stack(chunks):
    Xs, ys = zip(*[(chunk[0], chunk[1]) for chunk in chunks])
    return sp.vstack(Xs).tocsr(), np.concatenate(ys)


def _sms(root):
    from sklearn.feature_extraction.text import HashingVectorizer

    with gzip.open(root / "sms_spam_collection" / "SMSSpamCollection.gz", "rt", encoding="utf-8") as fh:
        pairs = [line.split("\t", 1) for line in fh.read().splitlines()]
    y = np.array([label == "spam" for label, _ in pairs], dtype=int)
    X = HashingVectorizer(n_features=2**18).fit_transform([text for _, text in pairs])  # L2-normalised rows
    cut = int(0.8 * len(y))
    return X[:cut], y[:cut], X[cut:], y[cut:]


def _a9a(root):
    X, y = _stack(ftrlx.datasets.iter_svmlight(root / "libsvm_a9a" / "a9a.gz", n_features=123))
    Xt, yt = _stack(ftrlx.datasets.iter_svmlight(root / "libsvm_a9a" / "a9a.t.gz", n_features=123))
    return X, (y > 0).astype(int), Xt, (yt > 0).astype(int)


def _criteo(root):
    folder = root / "criteo_kaggle_head8k"
    X, y = _stack(ftrlx.datasets.iter_criteo(folder / "train.tsv.gz"))
    Xt, yt = _stack(ftrlx.datasets.iter_criteo(folder / "test.tsv.gz"))
    return X, y, Xt, yt


def _talkingdata(root):
    X, y = _stack(
        ftrlx.datasets.iter_csv(
            root / "talkingdata_adtracking_sample" / "train_sample.csv.gz",
            label="is_attributed",
            categorical=["ip", "app", "device", "os", "channel"],
        )
    )
    return X[:80_000], y[:80_000], X[80_000:], y[80_000:]


DATASETS = {"sms": _sms, "a9a": _a9a, "criteo": _criteo, "talkingdata": _talkingdata}
DECISIONS = {"sms", "a9a"}  # click logs are judged by ranking and calibration, not by accuracy


@pytest.fixture(scope="module")
def loaded():
    return {}


def _data(name, datasets_dir, loaded):
    if name not in loaded:
        loaded[name] = DATASETS[name](datasets_dir)
    return loaded[name]


@pytest.mark.parametrize("name", sorted(DATASETS))
@pytest.mark.parametrize("cls", CLASSIFIERS, ids=lambda c: c.__name__)
def test_default_classifiers_learn(cls, name, datasets_dir, loaded):
    X, y, Xt, yt = _data(name, datasets_dir, loaded)
    model = cls(random_state=0).fit(X, y)
    if hasattr(model, "predict_proba"):
        p = model.predict_proba(Xt)[:, 1]
        constant = log_loss(yt, np.full(len(yt), y.mean()), labels=[0, 1])
        assert log_loss(yt, p, labels=[0, 1]) < constant
    else:  # a margin classifier (passive-aggressive): judged by its ranking and its decisions only
        p = model.decision_function(Xt)
    assert roc_auc_score(yt, p) > 0.65
    if name in DECISIONS:
        assert accuracy_score(yt, model.predict(Xt)) > max(yt.mean(), 1 - yt.mean())


def test_truncated_gradient_is_not_fobos_by_default(datasets_dir, loaded):
    X, y, _, _ = _data("a9a", datasets_dir, loaded)
    tg = lm.TruncatedGradientClassifier(random_state=0).fit(X, y)
    fobos = lm.FOBOSClassifier(random_state=0).fit(X, y)
    assert not np.array_equal(tg.coef_, fobos.coef_)


def _movielens(root):
    def read(name):
        with gzip.open(root / "movielens_100k" / name) as fh:
            a = np.loadtxt(fh, dtype=np.int64)
        n = len(a)
        cols = np.stack([a[:, 0] - 1, 943 + a[:, 1] - 1], axis=1).ravel()  # one-hot user and item
        X = sp.csr_matrix((np.ones(2 * n), (np.repeat(np.arange(n), 2), cols)), shape=(n, 943 + 1682))
        return X, a[:, 2].astype(np.float64)

    return (*read("u1.base.gz"), *read("u1.test.gz"))


@pytest.mark.parametrize("cls", REGRESSORS, ids=lambda c: c.__name__)
def test_default_regressors_learn(cls, datasets_dir, loaded):
    if "movielens" not in loaded:
        loaded["movielens"] = _movielens(datasets_dir)
    X, y, Xt, yt = loaded["movielens"]
    mse = np.mean((yt - cls(random_state=0).fit(X, y).predict(Xt)) ** 2)
    assert mse < np.mean((yt - y.mean()) ** 2)
