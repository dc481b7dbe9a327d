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


def test_acts_cut_before_their_sheets_keep_their_signatures(tmp_path):
    """The bench's part-split ceiling converts each act without its annex sheets: cut after the signatures."""
    import io
    import re
    import zipfile

    from run import without_annexes

    root = generate_avenants(tmp_path / "avenants", 6)
    out = tmp_path / "out"
    assert pipeline.build(Settings(source=root, out_dir=out)).written
    acts = sorted(out.glob("actes/*/*.docx"))
    assert len(acts) == 6  # 6 avenants (6 // 10 = 0 new convention)

    def text(data: bytes) -> str:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            return re.sub(r"<[^>]+>", "", z.read("word/document.xml").decode("utf-8"))

    for path in acts:
        whole, cut = text(path.read_bytes()), text(without_annexes(path.read_bytes()))
        assert "Annexe N°" in whole and "Annexe N°" not in cut, path
        assert cut.rstrip().endswith("(Signature et cachet)"), cut[-200:]
        assert whole.startswith(cut[:2000])
