"""Several passes with early stopping: ``fit_stream(passes=, early_stop=)`` and ``ftrlx train --passes --holdout-every
--early-stop``; the held-out rows are the same every pass."""

import json

import numpy as np
import pytest
import scipy.sparse as sp

import ftrlx
import ftrlx.io
from ftrlx.cli import main
from ftrlx.stream import fit_stream
from ftrlx.stream._passes import should_stop


def _chunks(n_chunks=5, rows=300, flip_every=None, seed=0):
    """A fixed list of chunks; with ``flip_every`` the labels of every flip_every-th chunk are inverted, so that
    the more the model learns, the worse it does there."""
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n_chunks):
        X = sp.random(rows, 40, density=0.2, format="csr", random_state=rng)
        y = (X[:, :5].sum(axis=1).A.ravel() > 0.5).astype(int)
        if flip_every and (i + 1) % flip_every == 0:
            y = 1 - y
        out.append((X, y))
    return out


def test_every_pass_holds_out_the_same_chunks():
    hist = fit_stream(ftrlx.FTRLClassifier(), _chunks(5), passes=3, holdout_every=2, progress=False)
    held = [(r["pass"], r["chunk"] - 5 * r["pass"]) for r in hist if r["kind"] == "holdout"]
    assert held == [(p, i) for p in range(3) for i in (1, 3)]
    assert [r["pass"] for r in hist] == [p for p in range(3) for _ in range(5)]


def test_a_function_is_called_once_per_pass_and_an_iterator_is_refused():
    calls = []

    def one_pass():
        calls.append(1)
        return iter(_chunks(3))

    hist = fit_stream(ftrlx.FTRLClassifier(), one_pass, passes=2, progress=False)
    assert len(calls) == 2 and hist[-1]["rows_seen"] == 2 * 3 * 300
    with pytest.raises(TypeError, match="function that returns the stream"):
        fit_stream(ftrlx.FTRLClassifier(), iter(_chunks(3)), passes=2, progress=False)


def test_early_stop_when_the_holdout_gets_worse():
    chunks = _chunks(4, flip_every=4)  # the held-out chunk has the opposite labels
    hist = fit_stream(ftrlx.FTRLClassifier(), chunks, passes=6, holdout_every=4, early_stop=1, progress=False)
    losses = hist.pass_losses()
    assert len(losses) == 2 and losses[1] > losses[0]  # pass 2 is worse than pass 1: stop before pass 3
    # without early stopping every pass is trained; the stopped model is the one after those two passes
    full = ftrlx.FTRLClassifier()
    assert len(fit_stream(full, chunks, passes=6, holdout_every=4, progress=False).pass_losses()) == 6
    two = ftrlx.FTRLClassifier()
    fit_stream(two, chunks, passes=2, holdout_every=4, progress=False)
    stopped = ftrlx.FTRLClassifier()
    fit_stream(stopped, chunks, passes=6, holdout_every=4, early_stop=1, progress=False)
    assert np.array_equal(stopped.coef_, two.coef_)


def test_should_stop_counts_passes_since_the_best():
    hist = [{"kind": "holdout", "rows": 1, "logloss": v, "pass": p} for p, v in enumerate([0.5, 0.4, 0.45, 0.41])]
    assert not should_stop(hist, 2, 2) and should_stop(hist, 3, 2) and should_stop(hist, 2, 1)
    with pytest.raises(ValueError, match="pass 1 has none"):
        should_stop([{"kind": "train", "rows": 5, "pass": 0}], 0, 1)


def test_early_stopped_run_resumes_to_the_same_model(tmp_path):
    chunks = _chunks(4, flip_every=4)
    ref = ftrlx.FTRLClassifier()
    fit_stream(ref, chunks, passes=6, holdout_every=4, early_stop=1, progress=False)

    class Crash(Exception):
        pass

    def crashing():
        for i, c in enumerate(chunks):
            if i == 2 and crashing.calls == 1:  # in the second pass, after a checkpoint
                raise Crash
            yield c

    def counted():
        crashing.calls += 1
        return crashing()

    crashing.calls = -1
    ckpt = tmp_path / "run.ckpt"
    with pytest.raises(Crash):
        fit_stream(
            ftrlx.FTRLClassifier(),
            counted,
            passes=6,
            holdout_every=4,
            early_stop=1,
            progress=False,
            checkpoint=ckpt,
            checkpoint_every=300,
        )
    crashing.calls = 5  # no more crashes
    est = ftrlx.FTRLClassifier()
    hist = fit_stream(
        est, counted, passes=6, holdout_every=4, early_stop=1, progress=False, checkpoint=ckpt, resume=True
    )
    assert len(hist.pass_losses()) == 2 and np.array_equal(est.coef_, ref.coef_)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"passes": 0}, "passes"),
        ({"early_stop": 2}, "holdout_every"),
        ({"early_stop": 0, "holdout_every": 2}, "early_stop"),
    ],
)
def test_bad_pass_options(kwargs, match):
    with pytest.raises(ValueError, match=match):
        fit_stream(ftrlx.FTRLClassifier(), _chunks(2), progress=False, **kwargs)


@pytest.fixture(scope="module")
def clicks(click_log):
    return click_log(5000, seed=4)


def test_cli_passes_with_early_stop(clicks, tmp_path, capsys):
    model = tmp_path / "m.ftrlx"
    argv = [
        "train",
        str(clicks),
        "--bits",
        "14",
        "--chunk-size",
        "700",
        "--holdout-every",
        "3",
        "--early-stop",
        "1",
        "--alpha",
        "2",
        "-o",
        str(model),
        "--json",
    ]
    assert main([*argv, "--passes", "8"]) == 0
    out, err = capsys.readouterr()
    result = json.loads(out)
    assert 2 <= result["passes_trained"] <= 8 and len(result["pass_holdout_logloss"]) == result["passes_trained"]
    assert result["early_stopped"] == (result["passes_trained"] < 8)
    assert "holdout log loss per pass" in err and "last pass" in err
    saved = ftrlx.io.read_header(model)["metadata"]["training"]
    assert saved["passes"]["passes_trained"] == result["passes_trained"]
    # --epochs is the same option
    assert main([*argv, "--epochs", "8", "-q"]) == 0
    again = json.loads(capsys.readouterr().out)
    assert again["pass_holdout_logloss"] == result["pass_holdout_logloss"]


@pytest.mark.parametrize(
    "flags, needle",
    [
        (["--early-stop", "2", "--passes", "3"], "--holdout-every"),
        (["--early-stop", "2", "--holdout-every", "3"], "--passes"),
        (["--early-stop", "0", "--holdout-every", "3", "--passes", "3"], "--early-stop"),
        (["--passes", "0"], "--passes"),
    ],
)
def test_cli_pass_usage_errors(clicks, tmp_path, capsys, flags, needle):
    assert main(["train", str(clicks), "-q", "-o", str(tmp_path / "m.ftrlx"), *flags]) == 2
    assert needle in capsys.readouterr().err
