"""Findings a person can read (issue 20): what ``check`` and ``build`` print at each level of detail.

Every test compares the printed text with the JSON findings of the same dossier (the machine interface,
unchanged): the summary's counts, the grouped lines, the PROJET table, ``-q`` and ``-v``.
"""

from __future__ import annotations

import collections
import json
import re
import shlex
from pathlib import Path

import pytest
from conftest import ROOT, cli, needs_lo

#: Two dossiers of different shapes: the seed as written (errors and warnings, 13 codes, a PROJET act
#: located in phase.yaml) and phase 3 with its errors (7 codes, no PROJET act).
SHAPES = ["fixtures/phase-6-2024-as-written", "fixtures/phase-3-2026-erreurs"]

#: A summary line: severity, count, code, an example.
SUMMARY = re.compile(r"^  (erreur|avertissement) +(\d+)  (\S+) +\S")

#: A grouped line's other locations.
OTHERS = re.compile(r" \(\+(\d+) autres? : [^)]*\) \[([\w.]+)\]$")


def _json(dossier: str) -> list[dict]:
    out = cli("check", "--json", dossier)
    return json.loads(out.stdout)["findings"]


def _summary(stdout: str) -> dict[tuple[str, str], int]:
    lines = stdout.split("Constats par code :\n", 1)[1].splitlines()
    found = {}
    for line in lines:
        if not line.startswith("  "):
            break
        m = SUMMARY.match(line)
        assert m, line
        found[(m.group(3), "ERROR" if m.group(1) == "erreur" else "WARNING")] = int(m.group(2))
    return found


@pytest.mark.parametrize("dossier", SHAPES)
def test_summary_counts_are_the_json_counts(dossier):
    expected = collections.Counter((f["code"], f["severity"]) for f in _json(dossier))
    for args in ((), ("--resume",)):
        out = cli("check", dossier, *args)
        assert out.returncode == 1
        assert _summary(out.stdout) == expected
        n_err = sum(n for (_, sev), n in expected.items() if sev == "ERROR")
        assert f"{n_err} erreur(s), {sum(expected.values()) - n_err} avertissement(s)" in out.stderr
        assert all(len(line) <= 100 for line in out.stdout.split("Constats par code :")[1].splitlines())
    resume = cli("check", dossier, "--resume").stdout
    assert resume.startswith("Constats par code :\n") and len(resume.splitlines()) == len(expected) + 1


@pytest.mark.parametrize("dossier", SHAPES)
def test_grouped_lines_account_for_every_finding(dossier):
    """Every finding outside a table is on one printed line: its own, or its group's « (+N autres…) »."""
    findings = _json(dossier)
    out = cli("check", dossier).stdout.split("\nConstats par code :", 1)[0]
    tabled = {m for m in re.findall(r": \d+ × .* \[([\w.]+)\]$", out, re.M)}
    lines = [ln for ln in out.splitlines() if re.search(r": (ERROR|WARNING): .*\[[\w.]+\]$", ln)]
    printed = collections.Counter()
    for line in lines:
        code = line.rsplit("[", 1)[1].rstrip("]")
        if code in tabled:
            continue
        m = OTHERS.search(line)
        printed[code] += 1 + (int(m.group(1)) if m else 0)
        where, sev = line.split(": ", 1)[0], line.split(": ")[1]
        assert any(f"{f['file']}:{f['line']}" == where and f["severity"] == sev and f["code"] == code
                   for f in findings), line  # each line starts with a real finding's location
    assert printed == collections.Counter(f["code"] for f in findings if f["code"] not in tabled)
    errors = [i for i, ln in enumerate(lines) if ": ERROR: " in ln]
    assert errors == list(range(len(errors)))  # errors first


def test_one_line_for_one_subject():
    """The seed states thematique 4's total wrong in four texts: one line, the other three by line number."""
    findings = _json("fixtures/phase-6-2024-as-written")
    t4 = [f for f in findings if f["message"].startswith("total de la thématique 4 :")]
    assert len(t4) == 4
    out = cli("check", "fixtures/phase-6-2024-as-written").stdout
    (line,) = [ln for ln in out.splitlines() if "total de la thématique 4" in ln and ln.endswith("]")]
    others = ", ".join(f"l.{f['line']}" for f in t4[1:])
    assert line == (f"{t4[0]['file']}:{t4[0]['line']}: ERROR: {t4[0]['message']} (+3 autres : {others}) "
                    "[annonce.montant]")
    # two undecidable articles of one act: one line
    indecise = [f for f in findings if f["code"] == "acte.clause_indecise"]
    acts = {f["message"].split(" : ", 1)[0] for f in indecise}
    assert len(indecise) == 2 * len(acts)
    assert len([ln for ln in out.splitlines() if ln.endswith("[acte.clause_indecise]")]) == len(acts)


def _table(out: str, code: str) -> tuple[int, list[str], dict[str, str], list[tuple[str, str]]]:
    """A printed table: its count, the values every row lacks, the columns by letter, the rows (marks, subject)."""
    lines = out.splitlines()
    start = next(i for i, ln in enumerate(lines) if ln.endswith(f"[{code}]") and " × " in ln)
    count = int(re.search(r": (\d+) × ", lines[start]).group(1))
    body = []
    for ln in lines[start + 1:]:
        if not ln.startswith("  "):
            break
        body.append(ln)
    everywhere = []
    if body[0].startswith("  partout"):
        n = int(re.match(r"  partout \((\d+)\)", body[0]).group(1))
        header = next(i for i, ln in enumerate(body) if re.fullmatch(r" +[a-zA-Z ]+", ln))
        everywhere = " ".join(ln.strip() for ln in body[:header]).split(" : ", 1)[1].split(", ")
        assert len(everywhere) == n
    else:
        header = 0
    keys = list(body[header].replace(" ", ""))
    rows = []
    for ln in body[header + 1:]:
        m = re.match(r"  \S+ +([✗·]+(?: [✗·]+)*)  (.+)$", ln)
        if not m:
            break
        rows.append((m.group(1).replace(" ", ""), m.group(2)))
    legend = [e.strip() for ln in body[header + 1 + len(rows):] for e in ln.strip().split("   ")]
    columns = dict(e.split(" ", 1) for e in legend)
    assert list(columns) == keys
    return count, everywhere, columns, rows


@pytest.mark.parametrize("dossier", ["fixtures/phase-6-2024", "fixtures/phase-6-2024-as-written"])
def test_projet_table_lists_every_act_and_value(dossier):
    incomplete = [f for f in _json(dossier) if f["code"] == "acte.incomplet"]
    assert len(incomplete) > 20
    expected = set()
    for f in incomplete:
        subject, rest = f["message"].split(" : ", 1)
        for value in rest.split("valeur(s) à compléter : ", 1)[1].split(", "):
            expected.add((subject, value))
    out = cli("check", dossier).stdout
    assert out.count("[acte.incomplet]") == 1  # one table, not one line per act
    count, everywhere, columns, rows = _table(out, "acte.incomplet")
    assert count == len(rows) == len(incomplete)
    shown = set()
    subjects = {s for s, _ in expected}
    for marks, subject in rows:
        full = subject if subject in subjects else next(s for s in subjects if s.startswith(subject.rstrip("…")))
        assert len(marks) == len(columns)
        shown |= {(full, v) for v in everywhere}
        shown |= {(full, columns[k]) for k, mark in zip(columns, marks, strict=True) if mark == "✗"}
    assert shown == expected
    table_lines = out.split("[acte.incomplet]\n", 1)[1].split("\n\n", 1)[0].splitlines()
    assert all(len(ln) <= 100 for ln in table_lines), max(table_lines, key=len)
    # the full list stays in -v
    verbose = cli("check", "-v", dossier).stdout
    assert verbose.count("[acte.incomplet]") == len(incomplete)


@pytest.mark.parametrize("dossier", SHAPES + ["fixtures/phase-6-2024"])
def test_quiet_prints_errors_only(dossier):
    findings = _json(dossier)
    out = cli("check", "-q", dossier)
    assert "WARNING" not in out.stdout and "avertissement " not in out.stdout
    errors = [f for f in findings if f["severity"] == "ERROR"]
    assert bool(out.stdout) == bool(errors)
    assert out.returncode == (1 if errors else 0)
    n_err = len(errors)
    assert f"{n_err} erreur(s), {len(findings) - n_err} avertissement(s)" in out.stderr
    for f in errors:  # each error is there: on its line, or among its group's other lines
        line = f"l.{f['line']}" if f["line"] else f["file"]
        assert f"{f['file']}:{f['line']}: ERROR: {f['message']}" in out.stdout or (
            " autre" in out.stdout and line in out.stdout), f


@pytest.mark.parametrize("dossier", SHAPES + ["fixtures/phase-6-2024"])
def test_detail_is_one_line_per_finding_as_before(dossier):
    findings = _json(dossier)
    out = cli("check", "-v", dossier)
    assert out.stdout.splitlines() == [f"{f['file']}:{f['line']}: {f['severity']}: {f['message']} [{f['code']}]"
                                       if f["line"] else f"{f['file']}: {f['severity']}: {f['message']} [{f['code']}]"
                                       for f in findings]


def test_build_prints_findings_at_the_same_levels(tmp_path):
    dossier = "fixtures/phase-6-2024-as-written"  # errors: nothing is built, the findings are printed
    for level in ("-q", "--resume", "-v", None):
        check = cli("check", dossier, *([level] if level else []))
        build = cli("build", dossier, "-o", str(tmp_path / "b"), "--sans-pdf", *([level] if level else []))
        assert build.returncode == check.returncode == 1
        assert build.stdout == check.stdout, level
        assert "production refusée" in build.stderr
    assert not (tmp_path / "b").exists()


def _demo_commands() -> list[str]:
    """The recipe of ``make demo`` (the Makefile's own lines), with the engine run from this checkout."""
    text = (Path(ROOT) / "Makefile").read_text("utf-8")
    recipe = re.search(r"^demo:.*\n((?:\t.*\n)+)", text, re.M).group(1)
    example = re.search(r"^EXAMPLE := (.+)$", text, re.M).group(1).strip()
    return [ln.strip().replace("$(EXAMPLE)", example) for ln in recipe.splitlines()]


@needs_lo
@pytest.mark.libreoffice
def test_demo_fits_one_screen(tmp_path):
    """``make demo``: the figures, one line per finding code, the bundle's path; at most 60 lines in all."""
    commands = _demo_commands()
    echoed = [c[len('@echo '):].strip('"') for c in commands if c.startswith("@echo ")]  # make prints the text only
    commands = [c for c in commands if not c.startswith("@echo ")]
    assert len(commands) == 2 and any("deliberation serve" in e for e in echoed)  # ends with the workbench
    printed = []
    for command in commands:
        args = shlex.split(command)
        assert args[0] == "$(BIN)/deliberation"
        args = [str(tmp_path / "demo") if a == "build/phase-6-2024" else a for a in args[1:]]
        done = cli(*args)
        assert done.returncode == 0, done.stderr
        printed += [command, *done.stdout.splitlines(), *done.stderr.splitlines()]  # make echoes each command
    printed += echoed
    text = "\n".join(printed)
    assert len(printed) <= 60, text
    assert "PHASE\n7 dispositif(s), 31 ligne(s), 18 structure(s)" in text
    codes = collections.Counter(f["code"] for f in _json("fixtures/phase-6-2024"))
    assert _summary(text.split("0 erreur(s)")[0] + "\n") == {(c, "WARNING"): n for c, n in codes.items()}
    assert text.count("[acte.incomplet]") == 0 and "0 erreur(s), 30 avertissement(s)" in text
    assert f"fichier(s) écrit(s) dans {tmp_path / 'demo'}" in text


def test_a_table_names_every_value_even_beyond_its_letters():
    from deliberation import readable
    from deliberation.findings import Loc, warning

    found = [warning("x.liste", f"S{i} : il manque : v{i}", Loc("f.yaml", i), subject=f"S{i}", items=(f"v{i}",))
             for i in range(1, 60)]
    lines = readable.render(found, "lisible")
    text = "\n".join(lines)
    assert lines[0] == "f.yaml:1: WARNING: 59 × il manque [x.liste]"
    assert all(re.search(rf"\bv{i}\b", text) for i in range(1, 60))
    assert "et 7 autre(s) valeur(s) (lignes : -v) : v53, v54, v55, v56, v57, v58, v59" in text
    assert lines[-1].startswith("  avertissement   59  x.liste  S1 : il manque : v1")
