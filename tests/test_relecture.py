"""Proofreading as a careful reader (issue 20): every kind of text mistake, injected at once into the
fictitious dossier, is found where it was written, and nothing else is.

The kinds: a misspelt word in a narrative, a body named two ways, an inverted range, a number written in
two forms, a period that contradicts the lines, a member listed twice. Each rule is also tested alone
in its own file (test_orthographe, test_noms, test_textes, test_rules); this test proves they work
together, on one dossier, without hiding or duplicating one another.
"""

from __future__ import annotations

import pytest

from deliberation.orthographe import dictionary

T1, T4, PHASE = "thematiques/t1.yaml", "thematiques/t4.yaml", "phase.yaml"

# (file, text written, text injected, code expected, words of the message)
MISTAKES = [
    (T1, "Il est proposé un avenant pour *2 structures*.",
     "Il est proposé un avenent pour *2 structures*, soit 1 200 diagnostics.",
     "orthographe.mot", ("« avenent »", "avenant")),
    (T1, "Les dispositifs rattachés à cette thématique sont détaillés dans le rapport cadre.",
     "Les dispositifs rattachés à cette thématique, dont 1200 diagnostics avec Beta-Emploi, sont détaillés "
     "dans le rapport cadre.",
     "texte.nombre", ("1200 diagnostics", "1 200 diagnostics")),
    (T1, "Les dispositifs rattachés", "Les dispositifs rattachés",  # same line as above: the body named two ways
     "nom.graphie", ("« Beta-Emploi »", "« Beta Emploi »")),
    (T4, "description: Séjour de remobilisation pour 20 jeunes",
     "description: Séjour de remobilisation pour 20 jeunes de 25 à 16 ans",
     "texte.intervalle", ("de 25 à 16 ans",)),
    (T4, "Il est proposé de financer une structure.",
     "Il est proposé de financer une structure du 1er janvier au 30 juin 2025.",
     "texte.periode", ("30/06/2025", "31/12/2025")),
    (PHASE, "absents: [M. Hugo VERT]", "absents: [M. Hugo VERT, Mme Julie NOIR]",
     "seance.membre_double", ("Mme Julie NOIR", "excusés", "absents")),
]


@pytest.mark.skipif(dictionary() is None, reason="python3-grammalecte absent (make test l'installe)")
def test_each_kind_of_text_mistake_is_found_where_it_was_written_and_nothing_else(fictif):
    """Verify the six kinds injected together: six findings, each at its file:line, and no other finding."""
    assert fictif.check() == []  # the fictitious dossier is clean to begin with
    expected = []
    for name, old, new, code, words in MISTAKES:
        if old != new:
            fictif.edit(name, old, new)
        expected.append((code, name, fictif.line_of(name, new.split(": [")[0] if name == PHASE else new), words))
    found = fictif.check()
    assert sorted(f.code for f in found) == sorted(code for code, *_ in expected)
    for code, name, line, words in expected:
        f = next(f for f in found if f.code == code)
        assert f.loc.file.endswith(name), (code, f.loc)
        assert f.loc.line == line, (code, f.loc.line, line)
        assert all(w in f.message for w in words), (code, f.message)
