"""Periods start before they end; commissions meet before the séance."""

from __future__ import annotations

from deliberation.findings import Finding, error
from deliberation.fmt import date_short
from deliberation.model import Periode
from deliberation.rules import DOSSIER, RuleInput, rule


def _check(p: Periode | None, what: str) -> list[Finding]:
    if p is None or p.debut is None or p.fin is None or p.debut <= p.fin:
        return []
    msg = f"{what} : la période commence le {date_short(p.debut)} après sa fin le {date_short(p.fin)}"
    return [error("periode.inversee", msg, p.at("fin"))]


@rule(DOSSIER, ("periode.inversee", "seance.avis_apres"))
def check_periods(inp: RuleInput) -> list[Finding]:
    """Every period of the dossier starts on or before its last day."""
    d = inp.dossier
    out: list[Finding] = []
    for _, _, ligne in d.lignes():
        out += _check(ligne.periode, f"ligne {ligne.id}")
    for s in d.structures.values():
        for c in s.conventions.values():
            out += _check(c.periode, f"convention {s.id}/{c.id}")
    for scope in [*d.thematiques, *(o for _, o in d.operations())]:
        for a in scope.annonces:
            if a.quoi == "periode":
                out += _check(a.valeur, "période annoncée")
    info = d.info
    if info and info.seance and info.seance.date:
        for c in info.commissions:
            if c.date and c.date > info.seance.date:
                msg = (
                    f"avis de la commission {c.numero} daté du {date_short(c.date)}, "
                    f"après la séance du {date_short(info.seance.date)}"
                )
                out.append(error("seance.avis_apres", msg, c.at("date")))
    return out
