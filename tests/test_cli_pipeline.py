"""The command line of the main job: format guesses, the JSON summary, per-row progressive validation."""

import json

import numpy as np
import pytest
from sklearn.metrics import log_loss

import ftrlx
from ftrlx.cli import main
from ftrlx.datasets import criteo_hasher, iter_criteo


@pytest.fixture(scope="module")
def criteo_tsv(click_log):
    return click_log(3000, seed=2)


def test_tsv_with_the_criteo_layout_is_read_as_criteo(criteo_tsv, tmp_path, capsys):
    model = tmp_path / "m.ftrlx"
    assert main(["train", str(criteo_tsv), "--bits", "16", "-o", str(model), "--json"]) == 0
    out, err = capsys.readouterr()
    assert "as a Criteo log" in err and "--format" in err
    summary = json.loads(out.strip().splitlines()[-1])
    assert summary["rows"] == 3000 and summary["nnz"] == ftrlx.load(model).n_nonzero_
    assert summary["model"] == str(model)


def test_gzipped_tsv_with_the_criteo_layout_is_read_as_criteo(criteo_tsv, tmp_path, capsys):
    import gzip

    path = tmp_path / "clicks.tsv.gz"
    path.write_bytes(gzip.compress(criteo_tsv.read_bytes()))
    assert main(["train", str(path), "--bits", "16", "-o", str(tmp_path / "m.ftrlx"), "--json"]) == 0
    out, err = capsys.readouterr()
    assert "as a Criteo log" in err
    assert json.loads(out.strip().splitlines()[-1])["rows"] == 3000


def test_tsv_of_another_layout_names_the_criteo_flag(tmp_path, capsys):
    path = tmp_path / "other.tsv"
    path.write_text("a\tb\n1\tx\n")
    assert main(["train", str(path), "-o", str(tmp_path / "m.ftrlx")]) == 2
    err = capsys.readouterr().err
    assert "--label" in err and "--format criteo" in err


def test_resume_refuses_a_checkpoint_of_other_inputs(criteo_tsv, tmp_path, capsys):
    other = tmp_path / "other.tsv"
    other.write_bytes(criteo_tsv.read_bytes()[: len(criteo_tsv.read_bytes()) // 2].rsplit(b"\n", 1)[0] + b"\n")
    ckpt, model = tmp_path / "c.ckpt", tmp_path / "m.ftrlx"
    base = ["--format", "criteo", "--bits", "12", "--checkpoint", str(ckpt), "-o", str(model), "-q"]
    assert main(["train", str(criteo_tsv), *base]) == 0
    before = model.read_bytes()
    assert main(["train", str(other), *base, "--resume"]) == 2
    err = capsys.readouterr().err
    assert "other.tsv" in err and "clicks.tsv" in err and "--checkpoint" in err
    assert model.read_bytes() == before


def test_evaluate_refuses_labels_outside_the_model_classes(tmp_path, capsys):
    rng = np.random.default_rng(0)
    rows = [f"{int(v > 2)},s{v},a{rng.integers(3)}" for v in rng.integers(0, 5, 200)]
    train, test = tmp_path / "train.csv", tmp_path / "test.csv"
    train.write_text("y,site,app\n" + "\n".join(rows) + "\n")
    test.write_text("y,site,app\n" + "\n".join(r.replace("1,", "2,", 1) for r in rows) + "\n")
    model = tmp_path / "m.ftrlx"
    assert main(["train", str(train), "--label", "y", "--bits", "10", "-o", str(model), "-q"]) == 0
    rc = main(["evaluate", str(model), str(test)])
    err = capsys.readouterr().err
    assert rc == 1 and "test.csv" in err and "label 2.0 is not one of the model's classes" in err


def test_several_l1_values_write_a_frontier_and_the_selected_model(criteo_tsv, tmp_path, capsys):
    model = tmp_path / "m.ftrlx"
    assert (
        main(
            [
                "train",
                str(criteo_tsv),
                "--format",
                "criteo",
                "--bits",
                "14",
                "--l1",
                "0.1,1,10",
                "-o",
                str(model),
                "--json",
                "-q",
            ]
        )
        == 0
    )
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    lines = (tmp_path / "m.frontier.csv").read_text().splitlines()
    assert len(lines) == 4 and lines[0].startswith("model,l1")
    assert (tmp_path / "m.frontier.png").stat().st_size > 0
    chosen = ftrlx.load(model)
    assert chosen.l1 == summary["selected"]["l1"] and chosen.n_nonzero_ == summary["selected"]["n_nonzero"]
    assert main(["train", str(criteo_tsv), "--l1", "1,2", "--checkpoint", str(tmp_path / "c"), "-o", str(model)]) == 2


def test_train_prints_the_per_row_progressive_log_loss(criteo_tsv, tmp_path, capsys):
    """The printed progressive log loss is that of a loop that predicts each row, then trains on it."""
    assert (
        main(
            [
                "train",
                str(criteo_tsv),
                "--format",
                "criteo",
                "--bits",
                "12",
                "--chunk-size",
                "700",
                "-o",
                str(tmp_path / "m.ftrlx"),
                "--json",
                "-q",
            ]
        )
        == 0
    )
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    est = ftrlx.FTRLClassifier()
    ys, ps = [], []
    for X, y in iter_criteo(criteo_tsv, chunk_size=1000, hasher=criteo_hasher(2**12)):
        for i in range(X.shape[0]):
            row = X[i]
            ps.append(est.predict_proba(row)[0, 1] if hasattr(est, "state_") else 0.5)
            ys.append(y[i])
            est.partial_fit(row, y[i : i + 1], classes=[0, 1])
    assert summary["progressive_logloss"] == pytest.approx(log_loss(ys, ps), rel=1e-9)
    assert summary["nnz"] == est.n_nonzero_
    np.testing.assert_array_equal(ftrlx.load(tmp_path / "m.ftrlx").coef_, est.coef_)


def test_train_reads_ahead_while_importing_and_trains_the_same_model(criteo_tsv, tmp_path, capsys, monkeypatch):
    """The first chunks are read while the estimator is made: the model is the one of fit_stream on the file."""
    from ftrlx import _cli_train
    from ftrlx.stream import _source

    started = []

    class Counted(_source.HeadStart):
        def take(self):
            started.append(len(self._held))
            return super().take()

    monkeypatch.setattr(_source, "HeadStart", Counted)
    monkeypatch.setattr(_cli_train, "HEAD_START_CHUNKS", 3)
    model = tmp_path / "m.ftrlx"
    argv = ["train", str(criteo_tsv), "--format", "criteo", "--bits", "12", "--chunk-size", "500", "-q"]
    assert main([*argv, "-o", str(model)]) == 0
    assert len(started) == 1
    est = ftrlx.FTRLClassifier()
    ftrlx.fit_stream(est, iter_criteo(criteo_tsv, chunk_size=500, hasher=criteo_hasher(2**12)), progress=False)
    got = ftrlx.load(model)
    for key, value in est.__getstate__().items():
        if isinstance(value, np.ndarray):
            assert value.tobytes() == got.__getstate__()[key].tobytes(), key
    # a bad value is still a usage error once the input is being read, and nothing is written
    bad = tmp_path / "bad.ftrlx"
    assert main([*argv, "--alpha", "-1", "-o", str(bad)]) == 2
    assert "alpha" in capsys.readouterr().err
    assert not bad.exists()


@pytest.mark.parametrize("loss", ["hinge", "modified_huber"])
def test_evaluate_bins_the_margins_of_a_model_without_probabilities(loss, criteo_tsv, tmp_path, capsys, monkeypatch):
    # past the AUC's exact rows the scores go into bins: a margin model's decision values are binned as margins
    # (binned as probabilities, every negative margin would share one bin and the AUC would drop)
    import ftrlx.metrics

    model = tmp_path / "m.ftrlx"
    args = ["--format", "criteo", "--bits", "12", "--loss", loss, "-o", str(model), "-q"]
    assert main(["train", str(criteo_tsv), *args]) == 0
    capsys.readouterr()

    def evaluate():
        assert (
            main(["evaluate", str(model), str(criteo_tsv), "--format", "criteo", "--chunk-size", "500", "--json"]) == 0
        )
        return json.loads(capsys.readouterr().out)["auc"]

    exact = evaluate()

    class Binned(ftrlx.metrics.RunningAUC):  # exact for the first chunk only
        def __init__(self, exact_limit=500, **kwargs):
            super().__init__(exact_limit=exact_limit, **kwargs)

    monkeypatch.setattr(ftrlx.metrics, "RunningAUC", Binned)
    binned = evaluate()
    assert 0.6 < exact and abs(binned - exact) < 1e-3
