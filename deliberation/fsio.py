"""The one safe path for every file the engine writes outside a bundle, and its multi-file commit.

- ``write_file``: one file, atomically (a hidden temporary file beside the target, flushed to disk,
  renamed over it, the folder flushed). The target must be absent or a regular file: a folder, a
  device, a FIFO or a symbolic link is refused, never replaced. A new file gets the mode the umask
  gives; an existing one keeps its mode.
- ``write_files``: several files of one folder, all or nothing. Each file is staged beside its target,
  then a journal (``.deliberation-journal.json``) lists the renames before the first one is made. A
  command interrupted at any point (even by SIGKILL) is completed by the next one (``recover_files``):
  a journal marked ``commit`` is rolled forward, one marked ``staging`` rolled back (only the staged
  files it names are removed).
- ``read_regular``: the bytes of a regular file, within a limit (never a tube, a device or a link).
- ``build_time``, ``normalise_zip``: one date and one member order, so that outputs are reproducible.
- ``cache_get``, ``cache_put``: the parse cache, signed with a per-user key (never loaded from a
  folder another user could write).
- ``sha256``, ``os_error_text``: a file's fingerprint; what the system said, in French.

The engine's shared low-level helpers: written once here, used by every stage.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import errno
import hashlib
import hmac
import io
import json
import os
import pickle
import re
import secrets
import shutil
import stat
import zipfile
from pathlib import Path

from deliberation.findings import BuildError
from deliberation.messages import os_reason

JOURNAL = ".deliberation-journal.json"
STAGED_SUFFIX = ".deliberation-new"


class WriteError(BuildError):
    """A file cannot be written: refused target, or the system said no (message in French)."""


def os_error_text(err: OSError) -> str:
    """A French description of ``err`` (« disque plein »), never the system's English wording."""
    return os_reason(err)


def sha256(data: bytes) -> str:
    """Hex SHA-256 of ``data``."""
    return hashlib.sha256(data).hexdigest()


def refuse_reason(path: Path) -> str | None:
    """Why ``path`` cannot be replaced by a regular file (None: absent or a regular file)."""
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return None
    except OSError as err:
        return os_error_text(err)
    if stat.S_ISLNK(st.st_mode):
        return "c'est un lien symbolique (le fichier lié n'est pas modifié)"
    if stat.S_ISDIR(st.st_mode):
        return "c'est un dossier, pas un fichier"
    if not stat.S_ISREG(st.st_mode):
        return "ce n'est pas un fichier ordinaire (périphérique, tube ou socket)"
    return None


def _check_target(path: Path) -> None:
    why = refuse_reason(path)
    if why is not None:
        raise WriteError(f"écriture refusée : {path} : {why}")


def _fsync_dir(folder: Path) -> None:
    """Flush a folder's entries (renames) to disk; a no-op where folders cannot be opened (Windows)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _stage(path: Path, data: bytes, staged: Path) -> None:
    """Write ``data`` into ``staged`` (created new; mode from the umask, or the target's), flushed to disk."""
    fd = os.open(staged, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
    try:
        with contextlib.suppress(FileNotFoundError):
            mode = stat.S_IMODE(os.stat(path).st_mode)
            if hasattr(os, "fchmod"):
                os.fchmod(fd, mode)
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]
        os.fsync(fd)
    finally:
        os.close(fd)


def write_file(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically; the target must be absent or a regular file.

    Raises:
        WriteError: the target is a folder, a device, a FIFO or a symbolic link, or the system
            refused (the message says why, in French); the target is then unchanged.

    """
    path = Path(path)
    _check_target(path)
    staged = path.with_name(f".{path.name}.{os.getpid()}{STAGED_SUFFIX}")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        _stage(path, data, staged)
        _check_target(path)  # not replaced meanwhile by something that must not be overwritten
        os.replace(staged, path)
        _fsync_dir(path.parent)
    except OSError as err:
        raise WriteError(f"écriture impossible de {path} : {os_error_text(err)}") from err
    finally:
        with contextlib.suppress(OSError):
            os.unlink(staged)


def _staged_name(rel: str) -> str:
    head, _, name = rel.rpartition("/")
    return f"{head}/.{name}{STAGED_SUFFIX}" if head else f".{name}{STAGED_SUFFIX}"


def _write_journal(root: Path, state: str, names: list[str]) -> None:
    data = json.dumps({"etat": state, "fichiers": names}, ensure_ascii=False, indent=1).encode("utf-8")
    tmp = root / f"{JOURNAL}.{os.getpid()}.tmp"
    try:
        _stage(root / JOURNAL, data, tmp)
        os.replace(tmp, root / JOURNAL)
    finally:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
    _fsync_dir(root)


def _safe_rel(rel: str) -> bool:
    parts = rel.split("/")
    return bool(rel) and not rel.startswith("/") and "\\" not in rel and "\0" not in rel and all(
        p not in ("", ".", "..") for p in parts)


def write_files(root: Path, files: dict[str, bytes], before_commit=None) -> None:
    """Replace the files ``files`` (relative name → bytes) of folder ``root``, all or nothing.

    Every target must be absent or a regular file, and inside ``root``. ``before_commit`` (tests)
    is called between staging and the first rename.

    Raises:
        WriteError: a target is refused or the system refused a write; nothing was changed (staged
            files are removed).

    """
    root = Path(root)
    recover_files(root)
    names = sorted(files)
    for rel in names:
        if not _safe_rel(rel):
            raise WriteError(f"écriture refusée : {rel!r} sort du dossier {root}")
        _check_target(root / rel)
    try:
        _write_journal(root, "staging", names)
        for rel in names:
            _stage(root / rel, files[rel], root / _staged_name(rel))
        for rel in names:
            _check_target(root / rel)
        _write_journal(root, "commit", names)
    except BaseException as err:
        _roll_back(root, names)
        if isinstance(err, OSError):
            raise WriteError(f"écriture impossible dans {root} : {os_error_text(err)} ; rien n'a été modifié") from err
        raise
    if before_commit is not None:
        before_commit()
    _roll_forward(root, names)


#: A new folder is written beside its target under this name first (``.NAME.tmp-init-<pid>-<hex>``).
NEW_FOLDER_TMP = ".{name}.tmp-init-"


def folder_refusal(target: Path) -> str | None:
    """Why a new folder cannot be created at ``target`` (None: absent, or an empty folder)."""
    try:
        st = os.lstat(target)
    except FileNotFoundError:
        return None if target.parent.is_dir() else f"le dossier {target.parent} n'existe pas"
    except OSError as err:
        return os_error_text(err)
    if stat.S_ISLNK(st.st_mode):
        return "c'est un lien symbolique"
    if not stat.S_ISDIR(st.st_mode):
        return "c'est un fichier, pas un dossier"
    try:
        entries = os.listdir(target)
    except OSError as err:
        return os_error_text(err)
    if entries:
        return f"le dossier existe déjà et contient {len(entries)} élément(s)"
    return None


def write_new_folder(target: Path, files: dict[str, bytes]) -> None:
    """Create folder ``target`` holding ``files`` (relative name → bytes), all or nothing.

    The files are written into a hidden folder beside the target (each flushed to disk), which is then
    renamed to ``target`` (absent or an empty folder). Nothing else is touched; on failure the hidden
    folder is removed and ``target`` is as it was. Leftovers of a killed run (dead pid) are removed first.

    Raises:
        WriteError: ``target`` is refused (``folder_refusal``) or the system refused a write.

    """
    target = Path(target)
    _sweep_new_folders(target)
    why = folder_refusal(target)
    if why is not None:
        raise WriteError(f"création refusée : {target} : {why}")
    tmp = target.parent / f"{NEW_FOLDER_TMP.format(name=target.name)}{os.getpid()}-{secrets.token_hex(4)}"
    try:
        os.mkdir(tmp)  # mode from the umask, as the folder will keep
        for rel in sorted(files):
            if not _safe_rel(rel):
                raise WriteError(f"écriture refusée : {rel!r} sort du dossier {target}")
            path = tmp / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            _stage(path, files[rel], path)
        for folder in sorted({(tmp / rel).parent for rel in files}, reverse=True):
            _fsync_dir(folder)
        try:
            os.rename(tmp, target)  # POSIX: replaces an empty folder at once
        except OSError:
            if folder_refusal(target) is not None or not target.is_dir():
                raise
            os.rmdir(target)  # Windows: an empty folder is not replaced by a rename
            os.rename(tmp, target)
        _fsync_dir(target.parent)
    except BaseException as err:
        shutil.rmtree(tmp, ignore_errors=True)
        if isinstance(err, OSError) and not isinstance(err, WriteError):
            raise WriteError(f"création impossible de {target} : {os_error_text(err)} ; rien n'a été écrit") from err
        raise


def _sweep_new_folders(target: Path) -> None:
    """Remove the hidden folders killed runs of ``write_new_folder`` left beside ``target`` (their pid is dead)."""
    prefix = NEW_FOLDER_TMP.format(name=target.name)
    try:
        entries = list(os.scandir(target.parent))
    except OSError:
        return
    for entry in entries:
        if not entry.name.startswith(prefix):
            continue
        pid, _, rest = entry.name[len(prefix):].partition("-")
        if not (pid.isdigit() and re.fullmatch(r"[0-9a-f]{8}", rest)) or int(pid) == os.getpid():
            continue
        try:
            if not entry.is_dir(follow_symlinks=False):
                continue
            os.kill(int(pid), 0)
        except ProcessLookupError:
            shutil.rmtree(entry.path, ignore_errors=True)
        except (OSError, OverflowError):
            continue


def _roll_back(root: Path, names: list[str]) -> None:
    for rel in names:
        with contextlib.suppress(OSError):
            os.unlink(root / _staged_name(rel))
    with contextlib.suppress(OSError):
        os.unlink(root / JOURNAL)
    _fsync_dir(root)


def _roll_forward(root: Path, names: list[str]) -> None:
    try:
        for rel in names:
            # a staged file already gone was renamed (by an earlier try, or by a concurrent recovery)
            with contextlib.suppress(FileNotFoundError):
                os.replace(root / _staged_name(rel), root / rel)
        for folder in sorted({(root / rel).parent for rel in names}):
            _fsync_dir(folder)
        with contextlib.suppress(FileNotFoundError):
            os.unlink(root / JOURNAL)
        _fsync_dir(root)
    except OSError as err:
        msg = (f"écriture interrompue dans {root} : {os_error_text(err)} ; la prochaine commande "
               f"la terminera (journal {JOURNAL})")
        raise WriteError(msg) from err


def recover_files(root: Path) -> str | None:
    """Finish or undo a ``write_files`` interrupted in ``root``; says what was done (None: nothing to do).

    Raises:
        WriteError: the journal cannot be read or the files cannot be renamed.

    """
    root = Path(root)
    path = root / JOURNAL
    with contextlib.suppress(OSError):  # a journal being written when the command was killed
        for entry in os.scandir(root):
            if entry.name.startswith(f"{JOURNAL}.") and entry.name.endswith(".tmp"):
                os.unlink(entry.path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as err:
        raise WriteError(f"journal d'écriture illisible ({path}) : {os_error_text(err)}") from err
    try:
        data = json.loads(raw.decode("utf-8"))
        state, names = data["etat"], [n for n in data["fichiers"] if isinstance(n, str) and _safe_rel(n)]
    except (ValueError, KeyError, TypeError, AttributeError):
        state, names = "staging", []  # a journal cut short was never complete: nothing was renamed
    if state == "commit":
        _roll_forward(root, names)
        return f"écriture interrompue terminée dans {root} : {len(names)} fichier(s) mis à jour"
    _roll_back(root, names)
    return f"écriture interrompue annulée dans {root} : aucun fichier modifié"


# ---------------------------------------------------------------------------
# reading: regular files only, within a limit


#: Flags for opening a file to read: never wait on a tube, never follow a last link (absent on Windows).
_READ_FLAGS = (os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOFOLLOW", 0)
               | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0))


class NotRegularError(OSError):
    """The path is a tube, a device or a socket: it is never read."""

    def __init__(self, mode: int):
        super().__init__(f"not a regular file (mode {mode:o})")
        self.mode = mode


class TooBigError(OSError):
    """The file holds more than the limit; ``size`` is its size, or None when it grew while read."""

    def __init__(self, size: int | None):
        super().__init__(f"file too big ({size} bytes)")
        self.size = size


def read_regular(path: str | os.PathLike, limit: int) -> bytes:
    """The bytes of regular file ``path``, at most ``limit`` of them.

    Anything else is refused before it is opened (a tube would block, ``/dev/zero`` never ends), then
    again on the opened descriptor (the path may have changed meanwhile); a last link is not followed
    (``path`` is expected resolved), and no more than ``limit`` + 1 bytes are ever read.

    Raises:
        IsADirectoryError: a folder.
        NotRegularError: a tube, device or socket.
        TooBigError: more than ``limit`` bytes.
        OSError: any other failure (missing, refused, link loop…).

    """
    st = os.stat(path)
    _regular(st.st_mode)
    fd = os.open(path, _READ_FLAGS)
    try:
        st = os.fstat(fd)
        _regular(st.st_mode)
        if st.st_size > limit:
            raise TooBigError(st.st_size)
        chunks, total, want = [], 0, st.st_size + 1  # one read in the usual case, then until the end
        while total <= limit:
            chunk = os.read(fd, min(want, limit + 1 - total))
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
            want = 1 << 20
        if total > limit:
            raise TooBigError(None)
        return b"".join(chunks)
    finally:
        os.close(fd)


def _regular(mode: int) -> None:
    if stat.S_ISDIR(mode):
        raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR))
    if not stat.S_ISREG(mode):
        raise NotRegularError(mode)


# ---------------------------------------------------------------------------
# reproducible outputs: one date, one member order


def build_time(seance_date: dt.date | None) -> dt.datetime:
    """The date stamped into every output: ``SOURCE_DATE_EPOCH`` if set, else the séance."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch and epoch.isdigit():
        return dt.datetime.fromtimestamp(int(epoch), tz=dt.UTC).replace(tzinfo=None)
    day = seance_date or dt.date(1980, 1, 1)
    return dt.datetime(day.year, day.month, day.day)  # noqa: DTZ001 - a calendar date, no time zone


def normalise_zip(data: bytes, when: dt.datetime) -> bytes:
    """Rewrite a zip (DOCX) with one fixed timestamp and a fixed member order: same input, same bytes."""
    src = zipfile.ZipFile(io.BytesIO(data))
    names = src.namelist()
    first = [n for n in names if n == "[Content_Types].xml"]
    order = first + sorted(n for n in names if n not in first)
    out = io.BytesIO()
    stamp = (max(when.year, 1980), when.month, when.day, 0, 0, 0)
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for name in order:
            info = zipfile.ZipInfo(name, date_time=stamp)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            dst.writestr(info, src.read(name))
    return out.getvalue()


# ---------------------------------------------------------------------------
# parse cache: a file already read by this engine is not parsed again (like mypy's cache)


def cache_dir() -> Path | None:
    """Where parsed files are kept: ``DELIBERATION_CACHE`` (empty: no cache), else ``~/.cache/deliberation``."""
    explicit = os.environ.get("DELIBERATION_CACHE")
    if explicit is not None:
        return Path(explicit) if explicit else None
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "deliberation" / "parse"


#: The per-user secret that signs every entry, in the cache root (mode 0600, never group/world-readable).
KEY_FILE = "cle-hmac"
_KEY_BYTES = 32
_MAC_BYTES = hashlib.sha256().digest_size
#: A cache entry larger than this is a miss (an entry holds one parsed file or one compiled template).
_ENTRY_MAX = 200 * 1024 * 1024  # a cached entry: four times the largest dossier file
_KEYS: dict[str, bytes] = {}  # cache root → its key, read once per process


def _owned_private(st: os.stat_result, forbidden: int) -> bool:
    """Owned by the current user and without the ``forbidden`` mode bits (no owner check without getuid)."""
    getuid = getattr(os, "getuid", None)
    return getuid is None or (st.st_uid == getuid() and not st.st_mode & forbidden)


def _cache_root(create: bool) -> tuple[Path, bytes] | None:
    """The cache root and its key; None (no cache) unless the folder is the user's own and not group/world-writable.

    Anyone who could write there could plant an entry that unpickles into code, hence the rights check;
    entries are also signed with a key only this user can read (see ``cache_get``).
    """
    root = cache_dir()
    if root is None:
        return None
    try:
        if create:
            root.mkdir(mode=0o700, parents=True, exist_ok=True)
        st = os.stat(root)
    except OSError:
        return None
    if not stat.S_ISDIR(st.st_mode) or not _owned_private(st, 0o022):
        return None
    name = str(root)
    key = _KEYS.get(name)
    if key is None:
        key = _read_key(root, create)
        if key is None:
            return None
        _KEYS[name] = key
    return root, key


def _read_key(root: Path, create: bool) -> bytes | None:
    """The root's key, created (O_EXCL, mode 0600) when missing; None if it is not this user's private file."""
    path = root / KEY_FILE
    if create:
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
                         | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0), 0o600)
        except FileExistsError:
            pass  # made earlier, or by a process running alongside: read it
        except OSError:
            return None
        else:
            try:
                os.write(fd, secrets.token_bytes(_KEY_BYTES))
            except OSError:
                return None
            finally:
                os.close(fd)
    try:
        fd = os.open(path, _READ_FLAGS)
    except OSError:
        return None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode) or not _owned_private(st, 0o077) or st.st_size != _KEY_BYTES:
            return None  # a short key is still being written by another process: not memoised, tried again
        key = os.read(fd, _KEY_BYTES + 1)
    except OSError:
        return None
    finally:
        os.close(fd)
    return key if len(key) == _KEY_BYTES else None


def _mac(secret: bytes, key: str, payload) -> bytes:
    """HMAC-SHA256 of an entry, bound to its key (an entry moved under another key does not verify)."""
    h = hmac.new(secret, key.encode("ascii", "replace") + b"\0", hashlib.sha256)
    h.update(payload)
    return h.digest()


def cache_get(key: str):
    """The cached ``(value, findings)`` for ``key``, or None (missing, unreadable or unsigned: a miss).

    An entry is unpickled only once its HMAC verifies with this user's key: nothing planted in the cache
    folder is ever loaded (pickle and marshal data run code).
    """
    found = _cache_root(create=False)
    if found is None:
        return None
    root, secret = found
    try:
        data = read_regular(root / key[:2] / key, _ENTRY_MAX)
    except OSError:
        return None
    payload = memoryview(data)[_MAC_BYTES:]
    if len(data) <= _MAC_BYTES or not hmac.compare_digest(data[:_MAC_BYTES], _mac(secret, key, payload)):
        return None
    try:
        return pickle.loads(payload)  # noqa: S301 - signed by this user's own key, checked above
    except Exception:  # noqa: BLE001 - a stale entry is only a miss
        return None


def cache_put(key: str, value) -> None:
    """Store ``value``, signed (written to a private temporary file, then renamed; never fails the caller)."""
    found = _cache_root(create=True)
    if found is None:
        return
    root, secret = found
    try:
        payload = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
    except (pickle.PicklingError, RecursionError, TypeError, AttributeError):
        return
    folder = root / key[:2]
    tmp = folder / f".{key}.{os.getpid()}"
    try:
        folder.mkdir(mode=0o700, exist_ok=True)
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_NOFOLLOW", 0)
                     | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0), 0o600)
        with os.fdopen(fd, "wb") as out:
            out.write(_mac(secret, key, payload))
            out.write(payload)
        os.replace(tmp, folder / key)
    except OSError:
        try:
            tmp.unlink()
        except OSError:
            pass
