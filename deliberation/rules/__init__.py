"""Validation rules: one signature, one registry.

Every validation is a rule: a function ``check(inp) -> list[Finding]`` that never raises, registered
here by the ``@rule`` decorator with the stage whose input it reads, the finding codes it reports and
their severities. A stage is a point of the pipeline where there is something to check:

- ``DOSSIER`` (``RuleInput``): the dossier as adopted and as presented, its figures, the dispositif
  sheets and the acts to sign (``check``, and ``build`` before rendering);
- ``PDF`` (``PdfInput``): the converted files of a build, before anything is written;
- ``SCDL`` (``ScdlInput``): the open-data rows of the adopted phase (``export scdl``).

``deliberation.validate`` imports every rule module and runs a stage's rules in order
(``run_rules``); ``deliberation check --liste-regles`` lists them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from deliberation.acts import Act
from deliberation.amend import Effect
from deliberation.compute import Figures
from deliberation.findings import Finding, Severity
from deliberation.model import Dispositif, Dossier

if TYPE_CHECKING:  # annotations only: ``opendata`` imports the SIRET rule's helpers
    from deliberation.opendata import ScdlLine

#: The stages, in pipeline order, and how ``--liste-regles`` names them.
DOSSIER, PDF, SCDL = "dossier", "pdf", "scdl"
STAGES = {DOSSIER: "dossier", PDF: "PDF produits", SCDL: "export SCDL"}

ERROR, WARNING = Severity.ERROR, Severity.WARNING


@dataclass(frozen=True)
class RuleInput:
    """What a dossier rule sees: the dossier as adopted and as presented, its figures, the catalogue, the acts."""

    dossier: Dossier  # as adopted (amendments applied)
    figures: Figures
    dispositifs: dict[str, Dispositif]
    presented: Dossier | None = None  # as presented: declared figures are the texts' own, checked on it
    presented_figures: Figures | None = None
    effects: Sequence[Effect] = ()  # what each adopted amendment touched
    acts: Sequence[Act] = ()  # the avenants and conventions to sign
    final: bool = False  # the version to sign: a blank is an error
    actes: bool = False  # the @ctes pre-flight is asked (``check --actes``, ``build --final``)
    statuts: dict = field(default_factory=dict)  # status of each act template (``templates/statuts.yaml``)
    statuts_file: str = ""  # where that status is declared


@dataclass(frozen=True)
class PdfInput:
    """What a rule on the converted bundle sees: every file of the build, by name, before any is written."""

    dossier: Dossier
    files: dict[str, bytes]
    out_dir: Path | None = None  # where the bundle goes, for the findings' locations (nothing is read there)
    actes: bool = False
    final: bool = False  # the version to sign: the print check's findings are errors


@dataclass(frozen=True)
class ScdlInput:
    """What an open-data rule sees: the adopted dossier and its SCDL rows, values as the dossier gives them."""

    dossier: Dossier
    lines: list[ScdlLine]


@dataclass(frozen=True)
class Rule:
    """A registered rule: where it runs, what it reports, and the function that checks."""

    name: str  # module and function: « amounts.check_amounts »
    stage: str
    codes: tuple[str, ...]  # finding codes; « annonce.* » stands for every code starting with « annonce. »
    severities: tuple[Severity, ...]
    check: Callable[[object], list[Finding]]
    module: str
    on_demand: bool = False  # runs only when the @ctes pre-flight is asked (``actes``)

    @property
    def summary(self) -> str:
        """The first line of the function's docstring."""
        return (self.check.__doc__ or "").strip().split("\n", 1)[0]

    def covers(self, code: str) -> bool:
        """True when ``code`` is one of the codes this rule declares."""
        return any(code == c or (c.endswith("*") and code.startswith(c[:-1])) for c in self.codes)


#: Every rule, in registration order (``validate`` orders them by module).
REGISTRY: list[Rule] = []


def rule(stage: str, codes: tuple[str, ...], severities: tuple[Severity, ...] = (ERROR,),
         on_demand: bool = False) -> Callable:
    """Register the decorated ``check(inp) -> list[Finding]`` as a rule of ``stage``; the function is unchanged."""
    if stage not in STAGES:
        raise ValueError(f"étape de contrôle inconnue : {stage!r}")

    def register(check: Callable[[object], list[Finding]]) -> Callable[[object], list[Finding]]:
        name = f"{check.__module__.removeprefix(__name__ + '.')}.{check.__name__}"
        REGISTRY.append(Rule(name, stage, tuple(codes), tuple(severities), check, check.__module__, on_demand))
        return check

    return register
