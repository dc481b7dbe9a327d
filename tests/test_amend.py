"""Amendments, diff, CHANGES.md, redlines and incremental rebuilds (issue 6)."""

from __future__ import annotations

import io
import json
import re
import shutil
import zipfile
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import files_of, needs_lo

from deliberation import pipeline
from deliberation.cli import main
from deliberation.render.inspect import docx_lines, typed
from deliberation.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
BASE = ROOT / "fixtures" / "phase-6-2024"
AMENDED = ROOT / "fixtures" / "phase-6-2024-amended"
PDC = "actes/pas-de-calais-actif/avenant-2024-01213.docx"
AMIE = "actes/amie-du-boulonnais/avenant-plie.docx"

AMENDMENT = """amendements:
  - numero: 1
    date: 09/12/2024
    objet: "Essai"
    modifications:
{mods}
"""


def text_of(out: Path, name: str) -> str:
    return "\n".join(typed(x) for x in docx_lines(out / name))


def amended_copy(tmp_path: Path, mods: str) -> Path:
    dest = tmp_path / "dossier"
    shutil.copytree(BASE, dest)
    (dest / "amendements.yaml").write_text(AMENDMENT.format(mods=mods), encoding="utf-8")
    return dest


def check(source: Path):
    return pipeline.check(Settings(source=source))


def found(checked, code: str):
    return [f for f in checked.findings if f.code == code]


# ---------------------------------------------------------------------------
# amendments as data


def test_the_amended_fixture_applies_both_amendments_and_keeps_the_presented_figures():
    c = check(AMENDED)
    assert [f for f in c.findings if f.severity.value == "ERROR"] == []
    adopted = {ligne.id: ligne for _, _, ligne in c.dossier.lignes()}
    presented = {ligne.id: ligne for _, _, ligne in c.presented.lignes()}
    assert adopted["t1-o3-pdc-actif"].montant == Decimal("70000.00")
    assert presented["t1-o3-pdc-actif"].montant == Decimal("79850.00")
    assert "t1-o2-amie-ple" not in adopted and "t1-o2-amie-ple" in presented
    assert c.figures.phase.montant == Decimal("814548.00")  # 871 198 − 9 850 − 46 800
    assert c.presented_figures.phase.montant == Decimal("871198.00")
    assert c.figures.budget["C02-446A05"].solde == Decimal("259717.73")
    # the changed value is located in amendements.yaml
    loc = adopted["t1-o3-pdc-actif"].at("montant")
    assert loc.file.endswith("amendements.yaml") and loc.line == 11
    assert [e.numero for e in c.effects] == [1, 2] and c.effects[1].thematiques == {1}


@pytest.mark.parametrize(("mods", "code", "line", "message"), [
    ("      - ligne: t1-o3-pdc-actf\n        montant: 70 000", "amendement.cible_inconnue", 6,
     "ligne inconnue « t1-o3-pdc-actf » ; vouliez-vous dire « t1-o3-pdc-actif » ?"),
    ("      - ligne: t1-o3-pdc-actif\n        montant: 500 000", "amendement.depassement", 7,
     "la proposition de la ligne budgétaire C02-446A05 passe à 1 132 150,00 €, au-delà du disponible "
     "915 067,73 € (solde -217 082,27 €)"),
    ("      - ligne: t1-o2-amie-ple\n        retrait: oui\n      - ligne: t1-o2-amie-ple\n        montant: 1",
     "amendement.retiree", 8, "la ligne t1-o2-amie-ple a déjà été retirée par l'amendement n°1"),
    ("      - operation: \"9.1\"\n        titre: X", "amendement.cible_inconnue", 6, "opération inconnue « 9.1 »"),
    ("      - ligne: t1-o3-pdc-actif\n        operation: \"1.3\"\n        montant: 1", "amendement.cible", 6,
     "une seule cible"),
    ("      - ligne: t1-o3-pdc-actif\n        budget: C01-444H02", "amendement.champ", 7,
     "« budget » ne peut pas être modifié sur une ligne"),
    ("      - ligne: t1-o3-pdc-actif\n        montant: douze", "nombre.format", 7, "montant"),
    ("      - ligne: t1-o3-pdc-actif", "amendement.action", 6, "une seule de ces actions"),
    ("      - ligne: t1-o3-pdc-actif\n        montant: 79 850,00", "amendement.sans_effet", 7,
     "« montant » vaut déjà la valeur proposée"),
    ("      - operation: \"1.3\"\n        ajout: {id: t1-o4-ccas-lievin, territoire: Artois, structure: pdc-actif, "
     "convention: nouvelle, nature: financement, periode: {debut: 01/01/2025, fin: 31/12/2025}, montant: 1, "
     "document: convention-type, description: x}", "amendement.id_duplique", 7, "existe déjà"),
    ("      - structure: pdc-actif\n        convention: 2099-1\n        montant: 1", "amendement.cible_inconnue", 7,
     "convention inconnue « 2099-1 »"),
])
def test_a_bad_amendment_is_a_located_finding(tmp_path, mods, code, line, message):
    source = amended_copy(tmp_path, mods)
    hits = found(check(source), code)
    assert hits, [f.code for f in check(source).findings]
    f = hits[0]
    assert f.loc.file.endswith("amendements.yaml") and f.loc.line == line, f
    assert message in typed(f.message), f.message


def test_amendment_dated_after_the_seance_and_numbering_gaps_are_reported(tmp_path):
    source = amended_copy(tmp_path, "      - ligne: t1-o3-pdc-actif\n        montant: 70 000")
    text = (source / "amendements.yaml").read_text().replace("numero: 1", "numero: 2").replace(
        "date: 09/12/2024", "date: 10/12/2024")
    (source / "amendements.yaml").write_text(text)
    c = check(source)
    assert "après la séance du 09/12/2024" in found(c, "amendement.date")[0].message
    assert "attendu 1 à 1 sans trou" in found(c, "amendement.numero")[0].message


def test_added_line_registry_change_and_rejected_amendment(tmp_path):
    mods = ("      - operation: \"1.3\"\n        ajout: {id: t1-o3-nouvelle, territoire: Artois, structure: aifor, "
            "convention: nouvelle, nature: financement, periode: {debut: 01/01/2025, fin: 31/12/2025}, "
            "montant: \"1 000\", document: convention-type, description: Action nouvelle}\n"
            "      - structure: pdc-actif\n        siege: 1 rue Neuve 62000 Arras")
    source = amended_copy(tmp_path, mods)
    with (source / "amendements.yaml").open("a") as fh:
        fh.write("  - numero: 2\n    date: 09/12/2024\n    objet: Rejeté\n    sort: rejeté\n    modifications:\n"
                 "      - ligne: t1-o3-pdc-actif\n        montant: 1\n")
    c = check(source)
    assert not [f for f in c.findings if f.severity.value == "ERROR"], c.findings
    ids = {ligne.id: ligne for _, _, ligne in c.dossier.lignes()}
    assert ids["t1-o3-nouvelle"].montant == Decimal("1000") and ids["t1-o3-pdc-actif"].montant == Decimal("79850.00")
    assert c.dossier.structures["pdc-actif"].siege == "1 rue Neuve 62000 Arras"
    assert c.figures.phase.montant == Decimal("872198.00")
    assert [e.numero for e in c.effects] == [1]


# ---------------------------------------------------------------------------
# regeneration: documents, CHANGES.md, redlines, diff


@pytest.fixture(scope="module")
def rebuilt(tmp_path_factory):
    """The base bundle (version 1), then the amended dossier built into the same folder (version 2)."""
    tmp = tmp_path_factory.mktemp("amend")
    out = tmp / "out"
    first = pipeline.build(Settings(source=BASE, out_dir=out))
    assert first.written and first.version == 1
    v1 = files_of(out)
    second = pipeline.build(Settings(source=AMENDED, out_dir=out))
    assert second.written and second.version == 2, second.notes
    return v1, out, second


def test_exactly_the_affected_documents_change(rebuilt):
    v1, out, result = rebuilt
    v2 = files_of(out)
    changed = sorted(n for n in v2 if n.endswith(".docx") and n in v1 and v1[n] != v2[n])
    # annexe 10 is Pas-de-Calais Actif's avenant itself (the filled act the délibération votes): it changes with it
    assert changed == ["02-deliberation.docx", "03-annexe-1-thematique-1.docx",
                       "06-annexe-4-repartition-financiere.docx", "12-annexe-10-avenant-10.docx", PDC]
    assert [n for n in v1 if n.endswith(".docx") and n not in v2] == [AMIE]
    assert v1["01-rapport.docx"] == v2["01-rapport.docx"]  # the rapport keeps the figures as presented
    assert sorted(n for n in v2 if n.startswith("revisions/")) == [f"revisions/{n}" for n in changed]
    # the workbook carries the adopted figures too: it is listed among the modified documents, no redline
    assert v1["annexe-4.xlsx"] != v2["annexe-4.xlsx"] and "revisions/annexe-4.xlsx" not in v2
    # so does the register of acts (an act's amount, an act removed)
    assert result.documents.modifies == sorted([*changed, "actes/registre.xlsx", "annexe-4.xlsx"])
    assert result.documents.supprimes == [AMIE]
    assert "annexe-4.xlsx" in (out / "CHANGES.md").read_text(encoding="utf-8")


def test_documents_carry_the_adopted_figures_and_cite_the_amendments(rebuilt):
    v1, out, _ = rebuilt
    annexe4 = text_of(out, "06-annexe-4-repartition-financiere.docx")
    assert "70 000,00 €" in annexe4 and "79 850,00 €" not in annexe4
    assert "AMIE du Boulonnais" not in annexe4 and "TOTAL Thématique 1 |  |  | 655 350,00 €" in annexe4
    delib = text_of(out, "02-deliberation.docx")
    assert "Vu l'amendement n°1 « Réduction du financement complémentaire de Pas-de-Calais Actif », adopté" in delib
    # « la répartition financière proposée en annexe 4 …, telle que modifiée par les amendements » (issue 18)
    assert re.search(r"montant total de 655 350 € ainsi que la répartition financière proposée en annexe 4 à la "
                     r"présente délibération, telle que modifiée par les amendements n°1 et 2\.", delib)
    assert "comme suit (tableau modifié par les amendements n°1 et 2) :" in delib
    assert "C02-446A05 | 6568/93446 | Indemnisation des organismes référents | 8 589 450,00 | 655 350,00" in delib
    assert "712 000" not in delib
    rapport = text_of(out, "01-rapport.docx")
    assert "712 000" in rapport and "amendement" not in rapport
    assert "70 000,00 €" in text_of(out, PDC)


def test_changes_md_says_what_changed_with_the_figures(rebuilt):
    _, out, _ = rebuilt
    text = (out / "CHANGES.md").read_text(encoding="utf-8")
    assert text.startswith("# Journal des versions — Délibération n°2024-587\n\n## Version 2\n")
    assert "| Ligne | t1-o3-pdc-actif — Pas-de-Calais Actif (Départemental) | montant | 79 850,00 € | 70 000,00 € " \
           "| −9 850,00 € |" in text
    assert "| Ligne | t1-o2-amie-ple — AMIE du Boulonnais (Boulonnais) | ligne retirée | 46 800,00 € | — " \
           "| −46 800,00 € |" in text
    assert "| proposition | 712 000,00 € | 655 350,00 € | −56 650,00 € |" in text
    assert "| solde | 203 067,73 € | 259 717,73 € | +56 650,00 € |" in text
    assert "| Phase | Total de la phase | montant | 871 198,00 € | 814 548,00 € | −56 650,00 € |" in text
    # the five Word documents, the workbook and the register of acts (actes/registre.xlsx)
    assert "- 7 modifié(s) :\n" in text and "  - `annexe-4.xlsx`\n" in text and "  - `actes/registre.xlsx`\n" in text
    assert f"`{PDC}` — modifications suivies : `revisions/{PDC}`" in text
    assert f"- 1 supprimé(s) :\n  - `{AMIE}`" in text and "- 28 inchangé(s)" in text
    assert "## Version 1\n\nPremière version : 36 document(s) Word et Excel." in text  # 35 and the register
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["version"] == 2


def test_redline_shows_the_old_amount_deleted_and_the_new_one_inserted(rebuilt):
    _, out, _ = rebuilt
    xml = zipfile.ZipFile(out / "revisions" / PDC).read("word/document.xml").decode("utf-8")
    dels = re.findall(r'<w:del [^>]*w:date="2024-12-09T00:00:00Z"[^>]*>.*?</w:del>', xml)
    ins = re.findall(r'<w:ins [^>]*w:date="2024-12-09T00:00:00Z"[^>]*>.*?</w:ins>', xml)
    assert any("79\u00a0850,00" in d and "<w:delText" in d for d in dels), dels
    assert any("70\u00a0000,00" in i for i in ins), ins
    assert 'w:author="deliberation — version 2"' in xml
    # accepting every change gives the new document's text
    accepted = re.sub(r"<w:del [^>]*>.*?</w:del>", "", xml)
    assert "79\u00a0850,00" not in accepted


def test_incremental_rebuild_gives_the_bytes_of_a_clean_build(rebuilt, tmp_path):
    _, out, _ = rebuilt
    clean = tmp_path / "clean"
    assert pipeline.build(Settings(source=AMENDED, out_dir=clean)).written
    a, b = files_of(clean), files_of(out)
    meta = {"CHANGES.md", "manifest.json"}
    assert sorted(n for n in a if n not in meta) == sorted(n for n in b if n not in meta and "revisions/" not in n)
    assert [n for n in a if n not in meta and a[n] != b[n]] == []
    sa, sb = (json.loads(x["manifest.json"])["sorties"] for x in (a, b))
    assert {n: e for n, e in sa.items() if n not in meta} == \
        {n: e for n, e in sb.items() if n not in meta and "revisions/" not in n}


def test_rebuild_without_change_writes_nothing_and_a_damaged_file_is_rebuilt(rebuilt, tmp_path):
    _, out, _ = rebuilt
    copy = tmp_path / "copy"
    shutil.copytree(out, copy)
    before = files_of(copy)
    again = pipeline.build(Settings(source=AMENDED, out_dir=copy))
    assert again.unchanged and not again.written and again.version == 2
    assert files_of(copy) == before
    (copy / PDC).write_bytes(b"damaged")
    fixed = pipeline.build(Settings(source=AMENDED, out_dir=copy))
    assert fixed.written and fixed.version == 3
    assert (copy / PDC).read_bytes() == before[PDC]


@pytest.mark.slow
def test_diff_cli_before_and_after_amendments_table_and_json():
    runner = CliRunner()
    res = runner.invoke(main, ["diff", str(AMENDED)])
    assert res.exit_code == 0, res.output
    out = res.output
    assert re.search(r"Ligne\s+t1-o3-pdc-actif — Pas-de-Calais Actif \(Départemental\)\s+montant\s+79 850,00 €\s+"
                     r"70 000,00 €\s+−9 850,00 €", out)
    assert re.search(r"Ligne budgétaire\s+C02-446A05.*proposition\s+712 000,00 €\s+655 350,00 €\s+−56 650,00 €", out)
    assert "Documents modifiés (5) :" in out and f"  {PDC}" in out and "01-rapport.docx" not in out
    assert f"Documents supprimés (1) :\n  {AMIE}" in out
    res = runner.invoke(main, ["diff", str(BASE), str(AMENDED), "--json"])
    data = json.loads(res.output)
    pdc = next(c for c in data["chiffres"] if c["cle"] == "t1-o3-pdc-actif")
    assert (pdc["avant"], pdc["apres"], pdc["ecart"]) == ("79850.00", "70000.00", "-9850.00")
    phase = next(c for c in data["chiffres"] if c["portee"] == "phase" and c["champ"] == "montant")
    assert phase["ecart"] == "-56650.00"
    assert data["documents"]["supprimes"] == [AMIE] and len(data["documents"]["modifies"]) == 5


@pytest.mark.slow
def test_diff_of_two_bundles_and_of_a_bundle_and_a_dossier(rebuilt, tmp_path):
    _, out, _ = rebuilt
    base = tmp_path / "base"
    assert pipeline.build(Settings(source=BASE, out_dir=base)).written
    runner = CliRunner()
    for old, new in ((base, out), (base, AMENDED)):
        res = runner.invoke(main, ["diff", str(old), str(new), "--json"])
        assert res.exit_code == 0, res.output
        data = json.loads(res.output)
        assert {c["cle"] for c in data["chiffres"] if c["portee"] == "ligne"} == {"t1-o3-pdc-actif", "t1-o2-amie-ple"}
        assert data["documents"]["modifies"] == ["02-deliberation.docx", "03-annexe-1-thematique-1.docx",
                                                 "06-annexe-4-repartition-financiere.docx",
                                                 "12-annexe-10-avenant-10.docx", PDC]
    res = runner.invoke(main, ["diff", str(BASE)])
    assert res.exit_code == 0 and "aucun amendement" in res.output


# ---------------------------------------------------------------------------
# with PDF


@pytest.mark.libreoffice
@needs_lo
def test_incremental_pdf_rebuild_reuses_unchanged_pdfs_and_matches_a_clean_build(tmp_path):
    from pypdf import PdfReader

    out, clean = tmp_path / "out", tmp_path / "clean"
    assert pipeline.build(Settings(source=BASE, out_dir=out, pdf=True)).written
    v1 = files_of(out)
    assert pipeline.build(Settings(source=AMENDED, out_dir=out, pdf=True)).version == 2
    assert pipeline.build(Settings(source=AMENDED, out_dir=clean, pdf=True)).written
    a, b = files_of(clean), files_of(out)
    assert [n for n in a if n not in ("CHANGES.md", "manifest.json") and a[n] != b[n]] == []
    for same in ("01-rapport.pdf", "07-annexe-5-avenant-5.pdf", "00-sommaire.pdf"):
        assert b[same] == v1[same], same
    assert b["bundle.pdf"] != v1["bundle.pdf"]
    pdf = "\n".join(typed(p.extract_text()) for p in PdfReader(io.BytesIO(b[PDC[:-5] + ".pdf"])).pages)
    assert "70 000,00 €" in pdf and "79 850,00 €" not in pdf


@pytest.mark.slow
def test_withdrawing_the_last_line_warns_and_withdrawing_the_operation_removes_it(tmp_path):
    source = amended_copy(tmp_path, "      - ligne: t1-o3-pdc-actif\n        retrait: oui")
    c = check(source)
    (w,) = found(c, "amendement.operation_vide")
    assert w.loc.line == 7 and "l'opération 1.3 sans ligne" in w.message and 'operation: "1.3"' in w.message
    source = amended_copy(tmp_path / "b", "      - operation: \"1.3\"\n        retrait: oui\n"
                                          "      - ligne: t1-o4-ccas-lievin\n        montant: \"60 000\"")
    c = check(source)
    assert not found(c, "amendement.operation_vide") and not [f for f in c.findings if f.severity.value == "ERROR"]
    assert [o.numero for t, o in c.dossier.operations() if t.numero == 1] == [1, 2, 4]
    assert c.figures.phase.montant == Decimal("786348.00")  # 871 198 − 79 850 − 5 000
    res = CliRunner().invoke(main, ["diff", str(source)])
    assert re.search(r"Opération\s+1\.3 .*opération retirée\s+79 850,00 €\s+—\s+−79 850,00 €", res.output)
    assert "12-annexe-10-avenant-10.docx" in res.output  # the model no line cites any more is no annex any more
