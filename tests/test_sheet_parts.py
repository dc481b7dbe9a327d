"""Issue 23: each annex sheet in two page segments, the act's conditions then the dispositif's shared description.

Read from the rendered DOCX of three phases of different shapes (the example, the fictitious phase, the
2026 phase): the description names no structure and holds no amount or date of its act; two acts joining
the same dispositif under the same annex number have byte-identical description segments; every row of
the sheet (``sheet_rows``: the one table of before) is in exactly one of the two tables, its text unchanged.
"""

from __future__ import annotations

import re
import zipfile
from collections import defaultdict
from pathlib import Path

import pytest
from docx import Document
from lxml import etree

from deliberation import pipeline
from deliberation.acts import act_values
from deliberation.render import finish
from deliberation.render.acts import act_paths, sheet_parts, sheet_rows
from deliberation.render.inspect import typed
from deliberation.render.markdown import add_sheet_table
from deliberation.resources import templates_dir
from deliberation.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
_P, _TBL, _TR, _TC, _T = (f"{{{W}}}{n}" for n in ("p", "tbl", "tr", "tc", "t"))
DESCRIPTION = re.compile(r"^Annexe N°(\d+) \(suite\) — description du dispositif$")
CONDITIONS = re.compile(r"^Annexe N°(\d+) – ")
AMOUNT = re.compile(r"\d[\d\u00a0\u202f ]*,\d\d[\u00a0\u202f ]?€")
DATE = re.compile(r"\b\d{2}/\d{2}/\d{4}\b|\b\d{1,2}(?:er)? (?:janvier|février|mars|avril|mai|juin|juillet|août|"
                  r"septembre|octobre|novembre|décembre) \d{4}\b")


def _text(el) -> str:
    return "".join(t.text or "" for t in el.iter(_T))


def segments(path: Path) -> list[list]:
    """The body's elements between page-break paragraphs (the first: the act before its sheets)."""
    root = etree.fromstring(zipfile.ZipFile(path).read("word/document.xml"))
    out: list[list] = [[]]
    for el in root.find(f"{{{W}}}body"):
        if el.tag == _P and el.find(f".//{{{W}}}br[@{{{W}}}type='page']") is not None:
            out.append([])
        elif el.tag != f"{{{W}}}sectPr":
            out[-1].append(el)
    return out


def table_rows(tbl) -> list[tuple[str, str]]:
    """(heading, text) rows of a sheet table, a tall row split over several rows (empty heading) joined again."""
    rows: list[tuple[str, str]] = []
    for tr in tbl.iter(_TR):
        head, body = ("\n".join(_text(p) for p in tc.iter(_P)) for tc in tr.findall(_TC))
        if not head.strip() and rows:
            rows[-1] = (rows[-1][0], rows[-1][1] + "\n" + body)
        else:
            rows.append((head, body))
    return [(typed(h).strip(), " ".join(typed(t).split())) for h, t in rows]


def rendered_rows(rows: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """``rows`` as the one table of before reads once rendered: python-docx, then French typography."""
    doc = Document(str(templates_dir() / "avenant.docx"))
    body = doc.element.body
    for child in list(body):
        if child.tag != f"{{{W}}}sectPr":
            body.remove(child)
    add_sheet_table(doc, rows)
    finish.typeset(body)
    return table_rows(body.find(_TBL))


@pytest.fixture(scope="module", params=["phase-6-2024", "fictif", "phase-3-2026"])
def phase(request, tmp_path_factory):
    out = tmp_path_factory.mktemp(request.param) / "out"
    result = pipeline.build(Settings(source=ROOT / "fixtures" / request.param, out_dir=out))
    assert result.written
    return request.param, result, out


def _sheets(path: Path, segs: list | None = None) -> dict[int, dict]:
    """Annex number → {"conditions": elements, "description": elements or None, "titre": text}."""
    out: dict[int, dict] = {}
    for seg in (segs or segments(path))[1:]:
        paragraphs = [_text(el) for el in seg if el.tag == _P]
        heading = paragraphs[1] if len(paragraphs) > 1 else ""
        if m := DESCRIPTION.match(heading):
            assert int(m.group(1)) in out and out[int(m.group(1))]["titre"] == paragraphs[0], path
            out[int(m.group(1))]["description"] = seg
        else:
            m = CONDITIONS.match(heading)
            assert m, (path, heading)
            out[int(m.group(1))] = {"conditions": seg, "description": None, "titre": paragraphs[0]}
    return out


def test_description_names_no_structure_and_holds_no_amount_or_date_of_its_act(phase):
    """Verify each description segment holds nothing of its act: no name, no amount, no date, no blank."""
    name, result, out = phase
    names = {a.nom for a in result.checked.acts} | {a.nom.upper() for a in result.checked.acts}
    seen = 0
    for path in sorted(out.rglob("*.docx")):
        segs = segments(path)
        sheets = _sheets(path, segs) if "Annexe N°" in "".join(_text(el) for el in segs[-1]) else {}
        for sheet in sheets.values():
            if sheet["description"] is None:
                continue
            seen += 1
            text = "\n".join(_text(el) for el in sheet["description"])
            own = "\n".join(_text(el) for seg in segs for el in seg  # the act and its conditions
                             if not any(seg is x["description"] for x in sheets.values()))
            assert not [n for n in names if re.search(rf"(?<!\w){re.escape(n)}(?!\w)", text)], path
            assert not set(AMOUNT.findall(text)) & set(AMOUNT.findall(own)), path
            assert not set(DATE.findall(text)) & set(DATE.findall(own)), path
            assert "à compléter" not in text and "[[" not in text, path
            # the conditions name the structure: the act's own part
            assert CONDITIONS.match([_text(el) for el in sheet["conditions"] if el.tag == _P][1]), path
    assert seen >= 3, name


def test_same_dispositif_same_annex_number_gives_byte_identical_description(phase):
    """Verify two acts joining one dispositif under one annex number share the XML of their description."""
    name, _, out = phase
    by: dict[tuple, set[bytes]] = defaultdict(set)
    acts: dict[tuple, int] = defaultdict(int)
    for path in sorted(out.rglob("*.docx")):
        if "Annexe N°" not in "".join(_text(el) for el in segments(path)[-1]):
            continue
        for numero, sheet in _sheets(path).items():
            if sheet["description"] is not None:
                by[(numero, sheet["titre"])].add(b"".join(etree.tostring(el) for el in sheet["description"]))
                acts[(numero, sheet["titre"])] += 1
    assert by, name
    assert {k: len(v) for k, v in by.items()} == dict.fromkeys(by, 1)
    assert max(acts.values()) >= 2, name  # some description is shared, or the test proves nothing


def test_every_row_of_the_sheet_is_in_exactly_one_table_text_unchanged(phase):
    """Verify the conditions and description tables are the sheet's one table of before, split in order."""
    name, result, out = phase
    d = result.checked.dossier
    checked = 0
    for act, rel in zip(result.checked.acts, act_paths(result.checked.acts), strict=True):
        path = out / f"{rel}.docx"
        sheets = _sheets(path)
        values, _ = act_values(act, d)
        for s, sheet in zip(values["annexes"], act.sheets, strict=True):
            before = rendered_rows(sheet_rows(act, s["values"], sheet))
            got = sheets[s["numero"]]
            conditions = table_rows(next(el for el in got["conditions"] if el.tag == _TBL))
            description = (table_rows(next(el for el in got["description"] if el.tag == _TBL))
                           if got["description"] is not None else [])
            own, shared = sheet_parts(act, s["values"], sheet)
            assert (len(conditions), len(description)) == (len(own), len(shared)), path
            i = j = 0
            for row in before:  # each row of before, in order, is the next row of exactly one table
                in_conditions = i < len(conditions) and conditions[i] == row
                in_description = j < len(description) and description[j] == row
                assert in_conditions != in_description, (path, row)
                i, j = i + in_conditions, j + in_description
            assert (i, j) == (len(conditions), len(description)), path
            assert description or got["description"] is None
            checked += 1
    assert checked >= 4, name
