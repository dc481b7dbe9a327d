"""Issue 18: the second fixture phase (phase-3-2026), unlike the example in shape.

Its corrected variant has no finding and builds ``--final`` with no blank (templates declared adopted);
its variant with errors fires each new rule where it should and nowhere else (golden findings).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from conftest import FIXTURES, adopted_templates, cli
from test_fixtures import golden

from deliberation import pipeline
from deliberation.render import inspect
from deliberation.render.inspect import typed
from deliberation.settings import Settings

PHASE = FIXTURES / "phase-3-2026"
ERRORS = FIXTURES / "phase-3-2026-erreurs"


def text_of(path: Path) -> str:
    return "\n".join(typed(x) for x in inspect.docx_lines(path))


@pytest.fixture(scope="module")
def final(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("phase3")
    out = tmp / "out"
    result = pipeline.build(Settings(source=PHASE, out_dir=out, final=True, templates=adopted_templates(tmp)))
    assert result.written, [f.message for f in result.checked.findings]
    return out


def test_corrected_phase_has_no_finding():
    out = cli("check", str(PHASE))
    assert out.returncode == 0 and out.stdout == "" and "0 erreur(s), 0 avertissement(s)" in out.stderr


def test_errors_variant_fires_each_rule_once_golden():
    out = cli("check", "-v", "fixtures/phase-3-2026-erreurs")  # every finding, one per line
    assert out.returncode == 1
    assert out.stdout == golden("phase-3-2026-erreurs/findings.txt", out.stdout)
    codes = sorted(line.rsplit("[", 1)[1].rstrip("]") for line in out.stdout.splitlines())
    assert codes == ["acte.convention_echue", "acte.echeancier_lacune", "acte.modele_divergent",
                     "acte.modeles_multiples", "convention.montant_annexes", "fiche.periode_contraire",
                     "fiche.periode_contraire", "modele.numero", "modele.terme"]


def test_final_build_has_no_blank_and_no_projet(final):
    for p in sorted(final.rglob("*.docx")):
        text = text_of(p)
        assert not re.search(r"\bPROJET\b", text) and "à compléter" not in text, p
        if "-avenant-" not in p.name:  # the voted models show their blanks « [coût total] »; nothing else does
            assert "[" not in text, p


def test_annex_numbers_differ_from_model_numbers(final):
    delib = text_of(final / "02-deliberation.docx")
    assert "dans les termes des projets joints en annexes 4, 5 et 6 à la présente délibération." in delib
    repartition = text_of(final / "05-annexe-3-repartition-financiere.docx")
    for n in (1, 2, 3):
        assert f"Modèle d'avenant n°{n}" in repartition
    assert "Modèle d'avenant n°4" not in repartition and "Modèle d'avenant n°6" not in repartition
    assert sorted(p.name for p in final.glob("*-annexe-[456]-*.docx")) == [
        "06-annexe-4-avenant-1.docx", "07-annexe-5-avenant-2.docx", "08-annexe-6-avenant-3.docx"]


def test_two_annexes_show_their_own_part(final):
    omega = text_of(final / "actes" / "association-omega" / "avenant-plateforme.docx")
    two, three = omega.split("Annexe N°2 – ")[1].split("Annexe N°3 – ")
    assert "Coût | 60 000,00 €" in two and "Coût | 40 000,00 € + 20 000,00 €" in three
    assert "Pour l'Association Oméga," in omega


def test_extension_with_cost_under_the_voted_text(final):
    est = text_of(final / "actes" / "entreprise-d-insertion-de-l-est" / "avenant-atelier.docx")
    assert "modifier les articles 3 ; 4 et 12 de la convention initiale n°2025-00420" in est
    assert "« La présente convention s'applique sur la période du 1er janvier 2025 au 31 décembre 2026 inclus." in est
    assert "« Pour la période du 1er janvier 2025 au 31 décembre 2026, le coût total de l'opération est estimé à un " \
           "montant maximum de 80 000,00 €, dont 30 000,00 € pour la période du 1er juillet 2026 au 31 décembre " \
           "2026. »" in est
    assert "Pour l'Entreprise d'insertion de l'Est," in est
    sheet = (final / "actes" / "entreprise-d-insertion-de-l-est" / "avenant-atelier.revue.md").read_text("utf-8")
    assert "- Conformité au modèle avenant-2 : conforme — comparé mot à mot (texte voté)" in sheet


def test_valorisation_only_and_day_after_seance(final):
    atelier = text_of(final / "actes" / "atelier-du-littoral" / "avenant-plateforme.docx")
    assert "Aucun versement au titre de cette phase : valorisation, sans financement supplémentaire." in atelier
    assert "% à la signature" not in atelier and "Coût de l'opération" not in atelier
    entraide = text_of(final / "actes" / "entraide-artois" / "avenant-plateforme.docx")
    assert "Pour Entraide Artois," in entraide  # in force the day after the séance: its avenant is made
    ccas = text_of(final / "actes" / "ccas-d-arras" / "convention-nouvelle.docx")
    assert "Annexe 1 : « Ateliers collectifs d'insertion »" in ccas and "Pour le CCAS d'Arras," in ccas
    assert "Bilan | Un bilan qualitatif et quantitatif est remis" in ccas
    assert "La durée de l'opération est celle de la convention, soit du 01/01/2025 au 31/12/2026." in atelier


def test_errors_variant_builds_nothing(tmp_path):
    result = pipeline.build(Settings(source=ERRORS, out_dir=tmp_path / "out"))
    assert not result.written and not (tmp_path / "out").exists()
