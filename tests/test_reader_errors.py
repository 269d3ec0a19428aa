"""Bad input to the readers and the command line: every case a ValueError naming the file (and line), lines that
``on_bad_lines='skip'`` can skip, usage errors with exit status 2."""

import bz2
import gzip

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import scipy.sparse as sp

import ftrlx
from ftrlx.cli import main
from ftrlx.datasets import iter_csv, iter_parquet, iter_svmlight, write_click_data


@pytest.mark.parametrize("engine", ["compiled", "python"])
@pytest.mark.parametrize(
    "line, what",
    [
        ("1 1:nan", "value nan of feature 1 is not a finite number"),
        ("1 1:inf 2:1", "value inf of feature 1 is not a finite number"),
        ("1 1:1e400", "value inf of feature 1 is not a finite number"),
        ("nan 1:1", "label nan is not a finite number"),
    ],
)
def test_svmlight_values_that_are_not_finite_are_bad_lines(engine, line, what, tmp_path):
    path = tmp_path / "x.svm"
    path.write_text(f"1 1:1\n{line}\n0 2:1\n")
    reader = iter_svmlight(path, binary=False, n_features=4)
    reader._engine = engine
    with pytest.raises(ValueError, match=rf"x.svm:2: {what}"):
        list(reader)
    reader = iter_svmlight(path, binary=False, n_features=4, on_bad_lines="skip")
    reader._engine = engine
    ((X, y),) = list(reader)
    assert y.tolist() == [1, 0] and reader.skipped == 1 and np.isfinite(X.data).all()


def test_csv_labels_and_values_that_are_not_finite_are_bad_lines(tmp_path):
    path = tmp_path / "x.csv"
    path.write_text("y,a,p\n1,x,1\nnan,y,2\n1,z,inf\n0,w,1e400\n0,q,1\n")
    with pytest.raises(ValueError, match=r"x.csv:3: label 'nan' is not a finite number"):
        list(iter_csv(path, label="y", numeric=["p"]))
    reader = iter_csv(path, label="y", numeric=["p"], on_bad_lines="skip")
    ((X, y),) = list(reader)
    assert y.tolist() == [1, 0] and reader.skipped == 3


def test_parquet_labels_are_checked_and_skippable(tmp_path):
    path = tmp_path / "x.parquet"
    pq.write_table(pa.table({"y": [1.0, float("nan"), None, 0.0], "a": ["x", "y", "z", "w"]}), path)
    with pytest.raises(ValueError, match=r"x.parquet:2: label nan is not a finite number"):
        list(iter_parquet(path, label="y", categorical=["a"]))
    reader = iter_parquet(path, label="y", categorical=["a"], on_bad_lines="skip")
    ((X, y),) = list(reader)
    assert y.tolist() == [1, 0] and reader.skipped == 2


def test_command_line_labels_outside_0_1_are_bad_lines(tmp_path, capsys):
    path = tmp_path / "x.csv"
    path.write_text("y,a\n" + "".join(f"{i % 2},s{i % 3}\n" for i in range(50)) + "2,s1\n-1,s2\n")
    model = tmp_path / "m.ftrlx"
    assert main(["train", str(path), "--label", "y", "--bits", "8", "-o", str(model), "-q"]) == 1
    assert "x.csv:52: label '2' is not one of 0, 1" in capsys.readouterr().err
    assert (
        main(["train", str(path), "--label", "y", "--bits", "8", "-o", str(model), "-q", "--on-bad-lines", "skip"]) == 0
    )


def _truncated_gzip(path):
    data = gzip.compress(b"1 1:1\n" * 20000)
    path.write_bytes(data[: len(data) // 2])


def _truncated_bz2(path):
    data = bz2.compress(b"1 1:1\n" * 20000)
    path.write_bytes(data[: len(data) // 2])


@pytest.mark.parametrize(
    "name, make, read, what",
    [
        ("t.svm.gz", _truncated_gzip, iter_svmlight, "ends early"),
        ("t.svm.bz2", _truncated_bz2, iter_svmlight, "ends early"),
        ("n.svm.gz", lambda p: p.write_bytes(b"1 1:1\n"), iter_svmlight, "not a valid gzip file"),
        ("u.csv", lambda p: p.write_bytes(b"y,a\n1,caf\xe9\n"), lambda p: iter_csv(p, label="y"), "UTF8"),
        ("h.csv", lambda p: p.write_bytes(b"y,caf\xe9\n1,x\n"), lambda p: iter_csv(p, label="y"), "not UTF-8"),
        ("d.csv", lambda p: p.write_text("y,a,a\n1,x,z\n"), lambda p: iter_csv(p, label="y"), "more than once"),
        ("t.parquet", lambda p: p.write_bytes(b"PAR1" + b"\0" * 40), lambda p: iter_parquet(p, label="y"), "Parquet"),
    ],
)
def test_unreadable_inputs_name_the_file(name, make, read, what, tmp_path):
    path = tmp_path / name
    make(path)
    with pytest.raises(ValueError, match=what) as info:
        list(read(path))
    assert str(info.value).startswith(str(path))


def test_a_utf8_byte_order_mark_is_dropped(tmp_path):
    svm, csv = tmp_path / "b.svm", tmp_path / "b.csv"
    svm.write_bytes(b"\xef\xbb\xbf1 1:1\n0 2:1\n")
    csv.write_bytes(b"\xef\xbb\xbfy,a\n1,x\n0,y\n")
    ((X, y),) = list(iter_svmlight(svm))
    assert y.tolist() == [1, 0]
    ((X, y),) = list(iter_csv(csv, label="y"))
    assert y.tolist() == [1, 0]


def test_an_empty_chunk_after_the_first_does_not_stop_the_stream():
    X = sp.random(10, 5, density=0.5, format="csr", random_state=0)
    y = np.arange(10) % 2
    history = ftrlx.fit_stream(ftrlx.FTRLClassifier(), [(X, y), (X[:0], y[:0]), (X, y)], progress=False)
    assert [r["rows"] for r in history] == [10, 0, 10] and history[-1]["rows_seen"] == 20


@pytest.fixture(scope="module")
def svm_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("svm") / "c.svm"
    write_click_data(path, 300, format="svmlight", seed=0, n_features=2**8)
    return path


@pytest.mark.parametrize(
    "flags",
    [
        ["--chunk-size", "0"],
        ["--chunk-size", "-5"],
        ["--epochs", "0"],
        ["--max-rows", "0"],
        ["--holdout-every", "0"],
        ["--nnz-every", "0"],
        ["--checkpoint-every", "0", "--checkpoint", "CKPT"],
        ["--alpha", "-1"],
        ["--l1", "-1"],
        ["--loss", "squared_error"],
        ["--param", "batch_size=0"],
        ["--param", "alpha=nan"],
        ["--param", "nope=1"],
        ["--class-weight", "0:-1,1:1"],
        ["--class-weight", "0:x"],
        ["--bits", "0"],
        ["--algo", "rda", "--eta0", "1"],
        ["--resume"],
    ],
)
def test_usage_errors_exit_2(flags, svm_file, tmp_path, capsys):
    flags = [str(tmp_path / "c.ckpt") if f == "CKPT" else f for f in flags]
    assert main(["train", str(svm_file), "-o", str(tmp_path / "m.ftrlx"), "-q", *flags]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") <= 2 and "error" in err
    assert not (tmp_path / "m.ftrlx").exists()


def test_predict_usage_errors_exit_2(svm_file, tmp_path, capsys):
    model = tmp_path / "m.ftrlx"
    assert main(["train", str(svm_file), "--bits", "8", "-o", str(model), "-q"]) == 0
    assert main(["predict", str(model), str(svm_file), "--chunk-size", "0"]) == 2
    assert main(["evaluate", str(model), str(svm_file), "--chunk-size", "0"]) == 2
