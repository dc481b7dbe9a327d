"""Issue 9: hostile text in a dossier is data, printed as written, never evaluated.

Each hostile string goes into the structure name and legal name, a line description, the narratives
and an amendment's object; the documents are opened with python-docx (and once, converted by
LibreOffice, with pypdf) and must show the exact text: no template evaluation, no XML injection,
no Markdown surprise, every file inside the output folder. Characters a Word document cannot hold
are findings of the loader.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from conftest import TEMPLATES, needs_lo, slow_but

from deliberation import pipeline
from deliberation.render.acts import md_escape
from deliberation.render.inspect import docx_text, typed
from deliberation.settings import Settings
from deliberation.typo import typeset

HOSTILE = {
    "jinja": "{{ 7*7 }}",
    "raw": "{% raw %}",
    "paragraph tag": "{%p if acte %}",
    "docxtpl escapes": "{_{ x }_} {_% y %_}",
    "open delimiters": "{% {# %} #} }} {{",
    "xml close": "</w:t>",
    "xml paragraph": "<w:p><w:r><w:t>INJ</w:t></w:r></w:p>",
    "ampersand": "A & B &amp; &#49; &lt;",
    "script": "<script>alert(1)</script>",
    "cdata end": "]]>",
    "path": "../../etc/passwd",
    "windows path": "C:\\Windows\\{{ x }}\\..\\",
    "right-to-left override": "abc\u202edef",
    "right-to-left mark": "abc\u200fdef",
    "placeholders": "[[montant]] [[structures]] {{ acte.nom }}",
    "markdown": "**gras** _penché_ `code` # titre [lien](javascript:alert(1)) ![image](x.png)",
    "long": "0123456789" * 1000,
}

#: Fields of the dossier that take each hostile string (a marker first, to find them in the documents).
MARKERS = {"B": "nom", "R": "raison_sociale", "D": "description", "N": "op. narrative", "T": "them. narrative",
           "O": "objet d'amendement"}


def q(text: str) -> str:
    """A YAML double-quoted scalar (JSON strings are YAML)."""
    return json.dumps(text, ensure_ascii=False)


def put_hostile(dossier, h: str, objet: bool = True) -> None:
    """Write ``h`` (after a marker letter) into every free-text field of the fictitious dossier."""
    dossier.edit("structures.yaml", "nom: Beta Emploi", f"nom: {q('B ' + h)}")
    dossier.edit("structures.yaml", "raison_sociale: Beta Emploi SCIC", f"raison_sociale: {q('R ' + h)}")
    dossier.edit("thematiques/t1.yaml", "description: Valorisation de 2 ETP pour la réalisation de 800 diagnostics",
                 f"description: {q('D ' + h)}")
    # narratives are Markdown: escaped, they must print the text as written; raw, never evaluate it
    dossier.edit("thematiques/t1.yaml", "narrative: |\n      Il est proposé un avenant pour *2 structures*.",
                 f"narrative: {q('N ' + md_escape(h))}")
    dossier.edit("thematiques/t1.yaml", "narrative: |\n  Les dispositifs rattachés à cette thématique sont détaillés "
                 "dans le rapport cadre.", f"narrative: {q('T ' + h)}")
    if objet:
        dossier.write("amendements.yaml", f"""amendements:
  - numero: 1
    date: 01/03/2025
    objet: {q('O ' + h)}
    modifications:
      - ligne: t1-o2-alpha
        montant: "40 000,00"
""")


def files_under(folder: Path) -> set[str]:
    return {str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file()}


@pytest.mark.parametrize("name", slow_but(HOSTILE, "jinja"))
def test_hostile_text_is_printed_as_written(fictif, tmp_path, name):
    h = HOSTILE[name]
    put_hostile(fictif, h, objet=len(h) < 499)
    before = files_under(tmp_path)
    out = tmp_path / "out"
    result = pipeline.build(Settings(source=fictif.root, out_dir=out))
    assert result.written, [str(f) for f in result.checked.findings]
    # every file is inside the output folder; the beta avenant's folder name is a plain slug
    assert files_under(tmp_path) - before == {f"out/{n}" for n in files_under(out)}
    assert all(".." not in Path(n).parts and (out / n).resolve().is_relative_to(out.resolve())
               for n in files_under(out))
    acts = sorted(n for n in files_under(out) if n.startswith("actes/") and n.endswith(".docx"))
    assert len(acts) == 3 and all(re.fullmatch(r"actes/[a-z0-9-]+/[a-z0-9-]+\.docx", n) for n in acts), acts
    (beta,) = [n for n in acts if n not in ("actes/association-alpha/avenant-plateforme.docx",
                                            "actes/ccas-de-gamma/convention-nouvelle.docx")]
    texts = {n: typed(docx_text(out / n)) for n in files_under(out) if n.endswith(".docx")}
    repartition = texts["05-annexe-3-repartition-financiere.docx"]
    assert repartition.count("B " + h) == 1 and repartition.count("D " + h) == 1
    assert "B " + h in texts[beta] and "R " + h in texts[beta]
    assert "N " + h in texts["03-annexe-1-thematique-1.docx"]
    if len(h) < 499:
        assert f"Vu l'amendement n°1 « O {h} », adopté en séance ;" in texts["02-deliberation.docx"]
        assert f"O {h}" in (out / "CHANGES.md").read_text(encoding="utf-8")
    if not re.search(r"[*_`\[\\&<]", h):  # no Markdown syntax: the raw narrative prints as written too
        assert "T " + h in texts["03-annexe-1-thematique-1.docx"]
    for n, text in texts.items():
        assert not re.search(r"\b[BRDNTO] 49\b", text), n  # {{ 7*7 }} never evaluated
        assert "INJ\n" not in text.replace("INJ</w:t>", ""), n  # no paragraph injected


def test_raw_markdown_narrative_keeps_its_text(fictif, tmp_path):
    """Raw HTML, links, images and 5 000-character lines in a narrative: text kept, nothing interpreted."""
    md = ("Avant <w:p><w:r><w:t>INJ</w:t></w:r></w:p> après <b>gras</b> <!-- commentaire -->\n\n"
          "<div>bloc html</div>\n\n"
          "[lien](javascript:alert(1)) et ![texte de l'image](https://exemple.fr/a.png) et [site](https://exemple.fr)\n\n"
          "`code {{ 7*7 }}` et &lt;w:t&gt; et {_{ x }_}\n\n" + "y" * 5000 + "\n")
    fictif.edit("thematiques/t1.yaml", "narrative: |\n      Il est proposé un avenant pour *2 structures*.",
                f"narrative: {q(md)}")
    out = tmp_path / "out"
    assert pipeline.build(Settings(source=fictif.root, out_dir=out)).written
    lines = typed(docx_text(next(out.glob("*thematique-1.docx")))).splitlines()
    assert "Avant <w:p><w:r><w:t>INJ</w:t></w:r></w:p> après <b>gras</b> <!-- commentaire -->" in lines
    assert "<div>bloc html</div>" in lines
    # a javascript: link is not a link (CommonMark): printed as written; other links and images keep their text
    assert "[lien](javascript:alert(1)) et texte de l'image et site" in lines
    assert "code {{ 7*7 }} et <w:t> et {{ x }}" in lines  # `_{ x }_` is Markdown emphasis, not a tag
    assert "y" * 5000 in lines
    assert "INJ" not in lines


@pytest.mark.parametrize("text", [
    "![texte de l'image](https://exemple.fr/a.png) ![](vide.png) [lien](javascript:alert(1))",
    "<w:p><w:r><w:t>INJ</w:t></w:r></w:p> </w:t> ]]> & {{ 7*7 }}",
    "\u202edroite à gauche\u200f",
])
def test_direct_wordml_equals_python_docx_on_hostile_markdown(text):
    import datetime as dt

    from deliberation.render.compiled import CompiledTemplate
    from deliberation.render.markdown import MarkdownText

    ct = CompiledTemplate(TEMPLATES / "avenant.docx", dt.datetime(2024, 12, 9))  # noqa: DTZ001
    assert ct.fragment(MarkdownText(text)) == ct._python_docx(MarkdownText(text))


@pytest.mark.parametrize(("where", "old", "new", "char"), [
    # YAML escapes, then the raw characters (which YAML itself refuses), then a dispositif sheet body
    ("structures.yaml", "nom: Beta Emploi", 'nom: "B\\0x"', "\x00"),
    ("structures.yaml", "raison_sociale: Beta Emploi SCIC", 'raison_sociale: "R\\ax"', "\x07"),
    ("structures.yaml", "nom: Beta Emploi", 'nom: "B\\uFFFEx"', "\ufffe"),
    ("thematiques/t1.yaml", "description: Valorisation de 2 ETP pour", 'description: "D\\x1b" #', "\x1b"),
    ("thematiques/t1.yaml", "Il est proposé un avenant", "Il est proposé\x0c un avenant", "\x0c"),
    ("structures.yaml", "nom: Beta Emploi", "nom: B\x00x", "\x00"),
    ("structures.yaml", "nom: Beta Emploi", "nom: B\ufffex", "\ufffe"),
    ("dispositifs/4.1.md", "## Bilan", "## Bilan\n\nfin\x00fin", "\x00"),
    ("dispositifs/4.1.md", "## Bilan", "## Bilan\n\nfin\x07fin", "\x07"),
])
def test_characters_a_document_cannot_hold_are_findings(fictif, tmp_path, where, old, new, char):
    fictif.edit(where, old, new)
    out = tmp_path / "out"
    result = pipeline.build(Settings(source=fictif.root, out_dir=out))
    assert not result.written and not out.exists()
    (f,) = [f for f in result.checked.findings if f.code == "texte.controle"]
    lines = (fictif.root / where).read_text(encoding="utf-8").split("\n")  # not splitlines: \x0c is a line break there
    line = next(i for i, x in enumerate(lines, 1) if char in x or new.split("\n")[-1] in x)
    assert f.loc.file.endswith(where) and f.loc.line == line, f
    assert f"U+{ord(char):04X}" in f.message


def test_amendment_object_of_10_000_characters_is_a_finding(fictif):
    put_hostile(fictif, "x", objet=False)
    fictif.write("amendements.yaml", f"""amendements:
  - numero: 1
    date: 01/03/2025
    objet: {q(HOSTILE["long"])}
    modifications:
      - ligne: t1-o2-alpha
        montant: "40 000,00"
""")
    (f,) = [f for f in fictif.check() if f.code == "texte.long"]
    assert f.loc.file.endswith("amendements.yaml") and f.loc.line == 4 and "10000 caractères" in f.message


@pytest.mark.slow
def test_two_structures_with_names_giving_one_folder_keep_both_acts(fictif, tmp_path):
    fictif.edit("structures.yaml", "nom: Association Alpha", 'nom: "<Alpha>"')
    fictif.edit("structures.yaml", "nom: Beta Emploi", 'nom: "alpha !"')
    out = tmp_path / "out"
    result = pipeline.build(Settings(source=fictif.root, out_dir=out))
    assert result.written
    acts = sorted(n for n in files_under(out) if n.startswith("actes/") and n != "actes/registre.xlsx")
    assert acts == [
        "actes/alpha-alpha/avenant-plateforme.docx", "actes/alpha-alpha/avenant-plateforme.revue.md",
        "actes/alpha-beta/avenant-plateforme.docx", "actes/alpha-beta/avenant-plateforme.revue.md",
        "actes/ccas-de-gamma/convention-nouvelle.docx", "actes/ccas-de-gamma/convention-nouvelle.revue.md",
    ]
    assert "<Alpha>" in docx_text(out / "actes/alpha-alpha/avenant-plateforme.docx")
    assert "alpha !" in typed(docx_text(out / "actes/alpha-beta/avenant-plateforme.docx"))
    assert "- Document : `actes/alpha-beta/avenant-plateforme.docx`" in \
        (out / "actes/alpha-beta/avenant-plateforme.revue.md").read_text(encoding="utf-8")


PDF_HOSTILE = [h for k, h in HOSTILE.items() if "right-to-left" not in k and k != "long"]  # bidi marks reorder


@pytest.mark.libreoffice
@needs_lo
def test_hostile_text_is_printed_as_written_in_pdf(fictif, tmp_path):
    """One LibreOffice build: the PDFs show every hostile string (line breaks aside).

    Bidi controls are left out (the PDF holds the text in visual order, which they change) and the
    10 000 characters go in the narrative only (table cells side by side interleave in a page's text).
    """
    from pypdf import PdfReader

    joined = " ¦ ".join(PDF_HOSTILE)
    put_hostile(fictif, joined, objet=False)
    fictif.edit("thematiques/t1.yaml", f"narrative: {q('N ' + md_escape(joined))}",
                f"narrative: {q('N ' + md_escape(joined) + ' ' + HOSTILE['long'])}")
    out = tmp_path / "out"
    assert pipeline.build(Settings(source=fictif.root, out_dir=out, pdf=True)).written

    def pdf_text(path: Path) -> str:  # the pages' text, without the stamp at the foot of each page
        # without the stamp at the foot, nor the diagonal « PROJET » of a draft (drawn first on each page)
        # and, in bundle.pdf, without the page's number « N/M »
        pages = [re.sub(r"\n[^\n]* — page\s\d+/\d+\s*\Z", "",
                        re.sub(r"\n\d+/\d+\s*\Z", "", re.sub(r"\APROJET\n", "", page.extract_text())))
                 for page in PdfReader(path).pages]
        return flat("".join(pages))

    def flat(text: str) -> str:  # the text as typeset in every document (« … », ’, no-break spaces)
        return re.sub(r"\s+", "", typeset(text))

    repartition = pdf_text(out / "05-annexe-3-repartition-financiere.pdf")
    assert flat("B " + joined) in repartition and flat("D " + joined) in repartition
    assert flat("N " + joined + HOSTILE["long"]) in pdf_text(out / "03-annexe-1-thematique-1.pdf")
    (beta,) = [p for p in out.glob("actes/*/avenant-plateforme.pdf") if "association-alpha" not in str(p)]
    avenant = pdf_text(beta)
    assert flat("B " + joined) in avenant and flat("R " + joined) in avenant
    bundle = pdf_text(out / "bundle.pdf")
    assert flat("B " + joined) in bundle and flat("N " + joined + HOSTILE["long"]) in bundle
    for text in (repartition, avenant, bundle):
        assert not re.search(r"[BRDN]49", text)


def test_template_escapes_print_tags_but_leave_the_data_alone(fictif, tmp_path):
    """docxtpl's ``{_{`` in a template prints ``{{``; the same characters in the data stay as written."""
    from conftest import templates_copy

    templates = templates_copy(tmp_path, "annexe-repartition.docx", "Littéral : {_{ pas une balise }_} {_% ni %_}")
    fictif.edit("structures.yaml", "nom: Beta Emploi", 'nom: "B {_{ x }_} {_% y %_}"')
    out = tmp_path / "out"
    assert pipeline.build(Settings(source=fictif.root, out_dir=out, templates=templates)).written
    text = typed(docx_text(out / "05-annexe-3-repartition-financiere.docx"))
    assert "Littéral : {{ pas une balise }} {% ni %}" in text
    assert "B {_{ x }_} {_% y %_}" in text


def test_bidirectional_controls_are_kept_but_pointed_out(fictif):
    fictif.edit("structures.yaml", "nom: Beta Emploi", "nom: \"Beta \\u202Eiolpme\"")
    line = fictif.line_of("structures.yaml", "nom: \"Beta")
    (f,) = [f for f in fictif.check() if f.code == "texte.bidi"]
    assert f.severity.value == "WARNING" and f.loc.file.endswith("structures.yaml") and f.loc.line == line
    assert "U+202E en position 6" in f.message and "« Beta iolpme » sans ce caractère" in f.message
