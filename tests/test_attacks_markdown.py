"""Issue 16, items 6 and 14: Markdown the Word writer cannot render, folder names Windows reserves.

Item 6: what ``check`` accepts, ``build`` renders; what the writer cannot render (a list nested more
than three levels deep, a character XML cannot hold written as an entity) is a located finding of
``check``, and ``build`` writes nothing. A property test holds it on generated Markdown.
Item 14: a structure named « CON » gets a folder Windows accepts.
"""

from __future__ import annotations

import functools
import hashlib
import re
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import TEMPLATES, slow_but, templates_copy
from hypothesis import event, given
from hypothesis import strategies as st
from lxml import etree

from deliberation import pipeline
from deliberation.cli import main
from deliberation.plan import slugify, windows_reserved
from deliberation.render.markdown import MarkdownText, SheetTable
from deliberation.settings import Settings
from deliberation.text import MAX_LIST_LEVELS, MD, unrenderable

ROOT = Path(__file__).resolve().parents[1]
W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"


def tree_hashes(folder: Path) -> dict[str, str]:
    """The SHA-256 of every file under ``folder``, by relative path."""
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


DEEP = "- un\n  - deux\n    - trois\n      - quatre"

#: (file, text replaced, Markdown put instead, text of the offending line, message, code)
ATTACKS = {
    "bullets in an operation narrative": (
        "thematiques/t1.yaml", "      - second point.\n",
        "      - second point.\n        - deux\n          - trois\n            - quatre\n",
        "- quatre", "opération 1.2 : liste au 4e niveau d'imbrication", "texte.imbrication"),
    "numbers and bullets in a quote, thematique narrative": (
        "thematiques/t1.yaml", "  Les dispositifs rattachés à cette thématique sont détaillés dans le rapport cadre.\n",
        "  > 1. un\n  >    - deux\n  >      1. trois\n  >         - quatre\n",
        "- quatre", "thématique 1 : liste au 4e niveau d'imbrication", "texte.imbrication"),
    "rapport introduction": (
        "phase.yaml", "    L'appel à projets se veut **global**.\n",
        "    L'appel à projets se veut **global**.\n\n"
        "    1. un\n       1. deux\n          1. trois\n             1. quatre\n",
        "1. quatre", "introduction du rapport : liste au 4e niveau d'imbrication", "texte.imbrication"),
    "dispositif sheet": (
        "dispositifs/4.1.md", "Accompagner un groupe de jeunes dans un projet collectif d'insertion.",
        "Accompagner :\n\n" + DEEP, "- quatre",
        "fiche 4.1, rubrique « Objectifs » : liste au 4e niveau d'imbrication", "texte.imbrication"),
    "schedule filled at the third level of a sheet": (
        "dispositifs/4.1.md", "\n[[versements]]", "\n- un\n  - deux\n    - [[versements]]", "- [[versements]]",
        "fiche 4.1, rubrique « Modalités de versement » : liste au 4e niveau d'imbrication", "texte.imbrication"),
    "figure expanded into a list number": (
        "thematiques/t1.yaml", "      Il est proposé un avenant pour *2 structures*.\n",
        "      - un\n        - deux\n          - trois\n\n            [[structures]]. quatre\n",
        "[[structures]]. quatre", "opération 1.1 : liste au 4e niveau d'imbrication", "texte.imbrication"),
    "form feed written as an entity": (
        "thematiques/t4.yaml", "Il est proposé de financer une structure.", "Il est proposé &#12; de financer.",
        "&#12;", "opération 4.1 : caractère interdit dans le texte : U+000C", "texte.controle"),
}


@pytest.mark.parametrize("name", list(ATTACKS))
def test_markdown_the_writer_cannot_render_is_a_located_finding_and_nothing_is_built(fictif, tmp_path, name):
    where, old, new, line_text, message, code = ATTACKS[name]
    fictif.edit(where, old, new)
    line = fictif.line_of(where, line_text)
    before = tree_hashes(tmp_path)

    result = CliRunner().invoke(main, ["check", str(fictif.root)])
    assert result.exit_code == 1, result.output
    path = fictif.root / where
    assert re.search(rf"^{re.escape(str(path))}:{line}: ERROR: {re.escape(message)}.*\[{code}\]$",
                     result.output, re.M), result.output

    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["build", "--sans-pdf", "-o", str(out), str(fictif.root)])
    assert result.exit_code == 1, result.output
    assert f"{path}:{line}: ERROR: {message}" in result.output
    assert isinstance(result.exception, SystemExit), result.exception  # an exit code, not a crash
    assert not out.exists()
    assert tree_hashes(tmp_path) == before


def test_a_clause_the_writer_cannot_render_stops_the_build_at_its_line(fictif, tmp_path):
    templates = templates_copy(tmp_path)
    clause = templates / "clauses" / "duree.md"
    clause.write_text(clause.read_text(encoding="utf-8") + "\n" + DEEP + "\n", encoding="utf-8")
    line = clause.read_text(encoding="utf-8").split("\n").index("      - quatre") + 1
    before = tree_hashes(tmp_path)
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["build", "--sans-pdf", "--modeles", str(templates), "-o", str(out),
                                       str(fictif.root)])
    assert result.exit_code == 3, result.output  # a template error
    assert f"{clause}:{line}: liste au 4e niveau d'imbrication" in result.output
    assert not out.exists() and tree_hashes(tmp_path) == before


# -- property: on any Markdown, check finds something or both writers render it, element for element

_INDENT = st.sampled_from(["", " ", "  ", "   ", "    ", "      ", "        ", "\t"])
_MARKER = st.sampled_from(["- ", "* ", "+ ", "1. ", "2) ", "> ", "# ", "## ", "```", "    ", "-", "10. ", ">"])
_WORD = st.one_of(
    st.sampled_from(["mot", "*penché*", "**gras**", "_x_", "__y__", "`code`", "&amp;", "&#12;", "&#9;", "&#13;",
                     "&#0;", "&#x7f;", "<b>", "</w:t>", "<div>", "<!-- c -->", "[lien](x)", "![alt](i.png)",
                     "[[montant]]", "\\", "  ", "é", "{{ 7*7 }}", "---", "===", "***", "1.", "\u00a0"]),
    st.text(max_size=6),
)
_LINE = st.builds(lambda indent, markers, words: indent + "".join(markers) + " ".join(words),
                  _INDENT, st.lists(_MARKER, max_size=5), st.lists(_WORD, max_size=4))
MARKDOWN = st.lists(st.one_of(_LINE, st.just("")), max_size=14).map("\n".join)


@functools.cache
def avenant_template():
    """The avenant template compiled once: its two Markdown writers (direct WordprocessingML, python-docx)."""
    import datetime as dt

    from deliberation.render.compiled import CompiledTemplate

    return CompiledTemplate(TEMPLATES / "avenant.docx", dt.datetime(2024, 12, 9))  # noqa: DTZ001


def c14n(xml: str) -> bytes:
    return etree.tostring(etree.fromstring(f'<w:body xmlns:w="{W}">{xml}</w:body>'), method="c14n")


def list_depth(text: str) -> int:
    depth = deepest = 0
    for token in MD.parse(text):
        depth += token.type.endswith("_list_open") - token.type.endswith("_list_close")
        deepest = max(deepest, depth)
    return deepest


@pytest.mark.slow
@given(MARKDOWN)
def test_check_finds_it_or_the_word_writers_render_it(text):
    problems = unrenderable(text)
    event("refused" if problems else "rendered")
    assert all(0 <= p.line <= text.count("\n") + text.count("\r") for p in problems)
    if list_depth(text) > MAX_LIST_LEVELS:
        assert any(p.code == "texte.imbrication" for p in problems)
    if problems:
        assert all(p.code in ("texte.imbrication", "texte.controle") for p in problems)
        return
    ct = avenant_template()
    for value in (MarkdownText(text), SheetTable((("Titre", text), ("Coût", "")))):
        direct = ct.fragment(value)  # the writer of the build
        reference = ct._python_docx(value)  # python-docx, as docxtpl sub-documents
        assert c14n(direct) == c14n(reference), value


# -- item 14


@pytest.mark.parametrize(("nom", "folder"), slow_but([("CON", "con-structure"), ("nul", "nul-structure"),
                                                      ("Com1", "com1-structure"), ("LPT9.", "lpt9-structure")], "CON"))
def test_structure_named_con_gets_a_folder_windows_accepts(fictif, tmp_path, nom, folder):
    fictif.edit("structures.yaml", "nom: Beta Emploi", f"nom: {nom!r}")
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["build", "--sans-pdf", "-o", str(out), str(fictif.root)])
    assert result.exit_code == 0, result.output
    folders = sorted(p.name for p in (out / "actes").iterdir() if p.is_dir())  # and the register, a file
    assert folders == ["association-alpha", "ccas-de-gamma", folder]
    assert not any(windows_reserved(part) for p in out.rglob("*") for part in p.relative_to(out).parts)
    # names Windows accepts keep their slug (the golden files depend on it)
    assert [slugify(x) for x in ("Beta Emploi", "console", "COM10", "Auxiliaire", "con-structure")] == [
        "beta-emploi", "console", "com10", "auxiliaire", "con-structure"]
    assert all(windows_reserved(x) for x in ("CON", "con.txt", "Aux.tar.gz", "lpt1 ", "nom.", "nom "))
    assert pipeline.check(Settings(source=fictif.root)).findings == []
