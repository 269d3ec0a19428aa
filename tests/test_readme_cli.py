"""The README's command-line table on the public samples: its commands are run, its numbers checked."""

import json
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"
# model file of each command -> the first words of its row in the table
ROWS = {"criteo.ftrlx": "Criteo sample", "td.ftrlx": "TalkingData sample", "a9a.ftrlx": "a9a", "w8a.ftrlx": "w8a"}

pytestmark = pytest.mark.datasets


def _commands():
    text = README.read_text(encoding="utf-8")
    block = re.search(r"```bash\nD=\$FTRLX_DATA[^\n]*\n(.*?)```", text, re.S)
    assert block, "the README's dataset command block is missing"
    joined = block.group(1).replace("\\\n", " ")
    return [shlex.split(line) for line in joined.splitlines() if line.strip()]


def _table():
    rows = {}
    for line in README.read_text(encoding="utf-8").splitlines():
        for name in ROWS.values():
            if line.startswith(f"| {name} "):
                rows[name] = [cell.strip() for cell in line.strip("|").split("|")]
    return rows


def _number(text):
    return float(text.split()[0].replace(",", ""))


def _close(shown, value):
    """``value`` printed with the digits of ``shown`` reads ``shown``."""
    digits = len(shown.split(".")[1]) if "." in shown else 0
    return f"{value:.{digits}f}" == shown


def _run(argv, data, cwd):
    argv = [data if a == "$D" else a.replace("$D", str(data)) for a in argv]
    out = subprocess.run(
        [sys.executable, "-m", "ftrlx", *argv[1:], "--json", "-q"], cwd=cwd, capture_output=True, text=True, check=False
    )
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_the_readme_table_is_what_its_commands_print(datasets_dir, tmp_path):
    table, held_out, trained = _table(), {}, {}
    assert sorted(table) == sorted(ROWS.values())
    for argv in _commands():
        assert argv[0] == "ftrlx"
        result = _run(argv, datasets_dir, tmp_path)
        if argv[1] == "train":
            trained[argv[argv.index("-o") + 1]] = result
        elif argv[1] == "evaluate":
            held_out[argv[2]] = result
    assert sorted(trained) == sorted(ROWS)
    # the model file follows the model, not the 2^20 hashed columns: the Criteo sample's is under 1 MB
    assert (tmp_path / "criteo.ftrlx").stat().st_size <= 1_000_000
    for model, name in ROWS.items():
        rows, logloss, auc, test, nnz = table[name][1:]
        run = trained[model]
        assert run["rows"] == _number(rows)
        assert _close(logloss, run["progressive_logloss"])
        if not auc.startswith("–"):
            assert _close(auc, run["progressive_auc"])
        assert run["nnz"] == _number(nnz)
        if test.startswith("–"):
            assert model not in held_out
            continue
        shown = re.match(r"([\d.]+) / ([\d.]+)", test)
        assert _close(shown.group(1), held_out[model]["logloss"]) and _close(shown.group(2), held_out[model]["auc"])
        accuracy = re.search(r"accuracy ([\d.]+)", test)
        if accuracy:
            assert _close(accuracy.group(1), held_out[model]["accuracy"])
