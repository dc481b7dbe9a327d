"""Issue 16, item 15: no English library wording reaches the user.

Runs last (``conftest.pytest_collection_modifyitems``): it reads the output of every failing command
that the suite ran (``conftest.FAILURE_OUTPUTS``), then runs a corpus of failures of its own, so that
it checks something even when run alone.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import FAILURE_OUTPUTS, FIXTURES, ROOT

#: What the system and the libraries say in English (never in a message of this engine).
ENGLISH = re.compile("|".join((
    r"No such file or directory", r"Permission denied", r"\[Errno \d+\]", r"Traceback \(most recent call last\)",
    r"Package not found", r"File is not a zip file", r"while (?:parsing|scanning) a", r"found character",
    r"not well-formed", r"mismatched tag", r"is undefined", r"unexpected end of template", r"Encountered unknown tag",
    r"has no attribute", r"object is unsafe", r"No space left on device", r"Read-only file system",
    r"Is a directory", r"Not a directory", r"Bad CRC", r"invalid literal", r"unsupported operand",
    r"division by zero", r"codec can't", r"There is no item named", r"Usage:", r"\bError:", r"Show this message",
    r"No such option", r"Missing argument", r"Invalid value for", r"expected token", r"is not a valid",
    r"does not exist", r"[Ff]ailed to", r"Could not", r"[Uu]nable to", r"unexpected keyword argument",
    r"object has no", r"not supported", r"out of range",
)))


def test_the_detector_sees_english():
    for text in ("[Errno 2] No such file or directory: 'x'", "Package not found at 'a.docx'",
                 "while parsing a flow node", "'acte' is undefined", "Error: No such option: --x"):
        assert ENGLISH.search(text), text
    for text in ("fichier introuvable", "ERREUR (build) : écriture impossible dans /tmp : disque plein",
                 "t1.yaml:3: ERROR: YAML mal formé : clé en double [yaml.syntaxe]"):
        assert not ENGLISH.search(text), text


def _cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "deliberation", *args], capture_output=True, text=True, cwd=cwd,
                          timeout=300, check=False)


@pytest.fixture(scope="module")
def own_failures(tmp_path_factory) -> list[tuple[str, str]]:
    """A corpus of failures: missing and broken files, broken templates, bad workbooks, refused outputs."""
    tmp = tmp_path_factory.mktemp("francais")
    good = tmp / "F"
    shutil.copytree(FIXTURES / "fictif", good)
    yaml_bad = tmp / "Y"
    shutil.copytree(good, yaml_bad)
    (yaml_bad / "phase.yaml").write_text("a: {b: [1, 2\nc: d\n", "utf-8")
    flow = tmp / "Y2"
    shutil.copytree(good, flow)
    (flow / "budget.yaml").write_text("lignes: [ {a: 1}, \n  b: *x\n", "utf-8")
    broken = tmp / "T"
    shutil.copytree(ROOT / "deliberation" / "templates", broken)
    (broken / "rapport.docx").write_bytes(b"pas un zip")
    missing = tmp / "T2"
    shutil.copytree(ROOT / "deliberation" / "templates", missing)
    (missing / "deliberation.docx").unlink()
    (tmp / "x.xlsx").write_bytes(b"PK\x03\x04 tronque")
    (tmp / "t.xlsx").write_text("texte", "utf-8")
    (tmp / "fichier").write_text("x", "utf-8")
    (tmp / "H").mkdir()
    (tmp / "H" / "a.txt").write_text("a", "utf-8")
    runs = [
        ("check", "absent"), ("build", "absent", "-o", "o"), ("figures", "absent"), ("diff", "absent"),
        ("explain", "absent", "x"), ("export", "scdl", "absent"), ("check", str(yaml_bad)), ("check", str(flow)),
        ("build", str(good), "-o", str(tmp / "o1"), "--sans-pdf", "--modeles", str(broken)),
        ("build", str(good), "-o", str(tmp / "o2"), "--sans-pdf", "--modeles", str(missing)),
        ("build", str(good), "-o", str(tmp / "fichier"), "--sans-pdf"),
        ("build", str(good), "-o", str(tmp / "H"), "--sans-pdf"),
        ("import-xlsx", str(tmp / "x.xlsx"), str(good)), ("import-xlsx", str(tmp / "t.xlsx"), str(good)),
        ("import-xlsx", str(tmp / "absent.xlsx"), str(good)),
        ("export", "scdl", str(good), "-o", str(tmp / "H")),
        ("build", "--nope"), ("bild",), ("build", str(good), "-j", "0"),
    ]
    out = []
    for args in runs:
        done = _cli(*args, cwd=tmp)
        assert done.returncode != 0, args
        out.append((" ".join(args), done.stdout + done.stderr))
    return out


def test_failure_outputs_are_french(own_failures):
    outputs = [*FAILURE_OUTPUTS, *own_failures]
    english = [(test, m.group(0), out) for test, out in outputs for m in [ENGLISH.search(out)] if m]
    print(f"\n{len(outputs)} sorties d'échec relues (dont {len(FAILURE_OUTPUTS)} enregistrées pendant la suite), "
          f"{len(english)} en anglais")
    shown = "\n\n".join(f"{test} : « {word} » dans\n{out[:600]}" for test, word, out in english[:10])
    assert not english, shown


def test_recorders_are_installed():
    """The suite's failing commands are recorded (a CliRunner failure here must show in the list)."""
    from click.testing import CliRunner

    from deliberation.cli import main

    before = len(FAILURE_OUTPUTS)
    CliRunner().invoke(main, ["check", os.devnull + "-absent"])
    assert len(FAILURE_OUTPUTS) == before + 1
