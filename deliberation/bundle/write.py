"""Write a bundle atomically: into a temporary folder beside the target, then swap."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from deliberation.findings import BuildError


def _inside(root: Path, rel: str) -> Path:
    path = (root / rel).resolve()
    if root.resolve() not in path.parents:
        raise BuildError(f"nom de fichier refusé (hors du dossier de sortie) : {rel!r}")
    return path


def recover(out: Path) -> None:
    """Undo what an interrupted build left: restore a swapped-out bundle, drop temporary folders."""
    parent = out.parent
    if not parent.is_dir():
        return
    olds = sorted(parent.glob(f".{out.name}.old-*"))
    if not out.exists() and olds:
        olds[-1].rename(out)
        olds = olds[:-1]
    for stale in [*parent.glob(f".{out.name}.tmp-*"), *olds]:
        shutil.rmtree(stale, ignore_errors=True)


def _link(src: Path, dst: Path, size: int) -> bool:
    """Hard-link ``src`` to ``dst`` if it is a plain file of the expected size; False to write instead."""
    try:
        if src.is_symlink() or not src.is_file() or src.stat().st_size != size:
            return False
        os.link(src, dst)
    except OSError:
        return False
    return True


def write_bundle(out: Path, files: dict[str, bytes], same: set[str] | frozenset = frozenset()) -> None:
    """Write ``files`` (relative path → bytes) as the new content of ``out``, all or nothing.

    ``same`` names files whose bytes are those already in ``out``: they are hard-linked from there
    rather than written again (a rebuild after one amendment rewrites only what changed).

    Raises:
        BuildError: a file name escapes the output folder, or the disk refuses the write.

    """
    out = out.absolute()
    out.parent.mkdir(parents=True, exist_ok=True)
    recover(out)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.tmp-", dir=out.parent))
    tmp.chmod(0o755)
    try:
        for rel in sorted(files):
            path = _inside(tmp, rel)
            path.parent.mkdir(parents=True, exist_ok=True)
            if rel in same and _link(out / rel, path, len(files[rel])):
                continue
            with open(path, "wb") as fh:
                fh.write(files[rel])
        # one flush of everything written (one fsync per file costs seconds for a 2 000-file bundle)
        os.sync()
        old = None
        if out.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{out.name}.old-", dir=out.parent))
            old.rmdir()
            out.rename(old)
        tmp.rename(out)
        os.sync()  # the swap itself reaches the disk
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    except OSError as err:
        shutil.rmtree(tmp, ignore_errors=True)
        raise BuildError(f"écriture impossible dans {out.parent} : {err.strerror or err}") from err
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
