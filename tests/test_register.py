"""The register of acts (issue 21): actes/registre.xlsx, actes/registre.pdf and the signature pack actes.pdf."""

from __future__ import annotations

import io
import shutil
from decimal import Decimal
from pathlib import Path

import pytest
from conftest import FIXTURES, adopted_templates
from openpyxl import load_workbook
from pypdf import PdfReader

from deliberation import pipeline
from deliberation.render.register import COLUMNS, register
from deliberation.settings import Settings


def rows(path: Path) -> list[dict]:
    ws = load_workbook(path).active
    header = [c.value for c in ws[1]]
    assert tuple(header) == COLUMNS
    return [dict(zip(header, (c.value for c in r), strict=True)) for r in ws.iter_rows(min_row=2)]


def text(pdf: Path | bytes) -> str:
    reader = PdfReader(io.BytesIO(pdf) if isinstance(pdf, bytes) else str(pdf))
    return "\n".join(page.extract_text() for page in reader.pages)


@pytest.mark.libreoffice
def test_example_register_lists_the_22_acts_with_their_status(built_example):
    """Verify the example's register: 22 acts, 21 with blanks, Pas-de-Calais Actif complete but reconstructed."""
    table = rows(built_example / "actes" / "registre.xlsx")
    assert len(table) == 22
    assert [r["N°"] for r in table] == list(range(1, 23))
    assert all(r["Statut"].startswith("PROJET") for r in table)
    complete = [r for r in table if r["Valeurs à compléter"] in (None, "")]
    assert [r["Structure (raison sociale)"] for r in complete] == ["Pas-de-Calais Actif"]
    pdc = complete[0]
    assert pdc["Convention"] == "Avenant à la convention n°2024-01213"
    assert pdc["Modèle voté"] == "avenant-10 (annexe 10)"
    assert pdc["Conformité au modèle"].startswith("conforme")
    assert pdc["Statut"] == "PROJET — valeurs complètes, texte reconstitué : avenant.docx"
    assert pdc["Montant"] == 79850 and pdc["Ligne budgétaire"] == "C02-446A05"
    mempa = [r for r in table if r["Structure (raison sociale)"] == "MEMPA"]
    assert [r["Convention"].split(" « ")[0] for r in mempa] == ["Avenant à la convention"] * 2 + ["Nouvelle convention"]
    assert mempa[0]["Conformité au modèle"] == "non conforme (2 article(s))"  # avenant-5 + avenant-8 (README)
    assert "SIRET" in mempa[0]["Valeurs à compléter"]
    assert sum(r["Conformité au modèle"].startswith("non conforme") for r in table) == 4  # the 4 acte.modele_divergent
    assert sum(r["Conformité au modèle"] == "sans objet" for r in table) == 6  # the six new conventions
    checked = pipeline.check(Settings(source=FIXTURES / "phase-6-2024"))
    assert sum(Decimal(str(r["Montant"])) for r in table) == checked.figures.phase.montant


@pytest.mark.libreoffice
def test_example_register_pdf_and_signature_pack(built_example):
    """Verify registre.pdf names every act and actes.pdf holds the one act whose values are complete."""
    printed = " ".join(text(built_example / "actes" / "registre.pdf").split())
    assert "Registre des actes — Délibération n°2024-587" in printed
    assert "22 actes : 1 aux valeurs complètes, 21 à compléter ; total 871 198,00 €." in printed.replace("\u202f", " ")
    for name in ("MEMPA", "Pas-de-Calais Actif", "CCAS de Liévin", "IMPACT OVAL", "AMIE du Boulonnais"):
        assert name in printed
    pack = PdfReader(str(built_example / "actes.pdf"))
    assert [o.title for o in pack.outline] == [
        "Pas-de-Calais Actif — Avenant à la convention n°2024-01213 (PROJET : texte reconstitué)"]
    act = PdfReader(str(built_example / "actes" / "pas-de-calais-actif" / "avenant-2024-01213.pdf"))
    assert len(pack.pages) == len(act.pages)


@pytest.mark.libreoffice
def test_complete_phase_signature_pack_has_every_act(tmp_path):
    """Verify on fictif with adopted texts: every act complete, all in actes.pdf, in register order."""
    src = tmp_path / "phase"
    shutil.copytree(FIXTURES / "fictif", src)
    out = tmp_path / "out"
    adopted = adopted_templates(tmp_path)
    built = pipeline.build(Settings(source=src, out_dir=out, pdf=True, final=True, templates=adopted))
    assert built.written, [str(f) for f in built.checked.findings]
    table = rows(out / "actes" / "registre.xlsx")
    assert table and all(r["Statut"] == "complet" for r in table)
    assert {r["Valeurs à compléter"] for r in table} == {None}
    pack = PdfReader(str(out / "actes.pdf"))
    assert [o.title for o in pack.outline] == [f"{r['Structure (raison sociale)']} — {r['Convention']}" for r in table]
    # page for page, the acts' own PDFs in the register's order; each bookmark on its act's first page
    acts = [PdfReader(str(p)) for p in (out / "actes").glob("*/*.pdf")]
    by_first = {a.pages[0].extract_text(): a for a in acts}
    start = 0
    for item in pack.outline:
        assert pack.get_destination_page_number(item) == start
        act = by_first[pack.pages[start].extract_text()]
        assert [p.extract_text() for p in pack.pages[start:start + len(act.pages)]] == [
            p.extract_text() for p in act.pages]
        start += len(act.pages)
    assert start == len(pack.pages) == sum(len(a.pages) for a in acts)
    # the sheet descriptions shared by several acts are stored once: smaller than the acts side by side
    # (measured: 0.81 here, 12 MB against 39 MB on the bench's 500-avenant phase)
    assert (out / "actes.pdf").stat().st_size < 0.9 * sum(p.stat().st_size for p in (out / "actes").glob("*/*.pdf"))
    printed = text(out / "actes" / "registre.pdf")
    assert f"{len(table)} aux valeurs complètes, 0 à compléter" in printed


def test_word_only_build_writes_the_register_workbook(tmp_path):
    """Verify a build without PDF writes registre.xlsx (phase-3-2026: another shape) and neither PDF."""
    out = tmp_path / "out"
    built = pipeline.build(Settings(source=FIXTURES / "phase-3-2026", out_dir=out))
    assert built.written
    table = rows(out / "actes" / "registre.xlsx")
    entries = register(built.checked)
    assert len(table) == len(entries) == len(built.checked.acts) > 0
    assert [r["Structure (raison sociale)"] for r in table] == [e.structure for e in entries]
    assert {r["Valeurs à compléter"] for r in table} == {None}  # phase-3-2026: a complete registry
    assert all(r["Statut"].startswith("PROJET — valeurs complètes, texte reconstitué") for r in table)
    assert not (out / "actes" / "registre.pdf").exists() and not (out / "actes.pdf").exists()
    again = tmp_path / "again"
    pipeline.build(Settings(source=FIXTURES / "phase-3-2026", out_dir=again))
    assert (again / "actes" / "registre.xlsx").read_bytes() == (out / "actes" / "registre.xlsx").read_bytes()


def test_register_of_phase3_names_legal_names_and_budget_lines():
    """Verify phase-3-2026's register: raison sociale, conventions, model numbers and amounts from the data."""
    checked = pipeline.check(Settings(source=FIXTURES / "phase-3-2026"))
    entries = register(checked)
    assert len(entries) == len(checked.acts)
    d = checked.dossier
    for e, act in zip(entries, checked.acts, strict=True):
        s = d.structures[act.structure_key]
        assert e.structure == (s.raison_sociale or s.nom)
        assert e.montant == sum((ligne.montant for _, _, ligne in act.lignes), Decimal(0))
        assert set(e.lignes_budgetaires) == {o.budget for _, o, _ in act.lignes}
    assert {e.kind for e in entries} == {"avenant", "convention"}
