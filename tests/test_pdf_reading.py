"""What the engine reads from PDFs directly (``bundle/pdf.py``): named destinations and page counts.

LibreOffice's PDFs are read without pypdf (a ``/Dests`` dictionary, one flat page tree, one revision);
the result must be pypdf's, and any other shape is read by pypdf.
"""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from pypdf import PdfReader, PdfWriter

from deliberation import pipeline
from deliberation.bundle.keep import with_keep_marks
from deliberation.bundle.lean import lean_docx
from deliberation.bundle.parts import own_copy, plan_act, prepare
from deliberation.bundle.pdf import (
    ConvertOptions,
    _fast_destinations,
    _fast_page_count,
    convert,
    named_destinations,
    page_count,
    soffice,
)
from deliberation.render.watermark import for_converter
from deliberation.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
needs_lo = pytest.mark.skipif(not soffice(), reason="LibreOffice absent (make libreoffice)")


def _by_pypdf(data: bytes) -> dict[str, tuple[int, float, float]]:
    reader = PdfReader(io.BytesIO(data))
    return {str(name).lstrip("/"): (reader.get_destination_page_number(dest), float(dest.get("/Left") or 0),
                                    float(dest.get("/Top") or 0)) for name, dest in reader.named_destinations.items()}


@needs_lo
@pytest.mark.libreoffice
@pytest.mark.parametrize("phase", ["phase-6-2024", "fictif"])
def test_libreoffice_destinations_and_pages_are_read_as_pypdf_reads_them(tmp_path, phase):
    out = tmp_path / phase
    assert pipeline.build(Settings(source=ROOT / "fixtures" / phase, out_dir=out, pdf=False)).written
    acts = {str(p.relative_to(out)): lean_docx(for_converter(p.read_bytes())[0])
            for p in sorted(out.glob("actes/*/*.docx"))[:4]}
    prep = prepare(acts, jobs=1)
    raw = convert(prep.docs, ConvertOptions(destinations=True))
    marked = 0
    for name, data in raw.items():
        fast = _fast_destinations(data)
        assert fast is not None, name  # LibreOffice's shape: read directly
        assert fast == _by_pypdf(data), name
        assert named_destinations(data) == fast
        assert _fast_page_count(data) == len(PdfReader(io.BytesIO(data)).pages) == page_count(data)
        marked += len(fast)
    assert marked > 10  # segments' and « keep with next » bookmarks: the comparison is not of empty sets
    # a copy converted with the keep marks, alone
    name, docx = next(iter(acts.items()))
    pdf = convert({"x.docx": with_keep_marks(own_copy(plan_act(name, docx)))}, ConvertOptions(destinations=True))
    assert _fast_destinations(pdf["x.pdf"]) == _by_pypdf(pdf["x.pdf"]) != {}


def test_other_shapes_are_read_by_pypdf():
    writer = PdfWriter()
    for _ in range(3):
        writer.add_blank_page(200, 200)
    writer.add_named_destination("premier", 0)
    writer.add_named_destination("troisieme", 2)
    buf = io.BytesIO()
    writer.write(buf)
    data = buf.getvalue()
    assert _fast_destinations(data) is None  # a /Names tree, not LibreOffice's /Dests dictionary
    assert {k: v[0] for k, v in named_destinations(data).items()} == {"premier": 0, "troisieme": 2}
    assert page_count(data) == 3
    # a second revision (an incremental update): the directory read directly would be the first one's
    updated = data + b"\n1 0 obj\n<< >>\nendobj\nstartxref\n0\n%%EOF\n"
    assert _fast_page_count(updated) is None and _fast_destinations(updated) is None
    # object streams: objects not written as « N 0 obj »
    assert _fast_page_count(data.replace(b"/Type /Catalog", b"/Type /Catalog /ObjStm")) is None
