"""Every declared figure equals its computed figure (balance assertions)."""

from __future__ import annotations

from decimal import Decimal

from deliberation.compute import Totaux
from deliberation.findings import Finding, error
from deliberation.fmt import date_short, etp, gap, money, number, plain
from deliberation.model import UNITES, Annonce
from deliberation.rules import DOSSIER, RuleInput, rule

_LABELS = {
    "montant": "total",
    "lignes": "nombre de lignes",
    "structures": "nombre de structures",
    "dispositifs": "nombre de dispositifs",
    "etp": "nombre d'ETP",
    "proposition": "proposition",
    "solde": "solde",
    "disponible": "disponible",
    "periode": "période",
}


def _fmt(quoi: str, value) -> str:
    if quoi in ("montant", "proposition", "solde", "disponible"):
        return plain(money(value))
    if quoi == "etp":
        return plain(etp(value))
    if quoi == "periode":
        return f"du {date_short(value[0])} au {date_short(value[1])}"
    if quoi in UNITES:
        return plain(f"{number(value)} {quoi}")
    return str(value)


def _partial_period(declared, known) -> tuple | None:
    """With some line periods unreadable, what the readable ones already prove about the envelope."""
    debut, fin = known
    if (debut is not None and declared[0] > debut) or (fin is not None and declared[1] < fin):
        return known
    return None


def _compare(scope: str, a: Annonce, found, computed_as: str, known=None) -> list[Finding]:
    declared = a.valeur
    if a.quoi == "periode":
        if declared is None or declared.debut is None or declared.fin is None:
            return []
        declared = (declared.debut, declared.fin)
        if found is None and known is not None:
            partial = _partial_period(declared, known)
            if partial is not None:
                d0, d1 = (date_short(x) if x else "?" for x in partial)
                source = f" — {a.source}" if a.source else ""
                msg = (
                    f"période {scope} : annoncée {_fmt('periode', declared)}, alors que les lignes lisibles "
                    f"couvrent déjà du {d0} au {d1}{source}"
                )
                return [error("annonce.periode", msg, a.loc)]
    if found is None or declared is None or declared == found:
        return []
    label = _LABELS.get(a.quoi, a.quoi)
    diff = ""
    if isinstance(found, (Decimal, int)) and isinstance(declared, (Decimal, int)):
        unit = "€" if a.quoi in ("montant", "proposition", "solde", "disponible") else (
            "ETP" if a.quoi == "etp" else (a.quoi if a.quoi in UNITES else ""))
        diff = " " + gap(Decimal(declared), Decimal(found), unit)
    source = f" — {a.source}" if a.source else ""
    msg = f"{label} {scope} : annoncé {_fmt(a.quoi, declared)}, {computed_as} {_fmt(a.quoi, found)}{diff}{source}"
    return [error(f"annonce.{a.quoi}", msg, a.loc, subject=f"{label} {scope}")]


def _from_totaux(t: Totaux, quoi: str):
    if quoi == "montant":
        return t.montant, "somme des lignes"
    if quoi in ("lignes", "structures", "dispositifs"):
        return getattr(t, quoi), "décompte des lignes"
    if quoi == "etp":
        return t.etp, "somme des lignes"
    if quoi == "periode":
        return t.periode, "période couverte par les lignes"
    if quoi in UNITES:
        return t.volume(quoi), "somme des lignes"
    return None, ""


@rule(DOSSIER, ("annonce.*",))
def check_declared(inp: RuleInput) -> list[Finding]:
    """Compare every ``annonces`` entry with the computed figure of its scope.

    Declared figures are those of the texts as presented (the rapport), before any amendment.
    """
    d, fig = (inp.presented, inp.presented_figures) if inp.presented is not None else (inp.dossier, inp.figures)
    out: list[Finding] = []

    def scoped(scope: str, annonces, totaux: Totaux, extra=None):
        for a in annonces:
            if extra and a.quoi in extra:
                found, how = extra[a.quoi]
            else:
                found, how = _from_totaux(totaux, a.quoi)
                if not how:
                    msg = f"« {a.quoi} » ne s'annonce pas pour {scope}"
                    out.append(error("annonce.portee", msg, a.loc))
                    continue
            out.extend(_compare(scope, a, found, how, totaux.periode_connue))

    if d.info:
        scoped("de la phase", d.info.annonces, fig.phase)
    for t in d.thematiques:
        scoped(f"de la thématique {t.numero}", t.annonces, fig.of(t))
        for o in t.operations:
            scoped(f"de l'opération {t.numero}.{o.numero}", o.annonces, fig.of(o))
    for b in d.budget:
        bf = fig.budget.get(b.code)
        if bf is None:
            continue
        extra = {
            "proposition": (bf.proposition, "somme des lignes imputées"),
            "montant": (bf.proposition, "somme des lignes imputées"),
            "solde": (bf.solde, "disponible moins proposition"),
            "disponible": (b.disponible, "disponible saisi"),
        }
        scoped(f"de la ligne budgétaire {b.code}", b.annonces, bf.totaux, extra)
    return out
