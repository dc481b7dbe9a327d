"""@ctes pre-flight: what the préfecture's transmission platform would reject, before anything is sent.

The délibération is transmitted to the contrôle de légalité through @ctes, which refuses an act whose
number, objet or classification is badly formed (dossier stage), and PDFs it cannot open or too heavy
(after conversion, stage ``PDF``). These rules run only when asked (``check --actes``) and under
``build --final``.

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
import re
from decimal import Decimal
from pathlib import Path

from deliberation.findings import Finding, Loc, error
from deliberation.fmt import number
from deliberation.messages import library_error
from deliberation.model import NATURES_ACTES, Dossier
from deliberation.plan import documents
from deliberation.rules import DOSSIER, PDF, PdfInput, RuleInput, rule

#: What @ctes accepts as an act number (« numéro interne »), once normalised.
NUMERO = re.compile(r"[0-9A-Z_]{1,15}")
#: A matière code of the @ctes classification: « 7 », « 7.5 », « 7.5.1 ».
MATIERE = re.compile(r"\d(\.\d+){0,2}")
#: Longest objet @ctes accepts, in characters.
OBJET_MAX = 499
#: Largest total size @ctes accepts for an act and its annexes, in bytes.
ACTES_MAX_BYTES = 150_000_000

_SEPARATORS = re.compile(r"[-/.\s]+")
_BREAKS = re.compile(r"[\n\r\v\f\x85\u2028\u2029]")
_BLANKS = re.compile(r"[^\S\n\r\v\f\x85\u2028\u2029]+")  # runs of spaces, tabs, no-break spaces


def numero_actes(numero: str) -> str:
    """The act number as transmitted: upper case, each run of ``-``, ``/``, ``.`` or spaces turned into ``_``."""
    return _SEPARATORS.sub("_", numero.strip()).upper()


def objet_actes(titre: str) -> str:
    """The objet as transmitted: the act's title, stripped, each run of spaces made one space (line breaks kept)."""
    return _BLANKS.sub(" ", titre).strip()


def nature_code(value: str) -> str | None:
    """The @ctes nature code of ``value`` (a code « 1 » or a label « Délibérations »), None if unknown."""
    text = value.strip()
    if text in NATURES_ACTES:
        return text
    by_label = {label.casefold(): code for code, label in NATURES_ACTES.items()}
    return by_label.get(text.casefold())


def check_numero(numero: str, loc: Loc) -> list[Finding]:
    """The act number fits ``[0-9A-Z_]{1,15}`` once normalised."""
    norm = numero_actes(numero)
    if NUMERO.fullmatch(norm):
        return []
    problems = []
    bad = sorted({c for c in norm if not re.fullmatch(r"[0-9A-Z_]", c)})
    if bad:
        problems.append("caractère(s) interdit(s) " + ", ".join(f"« {c} »" for c in bad))
    if len(norm) > 15:
        problems.append(f"{len(norm)} caractères (au plus 15)")
    return [error("actes.numero", f"numéro de l'acte « {numero} » : transmis à @ctes comme « {norm} », refusé : "
                  + " ; ".join(problems) + " (attendu : lettres A-Z, chiffres et « _ », 15 au plus)", loc)]


def check_objet(titre: str, loc: Loc) -> list[Finding]:
    """The objet (the act's title) has 1 to 499 characters once normalised, and no line break."""
    objet = objet_actes(titre)
    out = []
    if _BREAKS.search(objet):
        n = len(_BREAKS.findall(objet))
        out.append(error("actes.objet_ligne", f"objet de l'acte (titre) : {n} saut(s) de ligne, refusé(s) par "
                         "@ctes : écrivez le titre sur une seule ligne", loc))
    if len(objet) > OBJET_MAX:  # an empty title is already a schema error (texte.vide)
        out.append(error("actes.objet_long", f"objet de l'acte (titre) : {len(objet)} caractères, au plus "
                         f"{OBJET_MAX} pour @ctes ({len(objet) - OBJET_MAX} de trop)", loc))
    return out


@rule(DOSSIER, ("actes.numero", "actes.objet_ligne", "actes.objet_long", "actes.nature_manquante",
                "actes.nature_inconnue", "actes.matiere_manquante", "actes.matiere_format"), on_demand=True)
def check_transmission(inp: RuleInput) -> list[Finding]:
    """Act number, objet, nature and matière as @ctes will receive them (missing values are errors)."""
    d = inp.dossier
    info = d.info.deliberation if d.info else None
    if info is None:
        return []  # the schema already reports the missing block
    out: list[Finding] = []
    if info.numero is not None:
        out += check_numero(info.numero, info.at("numero"))
    if info.titre is not None:
        out += check_objet(info.titre, info.at("titre"))
    actes = info.actes
    where = actes.loc if actes is not None else info.loc
    natures = " ; ".join(f"{k} {v}" for k, v in NATURES_ACTES.items())
    nature = actes.nature if actes is not None else None
    if nature is None:
        out.append(error("actes.nature_manquante", "nature de l'acte @ctes absente : écrivez "
                         f"deliberation.actes.nature (codes : {natures})", where))
    elif nature_code(nature) is None:
        out.append(error("actes.nature_inconnue", f"nature de l'acte « {nature} » inconnue de @ctes ; "
                         f"attendu : {natures}", actes.at("nature")))
    matiere = actes.matiere if actes is not None else None
    if matiere is None:
        out.append(error("actes.matiere_manquante", "matière de l'acte @ctes absente : écrivez "
                         "deliberation.actes.matiere, code de la classification (« 7.5 » : Subventions)", where))
    elif not MATIERE.fullmatch(matiere.strip()):
        out.append(error("actes.matiere_format", f"matière « {matiere} » : code @ctes attendu de la forme "
                         "« 7 », « 7.5 » ou « 7.5.1 » (chiffres séparés par des points)", actes.at("matiere")))
    return out


# ---------------------------------------------------------------------------
# the converted bundle


def transmitted(d: Dossier) -> list[str]:
    """Names of the PDFs transmitted to @ctes, in bundle order: rapport, délibération, annexes."""
    return [f"{doc.stem}.pdf" for doc in documents(d)]


def _size(n: int) -> str:
    if n < 1_000_000:
        return f"{number(n)} octets"
    return f"{number(Decimal(n) / 1_000_000, 1)} Mo ({number(n)} octets)"


def pdf_problem(data: bytes) -> str | None:
    """Why pypdf cannot use this PDF (unreadable, encrypted), or None when it opens."""
    from pypdf import PdfReader  # here, not at the top: ``check`` never loads pypdf

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


@rule(PDF, ("actes.pdf_absent", "actes.pdf_chiffre", "actes.pdf_illisible", "actes.taille"), on_demand=True)
def check_transmitted_pdfs(inp: PdfInput) -> list[Finding]:
    """The PDFs transmitted to @ctes open, are not encrypted, and stay under its size limit together."""
    return check_pdfs(inp.files, transmitted(inp.dossier), inp.out_dir)


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
