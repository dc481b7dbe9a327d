"""What the pipeline hands on: a checked dossier (``Checked``) and a build (``Built``).

Declared here, below every stage, so that each stage types its parameters with them without importing
the pipeline. The types of their fields come from the stages (figures, acts, amendment effects, changes):
imported for type checkers only, they never run.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from deliberation.findings import Finding
from deliberation.model import Dispositif, Dossier

if TYPE_CHECKING:  # annotations only: the stages import this module, not the other way round
    from deliberation.acts import Act
    from deliberation.amend import Effect
    from deliberation.compute import Figures
    from deliberation.diff import Change, Documents


@dataclass
class Checked:
    """A loaded and validated dossier with its figures and every finding."""

    dossier: Dossier | None  # as adopted: amendments applied
    figures: Figures | None
    dispositifs: dict[str, Dispositif] = field(default_factory=dict)
    findings: list[Finding] = field(default_factory=list)
    acts: list[Act] = field(default_factory=list)
    presented: Dossier | None = None  # as presented in the rapport (the same object without amendments)
    presented_figures: Figures | None = None
    effects: list[Effect] = field(default_factory=list)  # what each adopted amendment touched


@dataclass
class Built:
    """The outcome of a build: the checked dossier, the files written (none if blocked) and what changed."""

    checked: Checked
    files: dict[str, bytes] = field(default_factory=dict)
    version: int = 0
    unchanged: bool = False  # the bundle already held exactly these documents: nothing was written
    changes: list[Change] = field(default_factory=list)  # against the previous version
    documents: Documents | None = None  # against the previous version
    notes: list[str] = field(default_factory=list)  # what the user should know (redlines unavailable…)

    @property
    def written(self) -> bool:
        """True when the bundle was written."""
        return bool(self.files)
