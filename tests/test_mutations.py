"""Every scalar of the fictitious dossier, replaced by hostile values: findings, never an exception."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from conftest import slow_but

from deliberation import pipeline
from deliberation.findings import Severity
from deliberation.settings import Settings

SRC = Path(__file__).resolve().parents[1] / "fixtures" / "fictif"
VALUES = ["", "~", "[]", "{}", "-1", "1e400", "31/02/2025", "0.001", "[1, [2, [3]]]", '"\\u0007"', "{a: 1}",
          "99999999999999999999", "!!python/object/apply:os.system [ls]", '"{{ 7*7 }}"', "*nope", "x" * 300]
SCALAR = re.compile(r"^(\s*-?\s*[\w]+:\s)(.+)$")


def _sites():
    for f in sorted(SRC.rglob("*.yaml")):
        for i, line in enumerate(f.read_text(encoding="utf-8").splitlines()):
            if SCALAR.match(line):
                yield f.relative_to(SRC), i


SITES = list(_sites())


@pytest.mark.parametrize(("rel", "index"), slow_but(SITES, *SITES[::50]), ids=lambda v: str(v))  # 3 run by make check
def test_mutated_scalar_never_raises(tmp_path, rel, index):
    dest = tmp_path / "d"
    shutil.copytree(SRC, dest)
    lines = (SRC / rel).read_text(encoding="utf-8").splitlines()
    prefix = SCALAR.match(lines[index]).group(1)
    for value in VALUES:
        mutated = list(lines)
        mutated[index] = prefix + value
        (dest / rel).write_text("\n".join(mutated) + "\n", encoding="utf-8")
        findings = pipeline.check(Settings(source=dest)).findings
        for f in findings:
            assert f.loc.file and f.message and f.code
            if f.severity is Severity.ERROR:
                assert f.loc.line >= 0
