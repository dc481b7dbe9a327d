"""Render once, fill many: compiled templates give docxtpl's content, the same bytes in parallel."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest
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
def test_compiled_documents_have_docxtpls_content_part_by_part(fixture):
    checked = pipeline.check(Settings(source=ROOT / "fixtures" / fixture))
    jobs, _ = plan_documents(checked)
    fast = render_many([(j.template, j.context, j.when) for j in jobs])
    for job, data in zip(jobs, fast, strict=True):
        naive = render_docx(job.template, job.context, job.when)
        assert canonical(data) == canonical(naive), job.name
        assert zipfile.ZipFile(io.BytesIO(data)).testzip() is None


def test_parallel_rendering_gives_the_bytes_of_sequential_rendering(monkeypatch):
    checked = pipeline.check(Settings(source=ROOT / "fixtures" / "phase-6-2024"))
    jobs, _ = plan_documents(checked)
    items = [(j.template, j.context, j.when) for j in jobs]
    sequential = render_many(items, jobs=1)
    monkeypatch.setattr(compiled, "PARALLEL_FROM", 2)
    parallel = render_many(items, jobs=2)
    assert len(parallel) == len(items) == 34
    assert [a == b for a, b in zip(sequential, parallel, strict=True)] == [True] * 34
