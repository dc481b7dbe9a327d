"""One build at a time per output folder: an exclusive ``flock`` on ``.<name>.lock`` beside it.

A second build of the same folder does not wait (a build lasts seconds to minutes, and would then
redo the same work): it stops at once with « une autre production est en cours dans … (pid N) ».
The lock is released by the kernel when its holder dies, even by SIGKILL; the file is removed when
the holder finishes normally. Within one process the lock is re-entrant, so that ``write_bundle``
and ``recover`` can take it whether or not ``pipeline.build`` already holds it.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import threading
from collections.abc import Iterator
from pathlib import Path

from deliberation.findings import BuildError
from deliberation.messages import os_reason


class BuildLocked(BuildError):
    """Another process is building into the same output folder."""


_held: dict[Path, list[int]] = {}  # lock file → [file descriptor, depth], for this process
_guard = threading.Lock()


def lock_path(out: Path) -> Path:
    """The lock file of output folder ``out``: ``.<name>.lock`` in its parent."""
    out = Path(os.path.abspath(out))
    return out.parent / f".{out.name}.lock"


def _holder(path: Path) -> str:
    try:
        pid = path.read_text("ascii").strip()
    except (OSError, UnicodeDecodeError):
        pid = ""
    return f"pid {pid}" if pid.isdigit() else "pid inconnu"


def _acquire(path: Path, out: Path) -> int:
    """Open and lock ``path``; the file locked is the one still at ``path`` (not one just removed)."""
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            msg = f"une autre production est en cours dans {out} ({_holder(path)}) : attendez sa fin puis relancez"
            raise BuildLocked(msg) from None
        except BaseException:
            os.close(fd)
            raise
        try:
            same = os.stat(path).st_ino == os.fstat(fd).st_ino
        except FileNotFoundError:
            same = False
        if same:
            os.ftruncate(fd, 0)
            os.write(fd, f"{os.getpid()}\n".encode("ascii"))
            return fd
        os.close(fd)  # the holder removed the file as we opened it: lock the new one


@contextlib.contextmanager
def build_lock(out: Path) -> Iterator[None]:
    """Hold the lock of output folder ``out`` (its parent is created if needed).

    Raises:
        BuildLocked: another process holds it (the message names its pid).
        BuildError: the lock file cannot be created (permissions, disk).

    """
    out = Path(os.path.abspath(out))
    path = lock_path(out)
    with _guard:
        entry = _held.get(path)
        if entry is not None:
            entry[1] += 1
        else:
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
                fd = _acquire(path, out)
            except BuildLocked:
                raise
            except OSError as err:
                msg = f"verrou de production impossible à créer ({path}) : {os_reason(err)}"
                raise BuildError(msg) from err
            _held[path] = [fd, 1]
    try:
        yield
    finally:
        with _guard:
            entry = _held[path]
            entry[1] -= 1
            if entry[1] == 0:
                del _held[path]
                with contextlib.suppress(OSError):
                    path.unlink()  # still locked: a build that opened it meanwhile retries on the new file
                os.close(entry[0])
