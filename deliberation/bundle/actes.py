"""@ctes pre-flight on the converted bundle: the PDFs transmitted to the préfecture, before anything is written.

What is transmitted is the act with its annexes: the délibération, the rapport (the délibération says
« Vu le rapport du Président du Conseil départemental, ci-annexé » and its article 4 refers to « the
rapport joint à la présente délibération »: it is part of what the Commission voted on) and every
numbered annex (narratives, répartition financière, avenant models). Not transmitted: the cover and
sommaire (``00-sommaire.pdf``) and ``bundle.pdf``, which repeat those documents, and the avenants and
conventions of ``actes/``, signed later with each structure. Each transmitted PDF must open with
pypdf and not be encrypted; together they must stay under @ctes' limit of 150 Mo (taken as 150 000 000
bytes, the stricter reading of « Mo »).
"""

from __future__ import annotations

import io
import logging
from decimal import Decimal
from pathlib import Path

from deliberation.bundle.numbering import documents
from deliberation.findings import Finding, Loc, error
from deliberation.fmt import number
from deliberation.messages import library_error
from deliberation.model import Dossier

#: Largest total size @ctes accepts for an act and its annexes, in bytes.
ACTES_MAX_BYTES = 150_000_000


def transmitted(d: Dossier) -> list[str]:
    """Names of the PDFs transmitted to @ctes, in bundle order: rapport, délibération, annexes."""
    return [f"{doc.stem}.pdf" for doc in documents(d)]


def _size(n: int) -> str:
    if n < 1_000_000:
        return f"{number(n)} octets"
    return f"{number(Decimal(n) / 1_000_000, 1)} Mo ({number(n)} octets)"


def pdf_problem(data: bytes) -> str | None:
    """Why pypdf cannot use this PDF (unreadable, encrypted), or None when it opens."""
    from pypdf import PdfReader

    log = logging.getLogger("pypdf")
    level = log.level
    log.setLevel(logging.ERROR)  # the finding says it; pypdf's own warnings would only repeat it on stderr
    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            return "chiffré (mot de passe ou restrictions d'usage)"
        if not reader.pages:
            return "sans aucune page"
    except Exception as err:  # any failure to parse: @ctes' own reader may fail too
        return f"illisible ({library_error(err)})"
    finally:
        log.setLevel(level)
    return None


def check_pdfs(pdfs: dict[str, bytes], names: list[str], out_dir: Path | None = None,
               limit: int = ACTES_MAX_BYTES) -> list[Finding]:
    """Check the PDFs @ctes will receive: each opens and is not encrypted, and their total is under ``limit``.

    Args:
        pdfs: every PDF of the bundle, by file name.
        names: the transmitted ones (see ``transmitted``).
        out_dir: the output folder, for the findings' locations (nothing is written there).
        limit: the total size allowed, in bytes (lowered by the tests).

    Returns:
        One error finding per problem (codes ``actes.pdf_*`` and ``actes.taille``).

    """
    def loc(name: str) -> Loc:
        return Loc(str(out_dir / name) if out_dir else name)

    out: list[Finding] = []
    for name in names:
        data = pdfs.get(name)
        if data is None:
            out.append(error("actes.pdf_absent", f"{name} : PDF à transmettre à @ctes absent du dossier produit",
                             loc(name)))
            continue
        problem = pdf_problem(data)
        if problem is not None:
            code = "actes.pdf_chiffre" if problem.startswith("chiffré") else "actes.pdf_illisible"
            out.append(error(code, f"{name} : PDF {problem} ; @ctes refuse un PDF qu'il ne peut pas ouvrir", loc(name)))
    sizes = {n: len(pdfs[n]) for n in names if n in pdfs}
    total = sum(sizes.values())
    if total > limit:
        biggest = max(sizes, key=lambda n: (sizes[n], n))
        out.append(error("actes.taille", f"acte et annexes transmis à @ctes : {len(sizes)} PDF, {_size(total)}, "
                         f"au-delà de la limite de {_size(limit)} : {_size(total - limit)} de trop ; "
                         f"le plus lourd : {biggest}, {_size(sizes[biggest])}", loc(biggest)))
    return out
