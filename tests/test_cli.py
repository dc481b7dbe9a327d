"""Command line: exit codes, JSON output, strict mode."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from deliberation.cli import main


def test_clean_dossier_exits_0(fictif):
    result = CliRunner().invoke(main, ["check", str(fictif.root)])
    assert result.exit_code == 0
    assert result.stdout == ""


def test_warning_fails_only_under_strict(fictif):
    fictif.edit("thematiques/t1.yaml", "{nombre: 140, unite: places}", "{nombre: 150, unite: places}")
    fictif.edit("thematiques/t1.yaml", "maximum de 140 places", "maximum de 150 places")  # the description agrees
    assert CliRunner().invoke(main, ["check", str(fictif.root)]).exit_code == 0
    result = CliRunner().invoke(main, ["check", "--strict", str(fictif.root)])
    assert result.exit_code == 1
    assert ": WARNING: " in result.stdout


def test_json_output(fictif):
    fictif.edit("thematiques/t1.yaml", "fin: 30/06/2025", "fin: 31/06/2025")
    result = CliRunner().invoke(main, ["check", "--json", str(fictif.root)])
    assert result.exit_code == 1
    data = json.loads(result.stdout)
    (f,) = [f for f in data["findings"] if f["code"] == "date.inexistante"]
    assert f["severity"] == "ERROR" and f["file"].endswith("t1.yaml")
    assert f["line"] == fictif.line_of("thematiques/t1.yaml", "31/06/2025")
    assert f["path"] == "operations[1].lignes[0].periode.fin"


def test_usage_error_exits_2():
    assert CliRunner().invoke(main, ["check"]).exit_code == 2
    assert CliRunner().invoke(main, ["nope"]).exit_code == 2


def test_figures_json(fictif):
    result = CliRunner().invoke(main, ["figures", "--json", str(fictif.root)])
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert data["phase"]["montant"] == "62000.00"
    budget = {b["code"]: b for b in data["budget"]}
    assert budget["C02-428C01"]["solde"] == "78000.00"


def test_figures_table(fictif):
    result = CliRunner().invoke(main, ["figures", str(fictif.root)])
    assert result.exit_code == 0
    assert "C02-446A05" in result.stdout and "6568/93446" in result.stdout
    assert "450 000,00 €" in result.stdout


def test_python_dash_m():
    out = subprocess.run([sys.executable, "-m", "deliberation", "--version"], capture_output=True, text=True)
    assert out.returncode == 0 and "deliberation" in out.stdout


def test_settings_accept_plain_strings():
    from deliberation import pipeline
    from deliberation.settings import Settings

    settings = Settings(source="fixtures/fictif", out_dir="build/x", templates="templates")
    assert settings.source.name == "fictif" and settings.out_dir.name == "x" and settings.templates.name == "templates"
    assert pipeline.check(Settings(source=str(Path(__file__).parents[1] / "fixtures" / "fictif"))).findings == []
