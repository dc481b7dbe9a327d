"""Write a bundle atomically: into a temporary folder beside the target, then swap.

The swap exchanges the two folders in one system call (``renameat2(RENAME_EXCHANGE)``, Linux), so
the output folder always holds a complete bundle, the previous one or the new one. Where the
exchange is not available (macOS, Windows, some file systems), the old folder is moved aside then the
new one moved in; a build killed between the two renames leaves ``.NAME.old-*``, which ``recover`` (run
by the next build) puts back. Where ``os.sync`` is missing (Windows), each file is flushed as written.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import re
import shutil
import signal
import stat
import tempfile
import time
from pathlib import Path

from deliberation.bundle.lock import build_lock
from deliberation.findings import BuildError
from deliberation.fsio import os_error_text

MANIFEST_NAME = "manifest.json"


#: The strongest signal this system has: SIGKILL, or SIGTERM on Windows (there ``os.kill`` terminates the process).
SIGKILL = getattr(signal, "SIGKILL", signal.SIGTERM)


def sync_disk() -> None:
    """Flush every written file to disk (``os.sync``); nothing where there is none (Windows: files are fsync'd)."""
    flush = getattr(os, "sync", None)
    if flush is not None:
        flush()


class OutputRefused(BuildError):
    """The output folder is not one this engine may write into (not empty, not one of its bundles…)."""


_TEMP_SUFFIX = re.compile(r"(?:pdf-)?[a-z0-9_]{8}")  # what ``tempfile.mkdtemp`` adds to this module's prefixes


def _entries(folder: Path, prefix: str) -> list[Path]:
    """Temporary folders of this module in ``folder``, real folders only (never a link).

    ``prefix`` is matched literally (never as a glob), then the random part ``tempfile.mkdtemp`` adds.
    """
    try:
        with os.scandir(folder) as it:
            return sorted(Path(e.path) for e in it if e.name.startswith(prefix)
                          and _TEMP_SUFFIX.fullmatch(e.name[len(prefix):]) and e.is_dir(follow_symlinks=False))
    except OSError:
        return []


def _is_within(inner: Path, outer: Path) -> bool:
    return inner == outer or outer in inner.parents


def _bundle_names(out: Path) -> set[str] | None:
    """The names an earlier bundle in ``out`` lists (its manifest's outputs, and the manifest); None if none."""
    try:
        with open(out / MANIFEST_NAME, "rb") as fh:
            manifest = json.loads(fh.read(64 * 1024 * 1024))
    except (OSError, ValueError):
        return None
    if not (isinstance(manifest, dict) and isinstance(manifest.get("sorties"), dict)
            and isinstance(manifest.get("moteur"), dict) and manifest["moteur"].get("nom") == "deliberation"):
        return None
    return {n for n in manifest["sorties"] if isinstance(n, str)} | {MANIFEST_NAME}


def _foreign(out: Path, ours: set[str]) -> list[str]:
    """Files and links under ``out`` that the bundle does not list (folders are walked, not followed)."""
    found = []
    for top, dirs, names in os.walk(out):
        rel_top = os.path.relpath(top, out)
        for name in sorted(names) + sorted(d for d in dirs if os.path.islink(os.path.join(top, d))):
            rel = name if rel_top == "." else f"{rel_top}/{name}".replace(os.sep, "/")
            if rel not in ours or os.path.islink(os.path.join(top, name)):
                found.append(rel)
        dirs.sort()
    return found


def output_refusal(out: Path, source: Path | None = None) -> str | None:
    """Why ``build`` must not write into ``out`` (None: it may). It writes only where it cannot destroy.

    ``out`` may be absent, an empty folder, or a bundle this engine wrote whose files are all listed by
    its manifest. It may not be a file, a symbolic link, the dossier ``source``, a folder holding the
    dossier, or a folder inside it (compared on resolved paths).
    """
    out = Path(os.path.abspath(out))
    if os.path.islink(out):
        return f"{out} est un lien symbolique : indiquez un dossier réel (absent, vide ou déjà produit)"
    if os.path.lexists(out) and not out.is_dir():
        return f"{out} est un fichier, pas un dossier : il n'est pas remplacé"
    if source is not None:
        real_out, real_src = out.resolve(), Path(source).resolve()
        if _is_within(real_src, real_out):
            what = "est le dossier de la phase" if real_out == real_src else f"contient le dossier de la phase {source}"
            return f"{out} {what} : la production l'effacerait ; choisissez un autre dossier de sortie"
        if _is_within(real_out, real_src):
            return (f"{out} est à l'intérieur du dossier de la phase {source} : choisissez un dossier de sortie "
                    "hors du dossier")
    if not out.is_dir():
        return None
    try:
        with os.scandir(out) as it:
            empty = next(it, None) is None
    except OSError as err:
        return f"{out} illisible : {os_error_text(err)}"
    if empty:
        return None
    ours = _bundle_names(out)
    if ours is None:
        try:
            with os.scandir(out) as it:
                names = sorted(e.name for e in it)
        except OSError:
            names = []
        shown = ", ".join(names[:5]) + (" …" if len(names) > 5 else "")
        return (f"{out} n'est pas vide et n'est pas un jeu produit par deliberation (pas de {MANIFEST_NAME}) ; "
                f"il contient {len(names)} élément(s) : {shown}. Rien n'y est écrit : indiquez un dossier "
                "absent, vide ou déjà produit")
    foreign = _foreign(out, ours)
    if foreign:
        shown = ", ".join(foreign[:5]) + (" …" if len(foreign) > 5 else "")
        return (f"{out} contient {len(foreign)} fichier(s) que deliberation n'a pas écrit(s) : {shown}. "
                "Ils seraient perdus : déplacez-les, puis relancez")
    return None


def check_output(out: Path, source: Path | None = None) -> None:
    """Raise ``OutputRefused`` when ``build`` must not write into ``out`` (see ``output_refusal``)."""
    why = output_refusal(out, source)
    if why is not None:
        raise OutputRefused(f"dossier de sortie refusé : {why}")


def _pause(point: str) -> None:
    """Test hook: with ``DELIBERATION_TEST_PAUSE=point=marker``, stop at ``point`` while ``marker`` exists.

    The marker file is created (holding the pid) when the build reaches the point; the build goes on
    when a test removes it (or after two minutes), unless the test kills it there. Used only by tests.
    """
    hook = os.environ.get("DELIBERATION_TEST_PAUSE", "")
    name, _, marker = hook.partition("=")
    if name != point or not marker:
        return
    Path(marker).write_text(f"{os.getpid()}\n", "ascii")
    deadline = time.monotonic() + 120
    while os.path.exists(marker) and time.monotonic() < deadline:
        time.sleep(0.02)


def _inside(root: Path, rel: str) -> Path:
    """``root/rel`` for a plain relative name; a name that could leave ``root`` is refused.

    Checked on the name alone: ``root`` is a fresh folder holding only what this module creates (no
    symbolic link), so a relative name without ``..``, ``.`` or empty parts stays inside it.
    """
    parts = rel.split("/")
    if (not rel or rel.startswith("/") or "\0" in rel or "\\" in rel
            or any(p in ("", ".", "..") for p in parts)):
        raise BuildError(f"nom de fichier refusé (hors du dossier de sortie) : {rel!r}")
    return root.joinpath(*parts)


def processes_naming(paths) -> list[int]:
    """Other processes whose command line names one of ``paths`` (a LibreOffice working in a scratch folder).

    Read from ``/proc`` (Linux); none found where there is no ``/proc`` (macOS, Windows).
    """
    needles = [os.fsencode(p) for p in paths]
    proc = Path("/proc")
    if not needles or not proc.is_dir():
        return []
    found = []
    for entry in proc.iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        if any(n in cmdline for n in needles):
            found.append(int(entry.name))
    return found


def _kill_users(folder: Path) -> None:
    """SIGKILL the processes whose command line names ``folder`` (a LibreOffice left by a killed build).

    LibreOffice started ahead names only its profile, as a URL (``-env:UserInstallation=file:///…``).
    """
    for pid in processes_naming([folder, folder.absolute().as_uri()]):
        with contextlib.suppress(OSError):
            os.kill(pid, SIGKILL)


def recover(out: Path, keep: Path | None = None) -> None:
    """Undo what an interrupted build left: restore a swapped-out bundle, drop temporary folders.

    Takes the build lock of ``out`` (re-entrant within a build), so that it never touches the
    temporary folder of another build in progress; ``keep`` is the calling build's own.

    Raises:
        BuildLocked: another process is building into ``out``.

    """
    out = Path(os.path.abspath(out))
    parent = out.parent
    if not parent.is_dir():
        return
    with build_lock(out):
        olds = _entries(parent, f".{out.name}.old-")
        if not os.path.lexists(out) and olds:
            olds[-1].rename(out)
            olds = olds[:-1]
        for stale in [*_entries(parent, f".{out.name}.tmp-"), *olds]:
            if keep is not None and stale == keep:
                continue  # this build's own working folder (LibreOffice started while checking)
            _kill_users(stale)  # LibreOffice converting in the scratch folder of a killed build
            shutil.rmtree(stale, ignore_errors=True)


def _link(src: Path, dst: Path, size: int) -> bool:
    """Hard-link ``src`` to ``dst`` if it is a plain file of the expected size; False to write instead."""
    try:
        st = os.lstat(src)
        if not stat.S_ISREG(st.st_mode) or st.st_size != size:
            return False
        os.link(src, dst)
    except OSError:
        return False
    return True


_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


def _exchange(a: Path, b: Path) -> bool:
    """Swap folders ``a`` and ``b`` in one step; False where the system or file system cannot.

    Raises:
        OSError: the exchange is supported but failed.

    """
    try:
        import ctypes

        renameat2 = ctypes.CDLL(None, use_errno=True).renameat2
    except (ImportError, AttributeError, OSError, TypeError):  # no ctypes; not Linux; Windows: CDLL(None) fails
        return False
    renameat2.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    if renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.ENOSYS, errno.EINVAL, errno.EOPNOTSUPP, errno.ENOTSUP):
        return False
    raise OSError(code, os.strerror(code), str(a))


def _swap(tmp: Path, out: Path) -> None:
    """Put the complete folder ``tmp`` in place of ``out``; the previous bundle is removed after."""
    if out.exists() and _exchange(tmp, out):
        _pause("exchanged")
        shutil.rmtree(tmp, ignore_errors=True)  # now the previous bundle
        return
    old = None
    if out.exists():
        old = Path(tempfile.mkdtemp(prefix=f".{out.name}.old-", dir=out.parent))
        old.rmdir()
        out.rename(old)
        _pause("moved-aside")
    try:
        tmp.rename(out)
    except BaseException:
        if old is not None and not out.exists():
            old.rename(out)
        raise
    sync_disk()  # the swap itself reaches the disk
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def write_bundle(out: Path, files: dict[str, bytes], same: set[str] | frozenset = frozenset()) -> None:
    """Write ``files`` (relative path → bytes) as the new content of ``out``, all or nothing.

    ``same`` names files whose bytes are those already in ``out``: they are hard-linked from there
    rather than written again (a rebuild after one amendment rewrites only what changed). On any
    failure the temporary folder is removed and ``out`` keeps the previous bundle.

    Raises:
        BuildError: a file name escapes the output folder, the disk refuses the write, or another
            build holds the output folder.

    """
    out = Path(os.path.abspath(out))
    with build_lock(out):
        tmp = None
        try:
            out.parent.mkdir(parents=True, exist_ok=True)
            recover(out)
            check_output(out)  # again under the lock: nothing foreign arrived since the build began
            tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.tmp-", dir=out.parent))
            tmp.chmod(0o755)
            names = sorted(files)
            made: set[Path] = {tmp}
            for i, rel in enumerate(names):
                if i == len(names) // 2:
                    _pause("partial")
                path = _inside(tmp, rel)
                if path.parent not in made:
                    path.parent.mkdir(parents=True, exist_ok=True)
                    made.add(path.parent)
                if rel in same and _link(out / rel, path, len(files[rel])):
                    continue
                with open(path, "wb") as fh:
                    fh.write(files[rel])
                    if not hasattr(os, "sync"):  # no global flush (Windows): each file reaches the disk itself
                        os.fsync(fh.fileno())
            # one flush of everything written (one fsync per file costs seconds for a 2 000-file bundle)
            sync_disk()
            _pause("written")
            _swap(tmp, out)
        except OSError as err:
            if tmp is not None:
                shutil.rmtree(tmp, ignore_errors=True)
            kept = "le jeu précédent est conservé" if out.exists() else "rien n'a été écrit"
            msg = f"écriture impossible dans {out.parent} : {os_error_text(err)} ; {kept}"
            raise BuildError(msg) from err
        except BaseException:
            if tmp is not None:
                shutil.rmtree(tmp, ignore_errors=True)
            raise
