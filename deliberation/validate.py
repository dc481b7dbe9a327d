"""Validation: every rule module, imported here so that each registers its rules, and the runner.

A rule is declared once, where it is written (``@rule`` of :mod:`deliberation.rules`); a new module of
rules is added to ``MODULES``. Rules run in the order of ``MODULES``, then in the order they are
written in their module; a stage's findings are all collected before reporting (the pipeline sorts them).
"""

from __future__ import annotations

from deliberation.findings import Finding
from deliberation.rules import (
    REGISTRY,
    Rule,
    acts,
    amounts,
    budget,
    conventions,
    declared,
    dispositifs,
    impression,
    narratives,
    nature,
    noms,
    orthographe,
    overruns,
    periods,
    refs,
    scdl,
    seance,
    siret,
    territoires,
    textes,
    transmission,
)

#: The rule modules, in the order their rules run.
MODULES = (
    overruns,  # amendments first: they changed the figures every other rule reads
    amounts,
    periods,
    refs,
    territoires,
    nature,
    siret,
    budget,
    declared,
    dispositifs,
    seance,
    narratives,
    orthographe,  # spelling of every French text (warnings)
    noms,  # one name, one spelling: structures, acronyms, territories
    textes,  # numbers, ranges and periods written in the texts
    acts,  # the avenants and conventions to sign
    conventions,  # the conventions they amend
    transmission,  # @ctes, on demand
    impression,  # the print check, on the converted PDFs
    scdl,  # open data, at ``export scdl``
)


def rules(stage: str | None = None) -> list[Rule]:
    """The registered rules of ``stage`` (all of them if None), in the order they run.

    Raises:
        LookupError: a rule registered by a module missing from ``MODULES`` (it would never run).

    """
    order = {m.__name__: n for n, m in enumerate(MODULES)}
    unlisted = sorted({r.module for r in REGISTRY} - order.keys())
    if unlisted:
        raise LookupError(f"module(s) de règles absent(s) de validate.MODULES : {', '.join(unlisted)}")
    return sorted((r for r in REGISTRY if stage is None or r.stage == stage), key=lambda r: order[r.module])


def run_rules(stage: str, inp: object) -> list[Finding]:
    """Run every rule of ``stage`` on ``inp`` (the stage's input); the @ctes ones only if ``inp.actes``."""
    findings: list[Finding] = []
    for r in rules(stage):
        if r.on_demand and not getattr(inp, "actes", False):
            continue
        findings += r.check(inp)
    return findings
