"""Render once, fill many: compiled templates give docxtpl's content, the same bytes in parallel."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest
from conftest import TEMPLATES
from lxml import etree

from deliberation import pipeline
from deliberation.render import compiled
from deliberation.render.compiled import render_many
from deliberation.render.documents import plan_documents
from deliberation.render.docx import render_docx
from deliberation.settings import Settings

ROOT = Path(__file__).resolve().parents[1]


def canonical(docx: bytes) -> dict[str, bytes]:
    z = zipfile.ZipFile(io.BytesIO(docx))
    out = {}
    for name in z.namelist():
        data = z.read(name)
        if name.endswith((".xml", ".rels")):
            data = etree.tostring(etree.fromstring(data), method="c14n")
        out[name] = data
    return out


@pytest.mark.parametrize("fixture", ["fictif", "phase-6-2024-amended"])
@pytest.mark.slow
def test_compiled_documents_have_docxtpls_content_part_by_part(fixture):
    checked = pipeline.check(Settings(source=ROOT / "fixtures" / fixture))
    jobs, _ = plan_documents(checked)
    fast = render_many([(j.template, j.context, j.when) for j in jobs])
    for job, data in zip(jobs, fast, strict=True):
        naive = render_docx(job.template, job.context, job.when)
        assert canonical(data) == canonical(naive), job.name
        assert zipfile.ZipFile(io.BytesIO(data)).testzip() is None


@pytest.mark.slow
def test_parallel_rendering_gives_the_bytes_of_sequential_rendering(monkeypatch):
    checked = pipeline.check(Settings(source=ROOT / "fixtures" / "phase-6-2024"))
    jobs, _ = plan_documents(checked)
    items = [(j.template, j.context, j.when) for j in jobs]
    sequential = render_many(items, jobs=1)
    monkeypatch.setattr(compiled, "PARALLEL_FROM", 2)
    parallel = render_many(items, jobs=2)
    assert len(parallel) == len(items) == 34
    assert [a == b for a, b in zip(sequential, parallel, strict=True)] == [True] * 34


W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
TEXTS = [
    "",
    "Un paragraphe simple.",
    "**Gras** et *italique* et ***les deux*** ; `code` & <balise> \"guillemets\" > fin",
    "ligne un\nligne deux (saut souple)  \nsaut dur\\\nencore",
    "# Titre\n\n## Sous-titre *penché*\navec suite",
    "- un\n- deux\n  - deux.un\n    - profond\n- trois\n\n1. premier\n2. second",
    "    bloc de code\n    indenté\n\n```\nclôturé\n```",
    "<div>html brut</div>\n\ntexte <b>inline</b>",
    "\u00a0espace insécable en tête et\ttabulation\u00a0",
    "{{ 7*7 }} {% raw %} </w:t> ../../etc/passwd \u202e",
]


def c14n_fragment(xml: str) -> bytes:
    return etree.tostring(etree.fromstring(f'<w:body xmlns:w="{W}">{xml}</w:body>'), method="c14n")


@pytest.mark.parametrize("text", TEXTS)
def test_direct_wordml_equals_python_docx(text):
    from deliberation.render.compiled import CompiledTemplate
    from deliberation.render.markdown import MarkdownText, SheetTable

    ct = CompiledTemplate(TEMPLATES / "avenant.docx", __import__("datetime").datetime(2024, 12, 9))
    for value in (MarkdownText(text), SheetTable((("Titre", text), ("", text), ("Coût", "")))):
        assert c14n_fragment(ct.fragment(value)) == c14n_fragment(ct._python_docx(value)), value
