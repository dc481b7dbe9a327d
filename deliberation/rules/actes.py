"""@ctes pre-flight, dossier level: what the préfecture's platform would reject in the act's metadata.

The délibération is transmitted to the contrôle de légalité through @ctes, which refuses an act whose
number, objet or classification is badly formed. These checks run only when asked (``check --actes``)
and under ``build --final``; the PDF checks (readable, not encrypted, total size) are in
``deliberation.bundle.actes`` since they need the converted bundle.
"""

from __future__ import annotations

import re

from deliberation.findings import Finding, Loc, error
from deliberation.model import NATURES_ACTES, Dossier

#: What @ctes accepts as an act number (« numéro interne »), once normalised.
NUMERO = re.compile(r"[0-9A-Z_]{1,15}")
#: A matière code of the @ctes classification: « 7 », « 7.5 », « 7.5.1 ».
MATIERE = re.compile(r"\d(\.\d+){0,2}")
#: Longest objet @ctes accepts, in characters.
OBJET_MAX = 499

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


def check_transmission(d: Dossier) -> list[Finding]:
    """Act number, objet, nature and matière as @ctes will receive them (missing values are errors)."""
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
