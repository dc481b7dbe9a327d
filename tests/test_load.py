"""Broken dossiers end in located findings and exit 1, never a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st
from ruamel.yaml.nodes import ScalarNode

from deliberation.cli import main
from deliberation.schema import is_blank


def _run(path, *args):
    result = CliRunner().invoke(main, ["check", str(path), *args])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result


@pytest.mark.parametrize(
    ("name", "old", "new", "code", "where"),
    [
        ("phase.yaml", "numero: 2\n", "numero: [2\n", "yaml.syntaxe", "intitule:"),
        ("phase.yaml", "numero: 2\n", "numero: deux\n", "schema.type", "numero: deux"),
        ("phase.yaml", "numero: 2\n", "numero: 2\nnumro: 3\n", "schema.cle_inconnue", "numro: 3"),
        ("phase.yaml", "numero: 2\n", "", "schema.manquant", "annee:"),
        ("budget.yaml", "ae: 130000.00", "ae: cent mille", "nombre.format", "cent mille"),
        ("budget.yaml", "ae: 130000.00", "ae: [1, 2]", "schema.type", "ae: [1, 2]"),
        ("thematiques/t4.yaml", "debut: 2025-01-01", "debut: 2025-13-01", "date.inexistante", "2025-13-01"),
        ("thematiques/t4.yaml", "debut: 2025-01-01", "debut: demain", "date.format", "demain"),
        ("thematiques/t4.yaml", "nature: financement", "nature: don", "schema.choix", "nature: don"),
        ("thematiques/t4.yaml", "description: Séjour de remobilisation pour 20 jeunes",
         'description: "S\\x07jour"', "texte.controle", "x07"),
        ("structures.yaml", "  gamma:", "  alpha:", "schema.cle_dupliquee", "CCAS de Gamma"),
        ("phase.yaml", "lieu: ARRAS", "lieu: ARRAS\n  lieu: LENS", "schema.cle_dupliquee", "lieu: LENS"),
    ],
)
def test_broken_input_is_located(fictif, name, old, new, code, where):
    fictif.edit(name, old, new)
    line = fictif.line_of(name, where)
    if code == "schema.cle_dupliquee" and name == "structures.yaml":
        line -= 1  # the key line above the duplicated structure's first field
    result = _run(fictif.root)
    assert result.exit_code == 1, result.output
    hits = [f for f in fictif.check() if f.code == code]
    assert hits, [str(f) for f in fictif.check()]
    assert hits[0].loc.file.endswith(name)
    assert hits[0].loc.line == line
    assert f"[{code}]" in result.output


def test_missing_file(fictif):
    (fictif.root / "budget.yaml").unlink()
    result = _run(fictif.root)
    assert result.exit_code == 1
    assert "budget.yaml: ERROR: fichier manquant : budget.yaml [fichier.manquant]" in result.output


def test_missing_folder(tmp_path):
    result = _run(tmp_path / "absent")
    assert result.exit_code == 1
    assert "dossier introuvable" in result.output


def test_empty_and_binary_files(fictif):
    fictif.write("budget.yaml", "")
    (fictif.root / "structures.yaml").write_bytes(b"structures:\n  x: \xff\xfe\n")
    codes = fictif.codes()
    assert "fichier.vide" in codes and "fichier.encodage" in codes


def test_yaml_alias_bomb_is_refused(fictif):
    bomb = "a: &a [x, x]\nb: &b [*a, *a]\nc: &c [*b, *b]\n"
    fictif.write("budget.yaml", bomb + "lignes: [*c]\n")
    result = _run(fictif.root)
    assert result.exit_code == 1


def test_no_thematique(fictif):
    for p in (fictif.root / "thematiques").glob("*.yaml"):
        p.unlink()
    assert "dossier.thematiques" in fictif.codes()


def test_all_findings_reported_at_once(fictif):
    fictif.edit("thematiques/t1.yaml", "fin: 30/06/2025", "fin: 31/06/2025")
    fictif.edit("thematiques/t4.yaml", "territoire: Lens-Liévin", "territoire: Lensois")
    fictif.edit("budget.yaml", "disponible: 90000.00", "disponible: 1000.00")
    codes = set(fictif.codes())
    assert {"date.inexistante", "territoire.inconnu", "budget.depassement"} <= codes


def test_parse_cache_gives_the_same_dossier_and_survives_a_corrupt_entry(tmp_path, monkeypatch):
    import shutil

    from deliberation import pipeline
    from deliberation.findings import format_finding
    from deliberation.settings import Settings

    monkeypatch.setenv("DELIBERATION_CACHE", str(tmp_path / "cache"))
    src = tmp_path / "d"
    shutil.copytree(Path(__file__).resolve().parents[1] / "fixtures" / "phase-6-2024-as-written", src)

    def run():
        c = pipeline.check(Settings(source=src))
        return [format_finding(f) for f in c.findings], c.figures.phase.montant

    cold = run()
    entries = sorted((tmp_path / "cache").rglob("*"))
    # phase, budget, structures, 3 thématiques, the templates' statuts.yaml (and the cache's signing key); with
    # Grammalecte, the spelling's word verdicts and the text of each Word template
    from deliberation.orthographe import grammalecte_dir
    from deliberation.resources import templates_dir

    spelling = 1 + len(list(templates_dir().glob("*.docx"))) if grammalecte_dir() is not None else 0
    assert len([e for e in entries if e.is_file() and e.name != "cle-hmac"]) == 7 + spelling
    assert run() == cold  # from the cache
    for e in entries:
        if e.is_file():
            e.write_bytes(b"garbage")
    assert run() == cold  # a corrupt entry is a miss
    text = (src / "budget.yaml").read_text(encoding="utf-8")
    (src / "budget.yaml").write_text(text.replace("disponible:", "disponibl:", 1), encoding="utf-8")
    assert any("[schema.cle_inconnue]" in f for f in run()[0])  # an edited file is parsed again


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("a: b: c\n", "« : » inattendu"),
        ("a:\n  - x\n b: 2\n", "clé attendue"),
        ("a:\tb\n\tc: d\n", "tabulation interdite"),
        ("a: *x\n", "alias (« *nom ») sans ancre"),
        ('a: "abc\n', "fin de fichier inattendue"),
        ("a: [1, 2\n", "« , » ou « ] » attendu"),
        ("a: {b: 1\n", "« , » ou « } » attendu"),
        ("- a\nb: 1\n", "indentation incohérente"),
        ("a: @x\n", "caractère interdit en début de valeur"),
        ('a: "\\q"\n', "séquence d'échappement inconnue"),
        ("a: &\n", "ancre ou alias sans nom"),
    ],
)
def test_yaml_syntax_errors_are_explained_in_french(text, says):
    from deliberation.load.yaml import compose_text

    node, findings = compose_text(text, "f.yaml")
    assert node is None and [f.code for f in findings] == ["yaml.syntaxe"]
    assert findings[0].message == f"YAML mal formé : {findings[0].message.split(' : ', 1)[1]}"
    assert says in findings[0].message and findings[0].loc.line >= 1, findings[0]
    assert not any(word in findings[0].message for word in ("found", "expected", "allowed", "mapping"))


def test_unreadable_file_says_why_in_french(fictif):
    (fictif.root / "budget.yaml").unlink()
    (fictif.root / "budget.yaml").mkdir()
    result = _run(fictif.root)
    assert result.exit_code == 1
    said = "budget.yaml: ERROR: fichier illisible : c'est un dossier, pas un fichier [fichier.illisible]"
    assert said in result.output


def test_check_pauses_the_cycle_collector_and_restores_it(monkeypatch):
    """Loading makes hundreds of thousands of objects: no cyclic collection while it runs (issue 23)."""
    import gc

    from deliberation import pipeline
    from deliberation.settings import Settings

    seen = []
    real = pipeline.load_dossier
    monkeypatch.setattr(pipeline, "load_dossier", lambda root: seen.append(gc.isenabled()) or real(root))
    try:
        assert gc.isenabled()
        checked = pipeline.check(Settings(source=Path(__file__).resolve().parents[1] / "fixtures" / "phase-6-2024"))
        assert checked.dossier is not None and seen == [False] and gc.isenabled()
        gc.disable()  # left as found: a caller that paused it keeps it paused
        pipeline.check(Settings(source=Path(__file__).resolve().parents[1] / "fixtures" / "phase-6-2024"))
        assert not gc.isenabled()
    finally:
        gc.enable()


def _blank_by_definition(value: str) -> bool:
    """« à compléter » in any case, accents optional, any spaces: the definition ``schema.is_blank`` keeps."""
    import unicodedata

    text = "".join(c for c in unicodedata.normalize("NFKD", value) if not unicodedata.combining(c))
    return len(value) <= 40 and " ".join(text.lower().split()) == "a completer"


@given(st.lists(st.sampled_from(["à", "a", "A", "À", "ａ", "compléter", "COMPLETER", "Compléter", "complèter", "é",
                                 "c", "ompl", "eter", " ", "  ", "\t", "\u00a0", "\u2028", "\x1c", "\u0301", ".", "1",
                                 "x", "ﬀ", "ᴬ"]), max_size=8).map("".join))
def test_a_blank_is_read_in_any_spelling_and_only_then(value):
    """Verify that ``is_blank`` says « à compléter » exactly as the folded comparison does (fast path included)."""
    assert is_blank(ScalarNode("tag:yaml.org,2002:str", value)) == _blank_by_definition(value)
    assert is_blank(ScalarNode("tag:yaml.org,2002:str", " À  COMPLÉTER\t"))
    assert is_blank(ScalarNode("tag:yaml.org,2002:str", "ａ compléter"))


@given(st.text(alphabet=" \t?-[{a\n\r\x0b\x0c\x1c\x85\u2028", max_size=60), st.integers(0, 30))
def test_the_depth_bound_is_the_longest_lead_of_the_lines(text, brackets):
    """Verify that the cheap bound skipping the depth walk is exactly « brackets + 2 × (longest lead + 1) ≤ limit ».

    The longest lead (spaces, tabs, dashes, question marks) over ``str.splitlines`` is the reference; the
    bound is found by one search whatever the line separators.
    """
    import re

    from deliberation.load import yaml as loader

    text = "[" * brackets + text
    lead = max((re.match(r"[ \t?-]*", line).end() for line in text.splitlines()), default=0)
    for depth in range(0, 80, 3):
        limit = (depth - text.count("[") - text.count("{")) // 2 - 1
        fast = limit >= 0 and loader._lead_over(limit).search(text) is None
        assert fast == (text.count("[") + text.count("{") + 2 * (lead + 1) <= depth), (depth, text)
