"""The main job as a process of its own: ``python -m ftrlx train`` against the same job run in-process.

The process entry runs the command with the cyclic garbage collector off and the objects frozen at exit; the
model, the summary and the exit statuses must be those of :func:`ftrlx.cli.main`.
"""

import json
import os
import subprocess
import sys

import numpy as np
import pytest

import ftrlx
from ftrlx.cli import main
from ftrlx.datasets import write_click_data


def _run(*args):
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
    return subprocess.run([sys.executable, "-m", "ftrlx", *args], capture_output=True, text=True, env=env, timeout=300)


def test_process_trains_the_model_of_main(tmp_path, capsys):
    click_tsv = tmp_path / "clicks.tsv"
    write_click_data(click_tsv, 2500, seed=4)
    args = ["train", str(click_tsv), "--format", "criteo", "--bits", "14", "--chunk-size", "700", "--json", "--quiet"]
    proc = _run(*args, "-o", str(tmp_path / "a.ftrlx"))
    assert proc.returncode == 0, proc.stderr
    assert main(args + ["-o", str(tmp_path / "b.ftrlx")]) == 0
    inproc = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    sub = json.loads(proc.stdout.strip().splitlines()[-1])
    for key in ("rows", "progressive_logloss", "progressive_auc", "nnz"):
        assert sub[key] == inproc[key]
    a, b = ftrlx.load(tmp_path / "a.ftrlx"), ftrlx.load(tmp_path / "b.ftrlx")
    assert a.coef_.tobytes() == b.coef_.tobytes() and np.array_equal(a.intercept_, b.intercept_)


@pytest.mark.parametrize(
    "args",
    [["--version"], ["train"], ["train", "{tmp}/nowhere.tsv", "--format", "criteo"], ["train", "{tmp}/nowhere.tsv"]],
)
def test_process_keeps_the_exit_statuses(tmp_path, args, capsys):
    args = [a.format(tmp=tmp_path) for a in args]
    proc = _run(*args)
    assert proc.returncode == main(args)
    assert proc.stderr == capsys.readouterr().err
