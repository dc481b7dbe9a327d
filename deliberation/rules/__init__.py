"""Validation rules. Each rule is ``check_x(inp) -> list[Finding]`` and never raises.

Rules run in the order of ``RULES``; their findings are all collected before reporting.
"""

from __future__ import annotations

from dataclasses import dataclass

from deliberation.compute import Figures
from deliberation.findings import Finding
from deliberation.model import Dispositif, Dossier


@dataclass(frozen=True)
class RuleInput:
    """What a rule sees: the dossier as adopted, its figures, the catalogue, and the dossier as presented."""

    dossier: Dossier  # as adopted (amendments applied)
    figures: Figures
    dispositifs: dict[str, Dispositif]
    presented: Dossier | None = None  # as presented: declared figures are the texts' own, checked on it
    presented_figures: Figures | None = None


def _rules():
    from deliberation.rules import (
        amounts,
        budget,
        declared,
        dispositifs,
        narratives,
        nature,
        periods,
        refs,
        seance,
        siret,
        territoires,
    )

    return (
        amounts.check_amounts,
        periods.check_periods,
        refs.check_references,
        refs.check_duplicates,
        territoires.check_territoires,
        nature.check_nature,
        siret.check_siret,
        budget.check_budget,
        declared.check_declared,
        dispositifs.check_ratios,
        dispositifs.check_catalogue,
        seance.check_seance,
        narratives.check_narratives,
    )


def run_rules(inp: RuleInput) -> list[Finding]:
    """Run every rule and return all findings."""
    findings: list[Finding] = []
    for rule in _rules():
        findings += rule(inp)
    return findings
