"""French typography (``deliberation.typo``): the seed's own sentences, runs of a Word paragraph, whole bundles.

Grammalecte's text formatter (Debian ``python3-grammalecte``, installed by ``make test``) is the real
French typographer the output is checked against: on the seed's sentences, it finds nothing left to do.
"""

from __future__ import annotations

import glob
import importlib.util
import re
import sys
import zipfile
from pathlib import Path

import pytest
from conftest import FIXTURES
from lxml import etree

from deliberation import pipeline
from deliberation.render.finish import typeset as typeset_tree
from deliberation.render.inspect import docx_lines
from deliberation.settings import Settings
from deliberation.typo import NBSP, NNBSP, typeset, typeset_runs

#: Sentences of the seed (délibération n°2024-587, rapport n°36, annexe 4, dispositif sheets) as typed there.
SEED = {
    "Vu le Code Général des Collectivités Territoriales ;":
        f"Vu le Code Général des Collectivités Territoriales{NNBSP};",
    "soit 712 000,00 €": f"soit 712{NBSP}000,00{NBSP}€",
    "la 1ère phase": "la 1re phase",
    '"au sens juridique"': f"«{NNBSP}au sens juridique{NNBSP}»",
    "Vu l'avis de la 2ème commission « Solidarités humaines » rendu lors de sa réunion en date du 25/11/2024 ;":
        f"Vu l’avis de la 2e commission «{NNBSP}Solidarités humaines{NNBSP}» rendu lors de sa réunion en date du "
        f"25/11/2024{NNBSP};",
    "Schéma \"garantir l'inclusion sociale, professionnelle et l'accès au logement des habitants du "
    "Pas-de-Calais \" » ;":
        f"Schéma «{NNBSP}garantir l’inclusion sociale, professionnelle et l’accès au logement des habitants du "
        f"Pas-de-Calais{NNBSP}»{NNBSP}»{NNBSP};",
    "« Délégation d'attributions à la Commission Permanente » ;":
        f"«{NNBSP}Délégation d’attributions à la Commission Permanente{NNBSP}»{NNBSP};",
    "DECIDE :": f"DECIDE{NBSP}:",
    "Article 6 :": f"Article{NBSP}6{NBSP}:",
    "Pour : 42 voix Contre : 0 voix": f"Pour{NBSP}: 42 voix Contre{NBSP}: 0 voix",
    "Accompagnement de 30 participants - opération \"Au fil de bois\" du 01/12/24 au 30/11/25":
        f"Accompagnement de 30 participants - opération «{NNBSP}Au fil de bois{NNBSP}» du 01/12/24 au 30/11/25",
    "- €": f"-{NBSP}€",
    "Modèle d'avenant n° 9": f"Modèle d’avenant n°{NBSP}9",
    "délibération n°2024-587 du 9 décembre 2024": f"délibération n°2024-587 du 9{NBSP}décembre{NBSP}2024",
    "du 1er janvier 2025 au 31 décembre 2025": f"du 1er{NBSP}janvier{NBSP}2025 au 31{NBSP}décembre{NBSP}2025",
    "Signer le 1er Contrat d'Engagement Unique": "Signer le 1er Contrat d’Engagement Unique",
    "Faire un point global de la situation du BRSA au travers du diagnostic 360°;":
        f"Faire un point global de la situation du BRSA au travers du diagnostic 360°{NNBSP};",
    "en annexe 4, les avenants": f"en annexe{NBSP}4, les avenants",
    "Quoi?! Non !": f"Quoi{NNBSP}?! Non{NNBSP}!",
}

#: Values that must stay verbatim: a reference, a SIRET, a budget line, a file name, an address, a web address.
VERBATIM = ["C02-446A05", "6568/93446", "123 456 789 00012", "avenant-5.md", "Hôtel du Département, rue Ferdinand "
            "Buisson 62018 ARRAS Cedex 9", "https://www.pasdecalais.fr/aap?phase=6", "t1-o1-mipe", "14:30", "2,38 ETP"]


@pytest.mark.parametrize("typed,expected", list(SEED.items()))
def test_seed_sentences(typed, expected):
    assert typeset(typed) == expected


@pytest.mark.parametrize("value", VERBATIM)
def test_verbatim_values_are_left_alone(value):
    assert typeset(value) == value


def test_typesetting_twice_changes_nothing():
    for out in SEED.values():
        assert typeset(out) == out


def test_runs_keep_their_own_text_and_raise_ordinal_letters():
    # « Article 6 » in one run, « : » in the next (a bold heading, then a plain colon): each keeps its text
    assert typeset_runs(["Article 6", " :"]) == [[(f"Article{NBSP}6", False)], [(f"{NBSP}:", False)]]
    assert typeset_runs(["La 2ème Commission"]) == [[("La 2", False), ("e", True), (" Commission", False)]]
    assert typeset_runs(["le 1", "er janvier"]) == [[("le 1", False)], [("er", True), (f"{NBSP}janvier", False)]]
    assert typeset_runs(["« ", "Bilan", " »"]) == [[(f"«{NNBSP}", False)], [("Bilan", False)], [(f"{NNBSP}»", False)]]


W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"


def test_word_runs_raised_in_superscript_with_their_formatting():
    body = etree.fromstring(
        f'<w:body xmlns:w="{W}"><w:p><w:r><w:rPr><w:b/><w:lang w:val="fr-FR"/></w:rPr>'
        '<w:t xml:space="preserve">La 1ère Commission ;</w:t></w:r></w:p></w:body>')
    typeset_tree(body)
    runs = body.findall(f".//{{{W}}}r")
    assert ["".join(r.itertext()) for r in runs] == ["La 1", "re", f" Commission{NNBSP};"]
    raised = runs[1].find(f"{{{W}}}rPr")
    assert [c.tag.split("}")[1] for c in raised] == ["b", "vertAlign", "lang"]  # the schema's order
    assert raised.find(f"{{{W}}}vertAlign").get(f"{{{W}}}val") == "superscript"
    assert all(r.find(f"{{{W}}}rPr/{{{W}}}b") is not None for r in runs)


# ---------------------------------------------------------------------------------------------------------
# whole bundles, two phases of different shapes

BROKEN = [
    (re.compile(r"\w[ ]?[;!?](?:\s|$)"), "« ; ! ? » sans espace fine insécable"),
    (re.compile(r"(?<![/\d])\w ?:(?:\s|$)"), "« : » sans espace insécable"),
    (re.compile(r"\d(?:ème|ère|eme)\b"), "ordinal à l'ancienne"),
    (re.compile(r"[\"']"), "guillemet ou apostrophe droits"),
    (re.compile(r"« | »"), "espace ordinaire dans « … »"),
]


@pytest.fixture(scope="module", params=["phase-6-2024", "phase-3-2026", "fictif"])
def bundle(request, tmp_path_factory):
    out = tmp_path_factory.mktemp(request.param) / "out"
    assert pipeline.build(Settings(source=FIXTURES / request.param, out_dir=out)).written
    return out


def test_no_document_of_the_bundle_breaks_the_rules(bundle):
    bad = []
    for path in sorted(bundle.rglob("*.docx")):
        if "revisions" in path.parts:
            continue
        for line in docx_lines(path):
            for pattern, what in BROKEN:
                if pattern.search(line):
                    bad.append((path.name, what, line[:120]))
    assert bad == []


def test_ordinals_are_raised_in_the_documents(bundle):
    """Every « 1er », « 1re », « 2e » of the bundle's Word files has its letters in superscript."""
    flat, raised = 0, 0
    for path in sorted(bundle.glob("*.docx")):
        xml = zipfile.ZipFile(path).read("word/document.xml")
        root = etree.fromstring(xml)
        for r in root.iter(f"{{{W}}}r"):
            text = "".join(t.text or "" for t in r.iter(f"{{{W}}}t"))
            up = r.find(f"{{{W}}}rPr/{{{W}}}vertAlign")
            if up is not None and text in ("er", "re", "e", "es", "ers", "res"):
                raised += 1
            flat += len(re.findall(r"\b\d+(?:er|re|e)\b", text))
    assert flat == 0 and raised > 0


# ---------------------------------------------------------------------------------------------------------
# Grammalecte, the real French typographer

def _grammalecte():
    paths = [Path(p) / "grammalecte" / "fr" / "textformatter.py" for p in sys.path]
    paths += [Path(p) for p in glob.glob("/usr/lib/python3/dist-packages/grammalecte/fr/textformatter.py")]
    for path in paths:
        if path.is_file():
            spec = importlib.util.spec_from_file_location("grammalecte_textformatter", path)
            module = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(module)
            return module
    return None


#: Grammalecte's typographic options the engine follows (not its spelling or hyphen corrections).
OPTIONS = ("nbsp_before_punctuation", "nbsp_within_quotation_marks", "ts_apostrophe", "ts_quotation_marks",
           "ordinals_no_exponant", "nbsp_before_symbol")


def _one_kind_of_space(text: str) -> str:
    return text.replace(NNBSP, NBSP)


@pytest.mark.skipif(_grammalecte() is None, reason="python3-grammalecte absent (make test l'installe)")
@pytest.mark.parametrize("typed", list(SEED))
def test_grammalecte_finds_nothing_left_to_do(typed):
    tf = _grammalecte()
    tf.TextFormatter()  # compiles its table
    ours = typeset(typed)
    theirs = ours
    for name in OPTIONS:
        for regex, repl in tf.dReplTable[name]:
            theirs = regex.sub(repl, theirs)
    # Grammalecte writes U+00A0 where the Imprimerie nationale (and the issue) want U+202F: one kind of space
    assert _one_kind_of_space(theirs) == _one_kind_of_space(ours)
