"""The inverted hash (``ftrlx train --invert-rows``) and ``ftrlx info --top N``."""

import json

import numpy as np
import pytest

import ftrlx
from ftrlx._cli_common import _hasher_for, _open
from ftrlx._invert import sample_map
from ftrlx.cli import main
from ftrlx.datasets import iter_criteo
from ftrlx.hashing import CategoricalHasher


@pytest.fixture(scope="module")
def clicks(click_log):
    return click_log(3000, seed=5)


def test_the_map_names_every_column_the_reader_hashes(clicks):
    cfg = {"format": "criteo"}
    hasher = _hasher_for(cfg, str(clicks), 16)
    inv = sample_map(_open(str(clicks), cfg, 1000, hasher=hasher), 1000)
    X, _ = next(iter(iter_criteo(clicks, chunk_size=1000, hasher=hasher)))
    assert set(np.unique(X.indices).tolist()) == set(inv.columns.tolist())
    labels = dict(zip(inv.columns.tolist(), inv.labels))
    first = clicks.read_text().splitlines()[0].split("\t")
    value = first[1 + 13]  # C1 of the first row
    one = CategoricalHasher(n_features=2**16, categorical=["C1"]).transform({"C1": np.array([value], dtype=object)})
    assert labels[int(one.indices[0])] == f"C1={value}"


def test_the_map_of_a_cross_names_both_fields(clicks):
    cfg = {"format": "criteo"}
    spec = dict(_hasher_for(cfg, str(clicks), 16).get_spec(), interactions=[["C1", "C2"]])
    hasher = CategoricalHasher.from_spec(spec)
    inv = sample_map(_open(str(clicks), cfg, 1000, hasher=hasher), 500)
    crosses = [label for label in inv.labels if " ^ " in label]
    assert crosses and all(label.startswith("C1=") and " ^ C2=" in label for label in crosses)


def test_info_top_prints_field_value_and_weight(clicks, tmp_path, capsys):
    model = tmp_path / "m.ftrlx"
    assert main(["train", str(clicks), "--bits", "16", "-q", "-o", str(model), "--invert-rows", "20000"]) == 0
    assert main(["info", str(model), "--top", "5", "--json"]) == 0
    top = json.loads(capsys.readouterr().out)["top_weights"]
    coef = ftrlx.load(model).coef_.ravel()
    assert [t["column"] for t in top] == np.argsort(-np.abs(coef), kind="stable")[:5].tolist()
    assert all(t["weight"] == coef[t["column"]] and "=" in t["feature"] for t in top)
    assert main(["info", str(model), "--top", "3"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 3 and lines[0].split()[2] == top[0]["feature"]
    stored = ftrlx.io.read_header(model)["metadata"]["inverse_map"]["columns"]
    assert len(stored) <= np.count_nonzero(coef)  # only columns with a weight are kept


def test_sparse_model_and_no_map(clicks, tmp_path, capsys):
    sparse = tmp_path / "m.sparse"
    assert (
        main(
            [
                "train",
                str(clicks),
                "--bits",
                "16",
                "-q",
                "-o",
                str(tmp_path / "m.ftrlx"),
                "--sparse-output",
                str(sparse),
                "--invert-rows",
                "20000",
            ]
        )
        == 0
    )
    assert main(["info", str(sparse), "--top", "2", "--json"]) == 0
    assert all("=" in t["feature"] for t in json.loads(capsys.readouterr().out)["top_weights"])
    plain = tmp_path / "plain.ftrlx"
    assert main(["train", str(clicks), "--bits", "16", "-q", "-o", str(plain), "--invert-rows", "0"]) == 0
    assert main(["info", str(plain), "--top", "2"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("# no inverse map") and out[1].split()[2].startswith("#")


@pytest.mark.parametrize(
    "argv, flag", [(["info", "M", "--top", "0"], "--top"), (["train", "C", "--invert-rows", "-1"], "--invert-rows")]
)
def test_bad_top_flags(clicks, tmp_path, capsys, argv, flag):
    model = tmp_path / "m.ftrlx"
    assert main(["train", str(clicks), "--bits", "12", "-q", "-o", str(model), "--invert-rows", "20000"]) == 0
    argv = [str(model) if a == "M" else str(clicks) if a == "C" else a for a in argv]
    assert main([*argv, "-q", "-o", str(tmp_path / "x.ftrlx")] if argv[0] == "train" else argv) == 2
    assert flag in capsys.readouterr().err
