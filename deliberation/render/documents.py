"""Render the bundle's Word documents from the one context."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

from deliberation.bundle.numbering import Document, documents
from deliberation.findings import TemplateError
from deliberation.render.context import build_context
from deliberation.render.docx import render_docx, template_variables

#: Which template renders which kind of document.
TEMPLATES = {
    "rapport": "rapport.docx",
    "deliberation": "deliberation.docx",
    "narrative": "annexe-narrative.docx",
    "repartition": "annexe-repartition.docx",
}


def default_templates_dir() -> Path:
    """The engine's own ``templates/`` folder."""
    return Path(__file__).resolve().parents[2] / "templates"


def build_time(seance_date: dt.date | None) -> dt.datetime:
    """The date stamped into every output: ``SOURCE_DATE_EPOCH`` if set, else the séance."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch and epoch.isdigit():
        return dt.datetime.fromtimestamp(int(epoch), tz=dt.UTC).replace(tzinfo=None)
    day = seance_date or dt.date(1980, 1, 1)
    return dt.datetime(day.year, day.month, day.day)  # noqa: DTZ001 - a calendar date, no time zone


def check_templates(templates_dir: Path, context: dict) -> None:
    """Every template exists and uses only names the context provides.

    Raises:
        TemplateError: naming the template and the unknown names or the broken tag.

    """
    known = set(context) | {"t"}
    for name in sorted(set(TEMPLATES.values())):
        path = templates_dir / name
        if not path.is_file():
            raise TemplateError(f"{path}: modèle introuvable")
        try:
            unknown = template_variables(path) - known
        except Exception as err:  # docxtpl/jinja raise many kinds on a broken template
            raise TemplateError(f"{path}: modèle illisible ou balise mal formée : {err}") from err
        if unknown:
            raise TemplateError(f"{path}: variable(s) inconnue(s) du contexte : {', '.join(sorted(unknown))}")


def render_documents(checked, templates_dir: Path | None = None) -> dict[str, bytes]:
    """Render every document the engine knows how to produce; return ``file name → bytes``."""
    templates_dir = templates_dir or default_templates_dir()
    d = checked.dossier
    context = build_context(d, checked.figures)
    check_templates(templates_dir, context)
    when = build_time(d.info.seance.date)
    by_numero = {t["numero"]: t for t in context["thematiques"]}
    out: dict[str, bytes] = {}
    for doc in documents(d):
        name = TEMPLATES.get(doc.kind)
        if name is None:
            continue
        ctx = context
        if doc.kind == "narrative":
            ctx = {**context, "t": by_numero[doc.annexe.thematique.numero]}
        out[f"{doc.stem}.docx"] = render_docx(templates_dir / name, ctx, when)
    return out


__all__ = ["Document", "render_documents"]
