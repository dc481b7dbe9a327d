"""Amendments stay within the budget: an amendment that pushes a budget line past its disponible."""

from __future__ import annotations

from deliberation.findings import Finding, error
from deliberation.fmt import money, plain
from deliberation.rules import DOSSIER, RuleInput, rule


@rule(DOSSIER, ("amendement.depassement",))
def check_overruns(inp: RuleInput) -> list[Finding]:
    """An amendment that pushes a budget line past its disponible is an error at the amendment.

    The figures before and after the amendments are ``inp.presented_figures`` and ``inp.figures``; a line
    already over as presented is left to ``budget.depassement``.
    """
    presented, adopted = inp.presented_figures, inp.figures
    out = []
    for eff in inp.effects:
        for code, loc in eff.hausses:
            before, after = presented.budget.get(code), adopted.budget.get(code)
            if after is None or after.solde is None or after.solde >= 0:
                continue
            if before is not None and before.solde is not None and before.solde < 0:
                continue  # already over as presented: budget.depassement says so
            msg = (f"amendement n°{eff.numero} : la proposition de la ligne budgétaire {code} passe à "
                   f"{plain(money(after.proposition))}, au-delà du disponible {plain(money(after.ligne.disponible))} "
                   f"(solde {plain(money(after.solde))})")
            out.append(error("amendement.depassement", msg, loc))
    return out
