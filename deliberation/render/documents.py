"""Render the bundle's Word documents from the one context."""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import json
import re
import zipfile
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from docx import Document as Docx

from deliberation.acts import ACT_TEMPLATE, document_reconstructions, filled_act, plan_model
from deliberation.engine import engine_sha
from deliberation.findings import TemplateError
from deliberation.fsio import build_time, cache_get, cache_put
from deliberation.messages import library_error
from deliberation.outcome import Checked
from deliberation.plan import DOCUMENT_TEMPLATES, Document, annexes, documents
from deliberation.render.acts import act_context, act_paths, load_clauses, review_sheet
from deliberation.render.compiled import render_many
from deliberation.render.context import build_context
from deliberation.render.docx import template_members, template_variables
from deliberation.render.markdown import MarkdownText, SheetTable
from deliberation.render.watermark import PROJET_STAMP
from deliberation.resources import templates_dir

#: Which template renders which kind of document.
TEMPLATES = DOCUMENT_TEMPLATES

#: Cover page and table of contents of the merged PDF.
SOMMAIRE = "sommaire.docx"

#: Templates of the documents each structure signs.
ACT_TEMPLATES = ACT_TEMPLATE
ACT_NAMES = {"acte", "pole", "direction", "tampon"}


def default_templates_dir() -> Path:
    """The engine's own Word templates and clause texts (``deliberation/templates``, shipped in the package)."""
    return templates_dir()


def check_templates(templates_dir: Path, context: dict) -> None:
    """Every template exists and uses only names the context provides.

    Raises:
        TemplateError: naming the template and the unknown names or the broken tag.

    """
    known = set(context) | {"t", "tampon"}
    for name in sorted(set(TEMPLATES.values()) | set(ACT_TEMPLATES.values()) | {SOMMAIRE}):
        if name in ACT_TEMPLATES.values():
            known_here = ACT_NAMES
        elif name == SOMMAIRE:
            known_here = known | {"sommaire"}
        else:
            known_here = known
        path = templates_dir / name
        if not path.is_file():
            raise TemplateError(f"{path}: modèle introuvable")
        try:
            unknown = set(_template_names(path)) - known_here  # XML and paragraph tags checked on the way
        except TemplateError:
            raise
        except Exception as err:  # docxtpl/jinja raise many kinds on a broken template
            raise TemplateError(f"{path}: modèle illisible ou balise mal formée : {library_error(err)}") from err
        if unknown:
            raise TemplateError(f"{path}: variable(s) inconnue(s) du contexte : {', '.join(sorted(unknown))}")


def check_paragraph_tags(path: Path) -> None:
    """A docxtpl paragraph or row tag (``{%p``, ``{{p``, ``{%tr``…) must be alone in its paragraph.

    docxtpl removes the whole paragraph (or row) around such a tag: text beside it would be lost,
    and a tag split across paragraphs corrupts the document.

    Raises:
        TemplateError: naming the template and the offending paragraph.

    """
    try:
        doc = Docx(str(path))
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as err:
        raise TemplateError(f"{path}: modèle illisible ({library_error(err)})") from err
    paragraphs = list(doc.paragraphs)
    for table in doc.tables:
        for row in table.rows:
            for cell in row.cells:
                paragraphs += cell.paragraphs
    tag = re.compile(r"\{[%{](p|tr|tc|r)\s")
    for p in paragraphs:
        text = p.text
        for m in tag.finditer(text):
            close = "%}" if text[m.start() + 1] == "%" else "}}"
            end = text.find(close, m.end())
            if end < 0:
                raise TemplateError(f"{path}: balise « {text[m.start():m.start() + 40]} » non refermée dans son "
                                    f"paragraphe")
            if m.group(1) == "p" and text.strip() != text[m.start():end + 2].strip():
                raise TemplateError(f"{path}: la balise « {text[m.start():end + 2]} » doit être seule dans son "
                                    f"paragraphe (texte voisin : « {text.strip()[:60]} »)")


def stamp_of(doc: Document, act_numero: str, d) -> str:
    """The stamp printed at the foot of every page of a bundle document."""
    if doc.kind == "rapport":
        return f"{act_numero} — Rapport n°{d.info.rapport.numero}" if d.info.rapport else act_numero
    if doc.annexe is not None:
        return f"{act_numero} — Annexe {doc.annexe.numero}"
    return act_numero


def sommaire_job(checked: Checked, entries: list[dict], templates_dir: Path | None = None) -> Job:
    """The cover page and table of contents of the merged PDF (``entries``: titre, page), as a job."""
    templates_dir = templates_dir or default_templates_dir()
    d = checked.dossier
    context = build_context(d, checked.figures, checked.effects)
    ctx = {**context, "sommaire": entries, "tampon": ""}
    job = Job("00-sommaire.docx", templates_dir / SOMMAIRE, ctx, build_time(d.info.seance.date))
    used = _template_names(job.template)
    job.context = {k: v for k, v in job.context.items() if k in used}
    job.key = fingerprint(job)
    return job


@dataclass
class Job:
    """One Word document to render: its file name, template, context and the fingerprint of all three."""

    name: str
    template: Path
    context: dict
    when: dt.datetime
    key: str = ""


def _canonical(value):
    """A JSON-able, type-tagged image of a context value (for fingerprints)."""
    kind = type(value)
    if kind is str or kind is int or kind is bool or value is None:  # most values: exact types first
        return value
    if kind is dict:
        return {str(k): _canonical(v) for k, v in value.items()}
    if isinstance(value, MarkdownText):
        return {"md": value.text}
    if isinstance(value, SheetTable):
        return {"sheet": _canonical(list(value.rows))}
    if isinstance(value, dict):
        return {str(k): _canonical(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_canonical(v) for v in value]
    if isinstance(value, Decimal):
        return f"D:{value}"
    if isinstance(value, (dt.date, dt.datetime)):
        return f"d:{value.isoformat()}"
    if value is None or isinstance(value, (bool, int, str)):
        return value
    return f"{type(value).__name__}:{value!r}"


@functools.cache
def _file_sha(path: Path, mtime_ns: int, size: int) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def fingerprint(job: Job) -> str:
    """SHA-256 of everything a document's bytes depend on: engine, template, context and date.

    Two jobs with the same fingerprint render the same bytes, so a rebuild can reuse the previous
    document (and its PDF) instead of rendering and converting it again.
    """
    st = job.template.stat()
    body = json.dumps({
        "moteur": engine_sha(),
        "modele": _file_sha(job.template, st.st_mtime_ns, st.st_size),
        "date": job.when.isoformat(),
        "contexte": _canonical(job.context),
    }, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


def plan_documents(checked: Checked, templates_dir: Path | None = None) -> tuple[list[Job], dict[str, bytes]]:
    """Every Word document of the bundle as a job to render, plus the text files that go with them.

    The bundle's documents (rapport, délibération, annexes including the avenant models) are
    numbered files; each structure's avenant or convention goes to ``actes/<structure>/`` with
    its review sheet (``.revue.md``). Checks the templates first.

    Raises:
        TemplateError: a template is missing, unreadable or names an unknown value.

    """
    templates_dir = templates_dir or default_templates_dir()
    d = checked.dossier
    context = build_context(d, checked.figures, checked.effects)
    # the rapport went out before the séance: it keeps the figures as presented, amendments aside
    presented = checked.presented if checked.presented is not None else d
    rapport_context = build_context(presented, checked.presented_figures) if checked.effects else context
    check_templates(templates_dir, context)
    clauses = load_clauses(templates_dir)
    when = build_time(d.info.seance.date)
    frame = {"pole": d.info.rapport.pole if d.info.rapport else "",
             "direction": d.info.rapport.direction if d.info.rapport else ""}
    by_numero = {t["numero"]: t for t in context["thematiques"]}
    act_numero = f"Délibération n°{d.info.deliberation.numero}" if d.info.deliberation else "Délibération"
    jobs: list[Job] = []
    texts: dict[str, bytes] = {}
    # a document built from a template the Département has not adopted is a PROJET: its stamp says so
    rebuilt = document_reconstructions(d, checked.acts, checked.dispositifs, clauses.statuts)
    for doc in documents(d):
        name = TEMPLATES.get(doc.kind)
        if name is None:
            continue
        tampon = (PROJET_STAMP if doc.stem in rebuilt else "") + stamp_of(doc, act_numero, d)
        ctx = {**(rapport_context if doc.kind == "rapport" else context), "tampon": tampon}
        if doc.kind == "narrative":
            ctx["t"] = by_numero[doc.annexe.thematique.numero]
        elif doc.kind == "modele" and (filled := filled_act(doc.annexe.modele, checked.acts)) is not None:
            # the délibération votes this structure's act itself: the annex is that act, as signed (the same
            # text; only its stamp says which annex it is)
            acte, _ = act_context(filled, d, clauses)
            ctx = {**frame, "acte": acte, "tampon": tampon}
        elif doc.kind == "modele":
            act = plan_model(d, doc.annexe.modele, checked.dispositifs)
            acte, _ = act_context(act, d, clauses, annexe_numero=doc.annexe.numero)
            ctx = {**frame, "acte": acte, "tampon": tampon}
        jobs.append(Job(f"{doc.stem}.docx", templates_dir / name, ctx, when))
    modele_numbers = {a.modele.id: a.numero for a in annexes(d) if a.kind == "modele"}
    for act, path in zip(checked.acts, act_paths(checked.acts), strict=True):
        acte, blanks = act_context(act, d, clauses)
        ctx = {**frame, "acte": acte, "tampon": f"{act_numero} — {act.printed_label}"}
        jobs.append(Job(f"{path}.docx", templates_dir / ACT_TEMPLATES[act.kind], ctx, when))
        texts[f"{path}.revue.md"] = review_sheet(act, acte, blanks, modele_numbers, clauses, d.root, path).encode()
    for job in jobs:
        # a document depends only on the names its template uses: keep those, so that a change
        # elsewhere in the phase leaves its fingerprint (and its bytes) alone
        used = _template_names(job.template)
        job.context = {k: v for k, v in job.context.items() if k in used}
        job.key = fingerprint(job)
    return jobs, texts


def _template_names(path: Path) -> frozenset[str]:
    st = path.stat()
    return _template_names_at(path, st.st_mtime_ns, st.st_size)


@functools.cache
def _template_names_at(path: Path, mtime_ns: int, size: int) -> frozenset[str]:
    """Names the template uses, once its XML and paragraph tags are checked; kept in the parse cache by content.

    Parsing a template with docxtpl costs some 30 ms: a rebuild with unchanged templates reads the
    answer from the cache (keyed by the engine's code and the template's bytes) instead.
    """
    h = hashlib.sha256(f"{engine_sha()}\0template-names\0".encode())
    h.update(path.read_bytes())
    key = h.hexdigest()
    hit = cache_get(key)
    if isinstance(hit, frozenset):
        return hit
    template_members(path)  # no DOCTYPE (entities) before python-docx or docxtpl parse anything
    check_paragraph_tags(path)
    names = frozenset(template_variables(path))
    cache_put(key, names)
    return names


def render_bundle(checked: Checked, templates_dir: Path | None = None,
                  previous: dict[str, tuple[str, bytes]] | None = None,
                  planned=None) -> tuple[dict[str, bytes], dict[str, str]]:
    """Render every document; return ``file name → bytes`` (Word files and review sheets) and fingerprints.

    ``previous`` maps a file name to the fingerprint and bytes of an earlier build: a document whose
    fingerprint is unchanged is taken from there instead of being rendered again (same bytes).
    ``planned(changed names, kept name → bytes)`` is called before anything is rendered.
    """
    jobs, texts = plan_documents(checked, templates_dir)
    out: dict[str, bytes] = {}
    previous = previous or {}
    todo = []
    for job in jobs:
        old = previous.get(job.name)
        if old and old[0] == job.key:
            out[job.name] = old[1]
        else:
            todo.append(job)
    if planned is not None:
        planned([job.name for job in todo], dict(out))
    rendered = render_many([(job.template, job.context, job.when) for job in todo])
    out.update(zip((job.name for job in todo), rendered, strict=True))
    out = {job.name: out[job.name] for job in jobs}  # documents in plan order
    out.update(texts)
    return out, {job.name: job.key for job in jobs}


def render_documents(checked: Checked, templates_dir: Path | None = None) -> dict[str, bytes]:
    """Render every document from scratch; return ``file name → bytes``."""
    return render_bundle(checked, templates_dir)[0]


__all__ = ["Document", "render_documents"]
