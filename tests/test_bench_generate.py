"""The bench's synthetic phases stay valid dossiers: a bench that measures a refused build measures nothing."""

from __future__ import annotations

import sys
from pathlib import Path

from deliberation import pipeline
from deliberation.settings import Settings

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))

from generate import generate, generate_avenants  # noqa: E402


def errors(root: Path) -> list[str]:
    return [f"{f.code}: {f.message}" for f in pipeline.check(Settings(source=root)).findings
            if f.severity.name == "ERROR"]


def test_synthetic_lines_phase_has_no_error(tmp_path):
    assert errors(generate(tmp_path / "lines", 300, 30)) == []


def test_synthetic_avenants_phase_has_no_finding_and_builds(tmp_path):
    root = generate_avenants(tmp_path / "avenants", 20)
    assert pipeline.check(Settings(source=root)).findings == []  # every kind of avenant, complete registry
    assert pipeline.build(Settings(source=root, out_dir=tmp_path / "out")).written
