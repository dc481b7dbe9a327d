"""Issue 18, « Generality »: rules that hold on any phase, not only where the example happens to line up.

Each rule is proven on the example (phase-6-2024: PLIE conventions ending 31/12/2024, séance 09/12/2024)
and on the fictitious phase (fictif: conventions to 31/12/2025, séance 10/03/2025), firing where it
should and nowhere else (the unchanged fixtures fire none of them).
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace

import pytest
from click.testing import CliRunner

from deliberation import pipeline
from deliberation.cli import main
from deliberation.render import inspect
from deliberation.render.inspect import typed
from deliberation.rules.acts import unmerged
from deliberation.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
CODES = ("acte.convention_echue", "acte.echeancier_lacune", "convention.montant_annexes", "acte.modeles_multiples",
         "modele.fusion", "modele.numero")


def found(root: Path, code: str):
    return [f for f in pipeline.check(Settings(source=root)).findings if f.code == code]


def text_of(path: Path) -> str:
    return "\n".join(typed(x) for x in inspect.docx_lines(path))


def test_unchanged_fixtures_fire_none_of_these_rules(phase6, fictif):
    for root in (phase6.root, fictif.root):
        findings = pipeline.check(Settings(source=root)).findings
        assert [f for f in findings if f.code in CODES] == []


def test_the_rules_are_listed():
    result = CliRunner().invoke(main, ["check", "--liste-regles"])
    assert result.exit_code == 0
    for code in CODES:
        assert code in result.output
    row = next(line for line in result.output.splitlines() if "conventions.check_conventions" in line)
    assert "erreur, avertissement " in row and "erreur, avertissement, erreur" not in row


# ---------------------------------------------------------------------------
# an avenant to an expired convention

# (fixture, the convention's period as written, the same ending on a given day, séance, structure, lines)
EXPIRED = {
    "phase6": ("structures.yaml", "periode: {debut: 01/01/2024, fin: 31/12/2024}",  # MEMPA's PLIE convention
               "periode: {{debut: 01/01/2024, fin: {}}}", "%d/%m/%Y", "09/12/2024",
               "MEMPA — avenant à la convention « plie »", "t1-o2-mempa-ple"),
    "fictif": ("structures.yaml", "periode: {debut: 2024-01-01, fin: 2025-12-31}\n        montant: \"80 000,00\"",
               "periode: {{debut: 2024-01-01, fin: {}}}\n        montant: \"80 000,00\"", "%Y-%m-%d", "10/03/2025",
               "Beta Emploi — avenant à la convention « plateforme »", "t1-o1-beta"),
}


@pytest.mark.parametrize("which", ["phase6", "fictif"])
@pytest.mark.parametrize(("shift", "fires"), [(-1, True), (0, False), (1, False)],
                         ids=["veille", "jour-meme", "lendemain"])
def test_expired_convention(which, shift, fires, request):
    dossier = request.getfixturevalue(which)
    name, old, new, pattern, seance, label, ligne = EXPIRED[which]
    text = (dossier.root / name).read_text(encoding="utf-8")
    line = text[:text.index(old)].count("\n") + 1
    day, month, year = (int(x) for x in seance.split("/"))
    fin = dt.date(year, month, day) + dt.timedelta(days=shift)
    dossier.edit(name, old, new.format(fin.strftime(pattern)))
    got = found(dossier.root, "acte.convention_echue")
    if not fires:
        assert got == []
        return
    (f,) = got
    assert f.severity.name == "ERROR" and f.message.startswith(label)
    assert f"a pris fin le {fin:%d/%m/%Y}, avant la séance du {seance}" in f.message
    # the line calling for the avenant, with its place
    assert f"ligne de la phase : « {ligne} » (t1.yaml:{dossier.line_of('thematiques/t1.yaml', 'id: ' + ligne)})" \
        in f.message
    assert f.loc.file.endswith("structures.yaml") and f.loc.line == line  # at the convention's period


# ---------------------------------------------------------------------------
# a gap in the cost schedule of an extended convention


def test_funding_gap_after_the_convention_example(phase6):
    # a PLIE line of MEMPA starting a month after its convention ends (31/12/2024)
    line = phase6.line_of("thematiques/t1.yaml", "periode: {debut: 01/01/2025, fin: 30/06/2025}")
    phase6.edit("thematiques/t1.yaml", "periode: {debut: 01/01/2025, fin: 30/06/2025}",
                "periode: {debut: 01/02/2025, fin: 30/06/2025}")
    (f,) = found(phase6.root, "acte.echeancier_lacune")
    assert f.severity.name == "WARNING" and f.message.startswith("MEMPA — avenant à la convention « plie »")
    assert "aucun financement du 01/01/2025 au 31/01/2025 (31 jours) entre la fin de la convention (31/12/2024) " \
           "et la ligne « t1-o2-mempa-ple » (du 01/02/2025)" in f.message
    assert f.loc.file.endswith("t1.yaml") and f.loc.line == line


def test_funding_gap_between_two_lines_example(phase6):
    # MEILL HC's two PLIE lines: January-February, then April-September: March is funded by nothing
    t1 = "thematiques/t1.yaml"
    henin = phase6.line_of(t1, "id: t1-o2-meill-hc-ple-henin-carvin")
    lens = phase6.line_of(t1, "id: t1-o2-meill-hc-ple-lens-lievin")
    text = (phase6.root / t1).read_text(encoding="utf-8").splitlines(keepends=True)
    for start, new in ((henin, "01/01/2025, fin: 28/02/2025"), (lens, "01/04/2025, fin: 30/09/2025")):
        i = next(i for i in range(start, start + 12) if "periode:" in text[i])
        text[i] = text[i].replace("01/01/2025, fin: 30/06/2025", new)
    phase6.write(t1, "".join(text))
    (f,) = found(phase6.root, "acte.echeancier_lacune")
    assert "MEILL HC — avenant à la convention « plie » : aucun financement du 01/03/2025 au 31/03/2025 (31 jours)" \
           in f.message and "la ligne « t1-o2-meill-hc-ple-lens-lievin » (du 01/04/2025)" in f.message


def test_valorisation_does_not_fund_the_extension_example(phase6):
    """Tous Parrains: a valorisation line runs six months past the convention, its funded line does not."""
    t1 = "thematiques/t1.yaml"
    start = phase6.line_of(t1, "id: t1-o1-tous-parrains")
    text = (phase6.root / t1).read_text(encoding="utf-8").splitlines(keepends=True)
    i = next(i for i in range(start, start + 12) if "periode:" in text[i])
    text[i] = text[i].replace("fin: 31/12/2025", "fin: 30/06/2026")
    phase6.write(t1, "".join(text))
    (f,) = found(phase6.root, "acte.echeancier_lacune")
    assert f.message.startswith("Tous Parrains — avenant à la convention « plateforme » : aucun financement du "
                                "01/01/2026 au 30/06/2026 (181 jours)")
    assert "sa nouvelle fin, le 30/06/2026, fixée par la ligne « t1-o1-tous-parrains » (valorisation, sans " \
           "montant)" in f.message
    assert f.loc.line == i + 1  # the valorisation line's period


def test_valorisation_only_extension_has_no_schedule_example(phase6):
    """MEMPA's platform: valorisations only, extended: no cost article, hence no schedule to check."""
    t1 = "thematiques/t1.yaml"
    start = phase6.line_of(t1, "id: t1-o1-mempa")
    text = (phase6.root / t1).read_text(encoding="utf-8").splitlines(keepends=True)
    i = next(i for i in range(start, start + 12) if "periode:" in text[i])
    text[i] = text[i].replace("fin: 31/12/2025", "fin: 30/06/2026")
    phase6.write(t1, "".join(text))
    checked = pipeline.check(Settings(source=phase6.root))
    act = next(a for a in checked.acts if a.label == "MEMPA — avenant à la convention « plateforme »")
    assert "duree" in act.included and "cout" not in act.included  # extended, no cost rewritten
    assert [f for f in checked.findings if f.code == "acte.echeancier_lacune"] == []


def test_funding_gap_fictif(fictif):
    fictif.edit("thematiques/t1.yaml", "periode: {debut: 01/01/2025, fin: 30/06/2025}",
                "periode: {debut: 01/03/2026, fin: 30/06/2026}")  # alpha, after its convention (31/12/2025)
    (f,) = found(fictif.root, "acte.echeancier_lacune")
    assert "Association Alpha" in f.message and "du 01/01/2026 au 28/02/2026 (59 jours)" in f.message
    fictif.edit("thematiques/t1.yaml", "debut: 01/03/2026", "debut: 01/01/2026")  # contiguous: no gap
    assert found(fictif.root, "acte.echeancier_lacune") == []


def test_valorisation_does_not_fund_the_extension_fictif(fictif):
    # alpha: funded to 30/06/2026, but its valorisation line takes the convention to 31/12/2026
    fictif.edit("thematiques/t1.yaml", "periode: {debut: 01/01/2025, fin: 30/06/2025}",
                "periode: {debut: 01/01/2026, fin: 30/06/2026}")
    fictif.edit("thematiques/t1.yaml", "periode: {debut: 01/01/2025, fin: 31/12/2025}\n        montant: 0",
                "periode: {debut: 01/01/2025, fin: 31/12/2026}\n        montant: 0")
    (f,) = found(fictif.root, "acte.echeancier_lacune")
    assert "aucun financement du 01/07/2026 au 31/12/2026 (184 jours)" in f.message
    assert "fixée par la ligne « t1-o1-alpha » (valorisation, sans montant)" in f.message
    # beta: valorisation only, extended to 30/06/2026: no cost schedule, nothing to report
    fictif.edit("thematiques/t1.yaml", "periode: {debut: 01/01/2025, fin: 31/12/2025}\n        montant: \"- €\"",
                "periode: {debut: 01/01/2025, fin: 30/06/2026}\n        montant: \"- €\"")
    assert [g.message for g in found(fictif.root, "acte.echeancier_lacune")] == [f.message]


# ---------------------------------------------------------------------------
# one avenant citing two models


def test_two_models_for_one_convention_need_a_declared_merge_example(phase6):
    line = phase6.line_of("thematiques/t1.yaml", "document: avenant-8")
    phase6.edit("phase.yaml", "    fusion: [avenant-8]\n", "")
    (f,) = found(phase6.root, "acte.modeles_multiples")
    assert f.severity.name == "ERROR" and "MEMPA" in f.message and "(avenant-5, avenant-8)" in f.message
    assert "déclarez la fusion (`fusion: [avenant-8]` sous le modèle avenant-5" in f.message
    assert f.loc.file.endswith("t1.yaml") and f.loc.line == line  # the line citing the second model
    # declared the other way round (under model 8): the same merge
    phase6.edit("phase.yaml", "    titre: Modèle d'avenant n°8\n", "    titre: Modèle d'avenant n°8\n"
                "    fusion: [avenant-5]\n")
    assert found(phase6.root, "acte.modeles_multiples") == []


def test_two_models_for_one_convention_need_a_declared_merge_fictif(fictif):
    # alpha's two lines cite two models
    fictif.edit("thematiques/t1.yaml", "        montant: 0\n        document: avenant-accueil",
                "        montant: 0\n        document: avenant-valorisation")
    (f,) = found(fictif.root, "acte.modeles_multiples")
    assert "Association Alpha" in f.message and "(avenant-valorisation, avenant-accueil)" in f.message
    fictif.edit("phase.yaml", "titre: Avenant de valorisation,", "titre: Avenant de valorisation, "
                "fusion: [avenant-accueil],")
    assert found(fictif.root, "acte.modeles_multiples") == []
    # the other direction
    fictif.edit("phase.yaml", "fusion: [avenant-accueil], ", "")
    assert len(found(fictif.root, "acte.modeles_multiples")) == 1
    fictif.edit("phase.yaml", "titre: Avenant accueil,", "titre: Avenant accueil, fusion: [avenant-valorisation],")
    assert found(fictif.root, "acte.modeles_multiples") == []


def test_three_models_need_every_pair_declared():
    m = {"a": SimpleNamespace(fusion=("b",)), "b": SimpleNamespace(fusion=("c",)), "c": SimpleNamespace(fusion=())}
    assert unmerged(["a", "b"], m) == [] and unmerged(["b", "a"], m) == []
    assert unmerged(["a", "b", "c"], m) == [("a", "c")]  # a with b and b with c say nothing of a with c
    m["c"] = SimpleNamespace(fusion=("a",))
    assert unmerged(["a", "b", "c"], m) == []


@pytest.mark.parametrize("which", ["phase6", "fictif"])
def test_a_merge_names_another_avenant_model(which, request):
    dossier = request.getfixturevalue(which)
    if which == "phase6":
        line = dossier.line_of("phase.yaml", "fusion: [avenant-8]")
        dossier.edit("phase.yaml", "fusion: [avenant-8]", "fusion: [avenant-80]")
        expected = "Modèle d'avenant n°5 : fusion avec « avenant-80 », qui n'est pas un autre modèle d'avenant " \
                   "de la phase (avenant-6, avenant-7, avenant-8, avenant-9, avenant-10) ; vouliez-vous dire " \
                   "« avenant-8 » ?"
    else:
        line = dossier.line_of("phase.yaml", "titre: Avenant de valorisation,")
        dossier.edit("phase.yaml", "titre: Avenant de valorisation,", "titre: Avenant de valorisation, "
                     "fusion: [avenant-acceuil, convention-type],")
        expected = "Avenant de valorisation : fusion avec « avenant-acceuil », qui n'est pas un autre modèle " \
                   "d'avenant de la phase (avenant-accueil) ; vouliez-vous dire « avenant-accueil » ?"
    got = found(dossier.root, "modele.fusion")
    assert got[0].message == expected and got[0].severity.name == "ERROR"
    assert got[0].loc.file.endswith("phase.yaml") and got[0].loc.line == line
    if which == "fictif":  # the convention type is no avenant model either
        assert "fusion avec « convention-type »" in got[1].message and len(got) == 2


# ---------------------------------------------------------------------------
# a convention's amount split per annex


def test_amount_per_annex_must_add_up_example(phase6):
    line = phase6.line_of("structures.yaml", "montant: \"338 226,74\"")
    phase6.edit("structures.yaml", "            titre: Accompagnement des bénéficiaires du RSA exerçant une activité "
                "indépendante", "            titre: Accompagnement des bénéficiaires du RSA exerçant une activité "
                "indépendante\n            montant: \"300 000,00\"")
    (f,) = found(phase6.root, "convention.montant_annexes")
    assert f.severity.name == "ERROR"
    assert "parts des annexes 300 000,00 € = 300 000,00 €, montant de la convention 338 226,74 € " \
           "(38 226,74 € de moins)" in typed(f.message)
    assert f.loc.file.endswith("structures.yaml") and f.loc.line == line  # at the convention's amount
    phase6.edit("structures.yaml", "montant: \"300 000,00\"", "montant: \"338 226,74\"")
    assert found(phase6.root, "convention.montant_annexes") == []


def test_amount_on_every_annex_or_none_example(phase6):
    # Pas-de-Calais Actif's convention gets a second annex with no part, the first one with its part
    phase6.edit("structures.yaml", "            titre: Accompagnement des bénéficiaires du RSA exerçant une activité "
                "indépendante", "            titre: Accompagnement des bénéficiaires du RSA exerçant une activité "
                "indépendante\n            montant: \"300 000,00\"\n          - {numero: 3, dispositif: \"1.1\", "
                "titre: Accueil}")
    line = phase6.line_of("structures.yaml", "- {numero: 3, dispositif: \"1.1\", titre: Accueil}")
    (f,) = found(phase6.root, "convention.montant_annexes")
    assert "part du montant déclarée pour l'annexe 2 mais pas pour l'annexe 3 (toutes ou aucune)" in f.message
    assert f.loc.line == line


def test_an_annex_of_two_continued_without_parts_example(phase6):
    # the avenant continues annex 2 (1.7) of a convention that also has annex 3 (1.1): no part declared
    phase6.edit("structures.yaml", "            titre: Accompagnement des bénéficiaires du RSA exerçant une activité "
                "indépendante", "            titre: Accompagnement des bénéficiaires du RSA exerçant une activité "
                "indépendante\n          - {numero: 3, dispositif: \"1.1\", titre: Accueil}")
    (f,) = found(phase6.root, "convention.montant_annexes")
    assert "Pas-de-Calais Actif — avenant à la convention « 2024-01213 » : l'avenant reprend l'annexe 2 d'une " \
           "convention qui en a 2 sans la part du montant de chacune" in f.message
    text = (phase6.root / "structures.yaml").read_text(encoding="utf-8").splitlines()
    line = next(i for i, x in enumerate(text, 1) if x.strip() == "annexes:" and i > phase6.line_of(
        "structures.yaml", "2024-01213:  #"))
    assert f.loc.file.endswith("structures.yaml") and line <= f.loc.line <= line + 1  # the convention's annexes
    assert f.loc.path == "structures.pdc-actif.conventions.2024-01213.annexes"


def test_registry_split_checked_without_an_avenant_fictif(fictif):
    # beta has a second convention the phase does not amend: its split is still the registry's to keep right
    fictif.edit("structures.yaml", "          - {libelle: solde, montant: \"20 000,00\"}",
                "          - {libelle: solde, montant: \"20 000,00\"}\n      ancienne:\n        numero: 2023-00050\n"
                "        montant: \"10 000,00\"\n        annexes:\n"
                "          - {numero: 2, dispositif: \"1.1\", titre: Accueil, montant: \"6 000,00\"}\n"
                "          - {numero: 3, dispositif: \"1.2\", titre: Équilibré, montant: \"5 000,00\"}")
    (f,) = found(fictif.root, "convention.montant_annexes")
    assert typed(f.message) == "Beta Emploi — convention « ancienne » : parts des annexes 6 000,00 € + 5 000,00 € " \
        "= 11 000,00 €, montant de la convention 10 000,00 € (1 000,00 € de trop)"
    assert f.loc.line == fictif.line_of("structures.yaml", "montant: \"10 000,00\"")


def _two_annexes(fictif):
    """alpha's convention gets a second annex (dispositif 1.2), no part of the amount declared on either."""
    fictif.edit("structures.yaml", "accompagnement des BRSA\"}\n        versements:\n          - {libelle: premier",
                "accompagnement des BRSA\"}\n          - {numero: 3, dispositif: \"1.2\", titre: \"Accompagnement "
                "équilibré\"}\n        versements:\n          - {libelle: premier")


COST = re.compile(r"(\d{1,3}(?: \d{3})*,\d{2}) €")


def sheet_costs(text: str) -> dict[str, list[Decimal]]:
    """Each annex sheet of an act (« Annexe N°2 – … ») → the amounts of its « Coût » row."""
    out = {}
    pieces = re.split(r"\nAnnexe N°(\d+) – ", text)
    for numero, body in zip(pieces[1::2], pieces[2::2], strict=True):
        row = next(x for x in body.splitlines() if x.startswith("Coût |"))
        out[numero] = [Decimal(m.replace(" ", "").replace(",", ".")) for m in COST.findall(row)]
    return out


def test_amount_per_annex_fictif(fictif, tmp_path):
    _two_annexes(fictif)  # alpha's convention: two annexes, continued by the avenant, no split
    (f,) = found(fictif.root, "convention.montant_annexes")
    assert "l'avenant reprend 2 annexes de la convention (annexe 2, annexe 3) sans la part du montant" in f.message
    fictif.edit("structures.yaml", "accompagnement des BRSA\"}\n          - {numero: 3, dispositif: \"1.2\", titre: "
                "\"Accompagnement équilibré\"}", "accompagnement des BRSA\", montant: \"70 000,00\"}\n          - "
                "{numero: 3, dispositif: \"1.2\", titre: \"Accompagnement équilibré\", montant: \"40 000,00\"}")
    (f,) = found(fictif.root, "convention.montant_annexes")
    assert "70 000,00 € + 40 000,00 € = 110 000,00 €, montant de la convention 120 000,00 € (10 000,00 € de " \
           "moins)" in typed(f.message)
    fictif.edit("structures.yaml", "montant: \"40 000,00\"}\n        versements", "montant: \"50 000,00\"}\n"
                "        versements")
    assert found(fictif.root, "convention.montant_annexes") == []
    out = tmp_path / "out"
    assert pipeline.build(Settings(source=fictif.root, out_dir=out)).written
    alpha = text_of(out / "actes" / "association-alpha" / "avenant-plateforme.docx")
    # each sheet its own part: 70 000 (valorisation only) and 50 000 + the phase's 50 000, not 120 000 twice
    costs = sheet_costs(alpha)
    assert costs == {"2": [Decimal("70000.00")], "3": [Decimal("50000.00"), Decimal("50000.00")]}
    assert sum(sum(c) for c in costs.values()) == Decimal("120000.00") + Decimal("50000.00")
    assert "120 000,00 €" not in alpha.split("Annexe N°2")[1]


def test_amount_per_annex_example(phase6, tmp_path):
    """Tous Parrains: a 100 000 € convention split 70 000 / 30 000 over annexes 2 (1.1) and 3 (1.2)."""
    old = "          - {numero: 2, dispositif: \"1.1\", titre: \"Dynamisation des parcours : accueil et " \
          "accompagnement des BRSA\"}\n  pif:"
    phase6.edit("structures.yaml", old, "          - {numero: 2, dispositif: \"1.1\", titre: \"Dynamisation des "
                "parcours : accueil et accompagnement des BRSA\"}\n          - {numero: 3, dispositif: \"1.2\", "
                "titre: \"Accompagnement équilibré social-professionnel\"}\n  pif:")
    (f,) = found(phase6.root, "convention.montant_annexes")
    assert "Tous Parrains — avenant à la convention « plateforme » : l'avenant reprend 2 annexes de la convention " \
           "(annexe 2, annexe 3) sans la part du montant" in f.message
    phase6.edit("structures.yaml", "accompagnement des BRSA\"}\n          - {numero: 3, dispositif: \"1.2\", "
                "titre: \"Accompagnement équilibré social-professionnel\"}",
                "accompagnement des BRSA\", montant: \"70 000,00\"}\n          - {numero: 3, dispositif: \"1.2\", "
                "titre: \"Accompagnement équilibré social-professionnel\", montant: \"30 000,00\"}")
    phase6.edit("structures.yaml", "      plateforme:  # avenant n°6\n        # modèles d'avenant n°5 à 7 (seed l.287, "
                "l.405, l.497) : annexe 2 de la convention initiale ;\n",
                "      plateforme:  # avenant n°6\n        montant: \"100 000,00\"\n")
    assert found(phase6.root, "convention.montant_annexes") == []
    out = tmp_path / "out"
    assert pipeline.build(Settings(source=phase6.root, out_dir=out)).written
    tous = text_of(out / "actes" / "tous-parrains" / "avenant-plateforme.docx")
    costs = sheet_costs(tous)
    assert costs == {"2": [Decimal("70000.00")], "3": [Decimal("30000.00"), Decimal("60000.00")]}
    # the sheets add up to the convention plus the phase's amounts, not twice the convention
    assert sum(sum(c) for c in costs.values()) == Decimal("100000.00") + Decimal("60000.00")


def test_an_annex_of_two_continued_without_parts_fictif(fictif):
    # alpha's convention also has an annex 3 for 4.1, which the phase does not fund for alpha
    fictif.edit("structures.yaml", "accompagnement des BRSA\"}\n        versements:\n          - {libelle: premier",
                "accompagnement des BRSA\"}\n          - {numero: 3, dispositif: \"4.1\", titre: Jeunes}\n"
                "        versements:\n          - {libelle: premier")
    (f,) = found(fictif.root, "convention.montant_annexes")
    assert "l'avenant reprend l'annexe 2 d'une convention qui en a 2 sans la part du montant de chacune" in f.message


# ---------------------------------------------------------------------------
# a model cited by its own number, not its annex number


def _row(text: str, start: str) -> str:
    return next(line for line in text.splitlines() if start in line)


@pytest.mark.parametrize(("accueil", "valorisation", "numbers"), [
    ("titre: Modèle d'avenant n°1, numero: 1,", "titre: Modèle d'avenant n°2, numero: 2,", (1, 2)),
    ("titre: Avenant accueil, numero: 1,", "titre: Avenant de valorisation, numero: 2,", (1, 2)),  # declared
    ("titre: Modèle d'avenant n°1,", "titre: Modèle d'avenant n°2,", (1, 2)),  # from the title
    ("titre: Avenant accueil,", "titre: Avenant de valorisation,", (4, 5)),  # neither: the annex number
], ids=["titre-et-numero", "numero", "titre", "annexe"])
def test_annexe_repartition_prints_the_model_own_number(fictif, tmp_path, accueil, valorisation, numbers):
    """fictif: models 1 and 2 land as annexes 4 and 5 of the délibération (répartition in annexe 3)."""
    fictif.edit("phase.yaml", "titre: Avenant accueil,", accueil)
    fictif.edit("phase.yaml", "titre: Avenant de valorisation,", valorisation)
    out = tmp_path / "out"
    assert pipeline.build(Settings(source=fictif.root, out_dir=out)).written
    annexe3 = text_of(next(out.glob("*-annexe-3-repartition-financiere.docx")))
    alpha = _row(annexe3, "| Association Alpha | Valorisation d'1 ETP")
    beta = _row(annexe3, "| Beta Emploi | Valorisation de 2 ETP")
    assert alpha.endswith(f"| Modèle d'avenant n°{numbers[0]}") and beta.endswith(f"| Modèle d'avenant n°{numbers[1]}")
    assert sorted(p.name for p in out.glob("*-annexe-[45]-*.docx")) == [
        "06-annexe-4-avenant-accueil.docx", "07-annexe-5-avenant-valorisation.docx"]


def test_model_title_and_numero_disagree_fictif(fictif):
    fictif.edit("phase.yaml", "titre: Avenant de valorisation,", "titre: Modèle d'avenant n°3, numero: 2,")
    (f,) = found(fictif.root, "modele.numero")
    assert f.severity.name == "ERROR"
    assert "Modèle d'avenant n°3 : le titre dit n°3, le modèle est déclaré n°2" in f.message
    fictif.edit("phase.yaml", "n°3, numero: 2,", "n°2, numero: 2,")
    assert found(fictif.root, "modele.numero") == []


def test_model_title_and_numero_disagree_example(phase6):
    line = phase6.line_of("phase.yaml", "numero: 7")
    phase6.edit("phase.yaml", "titre: Modèle d'avenant n°7\n", "titre: Modèle d'avenant n°6\n")
    (f,) = found(phase6.root, "modele.numero")
    assert "Modèle d'avenant n°6 : le titre dit n°6, le modèle est déclaré n°7" in f.message and f.loc.line == line


def test_annexe_4_numbers_in_the_example(phase6, tmp_path):
    out = tmp_path / "out"
    assert pipeline.build(Settings(source=phase6.root, out_dir=out)).written
    annexe4 = text_of(next(out.glob("*-annexe-4-repartition-financiere.docx")))
    assert _row(annexe4, "| MEMPA | Valorisation d'1 ETP").endswith("| Modèle d'avenant n°5")
    for n in range(5, 11):
        assert f"Modèle d'avenant n°{n}" in annexe4


def test_a_line_describing_another_model_example(phase6):
    t1 = "thematiques/t1.yaml"
    phase6.edit(t1, "description: \"Valorisation d'1,7 ETP pour la réalisation de 671 diagnostics",
                "description: \"Modèle d'avenant n°7 : valorisation d'1,7 ETP pour la réalisation de 671 diagnostics")
    (f,) = found(phase6.root, "modele.numero")
    assert "ligne t1-o1-tous-parrains : la description cite « Modèle d'avenant n°7 » mais la ligne signe le " \
           "modèle avenant-6 (n°6)" in f.message
    assert f.loc.line == phase6.line_of(t1, "description: \"Modèle d'avenant n°7")
    # its own model's number: fine; an avenant's rank or an annex number: no model cited
    phase6.edit(t1, "Modèle d'avenant n°7 :", "modèle d’avenant n° 6, avenant n°1 à la convention, annexe n°3 :")
    assert found(phase6.root, "modele.numero") == []


def test_a_line_describing_another_model_fictif(fictif):
    fictif.edit("phase.yaml", "titre: Avenant accueil,", "titre: Avenant accueil, numero: 1,")
    fictif.edit("thematiques/t1.yaml", "description: Financement de 2 ETP",
                "description: Modele d'avenant N°2 - financement de 2 ETP")
    (f,) = found(fictif.root, "modele.numero")
    assert "ligne t1-o2-alpha : la description cite « Modele d'avenant N°2 » mais la ligne signe le modèle " \
           "avenant-accueil (n°1)" in f.message
    fictif.edit("thematiques/t1.yaml", "Modele d'avenant N°2 -", "Avenant n°2 -")  # the avenant's rank: fine
    assert found(fictif.root, "modele.numero") == []


def test_a_model_key_citing_another_number_example(phase6):
    # model 6 renumbered 11 (title and numero agree), its key still says 6
    line = phase6.line_of("phase.yaml", "  avenant-6:")
    phase6.edit("phase.yaml", "    titre: Modèle d'avenant n°6\n    numero: 6\n",
                "    titre: Modèle d'avenant n°11\n    numero: 11\n")
    (f,) = found(phase6.root, "modele.numero")
    assert f.message.startswith("modèle avenant-6 : la clé dit n°6, le modèle est le n°11 (Modèle d'avenant n°11) ; "
                                "les lignes t1-o1-tous-parrains, t1-o1-pif")
    assert f.message.endswith(": nommez-le avenant-11 ou corrigez son numéro")
    assert f.loc.file.endswith("phase.yaml") and f.loc.line == line  # once, at the key


def test_a_model_key_citing_another_number_fictif(fictif):
    # keys without a number (avenant-accueil) say nothing; a numbered key must say the model's own number
    fictif.edit("phase.yaml", "titre: Avenant accueil,", "titre: Modèle d'avenant n°1,")
    assert found(fictif.root, "modele.numero") == []
    fictif.edit("phase.yaml", "avenant-accueil:", "avenant-4:")
    fictif.edit("thematiques/t1.yaml", "document: avenant-accueil", "document: avenant-4", count=2)
    (f,) = found(fictif.root, "modele.numero")
    assert f.message == "modèle avenant-4 : la clé dit n°4, le modèle est le n°1 (Modèle d'avenant n°1) ; les " \
                        "lignes t1-o1-alpha, t1-o2-alpha le citent : nommez-le avenant-1 ou corrigez son numéro"
    fictif.edit("phase.yaml", "avenant-4:", "avenant-1:")
    fictif.edit("thematiques/t1.yaml", "document: avenant-4", "document: avenant-1", count=2)
    assert found(fictif.root, "modele.numero") == []


# ---------------------------------------------------------------------------
# explain points at the line each value is written on


def test_explain_cites_the_line_of_the_amount_fictif(fictif):
    result = CliRunner().invoke(main, ["explain", str(fictif.root), "alpha"])
    assert "montant attribué par la phase : 50 000,00 € (thematiques/t1.yaml:58)" in result.output
    # the same structure funded from two thématique files: each amount at its own file and line
    fictif.edit("thematiques/t4.yaml", "        structure: gamma\n        convention: nouvelle",
                "        structure: alpha\n        convention: plateforme")
    fictif.edit("thematiques/t4.yaml", "document: convention-type", "document: avenant-accueil")
    result = CliRunner().invoke(main, ["explain", str(fictif.root), "alpha"])
    assert "montant attribué par la phase : 62 000,00 €; " in result.output  # a sum: written nowhere
    assert "dont ligne t1-o2-alpha : 50 000,00 € (thematiques/t1.yaml:58)" in result.output
    assert "dont ligne t4-o1-gamma : 12 000,00 € (thematiques/t4.yaml:20)" in result.output
    # the sheet of the dispositif written in t4.yaml is read there too
    assert "annexe 4 : fiche 4.1 « Projets collectifs jeunesse - FAJ collectif » (thematiques/t4.yaml:13)" \
           in result.output


def test_explain_cites_the_line_of_the_amount_example(phase6):
    result = CliRunner().invoke(main, ["explain", str(phase6.root), "pdc-actif"])
    line = phase6.line_of("thematiques/t1.yaml", "        montant: \"79 850,00\"")
    assert f"montant attribué par la phase : 79 850,00 € (thematiques/t1.yaml:{line})" in result.output
    # MEMPA's PLIE convention funded from t1.yaml and t4.yaml
    t4 = "thematiques/t4.yaml"
    phase6.edit(t4, "        structure: mempa\n        convention: nouvelle",
                "        structure: mempa\n        convention: plie")
    phase6.edit(t4, "document: convention-type  # « Convention Type »\n        description: \"Escalier",
                "document: avenant-9\n        description: \"Escalier")
    result = CliRunner().invoke(main, ["explain", str(phase6.root), "mempa"])
    ple = phase6.line_of("thematiques/t1.yaml", "montant: \"53 700,00\"")
    escalade = phase6.line_of(t4, "montant: \"6 200,00\"")
    assert "montant attribué par la phase : 59 900,00 €; " in result.output
    assert f"dont ligne t1-o2-mempa-ple : 53 700,00 € (thematiques/t1.yaml:{ple})" in result.output
    assert f"dont ligne t4-o1-mempa-escalade : 6 200,00 € (thematiques/t4.yaml:{escalade})" in result.output
    # the convention runs to the end of the line written in t4.yaml: the period is read there
    periode = escalade - 1
    assert f"période des lignes : du 01/01/2025 au 31/12/2025 (thematiques/t4.yaml:{periode})" in result.output
    assert f"fiche 4.1 « Projets collectifs jeunesse - FAJ collectif » (thematiques/t4.yaml:" \
           f"{phase6.line_of(t4, 'id: t4-o1-mempa-escalade')})" in result.output
