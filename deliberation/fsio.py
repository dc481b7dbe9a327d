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
- ``os_error_text``: what the system said, in French.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import stat
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
