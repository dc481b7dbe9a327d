"""Issue 18: templates carry their status — the text the Département adopted, or a reconstruction.

Word templates declare it in ``templates/statuts.yaml``, clause texts in their own header. A document
built from a reconstruction is a PROJET (an act: its banner and review sheet; a document of the
délibération: the stamp of every page) and ``build --final`` refuses it, naming the template.
Proven on the example (phase-6-2024), on the fictitious phase (fictif) and on phase-3-2026.
"""

from __future__ import annotations

import re
from pathlib import Path

from click.testing import CliRunner
from conftest import FIXTURES, TEMPLATES, adopted_templates, templates_copy
from docx import Document

from deliberation import pipeline
from deliberation.cli import main
from deliberation.load.modeles import load_statuts
from deliberation.render.inspect import docx_text, typed
from deliberation.settings import Settings

STAMP = "PROJET (modèle reconstitué) — "


def footer(path: Path) -> str:
    """The text of a document's footer (the stamp of every page)."""
    return " ".join(typed(p.text) for p in Document(str(path)).sections[0].footer.paragraphs if p.text)


def build(root: Path, out: Path, **kw):
    result = pipeline.build(Settings(source=root, out_dir=out, **kw))
    assert result.written, [f.message for f in result.checked.findings if f.severity.name == "ERROR"]
    return result


def refused(findings) -> dict[str, str]:
    """Template file → message of its ``acte.reconstitution`` error."""
    return {f.message.split(" ")[0]: f.message for f in findings if f.code == "acte.reconstitution"}


def test_every_shipped_template_declares_its_status():
    statuts, findings = load_statuts(TEMPLATES)
    assert findings == []
    docx = {p.name for p in TEMPLATES.glob("*.docx")}
    clauses = {f"clauses/{p.name}" for p in (TEMPLATES / "clauses").glob("*.md") if p.name != "README.md"}
    assert set(statuts) == docx | clauses and len(docx) == 7 and len(clauses) == 7
    assert all(s.reference for s in statuts.values())  # each says what it is adopted by, or rebuilt from
    # said honestly: the two clause texts found word for word in the voted models are adopted; nothing else is
    assert {f for f, s in statuts.items() if s.statut == "adopté"} == {"clauses/autres.md", "clauses/duree.md"}
    assert "tribunal administratif de Lille" in statuts["convention.docx"].parties
    # a clause's status is in its own header, located there
    assert statuts["clauses/cout.md"].loc.file.endswith("clauses/cout.md") and statuts["clauses/cout.md"].loc.line == 5


def test_documents_of_the_deliberation_say_projet_on_every_page_example(tmp_path):
    out = tmp_path / "out"
    build(FIXTURES / "phase-6-2024", out)
    assert footer(out / "01-rapport.docx") == f"{STAMP}Délibération n°2024-587 — Rapport n°36 — page /"
    assert footer(out / "02-deliberation.docx") == f"{STAMP}Délibération n°2024-587 — page /"
    assert footer(out / "06-annexe-4-repartition-financiere.docx").startswith(STAMP)
    assert footer(out / "07-annexe-5-avenant-5.docx") == f"{STAMP}Délibération n°2024-587 — Annexe 5 — page /"
    # the acts: a banner naming the reconstructed texts (the stamp of an act names the act)
    liévin = typed(docx_text(out / "actes" / "ccas-de-lievin" / "convention-nouvelle.docx"))
    assert "texte adopté de convention.docx (reconstitution : articles 2, 5, 6, 7, 9, 10, 11 et 13 (dont « Litiges " \
           "… tribunal administratif de Lille »)" in liévin
    # the Département's own texts in place: the documents of the délibération are no longer PROJETs
    adopted = tmp_path / "with-adopted"
    build(FIXTURES / "phase-6-2024", adopted, templates=adopted_templates(tmp_path))
    for path in sorted(adopted.glob("*.docx")):
        assert "PROJET" not in footer(path), path
    assert "reconstitution" not in docx_text(adopted / "actes" / "ccas-de-lievin" / "convention-nouvelle.docx")


def test_documents_of_the_deliberation_say_projet_on_every_page_fictif(tmp_path):
    templates = templates_copy(tmp_path)
    statuts = templates / "statuts.yaml"
    text = statuts.read_text("utf-8")
    # the Département adopts its rapport only: the rapport's stamp no longer says PROJET, the others still do
    statuts.write_text(re.sub(r"(  rapport\.docx:\n    statut: )reconstitution", r"\1adopté", text), "utf-8")
    out = tmp_path / "out"
    build(FIXTURES / "fictif", out, templates=templates)
    assert footer(out / "01-rapport.docx") == "Délibération n°2025-100 — Rapport n°12 — page /"
    assert footer(out / "02-deliberation.docx") == f"{STAMP}Délibération n°2025-100 — page /"
    annexes = sorted(out.glob("0[3-9]-annexe-*.docx"))
    assert annexes and all(footer(p).startswith(STAMP) for p in annexes)
    findings = pipeline.check(Settings(source=FIXTURES / "fictif", final=True, templates=templates)).findings
    said = refused(findings)
    assert "rapport.docx" not in said
    assert "production définitive impossible de 1 document (02-deliberation)" in said["deliberation.docx"]


def test_a_clause_says_its_status_in_its_own_header_fictif(tmp_path):
    templates = templates_copy(tmp_path)
    cout = templates / "clauses" / "cout.md"
    cout.write_text(cout.read_text("utf-8").replace(
        "statut: reconstitution\nreference: \"articles « Coût de l'opération »",
        "statut: adopté\nreference: \"délibération n°2025-001, modèle d'article « Coût de l'opération »"), "utf-8")
    objet = templates / "clauses" / "objet.md"
    objet.write_text(re.sub(r"statut: reconstitution\n", "", objet.read_text("utf-8")), "utf-8")
    out = tmp_path / "out"
    build(FIXTURES / "fictif", out, templates=templates)
    alpha = (out / "actes" / "association-alpha" / "avenant-plateforme.revue.md").read_text("utf-8")
    assert "`clauses/cout.md`" not in alpha  # adopted: no longer among the reconstructed texts
    assert "  - `clauses/objet.md` — statut non déclaré dans son en-tête" in alpha
    said = refused(pipeline.check(Settings(source=FIXTURES / "fictif", final=True, templates=templates)).findings)
    assert "clauses/cout.md" not in said
    assert said["clauses/objet.md"].startswith("clauses/objet.md n'est pas le texte adopté : statut non déclaré dans "
                                               "son en-tête ; production définitive impossible")


def test_a_clause_says_its_status_in_its_own_header_example(tmp_path):
    templates = templates_copy(tmp_path)
    cout = templates / "clauses" / "cout.md"
    cout.write_text(cout.read_text("utf-8").replace("statut: reconstitution", "statut: adopté"), "utf-8")
    findings = pipeline.check(Settings(source=FIXTURES / "phase-6-2024", final=True, templates=templates)).findings
    said = refused(findings)
    assert "clauses/cout.md" not in said and "clauses/annexes.md" in said
    (f,) = [f for f in findings if f.code == "acte.reconstitution" and f.message.startswith("clauses/annexes.md")]
    assert f.loc.file == str(templates / "clauses" / "annexes.md") and f.loc.line == 5  # its header's statut line
    # the shipped cout.md is a reconstruction: the avenants that word their cost with it say so
    out = tmp_path / "out"
    build(FIXTURES / "phase-6-2024", out)
    mempa = (out / "actes" / "mempa" / "avenant-plateforme.revue.md").read_text("utf-8")
    assert "`clauses/autres.md`" not in mempa and "  - `clauses/annexes.md` — d'après : article « Annexes »" in mempa


def test_final_refuses_naming_the_template_and_adopted_templates_let_it_pass(tmp_path):
    for name in ("fictif", "phase-3-2026"):
        out = tmp_path / name
        result = CliRunner().invoke(main, ["build", str(FIXTURES / name), "-o", str(out), "--final", "--sans-pdf"])
        assert result.exit_code == 1, result.output
        assert not out.exists()  # nothing written
        assert re.search(r"templates/statuts\.yaml:\d+: ERROR: convention\.docx n'est pas le texte adopté : "
                         r"reconstitution \(convention type adoptée par la Commission Permanente du 12 juin 2023",
                         result.output), result.output
        assert re.search(r"templates/clauses/objet\.md:3: ERROR: clauses/objet\.md n'est pas le texte adopté",
                         result.output), result.output
        result = CliRunner().invoke(main, ["build", str(FIXTURES / name), "-o", str(out), "--final", "--sans-pdf",
                                           "--modeles", str(adopted_templates(tmp_path / f"t-{name}"))])
        assert result.exit_code == 0, result.output
        for path in out.rglob("*.docx"):
            assert "PROJET" not in footer(path) and not re.search(r"\bPROJET\b", docx_text(path)), path
