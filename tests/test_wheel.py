"""Issue 17, point 1: an installed copy works as the checkout does.

The wheel is built, installed into a fresh virtual environment outside the checkout, and run from
another folder: it must carry its templates, clause texts and dispositif sheets, give the same
findings and write the same bytes as the editable checkout.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from conftest import FIXTURES, ROOT

pytestmark = pytest.mark.slow


def _run(cmd: list, cwd: Path, timeout: float = 600) -> subprocess.CompletedProcess:
    return subprocess.run([str(c) for c in cmd], capture_output=True, text=True, cwd=cwd, timeout=timeout,
                          check=False)


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """The ``deliberation`` command of a fresh venv holding only the wheel and its dependencies."""
    tmp = tmp_path_factory.mktemp("roue")
    # built from a clean copy of the sources: a build/lib left in the checkout could slip stale modules in
    source = tmp / "source"
    shutil.copytree(ROOT, source, ignore=shutil.ignore_patterns(".venv", "build", ".git", "__pycache__",
                                                                 "*.egg-info", ".pytest_cache", ".hypothesis"))
    built = _run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", tmp / "dist", source], cwd=tmp)
    assert built.returncode == 0, built.stderr
    (wheel,) = (tmp / "dist").glob("deliberation-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert "deliberation/templates/avenant.docx" in names and "deliberation/templates/clauses/cout.md" in names
    assert "deliberation/templates/statuts.yaml" in names  # which templates are adopted texts
    # the workbench's pages and its vendored static files (deliberation serve)
    assert "deliberation/web/templates/phase.html" in names and "deliberation/web/static/atelier.js" in names
    assert any(n.startswith("deliberation/annexes/dispositifs/") and n.endswith(".md") for n in names)
    made = _run([sys.executable, "-m", "venv", tmp / "venv"], cwd=tmp)
    assert made.returncode == 0, made.stderr
    done = _run([tmp / "venv" / "bin" / "python", "-m", "pip", "install", "-q", wheel], cwd=tmp)
    assert done.returncode == 0, done.stderr
    return tmp / "venv" / "bin" / "deliberation"


def _tree(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.mark.parametrize("example", ["phase-6-2024", "fictif"])
def test_installed_copy_checks_and_builds_like_the_checkout(installed, tmp_path, example):
    elsewhere = tmp_path / "ailleurs"
    elsewhere.mkdir()
    shutil.copytree(FIXTURES / example, elsewhere / example)
    checkout = Path(sys.executable).parent / "deliberation"
    ours = _run([installed, "check", example], cwd=elsewhere)
    theirs = _run([checkout, "check", example], cwd=elsewhere)
    assert ours.returncode == theirs.returncode == 0, ours.stdout + ours.stderr
    assert ours.stdout == theirs.stdout and ours.stderr == theirs.stderr
    assert "aucune fiche" not in ours.stdout  # the catalogue is there
    built = _run([installed, "build", example, "-o", "installe", "--sans-pdf"], cwd=elsewhere)
    assert built.returncode == 0, built.stderr
    again = _run([checkout, "build", example, "-o", "checkout", "--sans-pdf"], cwd=elsewhere)
    assert again.returncode == 0, again.stderr
    a, b = _tree(elsewhere / "installe"), _tree(elsewhere / "checkout")
    assert sorted(a) == sorted(b) and len(a) > 10
    assert [n for n in a if a[n] != b[n]] == []


def test_installed_copy_is_not_the_checkout(installed, tmp_path):
    where = _run([installed.parent / "python", "-c", "import deliberation; print(deliberation.__file__)"], cwd=tmp_path)
    assert where.returncode == 0 and str(ROOT) not in where.stdout, where.stdout
