"""The README's "Coming from Vowpal Wabbit" block, run with bash on generated data."""

import gzip
import re
import shlex
import subprocess
import sys
from pathlib import Path

import ftrlx
from ftrlx.datasets import write_click_data

README = Path(__file__).resolve().parents[1] / "README.md"


def _block():
    text = README.read_text(encoding="utf-8")
    section = re.search(r"^## Coming from Vowpal Wabbit\n(.*?)^## ", text, re.S | re.M)
    assert section, "the README has no 'Coming from Vowpal Wabbit' section"
    block = re.search(r"```bash\n(.*?)```", section.group(1), re.S)
    assert block, "the VW section has no bash block"
    return block.group(1)


def test_the_vw_workflow_runs(tmp_path):
    write_click_data(tmp_path / "train.tsv", 12_000, seed=1)
    (tmp_path / "train.tsv.gz").write_bytes(gzip.compress((tmp_path / "train.tsv").read_bytes()))
    write_click_data(tmp_path / "test.tsv", 500, seed=2)
    # the lines to score: a tag in place of the label
    lines = (tmp_path / "test.tsv").read_text().splitlines()
    (tmp_path / "unlabeled.tsv").write_text("".join(f"r{i}\t{ln.split(chr(9), 1)[1]}\n" for i, ln in enumerate(lines)))
    script = f'set -euo pipefail\nftrlx() {{ {shlex.quote(sys.executable)} -m ftrlx "$@"; }}\n' + _block()
    proc = subprocess.run(["bash", "-c", script], cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout.splitlines()
    assert out[:3][0] == "tag,prediction" and out[1].startswith("r0,") and 0 < float(out[1].split(",")[1]) < 1
    top = [line.split() for line in out[3:]]
    assert len(top) == 10 and all(re.fullmatch(r"[+-]\d+\.\d+", t[1]) and "=" in t[2] for t in top)
    meta = ftrlx.io.read_header(tmp_path / "model.ftrlx")["metadata"]
    training = meta["training"]
    assert training["hasher_spec"]["interactions"] == [["C1", "C2"]]
    assert 1 <= training["passes"]["passes_trained"] <= 3 and len(training["passes"]["pass_holdout_logloss"]) >= 1
    assert "passes" in proc.stderr and "holdout log loss per pass" in proc.stderr
    assert (tmp_path / "run.ckpt").exists()
