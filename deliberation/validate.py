"""Validation: every rule module, imported here so that each registers its rules, and the runner.

A rule is declared once, where it is written (``@rule`` of :mod:`deliberation.rules`); a new module of
rules is added to ``MODULES``. Rules run in the order of ``MODULES``, then in the order they are
written in their module; a stage's findings are all collected before reporting (the pipeline sorts them).
"""

from __future__ import annotations

import functools

from deliberation.findings import Finding
from deliberation.parallel import run_split
from deliberation.rules import (
    DOSSIER,
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


#: The rules that run in a forked child, beside the others, on a dossier of ``SPLIT_FROM`` lines or more
#: (``parallel.run_split``): the reading of every text (spelling, names), about half of the rules' time.
FORKED = (orthographe, noms)
SPLIT_FROM = 1000


def run_rules(stage: str, inp: object) -> list[Finding]:
    """Run every rule of ``stage`` on ``inp`` (the stage's input); the @ctes ones only if ``inp.actes``.

    On a big dossier, the ``FORKED`` rules run in a child process meanwhile; the findings are the same,
    in the same order.
    """
    todo = [r for r in rules(stage) if not r.on_demand or getattr(inp, "actes", False)]
    dossier = getattr(inp, "dossier", None)
    forked = {m.__name__ for m in FORKED} if stage == DOSSIER and dossier is not None and \
        sum(len(o.lignes) for _, o in dossier.operations()) >= SPLIT_FROM else set()
    here = [r for r in todo if r.module not in forked]
    there = [r for r in todo if r.module in forked]
    mine, theirs = run_split([functools.partial(r.check, inp) for r in here],
                             [functools.partial(r.check, inp) for r in there])
    done = dict(zip(map(id, here + there), mine + theirs, strict=True))
    return [f for r in todo for f in done[id(r)]]
