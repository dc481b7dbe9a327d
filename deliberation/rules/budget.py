"""Per budget line: Σ propositions ≤ disponible ≤ AE (the solde is computed, never typed)."""

from __future__ import annotations

from deliberation.findings import Finding, error, warning
from deliberation.fmt import gap, money, plain
from deliberation.rules import DOSSIER, ERROR, WARNING, RuleInput, rule


@rule(DOSSIER, ("budget.depassement", "budget.disponible_ae", "budget.inutilisee"), (ERROR, WARNING))
def check_budget(inp: RuleInput) -> list[Finding]:
    """Each budget line's proposition fits its disponible, and its disponible fits its AE."""
    out: list[Finding] = []
    for code, b in inp.figures.budget.items():
        line = b.ligne
        if b.proposition is not None and line.disponible is not None and b.proposition > line.disponible:
            msg = (
                f"ligne budgétaire {code} : proposition {plain(money(b.proposition))} supérieure au disponible "
                f"{plain(money(line.disponible))} (solde {plain(money(b.solde))})"
            )
            out.append(error("budget.depassement", msg, line.at("disponible")))
        if line.disponible is not None and line.ae is not None and line.disponible > line.ae:
            msg = (
                f"ligne budgétaire {code} : disponible {plain(money(line.disponible))} supérieur à l'AE "
                f"{plain(money(line.ae))} {gap(line.ae, line.disponible)}"
            )
            out.append(error("budget.disponible_ae", msg, line.at("disponible")))
        if b.totaux.lignes == 0:
            msg = f"ligne budgétaire {code} : aucune opération de la phase n'y est imputée"
            out.append(warning("budget.inutilisee", msg, line.loc))
    return out
