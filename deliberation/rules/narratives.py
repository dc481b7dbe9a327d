"""Narratives cite computed figures only through the known ``[[name]]`` vocabulary; every Markdown text renders.

The Markdown texts of the dossier that reach the Word writer (narratives, the rapport's introduction,
the sections of the dispositif sheets) are checked with the writer's own limits
(``text.unrenderable``), as they will be rendered: figures expanded, schedules filled.
"""

from __future__ import annotations

import re
from pathlib import Path

from deliberation.findings import Finding, Loc, error
from deliberation.rules import DOSSIER, RuleInput, rule
from deliberation.schema import control_message
from deliberation.text import (
    PLACEHOLDER,
    PLACEHOLDERS,
    expand,
    figure_values,
    sheet_sections,
    unknown_placeholders,
    unrenderable,
)

#: The line of a YAML literal block scalar (``narrative: |``): its text starts on the next line, line for line.
_LITERAL = re.compile(r"(?:^|:|-)\s+(?:[!&]\S*\s+)*\|[-+1-9]{0,2}\s*(?:#.*)?$")
_VERSEMENTS = re.compile(r"\[\[\s*versements\s*\]\]")


def _scopes(d) -> list[tuple]:
    """(node, field, label) of every narrative of dossier ``d``; the rapport's figures are the phase's."""
    scopes = [(t, "narrative", f"thématique {t.numero}") for t in d.thematiques]
    scopes += [(o, "narrative", f"opération {t.numero}.{o.numero}") for t, o in d.operations()]
    if d.info and d.info.rapport:
        scopes.append((d.info.rapport, "introduction", "introduction du rapport"))
    return scopes


@rule(DOSSIER, ("narrative.variable", "texte.imbrication", "texte.controle"))
def check_narratives(inp: RuleInput) -> list[Finding]:
    """Every ``[[name]]`` in a narrative is a figure the engine computes; every Markdown text renders in Word."""
    out: list[Finding] = []
    known = ", ".join(PLACEHOLDERS)
    for node, field, label in _scopes(inp.dossier):
        for name in unknown_placeholders(getattr(node, field, None) or ""):
            msg = f"{label} : chiffre inconnu [[{name}]] ; chiffres disponibles : {known}"
            out.append(error("narrative.variable", msg, node.at(field)))
    return out + check_markdown(inp)


def check_markdown(inp: RuleInput) -> list[Finding]:
    """Narratives (figures expanded, as presented and as adopted) and sheet sections (schedule filled) render."""
    out: list[Finding] = []
    lines: dict[str, list[str]] = {}
    versions = [(inp.dossier, inp.figures)]
    if inp.presented is not None and inp.presented is not inp.dossier:
        versions.append((inp.presented, inp.presented_figures))  # the rapport keeps the figures as presented
    for d, figures in versions:
        for node, field, label in _scopes(d):
            text = getattr(node, field, None)
            if not text:
                continue
            if PLACEHOLDER.search(text):
                text = expand(text, _values(node, field, figures))
            for p in unrenderable(text):
                out.append(error(p.code, f"{label} : {p.message}", _yaml_line(node.at(field), p.line, lines)))
    for code in sorted(inp.dispositifs):
        out += _check_sheet(inp.dispositifs[code])
    return out


def _values(node, field: str, figures) -> dict[str, str]:
    """The formatted figures ``[[name]]`` stands for in ``node``'s text, as the rendering context has them."""
    if figures is None:
        return {}
    try:
        totaux = figures.of(node) if field == "narrative" else figures.phase  # the introduction: the phase's
    except KeyError:
        return {}
    return figure_values(totaux) if totaux is not None else {}


def _yaml_line(loc: Loc, line: int, cache: dict[str, list[str]]) -> Loc:
    """Where line ``line`` of a YAML text is: exact in a literal block (``|``), else the text's first line."""
    if not loc.line:
        return loc
    if loc.file not in cache:
        try:
            cache[loc.file] = Path(loc.file).read_text(encoding="utf-8", errors="replace").splitlines()
        except OSError:
            cache[loc.file] = []
    source = cache[loc.file]
    if loc.line <= len(source) and _LITERAL.search(source[loc.line - 1]):
        return Loc(loc.file, loc.line + 1 + line, loc.path)
    return loc


def _check_sheet(sheet) -> list[Finding]:
    """Each section of a dispositif sheet renders, its schedule left blank (one line) or filled in."""
    schedule = "\n".join(f"- 1 % {v.libelle}, soit 1 €" for v in sheet.versements if v.pourcentage is not None)
    out: list[Finding] = []
    seen: set[tuple] = set()
    for heading, text, first in sheet_sections(sheet.corps):
        raw_control = control_message(text) is not None  # reported line by line when the sheet is loaded
        variants = [(text, None)]
        if schedule and _VERSEMENTS.search(text):
            variants.append(_filled(text, schedule))
        for variant, origin in variants:
            for p in unrenderable(variant):
                line = sheet.corps_ligne + first + (origin[min(p.line, len(origin) - 1)] if origin else p.line)
                if (p.code == "texte.controle" and raw_control) or (p.code, line) in seen:
                    continue
                seen.add((p.code, line))
                msg = f"fiche {sheet.code}, rubrique « {heading} » : {p.message}"
                out.append(error(p.code, msg, Loc(sheet.loc.file, line)))
    return out


def _filled(text: str, schedule: str) -> tuple[str, list[int]]:
    """``text`` with its ``[[versements]]`` replaced by ``schedule``, and the original line of each new line."""
    lines, origin = [], []
    for n, line in enumerate(text.split("\n")):
        new = _VERSEMENTS.sub(lambda _m: schedule, line).split("\n")
        lines += new
        origin += [n] * len(new)
    return "\n".join(lines), origin
