"""Command line: options → ``Settings`` → ``commands`` → findings printed → exit code. No logic here."""

from __future__ import annotations

import contextlib
import gc
import os
import signal
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import NoReturn

import click

from deliberation import __version__, clifr, commands, readable
from deliberation.diff import documents_text, table, to_json
from deliberation.findings import DeliberationError, findings_to_json, format_finding, has_errors
from deliberation.resources import catalogue_dir
from deliberation.settings import Settings

clifr.install()  # click's help headings and usage errors in French

#: Options renamed in French in version 0.2: the old name still works until 0.3, with a warning.
RENAMED = {"--output": "--sortie", "--no-pdf": "--sans-pdf", "--jobs": "--processus", "--templates": "--modeles",
           "--dry-run": "--essai", "--list-rules": "--liste-regles"}

#: Exit codes, the same for every command (shown at the end of each command's help).
EXIT_CODES = """\b
Codes de sortie :
  0    fait (des avertissements peuvent rester)
  1    constats d'erreur, ou production refusée : rien n'est écrit
  2    commande mal formée (option ou argument)
  3    production impossible (modèle, LibreOffice, disque, verrou) : rien n'est écrit
  130  interrompu (Ctrl-C ou arrêt) : rien de partiel n'est laissé"""


#: Set by ``python -m deliberation`` (``__main__``), where the process is the command and nothing else:
#: ``check`` and ``build`` then leave their objects to the end of the process, with no cycle collection
#: after it and no interpreter teardown freeing them one by one (0.2 s of a cold check of 5 000 lines,
#: 0.18 s of the example's build, issue 23).
ONE_SHOT = False


def _end(code: int) -> NoReturn:
    """Exit with ``code``: at once, output flushed, when ``ONE_SHOT``; else as usual (``sys.exit``)."""
    if ONE_SHOT:
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(OSError, ValueError):  # a closed pipe (``| head``) loses nothing more
                stream.flush()
        os._exit(code)
    sys.exit(code)


def _epilog(*examples: str) -> str:
    """A command's help epilog: its examples, then the exit codes."""
    lines = "\n".join(f"  {e}" for e in examples)
    return f"\b\nExemples :\n{lines}\n\n{EXIT_CODES}"


class Command(click.Command):
    """A command that accepts the old English names of its renamed options, and says they are renamed."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        """Rewrite ``--output`` and the other old names before click parses them."""
        own = {opt for param in self.params for opt in getattr(param, "opts", ())}
        rewritten = []
        for i, arg in enumerate(args):
            if arg == "--":  # what follows is arguments, never options
                rewritten.extend(args[i:])
                break
            name, eq, value = arg.partition("=")
            new = RENAMED.get(name)
            if new is not None and new in own:
                click.echo(f"attention : l'option {name} s'appelle désormais {new} ; l'ancien nom sera retiré "
                           "dans la prochaine version", err=True)
                arg = f"{new}{eq}{value}"
            rewritten.append(arg)
        return super().parse_args(ctx, rewritten)


class Group(click.Group):
    """A group whose commands and subgroups accept the old option names."""

    command_class = Command
    group_class = type  # subgroups are Groups too

DOSSIER = click.argument("dossier", type=click.Path(path_type=Path))
FICHES = click.option("--fiches", type=click.Path(path_type=Path, file_okay=False),
                      help="Dossier de fiches de dispositif à la place de celles du moteur "
                           "(deliberation/annexes/dispositifs) ; les dispositifs/ du dossier restent prioritaires.")



def _level(command: Callable) -> Callable:
    """How much of the findings to print (``readable.LEVELS``): ``-q``, ``--resume``, the default, ``-v``."""
    for option in reversed((
        click.option("-q", "--silencieux", "level", flag_value="silencieux",
                     help="N'affiche que les erreurs et les totaux."),
        click.option("--resume", "level", flag_value="resume",
                     help="N'affiche qu'une ligne par code de constat (gravité, nombre, un exemple) et les totaux."),
        click.option("-v", "--detail", "level", flag_value="detail",
                     help="Affiche chaque constat sur sa ligne, sans regroupement ni tableau."),
    )):
        command = option(command)
    return command


class _Progress:
    """The PDF step's progress: a bar on a terminal, one line per batch of documents otherwise."""

    def __init__(self, enabled: bool):
        self.enabled = enabled
        self.tty = sys.stderr.isatty()
        self.bar = None
        self.shown = 0

    def __call__(self, done: int, total: int, batch_end: bool) -> None:
        """Told by the conversion: ``done`` PDFs of ``total``; ``batch_end`` when a batch has ended."""
        if not self.enabled or total == 0:
            return
        if self.tty:
            if self.bar is None:
                self.bar = click.progressbar(length=total, label="Conversion PDF", file=sys.stderr,
                                             show_pos=True, width=30)
                self.bar.__enter__()
            self.bar.update(done - self.shown)
            self.shown = done
        elif batch_end:
            click.echo(f"conversion PDF : {done}/{total} document(s)", err=True)

    def end(self) -> None:
        """Close the bar (before any other line is printed)."""
        if self.bar is not None:
            self.bar.__exit__(None, None, None)
            self.bar = None


@contextlib.contextmanager
def _pdf_progress(enabled: bool):
    progress = _Progress(enabled)
    try:
        yield progress
    finally:
        progress.end()


def _catalogue(fiches: Path | None) -> dict:
    """Settings for ``--fiches``: the engine's dispositif sheets, or the given folder instead."""
    return {"annexes": (fiches,)} if fiches is not None else {}


def _report(findings, as_json: bool, level: str | None = "detail") -> None:
    """The findings as JSON, or as lines at ``level`` (None: the readable default) then the totals on stderr."""
    base = os.getcwd()
    if as_json:
        click.echo(findings_to_json(findings, base))
        return
    for line in readable.render(findings, level or "lisible", base):
        click.echo(line)
    click.echo(readable.totals(findings), err=True)


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


@click.group(cls=Group, context_settings={"help_option_names": ["-h", "--help"]},
             subcommand_metavar=clifr.SUBCOMMAND,
             epilog=_epilog("deliberation check fixtures/phase-6-2024",
                            "deliberation build fixtures/phase-6-2024 -o build/phase-6",
                            "deliberation check -h        (l'aide d'une commande)"))
@click.version_option(__version__, "-V", "--version", prog_name="deliberation")
def main() -> None:
    """Prépare, contrôle et produit les documents d'une phase de Commission Permanente.

    La complétion des commandes et options dans le shell est décrite dans le README (« Complétion »).
    """


@main.command(epilog=_epilog("deliberation check fixtures/phase-6-2024",
                             "deliberation check fixtures/phase-6-2024 --resume",
                             "deliberation check fixtures/phase-6-2024 -v | grep acte.incomplet",
                             "deliberation check fixtures/phase-6-2024 --strict --actes -q",
                             "deliberation check fixtures/phase-6-2024 --json > constats.json",
                             "deliberation check --liste-regles"))
@DOSSIER
@click.option("--strict", is_flag=True, help="Les avertissements font aussi échouer.")
@click.option("--json", "as_json", is_flag=True, help="Constats au format JSON.")
@click.option("--actes", is_flag=True, help="Contrôle aussi la transmission @ctes : numéro, objet, nature, matière.")
@FICHES
@click.option("--liste-regles", is_flag=True, expose_value=False, is_eager=True, callback=_list_rules,
              help="Liste les règles de contrôle, leurs codes et leur gravité, puis s'arrête.")
@_level
def check(dossier: Path, strict: bool, as_json: bool, actes: bool, fiches: Path | None, level: str | None) -> None:
    """Contrôle un dossier de phase et liste tous les constats.

    Par défaut : les erreurs, puis les avertissements ; les constats d'un même code sur un même sujet
    (un acte, une ligne…) sur une seule ligne (« +N autres : l.X, l.Y ») ; les documents produits comme
    PROJET en un tableau acte × valeur à compléter ; puis une ligne par code et les totaux. Chaque
    constat garde son « fichier:ligne: ». --json et -v donnent tous les constats, un par ligne.
    """
    if ONE_SHOT:
        gc.disable()  # for good: the process ends with the command (``_end``)
    result = commands.check(Settings(source=dossier, strict=strict, actes=actes, **_catalogue(fiches)))
    _report(result.findings, as_json, level)
    _end(1 if has_errors(result.findings, strict) else 0)


@main.command(epilog=_epilog("deliberation figures fixtures/phase-6-2024",
                             "deliberation figures fixtures/phase-6-2024 --resume",
                             "deliberation figures fixtures/phase-6-2024 --json"))
@DOSSIER
@click.option("--json", "as_json", is_flag=True, help="Chiffres au format JSON.")
@click.option("--resume", is_flag=True, help="Sans le tableau des lignes : opérations, thématiques, budget, phase.")
def figures(dossier: Path, as_json: bool, resume: bool) -> None:
    """Affiche les chiffres calculés : lignes, opérations, thématiques, budget, phase."""
    try:
        text, errors = commands.figures(Settings(source=dossier), as_json, lines=not resume)
    except commands.Stop as stop:
        _stop(stop)
    click.echo(text)
    if errors:
        click.echo(f"attention : {errors} erreur(s) dans le dossier (voir « deliberation check »)", err=True)
        sys.exit(1)


@main.command(epilog=_epilog("deliberation ledger fixtures/programme-2025",
                             "deliberation ledger fixtures/programme-2025 -o build/programme-2025",
                             "deliberation ledger fixtures/programme-2025 --json"))
@click.argument("programme", type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Grand livre et constats au format JSON.")
@click.option("-o", "--sortie", "output", type=click.Path(path_type=Path),
              help="Écrit programme.xlsx, programme.docx et programme.pdf dans ce dossier (rien en cas d'erreur ; "
                   "refusé s'il contient d'autres fichiers).")
@click.option("--sans-pdf", "no_pdf", is_flag=True, help="Avec -o : sans programme.pdf (sans LibreOffice).")
@FICHES
@_level
def ledger(programme: Path, as_json: bool, output: Path | None, no_pdf: bool, fiches: Path | None,
           level: str | None) -> None:
    """Affiche le grand livre d'un programme : une année d'appel à projets, une phase par sous-dossier.

    Lignes budgétaires phase par phase (disponible, proposition, après), conventions et leurs avenants
    (numéro, montant, plafond, fin), structures (l'année, par dispositif, territoire et phase). Un chiffre
    qu'une phase déclare et que le grand livre contredit est un constat qui donne les deux. Avec -o : le
    classeur (formules et graphiques) et le rapport Word et PDF (graphiques).
    """
    annexes = _catalogue(fiches).get("annexes", (catalogue_dir(),))
    try:
        text, findings, written = commands.ledger(programme, annexes, as_json, output, pdf=not no_pdf)
    except commands.Stop as stop:
        _stop(stop)
    except DeliberationError as err:
        click.echo(f"ERREUR ({err.category}) : {err}", err=True)
        sys.exit(3)
    click.echo(text, nl=False)
    if not as_json:
        _report(findings, False, level)
    if written:
        click.echo(f"écrit dans {output} : {', '.join(written)}", err=True)
    elif output is not None and has_errors(findings):
        click.echo(f"rien n'est écrit dans {output} : le grand livre a des erreurs", err=True)
    sys.exit(1 if has_errors(findings) else 0)


@main.command(epilog=_epilog("deliberation build fixtures/phase-6-2024",
                             "deliberation build fixtures/phase-6-2024 -o build/phase-6 --sans-pdf",
                             "deliberation build fixtures/phase-6-2024 --final --pdfa -j 4",
                             "deliberation build fixtures/phase-6-2024 --resume",
                             "deliberation build fixtures/phase-6-2024 --modeles mes-modeles -q"))
@DOSSIER
@click.option("-o", "--sortie", "output", type=click.Path(path_type=Path),
              help="Dossier de sortie (build/<dossier>) ; refusé s'il contient autre chose qu'une production.")
@click.option("--strict", is_flag=True, help="Les avertissements bloquent aussi la production.")
@click.option("--final", is_flag=True,
              help="Version à signer : refuse tout document resté en PROJET et ce que @ctes rejetterait.")
@click.option("--sans-pdf", "no_pdf", is_flag=True, help="Fichiers Word seulement (sans LibreOffice).")
@click.option("--pdfa", is_flag=True, help="PDF/A-2b pour l'archivage.")
@click.option("-j", "--processus", "jobs", type=click.IntRange(1, 16), default=2, show_default=True, metavar="N",
              help="Processus LibreOffice en parallèle.")
@click.option("--modeles", "templates", type=click.Path(path_type=Path, file_okay=False),
              help="Dossier de modèles Word et de textes de clauses (par défaut : ceux du moteur, "
                   "deliberation/templates).")
@FICHES
@_level
def build(dossier: Path, output: Path | None, strict: bool, final: bool, no_pdf: bool, pdfa: bool,
          jobs: int, templates: Path | None, fiches: Path | None, level: str | None) -> None:
    """Contrôle le dossier puis produit les documents (rien n'est écrit en cas d'erreur).

    Produit les fichiers Word et, sauf --sans-pdf, leur PDF, le dossier fusionné bundle.pdf (sommaire,
    signets, numéros de page) et manifest.json (empreintes des entrées et des sorties). Pendant la
    conversion PDF, une barre de progression (dans un terminal) ou une ligne par lot (sinon) ; rien avec -q.
    Les constats s'affichent comme avec « deliberation check » (mêmes options -q, --resume, -v) ; avec -q,
    ni progression ni ligne finale.
    """
    quiet = level == "silencieux"
    out = output or Path("build") / dossier.resolve().name
    with _pdf_progress(enabled=not (quiet or no_pdf)) as progress:
        settings = Settings(source=dossier, out_dir=out, strict=strict, final=final, pdf=not no_pdf, pdfa=pdfa,
                            jobs=jobs, templates=templates, progress=progress, **_catalogue(fiches))
        try:
            with _sigterm_as_interrupt():
                result = commands.build(settings)
        except DeliberationError as err:
            progress.end()
            click.echo(f"ERREUR ({err.category}) : {err}", err=True)
            sys.exit(3)
        except KeyboardInterrupt:  # Ctrl-C or SIGTERM: temporary folders and LibreOffice are already cleaned up
            progress.end()
            click.echo(f"production interrompue : rien de partiel n'est laissé dans {out}", err=True)
            sys.exit(130)
    _report(result.checked.findings, as_json=False, level=level)
    if result.unchanged:
        click.echo(f"aucun document modifié : {out} est conservé tel quel (version {result.version})", err=True)
        _end(0)
    if not result.written:
        click.echo("production refusée : corrigez les erreurs ci-dessus (rien n'a été écrit)", err=True)
        _end(1)
    for note in result.notes:
        click.echo(f"attention : {note}", err=True)
    docs = result.documents
    if result.version > 1 and docs is not None:
        click.echo(f"version {result.version} : {len(docs.modifies)} document(s) modifié(s), {len(docs.ajoutes)} "
                   f"ajouté(s), {len(docs.supprimes)} supprimé(s), {docs.inchanges} inchangé(s) ; "
                   f"{len(result.changes)} chiffre(s) modifié(s) (voir CHANGES.md)", err=True)
    if not quiet:
        click.echo(f"{len(result.files)} fichier(s) écrit(s) dans {out} (version {result.version})", err=True)
    _end(0)  # the bundle is on disk (synced), LibreOffice and the workers gone: no teardown to wait for


@main.command(epilog=_epilog("deliberation explain fixtures/phase-6-2024 pdc-actif",
                             "deliberation explain fixtures/phase-6-2024 \"Pas-de-Calais Actif\""))
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


@main.command(epilog=_epilog("deliberation diff fixtures/phase-6-2024-amendee",
                             "deliberation diff build/phase-6-v1 build/phase-6-v2 --json"))
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


@main.group(subcommand_metavar=clifr.SUBCOMMAND,
            epilog=_epilog("deliberation export scdl fixtures/phase-6-2024 -o subventions.csv"))
def export() -> None:
    """Exporte les données de la phase adoptée dans d'autres formats (données ouvertes…)."""


@export.command("scdl", epilog=_epilog("deliberation export scdl fixtures/phase-6-2024 -o subventions.csv",
                                       "deliberation export scdl fixtures/phase-6-2024 --brouillon > brouillon.csv"))
@DOSSIER
@click.option("-o", "--sortie", "output", type=click.Path(path_type=Path),
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


@main.command("import-xlsx", epilog=_epilog(
    "deliberation import-xlsx annexe4.xlsx fixtures/phase-6-2024 --essai",
    "deliberation import-xlsx annexe4.xlsx budget.xlsx fixtures/phase-6-2024",
    "deliberation import-xlsx classeur.xlsx fixtures/phase-6-2024 --colonnes colonnes.yaml"))
@click.argument("workbooks", nargs=-1, required=True, type=click.Path(path_type=Path))
@DOSSIER
@click.option("--colonnes", type=click.Path(path_type=Path, dir_okay=False),
              help="Correspondance YAML des en-têtes : annexe4: {montant: \"Montant voté CP\"}, budget: {…}.")
@click.option("--essai", "dry_run", is_flag=True, help="Montre ce qui changerait, sans rien écrire.")
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


@main.command(epilog=_epilog(
    "deliberation init phase-7-2025 --depuis annexe-4.xlsx --registre fixtures/phase-6-2024/structures.yaml",
    "deliberation init phase-7-2025 --depuis annexe-4.xlsx --situation situation.xlsx"))
@DOSSIER
@click.option("--depuis", "annexe", required=True, type=click.Path(path_type=Path),
              help="Classeur de l'annexe 4 : thématiques, opérations, lignes, codes budgétaires.")
@click.option("--situation", type=click.Path(path_type=Path),
              help="Situation budgétaire Excel : imputation, libellé, AE et disponible des codes de la phase.")
@click.option("--registre", type=click.Path(path_type=Path),
              help="structures.yaml d'une phase précédente (ou son dossier), repris avec ses commentaires.")
@click.option("--colonnes", type=click.Path(path_type=Path, dir_okay=False),
              help="Correspondance YAML des en-têtes (comme pour import-xlsx).")
def init(dossier: Path, annexe: Path, situation: Path | None, registre: Path | None, colonnes: Path | None) -> None:
    """Crée un dossier de phase depuis les classeurs de la Mission Budget ; le reste est « à compléter ».

    Lignes, opérations et lignes budgétaires viennent des classeurs, le registre d'une phase précédente ;
    la séance, l'acte, le rapport, les titres et les textes sont laissés « à compléter », chaque valeur
    étant un constat de check à sa ligne. DOSSIER doit être absent ou vide ; tout est écrit ou rien.
    """
    try:
        result = commands.init_dossier(dossier, annexe, situation, registre, colonnes)
    except DeliberationError as err:
        click.echo(f"ERREUR ({err.category}) : {err}", err=True)
        sys.exit(3)
    if result.failed:
        _stop(commands.Stop(1, "création refusée : corrigez les constats ci-dessus (rien n'a été écrit)",
                            result.findings))
    _report(result.findings + (result.after or []), as_json=False)
    click.echo(result.summary(dossier), err=True)

@main.command(epilog=_epilog("deliberation serve fixtures/phase-6-2024",
                             "deliberation serve fixtures/phase-6-2024 -o build/phase-6-2024 --port 8080",
                             "DELIBERATION_JETON=secret deliberation serve DOSSIER --host 0.0.0.0"))
@DOSSIER
@click.option("-o", "--sortie", "output", type=click.Path(path_type=Path),
              help="Dossier de sortie des productions (build/<dossier>).")
@click.option("--port", type=click.IntRange(1, 65535), default=8000, show_default=True, help="Port d'écoute.")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Adresse d'écoute ; une autre que la machine locale exige un jeton d'accès.")
@click.option("--jeton", default=None, help="Jeton d'accès exigé de chaque demande (sinon DELIBERATION_JETON).")
@click.option("--sans-pdf", "no_pdf", is_flag=True, help="Productions Word seulement (sans LibreOffice).")
def serve(dossier: Path, output: Path | None, port: int, host: str, jeton: str | None, no_pdf: bool) -> None:
    """Ouvre l'atelier dans le navigateur : phase, documents, registre des actes, amendements, classeurs Excel.

    Une application web locale (HTML en français, lisible sans JavaScript) : contrôle budgétaire, constats
    reliés à leur ligne, « Produire » avec sa progression, registre des actes, revue de chaque acte,
    amendements et classeurs appliqués par les mêmes écritures contrôlées que import-xlsx.
    """
    from deliberation.web.app import serve as run  # Starlette, uvicorn: only for this command

    out = output or Path("build") / dossier.resolve().name
    try:
        run(dossier, out, host=host, port=port, token=jeton, pdf=not no_pdf,
            ready=lambda address: click.echo(f"atelier ouvert : {address} (Ctrl-C pour arrêter)", err=True))
    except ValueError as err:
        click.echo(f"ERREUR : {err}", err=True)
        sys.exit(2)


@main.command(epilog=_epilog("deliberation schema", "deliberation schema | less"))
def schema() -> None:
    """Affiche le format du dossier (fichier par fichier), tiré des déclarations du modèle."""
    for block in commands.schema():
        click.echo(block)
