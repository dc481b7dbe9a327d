"""Name consistency (issue 20): a structure, an acronym or a territory written two ways (rules/noms.py)."""

from __future__ import annotations

import shutil
import subprocess
import sys

import pytest
from conftest import FIXTURES, Dossier

from deliberation import pipeline
from deliberation.rules import noms
from deliberation.rules.noms import near_miss
from deliberation.settings import Settings


def names(findings):
    """The name findings, as (code, file name, line)."""
    return [(f.code, f.loc.file.rsplit("/", 1)[-1], f.loc.line) for f in findings if f.code.startswith("nom.")]


def others(findings, *words):
    """Findings that are neither name findings nor the spell check's word on one of ``words``."""
    return [f for f in findings if not f.code.startswith("nom.")
            and not (f.code.startswith("orthographe.") and any(f"« {w} »" in f.message for w in words))]


def line_of(dossier: Dossier, name: str, text: str) -> int:
    """The 1-based line of ``name`` that holds ``text``."""
    lines = (dossier.root / name).read_text(encoding="utf-8").splitlines()
    return next(n for n, line in enumerate(lines, 1) if text in line)


@pytest.fixture
def phase3(tmp_path) -> Dossier:
    """A copy of the fictitious phase 3 of 2026 (another shape than the example; clean)."""
    dest = tmp_path / "phase-3-2026"
    shutil.copytree(FIXTURES / "phase-3-2026", dest)
    return Dossier(dest)


def test_near_miss_sets_apart_typography_and_other_names():
    """Verify what a near-miss is: hyphens, spaces, accents, one misspelt word; not capitals, not another name."""
    assert near_miss("Pas-de-Calais-Actif", "Pas-de-Calais Actif")
    assert near_miss("Pas de Calais Actif", "Pas-de-Calais Actif")
    assert near_miss("ADEFI - Pheforme", "ADEFI - Plateforme")
    assert near_miss("CCAS de Lievin", "CCAS de Liévin")
    assert not near_miss("IMPACT OVAL", "Impact oval")
    assert not near_miss("MEMPA", "Maison de l'emploi du Pays d'Artois")
    assert not near_miss("ADEFI - PLIE", "ADEFI - Plateforme")
    assert not near_miss("Pas-de-Calais - pacte", "Pas-de-Calais Actif")


def test_the_clean_dossiers_have_no_name_finding():
    """Verify that the corrected example, its amended copy, fictif and phase 3 of 2026 report no name finding."""
    for case in ("phase-6-2024", "phase-6-2024-amended", "fictif", "phase-3-2026"):
        assert names(pipeline.check(Settings(source=FIXTURES / case)).findings) == [], case


def test_the_as_written_seed_gets_each_name_two_ways():
    """Verify the seed's names written two ways: PLE/PLIE, Pheforme, Pas-de-Calais-Actif, Boulois, Do/DO, FAI."""
    findings = [f for f in pipeline.check(Settings(source=FIXTURES / "phase-6-2024-as-written")).findings
                if f.code.startswith("nom.")]
    said = {(f.code, f.severity.name, f.message.split(" (")[0]) for f in findings}
    assert said == {
        ("nom.sigle", "WARNING", "« PLE »"), ("nom.sigle", "WARNING", "« PIIE »"),
        ("nom.sigle", "WARNING", "« Do »"), ("nom.sigle", "WARNING", "« FAI »"),
        ("nom.partie", "ERROR", "« ADEFI - Pheforme »"), ("nom.partie", "ERROR", "« Pas-de-Calais-Actif »"),
        ("nom.graphie", "WARNING", "« Pas de Calais Actif »"), ("nom.territoire", "WARNING", "« Boulois »"),
    }
    ple = next(f for f in findings if f.message.startswith("« PLE »"))
    places = ", ".join(f"thematiques/t1.yaml:{n}" for n in (172, 194, 216, 227, 250, 272, 294))
    assert f"« PLE » ({places}) et « PLIE » (thematiques/t1.yaml:305)" in ple.message  # seed l.217-228 / l.231
    pdc = next(f for f in findings if f.code == "nom.partie" and "Actif" in f.message)
    assert "structures.yaml:61, thematiques/t1.yaml:334" in pdc.message
    assert "« Pas-de-Calais Actif » (structures.yaml:63)" in pdc.message


def test_a_structure_named_two_ways_in_a_narrative_is_found(fictif):
    """Verify that « Beta-Emploi » in a narrative, for the registry's « Beta Emploi », is one warning there."""
    fictif.edit("thematiques/t1.yaml", "Il est proposé un avenant pour *2 structures*.",
                "Il est proposé un avenant pour *2 structures*, dont Beta-Emploi.")
    findings = fictif.check()
    line = line_of(fictif, "thematiques/t1.yaml", "dont Beta-Emploi")
    assert names(findings) == [("nom.graphie", "t1.yaml", line)]
    [f] = [f for f in findings if f.code == "nom.graphie"]
    assert f.message.startswith(f"« Beta-Emploi » (thematiques/t1.yaml:{line}) et « Beta Emploi » (structures.yaml:")
    assert others(findings, "Beta-Emploi") == []


def test_an_acronym_written_two_ways_is_one_finding_with_every_place(fictif):
    """Verify that « PLE » twice, for the glossary's « PLIE », is one warning listing both places."""
    fictif.edit("thematiques/t1.yaml", "description: Financement de 2 ETP, soit",
                "description: Financement de 2 ETP PLE, soit")
    fictif.edit("thematiques/t1.yaml", "description: Valorisation d'1 ETP pour la réalisation de 400",
                "description: Valorisation d'1 ETP PLE pour la réalisation de 400")
    findings = fictif.check()
    first = line_of(fictif, "thematiques/t1.yaml", "1 ETP PLE")
    second = line_of(fictif, "thematiques/t1.yaml", "2 ETP PLE")
    assert names(findings) == [("nom.sigle", "t1.yaml", first)]
    [f] = [f for f in findings if f.code == "nom.sigle"]
    assert f"(thematiques/t1.yaml:{first}, thematiques/t1.yaml:{second}) et « PLIE » (glossaire des sigles)" \
        in f.message
    assert others(findings, "PLE") == []


def test_a_territory_misspelt_in_a_structure_name_is_found(fictif):
    """Verify that « CCAS du Calaisys » is found at the registry's name, and « CCAS de Gamma » is not."""
    fictif.edit("structures.yaml", "nom: CCAS de Gamma", "nom: CCAS du Calaisys")
    findings = fictif.check()
    line = line_of(fictif, "structures.yaml", "CCAS du Calaisys")
    assert names(findings) == [("nom.territoire", "structures.yaml", line)]
    assert "« Calaisis »" in next(f.message for f in findings if f.code == "nom.territoire")
    assert others(findings, "Calaisys") == []


def test_a_near_miss_of_the_legal_name_where_a_party_is_named_is_an_error(fictif):
    """Verify the annexe 4 cell as printed, on a line whose structure signs an avenant: an error, that blocks."""
    fictif.edit("thematiques/t1.yaml", "description: Valorisation d'1 ETP pour la réalisation de 400 diagnostics",
                "description: Valorisation d'1 ETP pour la réalisation de 400 diagnostics\n"
                "        ecrit: {structure: Association Alpha-Insertion}")
    result = pipeline.check(Settings(source=fictif.root))
    line = line_of(fictif, "thematiques/t1.yaml", "Alpha-Insertion")
    assert names(result.findings) == [("nom.partie", "t1.yaml", line)]
    [f] = [f for f in result.findings if f.code == "nom.partie"]
    assert f.severity.name == "ERROR" and "« Association Alpha Insertion » (structures.yaml:" in f.message
    assert others(result.findings) == []
    run = subprocess.run([sys.executable, "-m", "deliberation", "check", str(fictif.root)],
                         capture_output=True, text=True, check=False)
    assert run.returncode == 1 and "Traceback" not in run.stderr
    assert f"thematiques/t1.yaml:{line}: ERROR: « Association Alpha-Insertion » (" in run.stdout + run.stderr


def test_a_usual_name_that_is_a_near_miss_of_the_legal_name_is_an_error_on_each_line(fictif):
    """Verify a registry « nom » one hyphen off its « raison_sociale »: the act and each annexe 4 line print it."""
    fictif.edit("structures.yaml", "nom: Beta Emploi\n", "nom: Beta-Emploi SCIC\n")
    findings = fictif.check()
    [f] = [f for f in findings if f.code.startswith("nom.")]
    assert (f.code, f.loc.file.rsplit("/", 1)[-1]) == ("nom.partie", "structures.yaml")
    assert f"thematiques/t1.yaml:{line_of(fictif, 'thematiques/t1.yaml', 'structure: beta')}" in f.message
    assert "« Beta Emploi SCIC »" in f.message


def test_a_second_shape_narrative_model_text_and_territory(phase3):
    """Verify on phase 3 of 2026: a narrative (warning), a voted model text (error), a territory in a name."""
    phase3.edit("thematiques/t2.yaml", "Quatre structures valorisent leurs ETP",
                "Quatre structures, dont l'Entraide-Artois, valorisent leurs ETP")
    phase3.edit("modeles/avenant-2.md", "Le reste de l'article est inchangé.",
                "Le reste de l'article est inchangé pour l'Atelier du Litoral.")
    phase3.edit("structures.yaml", "nom: Union des Familles", "nom: Union des Familles du Ternoys")
    findings = phase3.check()
    assert sorted(names(findings)) == sorted([
        ("nom.graphie", "t2.yaml", line_of(phase3, "thematiques/t2.yaml", "Entraide-Artois")),
        ("nom.partie", "avenant-2.md", line_of(phase3, "modeles/avenant-2.md", "Atelier du Litoral")),
        ("nom.territoire", "structures.yaml", line_of(phase3, "structures.yaml", "Ternoys")),
    ])
    assert others(findings, "Litoral", "Ternoys") == []


def _mentions_by_trying_every_name(text, refs, all_names):
    """The definition ``noms._mentions`` must keep: every registry name tried at every word of the text."""
    toks = noms._tokens(text)
    found = []
    for k, (s, ref) in enumerate(refs):
        rt = [t for t, _, _ in noms._tokens(ref)]
        if sum(c.isalpha() for c in "".join(rt)) < 2:
            continue
        for i in range(len(toks) - len(rt) + 1):
            raw = text[toks[i][1]:toks[i + len(rt) - 1][2]]
            if toks[i][0] == rt[0] and raw not in all_names and near_miss(raw, ref):
                found.append((k, toks[i][1], s, ref, raw))
    return [(s, ref, raw, start) for _, start, s, ref, raw in sorted(found, key=lambda f: (f[0], f[1]))]


@pytest.mark.parametrize("fixture", ["phase-6-2024", "fictif"])
def test_the_name_index_finds_what_trying_every_name_finds(fixture):
    """Verify that the indexed search of names finds exactly the near-misses a scan of every name finds.

    The registry of each fixture, plus 60 names sharing their first words (« Structure fictive 7 »,
    « Maison de l'emploi de Lens »); the texts: the dossier's, and each name and text respelt (a letter
    changed, dropped or doubled, hyphens for spaces, accents dropped).
    """
    dossier = pipeline.check(Settings(source=FIXTURES / fixture)).dossier
    structures = [s for _, s in sorted(dossier.structures.items())]
    refs = [(s, r) for s in structures for r in dict.fromkeys(x for x in (s.nom, s.raison_sociale) if x)]
    extra = [f"Structure fictive {n}" for n in range(1, 41)] + [f"Maison de l'emploi de {v}" for v in noms.VILLES]
    refs += [(structures[n % len(structures)], name) for n, name in enumerate(extra)]
    all_names = {r for _, r in refs}
    index = noms._index(refs)
    names = [r for _, r in refs]
    texts = [t for t, _ in noms._dossier_texts(dossier)] + names

    def respelt(text: str, n: int) -> str:
        at = 1 + n % max(1, len(text) - 2)
        return (text[:at] + "x" + text[at + 1:], text[:at] + text[at + 1:], text[:at] + text[at] + text[at:],
                text.replace(" ", "-"), noms._fold(text), text.upper())[n % 6]

    texts += [respelt(t, n) for n, t in enumerate(texts)] + [" et ".join(respelt(x, 3 * n) for x in names)
                                                            for n in range(6)]
    found = 0
    for text in texts:
        expected = _mentions_by_trying_every_name(text, refs, all_names)
        assert list(noms._mentions(text, index, all_names)) == expected, text
        found += len(expected)
    assert found > 50  # the respelt names are found, not only the absence of any
