"""Numbers, ranges and periods in the texts (``texte.*``): found where they are written, and nothing else."""

from __future__ import annotations

import datetime as dt
import shutil
from decimal import Decimal

import pytest
from conftest import FIXTURES, Dossier

from deliberation import pipeline
from deliberation.findings import Severity
from deliberation.mentions import read
from deliberation.settings import Settings

CODES = ("texte.intervalle", "texte.nombre", "texte.chiffre", "texte.periode", "texte.duree")


def _texts(findings):
    return [f for f in findings if f.code in CODES]


def _where(f) -> tuple[str, str, int]:
    return f.code, f.loc.file.rsplit("/", 1)[-1], f.loc.line


def test_fictif_inverted_range_number_forms_and_contradicted_period_are_found_and_nothing_else(fictif):
    """Verify each injected mistake is found at its line, with its figures, and nothing else is reported."""
    fictif.edit("thematiques/t4.yaml", "pour 20 jeunes", "pour 20 jeunes de 25 à 16 ans")
    fictif.edit("thematiques/t1.yaml", "dans le rapport cadre.", "dans le rapport cadre : 1200 diagnostics.")
    fictif.edit("thematiques/t1.yaml", "pour *2 structures*.", "pour *2 structures*, soit 1 200 diagnostics.")
    fictif.edit("thematiques/t1.yaml", "- second point.", "- second point, du 1er janvier au 31 décembre 2025.")
    found = fictif.check()
    assert sorted(_where(f) for f in found) == sorted([
        ("texte.intervalle", "t4.yaml", fictif.line_of("thematiques/t4.yaml", "de 25 à 16 ans")),
        ("texte.nombre", "t1.yaml", fictif.line_of("thematiques/t1.yaml", ": 1200 diagnostics")),
        ("texte.periode", "t1.yaml", fictif.line_of("thematiques/t1.yaml", "second point, du 1er")),
    ])
    by = {f.code: f for f in found}
    assert by["texte.intervalle"].severity is Severity.ERROR
    assert "« de 25 à 16 ans »" in by["texte.intervalle"].message
    n = by["texte.nombre"]
    assert n.severity is Severity.WARNING
    assert "« 1200 diagnostics » (thematiques/t1.yaml:4)" in n.message
    assert "« 1 200 diagnostics » (thematiques/t1.yaml:14)" in n.message
    p = by["texte.periode"]
    assert "opération 1.2, narrative" in p.message
    assert "du 01/01/2025 au 31/12/2025" in p.message
    assert "période couverte par les lignes du 01/01/2025 au 30/06/2025" in p.message
    assert "fin : 184 jours plus tôt" in p.message


def test_decimal_forms_are_one_warning_each_listing_every_place(fictif):
    """Verify « 1, 2 ETP » and « 2.0 ETP » give one warning per form, every occurrence listed, and no figure error."""
    fictif.edit("thematiques/t1.yaml", "Valorisation de 2 ETP pour", "Valorisation de 2.0 ETP pour")
    fictif.edit("thematiques/t1.yaml", "Financement de 2 ETP,", "Financement de 2.0 ETP,")
    fictif.edit("thematiques/t1.yaml", "Valorisation d'1 ETP pour", "Valorisation de 1, 0 ETP pour")
    found = fictif.check()
    assert [f.code for f in found] == ["texte.nombre", "texte.nombre"]
    point = next(f for f in found if "point" in f.message)
    assert "(2 fois)" in point.message and point.loc.line == fictif.line_of("thematiques/t1.yaml", "de 2.0 ETP")
    assert f"(thematiques/t1.yaml:{fictif.line_of('thematiques/t1.yaml', 'de 2.0 ETP,')})" in point.message
    assert "écrire « 2,0 ETP »" in point.message
    spaced = next(f for f in found if "espace après la virgule" in f.message)
    assert "« 1, 0 ETP »" in spaced.message and "écrire « 1,0 ETP »" in spaced.message


@pytest.mark.parametrize(("old", "new", "code", "said"), [
    ("Valorisation de 2 ETP pour la réalisation de 800", "Valorisation de 3 ETP pour la réalisation de 800",
     "texte.chiffre", "le texte dit « 3 ETP », la ligne saisit 2 ETP (1 ETP de moins)"),
    ("réalisation de 800 diagnostics", "réalisation de 900 diagnostics",
     "texte.chiffre", "le texte dit « 900 diagnostics », la ligne saisit 800 diagnostics (100 diagnostics de moins)"),
    ("soit un maximum de 140 places", "soit un maximum de 140 places du 01/01/25 au 31/12/25",
     "texte.periode", "la période de la ligne du 01/01/2025 au 30/06/2025"),
    ("soit un maximum de 140 places", "soit un maximum de 140 places, pour une durée d'un an",
     "texte.duree", "le texte dit « pour une durée d'un an » (12 mois), alors que la période de la ligne"),
    ("soit un maximum de 140 places", "soit un maximum de 140 places pour l'année 2025",
     "texte.periode", "« pour l'année 2025 » (du 01/01/2025 au 31/12/2025)"),
])
def test_a_description_contradicting_its_line_is_an_error_at_the_description(fictif, old, new, code, said):
    """Verify an ETP, a volume, a period or a duration a description states is held to the line's own fields."""
    fictif.edit("thematiques/t1.yaml", old, new)
    (f,) = fictif.check()
    assert (f.code, f.severity) == (code, Severity.ERROR)
    assert f.loc.line == fictif.line_of("thematiques/t1.yaml", new)
    assert said in f.message, f.message


@pytest.mark.parametrize("text", [
    "Financement de 2 ETP, soit un maximum de 140 places pour la période du 01/01/2025 au 30/06/2025",
    "Financement de deux ETP pendant 6 mois, soit de 120 à 140 places, entre 50 et 140 places",
    "Financement de 2 ETP (1,5 ETP + 0,5 ETP), soit un maximum de 140 places du 1er janvier au 30 juin 2025",
    "Financement de 2 ETP, ramené de 160 à 140 places, du 1er au 30 juin 2025 puis du 1er janvier au 30 juin 2025",
    "Financement de 2 ETP, soit un maximum de 140 places, prolongé de six mois",
])
def test_consistent_or_unclear_descriptions_are_not_reported(fictif, text):
    """Verify true figures, parts that add up, changes, several periods or an extension give no finding."""
    fictif.edit("thematiques/t1.yaml", "Financement de 2 ETP, soit un maximum de 140 places", text)
    assert fictif.check() == []


def test_a_text_figure_its_annonce_declares_is_reported_once_by_the_annonce(fictif):
    """Verify the narrative's period, declared alike by an annonce, is the annonce's finding only."""
    fictif.edit("thematiques/t1.yaml", "pour *2 structures*.", "pour *2 structures* du 1er janvier au 30 juin 2025.")
    (f,) = fictif.check()  # the annonce says 31/12/2025, as the lines: the text alone contradicts them
    assert f.code == "texte.periode" and "opération 1.1" in f.message
    fictif.edit("thematiques/t1.yaml", "{periode: {debut: 01/01/2025, fin: 31/12/2025}",
                "{periode: {debut: 01/01/2025, fin: 30/06/2025}")
    assert [f.code for f in fictif.check()] == ["annonce.periode"]


def test_a_narrative_figure_is_held_to_its_scope_unless_cited_or_uncounted(fictif):
    """Verify « 3 structures » against 2, but no finding for a unit the lines do not count or a cited figure."""
    fictif.edit("thematiques/t4.yaml", "de financer une structure.", "de financer deux structures, 12 familles.")
    (f,) = fictif.check()
    assert f.code == "texte.chiffre"
    assert "le texte dit « deux structures », décompte des lignes 1 structure (1 structure de moins)" in f.message
    fictif.edit("thematiques/t4.yaml", "deux structures", "[[structures]] structures ou deux structures")
    assert fictif.check() == []


@pytest.fixture
def phase3(tmp_path) -> Dossier:
    """A copy of the phase-3-2026 dossier (other shape: thématiques 2 and 5, a line extended by six months)."""
    dest = tmp_path / "phase-3-2026"
    shutil.copytree(FIXTURES / "phase-3-2026", dest)
    return Dossier(dest)


def test_phase3_inverted_range_point_decimal_and_duration_are_found_and_nothing_else(phase3):
    """Verify on a dossier of another shape: each injected mistake found at its line, nothing else added."""
    before = phase3.check()
    phase3.edit("thematiques/t2.yaml", "Financement de 0,5 ETP d'animation d'ateliers collectifs",
                "Financement de 0.5 ETP d'animation d'ateliers collectifs (entre 40 et 20 % du temps)")
    phase3.edit("thematiques/t2.yaml", "Valorisation de 2 ETP d'accompagnement renforcé",
                "Valorisation de 2 ETP d'accompagnement renforcé pour une durée de 18 mois")
    after = phase3.check()
    added = [f for f in after if f not in before]
    line = phase3.line_of("thematiques/t2.yaml", "entre 40 et 20 %")
    assert sorted(_where(f) for f in added) == sorted([
        ("texte.intervalle", "t2.yaml", line),
        ("texte.nombre", "t2.yaml", line),
        ("texte.duree", "t2.yaml", phase3.line_of("thematiques/t2.yaml", "durée de 18 mois")),
    ])
    assert len(after) == len(before) + 3
    by = {f.code: f for f in added}
    assert "« entre 40 et 20 % »" in by["texte.intervalle"].message
    assert "« 0.5 ETP »" in by["texte.nombre"].message
    assert "(18 mois), alors que la période de la ligne du 01/01/2026 au 31/12/2026 dure 12 mois (6 mois de moins)" \
        in by["texte.duree"].message


@pytest.mark.parametrize("name", ["phase-6-2024", "phase-6-2024-amended", "fictif", "phase-3-2026"])
def test_corrected_dossiers_have_no_text_finding(name):
    """Verify the corrected example and the other clean dossiers report no range, number or figure in the texts."""
    assert _texts(pipeline.check(Settings(source=FIXTURES / name)).findings) == []


def test_as_written_reports_the_seed_mistakes():
    """Verify the as-written phase 6: « 18 à 15 ans » (l.251), « 1, 2 ETP » (l.212), « 1200 » (l.213, 137)."""
    found = _texts(pipeline.check(Settings(source=FIXTURES / "phase-6-2024-as-written")).findings)
    assert sorted(f.code for f in found) == ["texte.intervalle", "texte.nombre", "texte.nombre"]
    assert any("« de 18 à 15 ans »" in f.message for f in found)
    assert any("« 1, 2 ETP »" in f.message for f in found)
    assert any("« 1200 diagnostics »" in f.message and "« 4 783 diagnostics »" in f.message for f in found)


@pytest.mark.parametrize(("text", "periods"), [
    ("du 01/01/25 au 31/12/2025", [("2025-01-01", "2025-12-31")]),
    ("sur la période du 1er janvier au 30 juin 2025", [("2025-01-01", "2025-06-30")]),
    ("du 01 Janvier 2025 au 31 décembre 2025", [("2025-01-01", "2025-12-31")]),
    ("du 1er au 30 juin 2025", [("2025-06-01", "2025-06-30")]),
    ("du 1er novembre au 31 octobre 2025", [("2024-11-01", "2025-10-31")]),
    ("pour l'année 2026", [("2026-01-01", "2026-12-31")]),
    ("du 01/01/2025 au 31/06/2025", []),  # an impossible date is no period (the loader reports it in a field)
])
def test_periods_in_any_french_form(text, periods):
    """Verify the forms of a period a text writes, the year shared by both ends when written once."""
    got = [(p.low.isoformat(), p.high.isoformat()) for p in read(text).periods]
    assert got == periods


def test_reading_numbers_ranges_and_durations():
    """Verify quantities, their written form, ranges (inverted or not, changes left out) and durations."""
    r = read("Valorisation de 1, 2 ETP et d'1.5 ETP pour 1200 diagnostics, 4 783 places, 59 220€ ; "
             "entre 50 et 150 jeunes, de 18 à 15 ans, passé de 20 à 15 places ; opération d'un an")
    assert [(q.text, q.value, q.form) for q in r.quantities] == [
        ("1, 2 ETP", Decimal("1.2"), "spaced"), ("1.5 ETP", Decimal("1.5"), "point"),
        ("1200 diagnostics", 1200, "plain"), ("4 783 places", 4783, "grouped"), ("59 220€", 59220, "grouped"),
        ("15 places", 15, "plain")]
    assert [(x.text, x.inverted) for x in r.ranges] == [("entre 50 et 150 jeunes", False), ("de 18 à 15 ans", True)]
    assert [(d.text, d.months) for d in r.durations] == [("opération d'un an", 12)]
    inverted = read("du 01/07/2025 au 01/01/2025").periods[0]
    assert inverted.inverted and inverted.low == dt.date(2025, 7, 1)
