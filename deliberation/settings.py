"""Build and check settings, one frozen object instead of long keyword lists."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from deliberation.resources import catalogue_dir, programme_root


@dataclass(frozen=True)
class Settings:
    """What the user asked for."""

    source: Path
    out_dir: Path | None = None
    strict: bool = False
    final: bool = False  # refuse any document with a blank (« [SIRET à compléter] »); implies ``actes``
    actes: bool = False  # @ctes pre-flight: act number, objet, nature, matière (and the PDFs when built)
    templates: Path | None = None  # Word templates and clause texts (the engine's templates/ by default)
    pdf: bool = False  # convert every document to PDF and merge bundle.pdf (LibreOffice)
    pdfa: bool = False  # PDF/A-2b, for archiving
    jobs: int = 2  # LibreOffice processes working side by side
    annexes: tuple[Path, ...] = field(default_factory=lambda: (catalogue_dir(),))
    #: Told how far the PDF conversion is: (documents converted, documents in all, a batch has just ended).
    progress: Callable[[int, int, bool], None] | None = field(default=None, compare=False, repr=False)

    def __post_init__(self) -> None:
        """Accept plain strings for the paths (callers from Python, not only the CLI)."""
        for name in ("source", "out_dir", "templates"):
            value = getattr(self, name)
            if value is not None and not isinstance(value, Path):
                object.__setattr__(self, name, Path(value))
        object.__setattr__(self, "annexes", tuple(Path(p) for p in self.annexes))

    def catalogue_dirs(self) -> tuple[Path, ...]:
        """Folders of dispositif sheets: the engine's, its programme's ``dispositifs/``, then the dossier's own."""
        programme = programme_root(self.source)
        shared = (programme / "dispositifs",) if programme is not None else ()
        return (*self.annexes, *shared, self.source / "dispositifs")
