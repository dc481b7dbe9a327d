"""Consolidated conventions (issue 22): the initial convention with its avenants applied, read article by article."""

from __future__ import annotations

import datetime as dt
import functools
import io
import re
import shutil
import zipfile
from pathlib import Path

import docx
import pytest
from conftest import FIXTURES, TEMPLATES, needs_lo
from pypdf import PdfReader

from deliberation.bundle.consolidated import consolidated_redline
from deliberation.consolidation import consolidated_conventions
from deliberation.pipeline import check
from deliberation.render.consolidate import Applied, ConsolidationError, consolidate
from deliberation.render.documents import render_documents
from deliberation.settings import Settings

HEADING = re.compile(r"^Article (\d+) : (.+)$")
STAMP = re.compile(r"^(Fait en |Ce document comprend)")
JUIN, OCTOBRE = dt.date(2025, 6, 16), dt.date(2025, 10, 13)


def flat(text: str) -> str:
    """Ordinary spaces and apostrophes: the assertions are written as one reads them."""
    return " ".join(text.replace("\u00a0", " ").replace("\u202f", " ").replace("\u2019", "'").split())


@functools.cache
def rendered(phase: str) -> dict[str, bytes]:
    """The Word documents of a fixture phase, as ``build`` renders them."""
    return render_documents(check(Settings(source=FIXTURES / phase)))


def articles(data: bytes) -> dict[int, tuple[str, list[str]]]:
    """The document's articles: number → (title, its paragraphs), up to the signature block or the annexes."""
    out: dict[int, tuple[str, list[str]]] = {}
    current = None
    for p in docx.Document(io.BytesIO(data)).paragraphs:
        text = flat(p.text)
        if current is not None and (STAMP.match(text) or not text):  # the closing formula, or a sheet's page break
            break
        if m := HEADING.match(text):
            current = int(m.group(1))
            out[current] = (m.group(2), [])
        elif current is not None:
            out[current][1].append(text)
    return out


def paragraphs(data: bytes) -> list[str]:
    return [flat(p.text) for p in docx.Document(io.BytesIO(data)).paragraphs]


def tables(data: bytes) -> list[list[list[str]]]:
    return [[[flat(c.text) for c in row.cells] for row in t.rows] for t in docx.Document(io.BytesIO(data)).tables]


def by_title(data: bytes, title: str) -> list[str]:
    """An avenant article's paragraphs, found by its title."""
    found = [body for t, body in articles(data).values() if t == title]
    assert len(found) == 1, (title, list(articles(data).values()))
    return found[0]


def quoted(body: list[str]) -> list[str]:
    """The paragraphs between « and » (a quote may span several), guillemets removed."""
    start = next(i for i, p in enumerate(body) if p.startswith("«"))
    depth = 0
    for end in range(start, len(body)):
        depth += body[end].count("«") - body[end].count("»")
        if depth == 0 and body[end].endswith("»"):
            break
    text = body[start:end + 1]
    text[0] = text[0].removeprefix("« ")
    text[-1] = text[-1].removesuffix(" »")
    return text


def new_list(body: list[str]) -> list[str]:
    """The « Annexe N : … » items of an avenant's annexes article (its new list)."""
    return [p for p in body if re.match(r"^Annexe \d+ : ", p)]


def sheet_rows(data: bytes) -> list[list[list[str]]]:
    """The annexed sheets' tables (every table but the signature block's)."""
    return [t for t in tables(data) if not t[0][0].startswith("Pour le Département")]


# ---------------------------------------------------------------------------
# the programme's twice-amended convention (CCAS de Gamma, 2025-00345)


@pytest.fixture(scope="module")
def gamma():
    initial = rendered("programme-2025/phase-1")["actes/ccas-de-gamma/convention-nouvelle.docx"]
    first = rendered("programme-2025/phase-2")["actes/ccas-de-gamma/avenant-phase-1.docx"]
    second = rendered("programme-2025/phase-3")["actes/ccas-de-gamma/avenant-phase-1.docx"]
    out = consolidate(initial, [Applied(1, JUIN, first), Applied(2, OCTOBRE, second)], TEMPLATES)
    return initial, first, second, out


def test_twice_amended_convention_reads_as_initial_text_with_both_avenants(gamma):
    initial, first, second, out = gamma
    before, after = articles(initial), articles(out)
    assert list(after) == list(range(1, 14)) and [t for t, _ in after.values()] == [t for t, _ in before.values()]
    both = "(modifié par les avenants n°1 du 16 juin 2025 et n°2 du 13 octobre 2025)"
    # article 3: the period as the second avenant words it, the mention of both
    assert after[3][1] == [both, *quoted(by_title(second, "Période d'application de la convention"))]
    assert "du 1er janvier 2025 au 31 décembre 2026 inclus" in after[3][1][1]
    # article 4: its first alinéa is the second avenant's; the rest of the article as signed
    assert after[4][1] == [both, *quoted(by_title(second, "Coût de l'opération")), *before[4][1][1:]]
    assert after[4][1][1] == ("Pour la durée de la convention le coût total de l'opération est estimé à un montant "
                              "maximum de 26 000,00 €.")
    # article 12: the list of annexes of the second avenant
    assert after[12][1] == [both, before[12][1][0], *new_list(by_title(second, "Annexes"))]
    for n in (1, 2, 5, 6, 7, 8, 9, 10, 11, 13):
        assert after[n] == before[n], n
    # the first avenant's figures are gone (its text replaced, its mention kept)
    assert not any("20 000,00 €" in p or "30 juin 2026" in p for _, body in after.values() for p in body)


def test_sheet_title_and_signature_of_the_consolidated_version(gamma):
    initial, _, second, out = gamma
    text = paragraphs(out)
    assert "CONVENTION N°2025-00345 — VERSION CONSOLIDÉE" in text
    assert ("à l'issue de l'avenant n°2 du 13 octobre 2025 (intègre les avenants n°1 du 16 juin 2025 et n°2 du "
            "13 octobre 2025)") in text
    assert any(p.startswith("Version consolidée établie pour information ; elle n'est pas signée") for p in text)
    assert not any(STAMP.match(p) for p in text) and "CONVENTION" not in text  # not signed: no signature block
    assert sheet_rows(out) == sheet_rows(second) != sheet_rows(initial)  # the sheet as the second avenant joins it
    at = text.index("Annexe N°1 – CCAS DE GAMMA")
    assert text[at + 1] == "(modifiée par les avenants n°1 du 16 juin 2025 et n°2 du 13 octobre 2025)"
    footer = flat(docx.Document(io.BytesIO(out)).sections[0].footer.paragraphs[0].text)
    assert footer.startswith("Convention n°2025-00345 — version consolidée à l'issue de l'avenant n°2 du 13 octobre "
                             "2025 — page")


def test_consolidation_is_reproducible_and_keeps_the_convention_styles(gamma):
    initial, first, second, out = gamma
    assert consolidate(initial, [Applied(1, JUIN, first), Applied(2, OCTOBRE, second)], TEMPLATES) == out
    styles = {flat(p.text): p.style.name for p in docx.Document(io.BytesIO(out)).paragraphs}
    assert styles["Annexe 1 : « Projets collectifs jeunesse - FAJ collectif »"] == "List Bullet"
    with zipfile.ZipFile(io.BytesIO(out)) as z:
        core = z.read("docProps/core.xml").decode()
    assert "2025-10-13T00:00:00Z" in core and "version consolidée" in core


def test_redline_against_the_initial_text(gamma):
    initial, _, _, out = gamma
    red = consolidated_redline(initial, out, dt.datetime(2025, 10, 13))  # noqa: DTZ001 - a calendar date
    docx.Document(io.BytesIO(red))  # opens
    with zipfile.ZipFile(io.BytesIO(red)) as z:
        xml = z.read("word/document.xml").decode()
    deleted = flat("".join(re.findall(r"<w:delText[^>]*>([^<]*)</w:delText>", xml)))
    inserted = flat("".join(re.findall(r"<w:ins [^>]*>(.*?)</w:ins>", xml, re.S)))
    assert "<w:ins " in xml and "<w:del " in xml
    assert "Fait en deux exemplaires originaux" in deleted and "(Signature et cachet)" in deleted
    inserted = flat(re.sub(r"<[^>]+>", " ", inserted))
    assert "VERSION CONSOLIDÉE" in inserted and "modifié par les avenants" in inserted and "26" in inserted


def test_the_programme_consolidates_the_convention_it_created_and_amended(gamma):
    settings = Settings(source=FIXTURES / "programme-2025" / "phase-3")
    checked = check(settings)
    out, notes = consolidated_conventions(settings, checked, rendered("programme-2025/phase-3"), TEMPLATES,
                                          dt.datetime(2025, 10, 13), check)  # noqa: DTZ001 - a calendar date
    name = "actes/ccas-de-gamma/convention-2025-00345-consolidee"
    assert sorted(out) == [f"{name}-suivi.docx", f"{name}.docx"]
    assert out[f"{name}.docx"] == gamma[3]  # the text the phases' own acts give
    assert b"<w:ins " in zipfile.ZipFile(io.BytesIO(out[f"{name}-suivi.docx"])).read("word/document.xml")
    # Alpha's and Beta's conventions are older than the programme: no initial text, said
    assert len(notes) == 2 and all("texte initial inconnu" in n for n in notes)


# ---------------------------------------------------------------------------
# other shapes: objet de la convention, a cost in two periods, obligations, a voted period, annexes added and dropped


def test_fictif_convention_with_an_avenant_of_every_clause_then_a_voted_one():
    initial = rendered("fictif")["actes/ccas-de-gamma/convention-nouvelle.docx"]
    alpha = rendered("fictif")["actes/association-alpha/avenant-plateforme.docx"]  # objet, cout, obligations, annexes
    voted = rendered("phase-3-2026")["actes/entreprise-d-insertion-de-l-est/avenant-atelier.docx"]  # duree, cout
    out = consolidate(initial, [Applied(1, dt.date(2025, 3, 10), alpha), Applied(2, dt.date(2026, 3, 9), voted)],
                      TEMPLATES, numero="2025-00999")
    before, after = articles(initial), articles(out)
    one, two = "l'avenant n°1 du 10 mars 2025", "l'avenant n°2 du 9 mars 2026"
    assert after[1][1] == [f"(modifié par {one})", *quoted(by_title(alpha, "Objet de la convention"))]
    assert after[1][1][2:4] == ["Dispositif « Dynamisation des parcours : accueil des BRSA » (annexe 2)",
                                "Dispositif « Accompagnement équilibré social-professionnel » (annexe 3)"]
    assert after[3][1] == [f"(modifié par {two})", *quoted(by_title(voted, "Période d'application de la convention"))]
    # the first avenant's alinéa 1 spans two paragraphs (a cost in two periods); the second replaces both
    assert after[4][1] == ["(modifié par les avenants n°1 du 10 mars 2025 et n°2 du 9 mars 2026)",
                           *quoted(by_title(voted, "Coût de l'opération")), *before[4][1][1:]]
    items = by_title(alpha, "Obligations de l'organisme")[1:-1]
    assert items[0].startswith("10 – Utiliser les outils mis à disposition par France Travail")
    assert after[8][1] == [f"(complété par {one})", before[8][1][0], *items, *before[8][1][1:]]
    assert after[12][1] == ["(modifié par les avenants n°1 du 10 mars 2025 et n°2 du 9 mars 2026)",
                            before[12][1][0], "Annexe 2 : « Ateliers collectifs d'insertion »"]
    for n in (2, 5, 6, 7, 9, 10, 11, 13):
        assert after[n] == before[n], n
    text = paragraphs(out)
    assert "CONVENTION N°2025-00999 — VERSION CONSOLIDÉE" in text
    # annexes 2 and 3 came with the first avenant, the second kept only annex 2 (its own sheet)
    assert [p for p in text if p.startswith("Annexe N°")] == ["Annexe N°2 – ENTREPRISE D'INSERTION DE L'EST",
                                                              "Annexe N°2 (suite) — description du dispositif"]
    assert text[text.index("Annexe N°2 – ENTREPRISE D'INSERTION DE L'EST") + 1] == (  # gamma had only annex 1
        "(ajoutée par l'avenant n°1 du 10 mars 2025, modifiée par l'avenant n°2 du 9 mars 2026)")
    assert sheet_rows(out) == sheet_rows(voted)


def test_phase_3_2026_convention_with_an_annexes_only_avenant():
    docs = rendered("phase-3-2026")
    initial = docs["actes/ccas-d-arras/convention-nouvelle.docx"]
    annexes = docs["actes/union-des-familles/avenant-plateforme.docx"]  # objet, annexes, autres
    out = consolidate(initial, [Applied(1, dt.date(2026, 3, 9), annexes)], TEMPLATES)
    before, after = articles(initial), articles(out)
    listed = new_list(by_title(annexes, "Annexes"))
    assert listed and after[12][1] == ["(modifié par l'avenant n°1 du 9 mars 2026)", before[12][1][0], *listed]
    assert {n: a for n, a in after.items() if n != 12} == {n: a for n, a in before.items() if n != 12}
    labels = [p for p in paragraphs(annexes) if p.startswith("Annexe N°")]  # each sheet: conditions, description
    assert len([p for p in labels if " – " in p]) == len(listed)
    assert [p for p in paragraphs(out) if p.startswith("Annexe N°")] == labels
    assert sheet_rows(out) == sheet_rows(annexes)
    # the number comes from the avenant (the convention was not numbered when it was rendered)
    assert any(re.fullmatch(r"CONVENTION N°[\w-]+ — VERSION CONSOLIDÉE", p) for p in paragraphs(out))


# ---------------------------------------------------------------------------
# mapping by the clause texts, never silently skipping


def _templates(tmp_path: Path, clause: str, old: str, new: str) -> Path:
    folder = tmp_path / "templates"
    shutil.copytree(TEMPLATES, folder)
    path = folder / "clauses" / f"{clause}.md"
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return folder


def test_an_article_whose_title_the_lawyer_changed_is_still_mapped_by_the_article_it_cites(tmp_path, gamma):
    initial, first, _, _ = gamma
    folder = _templates(tmp_path, "cout", "titre: Coût de l'opération", "titre: Participation du Département")
    after = articles(consolidate(initial, [Applied(1, JUIN, first)], folder))
    assert after[4][1][:2] == ["(modifié par l'avenant n°1 du 16 juin 2025)",
                               "Pour la durée de la convention le coût total de l'opération est estimé à un montant "
                               "maximum de 20 000,00 €."]


def test_an_article_no_clause_text_explains_is_an_error_naming_it(tmp_path, gamma):
    initial, first, _, _ = gamma
    folder = _templates(tmp_path, "cout", "titre: Coût de l'opération\nmodifie: 4", "titre: Coût\nmodifie: 5")
    with pytest.raises(ConsolidationError, match=r"avenant n°1, article 3 « Coût de l.opération » : aucun texte "
                                                 r"de clause"):
        consolidate(initial, [Applied(1, JUIN, first)], folder)


def test_an_avenant_without_its_quoted_text_is_an_error(tmp_path, gamma):
    initial, first, _, _ = gamma
    with zipfile.ZipFile(io.BytesIO(first)) as z:
        parts = {n: z.read(n) for n in z.namelist()}
    xml = parts["word/document.xml"].decode()
    assert xml.count("«\u202fLa présente convention s’applique") == 1
    parts["word/document.xml"] = xml.replace("«\u202fLa présente convention s’applique",
                                             "La présente convention s’applique").encode()
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for n, b in parts.items():
            z.writestr(n, b)
    with pytest.raises(ConsolidationError, match=r"avenant n°1, article 2 « Période d.application de la convention »"
                                                 r" : pas de texte entre guillemets"):
        consolidate(initial, [Applied(1, JUIN, buf.getvalue())], TEMPLATES)


# ---------------------------------------------------------------------------
# on paper


@pytest.mark.libreoffice
@needs_lo
def test_consolidated_convention_as_pdf(gamma):
    from deliberation.bundle import pdf
    from deliberation.render.watermark import for_converter

    _, _, _, out = gamma
    word, marked = for_converter(out)
    data = pdf.convert({"conso.docx": word}, pdf.ConvertOptions(jobs=1))["conso.pdf"]
    pages = [flat(p.extract_text()) for p in PdfReader(io.BytesIO(data)).pages]
    assert marked  # the initial convention's PROJET watermark stays (its texts are reconstructions)
    assert len(pages) == 5  # the sheet: its conditions (page 4), the dispositif's description (page 5)
    assert "Annexe N°1 (suite) — description du dispositif" in pages[4]
    assert "CONVENTION N°2025-00345 — VERSION CONSOLIDÉE" in pages[0]
    assert "(modifié par les avenants n°1 du 16 juin 2025 et n°2 du 13 octobre 2025)" in pages[1]
    assert "26 000,00 €" in pages[1] and "31 décembre 2026" in pages[1]
    assert "Annexe N°1 – CCAS DE GAMMA" in pages[3] and "Signature et cachet" not in " ".join(pages)
