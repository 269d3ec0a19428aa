"""``ftrlx train --keep FIELDS``: only these fields are features (csv, parquet, criteo), the complement of --ignore."""

import numpy as np
import pytest

import ftrlx
import ftrlx.io
from ftrlx.cli import main
from ftrlx.datasets import iter_criteo, write_click_data
from ftrlx.hashing import CategoricalHasher
from ftrlx.stream import fit_stream


@pytest.fixture
def table(tmp_path):
    rng = np.random.default_rng(0)
    path = tmp_path / "t.csv"
    rows = ["y,site,dev,price,leak"]
    for i in range(500):
        site, dev = f"s{rng.integers(6)}", f"d{rng.integers(3)}"
        rows.append(f"{int(site in ('s0', 's1'))},{site},{dev},{rng.random():.3f},{i}")
    path.write_text("\n".join(rows) + "\n")
    return path


def _spec(model):
    return ftrlx.io.read_header(model)["metadata"]["training"]["hasher_spec"]


def test_keep_is_the_complement_of_ignore(table, tmp_path):
    kept, ignored = tmp_path / "k.ftrlx", tmp_path / "i.ftrlx"
    assert main(["train", str(table), "--label", "y", "--keep", "dev,site", "-o", str(kept), "-q"]) == 0
    assert main(["train", str(table), "--label", "y", "--ignore", "price,leak", "-o", str(ignored), "-q"]) == 0
    assert sorted(_spec(kept)["categorical"]) == ["dev", "site"] and _spec(kept)["numeric"] == []
    a, b = ftrlx.load(kept), ftrlx.load(ignored)
    assert 0 < a.n_nonzero_ and ftrlx.io.read_header(kept)["metadata"]["training"]["reader"]["keep"] == ["dev", "site"]
    # the same fields, hashed in the order given: the same features, summed in another order at most
    np.testing.assert_allclose(a.coef_, b.coef_, rtol=1e-12, atol=0)


def test_keep_with_numeric_keeps_only_the_listed_numeric_fields(table, tmp_path, capsys):
    model = tmp_path / "n.ftrlx"
    assert (
        main(
            [
                "train",
                str(table),
                "--label",
                "y",
                "--numeric",
                "price,leak",
                "--keep",
                "site,price",
                "-o",
                str(model),
                "-q",
            ]
        )
        == 0
    )
    assert _spec(model)["categorical"] == ["site"] and _spec(model)["numeric"] == ["price"]
    capsys.readouterr()
    assert main(["predict", str(model), str(table)]) == 0
    assert len(capsys.readouterr().out.splitlines()) == 500


def test_keep_criteo_fields_compiled_and_pyarrow_paths_agree(tmp_path, capsys):
    log = tmp_path / "c.txt"
    write_click_data(log, 3000, format="criteo", seed=2)
    model = tmp_path / "c.ftrlx"
    assert (
        main(
            [
                "train",
                str(log),
                "--format",
                "criteo",
                "--keep",
                "I1,C1,C2,I5",
                "--bits",
                "16",
                "--chunk-size",
                "1000",
                "-o",
                str(model),
                "-q",
            ]
        )
        == 0
    )
    spec = _spec(model)
    assert spec["categorical"] == ["C1", "C2"] and spec["numeric"] == ["I1", "I5"]
    slow = iter_criteo(log, chunk_size=1000, hasher=CategoricalHasher.from_spec(spec))
    slow._compiled = False
    est = ftrlx.FTRLClassifier()
    fit_stream(est, slow, progress=False)
    np.testing.assert_array_equal(ftrlx.load(model).coef_, est.coef_)
    full = tmp_path / "full.ftrlx"
    assert main(["train", str(log), "--format", "criteo", "--bits", "16", "-o", str(full), "-q"]) == 0
    assert ftrlx.load(model).n_nonzero_ < ftrlx.load(full).n_nonzero_
    capsys.readouterr()
    assert main(["predict", str(model), str(log)]) == 0
    assert len(capsys.readouterr().out.splitlines()) == 3000


def test_keep_usage_errors_name_the_flag(table, tmp_path, capsys):
    out = ["-o", str(tmp_path / "m.ftrlx")]
    assert main(["train", str(table), "--label", "y", "--keep", "site,nope", *out]) == 2
    assert "--keep: no field 'nope'" in capsys.readouterr().err
    assert main(["train", str(table), "--label", "y", "--keep", "site", "--ignore", "leak", *out]) == 2
    assert "exclude each other" in capsys.readouterr().err
    assert main(["train", str(table), "--label", "y", "--keep", "site,y", *out]) == 2
    assert "'y' is the label" in capsys.readouterr().err
    svm = tmp_path / "a.svm"
    svm.write_text("1 1:1\n0 2:1\n")
    assert main(["train", str(svm), "--keep", "1", *out]) == 2
    assert "--keep chooses the fields" in capsys.readouterr().err
    log = tmp_path / "c.txt"
    write_click_data(log, 10, format="criteo", seed=0)
    assert main(["train", str(log), "--format", "criteo", "--keep", "C27", *out]) == 2
    assert "--keep: no field 'C27'" in capsys.readouterr().err
