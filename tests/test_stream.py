"""Tests for ftrlx.stream.fit_stream: progressive validation, holdout, checkpoints, resume."""

import csv
import io
import math
import os
import signal

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.base import clone
from sklearn.metrics import log_loss, roc_auc_score

import ftrlx
from ftrlx.stream import History, StreamInterrupted, fit_stream

N_FEATURES = 300


def make_model(**kw):
    params = {"alpha": 0.1, "beta": 1.0, "l1": 0.5, "l2": 0.1, "random_state": 0}
    params.update(kw)
    return ftrlx.FTRLClassifier(**params)


def make_chunks(n_chunks=8, rows=400, seed=0, sizes=None):
    """Sparse binary-feature chunks with labels from a fixed logistic model."""
    rng = np.random.default_rng(seed)
    w = rng.normal(0.0, 1.5, N_FEATURES) * (rng.random(N_FEATURES) < 0.3)
    sizes = sizes or [rows] * n_chunks
    out = []
    for n in sizes:
        X = sp.random(n, N_FEATURES, density=0.05, format="csr", random_state=rng, data_rvs=lambda k: np.ones(k))
        p = 1.0 / (1.0 + np.exp(-(X @ w - 1.0)))
        out.append((X, (rng.random(n) < p).astype(np.int64)))
    return out


def row_by_row(est, X, y, fitted):
    """Predict each row, then train on it: the progressive predictions of one trained chunk."""
    p = np.empty(X.shape[0])
    for i in range(X.shape[0]):
        p[i] = est.predict_proba(X[i])[0, 1] if fitted else 0.5
        est.partial_fit(X[i], y[i : i + 1], classes=[0, 1])
        fitted = True
    return p


def reference_progressive(est, chunks, holdout_every=None):
    """Independent per-row predict-then-train loop (held-out chunks scored whole); predictions by kind."""
    preds = {"train": ([], []), "holdout": ([], [])}
    fitted = False
    for i, (X, y) in enumerate(chunks):
        hold = holdout_every is not None and (i + 1) % holdout_every == 0
        if hold:
            p = est.predict_proba(X)[:, 1] if fitted else np.full(X.shape[0], 0.5)
        else:
            p = row_by_row(est, X, y, fitted)
            fitted = True
        ys, ps = preds["holdout" if hold else "train"]
        ys.append(y)
        ps.append(p)
    return {k: (np.concatenate(v[0]), np.concatenate(v[1])) for k, v in preds.items() if v[0]}


def state_arrays(est):
    return {k: v for k, v in est.__getstate__().items() if isinstance(v, np.ndarray)}


def assert_bitwise_same(a, b):
    sa, sb = a.__getstate__(), b.__getstate__()
    assert sa.keys() == sb.keys()
    for key in sa:
        if isinstance(sa[key], np.ndarray):
            assert sa[key].dtype == sb[key].dtype, key
            assert sa[key].tobytes() == sb[key].tobytes(), key
        else:
            assert repr(sa[key]) == repr(sb[key]), key
    assert a.coef_.tobytes() == b.coef_.tobytes()
    assert a.intercept_.tobytes() == b.intercept_.tobytes()


def strip_timing(history):
    return [{k: v for k, v in rec.items() if k not in ("rows_per_s", "elapsed_s")} for rec in history]


@pytest.mark.parametrize("holdout_every", [None, 3])
def test_progressive_metrics_match_sklearn(holdout_every):
    chunks = make_chunks(n_chunks=9)
    est = make_model()
    hist = fit_stream(est, chunks, holdout_every=holdout_every, progress=False, nnz_every=1)
    ref = reference_progressive(make_model(), chunks, holdout_every)
    assert len(hist) == len(chunks)
    for kind, (y, p) in ref.items():
        last = hist.last(kind)
        assert last["cum_logloss"] == pytest.approx(log_loss(y, p), rel=1e-9)
        assert last["cum_auc"] == pytest.approx(roc_auc_score(y, p), rel=1e-9)
        assert last["cum_pos_rate"] == pytest.approx(y.mean(), rel=1e-12)
        assert last["cum_mean_pred"] == pytest.approx(p.mean(), rel=1e-9)
    # Per-chunk numbers, chunk by chunk, against sklearn on that chunk alone.
    ref_est, fitted = make_model(), False
    for i, ((X, y), rec) in enumerate(zip(chunks, hist)):
        hold = holdout_every and (i + 1) % holdout_every == 0
        assert rec["kind"] == ("holdout" if hold else "train")
        if hold:
            p = ref_est.predict_proba(X)[:, 1]
        else:
            p = row_by_row(ref_est, X, y, fitted)
            fitted = True
        assert rec["logloss"] == pytest.approx(log_loss(y, p, labels=[0, 1]), rel=1e-9)
        assert rec["auc"] == pytest.approx(roc_auc_score(y, p), rel=1e-9)
        assert rec["nnz"] == int(np.count_nonzero(ref_est.coef_))
    # Holdout chunks are never trained on: same model as training on the others.
    plain = make_model()
    for i, (X, y) in enumerate(chunks):
        if not (holdout_every and (i + 1) % holdout_every == 0):
            plain.partial_fit(X, y, classes=[0, 1])
    assert_bitwise_same(est, plain)
    assert hist[-1]["rows_read"] == sum(X.shape[0] for X, _ in chunks)


def test_exact_auc_limit_switches_to_bins_close_to_sklearn():
    chunks = make_chunks(n_chunks=6)
    hist = fit_stream(make_model(), chunks, progress=False, exact_auc_rows=1000)
    y, p = reference_progressive(make_model(), chunks)["train"]
    assert abs(hist[-1]["cum_auc"] - roc_auc_score(y, p)) < 1e-3


@pytest.mark.parametrize("loss", ["hinge", "modified_huber"])
def test_binned_auc_of_margins_stays_close_to_the_exact_one(loss):
    # a model without predict_proba is ranked by its margins: past the exact rows they are binned as margins
    chunks = make_chunks(n_chunks=6)
    exact = fit_stream(make_model(loss=loss), chunks, progress=False)
    binned = fit_stream(make_model(loss=loss), chunks, progress=False, exact_auc_rows=1000)
    assert 0.6 < exact[-1]["cum_auc"]
    assert abs(binned[-1]["cum_auc"] - exact[-1]["cum_auc"]) < 1e-3


def test_chunk_with_one_class_gives_nan_auc():
    chunks = make_chunks(n_chunks=3)
    X, _ = chunks[1]
    chunks[1] = (X, np.zeros(X.shape[0], dtype=np.int64))
    hist = fit_stream(make_model(), chunks, progress=False)
    assert math.isnan(hist[1]["auc"])
    assert not math.isnan(hist[1]["cum_auc"])


def test_first_chunk_passes_classes():
    seen = {}

    class Spy(type(make_model())):
        def partial_fit(self, X, y, classes=None, sample_weight=None):
            seen.setdefault("classes", []).append(classes)
            return super().partial_fit(X, y, classes=classes, sample_weight=sample_weight)

    chunks = make_chunks(n_chunks=3)
    est = Spy(**make_model().get_params())
    fit_stream(est, chunks, progress=False)
    assert list(seen["classes"][0]) == [0, 1]
    assert seen["classes"][1:] == [None, None]


def test_sample_weights_are_passed():
    chunks = make_chunks(n_chunks=3)
    weighted = [(X, y, np.full(X.shape[0], 2.0)) for X, y in chunks]
    est = make_model()
    fit_stream(est, weighted, progress=False)
    ref = make_model()
    for X, y, w in weighted:
        ref.partial_fit(X, y, classes=[0, 1], sample_weight=w)
    assert_bitwise_same(est, ref)


def test_max_rows_cuts_the_last_chunk():
    chunks = make_chunks(n_chunks=5, rows=100)
    est = make_model()
    hist = fit_stream(est, chunks, max_rows=250, progress=False)
    assert [r["rows"] for r in hist] == [100, 100, 50]
    ref = make_model()
    for X, y in chunks[:2] + [(chunks[2][0][:50], chunks[2][1][:50])]:
        ref.partial_fit(X, y, classes=[0, 1])
    assert_bitwise_same(est, ref)


def crashing(chunks, after):
    """The stream, dying with an error after ``after`` chunks (a simulated crash)."""
    for i, chunk in enumerate(chunks):
        if i == after:
            raise RuntimeError("simulated crash")
        yield chunk


def test_resume_after_crash_is_bitwise_identical(tmp_path):
    chunks = make_chunks(n_chunks=10, sizes=[300, 250, 400, 300, 350, 300, 200, 300, 330, 310])
    full = make_model()
    full_hist = fit_stream(full, chunks, holdout_every=4, progress=False)

    ckpt = tmp_path / "run.ckpt"
    first = make_model()
    with pytest.raises(RuntimeError, match="simulated crash"):
        fit_stream(first, crashing(chunks, 7), holdout_every=4, checkpoint=ckpt, checkpoint_every=500, progress=False)
    assert ckpt.exists()
    again = make_model()
    hist = fit_stream(
        again, chunks, holdout_every=4, checkpoint=ckpt, checkpoint_every=500, resume=True, progress=False
    )
    assert_bitwise_same(again, full)
    assert strip_timing(hist) == strip_timing(full_hist)
    # The final checkpoint is a complete model, also bitwise equal.
    assert_bitwise_same(ftrlx.load(ckpt), full)
    # Resuming a finished run trains nothing more.
    done = make_model()
    hist2 = fit_stream(done, chunks, holdout_every=4, checkpoint=ckpt, resume=True, progress=False)
    assert_bitwise_same(done, full)
    assert strip_timing(hist2) == strip_timing(full_hist)


def test_resume_without_checkpoint_file_starts_fresh(tmp_path):
    chunks = make_chunks(n_chunks=3)
    est = make_model()
    fit_stream(est, chunks, checkpoint=tmp_path / "new.ckpt", resume=True, progress=False)
    ref = make_model()
    fit_stream(ref, chunks, progress=False)
    assert_bitwise_same(est, ref)
    assert (tmp_path / "new.ckpt").exists()


@pytest.mark.parametrize("prefetch_chunks", [0, 2])
def test_ctrl_c_stops_at_chunk_boundary_and_resumes(tmp_path, prefetch_chunks):
    chunks = make_chunks(n_chunks=6)
    full = make_model()
    fit_stream(full, chunks, progress=False)

    def interrupted():
        for i, chunk in enumerate(chunks):
            if i == 3:
                os.kill(os.getpid(), signal.SIGINT)  # arrives while chunk 3 is being read
            yield chunk

    ckpt = tmp_path / "ctrlc.ckpt"
    est = make_model()
    with pytest.raises(StreamInterrupted, match="resume") as info:
        fit_stream(est, interrupted(), checkpoint=ckpt, progress=False, prefetch_chunks=prefetch_chunks)
    assert info.value.checkpoint == os.fspath(ckpt)
    done = [r["chunk"] for r in info.value.history]
    if prefetch_chunks == 0:
        assert done == [0, 1, 2, 3]
    else:  # read ahead: the signal comes while reading chunk 3, training may be behind it
        assert done == list(range(len(done))) and 1 <= len(done) <= 4
    assert isinstance(info.value, KeyboardInterrupt)
    # The handler is gone again: the default one is back.
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    # The model in memory is the model after the last chunk recorded, and so is the checkpoint.
    after = make_model()
    for X, y in chunks[: len(done)]:
        after.partial_fit(X, y, classes=[0, 1])
    assert_bitwise_same(est, after)
    assert_bitwise_same(ftrlx.load(ckpt), after)
    resumed = make_model()
    fit_stream(resumed, chunks, checkpoint=ckpt, resume=True, progress=False)
    assert_bitwise_same(resumed, full)


def test_ctrl_c_without_checkpoint_says_how_to_enable_it():
    def interrupted():
        for i, chunk in enumerate(make_chunks(n_chunks=3)):
            if i == 1:
                os.kill(os.getpid(), signal.SIGINT)
            yield chunk

    with pytest.raises(StreamInterrupted, match="checkpoint=PATH"):
        fit_stream(make_model(), interrupted(), progress=False)


def test_resume_refuses_other_hyperparameters_and_settings(tmp_path):
    chunks = make_chunks(n_chunks=3)
    ckpt = tmp_path / "a.ckpt"
    with pytest.raises(RuntimeError):
        fit_stream(make_model(), crashing(chunks, 2), checkpoint=ckpt, checkpoint_every=1, progress=False)
    with pytest.raises(ValueError, match="alpha=0.1.*alpha=0.2"):
        fit_stream(make_model(alpha=0.2), chunks, checkpoint=ckpt, resume=True, progress=False)
    with pytest.raises(ValueError, match="holdout_every"):
        fit_stream(make_model(), chunks, checkpoint=ckpt, resume=True, holdout_every=2, progress=False)
    other = make_chunks(n_chunks=3, rows=123)
    with pytest.raises(ValueError, match="same stream"):
        fit_stream(make_model(), other, checkpoint=ckpt, resume=True, progress=False)
    with pytest.raises(ValueError, match="same stream"):
        fit_stream(make_model(), chunks[:1], checkpoint=ckpt, resume=True, progress=False)


def test_checkpoint_crash_keeps_previous_checkpoint(tmp_path, monkeypatch):
    import ftrlx.io

    chunks = make_chunks(n_chunks=4)
    ckpt = tmp_path / "c.ckpt"
    with pytest.raises(RuntimeError):
        fit_stream(make_model(), crashing(chunks, 2), checkpoint=ckpt, checkpoint_every=1, progress=False)
    before = ckpt.read_bytes()

    def broken(fh, blob):
        fh.write(blob[: len(blob) // 2])
        raise OSError("disk full")

    monkeypatch.setattr(ftrlx.io, "_write_blob", broken)
    with pytest.raises(OSError, match="disk full"):
        fit_stream(make_model(), chunks, checkpoint=ckpt, checkpoint_every=1, resume=True, progress=False)
    assert ckpt.read_bytes() == before
    assert sorted(os.listdir(tmp_path)) == ["c.ckpt"]


def test_history_csv_and_helpers(tmp_path):
    chunks = make_chunks(n_chunks=4)
    path = tmp_path / "hist.csv"
    hist = fit_stream(make_model(), chunks, history_csv=path, holdout_every=2, progress=False)
    rows = list(csv.DictReader(io.StringIO(path.read_text())))
    assert len(rows) == 4
    assert [r["kind"] for r in rows] == ["train", "holdout", "train", "holdout"]
    assert float(rows[2]["cum_logloss"]) == hist[2]["cum_logloss"]
    # each row is scored by the model trained on the rows before it: the first chunk already beats a coin
    assert float(rows[0]["logloss"]) < math.log(2)
    assert isinstance(hist, History)
    np.testing.assert_array_equal(hist.column("rows_seen"), [400, 800])
    assert hist.to_csv() == path.read_text()


def test_progress_bar_goes_to_stderr(capsys):
    fit_stream(make_model(), make_chunks(n_chunks=2), progress=True)
    out, err = capsys.readouterr()
    assert out == ""
    assert "rows" in err and "logloss=" in err


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"holdout_every": 0}, "holdout_every"),
        ({"checkpoint_every": 10}, "checkpoint path"),
        ({"resume": True}, "checkpoint path"),
        ({"classes": (0, 1, 2)}, "exactly two"),
        ({"max_rows": -1}, "max_rows"),
    ],
)
def test_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        fit_stream(make_model(), make_chunks(n_chunks=1), progress=False, **kwargs)


def test_bad_chunks_and_labels():
    X, y = make_chunks(n_chunks=1)[0]
    with pytest.raises(TypeError, match="expects \\(X, y\\)"):
        fit_stream(make_model(), [X], progress=False)
    with pytest.raises(ValueError, match="label 2 outside"):
        fit_stream(make_model(), [(X, np.where(y == 1, 2, 0))], progress=False)
    with pytest.raises(ValueError, match="rows but y has"):
        fit_stream(make_model(), [(X, y[:-1])], progress=False)
    with pytest.raises(TypeError, match="partial_fit"):
        fit_stream(object(), [(X, y)], progress=False)


def test_non_probabilistic_loss_reports_auc_only():
    chunks = make_chunks(n_chunks=4)
    est = make_model(loss="hinge")
    hist = fit_stream(est, chunks, progress=False)
    assert math.isnan(hist[-1]["cum_logloss"])
    ref = clone(est)
    scores, ys = [], []
    for X, y in chunks:
        for i in range(X.shape[0]):
            scores.append(ref.decision_function(X[i])[0] if hasattr(ref, "state_") else 0.0)
            ref.partial_fit(X[i], y[i : i + 1], classes=[0, 1])
        ys.append(y)
    assert hist[-1]["cum_auc"] == pytest.approx(roc_auc_score(np.concatenate(ys), scores), rel=1e-9)


def test_estimators_without_row_scores_are_scored_chunk_by_chunk():
    """An estimator whose partial_fit reports no margins (scikit-learn's SGD) is scored before each chunk."""
    from sklearn.linear_model import SGDClassifier

    chunks = make_chunks(n_chunks=4)
    est = SGDClassifier(loss="log_loss", random_state=0)
    hist = fit_stream(est, chunks, progress=False)
    ref, ys, ps = clone(est), [], []
    for i, (X, y) in enumerate(chunks):
        ps.append(ref.predict_proba(X)[:, 1] if i else np.full(X.shape[0], 0.5))
        ys.append(y)
        ref.partial_fit(X, y, classes=[0, 1])
    assert hist[-1]["cum_logloss"] == pytest.approx(log_loss(np.concatenate(ys), np.concatenate(ps)), rel=1e-12)
    np.testing.assert_array_equal(est.coef_, ref.coef_)


def test_a_checkpointed_stream_refuses_an_unstorable_parameter_before_training(tmp_path):
    """A RandomState as random_state cannot go into a checkpoint: refused at the call, the model untouched."""
    X, y = ftrlx.datasets.make_click_data(3_000, n_features=2**10, seed=0)
    chunks = [(X[i : i + 1_000], y[i : i + 1_000]) for i in range(0, 3_000, 1_000)]
    est = ftrlx.FTRLClassifier(random_state=np.random.RandomState(0))
    with pytest.raises(TypeError, match="random_state"):
        ftrlx.fit_stream(est, chunks, checkpoint=tmp_path / "c.ckpt", checkpoint_every=1_000, progress=False)
    assert not hasattr(est, "state_")
    assert list(tmp_path.iterdir()) == []
