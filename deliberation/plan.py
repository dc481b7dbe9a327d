"""The document plan: one numbering for the whole bundle, made before anything is rendered.

Which documents, in what order, with which numbers and file names: the rendering context, the acts'
file names, the @ctes transmission rules and the bundle all take their cross-references from here.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from deliberation.model import Dossier, Modele, Thematique


@dataclass(frozen=True)
class Annexe:
    """An annex of the délibération with its number."""

    numero: int
    kind: str  # "narrative", "repartition" or "modele"
    slug: str
    titre: str
    thematique: Thematique | None = None
    modele: Modele | None = None


@dataclass(frozen=True)
class Document:
    """A document of the bundle: its order, file stem, title and annex (if any)."""

    ordre: int
    stem: str
    titre: str
    kind: str  # "rapport", "deliberation" or an annex kind
    annexe: Annexe | None = None


#: The Word template of each kind of document of the délibération.
DOCUMENT_TEMPLATES = {
    "rapport": "rapport.docx",
    "deliberation": "deliberation.docx",
    "narrative": "annexe-narrative.docx",
    "repartition": "annexe-repartition.docx",
    "modele": "avenant.docx",
}


#: Names Windows reserves for devices, whatever the case and the extension (``con``, ``CON.txt``).
WINDOWS_RESERVED = frozenset({"con", "prn", "aux", "nul", *(f"com{i}" for i in range(1, 10)),
                              *(f"lpt{i}" for i in range(1, 10))})


def windows_reserved(name: str) -> bool:
    """True when ``name`` cannot be a file or folder name on Windows: a device name, or a trailing dot or space."""
    stem = name.split(".", 1)[0].rstrip(" ").lower()
    return stem in WINDOWS_RESERVED or name.endswith((".", " "))


def slugify(text: str, max_len: int = 60, reserved_suffix: str = "document") -> str:
    """A safe file-name fragment: ASCII letters, digits and dashes only, never a name Windows reserves.

    A name Windows reserves (« CON », « lpt1 ») gets ``-`` and ``reserved_suffix`` appended (``con-structure``).
    """
    text = unicodedata.normalize("NFKD", text)
    text = "".join(c for c in text if not unicodedata.combining(c)).lower()
    text = re.sub(r"[^a-z0-9]+", "-", text).strip("-")
    text = text[:max_len].rstrip("-") or "document"
    return f"{text}-{reserved_suffix}" if windows_reserved(text) else text


def annexes(d: Dossier) -> list[Annexe]:
    """Annexes in order: one narrative per thématique, the répartition, the avenant models used."""
    out: list[Annexe] = []
    for t in d.thematiques:
        out.append(Annexe(len(out) + 1, "narrative", f"thematique-{t.numero}", f"Thématique {t.numero}", thematique=t))
    out.append(Annexe(len(out) + 1, "repartition", "repartition-financiere", "Répartition financière"))
    used = {ligne.document for _, _, ligne in d.lignes()}
    modeles = d.info.modeles if d.info else {}
    for key, m in modeles.items():
        if m.type == "avenant" and key in used:
            out.append(Annexe(len(out) + 1, "modele", slugify(key), m.titre or key, modele=m))
    return out


def documents(d: Dossier) -> list[Document]:
    """Every document of the bundle in order, with stable numbered names."""
    docs = [
        Document(1, "01-rapport", "Rapport", "rapport"),
        Document(2, "02-deliberation", "Délibération", "deliberation"),
    ]
    for a in annexes(d):
        n = len(docs) + 1
        docs.append(Document(n, f"{n:02d}-annexe-{a.numero}-{a.slug}", f"Annexe {a.numero} – {a.titre}", a.kind, a))
    return docs
