"""Issue 16, items 1, 3, 10 and 12: the output folder of ``build`` (never a folder the engine did not make).

Each test reproduces the attack on a temporary tree, then checks the refusal (exit 3, French message
naming the folder) and that every pre-existing file is byte-identical afterwards.
"""

from __future__ import annotations

import json
import os
import shutil
import tracemalloc
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import FIXTURES, slow_but, tree_state

from deliberation.bundle.history import read_previous
from deliberation.cli import main


def _build(dossier: Path, out: Path | str, *extra: str):
    return CliRunner().invoke(main, ["build", str(dossier), "-o", str(out), "--sans-pdf", *extra])


@pytest.fixture
def tree(tmp_path) -> Path:
    """A user's folder: the dossier ``F`` beside a home-like folder ``H`` with personal files."""
    shutil.copytree(FIXTURES / "fictif", tmp_path / "F")
    (tmp_path / "H" / "Documents").mkdir(parents=True)
    (tmp_path / "H" / "Documents" / "thesis.txt").write_text("x\n")
    (tmp_path / "H" / ".bashrc").write_text("s\n")
    return tmp_path


def _refused(result, *words: str) -> None:
    assert result.exit_code == 3, result.output
    assert "dossier de sortie refusé" in result.output
    for w in words:
        assert w in result.output, result.output


# item 1 -------------------------------------------------------------------------------------------


def test_foreign_folder_is_not_emptied(tree):
    before = tree_state(tree)
    result = _build(tree / "F", tree / "H")
    _refused(result, str(tree / "H"), "n'est pas vide", ".bashrc", "Documents")
    assert tree_state(tree) == before


@pytest.mark.parametrize("target", ["F", ".", "F/sortie"])
def test_dossier_its_parent_or_inside_refused(tree, target, monkeypatch):
    monkeypatch.chdir(tree)
    before = tree_state(tree)
    result = _build(Path("F"), target)
    _refused(result, "dossier de la phase")
    assert tree_state(tree) == before


def test_dossier_reached_through_a_link_refused(tree):
    (tree / "alias").symlink_to(tree / "F")
    before = tree_state(tree)
    _refused(_build(tree / "alias", tree / "F"), "est le dossier de la phase")
    assert tree_state(tree) == before


def test_files_added_to_a_bundle_are_kept(tree):
    out = tree / "sortie"
    assert _build(tree / "F", out).exit_code == 0
    (out / "notes.txt").write_text("mes notes\n")
    (tree / "F" / "thematiques" / "t1.yaml").write_text(
        (tree / "F" / "thematiques" / "t1.yaml").read_text().replace("fin: 30/06/2025", "fin: 29/06/2025"))
    before = tree_state(tree)
    result = _build(tree / "F", out)
    _refused(result, "notes.txt", "n'a pas écrit")
    assert tree_state(tree) == before


@pytest.mark.slow
def test_empty_absent_and_own_folders_accepted(tree):
    (tree / "vide").mkdir()
    assert _build(tree / "F", tree / "vide").exit_code == 0
    assert (tree / "vide" / "manifest.json").is_file()
    assert _build(tree / "F", tree / "neuf" / "jeu").exit_code == 0
    assert _build(tree / "F", tree / "neuf" / "jeu").exit_code == 0  # its own bundle: rebuilt in place


def test_manifest_of_another_tool_is_not_ours(tree):
    (tree / "H" / "manifest.json").write_text(json.dumps({"sorties": {}, "version": 1}))
    before = tree_state(tree)
    _refused(_build(tree / "F", tree / "H"), "pas un jeu produit")
    assert tree_state(tree) == before


# item 3 -------------------------------------------------------------------------------------------


def test_existing_file_refused(tree):
    (tree / "rapport.docx").write_bytes(b"mon rapport")
    before = tree_state(tree)
    _refused(_build(tree / "F", tree / "rapport.docx"), "est un fichier, pas un dossier")
    assert tree_state(tree) == before
    assert not [p for p in tree.iterdir() if p.name.startswith(".rapport.docx")]


def test_symlink_refused(tree):
    (tree / "lien").symlink_to(tree / "H")
    before = tree_state(tree)
    _refused(_build(tree / "F", tree / "lien"), "lien symbolique")
    assert tree_state(tree) == before
    assert (tree / "lien").is_symlink()


def test_symlink_to_an_empty_folder_refused(tree):
    (tree / "vide").mkdir()
    (tree / "lien").symlink_to(tree / "vide")
    before = tree_state(tree)
    _refused(_build(tree / "F", tree / "lien"), "lien symbolique")
    assert tree_state(tree) == before


# item 10 ------------------------------------------------------------------------------------------


def _crafted(out: Path, names: dict[str, dict]) -> None:
    manifest = json.loads((out / "manifest.json").read_text())
    manifest["sorties"].update(names)
    (out / "manifest.json").write_text(json.dumps(manifest))


@pytest.mark.parametrize("name", slow_but(["../../../../../../etc/passwd", "/etc/passwd", "actes/../../../etc/passwd",
                                            "zero", "lien/passwd"], "/etc/passwd"))
def test_crafted_manifest_opens_nothing_outside(tree, name):
    out = tree / "sortie"
    assert _build(tree / "F", out).exit_code == 0
    if name == "zero":
        (out / "zero").symlink_to("/dev/zero")
    if name.startswith("lien/"):
        (out / "lien").symlink_to("/etc")
    passwd = Path("/etc/passwd").read_bytes()
    _crafted(out, {name: {"sha256": "0" * 64, "octets": len(passwd)}})
    tracemalloc.start()
    previous = read_previous(out)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert previous is not None and name not in previous.files
    assert peak < 50 * 1024 * 1024
    # diff reads it the same way: the crafted entry is ignored, nothing is printed from /etc/passwd
    result = CliRunner().invoke(main, ["diff", str(out), str(tree / "F")])
    assert "root:" not in result.output


def test_crafted_manifest_does_not_make_build_read_dev_zero(tree):
    out = tree / "sortie"
    assert _build(tree / "F", out).exit_code == 0
    (out / "zero.docx").symlink_to("/dev/zero")
    _crafted(out, {"zero.docx": {"sha256": "0" * 64}})
    before = tree_state(tree)
    result = _build(tree / "F", out)  # a link not listed as ours: refused, never read
    _refused(result, "zero.docx")
    assert tree_state(tree) == before


# item 12 ------------------------------------------------------------------------------------------


@pytest.mark.slow
def test_glob_characters_in_the_output_name(tree):
    g = tree / "g"
    for neighbour in (".xa.tmp-1", ".xyz.old-2", ".x[a].tmp-3", ".x[a].tmp-notes"):
        (g / neighbour).mkdir(parents=True)
        (g / neighbour / "travail.txt").write_text("à garder\n")
    before = tree_state(g)
    for _ in range(2):
        assert _build(tree / "F", g / "x*").exit_code == 0
        assert _build(tree / "F", g / "x[a]").exit_code == 0
    after = tree_state(g)
    assert {k: v for k, v in after.items() if not k.startswith(("x*", "x[a]"))} == before
    assert (g / "x*" / "manifest.json").is_file()


def test_a_stale_temporary_folder_of_the_same_name_is_cleaned(tree):
    out = tree / "sortie"
    assert _build(tree / "F", out).exit_code == 0
    stale = tree / ".sortie.tmp-abcd_123"
    stale.mkdir()
    (stale / "x").write_text("reste")
    (tree / ".sortie.tmp-lien").symlink_to(tree / "H")  # a link bearing the name: not followed, not removed
    before_h = tree_state(tree / "H")
    (tree / "F" / "thematiques" / "t1.yaml").write_text(
        (tree / "F" / "thematiques" / "t1.yaml").read_text().replace("fin: 30/06/2025", "fin: 29/06/2025"))
    assert _build(tree / "F", out).exit_code == 0
    assert not stale.exists()
    assert tree_state(tree / "H") == before_h and (tree / ".sortie.tmp-lien").is_symlink()


def test_nothing_left_beside_a_refused_build(tree):
    names = set(os.listdir(tree))
    _build(tree / "F", tree / "H")
    assert set(os.listdir(tree)) == names
