"""Regression tests of command-line defects: quiet flags, standard input, pipes, help, flag-named remedies,
ignored columns, class weights and provenance."""

import gzip
import json
import subprocess
import sys

import pytest

import ftrlx
from ftrlx.cli import _cli_remedies, build_parser, main


def run(*args, stdin=None):
    proc = subprocess.run(
        [sys.executable, "-m", "ftrlx", *map(str, args)], input=stdin, capture_output=True, timeout=300
    )
    return proc.returncode, proc.stdout.decode(), proc.stderr.decode()


@pytest.fixture(scope="module")
def svm_file(click_log):
    return click_log(1500, seed=3, name="clicks.svm", format="svmlight", n_features=2**10)


@pytest.mark.parametrize("where", ["before", "after"])
def test_quiet_before_or_after_the_command(where, tmp_path, capsys):
    args = ["demo", "--rows", "3000", "--chunk-size", "1000", "--bits", "12", "--no-plot"]
    args = ["-q", *args] if where == "before" else [*args, "-q"]
    assert build_parser().parse_args(args).quiet is True
    assert main(args) == 0
    out, err = capsys.readouterr()
    assert err == ""
    assert json.loads(out)["rows"] == 3000


def test_train_twice_from_gzip_on_standard_input(svm_file, tmp_path):
    data = gzip.compress(svm_file.read_bytes())
    model = tmp_path / "m.ftrlx"
    rc, out, err = run(
        "train", "-", "--format", "svmlight", "--bits", "10", "--epochs", "2", "-o", model, "--json", "-q", stdin=data
    )
    assert rc == 0, err
    assert json.loads(out)["rows"] == 3000  # two passes over the 1500 rows
    rc, out, err = run(
        "train", "-", "--format", "svmlight", "--bits", "10", "-o", model, "--json", "-q", stdin=svm_file.read_bytes()
    )
    assert rc == 0 and json.loads(out)["rows"] == 1500


def test_epochs_must_be_positive(svm_file, tmp_path):
    rc, _, err = run("train", svm_file, "--epochs", "0", "-o", tmp_path / "m.ftrlx")
    assert rc == 2 and "--epochs" in err


def test_predict_into_a_closed_pipe_is_not_an_error(svm_file, tmp_path):
    model = tmp_path / "m.ftrlx"
    assert run("train", svm_file, "--bits", "10", "-o", model, "-q")[0] == 0
    proc = subprocess.run(
        f"{sys.executable} -m ftrlx predict {model} {svm_file} | head -n 2",
        shell=True,
        capture_output=True,
        text=True,
        timeout=300,
        executable="/bin/bash",
    )
    assert len(proc.stdout.splitlines()) == 2
    assert "Broken pipe" not in proc.stderr and "Error" not in proc.stderr


def test_help_texts_say_what_the_defaults_are(capsys):
    with pytest.raises(SystemExit):
        build_parser().parse_args(["predict", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "from the file name" not in text and "(default: as recorded in the model)" in text
    assert "sniffed" not in text


def test_remedies_name_the_flags():
    assert _cli_remedies("x.csv:3: bad; fix the line or pass on_bad_lines='skip'").endswith("--on-bad-lines skip")
    assert _cli_remedies(
        "FTRLClassifier: alpha=-1 is not valid. Fix it with set_params(alpha=...) or in the constructor."
    ).endswith("Fix it with --alpha.")
    assert (
        _cli_remedies("Fix it with set_params(batch_size=...) or in the constructor.")
        == "Fix it with --param batch_size=VALUE."
    )


def test_bad_hyper_parameter_names_the_flag(svm_file, tmp_path):
    rc, _, err = run("train", svm_file, "--param", "batch_size=0", "-o", tmp_path / "m.ftrlx")
    assert rc in (1, 2) and "--param batch_size=VALUE" in err and "set_params" not in err


def _csv(tmp_path):
    path = tmp_path / "t.csv"
    rows = ["y,site,leak"] + [f"{i % 2},s{i % 7},{'t' if i % 2 else ''}{i}" for i in range(400)]
    path.write_text("\n".join(rows) + "\n")
    return path


def test_ignore_drops_a_leaking_column(tmp_path):
    path = _csv(tmp_path)
    leaky, clean = tmp_path / "leaky.ftrlx", tmp_path / "clean.ftrlx"
    assert main(["train", str(path), "--label", "y", "--bits", "12", "-o", str(leaky), "-q"]) == 0
    assert main(["train", str(path), "--label", "y", "--bits", "12", "--ignore", "leak", "-o", str(clean), "-q"]) == 0
    spec = ftrlx.io.read_header(clean)["metadata"]["training"]["hasher_spec"]
    assert spec["categorical"] == ["site"]
    assert ftrlx.load(clean).n_nonzero_ < ftrlx.load(leaky).n_nonzero_


def test_class_weight_from_the_command_line(tmp_path, capsys):
    path = _csv(tmp_path)
    model = tmp_path / "w.ftrlx"
    assert (
        main(
            [
                "train",
                str(path),
                "--label",
                "y",
                "--ignore",
                "leak",
                "--class-weight",
                "0:1,1:5",
                "-o",
                str(model),
                "-q",
            ]
        )
        == 0
    )
    assert ftrlx.load(model).class_weight == {0: 1.0, 1: 5.0}
    assert main(["train", str(path), "--label", "y", "--class-weight", "1=5", "-o", str(model)]) == 2
    assert "LABEL:WEIGHT" in capsys.readouterr().err


def test_info_shows_provenance_and_escapes_control_characters(tmp_path, capsys):
    path = _csv(tmp_path)
    model = tmp_path / "m.ftrlx"
    assert main(["train", str(path), "--label", "y", "--ignore", "leak", "--l1", "0.5", "-o", str(model), "-q"]) == 0
    capsys.readouterr()
    assert main(["info", str(model)]) == 0
    out = capsys.readouterr().out
    assert "t.csv" in out and '"l1": 0.5' in out and '"categorical": ["site"]' in out
    evil = tmp_path / "evil.ftrlx"
    ftrlx.save(ftrlx.load(model), evil, metadata={"rows_seen": 1, "training": {"inputs": ["a\n\x1b[31mfake"]}})
    assert main(["info", str(evil)]) == 0
    out = capsys.readouterr().out
    assert "\x1b" not in out
    inputs_line = next(line for line in out.splitlines() if line.startswith("inputs"))
    assert "fake" in inputs_line  # one line: the newline in the file did not start a line of output


@pytest.mark.parametrize("flag", ["-o", "--checkpoint", "--history", "--sparse-output"])
def test_unwritable_outputs_are_refused_before_training(flag, svm_file, tmp_path, capsys):
    outputs = {"-o": str(tmp_path / "m.ftrlx")}
    outputs[flag] = str(tmp_path / "missing" / "out")
    args = ["train", str(svm_file), "--bits", "10", "-q"] + [x for kv in outputs.items() for x in kv]
    assert main(args) == 1
    err = capsys.readouterr().err
    assert flag in err and "missing" in err
    assert not (tmp_path / "m.ftrlx").exists()


def test_a_model_that_cannot_be_written_at_the_end_is_saved_elsewhere(svm_file, tmp_path, capsys, monkeypatch):
    import ftrlx.cli as cli

    real_save = ftrlx.save

    def failing_save(est, path, metadata=None):
        if str(path) == str(target):  # only the -o file: the rescue file's random name may end in "m.ftrlx" too
            raise PermissionError(13, "Permission denied")
        return real_save(est, path, metadata=metadata)

    target = tmp_path / "m.ftrlx"
    monkeypatch.setattr(ftrlx, "save", failing_save)
    assert cli.main(["train", str(svm_file), "--bits", "10", "-o", str(target), "-q"]) == 1
    err = capsys.readouterr().err
    assert "saved to '" in err, err
    rescued = err.split("saved to '")[1].split("'")[0]
    assert ftrlx.load(rescued).n_features_in_ == 2**10
    __import__("os").remove(rescued)
