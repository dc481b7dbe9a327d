"""Spelling (``orthographe.*``): Grammalecte's real dictionary and the glossary, on the dossier and the templates.

Grammalecte (Debian ``python3-grammalecte``) is installed by ``make test``; without it these tests are skipped,
except the one that checks what a machine without it reports.
"""

from __future__ import annotations

import pytest
from conftest import FIXTURES, cli

from deliberation import pipeline
from deliberation.findings import Severity, format_finding, has_errors
from deliberation.orthographe import GLOSSARY, dictionary, grammalecte_dir, load_glossary
from deliberation.settings import Settings

needs = pytest.mark.skipif(grammalecte_dir() is None, reason="python3-grammalecte absent (make test l'installe)")


def spelling(findings):
    return [f for f in findings if f.code.startswith("orthographe.")]


@needs
def test_injected_word_in_a_fictif_narrative_is_found_with_its_line_and_nothing_else(fictif):
    """Verify that a misspelt word inside a multi-line narrative is reported on its own line, with a suggestion."""
    assert spelling(fictif.check()) == []
    fictif.edit("thematiques/t1.yaml", "      Il est proposé un avenant pour *2 structures*.",
                "      Il est proposé un avenant\n      pour la Ymatisation des parcours de *2 structures*.")
    found = spelling(fictif.check())
    assert len(found) == 1
    f = found[0]
    assert (f.code, f.severity) == ("orthographe.mot", Severity.WARNING)
    assert f.loc.file.endswith("thematiques/t1.yaml")
    assert f.loc.line == fictif.line_of("thematiques/t1.yaml", "Ymatisation") == 15
    assert f.message.startswith("« Ymatisation » : mot inconnu du dictionnaire et du glossaire ; suggestions : ")
    assert "Mastication" in f.message


@needs
def test_word_after_an_elision_and_in_a_title(fictif):
    """Verify that « d'autrepart » is checked as « autrepart », suggested « autre part », at the title's line."""
    fictif.edit("thematiques/t1.yaml", 'titre: "Dynamisation des parcours : accueil des BRSA"',
                'titre: "Accompagnement d\'autrepart des BRSA"')
    [f] = spelling(fictif.check())
    assert f.loc.line == fictif.line_of("thematiques/t1.yaml", "autrepart")
    assert f.message == "« autrepart » : mot inconnu du dictionnaire et du glossaire ; suggestions : autre part"


@needs
def test_acronym_typos_get_the_nearest_glossary_acronyms(fictif):
    """Verify that « FAI » (a dictionary word) and « PIIE » are unknown acronyms, « FAJ » and « PLIE » suggested."""
    fictif.edit("thematiques/t1.yaml", 'titre: "Dynamisation des parcours : accueil des BRSA"',
                'titre: "Projets collectifs jeunesse (FAI collectif) du PIIE"')
    found = {f.message.split(" ;")[0]: f.message for f in spelling(fictif.check())}
    assert set(found) == {"« FAI » : sigle absent du glossaire", "« PIIE » : sigle absent du glossaire"}
    assert "sigles proches : FAJ," in found["« FAI » : sigle absent du glossaire"]
    assert "sigles proches : PLIE" in found["« PIIE » : sigle absent du glossaire"]


@needs
def test_glossary_words_capitals_without_accent_and_skipped_tokens_are_accepted(fictif):
    """Verify that acronyms, territories, « Etat », « DECIDE », numbers, ordinals and file names pass."""
    fictif.edit("thematiques/t1.yaml", "      Il est proposé un avenant pour *2 structures*.",
                "      Il est proposé par l'Etat et le PLIE du Montreuillois (Hénin-Carvin, MDS, SIAE) : DECIDE "
                "la 2ème phase, 1,2 ETP, voir avenant-5.md et [[structures]] structures.")
    assert spelling(fictif.check()) == []


@needs
def test_a_dossier_glossary_adds_its_own_words(fictif):
    """Verify that the fictif dossier's own glossary accepts « Beta » and that without it the name is found."""
    assert spelling(fictif.check()) == []
    (fictif.root / "glossaire.yaml").unlink()
    found = spelling(fictif.check())
    assert {f.message.split(" :")[0] for f in found} == {"« Beta »"}
    assert {f.loc.line for f in found} == {fictif.line_of("structures.yaml", "nom: Beta Emploi"),
                                          fictif.line_of("structures.yaml", "raison_sociale: Beta Emploi")}


@needs
def test_a_malformed_glossary_entry_is_a_located_warning(fictif):
    """Verify that an entry without its source is refused and said where."""
    fictif.write("glossaire.yaml", "noms:\n  - {mot: Beta, source: structure fictive}\n  - {mot: Gamma}\n")
    [f] = [f for f in fictif.check() if f.code == "orthographe.glossaire"]
    assert f.loc.line == 3 and "{mot: …, source: …}" in f.message


@needs
def test_the_package_glossary_is_reviewable():
    """Verify that every entry of the shipped glossary has a source, and that the seed's typos are not in it."""
    glossary, findings = load_glossary(GLOSSARY)
    assert findings == []
    assert {"BRSA", "PLIE", "SIAE", "ETP", "MDS", "CCAS"} <= glossary.sigles
    for typo in ("PIIE", "FAI", "PLE"):
        assert not glossary.accepts(typo)
    for typo in ("Boulois", "Pheforme", "Ymatisation", "autrepart", "amencé"):
        assert not glossary.accepts(typo)


@needs
@pytest.mark.parametrize("fixture", ["phase-6-2024", "fictif", "phase-3-2026"])
def test_clean_fixtures_and_the_shipped_templates_have_no_spelling_finding(fixture):
    """Verify no spelling finding on the corrected example, the fictitious dossier, phase 3 (templates included)."""
    findings = pipeline.check(Settings(source=FIXTURES / fixture)).findings
    assert [format_finding(f) for f in spelling(findings)] == []


@needs
def test_the_as_written_seed_gets_its_misspellings():
    """Verify the seed's misspelt names and labels: AMIE du Boulois, ADEFI - PIIE, ETP PLE and the annexe 4's labels.

    The labels as printed (« Ymatisation », « d'autrepart », « FAI collectif », « Avenant amencé »,
    « ADEFI - Pheforme ») are the ``ecrit`` fields of the as-written fixture.
    """
    findings = spelling(pipeline.check(Settings(source=FIXTURES / "phase-6-2024-as-written")).findings)
    words = sorted({f.message.split(" :")[0] for f in findings})
    assert words == ["« Boulois »", "« FAI »", "« PIIE »", "« PLE »", "« Pheforme »", "« Ymatisation »",
                     "« amencé »", "« autrepart »"]
    fai = next(f for f in findings if "« FAI »" in f.message)
    assert fai.loc.file.endswith("t4.yaml") and "sigles proches : FAJ" in fai.message
    # the dossier's own words come first: the annexe 1's « Dynamisation », the registry's « Plateforme »
    first = {f.message.split(" :")[0]: f.message.split("suggestions : ")[-1].split(",")[0] for f in findings}
    assert first["« Ymatisation »"] == "Dynamisation" and first["« Pheforme »"] == "Plateforme"
    boulois = next(f for f in findings if "Boulois" in f.message)
    assert boulois.loc.file.endswith("structures.yaml") and "suggestions : Boulonnais" in boulois.message


@needs
def test_a_misspelt_word_in_a_word_template_is_found_with_its_paragraph(fictif, tmp_path):
    """Verify that a template paragraph is checked, Jinja tags aside, and located by its paragraph number."""
    from conftest import templates_copy

    templates = templates_copy(tmp_path, "rapport.docx", "Le Département {{ phase.numero }} dynamise les parcourrs.")
    findings = spelling(pipeline.check(Settings(source=fictif.root, templates=templates)).findings)
    [f] = findings
    assert f.loc.file.endswith("rapport.docx") and f"(paragraphe {f.loc.line})" in f.message
    assert f.message.startswith("« parcourrs » : mot inconnu") and "parcours" in f.message


@needs
def test_strict_makes_spelling_block(fictif):
    """Verify that a spelling warning does not block, and blocks under --strict (exit 1)."""
    fictif.edit("thematiques/t1.yaml", "      Il est proposé un avenant pour *2 structures*.",
                "      Il est proposé un avenant pour *2 structures* de Ymatisation.")
    assert not has_errors(fictif.check())
    relaxed = cli("check", str(fictif.root))
    strict = cli("check", "--strict", str(fictif.root))
    assert relaxed.returncode == 0 and strict.returncode == 1
    assert "« Ymatisation » : mot inconnu" in strict.stderr + strict.stdout


def test_without_grammalecte_one_warning_says_spelling_was_not_checked(fictif, tmp_path):
    """Verify that a machine without Grammalecte gets one warning, no traceback, and the check still runs."""
    out = cli("check", str(fictif.root), env={"DELIBERATION_GRAMMALECTE": str(tmp_path / "nulle-part")})
    found = cli("check", "--json", str(fictif.root), env={"DELIBERATION_CACHE": ""})
    assert found.stdout.lstrip().startswith("{")  # nothing Grammalecte prints reaches the JSON
    assert out.returncode == 0 and "Traceback" not in out.stderr
    lines = [x for x in (out.stderr + out.stdout).splitlines() if "[orthographe." in x]
    assert len(lines) == 1 and "orthographe non vérifiée : Grammalecte est introuvable" in lines[0]
    assert lines[0].endswith("[orthographe.absent]")


@needs
def test_dictionary_verdicts_are_cached_by_word():
    """Verify that a word looked up once is answered from the verdict table (what the disk cache holds)."""
    dic = dictionary()
    assert dic.verdict("Ymatisation") is not None and dic.verdict("parcours") is None
    assert "Ymatisation" in dic.verdicts and dic.verdicts["parcours"] is None


@needs
def test_suggestions_do_not_depend_on_the_hash_seed(tmp_path):
    """Verify the same misspelt words get the same suggestions, in the same order, under 4 hash seeds.

    Grammalecte meets its suggestions in the order of a set of strings: unsorted, « esai » got 4 orders
    over 4 seeds, so ``check`` printed differently from run to run.
    """
    import os
    import subprocess
    import sys

    code = ("from deliberation.orthographe import dictionary\n"
            "d = dictionary()\n"
            "print([d.verdict(w) for w in ('esai', 'finacement', 'acompagnement', 'bénéficiare')])\n")
    seen = set()
    for seed in ("1", "2", "3", "4"):
        env = {**os.environ, "PYTHONHASHSEED": seed, "DELIBERATION_CACHE": str(tmp_path / seed)}
        out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
        seen.add(out.stdout)
    assert len(seen) == 1, seen
    first = eval(seen.pop())  # noqa: S307 - our own process's repr of tuples of str
    assert first[0][:4] == ("essai", "essaie", "essaim", "essais")


def test_capitals_without_their_accents_are_known_by_a_walk_of_the_dictionary():
    """Verify that a word whose bare capitals need accents is accepted without Grammalecte's suggestions.

    Each accepted word is one that Grammalecte's suggestions accept too (an accent-only suggestion), or one
    they miss (« RESERVE » is suggested « RESSERVE », never « RÉSERVE ») but that the rule (« Etat »,
    « DECIDE ») accepts all the same; a word with no accented form known, or a changed letter that is not
    a capital, keeps its suggestions.
    """
    from deliberation.orthographe import _accent_only, _accented_known

    sc = dictionary()._speller()
    for word in ("DECIDE", "DEPARTEMENTAL", "Etat", "Economique", "REUNION", "PRESIDENT", "RESERVE"):
        assert _accented_known(sc, word), word
    for word in ("Ymatisation", "PLIEX", "etat", "eTAT", "EtE", "DECIDEZZ"):
        assert not _accented_known(sc, word), word
    for word in ("DECIDE", "DELIBERATION", "Evaluation"):  # where Grammalecte's suggestions say the same
        assert any(_accent_only(word, s) for group in sc.suggest(word, 10) for s in group)
    dic = dictionary()
    assert dic.verdict("RESERVE") is None and dic.verdict("Economique") is None
    assert dic.verdict("ETATZ") is not None and dic.verdict("Ymatisation")
