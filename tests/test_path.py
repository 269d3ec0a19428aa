"""ftrlx.path: K configurations in one pass, each bitwise the model trained alone on the same chunks."""

import csv
import functools
import math
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.linear_model import SGDClassifier

import ftrlx
from ftrlx import (
    AdaGradClassifier,
    FOBOSClassifier,
    FTRLClassifier,
    LazyAdamClassifier,
    OGDClassifier,
    RDAClassifier,
    TruncatedGradientClassifier,
)
from ftrlx._path import PathResult, Selection, fit_frontier, l1_param
from ftrlx.datasets import iter_criteo, make_click_data, write_click_data
from ftrlx.linear_model import DivergenceError, DivergenceWarning


@pytest.fixture(scope="module")
def chunks():
    X, y = make_click_data(n_samples=6_000, n_features=2**12, seed=4)
    return [(X[i : i + 1_500], y[i : i + 1_500]) for i in range(0, 6_000, 1_500)]


def alone(template, config, chunks):
    model = template.__class__(**{**template.get_params(), **config})
    for i, (X, y, *w) in enumerate(chunks):
        kwargs = {"classes": [0, 1]} if i == 0 else {}
        if w:
            kwargs["sample_weight"] = w[0]
        model.partial_fit(X, y, **kwargs)
    return model


def assert_same_model(a, b):
    for name in ("state_", "istate_", "gstate_"):
        if hasattr(a, name):
            np.testing.assert_array_equal(getattr(a, name), getattr(b, name), err_msg=name)
    np.testing.assert_array_equal(a.coef_, b.coef_)
    np.testing.assert_array_equal(a.intercept_, b.intercept_)


CASES = [
    (FTRLClassifier(), dict(l1=[0.0, 0.3, 3.0], alpha=[0.05, 0.2])),
    (RDAClassifier(rho=0.005), dict(l1=[1e-4, 1e-3], params={"gamma": [0.5, 2.0]})),
    (FOBOSClassifier(), dict(l1=[1e-6, 1e-4], l2=[0.0, 1e-5])),
    (TruncatedGradientClassifier(period=3), dict(l1=[1e-6, 1e-4, 1e-3])),
    (AdaGradClassifier(l1_form="rda"), dict(l1=[1e-4, 1e-2], eta0=[0.05, 0.3])),
    (OGDClassifier(), dict(l1=[1e-7, 1e-5])),
    (LazyAdamClassifier(), dict(eta0=[1e-3, 1e-2])),
]


@pytest.mark.parametrize("template,grid", CASES, ids=lambda c: type(c).__name__ if hasattr(c, "fit") else "")
def test_every_model_is_the_one_trained_alone(template, grid, chunks):
    result = ftrlx.path(template, chunks, n_jobs=2, **grid)
    sizes = [len(v) for k, v in grid.items() if k != "params"] + [len(v) for v in grid.get("params", {}).values()]
    assert len(result) == math.prod(sizes)
    for model, config in zip(result.estimators, result.params):
        assert_same_model(model, alone(template, config, chunks))
    assert template.__dict__.get("state_") is None  # the template is not trained


def test_metrics_equal_fit_stream(chunks):
    result = ftrlx.path(FTRLClassifier(), chunks, l1=[0.1, 3.0], n_jobs=2)
    for rec in result.to_records():
        est = FTRLClassifier(l1=rec["l1"])
        hist = ftrlx.fit_stream(est, chunks, progress=False)
        assert rec["progressive_logloss"] == hist[-1]["cum_logloss"]
        assert rec["progressive_auc"] == hist[-1]["cum_auc"]
        assert rec["n_nonzero"] == est.n_nonzero_
        assert rec["rows"] == 6_000


def test_sample_weights_and_coo_chunks(chunks):
    rng = np.random.default_rng(0)
    weighted = [(sp.coo_matrix(X), y, rng.uniform(0.5, 2.0, X.shape[0])) for X, y in chunks]
    result = ftrlx.path(FOBOSClassifier(), weighted, l1=[1e-6, 1e-4], n_jobs=2)
    for model, config in zip(result.estimators, result.params):
        assert_same_model(model, alone(FOBOSClassifier(), config, weighted))


def test_estimator_without_progressive_keyword(chunks):
    # scikit-learn's SGDClassifier: each chunk is predicted, then trained on (as fit_stream does)
    template = SGDClassifier(loss="log_loss", penalty="l1", random_state=0)
    result = ftrlx.path(template, chunks, l1=[1e-5, 1e-3], n_jobs=2)
    assert l1_param(template) == "alpha"
    for model, config, rec in zip(result.estimators, result.params, result.to_records()):
        ref = SGDClassifier(loss="log_loss", penalty="l1", random_state=0, **config)
        hist = ftrlx.fit_stream(ref, chunks, progress=False)
        np.testing.assert_array_equal(model.coef_, ref.coef_)
        assert rec["progressive_logloss"] == hist[-1]["cum_logloss"]
        assert rec["n_nonzero"] == np.count_nonzero(ref.coef_)


class CountingReader:
    """A re-iterable reader that counts how often it is iterated."""

    def __init__(self, chunks):
        self.chunks, self.passes = chunks, 0

    def __iter__(self):
        self.passes += 1
        yield from self.chunks


def test_the_data_is_read_once(chunks):
    reader = CountingReader(chunks)
    ftrlx.path(FTRLClassifier(), reader, l1=[0.1, 1.0, 10.0], l2=[0.0, 1.0])
    assert reader.passes == 1


def test_a_criteo_file_read_once_equals_separate_passes(tmp_path):
    file = tmp_path / "clicks.tsv"
    write_click_data(file, 3_000, seed=2)
    result = ftrlx.path(FTRLClassifier(), iter_criteo(file, chunk_size=1_000), l1=[0.3, 3.0], n_jobs=2)
    for model, config in zip(result.estimators, result.params):
        assert_same_model(model, alone(FTRLClassifier(), config, list(iter_criteo(file, chunk_size=1_000))))


@functools.lru_cache(maxsize=1)
def small_data():
    return make_click_data(n_samples=800, n_features=2**10, seed=5)


@settings(max_examples=15, deadline=None)
@given(
    l1=st.lists(st.floats(0.0, 20.0), min_size=1, max_size=4),
    cuts=st.lists(st.integers(1, 799), max_size=4, unique=True),
    n_jobs=st.integers(1, 3),
)
def test_random_grids_and_chunkings(l1, cuts, n_jobs):
    X, y = small_data()
    bounds = [0] + sorted(cuts) + [800]
    data = [(X[a:b], y[a:b]) for a, b in zip(bounds, bounds[1:])]
    result = ftrlx.path(FTRLClassifier(), data, l1=l1, n_jobs=n_jobs)
    for model, config in zip(result.estimators, result.params):
        assert_same_model(model, alone(FTRLClassifier(), config, data))


def test_grid_order_and_records(chunks):
    result = ftrlx.path(FTRLClassifier(), chunks, l1=[0.1, 1.0], l2=[0.0, 2.0], alpha=0.1)
    assert result.params == [
        {"l1": 0.1, "l2": 0.0, "alpha": 0.1},
        {"l1": 0.1, "l2": 2.0, "alpha": 0.1},
        {"l1": 1.0, "l2": 0.0, "alpha": 0.1},
        {"l1": 1.0, "l2": 2.0, "alpha": 0.1},
    ]
    rec = result.to_records()[3]
    assert list(rec) == [
        "model",
        "l1",
        "l2",
        "alpha",
        "rows",
        "progressive_logloss",
        "progressive_auc",
        "n_nonzero",
        "train_seconds",
    ]
    assert rec["model"] == 3 and rec["rows"] == 6_000 and 0 < rec["progressive_auc"] < 1
    frame = result.to_frame()
    assert frame.shape == (4, 9) and frame["n_nonzero"].tolist() == [r["n_nonzero"] for r in result.to_records()]
    assert "4 models" in repr(result)


def never_read():
    raise AssertionError("the data was read")
    yield  # pragma: no cover


@pytest.mark.parametrize(
    "template,kwargs,message",
    [
        (LazyAdamClassifier(), dict(l1=[0.1]), "has no L1 parameter"),
        (FTRLClassifier(), dict(l1=[]), "empty sequence"),
        (FTRLClassifier(), dict(l1=[0.1, float("nan")]), "finite number"),
        (FTRLClassifier(), dict(l1="0.1"), "finite number"),
        (FTRLClassifier(), dict(l1=[0.1, -1.0]), r"configuration \{'l1': -1.0\} is invalid"),
        (FTRLClassifier(), dict(eta0=[0.1]), "has no parameter 'eta0'"),
        (FTRLClassifier(), dict(l2=[1.0], params={"l2": [2.0]}), "swept twice"),
        (FTRLClassifier(), dict(l1=[1.0], n_jobs=0), "n_jobs must be"),
        (FTRLClassifier(), dict(l1=[1.0], classes=(0, 1, 2)), "exactly two classes"),
    ],
)
def test_bad_grids_fail_before_reading(template, kwargs, message):
    with pytest.raises(ValueError, match=message):
        ftrlx.path(template, never_read(), **kwargs)


def test_empty_stream_and_bad_labels(chunks):
    with pytest.raises(ValueError, match="no rows"):
        ftrlx.path(FTRLClassifier(), [], l1=[1.0])
    X, y = chunks[0]
    with pytest.raises(ValueError, match="outside classes"):
        ftrlx.path(FTRLClassifier(), [(X, y * 2)], l1=[1.0])


@pytest.mark.parametrize("n_jobs", [1, 2])
def test_a_failing_model_names_its_configuration(n_jobs):
    # the second chunk makes the model with the huge learning rate diverge, and only that one
    small = sp.csr_matrix(np.array([[1.0, 0.0], [0.0, 1.0]] * 3))
    huge = sp.csr_matrix(np.array([[1e100, 0.0], [0.0, 1.0]] * 3))
    y = np.array([0, 1] * 3)
    with pytest.raises(DivergenceError) as info, warnings.catch_warnings():
        warnings.simplefilter("ignore", DivergenceWarning)
        ftrlx.path(FTRLClassifier(), [(small, y), (huge, y)], alpha=[0.1, 1e300], n_jobs=n_jobs)
    notes = getattr(info.value, "__notes__", [])
    assert any("{'alpha': 1e+300}" in note for note in notes), notes
    assert "undone" not in str(info.value)  # the path keeps no journal: the failed model is discarded


@pytest.mark.parametrize("n_jobs", [1, 2])
def test_a_bad_chunk_is_named_and_checked_once(n_jobs, monkeypatch):
    from ftrlx._kernels import _check

    calls = []
    scan = _check.scan_csr
    monkeypatch.setattr(_check, "scan_csr", lambda *a: calls.append(1) or scan(*a))
    good = sp.csr_matrix(np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]))
    bad = sp.csr_matrix(np.array([[1.0, np.nan, 0.0], [0.0, 1.0, 0.0]]))
    y = np.array([0, 1])
    result = ftrlx.path(FTRLClassifier(), [(good, y)] * 3, l1=[0.5, 2.0, 4.0], n_jobs=n_jobs)
    assert len(calls) == 3  # once per chunk, not once per model and chunk
    assert not ftrlx._validation._CHECKED
    with pytest.raises(ValueError, match="NaN or infinity") as info:
        ftrlx.path(FTRLClassifier(), [(good, y), (bad, y)], l1=[0.5, 2.0], n_jobs=n_jobs)
    assert any("chunk 1" in note for note in info.value.__notes__)
    assert not ftrlx._validation._CHECKED
    # the models the path returns undo a failed call again, as any model does
    model = result.estimators[0]
    assert "_no_undo" not in model.__dict__
    before = model.state_.copy()
    huge = sp.csr_matrix(np.array([[1.0, 0.0, 0.0], [0.0, 0.0, 1e200]]))  # a column not learnt yet
    with pytest.raises(DivergenceError, match="undone"), warnings.catch_warnings():
        warnings.simplefilter("ignore", DivergenceWarning)
        model.partial_fit(huge, y)
    np.testing.assert_array_equal(model.state_, before)


def test_select(chunks):
    result = ftrlx.path(FTRLClassifier(), chunks, l1=[0.01, 0.3, 3.0, 30.0, 300.0])
    recs = result.to_records()
    best = result.select("best")
    assert isinstance(best, Selection) and best.estimator is result.estimators[best.index]
    assert best.record["progressive_logloss"] == min(r["progressive_logloss"] for r in recs)
    for tol in (0.0, 0.01, "5%", 1.0):
        sel = result.select("sparsest", tolerance=tol)
        slack = float(tol[:-1]) / 100 if isinstance(tol, str) else tol
        ok = [r for r in recs if r["progressive_logloss"] <= best.record["progressive_logloss"] * (1 + slack)]
        assert sel.record["n_nonzero"] == min(r["n_nonzero"] for r in ok)
    assert result.select("sparsest", tolerance=0).index == best.index
    top_auc = result.select("best", metric="progressive_auc")
    assert top_auc.record["progressive_auc"] == max(r["progressive_auc"] for r in recs)
    assert result.select(lambda records: len(records) - 1).index == 4
    for bad, message in [
        (dict(rule="fewest"), "rule must be"),
        (dict(metric="accuracy"), "metric must be"),
        (dict(tolerance="lots"), "tolerance must be"),
        (dict(tolerance=-0.1), "tolerance must be"),
        (dict(rule=lambda r: 9), "not the index"),
    ]:
        with pytest.raises(ValueError, match=message):
            result.select(**bad)


def test_select_without_log_loss(chunks):
    result = ftrlx.path(FTRLClassifier(loss="hinge"), chunks, l1=[0.1, 1.0])
    assert all(math.isnan(r["progressive_logloss"]) for r in result.to_records())
    with pytest.raises(ValueError, match="progressive_auc"):
        result.select()
    assert isinstance(result.select(metric="progressive_auc"), Selection)


def test_plot_and_fit_frontier(chunks, tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    model, result = fit_frontier(
        FTRLClassifier(),
        chunks,
        [0.1, 1.0, 10.0],
        csv_path=tmp_path / "f.csv",
        png_path=tmp_path / "f.png",
        title="FTRL",
        n_jobs=2,
    )
    assert isinstance(result, PathResult) and model is result.select().estimator
    with open(tmp_path / "f.csv") as fh:
        rows = list(csv.DictReader(fh))
    assert [int(r["n_nonzero"]) for r in rows] == [r["n_nonzero"] for r in result.to_records()]
    assert (tmp_path / "f.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    ax = result.plot(label="FTRL", highlight=result.select())
    assert ax.get_xscale() == "log" and ax.get_xlabel() == "non-zero weights"
    assert ax.get_ylabel() == "progressive log loss"
    assert ax.get_legend() is not None
    with pytest.raises(ValueError, match="metric must be"):
        result.plot(metric="nnz")


def test_exposed_in_package():
    import ftrlx._path as module

    assert "path" in ftrlx.__all__ and ftrlx.path is module.path
