"""Issue 9: broken templates, clause texts and annex sheets stop the build cleanly.

Each case builds the fictitious dossier once, then again into the same ``-o`` with something broken:
the command says which file and why, exits 3 (a template: ``DeliberationError``) or 1 (a finding in
an annex sheet), never with a traceback, and the earlier bundle is left exactly as it was.
"""

from __future__ import annotations

import io
import os
import re
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import slow_but, templates_copy
from docx import Document

from deliberation import pipeline
from deliberation.cli import main
from deliberation.settings import Settings


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` with its bytes."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture
def built(fictif, tmp_path):
    """The fictitious dossier built once into ``out`` (Word only): (dossier, out, files before)."""
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["build", str(fictif.root), "-o", str(out), "--sans-pdf"])
    assert result.exit_code == 0, result.output
    return fictif, out, snapshot(out)


def rebuild(built, *args: str):
    """Build again into the same folder; check that nothing there changed and no traceback escaped."""
    dossier, out, before = built
    result = CliRunner().invoke(main, ["build", str(dossier.root), "-o", str(out), "--sans-pdf", *args])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output
    assert snapshot(out) == before
    assert not list(out.parent.glob(f".{out.name}.*"))  # no temporary folder left beside it
    return result


def add_paragraph(templates: Path, name: str, text: str) -> None:
    """Append a paragraph holding ``text`` to Word template ``name``."""
    doc = Document(str(templates / name))
    doc.add_paragraph(text)
    doc.save(str(templates / name))


def zip_without(data: bytes, member: str) -> bytes:
    """The zip ``data`` with ``member`` left out."""
    src = zipfile.ZipFile(io.BytesIO(data))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as dst:
        for info in src.infolist():
            if info.filename != member:
                dst.writestr(info, src.read(info))
    return buf.getvalue()


# ---------------------------------------------------------------------------
# Word templates


WORD_CASES = {
    "variable inconnue": ("rapport.docx", "{{ variable_inconnue }}", r"rapport\.docx: .*variable_inconnue"),
    "balise non fermée": ("deliberation.docx", "{% if acte %} jamais refermée",
                          r"deliberation\.docx: .*balise mal formée"),
    "expression mal formée": ("annexe-repartition.docx", "{{ thematiques[ }}", r"annexe-repartition\.docx: .*"),
    "filtre inconnu": ("annexe-narrative.docx", "{{ t.titre | inconnu }}", r"annexe-narrative\.docx: .*inconnu"),
    # the sandbox: attributes of Python internals and unsafe calls are template errors
    "classe et mro": ("rapport.docx", "{{ ''.__class__.__mro__ }}", r"rapport\.docx: .*interdit.*__class__"),
    "attribut interne d'une valeur": ("avenant.docx", "{{ acte.__class__.__init__.__globals__ }}",
                                      r"avenant\.docx: .*interdit"),
    "format de chaîne": ("deliberation.docx", "{{ '{0.__class__}'.format(1) }}", r"deliberation\.docx: .*interdit"),
    "globale de jinja": ("convention.docx", "{{ cycler.__init__.__globals__ }}", r"convention\.docx: .*interdit"),
    "plage démesurée": ("rapport.docx", "{{ range(10**9) | list | length }}",
                        r"rapport\.docx: erreur de modèle : plage trop grande"),
    "division par zéro": ("annexe-repartition.docx", "{{ 1 // 0 }}",
                          r"annexe-repartition\.docx: erreur de modèle : division par zéro"),
}


@pytest.mark.parametrize("case", slow_but(WORD_CASES, "variable inconnue"))
def test_broken_word_template_exits_3_and_keeps_the_previous_bundle(built, tmp_path, case):
    name, paragraph, message = WORD_CASES[case]
    templates = templates_copy(tmp_path)
    add_paragraph(templates, name, paragraph)
    result = rebuild(built, "--modeles", str(templates))
    assert result.exit_code == 3, result.output
    assert re.search(re.escape(f"ERREUR (template) : {templates}{os.sep}") + message, result.output), result.output


@pytest.mark.parametrize(("case", "damage", "message"), slow_but([
    ("zip tronqué", lambda data: data[: len(data) // 2], r"modèle illisible"),
    ("zip vide", lambda data: b"", r"modèle illisible"),
    ("pas un zip", lambda data: b"<w:document>pas un zip</w:document>", r"modèle illisible"),
    ("sans word/document.xml", lambda data: zip_without(data, "word/document.xml"), r"modèle illisible"),
    ("document.xml mal formé", lambda data: _replace_member(data, "word/document.xml", b"<w:document"),
     r"modèle illisible"),
], "pas un zip"))
def test_corrupt_word_template_exits_3(built, tmp_path, case, damage, message):
    templates = templates_copy(tmp_path)
    path = templates / "avenant.docx"
    path.write_bytes(damage(path.read_bytes()))
    result = rebuild(built, "--modeles", str(templates))
    assert result.exit_code == 3, result.output
    assert re.search(re.escape(f"ERREUR (template) : {path}: ") + message, result.output), result.output


def _replace_member(data: bytes, member: str, content: bytes) -> bytes:
    src = zipfile.ZipFile(io.BytesIO(data))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as dst:
        for info in src.infolist():
            dst.writestr(info, content if info.filename == member else src.read(info))
    return buf.getvalue()


@pytest.mark.parametrize("name", slow_but(["rapport.docx", "convention.docx", "sommaire.docx"], "rapport.docx"))
def test_missing_template_exits_3(built, tmp_path, name):
    templates = templates_copy(tmp_path)
    (templates / name).unlink()
    result = rebuild(built, "--modeles", str(templates))
    assert result.exit_code == 3, result.output
    assert f"ERREUR (template) : {templates / name}: modèle introuvable" in result.output


@pytest.mark.slow
def test_missing_templates_folder_exits_3(built, tmp_path):
    result = rebuild(built, "--modeles", str(tmp_path / "absent"))
    assert result.exit_code == 3, result.output
    assert "modèle introuvable" in result.output


# ---------------------------------------------------------------------------
# clause texts (Markdown with Jinja tags, sandboxed)


CLAUSE_CASES = {
    "balise mal formée": ("cout.md", "{% else %}", "{% sinon %}", r"cout\.md:14: balise mal formée"),  # its line
    "balise non fermée": ("cout.md", "{{ acte.cout.total }}", "{{ acte.cout.total ",
                          r"cout\.md:\d+: balise mal formée"),
    "nom inconnu": ("cout.md", "{{ acte.cout.total }}", "{{ montant_inconnu }}",
                    r"cout\.md: nom\(s\) inconnu\(s\) : montant_inconnu"),
    "en-tête cassé": ("cout.md", "modifie: 4", "modifie: [4", r"cout\.md:\d+: en-tête de clause invalide"),
    # objet.md is in every avenant: its tags are evaluated for the fictitious dossier
    "attribut interne": ("objet.md", "{{ acte.motifs }}", "{{ acte.__class__.__mro__ }}", r"objet\.md: .*interdit"),
    "appel interdit": ("objet.md", "{{ acte.motifs }}", "{{ acte.items.__self__.__class__ }}",
                       r"objet\.md: .*interdit"),
    "division par zéro": ("objet.md", "{{ acte.motifs }}", "{{ 1 // 0 }}", r"objet\.md: division par zéro"),
}


@pytest.mark.parametrize("case", slow_but(CLAUSE_CASES, "nom inconnu"))
def test_broken_clause_text_exits_3(built, tmp_path, case):
    name, old, new, message = CLAUSE_CASES[case]
    templates = templates_copy(tmp_path)
    path = templates / "clauses" / name
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    result = rebuild(built, "--modeles", str(templates))
    assert result.exit_code == 3, result.output
    assert re.search(re.escape(f"ERREUR (template) : {templates}{os.sep}clauses{os.sep}") + message, result.output), \
        result.output


def test_missing_clause_text_exits_3(built, tmp_path):
    templates = templates_copy(tmp_path)
    (templates / "clauses" / "duree.md").unlink()
    result = rebuild(built, "--modeles", str(templates))
    assert result.exit_code == 3, result.output
    assert f"{templates / 'clauses' / 'duree.md'}: texte de clause introuvable" in result.output


# ---------------------------------------------------------------------------
# annex sheets (dispositif sheets: Markdown with a YAML front matter)


SHEET_CASES = {
    # (text replaced, replacement, finding code, text of the line the finding points to)
    "en-tête non fermé": ("obligations: [france-travail]\n---\n", "obligations: [france-travail]\n",
                          "fiche.entete", "---"),
    "YAML mal formé": ('pourcentage: 40}', 'pourcentage: 40', "yaml.syntaxe", "obligations:"),
    "clé inconnue": ("obligations: [france-travail]", "obligations: [france-travail]\ncouleur: bleu",
                     "schema.cle_inconnue", "couleur: bleu"),
    "champ inconnu": ("[[territoire]]", "[[territoir]]", "fiche.champ_inconnu", "[[territoir]]"),
    "caractère de contrôle": ("- BRSA résidant", "- BRSA\x07résidant", "texte.controle", "BRSA\x07"),
    "caractère non admis par XML": ("- BRSA résidant", "- BRSA\ufffe résidant", "texte.controle", "BRSA\ufffe"),
}


@pytest.mark.parametrize("case", slow_but(SHEET_CASES, "YAML mal formé"))
def test_broken_annex_sheet_is_a_located_finding(built, case):
    dossier, _, _ = built
    old, new, code, where = SHEET_CASES[case]
    name = "dispositifs/1.2-fictif.md"
    dossier.edit(name, old, new)
    result = rebuild(built)
    assert result.exit_code == 1, result.output
    line = dossier.line_of(name, where)
    assert re.search(re.escape(f"{dossier.root / name}:{line}: ERROR: ") + r".*\[" + re.escape(code) + r"\]",
                     result.output), (line, result.output)
    assert "production refusée" in result.output


def test_broken_sheet_in_the_engine_catalogue_is_a_finding(fictif, tmp_path):
    root = Path(__file__).resolve().parents[1]
    catalogue = tmp_path / "annexes"
    catalogue.mkdir()
    for p in (root / "deliberation" / "annexes" / "dispositifs").glob("*.md"):
        (catalogue / p.name).write_bytes(p.read_bytes())
    sheet = catalogue / "4.1-projets-collectifs-jeunesse.md"
    sheet.write_text(sheet.read_text(encoding="utf-8").replace("---\n", "---\n: : :\n", 1), encoding="utf-8")
    out = tmp_path / "out"
    result = pipeline.build(Settings(source=fictif.root, out_dir=out, annexes=(catalogue,)))
    assert not result.written and not out.exists()
    (f,) = [f for f in result.checked.findings if f.loc.file == str(sheet)]
    assert f.code == "yaml.syntaxe" and f.loc.line == 2, f


def test_sheet_text_is_data_not_a_template(fictif, tmp_path):
    """A sheet body is Markdown with [[champs]]: Jinja tags and XML in it are printed as written."""
    from deliberation.render.inspect import docx_text

    # (`_` is Markdown: written `\\_` it prints `_`)
    fictif.edit("dispositifs/4.1.md", "## Bilan", "## Bilan\n\n{{ 7*7 }} {% raw %} {\\_{ x }\\_} </w:t> ]]> <w:p/>\n")
    out = tmp_path / "out"
    assert pipeline.build(Settings(source=fictif.root, out_dir=out)).written
    text = docx_text(out / "actes" / "ccas-de-gamma" / "convention-nouvelle.docx")
    assert "{{ 7*7 }} {% raw %} {_{ x }_} </w:t> ]]> <w:p/>" in text
    assert "49" not in text
