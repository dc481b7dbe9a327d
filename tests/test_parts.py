"""Acts converted in parts (``bundle/parts.py``): segments, stamps, and what makes an act go whole.

The text of every page is compared with the whole DOCX's conversion in ``tests/test_lean.py``; here,
what is read from the acts, where the stamps are drawn, and the acts converted whole.
"""

from __future__ import annotations

import datetime
import io
import re
import zipfile
from pathlib import Path

import pytest

from deliberation import pipeline
from deliberation.bundle.lean import lean_docx
from deliberation.bundle.parts import Unsupported, assemble_all, is_act, plan_act, prepare, text_width, wrap
from deliberation.bundle.pdf import ConvertOptions, convert, soffice
from deliberation.render.watermark import for_converter
from deliberation.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "fixtures"
needs_lo = pytest.mark.skipif(not soffice(), reason="LibreOffice absent (make libreoffice)")


@pytest.fixture(scope="module")
def acts(tmp_path_factory) -> dict[str, dict[str, bytes]]:
    """The acts of two fixture phases of different shapes, as handed to LibreOffice."""
    out = {}
    for name in ("phase-6-2024", "fictif"):
        where = tmp_path_factory.mktemp("parts") / name
        assert pipeline.build(Settings(source=FIXTURES / name, out_dir=where, pdf=False)).written
        out[name] = {str(p.relative_to(where)): lean_docx(for_converter(p.read_bytes())[0])
                     for p in sorted(where.glob("actes/*/*.docx"))}
    return out


def _replace(docx: bytes, part: str, old: str, new: str) -> bytes:
    z = zipfile.ZipFile(io.BytesIO(docx))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as out:
        for info in z.infolist():
            data = z.read(info)
            if info.filename == part:
                text = data.decode("utf-8")
                assert old in text, f"{old!r} not in {part}"
                data = text.replace(old, new, 1).encode("utf-8")
            out.writestr(info, data)
    return buf.getvalue()


@pytest.mark.parametrize("phase", ["phase-6-2024", "fictif"])
def test_the_footer_and_the_pages_sentence_are_read_from_each_act(acts, phase):
    assert len(acts[phase]) >= 3 and all(is_act(n) for n in acts[phase])
    numero = "2024-587" if phase == "phase-6-2024" else "2025-100"
    for name, docx in acts[phase].items():
        plan = plan_act(name, docx)
        [line] = plan.stamps.footer
        assert (line.size, line.font, line.align) == (7.0, "Helvetica", "center")
        assert line.pieces[-3:] == (("PAGE",), "/", ("NUMPAGES",))
        assert line.text(3, 12).startswith(f"Délibération n°{numero} — ") and line.text(3, 12).endswith("page\xa03/12")
        sentence = plan.stamps.sentence
        assert sentence.pieces == ("Ce document comprend ", ("NUMPAGES",), " pages.")
        assert (sentence.size, sentence.font, sentence.align) == (10.5, "Helvetica", "left")
        assert 56 < plan.stamps.left < 57 and 538 < plan.stamps.right < 539 and plan.stamps.footer_distance == 36
        assert len(plan.segments) >= 2  # the act's body, then one segment per page break (its sheets)


def test_lines_break_at_spaces_and_after_hyphens_within_the_width():
    text = "Délibération n°2024-587 — ADEFI - Plateforme — avenant à la convention « Dynamisation des " \
           "parcours\u00a0: accueil et accompagnement des BRSA » — page\u00a01/10"
    lines = wrap(text, "Helvetica", 7, 481.9)
    assert lines == ["Délibération n°2024-587 — ADEFI - Plateforme — avenant à la convention « Dynamisation des "
                     "parcours\u00a0: accueil et accompagnement des BRSA » —", "page\u00a01/10"]
    assert all(text_width(x, "Helvetica", 7) <= 481.9 for x in lines)
    assert wrap("social-professionnel", "Helvetica", 10, 60) == ["social-", "professionnel"]
    assert wrap("n°2024-587", "Helvetica", 10, 20) == ["n°2024-587"]  # no break between digits
    assert text_width("\u202f", "Helvetica", 10) == 2.0 and text_width(" ", "Helvetica", 10) == 2.78


@pytest.mark.parametrize(("part", "old", "new", "why"), [
    ("word/footer1.xml", 'w:instr=" PAGE "', 'w:instr=" DATE "', "champ DATE"),
    ("word/document.xml", "<w:pgSz ", "<w:titlePg/><w:pgSz ", "première page distincte"),
    ("word/document.xml", "Ce document comprend ", "Page <w:fldSimple w:instr=\" PAGE \"/> ", "champ de page"),
])
def test_what_could_depend_on_its_position_sends_the_act_whole(acts, part, old, new, why):
    name, docx = next(iter(acts["fictif"].items()))
    if "Ce document" in old:
        new = "Ce document comprend </w:t></w:r><w:fldSimple w:instr=\" PAGE \"><w:r><w:t>1</w:t></w:r></w:fldSimple>" \
              "<w:r><w:t xml:space=\"preserve\"> "
    changed = _replace(docx, part, old, new)
    with pytest.raises(Unsupported, match=why):
        plan_act(name, changed)
    prep = prepare({name: changed, **{n: d for n, d in acts["fictif"].items() if n != name}}, jobs=1)
    assert list(prep.whole) == [name] and why in prep.whole[name]
    assert name not in [a.name for a in prep.acts] and len(prep.acts) == len(acts["fictif"]) - 1


def test_a_font_without_helvetica_metrics_sends_the_act_whole(acts):
    name, docx = next(iter(acts["phase-6-2024"].items()))
    changed = _replace(docx, "word/styles.xml", 'w:ascii="Arial"', 'w:ascii="Times New Roman"')
    with pytest.raises(Unsupported, match="police « Times New Roman »"):
        plan_act(name, changed)


def _lines(pdf: bytes, page: int) -> list[tuple[float, float, str]]:
    """(baseline, left end, text without blanks) of each line of a page, runs joined by baseline."""
    from pypdf import PdfReader

    runs: dict[float, list[tuple[float, str]]] = {}

    def visit(text, cm, tm, font, size):
        if text.strip():
            x = tm[4] * cm[0] + tm[5] * cm[2] + cm[4]
            y = round(tm[4] * cm[1] + tm[5] * cm[3] + cm[5], 1)
            runs.setdefault(y, []).append((x, text))

    PdfReader(io.BytesIO(pdf)).pages[page].extract_text(visitor_text=visit)
    return [(y, min(x for x, _ in r), re.sub(r"\s+", "", "".join(t for _, t in sorted(r)))) for y, r in runs.items()]


@needs_lo
@pytest.mark.libreoffice
@pytest.mark.parametrize("phase", ["phase-6-2024", "fictif"])
def test_the_stamps_are_drawn_where_libreoffice_draws_the_footer_and_the_sentence(acts, phase):
    in_parts = [a.name for a in prepare(acts[phase], jobs=1).acts]  # the acts with a sheet's description
    names = in_parts[:4]
    chosen = {n: acts[phase][n] for n in names}
    prep = prepare(chosen, jobs=1)
    raw = convert({**prep.docs}, ConvertOptions(destinations=True))
    assembled, failed = assemble_all(prep, raw, datetime.datetime(2025, 1, 1, tzinfo=datetime.UTC), {}, set(), jobs=1)
    assert failed == [] and len(assembled) == len(names) >= 2
    whole = convert(chosen)
    checked = 0
    for name in names:
        pdf_name = name[:-5] + ".pdf"
        mine, pages = assembled[pdf_name]
        for page in range(pages):
            ours = _lines(mine, page)
            for y, x, text in _lines(whole[pdf_name], page):
                if y < 60 or text.startswith("Cedocumentcomprend"):  # the footer's lines, the sentence
                    near = [(yy, xx) for yy, xx, tt in ours if tt == text]
                    assert near, f"{pdf_name} p.{page + 1}: « {text} » not stamped"
                    dy, dx = min((abs(yy - y), abs(xx - x)) for yy, xx in near)
                    assert dy < 0.6 and dx < 1.0, f"{pdf_name} p.{page + 1}: « {text} » off by ({dx:.2f}, {dy:.2f})"
                    checked += 1
    assert checked > 2 * len(names)


def test_a_segment_converted_apart_is_only_a_marked_one(acts):
    for phase in ("phase-6-2024", "fictif"):
        for name, docx in acts[phase].items():
            plan = plan_act(name, docx)
            xml = [b"".join(__import__("lxml.etree").etree.tostring(el) for el in seg) for seg in plan.segments]
            for key, seg in zip(plan.keys, xml, strict=True):
                assert (key is not None) == (b"_DlbFiche" in seg and b' r:id="' not in seg), name
            assert plan.keys[0] is None
            assert re.search(rb"<w:body\b", plan.head) and plan.tail.endswith(b"</w:body></w:document>")


def test_a_document_edited_out_of_shape_is_converted_whole_never_a_traceback(acts):
    """A footer reference without its relationship (a template edited by hand): converted whole, with why."""
    name, docx = next((n, d) for n, d in acts["phase-6-2024"].items()
                      if n in {a.name for a in prepare(acts["phase-6-2024"], jobs=1).acts})
    rels = zipfile.ZipFile(io.BytesIO(docx)).read("word/_rels/document.xml.rels").decode()
    footer_id = re.search(r'Id="([^"]+)"[^>]*footer', rels) or \
        re.search(r'<Relationship [^>]*footer[^>]*Id="([^"]+)"', rels)
    broken_docx = _replace(docx, "word/_rels/document.xml.rels", f'Id="{footer_id.group(1)}"', 'Id="rIdAilleurs"')
    prep = prepare({name: broken_docx}, jobs=1)
    assert prep.acts == [] and prep.whole == {name: "document inattendu (KeyError)"}


@pytest.mark.libreoffice
@pytest.mark.skipif(soffice() is None, reason="LibreOffice absent")
def test_the_sommaire_made_ahead_is_made_again_when_a_count_changes(tmp_path, monkeypatch):
    """Verify the sommaire, converted while the acts are assembled from the counts known before, is made
    again when an assembled document ends with another count: its numbers are the bundle's pages."""
    from pypdf import PdfWriter

    from deliberation.bundle import publish

    real = publish.assemble_all
    shortened: list[str] = []

    def assemble_all_one_page_shorter(*args, **kwargs):
        out, failed = real(*args, **kwargs)
        name = next(n for n in sorted(out) if re.match(r"\d\d-", n) and out[n][1] > 1)
        writer = PdfWriter(clone_from=io.BytesIO(out[name][0]))
        writer.remove_page(len(writer.pages) - 1)
        buf = io.BytesIO()
        writer.write(buf)
        out[name] = (buf.getvalue(), out[name][1] - 1)
        shortened.append(name)
        return out, failed

    asked: list[list[int]] = []
    real_job = publish.sommaire_job

    def sommaire_job(checked, entries, templates_dir=None):
        asked.append([e["page"] for e in entries])
        return real_job(checked, entries, templates_dir)

    monkeypatch.setattr(publish, "assemble_all", assemble_all_one_page_shorter)
    monkeypatch.setattr(publish, "sommaire_job", sommaire_job)
    out = tmp_path / "out"
    assert pipeline.build(Settings(source=FIXTURES / "fictif", out_dir=out, pdf=True)).written
    assert shortened and len(asked) == 2 and asked[0] != asked[1]  # ahead, then again with the new count
    from pypdf import PdfReader

    reader = PdfReader(str(out / "bundle.pdf"))
    def flat(text: str) -> str:
        return " ".join(text.replace("\u202f", " ").replace("\xa0", " ").split())

    sommaire = flat(reader.pages[1].extract_text())
    items = [x for x in reader.outline if not isinstance(x, list)][1:]
    items += [x for x in next(x for x in reader.outline if isinstance(x, list))]
    cited = {item.title: reader.get_destination_page_number(item) + 1 for item in items if item.title != "Annexes"}
    assert len(cited) > 3
    for title, page in cited.items():  # the sommaire gives each document's first page in the bundle
        assert re.search(rf"{re.escape(flat(title))} {page}\b", sommaire), (title, page, sommaire)
