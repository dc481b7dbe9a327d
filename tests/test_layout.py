"""Page layout in the generated WordprocessingML (``render.finish``), read back from the Word files of two phases.

The PDFs are checked by the print check (tests/test_printcheck.py, with LibreOffice); here, what the
Word files say: which paragraphs keep with the next, which rows may not split, the columns' widths, the
lists' numbering, the highlighted blanks. Two fixtures of different shapes: the example (phase 6, six
models, many sheets) and phase 3 of 2026 (three avenants, other numbering, conventions).
"""

from __future__ import annotations

import re
import shutil
import zipfile
from pathlib import Path

import pytest
from conftest import FIXTURES
from lxml import etree

from deliberation import pipeline
from deliberation.render import finish
from deliberation.settings import Settings

W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
NS = {"w": W}


def body(path: Path):
    return etree.fromstring(zipfile.ZipFile(path).read("word/document.xml")).find(f"{{{W}}}body")


def text(el) -> str:
    return "".join(t.text or "" for t in el.iter(f"{{{W}}}t"))


def has(p, name: str) -> bool:
    return p.find(f"w:pPr/w:{name}", NS) is not None


def _build(tmp_path_factory, name: str) -> Path:
    out = tmp_path_factory.mktemp(name) / "out"
    assert pipeline.build(Settings(source=FIXTURES / name, out_dir=out)).written
    return out


@pytest.fixture(scope="module", params=["phase-6-2024", "phase-3-2026"])
def bundle(request, tmp_path_factory):
    return _build(tmp_path_factory, request.param)


@pytest.fixture(scope="module", params=["phase-6-2024", "fictif"])
def with_sheets(request, tmp_path_factory):
    """The phases whose acts join sheets with several numbered lists and blanks (phase 3 of 2026 has none)."""
    return _build(tmp_path_factory, request.param)


def documents(out: Path) -> list[Path]:
    return [p for p in sorted(out.rglob("*.docx")) if "revisions" not in p.parts]


def test_every_article_heading_keeps_with_its_text(bundle):
    seen = 0
    for path in documents(bundle):
        blocks = [el for el in body(path) if el.tag in (f"{{{W}}}p", f"{{{W}}}tbl")]
        for el, after in zip(blocks, blocks[1:], strict=False):
            if el.tag == f"{{{W}}}p" and re.match(r"Article\s\d+\s?:", text(el)) and len(text(el)) < 120:
                seen += 1
                assert has(el, "keepNext"), (path.name, text(el))
                assert text(after).strip() or after.tag == f"{{{W}}}tbl", (path.name, text(el))
    assert seen > 20


def test_signature_blocks_and_the_vote_stay_together(bundle):
    blocks_seen = 0
    for path in documents(bundle):
        blocks = [el for el in body(path) if el.tag in (f"{{{W}}}p", f"{{{W}}}tbl")]
        starts = [i for i, el in enumerate(blocks) if el.tag == f"{{{W}}}p"
                  and text(el).strip().startswith(finish.SIGNATURE_STARTS)]
        if not starts:
            continue
        blocks_seen += 1
        block = []
        for el in blocks[starts[0]:]:
            block.append(el)
            if el.tag == f"{{{W}}}tbl":
                break
        for el in block[:-1]:
            paragraphs = [el] if el.tag == f"{{{W}}}p" else list(el.iter(f"{{{W}}}p"))
            assert all(has(p, "keepNext") for p in paragraphs), (path.name, text(el)[:60])
        if block[-1].tag == f"{{{W}}}tbl":  # the signatures: one row that may not split
            assert all(tr.find("w:trPr/w:cantSplit", NS) is not None for tr in block[-1].iter(f"{{{W}}}tr"))
    assert blocks_seen >= 5  # rapport, délibération, acts and models


def test_no_table_row_may_split(bundle):
    rows = 0
    for path in documents(bundle):
        for tr in body(path).iter(f"{{{W}}}tr"):
            rows += 1
            assert tr.find("w:trPr/w:cantSplit", NS) is not None, path.name
    assert rows > 50


def test_the_budget_table_fits_its_widest_amount(bundle):
    """The rapport's table: each column at least as wide as its widest amount or word at the type it is set in."""
    (rapport,) = bundle.glob("*-rapport.docx")
    (tbl,) = [t for t in body(rapport).iter(f"{{{W}}}tbl") if "Disponible" in text(t)]
    widths = [int(c.get(f"{{{W}}}w")) for c in tbl.iter(f"{{{W}}}gridCol")]
    sizes = {int(s.get(f"{{{W}}}val")) for s in tbl.iter(f"{{{W}}}sz")}
    assert len(sizes) == 1 and 16 <= sizes.pop() <= 22
    size = int(next(tbl.iter(f"{{{W}}}sz")).get(f"{{{W}}}val"))
    need = finish._needs(tbl, len(widths))
    for w, em in zip(widths, need, strict=True):
        assert w >= em * size / 2 * 20 + 2 * 108, (w, em)
    amounts = re.findall(r"\d{1,3}(?:\u00a0\d{3})+,\d\d", text(tbl))
    assert amounts  # held by no-break spaces: one token each, which the widths above hold


def _list_numbers(path: Path) -> dict[str, list[str]]:
    """For each numbered list (a run of List Number paragraphs), the numId it uses."""
    out: dict[str, list[str]] = {}
    for p in body(path).iter(f"{{{W}}}p"):
        style = p.find("w:pPr/w:pStyle", NS)
        if style is not None and style.get(f"{{{W}}}val") == "ListNumber":
            num = p.find("w:pPr/w:numPr/w:numId", NS)
            out.setdefault(num.get(f"{{{W}}}val") if num is not None else "style", []).append(text(p))
    return out


def test_each_numbered_list_starts_at_one(with_sheets):
    checked = 0
    for path in documents(with_sheets):
        lists = _list_numbers(path)
        if len(lists) < 2:
            continue
        checked += 1
        numbering = etree.fromstring(zipfile.ZipFile(path).read("word/numbering.xml"))
        for num_id in lists:
            if num_id == "style":
                continue  # the first list: the style's own numbering, which starts at 1
            (num,) = numbering.xpath(f"w:num[@w:numId='{num_id}']", namespaces=NS)
            assert num.xpath("w:lvlOverride[@w:ilvl='0']/w:startOverride/@w:val", namespaces=NS) == ["1"]
    assert checked > 0


def test_an_items_further_paragraphs_are_not_numbered(with_sheets):
    """« 2. Bilan final » then its text: the text is a List Continue paragraph, not item 3."""
    found = 0
    for path in documents(with_sheets):
        paragraphs = list(body(path).iter(f"{{{W}}}p"))
        for item, p in zip(paragraphs, paragraphs[1:], strict=False):
            if text(item) == "Bilan final" and has(item, "pStyle"):
                found += 1
                assert p.find("w:pPr/w:pStyle", NS).get(f"{{{W}}}val") == "ListContinue", path.name
    assert found > 0


@pytest.fixture(scope="module", params=["phase-6-2024", "fictif sans SIRET ni représentant"])
def with_blanks(request, tmp_path_factory):
    """The example (its acts lack the registry's data) and fictif with one structure's data removed."""
    if request.param == "phase-6-2024":
        return _build(tmp_path_factory, request.param)
    root = tmp_path_factory.mktemp("fictif-blanks") / "dossier"
    shutil.copytree(FIXTURES / "fictif", root)
    path = root / "structures.yaml"
    text = path.read_text("utf-8").replace('    siret: "88123456100010"\n', "", 1)
    path.write_text(re.sub(r"    representant: \{civilite: Mme, nom: Alice ALPHA[^\n]*\n", "", text, count=1), "utf-8")
    out = root.parent / "out"
    assert pipeline.build(Settings(source=root, out_dir=out)).written
    return out


def test_blanks_are_highlighted(with_blanks):
    blanks = 0
    for path in documents(with_blanks):
        for r in body(path).iter(f"{{{W}}}r"):
            value = text(r)
            if re.search(r"à compléter\]", value):
                blanks += 1
                assert re.fullmatch(r"\[[^\[\]]+ à compléter\]", value), value
                assert r.find("w:rPr/w:highlight", NS).get(f"{{{W}}}val") == "yellow"
    assert blanks > 0


def test_sheet_rows_are_short_enough_to_move_whole(bundle):
    for path in documents(bundle):
        for tbl in body(path).iter(f"{{{W}}}tbl"):
            if len(list(tbl.iter(f"{{{W}}}gridCol"))) != 2:
                continue
            for tr in tbl.findall(f"{{{W}}}tr"):
                cells = tr.findall(f"{{{W}}}tc")
                if len(cells) != 2 or cells[1].find(f"{{{W}}}tbl") is not None:
                    continue
                width = int(cells[1].find("w:tcPr/w:tcW", NS).get(f"{{{W}}}w"))
                lines = sum(finish._lines(p, width) for p in cells[1].findall(f"{{{W}}}p"))
                longest = max((finish._lines(p, width) for p in cells[1].findall(f"{{{W}}}p")), default=0)
                assert lines <= finish.TALL_ROW or longest > finish.ROW_PART, (path.name, text(cells[0]))


# ---------------------------------------------------------------------------------------------------------
# the functions, on made-up tables

def _xml(inner: str):
    return etree.fromstring(f'<w:body xmlns:w="{W}">{inner}</w:body>')


def _row(*cells: str, width: int = 1000) -> str:
    tcs = "".join(f'<w:tc><w:tcPr><w:tcW w:w="{width}" w:type="dxa"/></w:tcPr><w:p><w:r><w:t>{c}</w:t></w:r></w:p>'
                  "</w:tc>" for c in cells)
    return f"<w:tr>{tcs}</w:tr>"


def test_fit_columns_widens_the_narrow_amount_column_and_keeps_the_total():
    grid = "".join('<w:gridCol w:w="1000"/>' for _ in range(5))
    rows = _row("Code", "Libellé", "Montant", "Solde", "Total") + _row("C02", "Fonds", "13\u00a0789\u00a0480,46",
                                                                        "1", "2")
    tbl = _xml(f"<w:tbl><w:tblPr/><w:tblGrid>{grid}</w:tblGrid>{rows}</w:tbl>").find(f"{{{W}}}tbl")
    assert finish.fit_columns(tbl)
    widths = [int(c.get(f"{{{W}}}w")) for c in tbl.iter(f"{{{W}}}gridCol")]
    assert sum(widths) == 5000 and widths[2] == max(widths) and widths[2] > 1000
    assert tbl.find("w:tblPr/w:tblLayout", NS).get(f"{{{W}}}type") == "fixed"


def test_fit_columns_reduces_the_type_when_nothing_fits():
    grid = "".join('<w:gridCol w:w="1200"/>' for _ in range(4))
    rows = _row(*["1\u00a0234\u00a0567,89"] * 4, width=1200)
    tbl = _xml(f"<w:tbl><w:tblPr/><w:tblGrid>{grid}</w:tblGrid>{rows}</w:tbl>").find(f"{{{W}}}tbl")
    need = finish._needs(tbl, 4)[0]
    assert finish.fit_columns(tbl)
    (size,) = {int(s.get(f"{{{W}}}val")) for s in tbl.iter(f"{{{W}}}sz")}

    def fits(half_points: int) -> bool:
        return need * half_points / 2 * 20 + 2 * 108 + 20 <= 1200

    bigger = [s for s in finish._SIZES if s > size]
    assert size < 22 and fits(size) and not any(fits(s) for s in bigger)  # the largest type that fits


def test_split_tall_rows_cuts_between_paragraphs_under_a_merged_heading():
    paragraphs = "".join(f"<w:p><w:r><w:t>{'mot ' * 60}{i}</w:t></w:r></w:p>" for i in range(10))
    tbl = _xml('<w:tbl><w:tblPr/><w:tblGrid><w:gridCol w:w="2000"/><w:gridCol w:w="4320"/></w:tblGrid>'
               '<w:tr><w:tc><w:tcPr><w:tcW w:w="2000" w:type="dxa"/></w:tcPr><w:p><w:r><w:t>Déroulement</w:t>'
               '</w:r></w:p></w:tc><w:tc><w:tcPr><w:tcW w:w="4320" w:type="dxa"/></w:tcPr>'
               f"{paragraphs}</w:tc></w:tr></w:tbl>").find(f"{{{W}}}tbl")
    added = finish.split_tall_rows(tbl)
    rows = tbl.findall(f"{{{W}}}tr")
    assert added == len(rows) - 1 >= 2
    merges = [tr.find("w:tc/w:tcPr/w:vMerge", NS).get(f"{{{W}}}val") for tr in rows]
    assert merges == ["restart"] + ["continue"] * added
    texts = [text(p) for tr in rows for p in tr.findall("w:tc", NS)[1].findall(f"{{{W}}}p")]
    assert [t.split()[-1] for t in texts] == [str(i) for i in range(10)]  # every paragraph, in order
    assert all(sum(finish._lines(p, 4320) for p in tr.findall("w:tc", NS)[1].findall(f"{{{W}}}p"))
               <= finish.ROW_PART for tr in rows)


def test_headings_are_recognised():
    def p(inner: str, ppr: str = ""):
        return _xml(f"<w:p>{ppr}{inner}</w:p>").find(f"{{{W}}}p")

    assert finish.is_heading(p("<w:r><w:t>Article 6\u00a0:</w:t></w:r>"))
    assert finish.is_heading(p("<w:r><w:t>Il convient de statuer sur cette affaire et, le cas échéant :</w:t></w:r>"))
    assert finish.is_heading(p("<w:r><w:rPr><w:b/></w:rPr><w:t>Bilan final</w:t></w:r>"))
    assert finish.is_heading(p("<w:r><w:t>x</w:t></w:r>", '<w:pPr><w:pStyle w:val="Heading2"/></w:pPr>'))
    assert not finish.is_heading(p("<w:r><w:t>Le reste de l’article est inchangé.</w:t></w:r>"))
    assert not finish.is_heading(p("<w:r><w:t>" + "long " * 60 + ":</w:t></w:r>"))
