"""End-to-end tests of the ``ftrlx`` command line, run as ``python -m ftrlx``."""

import csv
import json
import re
import subprocess
import sys

import numpy as np
import pytest
from sklearn.metrics import log_loss, roc_auc_score

import ftrlx
import ftrlx.io
from ftrlx.cli import EPILOG, main
from ftrlx.datasets import iter_criteo, write_click_data


def run(*args, cwd=None):
    proc = subprocess.run(
        [sys.executable, "-m", "ftrlx", *map(str, args)], cwd=cwd, capture_output=True, text=True, timeout=300
    )
    return proc.returncode, proc.stdout, proc.stderr


@pytest.fixture(scope="module")
def click_files(tmp_path_factory):
    d = tmp_path_factory.mktemp("clicks")
    train, test = d / "train.txt", d / "test.txt"
    write_click_data(train, 6000, format="criteo", seed=0)
    # Same generator, later rows: the same click model, other impressions.
    write_click_data(test, 8000, format="criteo", seed=0)
    lines = test.read_text().splitlines(keepends=True)[6000:]
    test.write_text("".join(lines))
    return train, test


def test_train_info_predict_evaluate(click_files, tmp_path):
    train, test = click_files
    model, hist = tmp_path / "m.ftrlx", tmp_path / "h.csv"
    rc, out, err = run(
        "train",
        train,
        "--format",
        "criteo",
        "--bits",
        "16",
        "--chunk-size",
        "1000",
        "--l1",
        "0.5",
        "--param",
        "l2=2",
        "--holdout-every",
        "3",
        "--history",
        hist,
        "-o",
        model,
    )
    assert rc == 0, err
    assert "progressive" in err and "holdout" in err and "non-zero" in err
    assert model.exists() and hist.exists()
    rows = list(csv.DictReader(hist.open()))
    assert len(rows) == 6 and [r["kind"] for r in rows].count("holdout") == 2

    est = ftrlx.load(model)
    assert type(est) is ftrlx.FTRLClassifier
    assert est.l1 == 0.5 and est.l2 == 2 and est.n_features_in_ == 2**16

    rc, out, err = run("info", model)
    assert rc == 0, err
    assert "ftrlx.FTRLClassifier" in out and re.search(rf"^format_version +{ftrlx.io.FORMAT_VERSION}$", out, re.M)
    assert re.search(r"^rows_seen +4000$", out, re.M) and re.search(rf"^n_features +{2**16}$", out, re.M)
    rc, out, _ = run("info", model, "--json")
    info = json.loads(out)
    assert info["n_nonzero"] == int(np.count_nonzero(est.coef_))
    assert info["params"]["l1"] == 0.5

    pred = tmp_path / "p.txt"
    rc, out, err = run("predict", model, test, "-o", pred)
    assert rc == 0, err
    p = np.loadtxt(pred)
    # Independent check: the same hashing and the loaded model in this process.
    from ftrlx.datasets import criteo_hasher

    chunks = list(iter_criteo(test, chunk_size=500, hasher=criteo_hasher(2**16)))
    X = [c[0] for c in chunks]
    y = np.concatenate([c[1] for c in chunks])
    expected = np.concatenate([est.predict_proba(x)[:, 1] for x in X])
    assert p.shape == (2000,)
    np.testing.assert_array_equal(p, expected)  # repr round-trips float64 exactly

    rc, out, err = run("evaluate", model, test, "--json")
    assert rc == 0, err
    ev = json.loads(out)
    assert ev["rows"] == 2000
    assert ev["logloss"] == pytest.approx(log_loss(y, p), rel=1e-12)
    assert ev["auc"] == pytest.approx(roc_auc_score(y, p), rel=1e-12)
    assert ev["accuracy"] == pytest.approx(np.mean((p > 0.5) == (y == 1)), rel=1e-12)
    assert ev["auc"] > 0.6
    rc, out, _ = run("evaluate", model, test)
    assert rc == 0 and out.splitlines()[0].split() == ["rows", "2000"]


@pytest.mark.slow
def test_crash_then_resume_via_cli_matches_uninterrupted_run(click_files, tmp_path):
    train, _ = click_files
    lines = train.read_text().splitlines(keepends=True)
    first, second = tmp_path / "a.txt", tmp_path / "b.txt"
    first.write_text("".join(lines[:4000]))
    second.write_text("".join(lines[4000:4500]) + "this is not a criteo line\n")
    common = ["--format", "criteo", "--bits", "14", "--chunk-size", "1000", "-q"]
    ckpt = tmp_path / "run.ckpt"
    rc, _, err = run(
        "train",
        first,
        second,
        *common,
        "--checkpoint",
        ckpt,
        "--checkpoint-every",
        "1500",
        "-o",
        tmp_path / "never.ftrlx",
    )
    assert rc == 1 and err.startswith("ftrlx: error:"), err
    assert ckpt.exists() and not (tmp_path / "never.ftrlx").exists()
    assert ftrlx.io.read_header(ckpt)["metadata"]["rows_seen"] == 4000

    second.write_text("".join(lines[4000:]))  # the data, repaired
    rc, _, err = run(
        "train", first, second, *common, "--checkpoint", ckpt, "--resume", "-o", tmp_path / "resumed.ftrlx"
    )
    assert rc == 0, err
    rc, _, err = run("train", first, second, *common, "-o", tmp_path / "full.ftrlx")
    assert rc == 0, err
    a, b = ftrlx.load(tmp_path / "full.ftrlx"), ftrlx.load(tmp_path / "resumed.ftrlx")
    for key, value in a.__getstate__().items():
        if isinstance(value, np.ndarray):
            assert value.tobytes() == b.__getstate__()[key].tobytes(), key


def test_usage_errors_exit_2(click_files, tmp_path, capsys):
    train, _ = click_files
    for args, needle in [
        (["train"], "INPUT"),
        (["train", train, "--algo", "nope"], "invalid choice"),
        (["train", train, "--format", "criteo", "--param", "nosuch=1"], "NAME=VALUE"),
        (["train", train, "--format", "criteo", "--algo", "rda", "--alpha", "1"], "--alpha"),
        (["train", train, "--format", "criteo", "--resume"], "--checkpoint"),
        (["train", train, "--format", "criteo", "--bits", "40"], "--bits"),
        (["train", train], "--format"),
        (["frobnicate"], "invalid choice"),
        ([], "COMMAND"),
    ]:
        rc = main([str(a) for a in args])
        err = capsys.readouterr().err
        assert rc == 2, (args, err)
        assert needle in err, (args, err)
        assert "Traceback" not in err
    rc, _, err = run("train", train, "--algo", "nope")  # the real process exit status
    assert rc == 2 and "invalid choice" in err


def test_runtime_errors_exit_1_with_one_line(click_files, tmp_path, capsys):
    train, _ = click_files
    bad = tmp_path / "bad.ftrlx"
    bad.write_bytes(b"not a model")
    for args, needle in [
        (["train", tmp_path / "missing.txt", "--format", "criteo"], "does not exist"),
        (["info", bad], "not an ftrlx model file"),
        (["predict", tmp_path / "missing.ftrlx", train], "No such file"),
    ]:
        rc = main([str(a) for a in args])
        err = capsys.readouterr().err
        assert rc == 1, (args, err)
        assert err.count("\n") == 1 and err.startswith("ftrlx: error:"), err
        assert needle in err, err
    rc, _, err = run("info", bad, "--debug")
    assert rc == 1 and "Traceback" in err and "FormatError" in err


def test_help_everywhere():
    rc, out, _ = run("--help")
    assert rc == 0 and "exit status" in out and "130" in out
    for cmd in ("train", "predict", "evaluate", "info", "demo"):
        rc, out, _ = run(cmd, "--help")
        assert rc == 0 and f"usage: ftrlx {cmd}" in out
    assert "2    usage error" in EPILOG


def test_main_in_process_returns_status(capsys):
    assert main(["--version"]) == 0
    assert capsys.readouterr().out.strip() == f"ftrlx {ftrlx.__version__}"
    assert main(["info"]) == 2


def test_demo_small(tmp_path):
    plot = tmp_path / "demo.png"
    rc, out, err = run(
        "demo", "--rows", "20000", "--chunk-size", "5000", "--bits", "16", "--plot", plot, "-o", tmp_path / "demo.ftrlx"
    )
    assert rc == 0, err
    summary = json.loads(out.strip().splitlines()[-1])
    assert summary["rows"] == 20000 and summary["n_weights"] == 2**16
    assert 0 < summary["nnz"] < 2**16
    assert 0 < summary["progressive_logloss"] < np.log(2)
    assert summary["progressive_auc"] > 0.6
    assert "non-zero" in err and "plot written" in err
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert ftrlx.load(tmp_path / "demo.ftrlx").n_features_in_ == 2**16


def test_demo_without_matplotlib(tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import matplotlib now fails
    monkeypatch.chdir(tmp_path)
    assert main(["demo", "--rows", "3000", "--chunk-size", "1000", "--bits", "12", "-q"]) == 0
    assert "matplotlib is not installed" in capsys.readouterr().err
    assert not (tmp_path / "ftrlx-demo.png").exists()


def test_a_margin_classifier_trains_from_the_command_line_without_a_log_loss(click_files, tmp_path):
    # passive-aggressive (and any hinge-loss model) has no probabilities: its summary says so instead of "nan"
    train, test = click_files
    model = tmp_path / "pa.ftrlx"
    rc, out, err = run("train", train, "--format", "criteo", "--bits", "16", "--algo", "pa", "-o", model)
    assert rc == 0, err
    summary = next(line for line in err.splitlines() if line.startswith("progressive"))
    assert "log loss n/a" in summary and "nan" not in summary
    assert type(ftrlx.load(model)) is ftrlx.PassiveAggressiveClassifier
    rc, out, err = run("evaluate", model, test, "--format", "criteo")
    assert rc == 0, err
