"""Issue 17, point 6: the command line speaks French, click's own words included."""

from __future__ import annotations

import ast
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from deliberation import clifr
from deliberation.cli import main


def _click_messages() -> tuple[set[str], set[tuple[str, str]]]:
    """Every message installed click passes through ``_`` or ``ngettext``."""
    singles, plurals = set(), set()
    for path in sorted(Path(click.__file__).parent.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in ("_", "ngettext"):
                args = [a.value for a in node.args if isinstance(a, ast.Constant) and isinstance(a.value, str)]
                if node.func.id == "_" and len(args) == 1:
                    singles.add(args[0])
                elif node.func.id == "ngettext" and len(args) == 2:
                    plurals.add((args[0], args[1]))
    return singles, plurals


def test_every_click_message_has_a_french_translation():
    singles, plurals = _click_messages()
    assert len(singles) > 50 and len(plurals) > 5  # the scan found click's messages
    assert sorted(singles - set(clifr.MESSAGES)) == []
    assert sorted(plurals - set(clifr.PLURALS)) == []


def test_translations_keep_their_placeholders():
    import string

    def fields(text: str) -> set[str]:
        return {f for _, f, _, _ in string.Formatter().parse(text) if f}

    for en, fr in clifr.MESSAGES.items():
        assert fields(en) == fields(fr), en
    for (s, p), (fs, fp) in clifr.PLURALS.items():
        assert fields(s) == fields(fs) and fields(p) == fields(fp), s


#: click's English wording, as it would show in help or errors if a message escaped translation.
ENGLISH = ("Usage:", "Show this message", "Show the version", "Options:", "Commands:", "Error:", "No such option",
           "No such command", "Missing argument", "Missing option", "Try '", "for help", "Invalid value",
           "is not in the range", "does not exist", "Did you mean", "COMMAND [ARGS]", "Got unexpected",
           "requires an argument", "is not a valid", "Aborted")


def _commands(group: click.Group, prefix: list[str]):
    for name, cmd in sorted(group.commands.items()):
        yield [*prefix, name]
        if isinstance(cmd, click.Group):
            yield from _commands(cmd, [*prefix, name])


HELPS = [[], *[list(c) for c in _commands(main, [])]]


@pytest.mark.parametrize("command", HELPS, ids=lambda c: " ".join(c) or "deliberation")
def test_help_is_french(command):
    result = CliRunner().invoke(main, [*command, "--help"], prog_name="deliberation")
    assert result.exit_code == 0, result.output
    assert result.output.startswith("Utilisation : deliberation")
    assert not [w for w in ENGLISH if w in result.output], result.output
    assert CliRunner().invoke(main, [*command, "-h"], prog_name="deliberation").output == result.output


@pytest.mark.parametrize("args, words", [
    (["build", "--sans-pf", "x"], ["Option inconnue", "Vouliez-vous dire '--sans-pdf'"]),
    (["check"], ["Argument manquant 'DOSSIER'"]),
    (["bild"], ["Commande inconnue : 'bild'", "Vouliez-vous dire 'build'"]),
    (["build", "x", "-j", "99"], ["Valeur invalide pour '-j' / '--processus'", "n'est pas dans l'intervalle"]),
    (["build", "x", "-o"], ["L'option '-o' attend une valeur"]),
    (["check", "a", "b"], ["Argument en trop (b)"]),
    (["import-xlsx"], ["Argument manquant"]),
    (["export"], ["Utilisation : deliberation export"]),
])
def test_usage_errors_are_french(args, words):
    result = CliRunner().invoke(main, args, prog_name="deliberation")
    assert result.exit_code == 2, result.output
    out = result.output
    assert not [w for w in ENGLISH if w in out], out
    for w in words:
        assert w in out, out
