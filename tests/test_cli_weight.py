"""Importance weights from a column: ``iter_csv(weight=)``, ``iter_parquet(weight=)`` and ``ftrlx train --weight``."""

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import ftrlx
import ftrlx.io
from ftrlx.cli import main
from ftrlx.datasets import iter_csv, iter_parquet
from ftrlx.stream import fit_stream


def _rows(n=600, seed=0):
    rng = np.random.default_rng(seed)
    site = rng.choice(["news", "shop", "mail", "game"], n)
    dev = rng.choice(["a", "b", "c"], n)
    y = ((site == "news") ^ (rng.random(n) < 0.15)).astype(int)
    w = rng.choice([0.0, 1.0, 2.5], n)
    return y, w, site, dev


def _write_csv(path, y, w, site, dev, with_weight=True):
    head = "y,w,site,dev" if with_weight else "y,site,dev"
    lines = [f"{a},{b:g},{c},{d}" if with_weight else f"{a},{c},{d}" for a, b, c, d in zip(y, w, site, dev)]
    path.write_text(head + "\n" + "\n".join(lines) + "\n")
    return path


def test_iter_csv_weight_column_is_read_and_never_hashed(tmp_path):
    y, w, site, dev = _rows(50)
    weighted = _write_csv(tmp_path / "w.csv", y, w, site, dev)
    plain = _write_csv(tmp_path / "p.csv", y, w, site, dev, with_weight=False)
    chunks = list(iter_csv(weighted, "y", weight="w", chunk_size=20))
    assert [len(c) for c in chunks] == [3, 3, 3]
    np.testing.assert_array_equal(np.concatenate([c[2] for c in chunks]), w)
    for (X, yy, _), (X0, y0) in zip(chunks, iter_csv(plain, "y", chunk_size=20)):
        assert (X != X0).nnz == 0 and np.array_equal(yy, y0)
    assert [len(c) for c in iter_csv(weighted, "y", categorical=["site"])] == [2]  # no weight= : (X, y)


@pytest.mark.parametrize("bad", ["-1", "nan", "inf", "", "x"])
def test_a_bad_weight_is_a_bad_line(tmp_path, bad):
    path = tmp_path / "b.csv"
    path.write_text(f"y,w,site\n1,1,news\n0,{bad},shop\n1,2,news\n")
    with pytest.raises(ValueError, match=r"b\.csv:3: weight .* is not a finite number >= 0"):
        list(iter_csv(path, "y", weight="w"))
    reader = iter_csv(path, "y", weight="w", on_bad_lines="skip")
    assert [c[2].tolist() for c in reader] == [[1.0, 2.0]] and reader.skipped == 1
    with pytest.raises(ValueError, match="no weight column 'v'"):
        list(iter_csv(path, "y", weight="v"))
    with pytest.raises(ValueError, match="also the label or a feature"):
        list(iter_csv(path, "y", categorical=["site", "w"], weight="w"))


def test_iter_parquet_weight(tmp_path):
    path = tmp_path / "t.parquet"
    pq.write_table(pa.table({"y": [1, 0, 1, 0], "w": [1.0, -2.0, 3.0, None], "app": ["a", "b", "a", "c"]}), path)
    with pytest.raises(ValueError, match=r"t\.parquet:2: weight -2\.0 is not a finite number >= 0"):
        list(iter_parquet(path, "y", weight="w"))
    reader = iter_parquet(path, "y", weight="w", on_bad_lines="skip")
    ((X, y, w),) = list(reader)
    assert w.tolist() == [1.0, 3.0] and y.tolist() == [1.0, 1.0] and reader.skipped == 2
    assert X.nnz == 2  # the weight is not a feature: one hashed app value per row
    pq.write_table(pa.table({"y": [1], "w": ["1"], "app": ["a"]}), path)
    with pytest.raises(ValueError, match="weight column 'w' has type string"):
        list(iter_parquet(path, "y", weight="w"))


def test_train_weight_is_the_sample_weight_and_recorded(tmp_path, capsys):
    y, w, site, dev = _rows()
    path = _write_csv(tmp_path / "t.csv", y, w, site, dev)
    model, plain = tmp_path / "m.ftrlx", tmp_path / "p.ftrlx"
    assert (
        main(["train", str(path), "--label", "y", "--weight", "w", "--chunk-size", "100", "-o", str(model), "-q"]) == 0
    )
    assert (
        main(["train", str(path), "--label", "y", "--ignore", "w", "--chunk-size", "100", "-o", str(plain), "-q"]) == 0
    )
    est = ftrlx.FTRLClassifier()
    fit_stream(est, iter_csv(path, "y", categorical=["site", "dev"], weight="w", chunk_size=100), progress=False)
    trained = ftrlx.load(model)
    np.testing.assert_array_equal(trained.coef_, est.coef_)
    assert not np.array_equal(trained.coef_, ftrlx.load(plain).coef_)
    training = ftrlx.io.read_header(model)["metadata"]["training"]
    assert training["reader"]["weight"] == "w" and training["options"]["weight"] == "w"
    assert training["hasher_spec"]["categorical"] == ["site", "dev"]
    # predict leaves the column out: the predictions of the file without it
    bare = _write_csv(tmp_path / "bare.csv", y, w, site, dev, with_weight=False)
    capsys.readouterr()
    assert main(["predict", str(model), str(path)]) == 0
    with_w = capsys.readouterr().out
    assert main(["predict", str(model), str(bare)]) == 0
    assert capsys.readouterr().out == with_w and len(with_w.splitlines()) == y.size


def test_train_weight_errors_name_the_flags(tmp_path, capsys):
    path = tmp_path / "b.csv"
    path.write_text("y,w,site\n1,1,news\n0,-3,shop\n")
    assert main(["train", str(path), "--label", "y", "--weight", "w", "-o", str(tmp_path / "m.ftrlx"), "-q"]) == 1
    err = capsys.readouterr().err
    assert "b.csv:3: weight '-3'" in err and "--on-bad-lines skip" in err
    assert main(["train", str(path), "--label", "y", "--weight", "y", "-o", str(tmp_path / "m.ftrlx")]) == 2
    assert "also given to --label" in capsys.readouterr().err
    svm = tmp_path / "a.svm"
    svm.write_text("1 1:1\n0 2:1\n")
    assert main(["train", str(svm), "--weight", "w", "-o", str(tmp_path / "m.ftrlx")]) == 2
    assert "--weight reads a column" in capsys.readouterr().err
