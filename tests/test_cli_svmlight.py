"""svmlight on the command line: the index base is decided once and recorded in the model, and any index trains at
a fixed width (folded), however late in the stream it comes."""

import numpy as np
import pytest

import ftrlx
import ftrlx.datasets._base as base
from ftrlx.cli import main
from ftrlx.io import read_header


def write(path, rows):
    path.write_text("".join(f"{y} " + " ".join(f"{j}:{v}" for j, v in feats) + "\n" for y, feats in rows))
    return path


def rows(n, seed, low=1, high=30, shift=0):
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        idx = np.sort(rng.choice(np.arange(low, high), size=3, replace=False))
        out.append((int(idx[0] % 2), [(int(j) + shift, 1) for j in idx]))
    return out


def reader_record(model):
    return read_header(model)["metadata"]["training"]["reader"]


def test_the_index_base_is_recorded_and_never_guessed_again(tmp_path, capsys):
    train = write(tmp_path / "train.svm", rows(400, 0))
    model = tmp_path / "m.ftrlx"
    assert main(["train", str(train), "-o", str(model), "-q"]) == 0
    assert reader_record(model)["zero_based"] is False
    # a test file holding index 0 is not silently read zero-based (every feature shifted by one)
    test = write(tmp_path / "test.svm", rows(50, 1, low=0))
    capsys.readouterr()
    assert main(["predict", str(model), str(test)]) == 1
    err = capsys.readouterr().err
    assert "feature index 0 in a file read as one-based" in err and "--zero-based" in err


def test_later_inputs_are_read_like_the_first(tmp_path, capsys):
    first = write(tmp_path / "a.svm", rows(100, 0))
    second = write(tmp_path / "b.svm", rows(100, 1, low=0))
    assert main(["train", str(first), str(second), "-o", str(tmp_path / "m.ftrlx"), "-q"]) == 1
    assert "b.svm" in capsys.readouterr().err


def test_zero_and_one_based_flags(tmp_path, capsys):
    data = rows(300, 2)
    one = write(tmp_path / "one.svm", data)
    zero = write(tmp_path / "zero.svm", [(y, [(j - 1, v) for j, v in feats]) for y, feats in data])
    m1, m0 = tmp_path / "m1.ftrlx", tmp_path / "m0.ftrlx"
    assert main(["train", str(one), "--one-based", "-o", str(m1), "-q"]) == 0
    # this file has no index 0 either: without the flag it would be read one-based
    assert main(["train", str(zero), "--zero-based", "-o", str(m0), "-q"]) == 0
    assert reader_record(m0)["zero_based"] is True
    np.testing.assert_array_equal(ftrlx.load(m1).coef_, ftrlx.load(m0).coef_)
    capsys.readouterr()
    assert main(["predict", str(m1), str(one)]) == 0
    p1 = capsys.readouterr().out
    assert main(["predict", str(m0), str(zero)]) == 0
    assert capsys.readouterr().out == p1


def test_an_index_that_grows_after_the_first_block_trains(tmp_path, monkeypatch, capsys):
    # the reader reads 4 KB blocks: the later, wider rows come in another block than the first
    monkeypatch.setattr(base, "BLOCK_BYTES", 4096)
    path = write(tmp_path / "grow.svm", rows(500, 3) + rows(500, 4, low=100, high=5000))
    assert path.stat().st_size > 3 * 4096
    model = tmp_path / "m.ftrlx"
    assert main(["train", str(path), "--chunk-size", "100", "-o", str(model), "-q"]) == 0
    est = ftrlx.load(model)
    assert est.n_features_in_ == 2**20 and read_header(model)["metadata"]["rows_seen"] == 1000
    # an index never seen in training is no error at predict time
    later = write(tmp_path / "later.svm", rows(20, 5, low=9000, high=9100))
    capsys.readouterr()
    assert main(["predict", str(model), str(later)]) == 0
    assert len(capsys.readouterr().out.splitlines()) == 20


@pytest.mark.parametrize("bits", [6, 12])
def test_bits_fold_svmlight_indices(bits, tmp_path):
    path = write(tmp_path / "wide.svm", rows(300, 6, high=3000))
    model = tmp_path / "m.ftrlx"
    assert main(["train", str(path), "--bits", str(bits), "-o", str(model), "-q"]) == 0
    assert ftrlx.load(model).n_features_in_ == 2**bits
