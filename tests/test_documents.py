"""Issue 3: the Word documents say the right things (opened with python-docx, never byte-compared)."""

from __future__ import annotations

import re
import subprocess
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import SOFFICE

from deliberation import pipeline
from deliberation.cli import main
from deliberation.render.inspect import docx_lines, docx_text, typed
from deliberation.settings import Settings
from deliberation.typo import typeset

FORBIDDEN = re.compile(r"\{\{|\{%|%\}|\}\}|\b[Xx]{2,}\b|\bNone\b|\[\[")


def build(dossier, out: Path):
    return pipeline.build(Settings(source=dossier.root, out_dir=out))


@pytest.fixture
def built_fictif(fictif, tmp_path):
    out = tmp_path / "out"
    result = build(fictif, out)
    assert result.written, result.checked.findings
    return out


def lines_of(out: Path, stem_part: str) -> list[str]:
    (path,) = [p for p in out.glob("*.docx") if stem_part in p.name]
    return [typed(x) for x in docx_lines(path)]


@pytest.mark.slow
def test_bundle_names_are_numbered_and_stable(built_fictif):
    assert sorted(p.name for p in built_fictif.iterdir()) == [
        "01-rapport.docx",
        "02-deliberation.docx",
        "03-annexe-1-thematique-1.docx",
        "04-annexe-2-thematique-4.docx",
        "05-annexe-3-repartition-financiere.docx",
        "06-annexe-4-avenant-accueil.docx",
        "07-annexe-5-avenant-valorisation.docx",
        "CHANGES.md",
        "actes",
        "annexe-4.xlsx",
        "chiffres.json",
        "manifest.json",
    ]
    assert sorted(str(p.relative_to(built_fictif / "actes")) for p in (built_fictif / "actes").rglob("*.*")) == [
        "association-alpha/avenant-plateforme.docx",
        "association-alpha/avenant-plateforme.revue.md",
        "beta-emploi/avenant-plateforme.docx",
        "beta-emploi/avenant-plateforme.revue.md",
        "ccas-de-gamma/convention-nouvelle.docx",
        "ccas-de-gamma/convention-nouvelle.revue.md",
        "registre.xlsx",  # the register of acts
    ]


def test_no_template_residue(built_fictif):
    for path in built_fictif.rglob("*.docx"):
        text = docx_text(path)
        assert not FORBIDDEN.search(text), (path.name, FORBIDDEN.search(text))


def test_rapport_budget_table_and_thematiques(built_fictif):
    lines = lines_of(built_fictif, "rapport")
    assert "C02-446A05 | 6568/93446 | Indemnisation des organismes référents | 1 000 000,00 | 500 000,00 | " \
           "50 000,00 | 450 000,00" in lines
    assert "C02-428C01 | 6568/93428 | Fonds d'aide aux jeunes | 130 000,00 | 90 000,00 | 12 000,00 | 78 000,00" in lines
    assert "Deux dispositifs sont proposés pour un total de 50 000 € (Annexes 1 et 3)." in lines
    assert "Un dispositif est proposé pour un total de 12 000 € (Annexes 2 et 3)." in lines
    assert "REUNION DU 10 MARS 2025" in lines
    assert "La 2e Commission - Solidarités humaines a émis un avis favorable sur ce rapport lors de sa réunion " \
           "du 24/02/2025." in lines


def test_deliberation_articles_are_contiguous_and_cite_the_annexes(built_fictif):
    lines = lines_of(built_fictif, "deliberation")
    numbers = [int(m.group(1)) for x in lines if (m := re.fullmatch(r"Article (\d+) :", x))]
    assert numbers == [1, 2, 3, 4, 5]
    text = "\n".join(lines)
    assert "pour un montant total de 50 000 € ainsi que la répartition financière proposée en annexe 3 à la " \
           "présente délibération." in text
    assert "dans les termes des projets joints en annexes 4 et 5 à la présente délibération." in text
    assert "Les dépenses versées en application des articles 1 et 2 de la présente délibération" in text
    assert "C02-428C01 | 6568/93428 | Fonds d'aide aux jeunes | 130 000,00 | 12 000,00" in lines
    assert "Monsieur Louis PETIT, intéressé à l'affaire, n'a pas donné de délégation de vote pour ce rapport." in lines
    # the vote as the seed lays it out: one line each for Pour, Contre, Abstention and the absents
    vote = lines.index("Pour : 5 voix (Groupe A ; Groupe B)")
    assert lines[vote:vote + 4] == ["Pour : 5 voix (Groupe A ; Groupe B)", "Contre : 0 voix",
                                    "Abstention : 1 (Groupe A)", "Absents sans délégation de vote : 1 (Groupe B)"]
    assert "ARRAS, le 10 mars 2025" in lines


@pytest.mark.slow
def test_articles_follow_from_what_is_present(fictif, tmp_path):
    # no new convention in the phase: the « conventions » article disappears and numbers close up
    fictif.edit("thematiques/t4.yaml", "convention: nouvelle", "convention: plateforme")
    fictif.edit("thematiques/t4.yaml", "structure: gamma", "structure: alpha")
    fictif.edit("thematiques/t4.yaml", "document: convention-type", "document: avenant-accueil")
    out = tmp_path / "out"
    assert build(fictif, out).written
    text = "\n".join(lines_of(out, "deliberation"))
    assert "les conventions correspondantes" not in text
    assert "Article 4 :\nLes dépenses versées en application des articles 1 et 2" in text
    assert "Article 5" not in text


@pytest.mark.slow
def test_repartition_rows_subtotals_and_totals(built_fictif):
    lines = lines_of(built_fictif, "repartition")
    assert lines[0] == "ANNEXE 3 - APPEL A PROJETS DPID 2025 - REPARTITION FINANCIERE DES OPERATIONS Phase 2"
    # the opération's band, repeated at the top of each page its table runs on, then its lines
    band = lines.index(" | ".join(["Opération 1 : Dynamisation des parcours : accueil des BRSA"] * 5))
    assert lines[band + 1] == "Arrageois | Association Alpha | " \
           "Valorisation d'1 ETP pour la réalisation de 400 diagnostics | - € | Modèle d'avenant n°4"
    assert "Calaisis | Beta Emploi | Valorisation de 2 ETP pour la réalisation de 800 diagnostics | - € | " \
           "Modèle d'avenant n°5" in lines  # fictif's models have no number of their own: their annex number
    assert "TOTAL Opération 1 |  |  | - € | " in lines
    assert "TOTAL Opération 2 |  |  | 50 000,00 € | " in lines
    assert "TOTAL Thématique 1 |  |  | 50 000,00 € | " in lines
    assert "TOTAL Thématique 4 |  |  | 12 000,00 € | " in lines
    totals = [x for x in lines if x.startswith("TOTAL")]
    assert all(not x.rstrip(" |").endswith("|") and "€" in x for x in totals)  # never an empty TOTAL row


def test_narrative_markdown_and_figures(fictif, tmp_path):
    fictif.edit(
        "thematiques/t1.yaml",
        "Il est proposé un avenant pour *2 structures*.",
        "Il est proposé un avenant pour **[[structures]] structures**, soit [[diagnostics]] diagnostics "
        "[[periode]], pour [[montant]].",
    )
    out = tmp_path / "out"
    assert build(fictif, out).written
    lines = lines_of(out, "thematique-1")
    assert "Il est proposé un avenant pour deux structures, soit 1 200 diagnostics du 1er janvier 2025 au " \
           "31 décembre 2025, pour 0 €." in lines
    assert "premier point ;" in lines and "second point." in lines
    from docx import Document

    doc = Document(str(next(out.glob("*thematique-1.docx"))))
    styles = {typed(p.text): p.style.name for p in doc.paragraphs}
    assert styles["premier point ;"] == "List Bullet"
    bold = [r.text for p in doc.paragraphs for r in p.runs if r.bold]
    assert "deux structures" in bold


def test_unknown_narrative_figure_is_a_finding(fictif):
    fictif.edit("thematiques/t1.yaml", "*2 structures*", "[[structurs]] structures")
    f = [f for f in fictif.check() if f.code == "narrative.variable"]
    assert f and "structurs" in f[0].message


@pytest.mark.libreoffice
def test_hostile_text_is_rendered_literally(fictif, tmp_path):
    hostile = "A & B <c> {{ 7*7 }} {% if x %} </w:t> ]]>"
    fictif.edit("structures.yaml", "nom: Beta Emploi", f"nom: '{hostile}'")
    fictif.edit("thematiques/t1.yaml", "description: Valorisation de 2 ETP pour la réalisation de 800 diagnostics",
                f"description: '{hostile} — Valorisation'")
    fictif.edit("thematiques/t1.yaml", "Il est proposé un avenant", f"{hostile} Il est proposé un avenant")
    out = tmp_path / "out"
    assert build(fictif, out).written
    rep = docx_text(next(out.glob("*repartition*.docx")))
    assert rep.count(hostile) == 2
    assert "49" not in rep
    narrative = docx_text(next(out.glob("*thematique-1.docx")))
    assert "A & B <c> {{ 7*7 }} {% if x %} </w:t> ]]>" in narrative
    if SOFFICE:
        conv = subprocess.run(
            ["soffice", "--headless", "--convert-to", "txt:Text", "--outdir", str(tmp_path / "txt"),
             str(next(out.glob("*repartition*.docx")))],
            capture_output=True, text=True, timeout=180,
        )
        assert conv.returncode == 0, conv.stderr
        txt = next((tmp_path / "txt").glob("*.txt")).read_text(encoding="utf-8-sig")
        assert hostile in txt


@pytest.mark.libreoffice  # a build with PDF: LibreOffice is started ahead
def test_build_refuses_a_dossier_with_errors_and_keeps_the_previous_bundle(fictif, tmp_path):
    out = tmp_path / "out"
    assert build(fictif, out).written
    before = {str(p): p.read_bytes() for p in out.rglob("*") if p.is_file()}
    fictif.edit("thematiques/t1.yaml", "fin: 30/06/2025", "fin: 31/06/2025")
    result = CliRunner().invoke(main, ["build", str(fictif.root), "-o", str(out)])
    assert result.exit_code == 1
    assert "date.inexistante" in result.output
    assert {str(p): p.read_bytes() for p in out.rglob("*") if p.is_file()} == before
    assert not list(tmp_path.glob(".out.*"))


@pytest.mark.parametrize(("name", "paragraph", "message"), [
    ("rapport.docx", "{{ variable_inconnue }}", r"rapport\.docx.*variable_inconnue"),
    # docxtpl drops the whole paragraph of a {%p %} tag: text beside it would vanish
    ("avenant.docx", "Texte {%p if acte.projet %} voisin",
     r"avenant\.docx.*\{%p if acte\.projet %\}.*seule dans son paragraphe"),
])
def test_broken_template_stops_the_build(fictif, tmp_path, name, paragraph, message):
    from conftest import templates_copy

    from deliberation.findings import TemplateError
    from deliberation.render.documents import render_documents

    templates = templates_copy(tmp_path, name, paragraph)
    checked = pipeline.check(Settings(source=fictif.root))
    with pytest.raises(TemplateError, match=message):
        render_documents(checked, templates)


@pytest.mark.slow
def test_build_is_deterministic(fictif, tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    assert build(fictif, a).written and build(fictif, b).written
    files = [p for p in a.rglob("*") if p.is_file()]
    # 10 Word files, 3 review sheets, chiffres.json, annexe-4.xlsx, actes/registre.xlsx, CHANGES.md, manifest.json
    assert len(files) == 18
    for p in files:
        assert p.read_bytes() == (b / p.relative_to(a)).read_bytes(), p.name


def test_amount_in_words():
    from deliberation.render.words import amount_words

    assert amount_words(Decimal("712000")) == "sept cent douze mille euros"
    assert amount_words(Decimal("59220")) == "cinquante-neuf mille deux cent vingt euros"
    assert amount_words(Decimal("338226.74")) == (
        "trois cent trente-huit mille deux cent vingt-six euros et soixante-quatorze centimes"
    )
    assert amount_words(Decimal("180080")) == "cent quatre-vingt mille quatre-vingts euros"
    assert amount_words(Decimal("71")) == "soixante et onze euros"


@pytest.fixture(scope="module")
def phase6_bundle(tmp_path_factory):
    root = Path(__file__).resolve().parents[1]
    out = tmp_path_factory.mktemp("phase6") / "out"
    result = pipeline.build(Settings(source=root / "fixtures" / "phase-6-2024", out_dir=out))
    assert result.written
    return out, result.checked


@pytest.mark.slow
def test_phase6_documents_have_no_residue(phase6_bundle):
    out, _ = phase6_bundle
    names = sorted(p.name for p in out.glob("*.docx"))
    assert names == [
        "01-rapport.docx", "02-deliberation.docx", "03-annexe-1-thematique-1.docx", "04-annexe-2-thematique-3.docx",
        "05-annexe-3-thematique-4.docx", "06-annexe-4-repartition-financiere.docx",
        "07-annexe-5-avenant-5.docx", "08-annexe-6-avenant-6.docx", "09-annexe-7-avenant-7.docx",
        "10-annexe-8-avenant-8.docx", "11-annexe-9-avenant-9.docx", "12-annexe-10-avenant-10.docx",
    ]
    for p in out.rglob("*.docx"):
        assert not FORBIDDEN.search(docx_text(p)), p.name


def test_phase6_every_repartition_row_and_subtotal(phase6_bundle):
    from deliberation.fmt import money

    out, checked = phase6_bundle
    lines = lines_of(out, "repartition")
    rows = [x.split(" | ") for x in lines if " | " in x]
    d, fig = checked.dossier, checked.figures
    for _t, _o, ligne in d.lignes():
        name = d.structures[ligne.structure].nom
        amount = typed(money(ligne.montant, dash_zero=True))
        assert [ligne.territoire, name, typed(typeset(ligne.description)), amount] in [r[0:4] for r in rows], ligne.id
    for t in d.thematiques:
        for o in t.operations:
            total = typed(money(fig.of(o).montant, dash_zero=True))
            assert f"TOTAL Opération {o.numero} |  |  | {total} | " in lines
        assert f"TOTAL Thématique {t.numero} |  |  | {typed(money(fig.of(t).montant, dash_zero=True))} | " in lines
    assert "TOTAL Thématique 4 |  |  | 59 200,00 € | " in lines
    numero = {"avenant-5": 5, "avenant-6": 6, "avenant-7": 7, "avenant-8": 8, "avenant-9": 9, "avenant-10": 10}
    for _t, _o, ligne in d.lignes():
        expected = f"Modèle d'avenant n°{numero[ligne.document]}" if ligne.document in numero else "Convention type"
        matching = [r for r in rows if r[2] == typed(typeset(ligne.description))]
        assert matching and all(r[4].startswith(expected) for r in matching), (ligne.id, expected, matching)
    # per opération a table: its headings and its band (both repeated on each page), its lines, its total;
    # the thématique's total in its last opération's table
    bands = [r for r in rows if len(set(r)) == 1 and r[0].startswith("Opération ")]
    assert [b[0] for b in bands] == [f"Opération {o.numero} : {typed(typeset(o.titre))}" for t in d.thematiques
                                     for o in t.operations]
    assert len(rows) == 7 + 7 + 31 + 7 + 3  # headings, bands, lines, operation subtotals, thématique totals


def test_phase6_deliberation_and_rapport_figures(phase6_bundle):
    out, _ = phase6_bundle
    delib = lines_of(out, "deliberation")
    assert [x for x in delib if re.fullmatch(r"Article \d+ :", x)] == [f"Article {n} :" for n in range(1, 7)]
    text = "\n".join(delib)
    assert "dans les termes des projets joints en annexes 5, 6, 7, 8, 9 et 10 à la présente délibération." in text
    assert "Les dépenses versées en application des articles 1, 2 et 3 de la présente délibération" in text
    for row in ("C02-446A05 | 6568/93446 | Indemnisation des organismes référents | 8 589 450,00 | 712 000,00",
                "C01-444H02 | 6568/93444 | Appui aux parcours intégrés 2021-2027 | 13 789 480,46 | 99 998,00",
                "C02-428C01 | 6568/93428 | Fonds d'aide aux jeunes | 130 000,00 | 59 200,00"):
        assert row in delib
    rapport = lines_of(out, "rapport")
    assert "C02-446A05 | 6568/93446 | Indemnisation des organismes référents | 8 589 450,00 | 915 067,73 | " \
           "712 000,00 | 203 067,73" in rapport
    assert "C02-428C01 | 6568/93428 | Fonds d'aide aux jeunes | 130 000,00 | 90 500,00 | 59 200,00 | 31 300,00" \
        in rapport
    assert "Quatre dispositifs sont proposés pour un total de 712 000 € (Annexes 1 et 4)." in rapport
    assert "Un dispositif est proposé pour un total de 59 200 € (Annexes 3 et 4)." in rapport
    narrative = "\n".join(lines_of(out, "thematique-1"))
    assert "pour huit structures pour la mise en œuvre de cette mission, pour la réalisation d'un total de 4 783 " \
           "diagnostics, sur la période du 1er janvier 2025 au 31 décembre 2025." in narrative
    assert "pour un montant total de 567 150 €, pour la prise en charge de 2 706 places" in narrative


def test_numbered_lists_and_italics(fictif, tmp_path):
    fictif.edit("thematiques/t1.yaml", "      - premier point ;\n      - second point.",
                "      1. premier *point* ;\n      2. second point.")
    out = tmp_path / "out"
    assert build(fictif, out).written
    from docx import Document

    doc = Document(str(next(out.glob("*thematique-1.docx"))))
    styles = {typed(p.text): p.style.name for p in doc.paragraphs}
    assert styles["premier point ;"] == "List Number"
    assert [r.text for p in doc.paragraphs for r in p.runs if r.italic] == ["2 structures", "point"]
