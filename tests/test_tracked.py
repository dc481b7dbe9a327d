"""Tracked changes made here (``bundle.tracked``): accepting them gives the new text, rejecting the old one.

The amended example's redlines are all made without the .NET comparer; synthetic documents (any
words, formatting, tabs, paragraphs and rows added or removed) check the accept/reject property;
a change of structure the fast path does not record falls back to the general comparer.
"""

from __future__ import annotations

import copy
import datetime as dt
import io
import re
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest
from conftest import needs_lo
from hypothesis import given
from hypothesis import strategies as st
from lxml import etree

from deliberation import pipeline
from deliberation.bundle import redline as redline_module
from deliberation.bundle.tracked import DOCUMENT, W, tracked_redline
from deliberation.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
BASE = ROOT / "fixtures" / "phase-6-2024"
AMENDED = ROOT / "fixtures" / "phase-6-2024-amended"
WHEN = dt.datetime(2024, 12, 9, tzinfo=dt.UTC)
AUTHOR = "deliberation — version 2"


def w(tag: str) -> str:
    return f"{{{W}}}{tag}"


def document(data: bytes) -> etree._Element:
    return etree.fromstring(zipfile.ZipFile(io.BytesIO(data)).read(DOCUMENT))


def paragraphs(root: etree._Element) -> list[str]:
    """The text of every paragraph, in order (tables included; a tab is ``\\t``)."""
    out = []
    for p in root.iter(w("p")):
        parts = []
        for el in p.iter(w("t"), w("delText"), w("tab")):
            parts.append("\t" if el.tag == w("tab") else el.text or "")
        out.append("".join(parts))
    return out


def _marked(el: etree._Element, holder: str, how: str) -> bool:
    return el.find(f"{w(holder)}/{w(how)}") is not None or el.find(f"{w(holder)}/{w('rPr')}/{w(how)}") is not None


def resolve(root: etree._Element, keep: str) -> etree._Element:
    """Every change accepted (``keep="ins"``) or rejected (``keep="del"``), as Word would."""
    root = copy.deepcopy(root)
    drop = "del" if keep == "ins" else "ins"
    for row in [r for r in root.iter(w("tr")) if r.find(f"{w('trPr')}/{w(drop)}") is not None]:
        row.getparent().remove(row)
    for p in [p for p in root.iter(w("p")) if p.find(f"{w('pPr')}/{w('rPr')}/{w(drop)}") is not None]:
        p.getparent().remove(p)
    for el in list(root.iter(w(drop))):
        el.getparent().remove(el)
    for el in list(root.iter(w(keep))):
        parent = el.getparent()
        if parent.tag in (w("rPr"), w("trPr")):
            parent.remove(el)
            continue
        index = parent.index(el)
        for child in reversed(list(el)):
            parent.insert(index, child)
        parent.remove(el)
    for t in root.iter(w("delText")):
        t.tag = w("t")
    return root


def revisions(root: etree._Element) -> list[etree._Element]:
    return [el for el in root.iter(w("ins"), w("del"))]


# --- the amended example


@pytest.fixture(scope="module")
def amended(tmp_path_factory):
    """Version 1 of the example and version 2 after the two amendments (Word only)."""
    tmp = tmp_path_factory.mktemp("tracked")
    v1, v2 = tmp / "v1", tmp / "v2"
    assert pipeline.build(Settings(source=BASE, out_dir=v1, pdf=False)).written
    shutil.copytree(v1, v2)
    assert pipeline.build(Settings(source=AMENDED, out_dir=v2, pdf=False)).written
    return v1, v2


@pytest.mark.slow
def test_every_redline_of_the_amended_example_is_made_here_and_resolves_to_both_versions(amended):
    v1, v2 = amended
    names = sorted(str(p.relative_to(v2 / "revisions")) for p in (v2 / "revisions").rglob("*.docx"))
    assert names == ["02-deliberation.docx", "03-annexe-1-thematique-1.docx",
                     "06-annexe-4-repartition-financiere.docx", "12-annexe-10-avenant-10.docx",  # the act, voted
                     "actes/pas-de-calais-actif/avenant-2024-01213.docx"]
    for name in names:
        old, new = (v1 / name).read_bytes(), (v2 / name).read_bytes()
        quick = tracked_redline(old, new, AUTHOR, WHEN)
        assert quick is not None, name  # no .NET start-up for these
        root = document((v2 / "revisions" / name).read_bytes())
        assert paragraphs(resolve(root, "ins")) == paragraphs(document(new)), name
        assert paragraphs(resolve(root, "del")) == paragraphs(document(old)), name
        marks = revisions(root)
        assert marks and {m.get(w("author")) for m in marks} == {AUTHOR}
        assert {m.get(w("date")) for m in marks} == {"2024-12-09T00:00:00Z"}
        ids = [m.get(w("id")) for m in marks]
        assert len(ids) == len(set(ids))


@pytest.mark.slow
def test_the_deliberation_redline_shows_the_new_visa_and_the_amount_as_a_whole_number(amended):
    _, v2 = amended
    xml = zipfile.ZipFile(v2 / "revisions" / "02-deliberation.docx").read(DOCUMENT).decode()
    # the amount is one word: « 712 000 » deleted, « 655 350 » inserted, « € » kept
    assert re.search(r"<w:delText>712\u00a0000</w:delText></w:r></w:del><w:ins [^>]*><w:r>"
                     r"(?:<w:rPr/>|<w:rPr>(?:(?!</w:r>).)*</w:rPr>)?<w:t>655\u00a0350</w:t>", xml)
    root = document((v2 / "revisions" / "02-deliberation.docx").read_bytes())
    visa = [p for p in root.iter(w("p")) if "Vu l’amendement n°1" in "".join(t.text or "" for t in p.iter(w("t")))]
    assert len(visa) == 1 and visa[0].find(f"{w('pPr')}/{w('rPr')}/{w('ins')}") is not None  # a new paragraph


@pytest.mark.slow
def test_the_annexe_4_redline_deletes_the_withdrawn_row(amended):
    _, v2 = amended
    root = document((v2 / "revisions" / "06-annexe-4-repartition-financiere.docx").read_bytes())
    gone = [r for r in root.iter(w("tr")) if r.find(f"{w('trPr')}/{w('del')}") is not None]
    assert len(gone) == 1
    text = "".join(t.text for t in gone[0].iter(w("delText")))
    assert "AMIE du Boulonnais" in text and "46\u00a0800,00\u00a0€" in text
    assert not list(gone[0].iter(w("t")))  # nothing of that row is left as live text


@pytest.mark.libreoffice
@needs_lo
def test_libreoffice_shows_the_tracked_changes(amended, tmp_path):
    _, v2 = amended
    src = v2 / "revisions" / "02-deliberation.docx"
    subprocess.run(["soffice", "--headless", f"-env:UserInstallation={(tmp_path / 'lo').as_uri()}",
                    "--convert-to", "pdf", "--outdir", str(tmp_path), str(src)], check=True, capture_output=True,
                   timeout=120)
    from pypdf import PdfReader

    text = "".join(p.extract_text() for p in PdfReader(tmp_path / "02-deliberation.pdf").pages)
    text = text.replace("\u202f", " ").replace("\u00a0", " ").replace("’", "'")
    assert "712 000655 350 €" in text  # the deleted amount, then the inserted one
    assert "Vu l'amendement n°1 « Réduction du financement complémentaire de Pas-de-Calais Actif »" in text


# --- synthetic documents

CONTENT_TYPES = ('<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
                 'content-types"><Default Extension="xml" ContentType="application/xml"/></Types>')
FORMATS = ["", "<w:rPr><w:b/></w:rPr>", '<w:rPr><w:sz w:val="18"/></w:rPr>']

words = st.sampled_from(["Le", "montant", "de", "12\u00a0345,00", "88\u00a0000,00", "€", " ", "  ", ",", ".",
                         "ETP", "1er", "janvier", "2025", "l'association", "\t", "« ", " »", "é"])
runs = st.lists(st.tuples(st.lists(words, max_size=6).map("".join), st.sampled_from(FORMATS)), max_size=4)
blocks = st.lists(st.one_of(runs.map(lambda r: ("p", r)),
                            st.lists(st.tuples(runs, runs), min_size=1, max_size=4).map(lambda rows: ("tbl", rows))),
                  min_size=1, max_size=6)


def run_xml(text: str, fmt: str) -> str:
    parts = []
    for k, piece in enumerate(text.split("\t")):
        if k:
            parts.append("<w:tab/>")
        if piece:
            parts.append(f'<w:t xml:space="preserve">{piece}</w:t>')
    return f"<w:r>{fmt}{''.join(parts)}</w:r>"


SPACED = '<w:spacing w:after="120"/>'


def para_xml(runs_: list, ppr: str = SPACED) -> str:
    return f"<w:p><w:pPr>{ppr}</w:pPr>{''.join(run_xml(t, f) for t, f in runs_)}</w:p>"


def docx(body: list, styles: str = "<styles/>", ppr: str = SPACED) -> bytes:
    xml = []
    for kind, value in body:
        if kind == "p":
            xml.append(para_xml(value, ppr))
        else:
            rows = "".join(f"<w:tr><w:tc>{para_xml(a, ppr)}</w:tc><w:tc>{para_xml(b, ppr)}</w:tc></w:tr>"
                           for a, b in value)
            xml.append(f"<w:tbl><w:tblPr/>{rows}</w:tbl>")
    doc = (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><w:document xmlns:w="{W}"><w:body>'
           f'{"".join(xml)}<w:sectPr/></w:body></w:document>')
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        z.writestr("[Content_Types].xml", CONTENT_TYPES)
        z.writestr(DOCUMENT, doc)
        z.writestr("word/styles.xml", styles)
    return out.getvalue()


@st.composite
def edited(draw):
    """A document and an edited copy: words changed, paragraphs and rows added or removed."""
    old = draw(blocks)
    new = []
    for kind, value in old:
        action = draw(st.sampled_from(["keep", "keep", "edit", "drop", "add"]))
        if action == "drop" and kind == "p":
            continue
        if kind == "p":
            new.append(("p", draw(runs) if action == "edit" else value))
        else:
            rows = [r for r in value if draw(st.booleans())] or value[:1]  # a table keeps a row
            rows = [(draw(runs), b) if draw(st.booleans()) else (a, b) for a, b in rows]
            if action == "add":
                rows.insert(draw(st.integers(0, len(rows))), (draw(runs), draw(runs)))
            new.append(("tbl", rows))
        if action == "add":
            new.append(("p", draw(runs)))
    return old, new


@given(edited())
def test_accepting_gives_the_new_text_and_rejecting_the_old(pair):
    old_body, new_body = pair
    old, new = docx(old_body), docx(new_body)
    out = tracked_redline(old, new, AUTHOR, WHEN)
    if old == new:
        assert out is None
        return
    assert out is not None  # no table added or removed: the fast path records every change
    root = document(out)
    assert paragraphs(resolve(root, "ins")) == paragraphs(document(new))
    assert paragraphs(resolve(root, "del")) == paragraphs(document(old))
    ids = [m.get(w("id")) for m in revisions(root)]
    assert len(ids) == len(set(ids))
    assert zipfile.ZipFile(io.BytesIO(out)).read("word/styles.xml") == b"<styles/>"


def test_a_change_beyond_words_is_left_to_the_general_comparer():
    body = [("p", [("Le montant de 88\u00a0000,00 €", "")])]
    changed = [("p", [("Le montant de 12\u00a0345,00 €", "")])]
    assert tracked_redline(docx(body), docx(changed), AUTHOR, WHEN) is not None
    assert tracked_redline(docx(body), docx(changed, styles="<styles v='2'/>"), AUTHOR, WHEN) is None  # styles
    table = [*changed, ("tbl", [([("a", "")], [("b", "")])])]
    assert tracked_redline(docx(body), docx(table), AUTHOR, WHEN) is None  # a whole table added
    centred = docx(changed, ppr='<w:jc w:val="center"/>')
    assert tracked_redline(docx(body), centred, AUTHOR, WHEN) is None  # paragraph formatting
    assert tracked_redline(b"not a zip", docx(body), AUTHOR, WHEN) is None
    assert tracked_redline(docx(body)[:-30], docx(changed), AUTHOR, WHEN) is None  # damaged


@pytest.mark.slow
def test_the_general_comparer_still_records_what_the_fast_path_leaves(amended):
    """A table added to a real document: no fast path, and the .NET comparer marks it inserted."""
    v1, _ = amended
    old = (v1 / "02-deliberation.docx").read_bytes()
    zin = zipfile.ZipFile(io.BytesIO(old))
    xml = zin.read(DOCUMENT).decode()
    table = ("<w:tbl><w:tblPr/><w:tblGrid><w:gridCol w:w=\"2000\"/></w:tblGrid><w:tr><w:tc><w:p><w:r>"
             "<w:t>Tableau ajouté</w:t></w:r></w:p></w:tc></w:tr></w:tbl>")
    xml = xml.replace("<w:sectPr", table + "<w:p/><w:sectPr", 1)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for info in zin.infolist():
            z.writestr(info, xml if info.filename == DOCUMENT else zin.read(info.filename))
    new = buf.getvalue()
    assert tracked_redline(old, new, AUTHOR, WHEN) is None
    try:
        out = redline_module.redline(old, new, AUTHOR, WHEN)
    except redline_module.RedlineUnavailable as err:
        pytest.skip(f"comparateur général indisponible : {err}")
    added = zipfile.ZipFile(io.BytesIO(out)).read(DOCUMENT).decode()
    assert re.search(r"<w:ins [^>]*>(?:(?!</w:ins>).)*Tableau ajouté", added, re.DOTALL)


@pytest.mark.slow
def test_without_the_optional_comparer_the_fast_redlines_are_kept_and_the_others_named(amended, monkeypatch):
    """python-redlines is an optional extra: missing, it costs only the redlines the fast path cannot make."""
    v1, v2 = amended
    old = (v1 / "02-deliberation.docx").read_bytes()
    new = (v2 / "02-deliberation.docx").read_bytes()
    zin = zipfile.ZipFile(io.BytesIO(old))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:  # a changed style part: only the general comparer handles it
        for info in zin.infolist():
            data = zin.read(info.filename)
            z.writestr(info, data.replace(b"</w:styles>", b"<w:style w:type=\"paragraph\" w:styleId=\"X\"/></w:styles>")
                       if info.filename == "word/styles.xml" else data)
    styled = buf.getvalue()

    def missing():
        raise redline_module.RedlineUnavailable("le paquet python-redlines[docxodus] n'est pas installé")

    monkeypatch.setattr(redline_module, "_engine", missing)
    with pytest.raises(redline_module.RedlineUnavailable) as caught:
        redline_module.redlines({"a.docx": (old, new), "b.docx": (old, styled)}, AUTHOR, WHEN)
    assert list(caught.value.done) == ["a.docx"] and caught.value.missing == ["b.docx"]
    accepted = zipfile.ZipFile(io.BytesIO(caught.value.done["a.docx"])).read(DOCUMENT).decode()
    assert "<w:ins " in accepted or "<w:del " in accepted
