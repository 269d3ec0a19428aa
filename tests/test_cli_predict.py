"""``ftrlx predict``: unlabelled files of every format, ids and tags, one output line per input line (bad lines
included), multiclass and regression models."""

import subprocess
import sys

import numpy as np
import pytest
import scipy.sparse as sp

import ftrlx
from ftrlx.cli import main
from ftrlx.datasets import write_click_data


def predict(capsys, *args):
    capsys.readouterr()
    rc = main(["predict", *map(str, args)])
    captured = capsys.readouterr()
    return rc, captured.out.splitlines(), captured.err


def strip_first_field(src, dst, extra=""):
    lines = src.read_text().splitlines()
    dst.write_text("".join(f"{extra.format(i)}{line.split(chr(9), 1)[1]}\n" for i, line in enumerate(lines)))


@pytest.fixture(scope="module")
def criteo(tmp_path_factory):
    d = tmp_path_factory.mktemp("criteo")
    train, test = d / "train.txt", d / "test.txt"
    write_click_data(train, 2000, format="criteo", seed=0)
    write_click_data(test, 300, format="criteo", seed=1)
    model = d / "m.ftrlx"
    assert main(["train", str(train), "--format", "criteo", "--bits", "14", "-o", str(model), "-q"]) == 0
    return model, test


def test_criteo_without_labels_is_scored_like_the_labelled_file(criteo, tmp_path, capsys):
    model, test = criteo
    unlabelled = tmp_path / "u.txt"
    strip_first_field(test, unlabelled)
    rc, labelled_out, _ = predict(capsys, model, test)
    assert rc == 0 and len(labelled_out) == 300
    rc, out, err = predict(capsys, model, unlabelled)
    assert rc == 0, err
    assert out == labelled_out


def test_criteo_with_an_id_field(criteo, tmp_path, capsys):
    model, test = criteo
    with_ids = tmp_path / "ids.txt"
    strip_first_field(test, with_ids, extra="row{}\t")
    rc, plain, _ = predict(capsys, model, test)
    rc, out, err = predict(capsys, model, with_ids, "--id", "rid")
    assert rc == 0, err
    assert out[0] == "rid,prediction"
    assert [line.split(",") for line in out[1:]] == [[f"row{i}", p] for i, p in enumerate(plain)]


def test_skipped_lines_give_nan_in_place(criteo, tmp_path, capsys):
    model, test = criteo
    lines = test.read_text().splitlines(keepends=True)
    damaged = tmp_path / "damaged.txt"
    # a short line, a bad label and a non-integer count, among good lines; a blank line gives no output
    bad_label = "7" + lines[5][1:]
    bad_count = lines[8].split("\t")
    bad_count[1] = "x"
    damaged.write_text(
        "".join(
            lines[:3]
            + ["short\tline\n"]
            + lines[3:5]
            + [bad_label]
            + lines[5:8]
            + ["\t".join(bad_count)]
            + ["\n"]
            + lines[8:]
        )
    )
    rc, plain, _ = predict(capsys, model, test)
    assert predict(capsys, model, damaged)[0] == 1
    rc, out, err = predict(capsys, model, damaged, "--on-bad-lines", "skip", "--chunk-size", "4")
    assert rc == 0, err
    expected = plain[:3] + ["nan"] + plain[3:5] + ["nan"] + plain[5:8] + ["nan"] + plain[8:]
    assert out == expected


@pytest.fixture(scope="module")
def svm(tmp_path_factory):
    d = tmp_path_factory.mktemp("svm")
    train, test = d / "train.svm", d / "test.svm"
    write_click_data(train, 1500, format="svmlight", seed=3, n_features=2**10)
    write_click_data(test, 200, format="svmlight", seed=4, n_features=2**10)
    model = d / "m.ftrlx"
    assert main(["train", str(train), "--bits", "10", "-o", str(model), "-q"]) == 0
    return model, test


def test_svmlight_lines_that_start_with_a_feature(svm, tmp_path, capsys):
    model, test = svm
    lines = test.read_text().splitlines()
    unlabelled = tmp_path / "u.svm"
    body = [line.split(" ", 1)[1] for line in lines]
    unlabelled.write_text("# features only\n" + "\n".join(body[:10]) + "\n5:oops\n" + "\n".join(body[10:]) + "\n")
    rc, plain, _ = predict(capsys, model, test)
    rc, out, err = predict(capsys, model, unlabelled, "--on-bad-lines", "skip")
    assert rc == 0, err
    assert out == plain[:10] + ["nan"] + plain[10:]


def test_vw_tags_are_written_like_vw(tmp_path, capsys):
    train, model = tmp_path / "t.vw", tmp_path / "m.ftrlx"
    rng = np.random.default_rng(0)
    rows = []
    for _ in range(400):
        a, b = rng.integers(0, 5, size=2)
        rows.append((int(a == b), f"|u id={a} |ad id={b}"))
    train.write_text("".join(f"{1 if y else -1} {feats}\n" for y, feats in rows))
    assert main(["train", str(train), "--bits", "12", "-o", str(model), "-q"]) == 0
    labelled, unlabelled = tmp_path / "l.vw", tmp_path / "u.vw"
    labelled.write_text("".join(f"{1 if y else -1} {feats}\n" for y, feats in rows[:20]))
    tags = [f"'r{i} " if i % 3 else "" for i in range(20)]
    unlabelled.write_text("".join(f"{t}{feats}\n" for t, (_, feats) in zip(tags, rows[:20])))
    rc, plain, _ = predict(capsys, model, labelled)
    rc, out, err = predict(capsys, model, unlabelled)
    assert rc == 0, err
    assert out == [f"{p} r{i}" if i % 3 else p for i, p in enumerate(plain)]
    assert len(set(plain)) > 1


def test_csv_without_the_label_column_and_an_id(tmp_path, capsys):
    train, test, model = tmp_path / "t.csv", tmp_path / "u.csv", tmp_path / "m.ftrlx"
    train.write_text("y,key,site\n" + "".join(f"{i % 2},k{i},s{i % 4}\n" for i in range(300)))
    test.write_text("key,site\n" + "".join(f"k{i},s{i % 4}\n" for i in range(12)))
    assert main(["train", str(train), "--label", "y", "--id", "key", "--bits", "10", "-o", str(model), "-q"]) == 0
    rc, out, err = predict(capsys, model, test)
    assert rc == 0, err
    assert out[0] == "key,prediction" and len(out) == 13
    assert [row.split(",")[0] for row in out[1:]] == [f"k{i}" for i in range(12)]
    # the id is not a feature: the rows of one site get one prediction
    assert len({row.split(",")[1] for row in out[1:]}) == 4


@pytest.fixture()
def tiny_svm(tmp_path):
    path = tmp_path / "x.svm"
    path.write_text("1:1 3:0.5\n2:1\n0:2 7:1\n")
    return path


def test_multiclass_model_writes_every_class(tiny_svm, tmp_path, capsys):
    X = sp.random(90, 8, density=0.3, format="csr", random_state=0)
    m = ftrlx.FTRLClassifier(random_state=0).fit(X, np.array(["cat", "dog", "fish"])[np.arange(90) % 3])
    ftrlx.save(m, tmp_path / "mc.ftrlx")
    rc, out, err = predict(capsys, tmp_path / "mc.ftrlx", tiny_svm, "--format", "svmlight", "--zero-based")
    assert rc == 0, err
    assert out[0] == "cat,dog,fish"
    Xt = sp.csr_matrix(([1, 0.5, 1, 2, 1], [1, 3, 2, 0, 7], [0, 2, 3, 5]), shape=(3, 8))
    np.testing.assert_array_equal(np.array([r.split(",") for r in out[1:]], dtype=float), m.predict_proba(Xt))


def test_regressor_model_writes_its_predictions(tiny_svm, tmp_path, capsys):
    X = sp.random(90, 8, density=0.3, format="csr", random_state=0)
    m = ftrlx.FTRLRegressor().fit(X, np.arange(90) / 10)
    ftrlx.save(m, tmp_path / "r.ftrlx")
    rc, out, err = predict(capsys, tmp_path / "r.ftrlx", tiny_svm, "--format", "svmlight", "--zero-based")
    assert rc == 0, err
    Xt = sp.csr_matrix(([1, 0.5, 1, 2, 1], [1, 3, 2, 0, 7], [0, 2, 3, 5]), shape=(3, 8))
    np.testing.assert_array_equal(np.array(out, dtype=float), m.predict(Xt))


def test_unlabelled_file_on_standard_input(criteo, tmp_path):
    model, test = criteo
    unlabelled = tmp_path / "u.txt"
    strip_first_field(test, unlabelled)
    proc = subprocess.run(
        [sys.executable, "-m", "ftrlx", "predict", str(model), "-"],
        input=unlabelled.read_bytes(),
        capture_output=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    assert len(proc.stdout.decode().splitlines()) == 300
