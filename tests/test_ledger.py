"""The programme ledger (issue 22): phases replayed in order, registry derived, contradictions found.

Every figure is checked against values computed by hand from the fixtures' YAML (see
``fixtures/programme-2025/README.md``); two programmes of different shapes: the fixture (three
phases, a convention created then amended twice, an adjusted budget line) and one made here from
``fixtures/fictif`` (two phases, registry avenant counts of 0 and 1, a created convention whose
number is never given).
"""

from __future__ import annotations

import re
import shutil
from decimal import Decimal
from pathlib import Path

import docx
import pytest
from conftest import FIXTURES, cli

from deliberation.ledger import build_ledger, ledger_to_data
from deliberation.pipeline import build, check
from deliberation.resources import catalogue_dir
from deliberation.settings import Settings

PROGRAMME = FIXTURES / "programme-2025"
AS_WRITTEN = FIXTURES / "programme-2025-as-written"
ANNEXES = (catalogue_dir(),)


#: Phase 3's declared reason for its adjustment (a line of its budget.yaml).
MOTIF = "    motif: engagement 2024 de l'Association Delta annulé (situation budgétaire du 30 septembre 2025)\n"


def _copy(tmp_path: Path, name: str | None = None, *edits: tuple[str, str]) -> Path:
    """A writable copy of the programme, ``name`` (a file of it) edited: each ``old`` (there) → ``new``."""
    root = tmp_path / "programme"
    shutil.copytree(PROGRAMME, root)
    if name is not None:
        text = (root / name).read_text(encoding="utf-8")
        for old, new in edits:
            assert old in text, old
            text = text.replace(old, new)
        (root / name).write_text(text, encoding="utf-8")
    return root


def _data(root: Path) -> dict:
    return ledger_to_data(build_ledger(root, ANNEXES))


def _errors(findings) -> list[tuple[str, str]]:
    return sorted((f.code, f"{Path(f.loc.file).relative_to(FIXTURES)}:{f.loc.line}") for f in findings)


def test_budget_lines_phase_by_phase():
    rows = {(b["code"], b["phase"]): (b["disponible"], b["attendu"], b["ajustement"], b["proposition"], b["apres"])
            for b in _data(PROGRAMME)["budget"]}
    assert rows == {
        # code, phase: disponible declared, expected (left + adjustment), adjustment, proposition, after
        ("C02-446A05", "phase-1"): ("500000.00", None, None, "50000.00", "450000.00"),
        ("C02-446A05", "phase-2"): ("450000.00", "450000.00", None, "30000.00", "420000.00"),
        ("C02-446A05", "phase-3"): ("445000.00", "445000.00", "25000.00", "20000.00", "425000.00"),
        ("C02-428C01", "phase-1"): ("90000.00", None, None, "12000.00", "78000.00"),
        ("C02-428C01", "phase-2"): ("78000.00", "78000.00", None, "8000.00", "70000.00"),
        ("C02-428C01", "phase-3"): ("70000.00", "70000.00", None, "6000.00", "64000.00"),
    }


def test_conventions_and_their_avenants():
    conventions = {(c["structure"], c["cle"]): c for c in _data(PROGRAMME)["conventions"]}
    assert set(conventions) == {("alpha", "plateforme"), ("beta", "plateforme"), ("gamma", "phase-1")}
    gamma = conventions["gamma", "phase-1"]  # created by phase 1, its number learnt in phase 2
    assert (gamma["origine"], gamma["numero"], gamma["montant_initial"], gamma["periode_initiale"]) == (
        "phase-1", "2025-00345", "12000.00", ["2025-01-01", "2025-12-31"])
    assert [(a["numero"], a["phase"], a["date"], a["montant"], a["plafond"], a["periode"][1])
            for a in gamma["avenants"]] == [
        (1, "phase-2", "2025-06-16", "8000.00", "20000.00", "2026-06-30"),
        (2, "phase-3", "2025-10-13", "6000.00", "26000.00", "2026-12-31"),
    ]
    assert (gamma["plafond"], gamma["periode"]) == ("26000.00", ["2025-01-01", "2026-12-31"])
    alpha = conventions["alpha", "plateforme"]  # funded in all three phases
    assert [(a["numero"], a["phase"], a["montant"], a["plafond"]) for a in alpha["avenants"]] == [
        (1, "phase-1", "50000.00", "170000.00"), (2, "phase-2", "30000.00", "200000.00"),
        (3, "phase-3", "20000.00", "220000.00")]
    assert alpha["periode"] == ["2024-01-01", "2026-06-30"]
    beta = conventions["beta", "plateforme"]  # one avenant signed before the year: the next is n°2
    assert (beta["avenants_anterieurs"], [(a["numero"], a["montant"]) for a in beta["avenants"]]) == (
        1, [(2, "0.00")])


def test_structures_over_the_year():
    years = {y["structure"]: y for y in _data(PROGRAMME)["structures"]}
    assert years["alpha"]["total"] == "100000.00"
    assert years["alpha"]["par_phase"] == {"phase-1": "50000.00", "phase-2": "30000.00", "phase-3": "20000.00"}
    assert years["alpha"]["par_dispositif"] == {"1.2": "100000.00"}
    assert years["gamma"]["par_territoire"] == {"Lens-Liévin": "26000.00"}
    assert years["beta"]["total"] == "0.00"
    assert sum(Decimal(y["total"]) for y in years.values()) == Decimal("126000.00")  # 62 000 + 38 000 + 26 000


def test_ledger_command_prints_the_tables():
    run = cli("ledger", str(PROGRAMME))
    assert run.returncode == 0, run.stdout + run.stderr
    lines = run.stdout.splitlines()
    assert re.search(r"C02-446A05\s+phase-3\s+1 000 000,00 €\s+445 000,00 €\s+25 000,00 €\s+445 000,00 €"
                     r"\s+20 000,00 €\s+425 000,00 €", run.stdout)
    assert any(re.fullmatch(r"CCAS de Gamma\s+2025-00345\s+créée en phase-1\s+12 000,00 €\s+12 000,00 €\s+31/12/2025",
                            ln) for ln in lines)
    assert any(re.fullmatch(r"\s+avenant n°2\s+phase-3\s+6 000,00 €\s+26 000,00 €\s+31/12/2026", ln) for ln in lines)
    assert "engagement 2024 de l'Association Delta annulé" in run.stdout
    assert "0 erreur(s), 0 avertissement(s)" in run.stderr
    data = cli("ledger", str(PROGRAMME), "--json")
    assert data.returncode == 0 and '"plafond": "26000.00"' in data.stdout


def test_each_seeded_contradiction_is_located_with_both_figures():
    ledger = build_ledger(AS_WRITTEN, ANNEXES)
    assert _errors(ledger.findings) == [
        ("ledger.avenants", "programme-2025-as-written/phase-2/structures.yaml:14"),
        ("ledger.disponible", "programme-2025-as-written/phase-3/budget.yaml:15"),
        ("ledger.montant", "programme-2025-as-written/phase-3/structures.yaml:6"),
        ("ledger.periode", "programme-2025-as-written/phase-3/structures.yaml:7"),
    ]
    text = {f.code: f.message for f in ledger.findings}
    assert "0 avenant(s) déclaré(s)" in text["ledger.avenants"] and "le grand livre en compte 1" in text[
        "ledger.avenants"] and "le prochain avenant est le n°2" in text["ledger.avenants"]
    assert "disponible déclaré 75 000,00 €" in text["ledger.disponible"]
    assert "a laissé 70 000,00 € (78 000,00 € − 8 000,00 €)" in text["ledger.disponible"]
    assert "écart 5 000,00 €" in text["ledger.disponible"]
    assert "montant déclaré 12 000,00 €, le grand livre donne 20 000,00 €" in text["ledger.montant"]
    assert "du 1er janvier 2025 au 31 décembre 2025" in text["ledger.periode"]
    assert "du 1er janvier 2025 au 30 juin 2026" in text["ledger.periode"]
    run = cli("ledger", str(AS_WRITTEN), "-v")
    assert run.returncode == 1 and "4 erreur(s)" in run.stderr


@pytest.mark.parametrize(("phase", "expected"), [
    ("phase-1", []),
    ("phase-2", [("ledger.avenants", "programme-2025-as-written/phase-2/structures.yaml:14")]),
    ("phase-3", [("ledger.disponible", "programme-2025-as-written/phase-3/budget.yaml:15"),
                 ("ledger.montant", "programme-2025-as-written/phase-3/structures.yaml:6"),
                 ("ledger.periode", "programme-2025-as-written/phase-3/structures.yaml:7")]),
])
def test_a_phase_checked_alone_reports_its_own_contradictions(phase, expected):
    assert _errors(check(Settings(source=AS_WRITTEN / phase)).findings) == expected


@pytest.mark.parametrize("phase", ["phase-1", "phase-2", "phase-3"])
def test_the_programme_phases_are_clean(phase):
    assert check(Settings(source=PROGRAMME / phase)).findings == []


def _paragraphs(path: Path) -> str:
    text = "\n".join(p.text for p in docx.Document(str(path)).paragraphs)
    return text.replace("\u00a0", " ").replace("\u202f", " ")


def test_avenant_numbers_amounts_and_periods_come_from_the_ledger(tmp_path):
    out = {}
    for phase in ("phase-2", "phase-3"):
        out[phase] = tmp_path / phase
        built = build(Settings(source=PROGRAMME / phase, out_dir=out[phase]))
        assert built.files, built.checked.findings
    gamma2 = _paragraphs(out["phase-2"] / "actes/ccas-de-gamma/avenant-phase-1.docx")
    assert "AVENANT N°1" in gamma2
    assert "convention initiale n°2025-00345, signée le 14 avril 2025" in gamma2  # learnt in phase 2
    assert "montant maximum de 20 000,00 €" in gamma2  # 12 000 + 8 000
    gamma3 = _paragraphs(out["phase-3"] / "actes/ccas-de-gamma/avenant-phase-1.docx")
    assert "AVENANT N°2" in gamma3
    assert "Pour la période du 1er janvier 2025 au 30 juin 2026 : 20 000,00 €" in gamma3  # before it: the ledger's
    assert "montant maximum de 26 000,00 €" in gamma3
    assert "au 31 décembre 2026 inclus" in gamma3
    assert "AVENANT N°2" in _paragraphs(out["phase-2"] / "actes/beta-emploi/avenant-plateforme.docx")
    assert "AVENANT N°3" in _paragraphs(out["phase-3"] / "actes/association-alpha/avenant-plateforme.docx")


def _fictif_programme(tmp_path: Path) -> Path:
    """Two phases made of ``fixtures/fictif``: the registry moves up to the programme."""
    root = tmp_path / "aap"
    root.mkdir()
    (root / "programme.yaml").write_text("annee: 2025\nphases: [p1, p2]\n", encoding="utf-8")
    for name in ("p1", "p2"):
        shutil.copytree(FIXTURES / "fictif", root / name)
    shutil.move(root / "p1" / "structures.yaml", root / "structures.yaml")
    (root / "p2" / "structures.yaml").unlink()
    p2 = root / "p2"
    text = (p2 / "phase.yaml").read_text(encoding="utf-8")
    text = text.replace("numero: 2\nintitule", "numero: 3\nintitule").replace("  date: 2025-03-10",
                                                                            "  date: 2025-09-15")
    (p2 / "phase.yaml").write_text(text, encoding="utf-8")
    budget = (p2 / "budget.yaml").read_text(encoding="utf-8")
    # the disponible p1 left: 500 000 − 50 000 and 90 000 − 12 000
    budget = budget.replace('disponible: "500 000,00"', 'disponible: "450 000,00"').replace(
        "disponible: 90000.00", "disponible: 78000.00").replace('{solde: "450 000,00", source: Rapport}',
                                                                 '{solde: "400 000,00", source: Rapport}')
    (p2 / "budget.yaml").write_text(budget, encoding="utf-8")
    t4 = (p2 / "thematiques" / "t4.yaml").read_text(encoding="utf-8")
    (p2 / "thematiques" / "t4.yaml").write_text(t4.replace("convention: nouvelle", "convention: p1").replace(
        "document: convention-type", "document: avenant-accueil"), encoding="utf-8")
    return root


def test_a_second_shape_registry_counts_and_a_number_still_unknown(tmp_path):
    root = _fictif_programme(tmp_path)
    data = _data(root)
    conventions = {(c["structure"], c["cle"]): c for c in data["conventions"]}
    assert [a["numero"] for a in conventions["alpha", "plateforme"]["avenants"]] == [1, 2]
    assert [a["numero"] for a in conventions["beta", "plateforme"]["avenants"]] == [2, 3]  # registry: 1 signed
    gamma = conventions["gamma", "p1"]
    assert (gamma["numero"], gamma["montant_initial"], [a["plafond"] for a in gamma["avenants"]]) == (
        None, "12000.00", ["24000.00"])
    assert [(b["code"], b["phase"], b["apres"]) for b in data["budget"] if b["phase"] == "p2"] == [
        ("C02-446A05", "p2", "400000.00"), ("C02-428C01", "p2", "66000.00")]
    checked = check(Settings(source=root / "p2"))
    assert [f.code for f in checked.findings if f.severity.value == "ERROR"] == []
    gamma_act = next(a for a in checked.acts if a.structure_key == "gamma")
    assert gamma_act.kind == "avenant" and gamma_act.convention.avenants == 0
    # the number of the convention p1 created is still to be filled: the act is a PROJET that says so
    projet = [f for f in checked.findings if f.code == "acte.incomplet" and "CCAS de Gamma" in f.message]
    assert projet and "numéro de la convention" in projet[0].message


def test_an_adjustment_needs_its_reason_and_the_right_amount(tmp_path):
    root = _copy(tmp_path, "phase-3/budget.yaml", ('ajustement: "25 000,00"', 'ajustement: "20 000,00"'),
                 (MOTIF, ""))
    findings = check(Settings(source=root / "phase-3")).findings
    assert sorted((f.code, f.loc.line) for f in findings) == [("ledger.disponible", 8), ("ledger.motif", 9)]
    message = next(f.message for f in findings if f.code == "ledger.disponible")
    assert "a laissé 420 000,00 €" in message and "ajustement déclaré 20 000,00 € : attendu 440 000,00 €" in message
    assert "écart 5 000,00 €" in message


def test_phases_out_of_order_and_a_missing_phase(tmp_path):
    root = _copy(tmp_path)
    (root / "programme.yaml").write_text("annee: 2025\nphases:\n  - phase-2\n  - phase-1\n  - phase-9\n",
                                         encoding="utf-8")
    ledger = build_ledger(root, ANNEXES)
    found = sorted((f.code, Path(f.loc.file).name, f.loc.line) for f in ledger.findings
                   if f.code.startswith("programme."))
    assert ("programme.phase", "programme.yaml", 5) in found  # phase-9: no such folder
    assert ("programme.ordre", "phase.yaml", 4) in found  # phase n°1 after n°2
    assert ("programme.ordre", "phase.yaml", 9) in found  # its séance before the previous one's


def test_bad_programme_files_are_findings_not_tracebacks(tmp_path):
    root = _copy(tmp_path)
    (root / "programme.yaml").write_text("annee: [2025\n", encoding="utf-8")
    run = cli("ledger", str(root))
    assert run.returncode == 1 and "Traceback" not in run.stderr
    assert re.search(r"programme\.yaml:\d+: ERROR: .*\[yaml\.", run.stdout)
    run = cli("ledger", str(FIXTURES / "fictif"))
    assert run.returncode == 2 and "programme.yaml attendu" in run.stdout + run.stderr


def test_a_situation_budgetaire_imported_explains_the_gap(tmp_path):
    """The finance system's workbook gives the disponible and, in a programme, the adjustment and its reason."""
    import openpyxl

    root = _copy(tmp_path, "phase-3/budget.yaml", ('    ajustement: "25 000,00"\n', ""), (MOTIF, ""))
    budget = root / "phase-3" / "budget.yaml"
    assert [f.code for f in check(Settings(source=root / "phase-3")).findings] == ["ledger.disponible"]
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Situation"
    ws.append(["Code opération", "Imputation", "Libellé", "AE", "Disponible", "Ajustement", "Motif de l'ajustement"])
    ws.append(["C02-446A05", "6568/93446", "Indemnisation des organismes référents", 1000000, 445000, 25000,
               "virement de crédits du 30 septembre 2025"])
    ws.append(["C02-428C01", "6568/93428", "Fonds d'aide aux jeunes", 130000, 70000, None, None])
    situation = tmp_path / "situation.xlsx"
    wb.save(situation)
    run = cli("import-xlsx", str(situation), str(root / "phase-3"))
    assert run.returncode == 0, run.stdout + run.stderr
    written = budget.read_text(encoding="utf-8")
    assert re.search(r'ajustement: "?25 000,00"?\n    motif: virement de crédits du 30 septembre 2025\n', written)
    assert check(Settings(source=root / "phase-3")).findings == []
    steps = [b for b in _data(root)["budget"] if b["phase"] == "phase-3" and b["code"] == "C02-446A05"]
    assert (steps[0]["ajustement"], steps[0]["motif"]) == ("25000.00", "virement de crédits du 30 septembre 2025")


def test_the_ledger_replays_each_phase_as_adopted(tmp_path):
    """An amendment adopted in séance in phase 2 changes what phase 3 inherits: ceiling and disponible."""
    root = _copy(tmp_path)
    (root / "phase-2" / "amendements.yaml").write_text(
        "amendements:\n"
        "  - numero: 1\n"
        "    date: 16/06/2025\n"
        "    objet: Séjour prolongé pour le CCAS de Gamma\n"
        "    auteur: Le Président\n"
        "    modifications:\n"
        "      - ligne: p2-gamma\n"
        '        montant: "9 000,00"\n', encoding="utf-8")
    data = _data(root)
    gamma = next(c for c in data["conventions"] if c["structure"] == "gamma")
    assert [(a["numero"], a["montant"], a["plafond"]) for a in gamma["avenants"]] == [
        (1, "9000.00", "21000.00"), (2, "6000.00", "27000.00")]
    # phase 3 declared what phase 2 left as presented (70 000): as adopted, it left 69 000
    findings = check(Settings(source=root / "phase-3")).findings
    assert [(f.code, Path(f.loc.file).name, f.loc.line) for f in findings] == [
        ("ledger.disponible", "budget.yaml", 15)]
    assert "a laissé 69 000,00 € (78 000,00 € − 9 000,00 €)" in findings[0].message


def test_ledger_writes_its_workbook_and_report_only_where_it_may(tmp_path):
    out = tmp_path / "grand-livre"
    run = cli("ledger", str(PROGRAMME), "-o", str(out), "--sans-pdf", "-q")
    assert run.returncode == 0, run.stderr
    assert sorted(p.name for p in out.iterdir()) == ["programme.docx", "programme.xlsx"]
    (out / "notes.txt").write_text("à moi", encoding="utf-8")
    run = cli("ledger", str(PROGRAMME), "-o", str(out), "--sans-pdf", "-q")
    assert run.returncode == 3 and "notes.txt" in run.stderr
    assert (out / "notes.txt").read_text(encoding="utf-8") == "à moi"
    run = cli("ledger", str(AS_WRITTEN), "-o", str(tmp_path / "non"), "--sans-pdf", "-q")
    assert run.returncode == 1 and not (tmp_path / "non").exists()


def test_build_in_a_programme_writes_the_consolidated_convention(tmp_path):
    built = build(Settings(source=PROGRAMME / "phase-3", out_dir=tmp_path / "p3"))
    assert "actes/ccas-de-gamma/convention-2025-00345-consolidee.docx" in built.files
    assert "actes/ccas-de-gamma/convention-2025-00345-consolidee-suivi.docx" in built.files
    text = _paragraphs(tmp_path / "p3" / "actes/ccas-de-gamma/convention-2025-00345-consolidee.docx")
    assert "modifié par les avenants n°1 du 16 juin 2025 et n°2 du 13 octobre 2025" in text
    assert "montant maximum de 26 000,00 €" in text and "au 31 décembre 2026 inclus" in text
    assert any("Association Alpha, convention 2024-00100 : texte initial inconnu" in n for n in built.notes)
