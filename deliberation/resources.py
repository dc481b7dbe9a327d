"""The engine's own data, shipped inside the package: Word templates, clause texts, dispositif sheets.

Found through ``importlib.resources``, so that an installed copy (a wheel in ``site-packages``) reads
them as the checkout does. ``build --modeles DIR`` and ``--fiches DIR`` override them.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path


def package_dir() -> Path:
    """The folder of the installed package (``deliberation/``): names of the engine's inputs are relative to it."""
    return Path(str(files("deliberation")))


def templates_dir() -> Path:
    """The engine's Word templates and clause texts (``deliberation/templates``)."""
    return package_dir() / "templates"


def catalogue_dir() -> Path:
    """The engine's dispositif sheets (``deliberation/annexes/dispositifs``)."""
    return package_dir() / "annexes" / "dispositifs"


#: The file that makes a folder a programme: one call-for-projects year, one dossier per phase (issue 22).
PROGRAMME_FILE = "programme.yaml"


def programme_root(dossier: str | Path) -> Path | None:
    """The programme a dossier is a phase of (its parent folder, when that holds ``programme.yaml``), or None."""
    parent = Path(dossier).absolute().parent
    return parent if (parent / PROGRAMME_FILE).is_file() else None
