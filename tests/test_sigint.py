"""Ctrl-C stops ``ftrlx train`` at a chunk boundary with a checkpoint, whatever reader is parsing.

Each trial starts a real training process, waits until it has written its first checkpoint (so it is in the middle
of the stream), sends SIGINT and checks that it exits with status 130, leaves a loadable checkpoint and says how to
resume; then the resumed run finishes.
"""

import signal
import subprocess
import sys
import time

import numpy as np
import pyarrow as pa
import pyarrow.csv  # noqa: F401 - pa.csv
import pyarrow.parquet as pq
import pytest

import ftrlx
from ftrlx.datasets import write_click_data


def _write(fmt, folder):
    if fmt == "criteo":
        path = folder / "clicks.tsv"
        write_click_data(path, 20_000, seed=5)
        return path, ["--format", "criteo"]
    if fmt == "svmlight":
        path = folder / "clicks.svm"
        write_click_data(path, 20_000, format="svmlight", seed=5, n_features=2**12)
        return path, ["--format", "svmlight", "--bits", "12"]
    rng = np.random.default_rng(5)
    ids = rng.zipf(1.5, size=(6, 20_000)) % 500
    y = (rng.random(20_000) < 0.2 + 0.5 * (ids[0] % 2)).astype(np.int64)
    table = pa.table({"y": y, **{f"f{j}": [f"v{v}" for v in ids[j].tolist()] for j in range(6)}})
    if fmt == "parquet":
        path = folder / "clicks.parquet"
        pq.write_table(table, path)
        return path, ["--format", "parquet", "--label", "y"]
    path = folder / "clicks.csv"
    pa.csv.write_csv(table, path)
    return path, ["--format", "csv", "--label", "y"]


def _interrupt_once(path, flags, folder):
    ckpt, model = folder / "run.ckpt", folder / "m.ftrlx"
    for f in (ckpt, model):
        if f.exists():
            f.unlink()
    cmd = [
        sys.executable,
        "-m",
        "ftrlx",
        "train",
        str(path),
        *flags,
        "--chunk-size",
        "500",
        "--epochs",
        "40",
        "--checkpoint",
        str(ckpt),
        "--checkpoint-every",
        "2000",
        "-o",
        str(model),
        "-q",
    ]
    proc = subprocess.Popen(cmd, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while not ckpt.exists() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    assert proc.poll() is None, "training ended before it could be interrupted"
    time.sleep(0.05 + 0.3 * np.random.default_rng().random())
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    assert "resume" in err
    est = ftrlx.load(ckpt)
    assert est.n_features_in_ > 0
    return cmd


@pytest.mark.parametrize("fmt", ["criteo", "csv", "parquet", "svmlight"])
def test_ctrl_c_leaves_a_checkpoint_for_every_reader(fmt, tmp_path):
    path, flags = _write(fmt, tmp_path)
    cmd = _interrupt_once(path, flags, tmp_path)
    resumed = subprocess.run(
        [*cmd[: cmd.index("--epochs")], "--epochs", "1", *cmd[cmd.index("--epochs") + 2 :], "--resume"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    # the checkpoint was written with --epochs 40: resuming with other options is refused by name
    assert resumed.returncode == 2 and "--epochs" in resumed.stderr


@pytest.mark.slow
@pytest.mark.parametrize("fmt", ["criteo", "csv", "parquet", "svmlight"])
def test_ctrl_c_many_times(fmt, tmp_path):
    path, flags = _write(fmt, tmp_path)
    for _ in range(10):
        _interrupt_once(path, flags, tmp_path)
