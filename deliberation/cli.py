"""Command line: options → ``Settings`` → ``commands`` → findings printed → exit code. No logic here."""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
from pathlib import Path
from typing import NoReturn

import click

from deliberation import __version__, clifr, commands
from deliberation.diff import documents_text, table, to_json
from deliberation.findings import DeliberationError, Severity, findings_to_json, format_finding, has_errors
from deliberation.settings import Settings

clifr.install()  # click's help headings and usage errors in French

DOSSIER = click.argument("dossier", type=click.Path(path_type=Path))
FICHES = click.option("--fiches", type=click.Path(path_type=Path, file_okay=False),
                      help="Dossier de fiches de dispositif à la place de celles du moteur "
                           "(deliberation/annexes/dispositifs) ; les dispositifs/ du dossier restent prioritaires.")


def _catalogue(fiches: Path | None) -> dict:
    """Settings for ``--fiches``: the engine's dispositif sheets, or the given folder instead."""
    return {"annexes": (fiches,)} if fiches is not None else {}


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


def _stop(stop: commands.Stop) -> NoReturn:
    """A command that cannot go on: its findings (if any), its message, its exit code."""
    if stop.findings is not None:
        _report(stop.findings, as_json=False)
    if stop.message:
        click.echo(stop.message, err=True)
    sys.exit(stop.code)


def _list_rules(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    """``check --list-rules``: the rules and their codes, then exit (no dossier needed)."""
    if not value or ctx.resilient_parsing:
        return
    click.echo(commands.list_rules())
    ctx.exit()


@contextlib.contextmanager
def _sigterm_as_interrupt():
    """Within the block, SIGTERM interrupts as Ctrl-C does, so that the build cleans up behind itself."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(signum, frame):
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


@click.group(context_settings={"help_option_names": ["-h", "--help"]}, subcommand_metavar=clifr.SUBCOMMAND)
@click.version_option(__version__, "-V", "--version", prog_name="deliberation")
def main() -> None:
    """Prépare, contrôle et produit les documents d'une phase de Commission Permanente."""


@main.command()
@DOSSIER
@click.option("--strict", is_flag=True, help="Les avertissements font aussi échouer.")
@click.option("--json", "as_json", is_flag=True, help="Constats au format JSON.")
@click.option("--actes", is_flag=True, help="Contrôle aussi la transmission @ctes : numéro, objet, nature, matière.")
@FICHES
@click.option("--list-rules", is_flag=True, expose_value=False, is_eager=True, callback=_list_rules,
              help="Liste les règles de contrôle, leurs codes et leur gravité, puis s'arrête.")
def check(dossier: Path, strict: bool, as_json: bool, actes: bool, fiches: Path | None) -> None:
    """Contrôle un dossier de phase et liste tous les constats."""
    result = commands.check(Settings(source=dossier, strict=strict, actes=actes, **_catalogue(fiches)))
    _report(result.findings, as_json)
    sys.exit(1 if has_errors(result.findings, strict) else 0)


@main.command()
@DOSSIER
@click.option("--json", "as_json", is_flag=True, help="Chiffres au format JSON.")
def figures(dossier: Path, as_json: bool) -> None:
    """Affiche les chiffres calculés : lignes, opérations, thématiques, budget, phase."""
    try:
        text, errors = commands.figures(Settings(source=dossier), as_json)
    except commands.Stop as stop:
        _stop(stop)
    click.echo(text)
    if errors:
        click.echo(f"attention : {errors} erreur(s) dans le dossier (voir « deliberation check »)", err=True)
        sys.exit(1)


@main.command()
@DOSSIER
@click.option("-o", "--output", type=click.Path(path_type=Path), help="Dossier de sortie (build/<dossier>).")
@click.option("--strict", is_flag=True, help="Les avertissements bloquent aussi la production.")
@click.option("--final", is_flag=True,
              help="Version à signer : refuse tout document resté en PROJET et ce que @ctes rejetterait.")
@click.option("--no-pdf", is_flag=True, help="Fichiers Word seulement (sans LibreOffice).")
@click.option("--pdfa", is_flag=True, help="PDF/A-2b pour l'archivage.")
@click.option("-j", "--jobs", type=click.IntRange(1, 16), default=2, show_default=True,
              help="Processus LibreOffice en parallèle.")
@click.option("--templates", type=click.Path(path_type=Path, file_okay=False),
              help="Dossier de modèles Word et de textes de clauses (par défaut : ceux du moteur, "
                   "deliberation/templates).")
@FICHES
def build(dossier: Path, output: Path | None, strict: bool, final: bool, no_pdf: bool, pdfa: bool,
          jobs: int, templates: Path | None, fiches: Path | None) -> None:
    """Contrôle le dossier puis produit les documents (rien n'est écrit en cas d'erreur).

    Produit les fichiers Word et, sauf --no-pdf, leur PDF, le dossier fusionné bundle.pdf (sommaire,
    signets, numéros de page) et manifest.json (empreintes des entrées et des sorties).
    """
    out = output or Path("build") / dossier.resolve().name
    settings = Settings(source=dossier, out_dir=out, strict=strict, final=final, pdf=not no_pdf, pdfa=pdfa,
                        jobs=jobs, templates=templates, **_catalogue(fiches))
    try:
        with _sigterm_as_interrupt():
            result = commands.build(settings)
    except DeliberationError as err:
        click.echo(f"ERREUR ({err.category}) : {err}", err=True)
        sys.exit(3)
    except KeyboardInterrupt:  # Ctrl-C or SIGTERM: temporary folders and LibreOffice are already cleaned up
        click.echo(f"production interrompue : rien de partiel n'est laissé dans {out}", err=True)
        sys.exit(130)
    _report(result.checked.findings, as_json=False)
    if result.unchanged:
        click.echo(f"aucun document modifié : {out} est conservé tel quel (version {result.version})", err=True)
        return
    if not result.written:
        click.echo("production refusée : corrigez les erreurs ci-dessus (rien n'a été écrit)", err=True)
        sys.exit(1)
    for note in result.notes:
        click.echo(f"attention : {note}", err=True)
    docs = result.documents
    if result.version > 1 and docs is not None:
        click.echo(f"version {result.version} : {len(docs.modifies)} document(s) modifié(s), {len(docs.ajoutes)} "
                   f"ajouté(s), {len(docs.supprimes)} supprimé(s), {docs.inchanges} inchangé(s) ; "
                   f"{len(result.changes)} chiffre(s) modifié(s) (voir CHANGES.md)", err=True)
    click.echo(f"{len(result.files)} fichier(s) écrit(s) dans {out} (version {result.version})", err=True)


@main.command()
@DOSSIER
@click.argument("structure")
def explain(dossier: Path, structure: str) -> None:
    """Explique l'avenant ou la convention d'une structure : chaque article, la règle qui l'a inclus, les données lues.

    STRUCTURE est la clé de la structure dans structures.yaml ou son nom (« pdc-actif », « Pas-de-Calais Actif »).
    """
    try:
        texts = commands.explain(Settings(source=dossier), structure)
    except commands.Stop as stop:
        _stop(stop)
    except DeliberationError as err:
        click.echo(f"ERREUR ({err.category}) : {err}", err=True)
        sys.exit(3)
    click.echo("\n".join(texts))


@main.command()
@click.argument("old", type=click.Path(path_type=Path))
@click.argument("new", type=click.Path(path_type=Path), required=False)
@click.option("--json", "as_json", is_flag=True, help="Résultat au format JSON.")
def diff(old: Path, new: Path | None, as_json: bool) -> None:
    """Compare deux versions : chiffres modifiés (avant → après, écart) et documents modifiés.

    OLD et NEW sont chacun un dossier de phase ou un dossier produit (bundle, avec manifest.json).
    Avec un seul dossier, compare la phase telle que présentée et telle qu'adoptée (amendements).
    """
    try:
        changes, docs = commands.diff(old, new)
    except commands.Stop as stop:
        _stop(stop)
    except DeliberationError as err:
        click.echo(f"ERREUR ({err.category}) : {err}", err=True)
        sys.exit(3)
    if as_json:
        click.echo(to_json(changes, docs))
        return
    click.echo("Chiffres modifiés :\n" + table(changes) + "\n")
    click.echo(documents_text(docs))


@main.group(subcommand_metavar=clifr.SUBCOMMAND)
def export() -> None:
    """Exporte les données de la phase adoptée dans d'autres formats (données ouvertes…)."""


@export.command("scdl")
@DOSSIER
@click.option("-o", "--output", type=click.Path(path_type=Path),
              help="Fichier CSV (sortie standard par défaut, ou « - ») ; un dossier, un périphérique, un tube "
                   "ou un lien symbolique est refusé.")
@click.option("--brouillon", is_flag=True, help="Écrit le CSV malgré les constats SCDL (champs laissés vides).")
def export_scdl(dossier: Path, output: Path | None, brouillon: bool) -> None:
    """Écrit les financements de la phase adoptée au format SCDL « Subventions » 2.1.1 (CSV, data.gouv.fr).

    Une ligne par ligne de financement (les valorisations en sont exclues). Un SIRET manquant ou une
    valeur contraire au schéma est un constat : rien n'est écrit, sauf avec --brouillon. Un texte qu'un
    tableur lirait comme une formule (=, +, -, @…) est préfixé d'une apostrophe, avec un avertissement.
    Le fichier -o est remplacé d'un coup ; un lien symbolique est refusé (le fichier lié n'est pas modifié).
    """
    try:
        result = commands.export_scdl(Settings(source=dossier), draft=brouillon)
        for f in result.reported:
            click.echo(format_finding(f, os.getcwd()), err=True)
        if result.data is None:
            click.echo("export refusé : corrigez les constats ci-dessus ou utilisez --brouillon (rien n'a été écrit)",
                       err=True)
            sys.exit(1)
        if output is None or str(output) == "-":
            click.echo(result.data, nl=False)  # bytes: written as they are
            return
        commands.write_export(output, result.data)
    except DeliberationError as err:
        click.echo(f"ERREUR ({err.category}) : {err} (rien n'a été écrit)", err=True)
        sys.exit(3)
    click.echo(f"{len(result.rows)} subvention(s) écrite(s) dans {output}", err=True)


@main.command("import-xlsx")
@click.argument("workbooks", nargs=-1, required=True, type=click.Path(path_type=Path))
@DOSSIER
@click.option("--colonnes", type=click.Path(path_type=Path, dir_okay=False),
              help="Correspondance YAML des en-têtes : annexe4: {montant: \"Montant voté CP\"}, budget: {…}.")
@click.option("--dry-run", is_flag=True, help="Montre ce qui changerait, sans rien écrire.")
def import_xlsx(workbooks: tuple[Path, ...], dossier: Path, colonnes: Path | None, dry_run: bool) -> None:
    """Met à jour le dossier depuis un classeur Excel : annexe 4 et/ou situation budgétaire.

    Les valeurs qui diffèrent sont écrites dans thematiques/*.yaml et budget.yaml (commentaires et ordre
    gardés), toutes ensemble ou aucune ; au moindre constat d'erreur, rien n'est écrit. Un import
    interrompu est terminé (ou annulé) par la commande suivante ; pendant une production du dossier,
    l'import est refusé (code 3).
    """
    try:
        with _sigterm_as_interrupt():
            result = commands.import_xlsx(list(workbooks), dossier, colonnes, dry_run=dry_run)
    except DeliberationError as err:
        click.echo(f"ERREUR ({err.category}) : {err}", err=True)
        sys.exit(3)
    except KeyboardInterrupt:  # Ctrl-C or SIGTERM: finish or undo what was being written
        commands.recover_import(dossier)
        click.echo(f"import interrompu : {dossier} contient l'ancien jeu de fichiers ou le nouveau, complet",
                   err=True)
        sys.exit(130)
    for note in result.notes:
        click.echo(f"attention : {note}", err=True)
    if result.findings:
        _report(result.findings, as_json=False)
    if result.failed:
        click.echo("import refusé : corrigez les constats ci-dessus (rien n'a été écrit)", err=True)
        sys.exit(1)
    click.echo(result.summary())


@main.command()
def schema() -> None:
    """Affiche le format du dossier (fichier par fichier), tiré des déclarations du modèle."""
    for block in commands.schema():
        click.echo(block)
