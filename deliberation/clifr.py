"""Click's own words in French: help headings, usage errors, prompts.

Click passes every message it prints through ``gettext`` (``_`` and ``ngettext`` of each of its
modules). ``install`` replaces those two names in click's modules with lookups in the tables below,
so that ``--help`` and every usage error read in French whatever the system's locale. A message
missing from the tables (a newer click) is printed as click wrote it; ``tests/test_cli_french.py``
lists click's messages and fails on any that has no translation here.
"""

from __future__ import annotations

import importlib

import click

#: click's message → French (placeholders kept as they are).
MESSAGES: dict[str, str] = {
    "d": "j",
    "{editor}: Editing failed": "{editor} : échec de la modification",
    "{editor}: Editing failed: {e}": "{editor} : échec de la modification : {e}",
    "Windows error: {error}": "erreur Windows : {error}",
    "Aborted!": "Interrompu.",
    "deprecated": "obsolète",
    "Missing command.": "Commande manquante.",
    "Options": "Options",
    "Positional arguments": "Arguments",
    "DeprecationWarning: The command {name!r} is deprecated.{extra_message}":
        "Avertissement : la commande {name!r} est obsolète.{extra_message}",
    "Commands": "Commandes",
    "Value must be an iterable.": "La valeur doit être une liste.",
    "DeprecationWarning: The {param_type} {name!r} is deprecated.{extra_message}":
        "Avertissement : {param_type} {name!r} est obsolète.{extra_message}",
    "Could not determine name for option with declarations {decls!r}":
        "Nom d'option introuvable dans les déclarations {decls!r}",
    "No options defined but a name was passed ({name}). Did you mean to declare an argument instead? "
    "Did you mean to pass '--{name}'?":
        "Aucune option déclarée mais un nom est donné ({name}) : un argument était-il voulu, ou « --{name} » ?",
    "env var: {var}": "variable d'environnement : {var}",
    "default: {default}": "par défaut : {default}",
    "Arguments take exactly one parameter declaration, got {length}: {decls}.":
        "Un argument se déclare par un seul nom ; reçu {length} : {decls}.",
    "(dynamic)": "(calculé)",
    "Name '{name}' defined twice": "Nom « {name} » déclaré deux fois",
    "Boolean option {decl!r} cannot use the same flag for true/false.":
        "L'option booléenne {decl!r} ne peut pas utiliser le même drapeau pour oui et non.",
    "Do you want to continue?": "Continuer ?",
    "Confirm the action without prompting.": "Confirme l'action sans la demander.",
    "%(prog)s, version %(version)s": "%(prog)s, version %(version)s",
    "Show the version and exit.": "Affiche la version et s'arrête.",
    "Show this message and exit.": "Affiche cette aide et s'arrête.",
    "Missing argument": "Argument manquant",
    "unknown error": "erreur inconnue",
    "Invalid value for {param_hint}: {message}": "Valeur invalide pour {param_hint} : {message}",
    "Missing option": "Option manquante",
    "Could not open file {filename!r}: {message}": "Impossible d'ouvrir le fichier {filename!r} : {message}",
    "Error: {message}": "Erreur : {message}",
    "Try '{command} {option}' for help.": "Aide : « {command} {option} ».",
    "Missing parameter": "Paramètre manquant",
    "Missing parameter: {param_name}": "Paramètre manquant : {param_name}",
    "No such option {name!r}.": "Option inconnue : {name!r}.",
    "No such command {name!r}.": "Commande inconnue : {name!r}.",
    "Invalid value: {message}": "Valeur invalide : {message}",
    "Missing {param_type}": "{param_type} manquant",
    "Usage:": "Utilisation :",
    "Invalid start character for option ({option})": "Caractère invalide en tête d'option ({option})",
    "Option {name!r} does not take a value.": "L'option {name!r} ne prend pas de valeur.",
    "Argument {name!r} takes {nargs} values.": "L'argument {name!r} prend {nargs} valeurs.",
    "Couldn't detect Bash version, shell completion is not supported.":
        "Version de Bash inconnue : complétion non prise en charge.",
    "Shell completion is not supported for Bash versions older than 4.4.":
        "La complétion demande Bash 4.4 ou plus récent.",
    "Press any key to continue...": "Appuyez sur une touche pour continuer…",
    "Repeat for confirmation": "Confirmez en répétant",
    "Error: The two entered values do not match.": "Erreur : les deux valeurs saisies diffèrent.",
    "Unknown color {colour!r}": "Couleur inconnue {colour!r}",
    "Error: invalid input": "Erreur : saisie invalide",
    "file": "fichier",
    "Choose from:\n\t{choices}": "Au choix :\n\t{choices}",
    "Choice({choices})": "Choix({choices})",
    "directory": "dossier",
    "path": "chemin",
    "{value} is not in the range {range}.": "{value} n'est pas dans l'intervalle {range}.",
    "{value!r} is not a valid boolean. Recognized values: {states}":
        "{value!r} n'est pas un booléen. Valeurs reconnues : {states}",
    "{value!r} is not a valid {number_type}.": "{value!r} n'est pas un {number_type} valide.",
    "{value!r} is not a valid UUID.": "{value!r} n'est pas un UUID valide.",
    "{name} {filename!r} is a file.": "{name} {filename!r} est un fichier.",
    "{name} {filename!r} is a directory.": "{name} {filename!r} est un dossier.",
    "{name} {filename!r} is not readable.": "{name} {filename!r} n'est pas lisible.",
    "{name} {filename!r} is not writable.": "{name} {filename!r} n'est pas modifiable.",
    "{name} {filename!r} is not executable.": "{name} {filename!r} n'est pas exécutable.",
    "{name} {filename!r} does not exist.": "{name} {filename!r} n'existe pas.",
    "Unknown standard stream '{name}'": "Flux standard inconnu « {name} »",
}

#: click's (singular, plural) → French (singular, plural).
PLURALS: dict[tuple[str, str], tuple[str, str]] = {
    ("Got unexpected extra argument ({args})", "Got unexpected extra arguments ({args})"):
        ("Argument en trop ({args})", "Arguments en trop ({args})"),
    ("Takes {nargs} values but 1 was given.", "Takes {nargs} values but {len} were given."):
        ("Attend {nargs} valeurs, 1 seule donnée.", "Attend {nargs} valeurs, {len} données."),
    ("Did you mean {possibility}?", "(Did you mean one of: {possibilities}?)"):
        ("Vouliez-vous dire {possibility} ?", "(Vouliez-vous dire : {possibilities} ?)"),
    ("Option {name!r} requires an argument.", "Option {name!r} requires {nargs} arguments."):
        ("L'option {name!r} attend une valeur.", "L'option {name!r} attend {nargs} valeurs."),
    ("{value!r} is not {choice}.", "{value!r} is not one of {choices}."):
        ("{value!r} n'est pas {choice}.", "{value!r} n'est pas l'une des valeurs {choices}."),
    ("{value!r} does not match the format {format}.", "{value!r} does not match the formats {formats}."):
        ("{value!r} ne suit pas le format {format}.", "{value!r} ne suit aucun des formats {formats}."),
    ("{len_type} values are required, but {len_value} was given.",
     "{len_type} values are required, but {len_value} were given."):
        ("{len_type} valeurs attendues, {len_value} donnée.", "{len_type} valeurs attendues, {len_value} données."),
}

_MODULES = ("core", "decorators", "exceptions", "formatting", "parser", "types", "termui", "utils",
            "shell_completion", "_termui_impl")


def gettext(message: str) -> str:
    """The French of one of click's messages (the message itself if unknown)."""
    return MESSAGES.get(message, message)


def ngettext(singular: str, plural: str, n: int) -> str:
    """The French of one of click's messages with a number (click's wording if unknown)."""
    fr = PLURALS.get((singular, plural))
    if fr is None:
        return singular if n == 1 else plural
    return fr[0] if n <= 1 else fr[1]  # French: 0 and 1 take the singular


#: How a group names its subcommand in its usage line.
SUBCOMMAND = "COMMANDE [ARGUMENTS]…"


class Formatter(click.HelpFormatter):
    """Help headings in French typography (« Options : »)."""

    def write_heading(self, heading: str) -> None:
        """Write ``heading`` followed by a non-breaking space and a colon."""
        self.write(f"{'':>{self.current_indent}}{heading}\u00a0:\n")


def install() -> None:
    """Make click speak French: its modules' ``_`` and ``ngettext`` point to the tables above."""
    click.Context.formatter_class = Formatter
    for name in _MODULES:
        try:
            module = importlib.import_module(f"click.{name}")
        except ImportError:
            continue
        if hasattr(module, "_"):
            module._ = gettext
        if hasattr(module, "ngettext"):
            module.ngettext = ngettext
