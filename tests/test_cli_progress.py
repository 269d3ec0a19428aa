"""The progress table of ``ftrlx train`` (and ``fit_stream(table=)``): lines at doubling trained-row counts, their
numbers those of the history."""

import csv
import json
import math
import re

import numpy as np
import pytest
import scipy.sparse as sp

import ftrlx
from ftrlx.cli import main
from ftrlx.stream import ProgressTable, fit_stream


@pytest.fixture(scope="module")
def log(click_log):
    return str(click_log(9000, seed=3))


def _table_lines(err):
    lines = err.splitlines()
    start = next(i for i, line in enumerate(lines) if line.split()[:3] == ["rows", "logloss", "since"])
    # the progress bar's redraws (split at their carriage returns) are not table lines
    return [line.split() for line in lines[start + 1 :] if re.fullmatch(r"\s*[\d,]+( +[\d.,]+){3,5}", line)]


def _read_csv(path):
    with open(path) as fh:
        return [r for r in csv.DictReader(fh) if r["kind"] == "train"]


def _expected(records, first=1000):
    """The lines derived independently from the CSV: the first chunk at or past each doubling."""
    out, at, prev_n, prev_sum = [], first, 0, 0.0
    for r in records:
        n = int(r["rows_seen"])
        if n < at:
            continue
        while at <= n:
            at *= 2
        total = float(r["cum_logloss"]) * n
        out.append((n, float(r["cum_logloss"]), (total - prev_sum) / (n - prev_n), float(r["cum_auc"])))
        prev_n, prev_sum = n, total
    return out


def test_lines_at_doubling_rows_agree_with_the_history(log, tmp_path, capsys):
    hist = str(tmp_path / "h.csv")
    assert (
        main(["train", log, "-o", str(tmp_path / "m.ftrlx"), "--chunk-size", "700", "--history", hist, "--bits", "16"])
        == 0
    )
    err = capsys.readouterr().err
    lines = _table_lines(err)
    expected = _expected(_read_csv(hist))
    # 700-row chunks: the first chunks past 1000, 2000, 4000 and 8000 rows are at 1400, 2100, 4200 and 8400
    assert [n for n, *_ in expected] == [1400, 2100, 4200, 8400]
    assert [int(line[0].replace(",", "")) for line in lines] == [1400, 2100, 4200, 8400]
    for line, (_, loss, since, auc) in zip(lines, expected):
        assert float(line[1]) == pytest.approx(loss, abs=1e-6)
        assert float(line[2]) == pytest.approx(since, abs=1e-6)
        assert float(line[3]) == pytest.approx(auc, abs=1e-4)
    assert expected[1][2] != pytest.approx(expected[1][1], abs=1e-4)  # since-last is not the running mean


def test_json_has_the_progress_list_and_no_table_on_stderr(log, tmp_path, capsys):
    hist = str(tmp_path / "h.csv")
    assert (
        main(
            [
                "train",
                log,
                "-o",
                str(tmp_path / "m.ftrlx"),
                "--chunk-size",
                "1500",
                "--history",
                hist,
                "--bits",
                "16",
                "--nnz-every",
                "3000",
                "--json",
            ]
        )
        == 0
    )
    out, err = capsys.readouterr()
    assert "since" not in err
    progress = json.loads(out)["progress"]
    records = {int(r["chunk"]): r for r in _read_csv(hist)}
    assert [p["rows"] for p in progress] == [1500, 3000, 4500, 9000]
    assert [n for n, *_ in _expected(records.values())] == [1500, 3000, 4500, 9000]
    for p, (n, loss, since, auc) in zip(progress, _expected(records.values())):
        rec = records[p["chunk"]]
        assert p["rows"] == n and p["logloss"] == pytest.approx(loss) and p["since_last"] == pytest.approx(since)
        assert p["auc"] == pytest.approx(auc)
        # non-zeros only where the loop counted them (--nnz-every 3000: at 3000, 6000 and 9000 rows read)
        assert p["nnz"] == (int(rec["nnz"]) if p["rows"] in (3000, 9000) else None)
        assert p["rows_per_s"] > 0


def test_quiet_prints_no_table(log, tmp_path, capsys):
    assert main(["train", log, "-q", "-o", str(tmp_path / "m.ftrlx"), "--chunk-size", "700", "--bits", "16"]) == 0
    assert capsys.readouterr().err == ""


def _chunks(n, rows=300, seed=0):
    rng = np.random.default_rng(seed)
    for _ in range(n):
        X = sp.random(rows, 30, density=0.2, format="csr", random_state=rng)
        yield X, (X[:, :4].sum(axis=1).A.ravel() > 0.4).astype(int)


def test_one_line_per_chunk_holdout_skipped_and_resume_continues_the_doubling(tmp_path):
    table = ProgressTable(first=500)
    hist = fit_stream(ftrlx.FTRLClassifier(), _chunks(12), holdout_every=3, progress=False, table=table)
    # lines at the first trained chunk at or past 500, 1000, 2000; held-out records never make a line
    assert [line["rows"] for line in table.lines] == [600, 1200, 2100]
    assert all(hist[line["chunk"]]["kind"] == "train" for line in table.lines)
    # a chunk crossing several doublings gives one line
    big = ProgressTable(first=10)
    fit_stream(ftrlx.FTRLClassifier(), _chunks(3), progress=False, table=big)
    assert [line["rows"] for line in big.lines] == [300, 600, 900]  # 10 -> 320 -> 640 -> 1280
    # resumed: the restored records are replayed silently, the doubling goes on where it was
    ck = str(tmp_path / "ck.ftrlx")

    def crashing():
        yield from _chunks(5)
        raise RuntimeError("simulated crash")

    with pytest.raises(RuntimeError, match="simulated crash"):
        fit_stream(
            ftrlx.FTRLClassifier(),
            crashing(),
            progress=False,
            table=ProgressTable(first=500),
            checkpoint=ck,
            checkpoint_every=1,
        )
    printed = []
    resumed = ProgressTable(first=500, write=printed.append)
    fit_stream(ftrlx.FTRLClassifier(), _chunks(12), progress=False, table=resumed, checkpoint=ck, resume=True)
    assert [line["rows"] for line in resumed.lines] == [600, 1200, 2100]
    assert len(printed) == 2 and printed[1].split()[0] == "2,100"  # the header and the one new line
    assert not math.isnan(resumed.lines[-1]["rows_per_s"])
    with pytest.raises(TypeError, match="ProgressTable"):
        fit_stream(ftrlx.FTRLClassifier(), _chunks(1), progress=False, table="yes")
