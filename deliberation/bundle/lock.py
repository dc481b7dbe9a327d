"""One build at a time per output folder: an exclusive lock on ``.<name>.lock`` beside it.

A second build of the same folder does not wait (a build lasts seconds to minutes, and would then
redo the same work): it stops at once with « une autre production est en cours dans … (pid N) ».
The lock is released by the system when its holder dies, even by SIGKILL; the file is removed when
the holder finishes normally. Within one process the lock is re-entrant, so that ``write_bundle``
and ``recover`` can take it whether or not ``pipeline.build`` already holds it.

``dossier_lock`` keeps a dossier's builds and imports apart: a build holds it shared from reading the
dossier to writing the manifest, an import holds it exclusively from reading the dossier to its last
write. The lock file lives in a per-user folder, never in the dossier (``lock_dir``).

The locks are taken by ``portalocker``: ``flock`` on Linux and macOS, ``LockFile``/``LockFileEx`` on
Windows (shared locks there need ``pywin32``, its ``win32`` extra). It is imported where it is used:
where the system offers no lock (no ``fcntl`` on a POSIX system, no ``pywin32`` for a shared lock on
Windows), the locks are not taken. Windows bars other processes from reading a locked file, so a
refusal there may not name the holder (« pid inconnu », or no pid).
"""

from __future__ import annotations

import contextlib
import errno
import functools
import hashlib
import os
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

from deliberation.findings import BuildError
from deliberation.messages import os_reason


class BuildLocked(BuildError):
    """Another process is building into the same output folder."""


_held: dict[Path, list] = {}  # lock file → [file descriptor (None: no lock here), depth], for this process
_guard = threading.Lock()


_NO_INHERIT = getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_NOINHERIT", 0)  # POSIX, Windows


@functools.cache
def _portalocker():
    """The ``portalocker`` module, or None where the system offers no file lock (no lock is taken).

    Raises:
        BuildError: ``portalocker`` itself is not installed (a broken installation, never silently ignored).

    """
    try:
        import portalocker
    except ImportError as err:
        if err.name == "portalocker":
            raise BuildError("module portalocker absent : installez-le (pip install portalocker) ou "
                             "réinstallez deliberation") from err
        return None  # what it needs is missing (fcntl on POSIX)
    return portalocker


def _try_lock(fd: int, shared: bool) -> bool:
    """Lock ``fd`` without waiting, shared or exclusive; False if another process holds a conflicting lock.

    Raises:
        OSError: the system refused the lock for another reason.
        ImportError: a shared lock on Windows without ``pywin32``.

    """
    pl = _portalocker()
    flags = (pl.LockFlags.SHARED if shared else pl.LockFlags.EXCLUSIVE) | pl.LockFlags.NON_BLOCKING
    try:
        pl.lock(fd, flags)
    except pl.AlreadyLocked:
        return False
    except pl.LockException as err:
        cause = err.__cause__
        if isinstance(cause, OSError):
            raise cause from None
        raise OSError(errno.ENOLCK, str(err)) from err
    return True


def _release(fd: int) -> None:
    """Unlock then close ``fd`` (Windows does not promise to release a lock as soon as its file is closed)."""
    with contextlib.suppress(Exception):
        _portalocker().unlock(fd)
    os.close(fd)


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


def _acquire(path: Path, out: Path) -> int | None:
    """Open and lock ``path``; the file locked is the one still at ``path`` (not one just removed).

    None where the system offers no lock: then no file is made.
    """
    if _portalocker() is None:
        return None
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | _NO_INHERIT, 0o644)
        try:
            taken = _try_lock(fd, shared=False)
        except BaseException:
            os.close(fd)
            raise
        if not taken:
            os.close(fd)
            msg = f"une autre production est en cours dans {out} ({_holder(path)}) : attendez sa fin puis relancez"
            raise BuildLocked(msg)
        try:
            try:
                same = os.stat(path).st_ino == os.fstat(fd).st_ino
            except FileNotFoundError:
                same = False
            if same:
                os.ftruncate(fd, 0)
                os.write(fd, f"{os.getpid()}\n".encode("ascii"))
                return fd
        except BaseException:
            _release(fd)
            raise
        _release(fd)  # the holder removed the file as we opened it: lock the new one


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
                if entry[0] is not None:
                    with contextlib.suppress(OSError):
                        path.unlink()  # still locked: a build that opened it meanwhile retries on the new file
                    _release(entry[0])
                    if os.name == "nt":  # Windows removes no open file: once closed, unless another opened it
                        with contextlib.suppress(OSError):
                            path.unlink()


# ---------------------------------------------------------------------------
# one dossier: builds (shared) against imports (exclusive)


class DossierLocked(BuildLocked):
    """An import holds the dossier a build wants to read, or a build holds the dossier an import wants to write."""


#: How long a build (shared lock) waits for an import of its dossier to finish, in seconds.
IMPORT_WAIT = 60.0

_dossiers: dict[Path, list] = {}  # lock file → [file descriptor, depth, shared], for this process
_PID_WIDTH = 11  # the pid is written in a fixed width: concurrent shared holders overwrite it whole


def lock_dir() -> Path:
    """The per-user folder of dossier lock files: ``$XDG_CACHE_HOME/deliberation/locks`` (``~/.cache/…``).

    If it cannot be created, ``<tmp>/deliberation-<uid>/locks`` (a folder of this user only). Lock
    files are never removed: a shared lock makes removal racy, and each one is a few bytes.
    """
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    first = Path(base) / "deliberation" / "locks"
    try:
        if first.is_absolute():  # no home folder: « ~ » stays as it is, never a folder of the current one
            first.mkdir(parents=True, exist_ok=True, mode=0o700)
            return first
    except OSError:
        pass
    uid = os.getuid() if hasattr(os, "getuid") else 0
    spare = Path(tempfile.gettempdir()) / f"deliberation-{uid}"
    try:
        spare.mkdir(mode=0o700, exist_ok=True)
        st = os.lstat(spare)
    except OSError:
        return first  # the caller says why it cannot be created
    if not os.path.isdir(spare) or os.path.islink(spare) or st.st_uid != uid:
        return first  # someone else's folder: never used
    (spare / "locks").mkdir(mode=0o700, exist_ok=True)
    return spare / "locks"


def dossier_lock_path(dossier: Path) -> Path:
    """The lock file of ``dossier``: named by the SHA-256 of its resolved path, in ``lock_dir()``."""
    real = os.path.realpath(dossier).encode("utf-8", "surrogateescape")
    return lock_dir() / f"{hashlib.sha256(real).hexdigest()}.lock"


def _read_head(fd: int) -> bytes:
    """The first bytes of the file open as ``fd`` (``os.pread`` where there is one)."""
    if hasattr(os, "pread"):
        return os.pread(fd, 64, 0)
    os.lseek(fd, 0, os.SEEK_SET)  # no other thread uses ``fd``: the caller holds ``_guard``
    return os.read(fd, 64)


def _write_head(fd: int, data: bytes) -> None:
    """Write ``data`` at the start of the file open as ``fd`` (``os.pwrite`` where there is one)."""
    if hasattr(os, "pwrite"):
        os.pwrite(fd, data, 0)
        return
    os.lseek(fd, 0, os.SEEK_SET)
    os.write(fd, data)


def _live_pid(fd: int) -> int | None:
    """The pid written in the lock file, if that process still runs (None on Windows: not checked there)."""
    if os.name == "nt":
        return None  # os.kill(pid, 0) would send it CTRL+C; and a held lock cannot be read there anyway
    try:
        text = _read_head(fd).decode("ascii").strip()
        pid = int(text)
        os.kill(pid, 0)
    except ProcessLookupError:
        return None
    except PermissionError:
        return pid  # alive, another user's
    except (OSError, ValueError, UnicodeDecodeError):
        return None
    return pid


def _refusal(dossier: Path, shared: bool, fd: int, wait: float) -> str:
    pid = _live_pid(fd)
    named = f" (pid {pid})" if pid is not None else ""
    if shared:
        seconds = f"{wait:g}".replace(".", ",")
        return (f"un import du dossier {dossier} est en cours{named} depuis plus de {seconds} s : "
                "relancez la production après lui")
    try:  # shared holders only (builds) or an exclusive one (another import)?
        builds = _try_lock(fd, shared=True)
    except ImportError:  # Windows without pywin32: builds take no lock, so the holder is an import
        builds = False
    if not builds:
        return f"un autre import du dossier {dossier} est en cours{named} : attendez sa fin puis relancez"
    with contextlib.suppress(Exception):
        _portalocker().unlock(fd)
    return f"une production du dossier {dossier} est en cours{named} : relancez l'import après elle"


def _lock_dossier(path: Path, dossier: Path, shared: bool, wait: float) -> int | None:
    """Open ``path`` and lock it; a shared lock waits up to ``wait`` s, an exclusive one not at all."""
    if _portalocker() is None:
        return None
    fd = os.open(path, os.O_RDWR | os.O_CREAT | _NO_INHERIT | getattr(os, "O_NOFOLLOW", 0), 0o600)
    try:
        deadline = time.monotonic() + wait
        while not _try_lock(fd, shared):
            if not shared or time.monotonic() >= deadline:
                raise DossierLocked(_refusal(dossier, shared, fd, wait))
            time.sleep(0.05)
        with contextlib.suppress(PermissionError):  # Windows: a shared lock bars writing, even by its holder
            _write_head(fd, f"{os.getpid()}\n".rjust(_PID_WIDTH).encode("ascii"))
            os.ftruncate(fd, _PID_WIDTH)
    except ImportError:  # a shared lock on Windows without pywin32: not taken
        os.close(fd)
        return None
    except BaseException:
        _release(fd)
        raise
    return fd


@contextlib.contextmanager
def dossier_lock(dossier: Path, shared: bool, wait: float = IMPORT_WAIT) -> Iterator[None]:
    """Hold ``dossier``'s lock: ``shared`` for a build (or a check), exclusive for an import.

    An exclusive lock does not wait: an import during a build (or another import) stops at once. A
    shared lock waits up to ``wait`` seconds for an import to end. The lock file records the pid of
    its last holder. Re-entrant within a process: a lock already held by this process covers any
    nested request, except an exclusive one inside a shared one (refused).

    Raises:
        DossierLocked: another process holds the lock (the message names its pid when known).
        BuildError: the lock file cannot be created (permissions, disk).

    """
    dossier = Path(dossier)
    try:
        path = dossier_lock_path(dossier)
    except OSError as err:
        raise BuildError(f"verrou du dossier {dossier} impossible à créer : {os_reason(err)}") from err
    with _guard:
        entry = _dossiers.get(path)
        if entry is not None:
            if entry[2] and not shared:
                raise DossierLocked(f"une production du dossier {dossier} est en cours (pid {os.getpid()}) : "
                                    "relancez l'import après elle")
            entry[1] += 1
        else:
            try:
                fd = _lock_dossier(path, dossier, shared, wait)
            except OSError as err:
                raise BuildError(f"verrou du dossier {dossier} impossible à créer ({path}) : "
                                 f"{os_reason(err)}") from err
            _dossiers[path] = [fd, 1, shared]
    try:
        yield
    finally:
        with _guard:
            entry = _dossiers[path]
            entry[1] -= 1
            if entry[1] == 0:
                del _dossiers[path]
                if entry[0] is not None:
                    _release(entry[0])
