"""Command line: options in, findings out, exit code. No logic here."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import click

from deliberation import __version__, pipeline
from deliberation.findings import DeliberationError, Severity, findings_to_json, format_finding, has_errors
from deliberation.settings import Settings

DOSSIER = click.argument("dossier", type=click.Path(path_type=Path))


def _report(findings, as_json: bool) -> None:
    base = os.getcwd()
    if as_json:
        click.echo(findings_to_json(findings, base))
        return
    for f in findings:
        click.echo(format_finding(f, base))
    n_err = sum(f.severity is Severity.ERROR for f in findings)
    n_warn = len(findings) - n_err
    click.echo(f"{n_err} erreur(s), {n_warn} avertissement(s)", err=True)


@click.group()
@click.version_option(__version__, prog_name="deliberation")
def main() -> None:
    """Prépare, contrôle et produit les documents d'une phase de Commission Permanente."""


@main.command()
@DOSSIER
@click.option("--strict", is_flag=True, help="Les avertissements font aussi échouer.")
@click.option("--json", "as_json", is_flag=True, help="Constats au format JSON.")
def check(dossier: Path, strict: bool, as_json: bool) -> None:
    """Contrôle un dossier de phase et liste tous les constats."""
    result = pipeline.check(Settings(source=dossier, strict=strict))
    _report(result.findings, as_json)
    sys.exit(1 if has_errors(result.findings, strict) else 0)


@main.command()
@DOSSIER
@click.option("--json", "as_json", is_flag=True, help="Chiffres au format JSON.")
def figures(dossier: Path, as_json: bool) -> None:
    """Affiche les chiffres calculés : lignes, opérations, thématiques, budget, phase."""
    from deliberation.compute import figures_to_data
    from deliberation.report import figures_table

    result = pipeline.check(Settings(source=dossier))
    if result.dossier is None:
        _report(result.findings, as_json=False)
        sys.exit(1)
    data = figures_to_data(result.dossier, result.figures)
    click.echo(json.dumps(data, ensure_ascii=False, indent=2) if as_json else figures_table(data))
    if has_errors(result.findings):
        n = sum(f.severity is Severity.ERROR for f in result.findings)
        click.echo(f"attention : {n} erreur(s) dans le dossier (voir « deliberation check »)", err=True)
        sys.exit(1)


@main.command()
@DOSSIER
@click.option("-o", "--output", type=click.Path(path_type=Path), help="Dossier de sortie (build/<dossier>).")
@click.option("--strict", is_flag=True, help="Les avertissements bloquent aussi la production.")
@click.option("--final", is_flag=True, help="Version à signer : refuse tout document resté en PROJET.")
@click.option("--no-pdf", is_flag=True, help="Fichiers Word seulement (sans LibreOffice).")
@click.option("--pdfa", is_flag=True, help="PDF/A-2b pour l'archivage.")
@click.option("-j", "--jobs", type=click.IntRange(1, 16), default=2, show_default=True,
              help="Processus LibreOffice en parallèle.")
def build(dossier: Path, output: Path | None, strict: bool, final: bool, no_pdf: bool, pdfa: bool,
          jobs: int) -> None:
    """Contrôle le dossier puis produit les documents (rien n'est écrit en cas d'erreur).

    Produit les fichiers Word et, sauf --no-pdf, leur PDF, le dossier fusionné bundle.pdf (sommaire,
    signets, numéros de page) et manifest.json (empreintes des entrées et des sorties).
    """
    out = output or Path("build") / dossier.resolve().name
    settings = Settings(source=dossier, out_dir=out, strict=strict, final=final, pdf=not no_pdf, pdfa=pdfa,
                        jobs=jobs)
    try:
        result = pipeline.build(settings)
    except DeliberationError as err:
        click.echo(f"ERREUR ({err.category}) : {err}", err=True)
        sys.exit(3)
    _report(result.checked.findings, as_json=False)
    if not result.written:
        click.echo("production refusée : corrigez les erreurs ci-dessus (rien n'a été écrit)", err=True)
        sys.exit(1)
    click.echo(f"{len(result.files)} document(s) écrit(s) dans {out}", err=True)


@main.command()
@DOSSIER
@click.argument("structure")
def explain(dossier: Path, structure: str) -> None:
    """Explique l'avenant ou la convention d'une structure : chaque article, la règle qui l'a inclus, les données lues.

    STRUCTURE est la clé de la structure dans structures.yaml ou son nom (« pdc-actif », « Pas-de-Calais Actif »).
    """
    from deliberation.render.acts import explain_acts

    result = pipeline.check(Settings(source=dossier))
    if result.dossier is None:
        _report(result.findings, as_json=False)
        sys.exit(1)
    try:
        texts = explain_acts(result, structure)
    except DeliberationError as err:
        click.echo(f"ERREUR ({err.category}) : {err}", err=True)
        sys.exit(3)
    if not texts:
        known = sorted({a.structure_key for a in result.acts})
        click.echo(f"aucun avenant ni convention pour « {structure} » ; structures de la phase : {', '.join(known)}",
                   err=True)
        sys.exit(2)
    click.echo("\n".join(texts))


@main.command()
def schema() -> None:
    """Affiche le format du dossier (fichier par fichier), tiré des déclarations du modèle."""
    from deliberation.model import Budget, Dispositif, PhaseInfo, Registre, Thematique
    from deliberation.schema import schema_doc

    for title, cls in (
        ("phase.yaml", PhaseInfo), ("budget.yaml", Budget), ("structures.yaml", Registre),
        ("thematiques/*.yaml (une thématique par fichier)", Thematique),
        ("annexes/dispositifs/*.md (en-tête YAML des fiches)", Dispositif),
    ):
        click.echo(f"## {title}\n\n{schema_doc(cls)}\n")
