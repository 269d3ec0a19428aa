"""``ftrlx train --interactions A,B``: crosses recorded in the model and applied again by predict."""

import json

import numpy as np
import pytest

import ftrlx
from ftrlx.cli import main
from ftrlx.datasets import iter_criteo, write_click_data
from ftrlx.hashing import CategoricalHasher


@pytest.fixture(scope="module")
def clicks(click_log):
    return click_log(3000, seed=6)


def test_crosses_are_trained_recorded_and_predicted_the_same_way(clicks, tmp_path, capsys):
    model, out = tmp_path / "m.ftrlx", tmp_path / "p.txt"
    assert (
        main(
            [
                "train",
                str(clicks),
                "--bits",
                "16",
                "-q",
                "-o",
                str(model),
                "--interactions",
                "C1,C2",
                "--interactions",
                "C3,I1",
                "--invert-rows",
                "20000",
            ]
        )
        == 0
    )
    spec = ftrlx.io.read_header(model)["metadata"]["training"]["hasher_spec"]
    assert spec["interactions"] == [["C1", "C2"], ["C3", "I1"]]
    assert main(["predict", str(model), str(clicks), "-o", str(out)]) == 0
    X, _ = next(iter(iter_criteo(clicks, chunk_size=10_000, hasher=CategoricalHasher.from_spec(spec))))
    expected = ftrlx.load(model).predict_proba(X)[:, 1]
    assert np.allclose(np.loadtxt(out), expected, rtol=0, atol=1e-9)
    assert main(["info", str(model), "--top", "2000", "--json"]) == 0
    features = [t["feature"] for t in json.loads(capsys.readouterr().out)["top_weights"]]
    assert any(f and f.startswith("C1=") and " ^ C2=" in f for f in features)


def test_vw_namespaces_cross_by_letter(tmp_path):
    data = tmp_path / "d.vw"
    write_click_data(data, 2000, seed=1, format="vw")
    model = tmp_path / "m.ftrlx"
    letters = ["f", "f"]  # the one namespace of the generated lines, crossed with itself (VW's -q ff)
    assert " |f " in data.read_text().splitlines()[0]
    assert main(["train", str(data), "-q", "-o", str(model), "--interactions", ",".join(letters)]) == 0
    reader = ftrlx.io.read_header(model)["metadata"]["training"]["reader"]
    assert reader["interactions"] == ["".join(letters)]
    assert main(["predict", str(model), str(data), "-o", str(tmp_path / "p.txt")]) == 0


@pytest.mark.parametrize("value, needle", [("C1", "two fields"), ("C1,X9", "no field 'X9'")])
def test_bad_interactions_are_usage_errors(clicks, tmp_path, capsys, value, needle):
    assert main(["train", str(clicks), "-q", "-o", str(tmp_path / "m.ftrlx"), "--interactions", value]) == 2
    err = capsys.readouterr().err
    assert "--interactions" in err and needle in err
