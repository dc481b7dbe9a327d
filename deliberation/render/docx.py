"""Word rendering with docxtpl under a sandboxed, strict, autoescaping Jinja environment."""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from pathlib import Path

from docxtpl import DocxTemplate
from jinja2 import StrictUndefined, TemplateError, TemplateSyntaxError, UndefinedError
from jinja2.sandbox import SandboxedEnvironment

from deliberation.findings import TemplateError as BuildTemplateError
from deliberation.render.filters import FILTERS
from deliberation.render.markdown import MarkdownText, SheetTable, add_markdown, add_sheet_table
from deliberation.render.tables import split_long_tables


def environment() -> SandboxedEnvironment:
    """The Jinja environment every template renders in: sandboxed, strict, autoescaped."""
    env = SandboxedEnvironment(undefined=StrictUndefined, autoescape=True, keep_trailing_newline=True)
    env.filters.update(FILTERS)
    return env


def _with_subdocs(value, tpl: DocxTemplate):
    """Replace every ``MarkdownText`` of the context by a rendered sub-document of ``tpl``."""
    if isinstance(value, MarkdownText):
        sub = tpl.new_subdoc()
        add_markdown(sub.subdocx, value.text)
        return sub
    if isinstance(value, SheetTable):
        sub = tpl.new_subdoc()
        add_sheet_table(sub.subdocx, value.rows)
        return sub
    if isinstance(value, dict):
        return {k: _with_subdocs(v, tpl) for k, v in value.items()}
    if isinstance(value, list):
        return [_with_subdocs(v, tpl) for v in value]
    return value


def render_docx(template: Path, context: dict, when: dt.datetime) -> bytes:
    """Render ``template`` with ``context``; return normalised DOCX bytes (fixed dates, fixed order).

    Raises:
        BuildTemplateError: the template is missing, unreadable or refers to an unknown value.

    """
    try:
        tpl = DocxTemplate(str(template))
        tpl.init_docx()
    except (OSError, KeyError, zipfile.BadZipFile, ValueError) as err:
        msg = f"{template}: modèle Word illisible ({err.__class__.__name__}: {err})"
        raise BuildTemplateError(msg) from err
    env = environment()
    try:
        tpl.render(_with_subdocs(context, tpl), jinja_env=env, autoescape=True)
    except UndefinedError as err:
        raise BuildTemplateError(f"{template}: valeur inconnue dans le modèle : {err.message}") from err
    except TemplateSyntaxError as err:
        raise BuildTemplateError(f"{template}: balise mal formée : {err.message}") from err
    except TemplateError as err:
        raise BuildTemplateError(f"{template}: erreur de modèle : {err}") from err
    split_long_tables(tpl.docx.element.body)  # LibreOffice lays out one long table in quadratic time
    props = tpl.docx.core_properties
    props.author = "Département du Pas-de-Calais"
    props.last_modified_by = "deliberation"
    props.created = props.modified = when
    props.last_printed = when
    props.revision = 1
    buf = io.BytesIO()
    tpl.save(buf)
    return normalise_zip(buf.getvalue(), when)


def normalise_zip(data: bytes, when: dt.datetime) -> bytes:
    """Rewrite a zip (DOCX) with one fixed timestamp and a fixed member order: same input, same bytes."""
    src = zipfile.ZipFile(io.BytesIO(data))
    names = src.namelist()
    first = [n for n in names if n == "[Content_Types].xml"]
    order = first + sorted(n for n in names if n not in first)
    out = io.BytesIO()
    stamp = (max(when.year, 1980), when.month, when.day, 0, 0, 0)
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for name in order:
            info = zipfile.ZipInfo(name, date_time=stamp)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            dst.writestr(info, src.read(name))
    return out.getvalue()


def template_variables(template: Path) -> set[str]:
    """Top-level names a template uses (for checking it against the context before rendering)."""
    tpl = DocxTemplate(str(template))
    return set(tpl.get_undeclared_template_variables(environment()))
