"""Atomic file writes for ftrlx: a temporary file in the destination directory, renamed over the target.

Part of :mod:`ftrlx.io`, which re-exports :func:`atomic_write` and :func:`check_writable`; the rest of ftrlx
imports them from there."""

import os
import re
import secrets
import socket

# Temporary files are named ``.<target>.<pid>@<host>.<random>.tmp`` next to the target, so that the next save
# of the same target can tell its own leftovers (from a writer killed before it could clean up) from files of
# writers still at work: a file whose process is gone on this host is stale.
_TEMP_NAME = re.compile(r"\.(?P<target>.+)\.(?P<pid>[0-9]+)@(?P<host>[A-Za-z0-9-]*)\.[0-9a-f]+\.tmp\Z", re.DOTALL)
_TEMP_TARGET_MAX = 160  # keeps the temporary's name within the usual 255-byte limit


def _host_tag():
    # the first label of the host name, reduced to characters that are safe in every file system
    return re.sub(r"[^A-Za-z0-9-]", "", socket.gethostname().split(".")[0])[:32]


def _temp_target(base):
    return base[:_TEMP_TARGET_MAX]


def _pid_alive(pid):
    """Whether process ``pid`` exists on this host (True when that cannot be told)."""
    if os.name == "nt":  # os.kill(pid, 0) would terminate the process there
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # EPERM: it exists but belongs to someone else
        return True
    return True


def _remove_stale_temps(directory, base):
    """Delete the temporary files of target ``base`` left by writers of this host that no longer run."""
    target, host = _temp_target(base), _host_tag()
    try:
        entries = list(os.scandir(directory))
    except OSError:
        return
    for entry in entries:
        m = _TEMP_NAME.match(entry.name)
        if m is None or m["target"] != target or m["host"] != host:
            continue
        pid = int(m["pid"])
        if pid != os.getpid() and not _pid_alive(pid):
            try:
                os.unlink(entry.path)
            except OSError:
                pass


def _create_temp(directory, base):
    """Create a new, empty temporary file for target ``base``; return ``(fd, path)``.

    ``os.open`` with mode 0o666 lets the kernel apply the process's umask, as an ordinary ``open()`` would, without
    reading or changing the umask (which is process-wide, so changing it races with other threads)."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0) | getattr(os, "O_CLOEXEC", 0)
    prefix = f".{_temp_target(base)}.{os.getpid()}@{_host_tag()}."
    for _ in range(100):
        tmp = os.path.join(directory, f"{prefix}{secrets.token_hex(8)}.tmp")
        try:
            return os.open(tmp, flags, 0o666), tmp
        except FileExistsError:
            continue
    raise FileExistsError(f"cannot create a temporary file in {directory!r}: every name tried exists")


def _keep_mode(fd, tmp, path):
    """Give the temporary the mode of the file it will replace, if there is one."""
    try:
        mode = os.stat(path).st_mode & 0o7777
    except OSError:
        return  # a new file keeps the umask's mode
    if hasattr(os, "fchmod"):
        os.fchmod(fd, mode)
    else:  # pragma: no cover - Windows
        os.chmod(tmp, mode)


def _fsync_directory(directory):
    # Makes the rename itself durable (not possible on every platform).
    try:
        dfd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(dfd)
    except OSError:
        pass
    finally:
        os.close(dfd)


def atomic_write(path, write):
    """Call ``write(fh)`` on a new temporary file, then rename it over ``path``.

    A crash at any point leaves either the previous file or the complete new one.  The temporary file lives in the
    destination directory, so that the final :func:`os.replace` is a rename within one file system (atomic on
    POSIX and Windows); it is flushed to disk first.  The new file gets the mode of the file it replaces, or the
    mode an ordinary ``open()`` would give it (0o666 less the umask).  Temporary files of ``path`` left behind by
    a writer that was killed (its process no longer exists) are removed.

    Parameters
    ----------
    path : str or os.PathLike
        Destination; its directory must exist.
    write : callable
        Called once with a binary file object open for writing.

    Raises
    ------
    FileNotFoundError
        If the directory of ``path`` does not exist.

    See Also
    --------
    check_writable : tells before any work whether ``path`` can be written.

    Examples
    --------
    >>> import os, tempfile
    >>> from ftrlx.io import atomic_write
    >>> path = os.path.join(tempfile.mkdtemp(), "notes.txt")
    >>> atomic_write(path, lambda fh: fh.write(b"first"))
    >>> atomic_write(path, lambda fh: fh.write(b"second"))
    >>> open(path, "rb").read(), os.listdir(os.path.dirname(path))
    (b'second', ['notes.txt'])
    """
    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(directory):
        raise FileNotFoundError(f"cannot write {path!r}: directory {directory!r} does not exist; create it first")
    base = os.path.basename(path)
    _remove_stale_temps(directory, base)
    fd, tmp = _create_temp(directory, base)
    try:
        with os.fdopen(fd, "wb") as fh:
            _keep_mode(fh.fileno(), tmp, path)
            write(fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    _fsync_directory(directory)


def check_writable(path, what="output"):
    """Raise a clear ValueError now if :func:`atomic_write` could not write ``path`` later.

    Call it before a long job whose result goes to ``path``, so that a typo in a directory name costs nothing.
    Writing needs the directory to exist and to be writable (the file is replaced by a rename, so a read-only
    file in a writable directory is fine); ``path`` must not be a directory.

    Parameters
    ----------
    path : str or os.PathLike
        The file that will be written.
    what : str, default="output"
        What the file is for, used in the message (e.g. ``"model output"``, ``"checkpoint"``).

    Raises
    ------
    ValueError
        Naming ``path``, ``what`` and the reason.

    Examples
    --------
    >>> import os, tempfile
    >>> from ftrlx.io import check_writable
    >>> directory = tempfile.mkdtemp()
    >>> check_writable(os.path.join(directory, "model.ftrlx"))
    >>> check_writable(os.path.join(directory, "missing", "model.ftrlx"), what="checkpoint")
    Traceback (most recent call last):
    ...
    ValueError: cannot write checkpoint '...model.ftrlx': directory '...missing' does not exist; create it or choose another path
    """
    path = os.fspath(path)
    if not path:
        raise ValueError(f"cannot write {what}: the path is empty; give a file name")
    if os.path.isdir(path):
        raise ValueError(f"cannot write {what} {path!r}: it is a directory; give a file name inside it")
    directory = os.path.dirname(os.path.abspath(path))
    if not os.path.exists(directory):
        raise ValueError(
            f"cannot write {what} {path!r}: directory {directory!r} does not exist; create it or choose another path"
        )
    if not os.path.isdir(directory):
        raise ValueError(f"cannot write {what} {path!r}: {directory!r} is not a directory; choose another path")
    if not os.access(directory, os.W_OK | os.X_OK):
        raise ValueError(
            f"cannot write {what} {path!r}: directory {directory!r} is not writable by this user; "
            "change its permissions or choose another path"
        )
