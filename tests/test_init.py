"""``deliberation init``: a new phase folder from the workbooks, the rest « à compléter » (issue 21, point 2)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import FIXTURES, tree_state

from deliberation import pipeline
from deliberation.cli import main
from deliberation.findings import Severity
from deliberation.load.yaml import convert_text
from deliberation.model import NOUVELLE, PhaseInfo
from deliberation.settings import Settings
from deliberation.xlsx.export import workbook

#: The findings an initialised folder may have: values written « à compléter » (errors) and the acts'
#: blanks that follow from them or from the registry (warnings, « valeur(s) à compléter »).
TO_COMPLETE = {"schema.a_completer": Severity.ERROR, "acte.incomplet": Severity.WARNING}
LIGNE_FIELDS = ("id", "territoire", "structure", "convention", "nature", "etp", "etp_valorises", "volume",
                "periode", "montant", "document", "description")


def _export(fixture: Path, tmp_path: Path) -> Path:
    """The fixture's annexe 4 workbook, as ``build`` writes it."""
    checked = pipeline.check(Settings(source=fixture))
    path = tmp_path / f"{fixture.name}-annexe-4.xlsx"
    path.write_bytes(workbook(checked.dossier, checked.figures))
    return path


def _init(*args: str):
    return CliRunner().invoke(main, ["init", *args])


def _ligne(ligne) -> tuple:
    values = []
    for name in LIGNE_FIELDS:
        v = getattr(ligne, name)
        if name == "volume" and v is not None:
            v = (v.nombre, v.unite)
        if name == "periode" and v is not None:
            v = (v.debut, v.fin)
        values.append(v)
    return tuple(values)


def _expected_blanks(d) -> int:
    """How many values ``init`` leaves « à compléter » for dossier ``d``'s shape (see ``xlsx/scaffold.py``)."""
    top = 4 + 7 + 3 + 7 + 1  # phase, séance, délibération, rapport, commissions
    models = {ligne.document for _, _, ligne in d.lignes()}
    avenants = {ligne.document for _, _, ligne in d.lignes() if ligne.convention != NOUVELLE}
    cited: dict[tuple, list] = {}
    for _, _, ligne in d.lignes():
        if ligne.convention != NOUVELLE:
            docs = cited.setdefault((ligne.structure, ligne.convention), [])
            if ligne.document not in docs:
                docs.append(ligne.document)
    fusions = {docs[0] for docs in cited.values() if len(docs) > 1}
    aliases = {t for t in {ligne.territoire for _, _, ligne in d.lignes()} if t in d.info.alias_territoires}
    operations = sum(len(t.operations) for t in d.thematiques)
    return top + len(models) + len(avenants) + len(fusions) + len(aliases) + len(d.thematiques) + 3 * operations


@pytest.mark.parametrize("name", ["phase-6-2024", "phase-3-2026"])
def test_init_from_the_export_reproduces_lines_and_budget(name, tmp_path):
    """Verify init from a fixture's own workbook and registry gives its lines, numbers and budget, and only blanks."""
    fixture = FIXTURES / name
    book = _export(fixture, tmp_path)
    target = tmp_path / "nouvelle"
    result = _init(str(target), "--depuis", str(book), "--registre", str(fixture / "structures.yaml"))
    assert result.exit_code == 0, result.output
    assert f"{target} créé" in result.output
    assert (target / "structures.yaml").read_bytes() == (fixture / "structures.yaml").read_bytes()
    want = pipeline.check(Settings(source=fixture)).dossier
    got_checked = pipeline.check(Settings(source=target))
    got = got_checked.dossier
    assert [_ligne(x) for _, _, x in got.lignes()] == [_ligne(x) for _, _, x in want.lignes()]
    assert [(t.numero, o.numero, o.budget) for t, o in got.operations()] == \
        [(t.numero, o.numero, o.budget) for t, o in want.operations()]
    assert [t.numero for t in got.thematiques] == [t.numero for t in want.thematiques]
    assert [(b.code, b.imputation, b.libelle, b.ae, b.disponible) for b in got.budget] == \
        [(b.code, b.imputation, b.libelle, b.ae, b.disponible) for b in want.budget]
    # titles are not in the workbook: left to complete, never invented
    assert all(t.titre is None and "titre" in t.blanks for t in got.thematiques)
    assert all(o.titre is None and o.narrative is None for _, o in got.operations())
    findings = got_checked.findings
    assert {f.code for f in findings} == set(TO_COMPLETE)
    assert all(f.severity is TO_COMPLETE[f.code] and "à compléter" in f.message for f in findings)
    blanks = [f for f in findings if f.code == "schema.a_completer"]
    assert len(blanks) == _expected_blanks(want)
    date = next(f for f in blanks if f.loc.path == "seance.date")
    assert date.message == "seance.date à compléter : date de la réunion"
    lines = (target / "phase.yaml").read_text(encoding="utf-8").splitlines()
    assert lines[date.loc.line - 1].startswith("  date: à compléter")
    for f in blanks:  # each finding points at the line that says « à compléter »
        text = Path(f.loc.file).read_text(encoding="utf-8").splitlines()[f.loc.line - 1]
        assert "à compléter" in text.split("#")[0], (f, text)
    assert f"{len(blanks)} valeur(s) « à compléter »" in result.output


def test_init_without_registry_takes_names_and_conventions_from_the_workbook(tmp_path):
    """Verify a registry built from the workbook: each structure by key and name, its conventions to complete."""
    fixture = FIXTURES / "fictif"
    target = tmp_path / "fictif"
    result = _init(str(target), "--depuis", str(_export(fixture, tmp_path)))
    assert result.exit_code == 0, result.output
    want = pipeline.check(Settings(source=fixture)).dossier
    checked = pipeline.check(Settings(source=target))
    used = {ligne.structure for _, _, ligne in want.lignes()}
    assert {k: s.nom for k, s in checked.dossier.structures.items()} == {k: want.structures[k].nom for k in used}
    for _, _, ligne in checked.dossier.lignes():
        if ligne.convention != NOUVELLE:
            conv = checked.dossier.structures[ligne.structure].conventions[ligne.convention]
            assert conv.numero is None and conv.signature is None  # nothing invented
    assert [_ligne(x) for _, _, x in checked.dossier.lignes()] == [_ligne(x) for _, _, x in want.lignes()]
    # a convention known by its key only: its annexes and period are to complete, so are articles 1 and 3
    # the fictitious names (« Beta ») are in fictif's own glossary, which a workbook does not carry
    assert {f.code for f in checked.findings} == {*TO_COMPLETE, "acte.clause_indecise", "orthographe.mot"}
    assert {f.message.split(" :")[0] for f in checked.findings if f.code == "orthographe.mot"} == {"« Beta »"}
    undecided = [f for f in checked.findings if f.code == "acte.clause_indecise"]
    assert undecided and all("pas déclarée" in f.message or "pas déclarées" in f.message for f in undecided)


def test_situation_gives_the_budget_lines_of_the_phase(tmp_path):
    """Verify --situation: AE and disponible from the finance system's workbook, its other codes ignored."""
    target = tmp_path / "p"
    result = _init(str(target), "--depuis", str(FIXTURES / "xlsx" / "phase-6-2024-annexe-4.xlsx"),
                   "--situation", str(FIXTURES / "xlsx" / "situation-budgetaire.xlsx"),
                   "--registre", str(FIXTURES / "phase-6-2024"))
    assert result.exit_code == 0, result.output
    budget = {b.code: b for b in pipeline.check(Settings(source=target)).dossier.budget}
    assert sorted(budget) == ["C01-444H02", "C02-428C01", "C02-446A05"]
    assert str(budget["C02-428C01"].disponible) == "88000.00"  # the situation's figure, not the annexe's 90 500
    text = (target / "budget.yaml").read_text(encoding="utf-8")
    assert "situation-budgetaire.xlsx (situation budgétaire)" in text
    assert 'disponible: "88 000,00"' in text


def _refused(result, code: str, where: Path) -> None:
    assert result.exit_code == 1, result.output
    shown = os.path.relpath(where) if not os.path.relpath(where).startswith("..") else str(where)
    assert f"{shown}: ERROR: " in result.output and f"[{code}]" in result.output
    assert "création refusée" in result.output and "Traceback" not in result.output


def test_not_an_xlsx_is_refused_and_nothing_is_written(tmp_path):
    """Verify a text file named .xlsx: a located French error, exit 1, no folder."""
    fake = tmp_path / "annexe.xlsx"
    fake.write_text("Ligne;Montant\n", encoding="utf-8")
    before = tree_state(tmp_path)
    result = _init(str(tmp_path / "p"), "--depuis", str(fake))
    _refused(result, "xlsx.illisible", fake)
    assert tree_state(tmp_path) == before


def test_a_workbook_without_annexe_4_sheet_is_refused(tmp_path):
    """Verify a budget-situation workbook given as annexe 4, and an annexe 4 given as situation."""
    situation = FIXTURES / "xlsx" / "situation-budgetaire.xlsx"
    annexe = FIXTURES / "xlsx" / "phase-6-2024-annexe-4.xlsx"
    before = tree_state(tmp_path)
    result = _init(str(tmp_path / "p"), "--depuis", str(situation))
    _refused(result, "init.annexe4", situation)
    assert "aucune feuille d'annexe 4" in result.output
    assert tree_state(tmp_path) == before
    only_annexe = tmp_path / "annexe-seule.xlsx"
    from openpyxl import load_workbook

    wb = load_workbook(annexe)
    del wb["Contrôle budgétaire"]
    wb.save(only_annexe)
    before = tree_state(tmp_path)
    result = _init(str(tmp_path / "p"), "--depuis", str(annexe), "--situation", str(only_annexe))
    _refused(result, "init.situation", only_annexe)
    assert tree_state(tmp_path) == before


def test_a_missing_registry_is_refused(tmp_path):
    """Verify --registre naming no file: a French error at its path, exit 1, nothing written."""
    missing = tmp_path / "ailleurs" / "structures.yaml"
    before = tree_state(tmp_path)
    result = _init(str(tmp_path / "p"), "--depuis", str(FIXTURES / "xlsx" / "phase-6-2024-annexe-4.xlsx"),
                   "--registre", str(missing))
    _refused(result, "init.registre", missing)
    assert "registre introuvable" in result.output
    assert tree_state(tmp_path) == before


def test_an_existing_dossier_is_refused_an_empty_one_is_filled(tmp_path):
    """Verify a non-empty DOSSIER is left byte-identical (exit 1), and an empty one receives the phase."""
    book = str(FIXTURES / "xlsx" / "phase-6-2024-annexe-4.xlsx")
    target = tmp_path / "existant"
    target.mkdir()
    (target / "notes.txt").write_text("à garder\n", encoding="utf-8")
    before = tree_state(tmp_path)
    result = _init(str(target), "--depuis", book)
    _refused(result, "init.dossier", target)
    assert "existe déjà" in result.output
    assert tree_state(tmp_path) == before
    empty = tmp_path / "vide"
    empty.mkdir()
    result = _init(str(empty), "--depuis", book)
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in empty.iterdir()) == ["budget.yaml", "phase.yaml", "structures.yaml", "thematiques"]
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temporary folder left


def test_blank_marker_is_a_located_finding_and_no_value():
    """Verify « à compléter » (any case, without accents) reads as absent, with an error at its own line."""
    text = ("annee: 2024\nnumero: A COMPLETER\nintitule: x\ndepartement: y\nseance: à compléter\n"
            "deliberation: {numero: 2024-1, titre: t, visas: [v]}\nrapport: à  compléter\ncommissions: []\n"
            "alias_territoires: {Côte: à compléter}\n")
    info, findings = convert_text(text, PhaseInfo, "phase.yaml")
    assert info.numero is None and info.seance is None and info.blanks == {"numero", "seance", "rapport"}
    assert "Côte" in info.alias_territoires  # declared, its territories to complete
    got = [(f.code, f.loc.line, f.message) for f in findings]
    assert got == [
        ("schema.a_completer", 2, "numero à compléter : numéro de la phase"),
        ("schema.a_completer", 5, "seance à compléter : la réunion de la Commission Permanente"),
        ("schema.a_completer", 7, "rapport à compléter : le rapport du Président"),
        ("schema.a_completer", 9, "alias_territoires.Côte à compléter : territoires couverts par l'alias"),
    ]
