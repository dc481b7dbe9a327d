"""The documentation of the dossier format is the schema's own output."""

from pathlib import Path

from click.testing import CliRunner

from deliberation.cli import main


def test_format_doc_is_up_to_date():
    doc = Path(__file__).resolve().parents[1] / "docs" / "format.md"
    assert CliRunner().invoke(main, ["schema"]).stdout == doc.read_text(encoding="utf-8")
