"""Issue 17, point 6: French option names (old names kept one version), examples and exit codes in every
help, and the PDF step's progress (a bar on a terminal, a line per batch otherwise, nothing with -q)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import FIXTURES, ROOT, cli, files_of, needs_lo
from test_cli_french import HELPS

from deliberation.cli import RENAMED, main

FICTIF = str(FIXTURES / "fictif")


@pytest.mark.parametrize("command", HELPS, ids=lambda c: " ".join(c) or "deliberation")
def test_every_help_gives_examples_and_exit_codes(command):
    out = CliRunner().invoke(main, [*command, "--help"], prog_name="deliberation").output
    assert "Exemples\u00a0:" in out or "Exemples :" in out, out
    assert "Codes de sortie :" in out and "130  interrompu" in out, out
    examples = out.split("Exemples :")[1].split("Codes de sortie")[0]
    assert f"deliberation {' '.join(command)}".strip() in examples, examples  # the command's own examples
    assert not [old for old in RENAMED if old in out], out  # the old names are hidden


def test_option_names_are_french():
    english = {"--output", "--no-pdf", "--jobs", "--templates", "--dry-run", "--list-rules", "--quiet"}
    seen = set()
    for command in HELPS:
        cmd = main
        for name in command:
            cmd = cmd.commands[name]
        seen |= {opt for p in cmd.params for opt in getattr(p, "opts", ())}
    assert seen & english == set()
    assert {"--sortie", "--sans-pdf", "--processus", "--modeles", "--essai", "--liste-regles", "--silencieux"} <= seen


def test_old_names_still_work_and_say_so(tmp_path):
    old = CliRunner().invoke(main, ["build", FICTIF, "--output", str(tmp_path / "a"), "--no-pdf", "--jobs=1"])
    new = CliRunner().invoke(main, ["build", FICTIF, "--sortie", str(tmp_path / "b"), "--sans-pdf", "-j", "1"])
    assert old.exit_code == new.exit_code == 0, old.output
    for name, renamed in (("--output", "--sortie"), ("--no-pdf", "--sans-pdf"), ("--jobs", "--processus")):
        assert f"attention : l'option {name} s'appelle désormais {renamed}" in old.output
    assert "s'appelle désormais" not in new.output
    assert files_of(tmp_path / "a").keys() == files_of(tmp_path / "b").keys()
    listed = CliRunner().invoke(main, ["check", "--list-rules"])
    assert listed.exit_code == 0 and "dispositif.ratio" in listed.output and "--liste-regles" in listed.output
    # after ``--``, a name is an argument: never rewritten
    result = CliRunner().invoke(main, ["check", "--", "--output"])
    assert "s'appelle désormais" not in result.output


def test_quiet_build_prints_only_findings(tmp_path):
    result = CliRunner().invoke(main, ["build", FICTIF, "-o", str(tmp_path / "q"), "--sans-pdf", "-q"])
    assert result.exit_code == 0
    assert "fichier(s) écrit(s)" not in result.output and "conversion PDF" not in result.output
    assert (tmp_path / "q" / "manifest.json").is_file()


@needs_lo
@pytest.mark.libreoffice
def test_pdf_progress_one_line_per_batch_then_none_with_quiet(tmp_path):
    shown = cli("build", FICTIF, "-o", str(tmp_path / "a"), "-j", "1")
    assert shown.returncode == 0, shown.stderr
    lines = [ln for ln in shown.stderr.splitlines() if ln.startswith("conversion PDF :")]
    docx = [n for n in files_of(tmp_path / "a") if n.endswith(".docx")] + ["actes/registre.docx"]  # converted only
    assert lines == [f"conversion PDF : {len(docx)}/{len(docx)} document(s)"]  # one batch: one line
    quiet = cli("build", FICTIF, "-o", str(tmp_path / "b"), "-q")
    assert quiet.returncode == 0 and "conversion PDF" not in quiet.stderr and "écrit(s)" not in quiet.stderr


@needs_lo
@pytest.mark.libreoffice
def test_pdf_progress_bar_on_a_terminal(tmp_path):
    leader, follower = os.openpty()
    try:
        proc = subprocess.run([sys.executable, "-m", "deliberation", "build", FICTIF, "-o", str(tmp_path / "t")],
                              stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=follower, cwd=ROOT,
                              timeout=300)
        os.close(follower)
        follower = -1
        seen = b""
        while True:
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # the terminal is closed once read
                break
            if not chunk:
                break
            seen += chunk
    finally:
        if follower != -1:
            os.close(follower)
        os.close(leader)
    assert proc.returncode == 0
    text = seen.decode("utf-8", "replace")
    total = len([n for n in files_of(tmp_path / "t") if n.endswith(".docx")]) + 1  # and the register, to PDF only
    assert "Conversion PDF" in text and f"{total}/{total}" in text and "[#" in text, text[-500:]
    assert "conversion PDF :" not in text  # the bar, not the lines


def test_progress_is_reported_by_the_conversion(monkeypatch, tmp_path):
    """The conversion tells its progress at the start, while PDFs appear, and once per batch."""
    from deliberation.bundle import pdf

    told = []

    def fake_batch(exe, files, outdir, profile, opts):  # writes the PDFs a batch would write
        for f in files:
            (outdir / f.with_suffix(".pdf").name).write_bytes(b"%PDF-1.4\n%%EOF\n")
        return subprocess.Popen([sys.executable, "-c", "pass"])

    monkeypatch.setattr(pdf, "_run_batch", fake_batch)
    monkeypatch.setattr(pdf, "MAX_FILES_PER_BATCH", 3)
    monkeypatch.setattr(pdf, "soffice", lambda: sys.executable)
    docs = {f"d{i}.docx": b"x" for i in range(7)}
    out = pdf.convert(docs, pdf.ConvertOptions(jobs=1, scratch=tmp_path, progress=lambda *a: told.append(a)))
    assert len(out) == 7
    assert told[0] == (0, 7, False)
    ends = [(done, total) for done, total, end in told if end]
    assert [t for _, t in ends] == [7, 7, 7] and ends[-1] == (7, 7)  # 3 batches of at most 3
    assert all(a[0] <= b[0] for a, b in zip(told, told[1:], strict=False))  # never backwards


def test_completion_is_documented():
    readme = (Path(ROOT) / "README.md").read_text("utf-8")
    assert "_DELIBERATION_COMPLETE=bash_source" in readme and "_DELIBERATION_COMPLETE=zsh_source" in readme


def test_completion_offers_the_french_options():
    env = {"COMP_WORDS": "deliberation build x --s", "COMP_CWORD": "3", "_DELIBERATION_COMPLETE": "bash_complete"}
    done = subprocess.run([sys.executable, "-c", "from deliberation.cli import main; main(prog_name='deliberation')"],
                          capture_output=True, text=True, env={**os.environ, **env}, cwd=ROOT, timeout=60)
    offered = {line.split(",", 1)[1] for line in done.stdout.splitlines()}
    assert {"--sortie", "--sans-pdf", "--silencieux", "--strict"} <= offered, done.stdout + done.stderr
