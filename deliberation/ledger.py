"""The call-for-projects year as a ledger: the phases of one programme, in order (issue 22).

A *programme* is a folder holding ``programme.yaml``, the registry of structures and conventions as
it stood when the year began (``structures.yaml``) and one dossier per phase. The ledger replays the
phases in order:

- per budget line and phase: AE, disponible declared, the disponible expected from the previous
  phase (its « après », plus a declared adjustment), the adopted proposition, the disponible after;
- per convention: its initial amount and period, then each avenant in order (number, phase, amount
  added, new period), its current ceiling and end date;
- per structure: the year's total, per dispositif, per territory and per phase.

Each phase's registry of conventions is *derived* from the phases before it (``registry_before``):
the number of avenants already signed, the current ceiling and period of each convention, the
conventions earlier phases created. A value a phase types that contradicts the ledger is a finding
stating both figures.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from deliberation.findings import Finding, Loc

#: The file that makes a folder a programme.
PROGRAMME_FILE = "programme.yaml"


@dataclass(frozen=True)
class PhaseEntry:
    """One phase of the programme, in vote order."""

    nom: str  # the phase's folder name (« phase-2 »)
    root: str  # its folder
    numero: int | None  # ``phase.yaml`` numero
    date: dt.date | None  # the séance (the date of its avenants)
    deliberation: str | None  # the délibération's number (« 2025-100 »)


@dataclass(frozen=True)
class BudgetStep:
    """One budget line in one phase."""

    phase: str
    code: str
    libelle: str | None
    imputation: str | None
    ae: Decimal | None
    disponible: Decimal | None  # declared by the phase (before it)
    attendu: Decimal | None  # the previous phase's « après » plus the adjustment; None on a line's first phase
    ajustement: Decimal | None  # declared adjustment (situation budgétaire), if any
    motif: str | None  # its reason
    proposition: Decimal | None  # the adopted phase's proposition on this line
    apres: Decimal | None  # disponible − proposition
    loc: Loc  # the line in the phase's budget.yaml


@dataclass(frozen=True)
class AvenantStep:
    """One avenant of a convention, adopted in one phase of the programme."""

    numero: int  # « Avenant n°2 »
    phase: str
    date: dt.date | None  # the séance that adopted it
    deliberation: str | None
    montant: Decimal | None  # the amount it adds (None: a line's amount unreadable)
    plafond: Decimal | None  # the convention's ceiling after it
    periode: tuple[dt.date, dt.date] | None  # the convention's period after it
    loc: Loc  # its first line


@dataclass
class ConventionHistory:
    """A convention through the year: where it starts, then each avenant."""

    structure: str  # registry key
    nom: str  # the structure's usual name
    cle: str  # the convention's key (a phase's folder name for one the programme created)
    numero: str | None  # None while unknown
    origine: str | None  # the phase that created it; None: it existed when the year began
    montant_initial: Decimal | None
    periode_initiale: tuple[dt.date, dt.date] | None
    avenants_anterieurs: int  # avenants signed before the year began
    avenants: list[AvenantStep] = field(default_factory=list)
    loc: Loc = Loc("?")

    @property
    def plafond(self) -> Decimal | None:
        """The current ceiling (initial amount plus every avenant's)."""
        return self.avenants[-1].plafond if self.avenants else self.montant_initial

    @property
    def periode(self) -> tuple[dt.date, dt.date] | None:
        """The current period (the initial one, extended by the avenants)."""
        return self.avenants[-1].periode if self.avenants else self.periode_initiale


@dataclass(frozen=True)
class LedgerLine:
    """One funded line of one phase (the detail the per-structure views add up)."""

    phase: str
    structure: str
    nom: str
    dispositif: str | None
    territoire: str | None
    budget: str | None
    montant: Decimal | None
    loc: Loc


@dataclass
class StructureYear:
    """A structure's year: its total, per dispositif, per territory, per phase."""

    structure: str
    nom: str
    total: Decimal
    par_dispositif: dict[str, Decimal]
    par_territoire: dict[str, Decimal]
    par_phase: dict[str, Decimal]


@dataclass
class Ledger:
    """Everything ``deliberation ledger`` reports on a programme."""

    root: str
    annee: int | None
    intitule: str | None
    phases: list[PhaseEntry] = field(default_factory=list)
    budget: list[BudgetStep] = field(default_factory=list)
    conventions: list[ConventionHistory] = field(default_factory=list)
    lignes: list[LedgerLine] = field(default_factory=list)
    structures: list[StructureYear] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
