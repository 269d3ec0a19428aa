"""ftrlx train reports the per-row progressive validation of the kernel."""

import json

import numpy as np
import pytest
from sklearn.metrics import log_loss

import ftrlx
from ftrlx.cli import main
from ftrlx.datasets import criteo_hasher, iter_criteo, write_click_data


@pytest.fixture(scope="module")
def criteo_tsv(tmp_path_factory):
    path = tmp_path_factory.mktemp("tsv") / "clicks.tsv"
    write_click_data(path, 3000, seed=2)
    return path


def test_train_prints_the_per_row_progressive_log_loss(criteo_tsv, tmp_path, capsys):
    """The printed progressive log loss is that of a loop that predicts each row, then trains on it."""
    assert main(["train", str(criteo_tsv), "--format", "criteo", "--bits", "12", "--chunk-size", "700",
                 "-o", str(tmp_path / "m.ftrlx"), "--json", "-q"]) == 0
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    est = ftrlx.FTRLClassifier()
    ys, ps = [], []
    for X, y in iter_criteo(criteo_tsv, chunk_size=1000, hasher=criteo_hasher(2**12)):
        for i in range(X.shape[0]):
            row = X[i]
            ps.append(est.predict_proba(row)[0, 1] if hasattr(est, "state_") else 0.5)
            ys.append(y[i])
            est.partial_fit(row, y[i:i + 1], classes=[0, 1])
    assert summary["progressive_logloss"] == pytest.approx(log_loss(ys, ps), rel=1e-9)
    assert summary["nnz"] == est.n_nonzero_
    np.testing.assert_array_equal(ftrlx.load(tmp_path / "m.ftrlx").coef_, est.coef_)
