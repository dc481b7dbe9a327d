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
