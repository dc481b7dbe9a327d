"""``deliberation init`` of a new phase inside a programme (issue 22): derived, not typed.

The new phase's registry and disponible are what the programme's phases leave (``ledger.programme_state``);
figures by hand from ``fixtures/programme-2025/README.md``. Two shapes: phase 4 after the fixture's three
phases (listed phases, a structure new to the programme, a situation budgétaire that differs) and phase 2
after phase 1 alone (phases found by folder, every structure known, conventions derived, one created by
phase 1).
"""

from __future__ import annotations

import datetime as dt
import shutil
from decimal import Decimal
from pathlib import Path

import openpyxl
from conftest import FIXTURES, cli, tree_state

from deliberation.ledger import build_ledger, programme_state
from deliberation.pipeline import check
from deliberation.resources import catalogue_dir
from deliberation.settings import Settings
from deliberation.xlsx.reading import rt_yaml

PROGRAMME = FIXTURES / "programme-2025"
ANNEXES = (catalogue_dir(),)
HEAD = ["Thématique", "Opération", "Ligne", "Territoire", "Structure", "Convention", "Nature", "Début", "Fin",
        "Action", "Montant", "Document à signer", "Code opération"]

#: What ``init`` leaves « à compléter » in phase.yaml whatever the lines (séance, act, report, commissions).
PHASE_BLANKS = ["intitule", "departement", "seance.date", "seance.lieu", "seance.president", "seance.secretaire",
                "seance.presents", "seance.vote", "seance.president_signature", "deliberation.numero",
                "deliberation.titre", "deliberation.visas", "rapport.numero", "rapport.pole", "rapport.direction",
                "rapport.territoires", "rapport.cantons", "rapport.epci", "rapport.introduction", "commissions"]
#: Per thématique file: its title, its one opération's title, dispositif and narrative.
THEMATIQUE_BLANKS = ["titre", "operations[0].titre", "operations[0].dispositif", "operations[0].narrative"]


def _programme(tmp_path: Path, keep: int = 3) -> Path:
    """A copy of the programme with its first ``keep`` phases (fewer: phases found by folder, no list)."""
    root = tmp_path / "programme"
    shutil.copytree(PROGRAMME, root)
    if keep < 3:
        for n in range(keep + 1, 4):
            shutil.rmtree(root / f"phase-{n}")
        text = (root / "programme.yaml").read_text(encoding="utf-8")
        (root / "programme.yaml").write_text(text.replace("phases: [phase-1, phase-2, phase-3]\n", ""),
                                             encoding="utf-8")
    return root


def _annexe4(path: Path, rows: list[list], convention: bool = True) -> Path:
    """An annexe 4 workbook as the Mission Budget keeps it: structures by name, no structure code."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Annexe 4"
    drop = None if convention else HEAD.index("Convention")
    ws.append([h for i, h in enumerate(HEAD) if i != drop])
    for row in rows:
        ws.append([v for i, v in enumerate(row) if i != drop])
    wb.save(path)
    return path


#: Phase 4: Alpha (named by its raison sociale) on its convention, a structure new to the programme.
PHASE_4 = [
    [1, 1, "p4-alpha", "Arrageois", "Association Alpha Insertion", "plateforme", "financement",
     dt.date(2026, 7, 1), dt.date(2026, 12, 31), "Financement de 2 ETP", 15000, "avenant-suivi-prolongation",
     "C02-446A05"],
    [4, 1, "p4-epsilon", "Lens-Liévin", "Epsilon Solidarité", "nouvelle", "financement", dt.date(2026, 1, 1),
     dt.date(2026, 12, 31), "Projet collectif jeunesse", 10000, "convention-type", "C02-428C01"],
]


def _situation(path: Path, disponible_446: int) -> Path:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Situation"
    ws.append(["Code opération", "Imputation", "Libellé", "AE", "Disponible"])
    ws.append(["C02-446A05", "6568/93446", "Indemnisation des organismes référents", 1000000, disponible_446])
    ws.append(["C02-428C01", "6568/93428", "Fonds d'aide aux jeunes", 130000, 64000])
    ws.append(["C09-999Z99", "6568/9999", "Autre opération du logiciel financier", 5000, 5000])
    wb.save(path)
    return path


def _found(folder: Path) -> list[tuple[str, str, str, str]]:
    """``check`` of a phase: (code, severity, file relative to the phase, field path), in order."""
    return [(f.code, f.severity.value, str(Path(f.loc.file).relative_to(folder)) if f.loc.file.startswith(
        str(folder)) else str(Path(f.loc.file).relative_to(folder.parent)), f.loc.path)
        for f in check(Settings(source=folder)).findings]


def _blanks(file: str, paths: list[str]) -> list[tuple[str, str, str, str]]:
    return [("schema.a_completer", "ERROR", file, p) for p in paths]


def _list_phase_4(root: Path) -> None:
    text = (root / "programme.yaml").read_text(encoding="utf-8")
    (root / "programme.yaml").write_text(text.replace("phase-3]", "phase-3, phase-4]"), encoding="utf-8")


def test_phase_4_takes_its_registry_and_disponible_from_the_ledger(tmp_path):
    """Only the new structure in structures.yaml, what phase 3 left as disponible, number 4, a hint to list it."""
    root = _programme(tmp_path)
    programme_before = (root / "programme.yaml").read_bytes()
    phase = root / "phase-4"
    run = cli("init", str(phase), "--depuis", str(_annexe4(tmp_path / "annexe-4.xlsx", PHASE_4)))
    assert run.returncode == 0, run.stdout + run.stderr
    assert (root / "programme.yaml").read_bytes() == programme_before  # the user's file, never modified
    assert "registre et disponibles laissés par phase-3" in run.stderr
    assert (f"{root / 'programme.yaml'} liste ses phases sans « phase-4 » ; ajoutez-la à sa place dans l'ordre "
            "des séances (« phases: [phase-1, phase-2, phase-3, phase-4] »)") in run.stderr
    registry = rt_yaml().load((phase / "structures.yaml").read_text(encoding="utf-8"))
    assert registry == {"structures": {"epsilon-solidarite": {"nom": "Epsilon Solidarité"}}}
    budget = (phase / "budget.yaml").read_text(encoding="utf-8")
    assert 'disponible: "425 000,00"  # laissé par phase-3 : 425 000,00 (grand livre du programme)' in budget
    assert 'disponible: "64 000,00"  # laissé par phase-3 : 64 000,00' in budget
    assert "ajustement" not in budget.split("lignes:")[1]
    assert "numero: 4  # la phase qui suit phase-3\n" in (phase / "phase.yaml").read_text(encoding="utf-8")

    # not listed yet: check says where and what to do, and cannot derive the registry
    found = check(Settings(source=phase)).findings
    listed = [f for f in found if f.code == "programme.phase"]
    assert [(Path(f.loc.file).name, f.loc.line) for f in listed] == [("programme.yaml", 6)]
    assert listed[0].message == ("la phase « phase-4 » n'est pas dans la liste « phases » de son programme : "
                                 "ajoutez-la à sa place dans l'ordre des séances ; d'ici là, son registre et ses "
                                 "disponibles ne sont pas déduits des phases précédentes")

    _list_phase_4(root)
    checked = check(Settings(source=phase))
    d = checked.dossier
    assert (d.info.annee, d.info.numero) == (2025, 4)
    assert [(b.code, b.ae, b.disponible, b.ajustement) for b in d.budget] == [
        ("C02-446A05", Decimal("1000000.00"), Decimal("425000.00"), None),
        ("C02-428C01", Decimal("130000.00"), Decimal("64000.00"), None)]
    assert [(x.id, x.structure, x.convention) for _, _, x in d.lignes()] == [
        ("p4-alpha", "alpha", "plateforme"), ("p4-epsilon", "epsilon-solidarite", "nouvelle")]
    assert d.structures["alpha"].conventions["plateforme"].avenants == 3  # the next avenant is n°4
    # the only errors are the values the workbook does not carry; the two acts are PROJETs until then
    assert _found(phase) == [
        ("acte.incomplet", "WARNING", "phase.yaml", ""),  # Alpha's avenant: signatory, dispositif sheet
        *_blanks("phase.yaml", [*PHASE_BLANKS, "modeles.avenant-suivi-prolongation.titre",
                                "modeles.avenant-suivi-prolongation.clauses", "modeles.convention-type.titre"]),
        ("acte.incomplet", "WARNING", "structures.yaml", "structures.epsilon-solidarite"),
        *_blanks("thematiques/t1.yaml", THEMATIQUE_BLANKS), *_blanks("thematiques/t4.yaml", THEMATIQUE_BLANKS)]
    alpha = next(f for f in checked.findings if f.code == "acte.incomplet" and "Alpha" in f.message)
    assert "numéro de la convention" not in alpha.message  # 2024-00100, its ceiling and period: from the ledger


def test_a_situation_that_differs_is_an_adjustment_whose_reason_is_to_complete(tmp_path):
    """--situation gives 430 000 where phase 3 left 425 000: ajustement 5 000,00, motif « à compléter »."""
    root = _programme(tmp_path)
    _list_phase_4(root)  # listed before init: no hint
    phase = root / "phase-4"
    run = cli("init", str(phase), "--depuis", str(_annexe4(tmp_path / "annexe-4.xlsx", PHASE_4)),
              "--situation", str(_situation(tmp_path / "situation.xlsx", 430000)))
    assert run.returncode == 0, run.stdout + run.stderr
    assert "liste ses phases sans" not in run.stderr
    lines = (phase / "budget.yaml").read_text(encoding="utf-8").splitlines()
    at = lines.index('    disponible: "430 000,00"')
    assert lines[at + 1:at + 3] == [
        '    ajustement: "5 000,00"  # situation budgétaire − laissé par phase-3 : 425 000,00 (grand livre du '
        'programme)',
        "    motif: à compléter  # raison de l'écart (la situation budgétaire ne la donne pas)"]
    d = check(Settings(source=phase)).dossier
    assert [(b.code, b.disponible, b.ajustement, b.motif) for b in d.budget] == [
        ("C02-446A05", Decimal("430000.00"), Decimal("5000.00"), None),
        ("C02-428C01", Decimal("64000.00"), None, None)]  # the same as what phase 3 left: no adjustment
    budget_found = [f for f in _found(phase) if f[2] == "budget.yaml"]
    assert budget_found == _blanks("budget.yaml", ["lignes[0].motif"])  # said once, not also ledger.motif
    text = (phase / "budget.yaml").read_text(encoding="utf-8")
    (phase / "budget.yaml").write_text(text.replace("motif: à compléter", "motif: crédits reportés"),
                                       encoding="utf-8")
    assert [f for f in _found(phase) if f[2] == "budget.yaml"] == []
    steps = {(b.code, b.phase): b for b in build_ledger(root, ANNEXES).budget}
    step = steps[("C02-446A05", "phase-4")]
    assert (step.attendu, step.ajustement, step.proposition, step.apres) == (
        Decimal("430000.00"), Decimal("5000.00"), Decimal("15000.00"), Decimal("415000.00"))


def test_after_phase_1_the_conventions_are_derived_and_no_registry_is_written(tmp_path):
    """Phase 2 after phase 1 alone: Alpha's only convention, Gamma's created by phase 1 (key « phase-1 »)."""
    root = _programme(tmp_path, keep=1)
    phase = root / "phase-2"
    rows = [
        [1, 1, "p2-alpha", "Arrageois", "Association Alpha", None, "financement", dt.date(2026, 1, 1),
         dt.date(2026, 6, 30), "Financement de 3 ETP", 30000, "avenant-suivi-prolongation", "C02-446A05"],
        [4, 1, "p2-gamma", "Lens-Liévin", "CCAS de Gamma", None, "financement", dt.date(2026, 1, 1),
         dt.date(2026, 6, 30), "Séjour collectif", 8000, "avenant-prolongation", "C02-428C01"],
    ]
    run = cli("init", str(phase), "--depuis", str(_annexe4(tmp_path / "annexe-4.xlsx", rows, convention=False)))
    assert run.returncode == 0, run.stdout + run.stderr
    assert "pas de structures.yaml" in run.stderr and "liste ses phases" not in run.stderr
    assert not (phase / "structures.yaml").exists()
    t4 = (phase / "thematiques" / "t4.yaml").read_text(encoding="utf-8")
    assert "convention: phase-1  # seule convention de gamma dans le registre du programme\n" in t4
    checked = check(Settings(source=phase))
    d = checked.dossier
    assert (d.info.annee, d.info.numero) == (2025, 2)
    assert [(x.structure, x.convention) for _, _, x in d.lignes()] == [("alpha", "plateforme"), ("gamma", "phase-1")]
    assert [(b.code, b.ae, b.disponible) for b in d.budget] == [
        ("C02-446A05", Decimal("1000000.00"), Decimal("450000.00")),
        ("C02-428C01", Decimal("130000.00"), Decimal("78000.00"))]
    gamma = d.structures["gamma"].conventions["phase-1"]
    assert (gamma.montant, gamma.avenants) == (Decimal("12000.00"), 0)
    assert _found(phase) == [
        ("acte.incomplet", "WARNING", "phase.yaml", ""), ("acte.incomplet", "WARNING", "phase.yaml", ""),
        *_blanks("phase.yaml", [*PHASE_BLANKS, "modeles.avenant-suivi-prolongation.titre",
                                "modeles.avenant-suivi-prolongation.clauses", "modeles.avenant-prolongation.titre",
                                "modeles.avenant-prolongation.clauses"]),
        *_blanks("thematiques/t1.yaml", THEMATIQUE_BLANKS), *_blanks("thematiques/t4.yaml", THEMATIQUE_BLANKS)]
    incomplete = sorted(f.message for f in checked.findings if f.code == "acte.incomplet")
    assert "numéro de la convention" in incomplete[1] and "CCAS de Gamma" in incomplete[1]  # not known yet


def test_a_registre_inside_a_programme_is_refused(tmp_path):
    """The registry of a programme's phase is derived: --registre is an error, nothing written."""
    root = _programme(tmp_path)
    book = _annexe4(tmp_path / "annexe-4.xlsx", PHASE_4)
    before = tree_state(tmp_path)
    run = cli("init", str(root / "phase-4"), "--depuis", str(book), "--registre", str(FIXTURES / "fictif"))
    assert run.returncode == 1 and "Traceback" not in run.stderr
    assert "[init.registre]" in run.stdout and "--registre ne s'emploie pas" in run.stdout
    assert tree_state(tmp_path) == before


def test_programme_state_stops_before_a_listed_phase():
    """A phase listed in the middle of the year starts from the phases listed before it."""
    state = programme_state(PROGRAMME, ANNEXES, before="phase-3")
    assert state.complete and state.last.nom == "phase-2"
    assert {code: step.apres for code, step in state.after.items()} == {
        "C02-446A05": Decimal("420000.00"), "C02-428C01": Decimal("70000.00")}
    assert sorted(state.structures["gamma"].conventions) == ["phase-1"]
    everything = programme_state(PROGRAMME, ANNEXES)
    assert everything.last.nom == "phase-3"
    assert {code: step.apres for code, step in everything.after.items()} == {
        "C02-446A05": Decimal("425000.00"), "C02-428C01": Decimal("64000.00")}


def test_the_first_phase_of_a_programme_starts_from_its_registry(tmp_path):
    """No phase yet: the registry is the programme's structures.yaml, the phase is n°1, the budget the workbook's."""
    root = tmp_path / "programme"
    root.mkdir()
    for name in ("programme.yaml", "structures.yaml"):
        shutil.copy(PROGRAMME / name, root / name)
    text = (root / "programme.yaml").read_text(encoding="utf-8")
    (root / "programme.yaml").write_text(text.replace("phases: [phase-1, phase-2, phase-3]\n", ""), encoding="utf-8")
    phase = root / "phase-1"
    run = cli("init", str(phase), "--depuis", str(_annexe4(tmp_path / "annexe-4.xlsx", PHASE_4)))
    assert run.returncode == 0, run.stdout + run.stderr
    registry = rt_yaml().load((phase / "structures.yaml").read_text(encoding="utf-8"))
    assert registry == {"structures": {"epsilon-solidarite": {"nom": "Epsilon Solidarité"}}}
    assert "numero: 1  # la première du programme\n" in (phase / "phase.yaml").read_text(encoding="utf-8")
    d = check(Settings(source=phase)).dossier
    assert d.structures["alpha"].conventions["plateforme"].avenants == 0  # as the year began
    assert [(b.code, b.disponible) for b in d.budget] == [("C02-446A05", None), ("C02-428C01", None)]
    assert "disponible: à compléter" in (phase / "budget.yaml").read_text(encoding="utf-8")


def test_a_previous_phase_with_errors_is_a_warning_of_init(tmp_path):
    """Phase 2 unreadable as YAML: init still starts phase 4, and says what it relies on."""
    root = _programme(tmp_path)
    (root / "phase-2" / "budget.yaml").write_text("lignes: [\n", encoding="utf-8")
    run = cli("init", str(root / "phase-4"), "--depuis", str(_annexe4(tmp_path / "annexe-4.xlsx", PHASE_4)))
    assert run.returncode == 0, run.stdout + run.stderr
    warned = [line for line in run.stdout.splitlines() if line.endswith("[init.programme]")]
    assert len(warned) == 1 and ": WARNING: phase phase-2 : " in warned[0]
    assert "la nouvelle phase en reprend le registre et les disponibles" in warned[0]
