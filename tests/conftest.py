"""Shared helpers: copy a fixture dossier into a temporary folder and edit it."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

from deliberation import pipeline
from deliberation.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "fixtures"
TEMPLATES = ROOT / "deliberation" / "templates"  # the engine's Word templates and clause texts (package data)

# Hypothesis: a short, reproducible profile for `make test`; thousands of examples for `make fuzz`.
_SLOW = [HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.large_base_example]
settings.register_profile("short", max_examples=60, deadline=None, derandomize=True, suppress_health_check=_SLOW,
                          print_blob=True)
settings.register_profile("fuzz", max_examples=int(os.environ.get("HYPOTHESIS_MAX_EXAMPLES", "2500")), deadline=None,
                          suppress_health_check=_SLOW, print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "short"))

# LibreOffice: a test that starts it is marked ``libreoffice`` (left out of ``make check``); one that needs it
# is also skipped without it.
SOFFICE = shutil.which("soffice")
needs_lo = pytest.mark.skipif(not SOFFICE, reason="LibreOffice absent (make libreoffice)")


def slow_but(values, *kept) -> list:
    """``values`` to parametrize a long series: every case is marked ``slow`` but ``kept`` (run by ``make check``).

    A tuple of values is kept when it is in ``kept`` or its first item (the name of the case) is.
    """
    def fast(v) -> bool:
        return v in kept or (isinstance(v, tuple) and v[0] in kept)

    return [v if fast(v) else pytest.param(*(v if isinstance(v, tuple) else (v,)), marks=pytest.mark.slow)
            for v in values]


def files_of(out: Path) -> dict[str, bytes]:
    """Every file under ``out``: its path relative to ``out`` → its bytes."""
    return {str(p.relative_to(out)): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()}


def cli(*args: str, env: dict | None = None, timeout: float = 300) -> subprocess.CompletedProcess:
    """``python -m deliberation ARGS`` in a fresh process, from the checkout (``env`` added to ours)."""
    return subprocess.run([sys.executable, "-m", "deliberation", *args], capture_output=True, text=True, cwd=ROOT,
                          timeout=timeout, env={**os.environ, **(env or {})})


class Dossier:
    """A writable copy of a fixture dossier."""

    def __init__(self, root: Path):
        self.root = root

    def edit(self, name: str, old: str, new: str, count: int = 1) -> Dossier:
        """Replace ``old`` by ``new`` in file ``name`` (the text must be there)."""
        path = self.root / name
        text = path.read_text(encoding="utf-8")
        assert old in text, f"{old!r} not in {name}"
        path.write_text(text.replace(old, new, count), encoding="utf-8")
        return self

    def write(self, name: str, text: str) -> Dossier:
        """Overwrite file ``name``."""
        (self.root / name).write_text(text, encoding="utf-8")
        return self

    def line_of(self, name: str, text: str) -> int:
        """1-based number of the first line of file ``name`` containing ``text``."""
        lines = (self.root / name).read_text(encoding="utf-8").splitlines()
        return next(i for i, line in enumerate(lines, 1) if text in line)

    def check(self, strict: bool = False):
        """Run the checker and return its findings."""
        return pipeline.check(Settings(source=self.root, strict=strict)).findings

    def codes(self) -> list[str]:
        """Codes of the findings."""
        return [f.code for f in self.check()]


def adopted_templates(tmp_path: Path) -> Path:
    """A copy of the engine's templates that the Département has adopted as they are.

    ``statuts.yaml`` (Word templates) and each clause text's header say so. What a Département does once
    it has put its adopted texts in place: ``build --final`` then accepts the documents built from them
    (the engine's own templates are reconstructions, refused by ``--final``).
    """
    import re

    dest = templates_copy(tmp_path / "adopted")
    text = (dest / "statuts.yaml").read_text(encoding="utf-8")
    text = re.sub(r"statut: reconstitution", "statut: adopté", text)
    text = re.sub(r"\n\s+parties: >-\n(?:\s{6,}.*\n)+", "\n", text)
    (dest / "statuts.yaml").write_text(text, encoding="utf-8")
    for clause in (dest / "clauses").glob("*.md"):
        text = clause.read_text(encoding="utf-8")
        clause.write_text(text.replace("\nstatut: reconstitution\n", "\nstatut: adopté\n", 1), encoding="utf-8")
    return dest


def templates_copy(tmp_path: Path, name: str | None = None, paragraph: str | None = None) -> Path:
    """A copy of the engine's templates; with ``name``, that Word template gets ``paragraph`` appended."""
    from docx import Document

    dest = tmp_path / "templates"
    shutil.copytree(TEMPLATES, dest)
    if name is not None:
        doc = Document(str(dest / name))
        doc.add_paragraph(paragraph)
        doc.save(str(dest / name))
    return dest


@pytest.fixture
def fictif(tmp_path) -> Dossier:
    """A copy of the complete fictitious dossier (clean: no finding)."""
    dest = tmp_path / "fictif"
    shutil.copytree(FIXTURES / "fictif", dest)
    return Dossier(dest)


@pytest.fixture
def phase6(tmp_path) -> Dossier:
    """A copy of the corrected phase 6 dossier."""
    dest = tmp_path / "phase-6-2024"
    shutil.copytree(FIXTURES / "phase-6-2024", dest)
    return Dossier(dest)


def tree_state(root: Path) -> dict[str, object]:
    """Every entry under ``root`` → its content's SHA-256 (files), link target (links) or kind (others).

    Compared before and after an attack: the engine must leave every pre-existing file byte-identical.
    """
    import hashlib
    import stat

    state: dict[str, object] = {}
    for top, dirs, names in os.walk(root):
        for name in sorted(names + [d for d in dirs if os.path.islink(os.path.join(top, d))]):
            path = os.path.join(top, name)
            rel = os.path.relpath(path, root)
            st = os.lstat(path)
            if stat.S_ISLNK(st.st_mode):
                state[rel] = ("lien", os.readlink(path))
            elif stat.S_ISREG(st.st_mode):
                with open(path, "rb") as fh:
                    state[rel] = hashlib.sha256(fh.read()).hexdigest()
            else:
                state[rel] = ("spécial", stat.S_IFMT(st.st_mode))
        dirs[:] = sorted(d for d in dirs if not os.path.islink(os.path.join(top, d)))
    return state


# ---------------------------------------------------------------------------
# Every message a user sees is French (issue 16, item 15): the output of each failing command run by the
# suite (CliRunner or a ``deliberation`` process) is kept, and ``test_zz_french`` reads them all at the end.

FAILURE_OUTPUTS: list[tuple[str, str]] = []  # (test id, output)


def _record(output: str) -> None:
    test = os.environ.get("PYTEST_CURRENT_TEST", "?").split(" ")[0]
    FAILURE_OUTPUTS.append((test, output))


def _install_recorders() -> None:
    import subprocess

    from click.testing import CliRunner

    invoke = CliRunner.invoke

    def recorded_invoke(self, *args, **kwargs):
        result = invoke(self, *args, **kwargs)
        if result.exit_code not in (0, None):
            _record(result.output)  # stdout and stderr interleaved
        return result

    CliRunner.invoke = recorded_invoke
    run = subprocess.run

    def recorded_run(*args, **kwargs):
        result = run(*args, **kwargs)
        argv = args[0] if args else kwargs.get("args", "")
        if result.returncode and "deliberation" in str(argv):
            for out in (result.stdout, result.stderr):
                if out:
                    _record(out.decode("utf-8", "replace") if isinstance(out, bytes) else out)
        return result

    subprocess.run = recorded_run


_install_recorders()


def pytest_collection_modifyitems(items):
    """The French-messages check reads what the other tests printed: it runs last."""
    items.sort(key=lambda item: item.nodeid.startswith("tests/test_zz_french.py"))


@contextlib.contextmanager
def mounted_tmpfs(tmp_path: Path, size: str):
    """A small tmpfs mounted at ``tmp_path/mnt`` (needs root or CAP_SYS_ADMIN; the test is skipped otherwise)."""
    import subprocess

    mnt = tmp_path / "mnt"
    mnt.mkdir()
    try:
        done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(mnt)], capture_output=True,
                              text=True, timeout=30)
    except (OSError, subprocess.SubprocessError) as err:
        pytest.skip(f"tmpfs impossible à monter ({err}) : il faut être root ou avoir CAP_SYS_ADMIN")
    if done.returncode != 0:
        pytest.skip(f"tmpfs impossible à monter ({done.stderr.strip()}) : il faut être root ou avoir CAP_SYS_ADMIN")
    try:
        yield mnt
    finally:
        subprocess.run(["umount", "-l", str(mnt)], capture_output=True, timeout=30, check=False)


@pytest.fixture(scope="session")
def built_example(tmp_path_factory) -> Path:
    """The example (``fixtures/phase-6-2024``) built once per test process, with its PDFs: read, never changed."""
    if not SOFFICE:
        pytest.skip("LibreOffice absent (make libreoffice)")
    out = tmp_path_factory.mktemp("built") / "phase-6-2024"
    built = pipeline.build(Settings(source=FIXTURES / "phase-6-2024", out_dir=out, pdf=True, jobs=2))
    assert built.written
    return out
