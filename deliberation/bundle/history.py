"""The previous bundle in the output folder: what a rebuild reuses, compares against and numbers after.

``manifest.json`` tells each output's SHA-256, each Word document's fingerprint (``empreinte``) and
each PDF's source; a file whose bytes no longer match its manifest entry is not reused.
``CHANGES.md`` is the bundle's journal: one section per version, newest first.
"""

from __future__ import annotations

import json
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path

from deliberation.bundle.pdf import converter_id
from deliberation.bundle.redline import REVISIONS
from deliberation.diff import SNAPSHOT, Change, Documents, markdown_table
from deliberation.engine import engine_sha
from deliberation.fsio import sha256

CHANGES = "CHANGES.md"


@dataclass
class Previous:
    """An earlier bundle: its manifest and the files it lists (read once, checked against the manifest)."""

    root: Path
    manifest: dict
    files: dict[str, bytes] = field(default_factory=dict)

    @property
    def version(self) -> int:
        """The earlier bundle's version number (1 for a bundle from before versions were kept)."""
        v = self.manifest.get("version")
        return v if isinstance(v, int) and v > 0 else 1

    def documents(self) -> dict[str, tuple[str, bytes]]:
        """Word documents with their fingerprint: ``name → (fingerprint, bytes)``."""
        out = {}
        for name, entry in self.manifest.get("sorties", {}).items():
            if name.endswith(".docx") and name in self.files and entry.get("empreinte"):
                out[name] = (entry["empreinte"], self.files[name])
        return out

    def pdf_cache(self, options: dict) -> dict[tuple[str, str], bytes]:
        """PDFs by ``(name, source SHA-256)``, made with the same PDF options, engine and LibreOffice."""
        old = self.manifest.get("options", {})
        if old.get("pdfa") != options.get("pdfa"):
            return {}
        if self.manifest.get("moteur", {}).get("empreinte") != engine_sha():
            return {}
        if self.manifest.get("convertisseur") != converter_id():
            return {}
        out = {}
        for name, entry in self.manifest.get("sorties", {}).items():
            if name.endswith(".pdf") and name in self.files and entry.get("source"):
                out[(name, entry["source"])] = self.files[name]
        return out

    def snapshot(self) -> dict | None:
        """The figures of the earlier version (``chiffres.json``)."""
        data = self.files.get(SNAPSHOT)
        try:
            return json.loads(data) if data else None
        except ValueError:
            return None

    def hashes(self, suffix: str | tuple[str, ...] = ".docx") -> dict[str, str]:
        """``name → SHA-256`` of the earlier outputs ending with ``suffix`` (or one of them; revisions aside)."""
        return {n: e["sha256"] for n, e in self.manifest.get("sorties", {}).items()
                if n.endswith(suffix) and not n.startswith("revisions/") and "sha256" in e}

    def changelog(self) -> str:
        """The earlier journal, if any."""
        data = self.files.get(CHANGES)
        return data.decode("utf-8", "replace") if data else ""


#: The largest output a previous bundle may list (a crafted manifest must not make a build read /dev/zero).
MAX_OUTPUT_BYTES = 2 * 1024 ** 3


def _read_member(root: Path, rel: object, size: object = None) -> bytes | None:
    """The bytes of output ``rel`` of bundle ``root``, or None when it cannot be one of its own files.

    The name must stay inside ``root`` (no absolute path, ``..``, or symbolic link on the way), and
    the file must be a regular file of the size the manifest gives (or under ``MAX_OUTPUT_BYTES``).
    """
    if not isinstance(rel, str) or not rel or rel.startswith("/") or "\\" in rel or "\0" in rel:
        return None
    parts = rel.split("/")
    if any(p in ("", ".", "..") for p in parts):
        return None
    path = root
    try:
        for part in parts[:-1]:
            path = path / part
            if not stat.S_ISDIR(os.lstat(path).st_mode):  # a link to a folder elsewhere is not followed
                return None
        fd = os.open(path / parts[-1], os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
                     | getattr(os, "O_BINARY", 0))
    except OSError:
        return None
    with os.fdopen(fd, "rb") as fh:
        st = os.fstat(fh.fileno())
        limit = size if isinstance(size, int) and not isinstance(size, bool) else MAX_OUTPUT_BYTES
        if not stat.S_ISREG(st.st_mode) or st.st_size > min(limit, MAX_OUTPUT_BYTES):
            return None
        try:
            return fh.read(st.st_size + 1)
        except OSError:
            return None


def read_previous(out: Path | None) -> Previous | None:
    """The bundle in ``out``, if there is one with a readable manifest; files that do not match it are left out.

    Only files inside ``out`` are read, whatever names the manifest holds (see ``_read_member``).
    """
    if out is None:
        return None
    raw = _read_member(Path(out), "manifest.json", 64 * 1024 ** 2)
    try:
        manifest = json.loads(raw.decode("utf-8")) if raw is not None else None
    except ValueError:
        return None
    if not isinstance(manifest, dict) or not isinstance(manifest.get("sorties"), dict):
        return None
    files = {}
    for name, entry in manifest["sorties"].items():
        if not isinstance(entry, dict):
            continue
        data = _read_member(Path(out), name, entry.get("octets"))
        if data is not None and entry.get("sha256") == sha256(data):
            files[name] = data
    changes = _read_member(Path(out), CHANGES, 64 * 1024 ** 2)
    if changes is not None:
        files[CHANGES] = changes
    return Previous(Path(out), manifest, files)


def changelog(earlier: str, version: int, title: str, changes: list[Change] | None, docs: Documents,
              amendments: list, redlines: dict[str, bytes], notes: list[str]) -> bytes:
    """``CHANGES.md`` with a new section for ``version`` on top of the ``earlier`` journal."""
    head = f"# Journal des versions — {title}\n"
    body = earlier.split("\n", 1)[1].lstrip("\n") if earlier.startswith("# ") else earlier
    lines = [f"## Version {version}", ""]
    if version == 1 or changes is None:
        lines += [f"Première version : {len(docs.ajoutes)} document(s) Word et Excel.", ""]
    else:
        lines += ["### Chiffres modifiés", "", markdown_table(changes), ""]
        lines += ["### Documents", ""]
        for label, names in (("modifié(s)", docs.modifies), ("ajouté(s)", docs.ajoutes),
                             ("supprimé(s)", docs.supprimes)):
            lines.append(f"- {len(names)} {label}" + (" :" if names else ""))
            for n in names:
                red = f"{REVISIONS}/{n}"
                lines.append(f"  - `{n}`" + (f" — modifications suivies : `{red}`" if red in redlines else ""))
        lines += [f"- {docs.inchanges} inchangé(s), à l'octet près", ""]
    if amendments:
        lines += ["### Amendements adoptés", ""]
        lines += [f"- n°{a.numero} : {a.objet}" for a in amendments] + [""]
    if notes:
        lines += ["### Remarques", "", *(f"- {n}" for n in notes), ""]
    return (head + "\n" + "\n".join(lines) + ("\n" + body if body else "")).rstrip("\n").encode("utf-8") + b"\n"
