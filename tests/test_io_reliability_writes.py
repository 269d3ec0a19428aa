"""Reliability of ftrlx.io when it writes: the umask, temporary files, a kill during a save, outputs that cannot
be written.
"""

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time

import numpy as np
import pytest
import scipy.sparse as sp

import ftrlx
import ftrlx.io as fio
from ftrlx.io import atomic_write, check_writable


def fitted():
    """A small FTRLClassifier fitted on random sparse rows, to be saved."""
    rng = np.random.default_rng(0)
    X = sp.random(300, 40, density=0.1, format="csr", random_state=rng)
    return ftrlx.FTRLClassifier(random_state=0).fit(X, rng.integers(0, 2, 300))


# ---------------------------------------------------------------------------------------------------------------
# A. the umask


def file_mode(path):
    return os.stat(path).st_mode & 0o777


def test_saving_never_changes_the_umask(tmp_path, monkeypatch):
    """Another thread creating files while models are saved always gets the umask's mode.

    ``os.umask`` is wrapped so that a call to it widens the window in which the umask would be wrong, which makes
    the race with the old implementation (umask(0), then restore) certain to show."""
    real_umask = os.umask
    calls = []

    def slow_umask(mask):
        calls.append(mask)
        previous = real_umask(mask)
        time.sleep(0.005)
        return previous

    model = fitted()
    (tmp_path / "other").mkdir()
    (tmp_path / "models").mkdir()
    old = real_umask(0o027)
    monkeypatch.setattr(os, "umask", slow_umask)
    try:
        stop, modes = threading.Event(), set()

        def create_files():
            i = 0
            while not stop.is_set():
                path = tmp_path / "other" / f"f{i}"
                with open(path, "w"):
                    pass
                modes.add(file_mode(path))
                i += 1

        creator = threading.Thread(target=create_files)
        creator.start()
        try:
            for i in range(20):
                ftrlx.save(model, tmp_path / "models" / f"m{i}.ftrlx")
        finally:
            stop.set()
            creator.join()
    finally:
        real_umask(old)
    assert modes == {0o640}
    assert {file_mode(p) for p in (tmp_path / "models").iterdir()} == {0o640}
    assert calls == []


def test_saved_files_get_the_umask_mode_or_keep_the_replaced_mode(tmp_path):
    old = os.umask(0o077)
    try:
        atomic_write(tmp_path / "new.bin", lambda fh: fh.write(b"1"))
    finally:
        os.umask(old)
    assert file_mode(tmp_path / "new.bin") == 0o600
    target = tmp_path / "kept.ftrlx"
    target.write_bytes(b"")
    os.chmod(target, 0o644)
    ftrlx.save(fitted(), target)
    assert file_mode(target) == 0o644
    assert isinstance(ftrlx.load(target), ftrlx.FTRLClassifier)


# ---------------------------------------------------------------------------------------------------------------
# B. temporary files


def dead_pid():
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_temporary_files_name_their_target_and_writer(tmp_path):
    seen = []
    atomic_write(tmp_path / "model.ftrlx", lambda fh: seen.extend(os.listdir(tmp_path)))
    (name,) = seen
    match = fio._TEMP_NAME.match(name)
    assert match and match["target"] == "model.ftrlx" and int(match["pid"]) == os.getpid()
    assert os.listdir(tmp_path) == ["model.ftrlx"]


def test_stale_temporary_files_of_the_target_are_removed_on_the_next_save(tmp_path):
    pid, host = dead_pid(), fio._host_tag()
    stale = tmp_path / f".m.ftrlx.{pid}@{host}.0123abcd.tmp"
    keep = [
        tmp_path / f".m.ftrlx.{os.getpid()}@{host}.00ff.tmp",  # a writer that still runs (this process)
        tmp_path / f".n.ftrlx.{pid}@{host}.0a.tmp",  # another target
        tmp_path / f".m.ftrlx.{pid}@{host}x.0b.tmp",  # another host: its processes cannot be seen from here
        tmp_path / f".m.ftrlx.{pid}.0c.tmp",  # not a name ftrlx writes
        tmp_path / ".m.ftrlx.notes",
    ]
    for path in [stale, *keep]:
        path.write_bytes(b"x" * 1000)
    ftrlx.save(fitted(), tmp_path / "m.ftrlx")
    assert not stale.exists()
    assert sorted(os.listdir(tmp_path)) == sorted(["m.ftrlx"] + [p.name for p in keep])


CHILD_WRITES = textwrap.dedent(r"""
    import sys
    import numpy as np, scipy.sparse as sp
    import ftrlx
    mode, path = sys.argv[1], sys.argv[2]
    exec(sys.argv[3])  # defines X, y, model
    print("ready", flush=True)
    if mode == "save":
        while True:
            ftrlx.save(model, path)
    else:
        def chunks():
            while True:
                yield X, y
        ftrlx.fit_stream(ftrlx.FTRLClassifier(l1=0.0), chunks(), checkpoint=path, checkpoint_every=1,
                         progress=False)
""")

BUILD = textwrap.dedent(r"""
    rng = np.random.default_rng(1)
    cols = np.sort(rng.choice(2**20, size=(200, 100)), axis=1)  # (sp.random would draw from all 2**28 cells)
    X = sp.csr_matrix((np.ones(cols.size), cols.ravel(), np.arange(0, cols.size + 1, 100)), shape=(200, 2**20))
    y = (rng.random(200) < 0.5).astype(np.int64)
    model = ftrlx.FTRLClassifier(l1=0.0).partial_fit(X, y, classes=[0, 1])
""")


def kill_during_writes(mode, path, rng):
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD_WRITES, mode, os.fspath(path), BUILD], stdout=subprocess.PIPE, text=True
    )
    try:
        assert child.stdout.readline() == "ready\n"
        time.sleep(rng.uniform(0.0, 0.6))
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait()  # reaped: its pid no longer exists
        child.stdout.close()


def same_state(a, b):
    return all(getattr(a, k).tobytes() == getattr(b, k).tobytes() for k in ("state_", "istate_", "gstate_"))


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["save", "checkpoint"])
def test_kill_during_save_keeps_the_previous_file_and_the_next_save_cleans_up(tmp_path, mode):
    ns = {"np": np, "sp": sp, "ftrlx": ftrlx}
    exec(BUILD, ns)
    new_model = ns["model"]
    previous = ftrlx.FTRLClassifier(l1=0.5).partial_fit(ns["X"], 1 - ns["y"], classes=[0, 1])
    path = tmp_path / ("m.ftrlx" if mode == "save" else "run.ckpt")
    rng = np.random.default_rng(0)
    leftovers = 0
    for trial in range(10):
        fio._save_checkpoint(previous, path, {"trial": trial}) if mode == "checkpoint" else ftrlx.save(previous, path)
        assert os.listdir(tmp_path) == [path.name], f"trial {trial}: the save left {os.listdir(tmp_path)}"
        kill_during_writes(mode, path, rng)
        leftovers += len(os.listdir(tmp_path)) - 1
        if mode == "save":
            loaded = ftrlx.load(path)
            assert same_state(loaded, previous) or same_state(loaded, new_model), f"trial {trial}"
        else:
            loaded, stream_state = fio._load_checkpoint(path)
            if stream_state == {"trial": trial}:
                assert same_state(loaded, previous)
            else:  # a checkpoint the child completed: its model after that many chunks, bitwise
                expect = ftrlx.FTRLClassifier(l1=0.0)
                for _ in range(stream_state["chunks_done"]):
                    expect.partial_fit(ns["X"], ns["y"], classes=[0, 1])
                assert same_state(loaded, expect), f"trial {trial}"
    ftrlx.save(previous, path)
    assert os.listdir(tmp_path) == [path.name]
    assert leftovers > 0, "no kill landed during a write; the test did not exercise the cleanup"


# ---------------------------------------------------------------------------------------------------------------
# C. outputs that cannot be written


def test_check_writable(tmp_path):
    check_writable(tmp_path / "model.ftrlx")
    (tmp_path / "exists.ftrlx").write_bytes(b"")
    check_writable(tmp_path / "exists.ftrlx", what="checkpoint")
    with pytest.raises(ValueError, match=r"cannot write checkpoint '.*nope.*m\.ckpt': directory .* does not exist"):
        check_writable(tmp_path / "nope" / "m.ckpt", what="checkpoint")
    with pytest.raises(ValueError, match="model output .* is a directory"):
        check_writable(tmp_path, what="model output")
    (tmp_path / "file").write_bytes(b"")
    with pytest.raises(ValueError, match="is not a directory"):
        check_writable(tmp_path / "file" / "m.ftrlx")
    with pytest.raises(ValueError, match="path is empty"):
        check_writable("")


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0, reason="root may write anywhere")
def test_check_writable_read_only_directory(tmp_path):
    locked = tmp_path / "locked"
    locked.mkdir()
    os.chmod(locked, 0o500)
    try:
        with pytest.raises(ValueError, match="predictions .* is not writable"):
            check_writable(locked / "p.txt", what="predictions")
    finally:
        os.chmod(locked, 0o700)


def test_atomic_write_is_public_and_the_old_name_remains():
    assert fio._atomic_write is atomic_write
    assert "atomic_write" in fio.__all__ and "check_writable" in fio.__all__
