"""One rule registry: every validation is a registered rule, listed by ``check --liste-regles``, true to its codes."""

from __future__ import annotations

import importlib
import pkgutil

import pytest
from click.testing import CliRunner
from conftest import FIXTURES

import deliberation.rules
from deliberation import pipeline
from deliberation.amend import apply_amendments
from deliberation.cli import main
from deliberation.commands import export_scdl
from deliberation.findings import sort_findings
from deliberation.load import load_dispositifs, load_dossier
from deliberation.opendata import scdl_lines
from deliberation.rules import DOSSIER, PDF, REGISTRY, SCDL, STAGES, PdfInput, RuleInput, ScdlInput
from deliberation.settings import Settings
from deliberation.validate import MODULES, rules, run_rules

FIXTURE_NAMES = ("phase-6-2024-as-written", "phase-6-2024", "phase-6-2024-amended", "fictif")


def test_list_rules_prints_every_rule_in_order_without_a_dossier():
    result = CliRunner().invoke(main, ["check", "--liste-regles"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == f"Règles de contrôle ({len(REGISTRY)}), dans l'ordre où elles s'appliquent :"
    assert lines[2].split() == ["étape", "règle", "gravité", "quand", "codes"]
    body = lines[4:]
    assert [line.split()[0] for line in body[:3]] == ["dossier"] * 3
    assert [next(r.name for r in REGISTRY if r.name in line) for line in body] == [r.name for r in rules()]
    assert "amendement.depassement" in body[0] and "overruns.check_overruns" in body[0]
    (ctes,) = [line for line in body if "transmission.check_transmission " in line]
    assert "--actes, --final" in ctes and "actes.matiere_format" in ctes
    (pdf,) = [line for line in body if "check_transmitted_pdfs" in line]
    assert pdf.startswith("PDF produits") and "actes.taille" in pdf
    (scdl,) = [line for line in body if "scdl.check_scdl" in line]
    assert scdl.startswith("export SCDL") and "erreur, avertissement" in scdl and "scdl.formule" in scdl
    assert all(line == line.rstrip() for line in lines)


def test_list_rules_is_in_check_help():
    result = CliRunner().invoke(main, ["check", "--help"])
    assert "--liste-regles" in result.output and "Liste les règles de contrôle" in result.output


def test_every_rule_module_is_run():
    """A module of ``deliberation/rules`` that registers rules is in ``validate.MODULES`` (else they never run)."""
    for info in pkgutil.iter_modules(deliberation.rules.__path__):
        importlib.import_module(f"deliberation.rules.{info.name}")
    listed = {m.__name__ for m in MODULES}
    assert {r.module for r in REGISTRY} <= listed
    assert rules() == sorted(REGISTRY, key=lambda r: [m.__name__ for m in MODULES].index(r.module))
    assert {r.stage for r in REGISTRY} == set(STAGES)


def _inputs(name: str) -> list[tuple[str, object]]:
    """Every stage's input for a fixture, with the @ctes pre-flight and the final version asked."""
    checked = pipeline.check(Settings(source=FIXTURES / name))
    d = checked.dossier
    dossier = RuleInput(d, checked.figures, checked.dispositifs, checked.presented, checked.presented_figures,
                        checked.effects, checked.acts, final=True, actes=True)
    broken = {"01-rapport.pdf": b"%PDF-1.4 pas un PDF", "02-deliberation.pdf": b"x" * 10}
    return [(DOSSIER, dossier), (PDF, PdfInput(d, broken, None, actes=True)),
            (SCDL, ScdlInput(d, scdl_lines(checked)))]


@pytest.mark.parametrize("name", FIXTURE_NAMES)
def test_rules_report_only_the_codes_and_severities_they_declare(name):
    seen = 0
    for stage, inp in _inputs(name):
        for r in rules(stage):
            for f in r.check(inp):
                seen += 1
                assert r.covers(f.code), (r.name, f.code)
                assert f.severity in r.severities, (r.name, f.code, f.severity)
    assert seen


@pytest.mark.parametrize("name", FIXTURE_NAMES)
def test_check_is_loading_amending_then_the_dossier_rules(name):
    """The findings of ``check``: those of loading and amending, then the registered dossier rules, nothing else."""
    settings = Settings(source=FIXTURES / name, actes=True)
    checked = pipeline.check(settings)
    d, loaded = load_dossier(settings.source)
    _, sheets = load_dispositifs(*settings.catalogue_dirs())
    _, amended, _ = apply_amendments(d)
    inp = RuleInput(checked.dossier, checked.figures, checked.dispositifs, checked.presented,
                    checked.presented_figures, checked.effects, checked.acts, actes=True)
    assert checked.findings == sort_findings(loaded + sheets + amended + run_rules(DOSSIER, inp))


def test_on_demand_rules_run_only_when_asked():
    checked = pipeline.check(Settings(source=FIXTURES / "phase-6-2024-as-written"))
    base = RuleInput(checked.dossier, checked.figures, checked.dispositifs, checked.presented,
                     checked.presented_figures, checked.effects, checked.acts)
    asked = RuleInput(**{**base.__dict__, "actes": True})
    assert not [f for f in run_rules(DOSSIER, base) if f.code.startswith("actes.")]
    assert [f for f in run_rules(DOSSIER, asked) if f.code.startswith("actes.")]
    assert run_rules(PDF, PdfInput(checked.dossier, {})) == []
    assert {f.code for f in run_rules(PDF, PdfInput(checked.dossier, {}, actes=True))} == {"actes.pdf_absent"}


def test_scdl_findings_are_the_scdl_rule():
    result = export_scdl(Settings(source=FIXTURES / "phase-6-2024"))
    assert result.findings and result.data is None
    (rule,) = rules(SCDL)
    assert all(rule.covers(f.code) for f in result.findings)
