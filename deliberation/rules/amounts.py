"""Amounts are non-negative with at most two decimals."""

from __future__ import annotations

from decimal import Decimal

from deliberation.findings import Finding, Loc, error
from deliberation.fmt import money, plain
from deliberation.rules import DOSSIER, RuleInput, rule


def _check(value: Decimal | None, what: str, loc: Loc) -> list[Finding]:
    if value is None:
        return []
    out = []
    if value < 0:
        out.append(error("montant.negatif", f"{what} : montant négatif {plain(money(value))}", loc))
    if value.as_tuple().exponent < -2:
        out.append(error("montant.decimales", f"{what} : plus de deux décimales ({value})", loc))
    return out


@rule(DOSSIER, ("montant.negatif", "montant.decimales"))
def check_amounts(inp: RuleInput) -> list[Finding]:
    """Every amount of the dossier (lines, budget lines, conventions, declared figures) is valid."""
    d = inp.dossier
    out: list[Finding] = []
    for _, _, ligne in d.lignes():
        out += _check(ligne.montant, f"ligne {ligne.id}", ligne.at("montant"))
    for b in d.budget:
        out += _check(b.ae, f"AE de {b.code}", b.at("ae"))
        out += _check(b.disponible, f"disponible de {b.code}", b.at("disponible"))
    for s in d.structures.values():
        for c in s.conventions.values():
            out += _check(c.montant, f"convention {s.id}/{c.id}", c.at("montant"))
    for scope in [d.info, *d.budget, *d.thematiques, *(o for _, o in d.operations())]:
        for a in getattr(scope, "annonces", ()) if scope else ():
            if isinstance(a.valeur, Decimal) and a.quoi in ("montant", "proposition", "solde", "disponible"):
                out += _check(a.valeur, f"{a.quoi} annoncé", a.loc)
    return out
