"""Deferred imports (``ftrlx._deferred``), which the ``ftrlx`` command uses for modules it rarely needs.

A deferred module must behave as the module imported normally once it is used, run its code exactly once even when
several threads use it first at the same moment, and fail as a failed import does.  The command itself must leave
the modules it defers unloaded through a training job, and train the same model as in-process.
"""

import json
import os
import subprocess
import sys
import threading

import pytest

from ftrlx import _deferred


@pytest.fixture
def package(tmp_path, monkeypatch):
    """A package ``dpkg`` whose modules count their runs in ``dpkg_runs`` (a module of their own, not deferred)."""
    (tmp_path / "dpkg_runs.py").write_text("counts = {}\n")
    pkg = tmp_path / "dpkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text(
        "import time, dpkg_runs\n"
        "dpkg_runs.counts['dpkg'] = dpkg_runs.counts.get('dpkg', 0) + 1\n"
        "time.sleep(0.05)  # a wide window for threads that use the module first at once\n"
        "VALUE = 42\n"
        "__version__ = '1.0'\n"
        "def twice(x):\n"
        "    return 2 * x\n"
    )
    (pkg / "sub.py").write_text("from dpkg import VALUE\nSUB = VALUE + 1\n")
    (tmp_path / "dbroken.py").write_text("VALUE = 1\nraise RuntimeError('broken module')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    before = list(sys.meta_path)
    yield
    sys.meta_path[:] = before
    for name in [m for m in sys.modules if m.split(".")[0] in ("dpkg", "dpkg_runs", "dbroken")]:
        del sys.modules[name]


def test_the_code_runs_on_first_use_once(package):
    _deferred.defer("dpkg")
    import dpkg
    import dpkg_runs

    assert _deferred.is_deferred("dpkg") and dpkg_runs.counts == {}
    assert dpkg.__name__ == "dpkg" and dpkg.__spec__.name == "dpkg"  # import-time attributes: no load
    assert dpkg_runs.counts == {}
    assert dpkg.twice(dpkg.VALUE) == 84 and dpkg.__version__ == "1.0"
    assert not _deferred.is_deferred("dpkg") and dpkg_runs.counts == {"dpkg": 1} and dpkg.VALUE == 42
    import dpkg.sub

    assert dpkg.sub.SUB == 43 and dpkg_runs.counts == {"dpkg": 1}
    with pytest.raises(AttributeError, match="nothing_here"):
        _ = dpkg.nothing_here


def test_a_submodule_import_loads_the_package_first(package):
    _deferred.defer("dpkg")
    import dpkg_runs
    from dpkg import sub

    assert sub.SUB == 43 and dpkg_runs.counts == {"dpkg": 1}


def test_threads_that_use_it_first_at_once_see_the_whole_module(package):
    _deferred.defer("dpkg")
    import dpkg
    import dpkg_runs

    barrier, seen = threading.Barrier(8), []

    def use():
        barrier.wait()
        seen.append(dpkg.VALUE + len(dpkg.__version__))

    threads = [threading.Thread(target=use) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert seen == [45] * 8 and dpkg_runs.counts == {"dpkg": 1}


def test_a_failing_module_fails_as_its_import_would(package):
    _deferred.defer("dbroken")
    import dbroken

    with pytest.raises(RuntimeError, match="broken module"):
        _ = dbroken.VALUE
    assert "dbroken" not in sys.modules
    import dbroken  # noqa: F811 - imported again: deferred again, and the same error on its use

    with pytest.raises(RuntimeError, match="broken module"):
        _ = dbroken.VALUE


def test_imported_modules_and_other_names_are_left_alone(package):
    import dpkg_runs

    _deferred.defer("dpkg_runs", "json")
    assert not _deferred.is_deferred("dpkg_runs") and not _deferred.is_deferred("json")
    import dpkg

    assert not _deferred.is_deferred("dpkg") and dpkg_runs.counts == {"dpkg": 1} and dpkg.VALUE == 42


def test_a_missing_module_is_still_missing(package):
    _deferred.defer("no_such_module_here")
    with pytest.raises(ModuleNotFoundError):
        import no_such_module_here  # noqa: F401


# the command as its entry point runs it, then which of the deferred modules it never used
_COMMAND = """
import sys
from ftrlx import __main__ as entry, _deferred
sys.argv = ["ftrlx"] + sys.argv[1:]
try:
    entry._entry()
except SystemExit as exc:
    status = exc.code
print(status, " ".join(name for name in entry.DEFERRED if _deferred.is_deferred(name)), file=sys.stderr)
"""


def test_a_training_command_never_loads_what_it_defers(tmp_path, capsys):
    import ftrlx
    from ftrlx import __main__ as entry
    from ftrlx.cli import main
    from ftrlx.datasets import write_click_data

    click_tsv = tmp_path / "clicks.tsv"
    write_click_data(click_tsv, 3000, seed=2)
    args = ["train", str(click_tsv), "--format", "criteo", "--bits", "14", "--chunk-size", "1000", "--json", "--quiet"]
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
    proc = subprocess.run(
        [sys.executable, "-c", _COMMAND, *args, "-o", str(tmp_path / "a.ftrlx")],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    status, _, deferred = proc.stderr.strip().splitlines()[-1].partition(" ")
    assert status == "0", proc.stderr
    installed = [name for name in entry.DEFERRED if _importable(name)]
    assert deferred.split() == installed
    assert main(args + ["-o", str(tmp_path / "b.ftrlx")]) == 0
    inproc = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    sub = json.loads(proc.stdout.strip().splitlines()[-1])
    assert {k: sub[k] for k in ("rows", "progressive_logloss", "nnz")} == {
        k: inproc[k] for k in ("rows", "progressive_logloss", "nnz")
    }
    a, b = ftrlx.load(tmp_path / "a.ftrlx"), ftrlx.load(tmp_path / "b.ftrlx")
    assert a.coef_.tobytes() == b.coef_.tobytes()


def _importable(name):
    import importlib.util

    return importlib.util.find_spec(name) is not None
