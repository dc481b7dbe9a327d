"""Issue 18, « Generality »: rules that hold on any phase, not only where the example happens to line up.

Each rule is proven on the example (phase-6-2024: PLIE conventions ending 31/12/2024, séance 09/12/2024)
and on the fictitious phase (fictif: conventions to 31/12/2025, séance 10/03/2025), firing where it
should and nowhere else.
"""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from deliberation import pipeline
from deliberation.cli import main
from deliberation.fmt import plain
from deliberation.render import inspect
from deliberation.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
CODES = ("acte.convention_echue", "acte.echeancier_lacune", "convention.montant_annexes", "acte.modeles_multiples",
         "modele.fusion", "modele.numero")


def found(root: Path, code: str):
    return [f for f in pipeline.check(Settings(source=root)).findings if f.code == code]


def text_of(path: Path) -> str:
    return "\n".join(plain(x) for x in inspect.docx_lines(path))


def test_unchanged_fixtures_fire_none_of_these_rules(phase6, fictif):
    for root in (phase6.root, fictif.root):
        findings = pipeline.check(Settings(source=root)).findings
        assert [f for f in findings if f.code in CODES] == []


# ---------------------------------------------------------------------------
# an avenant to an expired convention


def test_expired_convention_example(phase6):
    mempa = "periode: {debut: 01/01/2024, fin: 31/12/2024}"  # the first PLIE convention (MEMPA)
    phase6.edit("structures.yaml", mempa, "periode: {debut: 01/01/2024, fin: 08/12/2024}")  # the day before
    (f,) = found(phase6.root, "acte.convention_echue")
    assert f.severity.name == "ERROR" and "MEMPA — avenant à la convention « plie »" in f.message
    assert "a pris fin le 08/12/2024, avant la séance du 09/12/2024" in f.message
    assert f.loc.file.endswith("structures.yaml") and f.loc.line == 19
    phase6.edit("structures.yaml", "fin: 08/12/2024", "fin: 09/12/2024")  # in force on the séance day
    assert found(phase6.root, "acte.convention_echue") == []


def test_expired_convention_fictif(fictif):
    fictif.edit("structures.yaml", "periode: {debut: 2024-01-01, fin: 2025-12-31}\n        montant: \"80 000,00\"",
                "periode: {debut: 2024-01-01, fin: 2025-03-09}\n        montant: \"80 000,00\"")  # beta
    (f,) = found(fictif.root, "acte.convention_echue")
    assert "Beta Emploi" in f.message and "a pris fin le 09/03/2025, avant la séance du 10/03/2025" in f.message
    fictif.edit("structures.yaml", "fin: 2025-03-09", "fin: 2025-03-11")  # the day after: fine
    assert found(fictif.root, "acte.convention_echue") == []


# ---------------------------------------------------------------------------
# a gap in the cost schedule of an extended convention


def test_funding_gap_example(phase6):
    # a PLIE line of MEMPA starting a month after its convention ends (31/12/2024)
    phase6.edit("thematiques/t1.yaml", "periode: {debut: 01/01/2025, fin: 30/06/2025}",
                "periode: {debut: 01/02/2025, fin: 30/06/2025}")
    (f,) = found(phase6.root, "acte.echeancier_lacune")
    assert f.severity.name == "WARNING" and "MEMPA" in f.message
    assert "aucun financement du 01/01/2025 au 31/01/2025 entre la fin de la convention (31/12/2024)" in f.message
    assert f.loc.file.endswith("t1.yaml")


def test_funding_gap_fictif(fictif):
    fictif.edit("thematiques/t1.yaml", "periode: {debut: 01/01/2025, fin: 30/06/2025}",
                "periode: {debut: 01/03/2026, fin: 30/06/2026}")  # alpha, after its convention (31/12/2025)
    (f,) = found(fictif.root, "acte.echeancier_lacune")
    assert "Association Alpha" in f.message and "du 01/01/2026 au 28/02/2026" in f.message
    fictif.edit("thematiques/t1.yaml", "debut: 01/03/2026", "debut: 01/01/2026")  # contiguous: no gap
    assert found(fictif.root, "acte.echeancier_lacune") == []


# ---------------------------------------------------------------------------
# one avenant citing two models


def test_two_models_for_one_convention_need_a_declared_merge(phase6, fictif):
    phase6.edit("phase.yaml", "    fusion: [avenant-8]\n", "")
    (f,) = found(phase6.root, "acte.modeles_multiples")
    assert f.severity.name == "ERROR" and "MEMPA" in f.message and "(avenant-5, avenant-8)" in f.message
    assert "déclarez la fusion (`fusion: [avenant-8]` sous le modèle avenant-5" in f.message
    # fictif: alpha's two lines cite two models
    fictif.edit("thematiques/t1.yaml", "        montant: 0\n        document: avenant-accueil",
                "        montant: 0\n        document: avenant-valorisation")
    (f,) = found(fictif.root, "acte.modeles_multiples")
    assert "Association Alpha" in f.message and "(avenant-valorisation, avenant-accueil)" in f.message
    fictif.edit("phase.yaml", "titre: Avenant de valorisation,", "titre: Avenant de valorisation, "
                "fusion: [avenant-accueil],")
    assert found(fictif.root, "acte.modeles_multiples") == []
    fictif.edit("phase.yaml", "fusion: [avenant-accueil]", "fusion: [avenant-acceuil]")
    (f,) = found(fictif.root, "modele.fusion")
    assert "fusion avec « avenant-acceuil », qui n'est pas un autre modèle d'avenant de la phase" in f.message


# ---------------------------------------------------------------------------
# a convention's amount split per annex


def test_amount_per_annex_example(phase6):
    phase6.edit("structures.yaml", "            titre: Accompagnement des bénéficiaires du RSA exerçant une activité "
                "indépendante", "            titre: Accompagnement des bénéficiaires du RSA exerçant une activité "
                "indépendante\n            montant: \"300 000,00\"")
    (f,) = found(phase6.root, "convention.montant_annexes")
    assert "parts des annexes 300 000,00 € = 300 000,00 €, montant de la convention 338 226,74 € " \
           "(38 226,74 € de moins)" in plain(f.message)


def _two_annexes(fictif):
    """alpha's convention gets a second annex (dispositif 1.2), no part of the amount declared on either."""
    fictif.edit("structures.yaml", "accompagnement des BRSA\"}\n        versements:\n          - {libelle: premier",
                "accompagnement des BRSA\"}\n          - {numero: 3, dispositif: \"1.2\", titre: \"Accompagnement "
                "équilibré\"}\n        versements:\n          - {libelle: premier")


def test_amount_per_annex_fictif(fictif, tmp_path):
    _two_annexes(fictif)  # alpha's convention: two annexes, continued by the avenant, no split
    (f,) = found(fictif.root, "convention.montant_annexes")
    assert "l'avenant reprend 2 annexes de la convention (annexe 2, annexe 3) sans la part du montant" in f.message
    fictif.edit("structures.yaml", "accompagnement des BRSA\"}\n          - {numero: 3, dispositif: \"1.2\", titre: "
                "\"Accompagnement équilibré\"}", "accompagnement des BRSA\", montant: \"70 000,00\"}\n          - "
                "{numero: 3, dispositif: \"1.2\", titre: \"Accompagnement équilibré\", montant: \"40 000,00\"}")
    (f,) = found(fictif.root, "convention.montant_annexes")
    assert "70 000,00 € + 40 000,00 € = 110 000,00 €, montant de la convention 120 000,00 € (10 000,00 € de " \
           "moins)" in plain(f.message)
    fictif.edit("structures.yaml", "montant: \"40 000,00\"}\n        versements", "montant: \"50 000,00\"}\n"
                "        versements")
    assert found(fictif.root, "convention.montant_annexes") == []
    out = tmp_path / "out"
    assert pipeline.build(Settings(source=fictif.root, out_dir=out)).written
    alpha = text_of(out / "actes" / "association-alpha" / "avenant-plateforme.docx")
    # each sheet its own part: 70 000 (valorisation only) and 50 000 + the phase's 50 000, not 120 000 twice
    assert "Coût | 70 000,00 €" in alpha and "Coût | 50 000,00 € + 50 000,00 €" in alpha
    assert "120 000,00 €" not in alpha.split("Annexe N°2")[1]


# ---------------------------------------------------------------------------
# a model cited by its own number, not its annex number


def test_annexe_4_prints_the_model_own_number(fictif, tmp_path):
    """fictif: models 1 and 2 land as annexes 4 and 5 of the délibération."""
    fictif.edit("phase.yaml", "titre: Avenant accueil,", "titre: Modèle d'avenant n°1, numero: 1,")
    fictif.edit("phase.yaml", "titre: Avenant de valorisation,", "titre: Modèle d'avenant n°2, numero: 2,")
    out = tmp_path / "out"
    assert pipeline.build(Settings(source=fictif.root, out_dir=out)).written
    annexe3 = text_of(next(out.glob("*-annexe-3-repartition-financiere.docx")))
    assert "Modèle d'avenant n°1" in annexe3 and "Modèle d'avenant n°2" in annexe3
    assert "Modèle d'avenant n°4" not in annexe3 and "Modèle d'avenant n°5" not in annexe3
    assert sorted(p.name for p in out.glob("*-annexe-[45]-*.docx")) == [
        "06-annexe-4-avenant-accueil.docx", "07-annexe-5-avenant-valorisation.docx"]
    fictif.edit("phase.yaml", "titre: Modèle d'avenant n°2, numero: 2,", "titre: Modèle d'avenant n°3, numero: 2,")
    (f,) = found(fictif.root, "modele.numero")
    assert "Modèle d'avenant n°3 : le titre dit n°3, le modèle est déclaré n°2" in f.message


def test_annexe_4_numbers_in_the_example_and_a_line_citing_another_model(phase6, tmp_path):
    out = tmp_path / "out"
    assert pipeline.build(Settings(source=phase6.root, out_dir=out)).written
    annexe4 = text_of(next(out.glob("*-annexe-4-repartition-financiere.docx")))
    for n in range(5, 11):
        assert f"Modèle d'avenant n°{n}" in annexe4
    phase6.edit("thematiques/t1.yaml", "description: \"Valorisation d'1,7 ETP pour la réalisation de 671 diagnostics",
                "description: \"Modèle d'avenant n°7 : valorisation d'1,7 ETP pour la réalisation de 671 diagnostics")
    (f,) = found(phase6.root, "modele.numero")
    assert "ligne t1-o1-tous-parrains : la description cite « Modèle d'avenant n°7 » mais la ligne signe le " \
           "modèle avenant-6 (n°6)" in f.message


# ---------------------------------------------------------------------------
# explain points at the line the amount is written on


def test_explain_cites_the_line_of_the_amount(fictif, phase6):
    result = CliRunner().invoke(main, ["explain", str(fictif.root), "alpha"])
    assert "montant attribué par la phase : 50 000,00 € (thematiques/t1.yaml:58)" in result.output
    # the same structure funded from two thématique files: each amount at its own file and line
    fictif.edit("thematiques/t4.yaml", "        structure: gamma\n        convention: nouvelle",
                "        structure: alpha\n        convention: plateforme")
    fictif.edit("thematiques/t4.yaml", "document: convention-type", "document: avenant-accueil")
    result = CliRunner().invoke(main, ["explain", str(fictif.root), "alpha"])
    assert "montant attribué par la phase : 62 000,00 € (" in result.output
    assert "dont ligne t1-o2-alpha : 50 000,00 € (thematiques/t1.yaml:58)" in result.output
    assert "dont ligne t4-o1-gamma : 12 000,00 € (thematiques/t4.yaml:20)" in result.output
    result = CliRunner().invoke(main, ["explain", str(phase6.root), "pdc-actif"])
    assert "montant attribué par la phase : 79 850,00 € (thematiques/t1.yaml:" in result.output
