"""Findings a person can read: grouped lines, tables of missing values, a summary per code.

Four levels of detail, from the least to the most (``check`` and ``build``):

- ``silencieux``: the errors only;
- ``resume``: one line per code (severity, count, one example);
- ``lisible`` (the default): errors first, then warnings; the findings of one code on one subject
  (``Finding.subject``: an act, a line…) on one line, giving the first location and « (+N autres :
  l.X, l.Y) »; the findings that list values (``Finding.items``: the missing values of a PROJET act)
  as one table per code, subject × value; then the summary per code;
- ``detail``: every finding, one per line, as ``format_finding`` writes it.

The totals line (« 0 erreur(s), 30 avertissement(s) ») is not part of these lines: the command line
prints it on stderr whatever the level. Nothing here knows a finding code: grouping and tables follow
the fields the rules set.
"""

from __future__ import annotations

import os
from collections import Counter
from dataclasses import replace

from deliberation.findings import Finding, Severity, _display_path, format_finding

#: The levels of detail, least first.
LEVELS = ("silencieux", "resume", "lisible", "detail")

#: The width the readable lines are cut to (a terminal of 100 columns).
WIDTH = 100

#: How a severity is named in the summary.
SEVERITY_WORD = {Severity.ERROR: "erreur", Severity.WARNING: "avertissement"}

#: The column keys of a table: one letter per value.
KEYS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"

#: Above this many columns, a table's marks are not spaced.
DENSE = 20

#: At most this many other locations are listed on a grouped line.
MAX_OTHERS = 6


def totals(findings: list[Finding]) -> str:
    """« N erreur(s), M avertissement(s) »: the line scripts and tests read."""
    n_err = sum(f.severity is Severity.ERROR for f in findings)
    return f"{n_err} erreur(s), {len(findings) - n_err} avertissement(s)"


def render(findings: list[Finding], level: str = "lisible", base: str | None = None) -> list[str]:
    """The lines to print for ``findings`` (sorted, as the pipeline gives them) at ``level`` (see ``LEVELS``)."""
    if level not in LEVELS:
        raise ValueError(f"niveau de détail inconnu : {level!r}")
    if level == "detail":
        return [format_finding(f, base) for f in findings]
    if level == "resume":
        return summary(findings)
    errors = [f for f in findings if f.severity is Severity.ERROR]
    warnings = [f for f in findings if f.severity is not Severity.ERROR]
    if level == "silencieux":
        return _section(errors, base)
    out: list[str] = []
    for part in (_section(errors, base), _section(warnings, base), summary(findings)):
        if part:
            out.extend([*([""] if out else []), *part])
    return out


def summary(findings: list[Finding]) -> list[str]:
    """One line per code and severity, errors first: severity, count, code, and one example's message."""
    if not findings:
        return []
    counts = Counter((f.severity is not Severity.ERROR, f.code) for f in findings)
    first: dict[tuple[bool, str], Finding] = {}
    for f in findings:
        first.setdefault((f.severity is not Severity.ERROR, f.code), f)
    width = max(len(code) for _, code in counts)
    lines = ["Constats par code :"]
    for key in sorted(counts):
        f = first[key]
        head = f"  {SEVERITY_WORD[f.severity]:<13} {counts[key]:>4}  {f.code:<{width}}  "
        lines.append(_cut(head + f.message))
    return lines


def _cut(line: str, width: int = WIDTH) -> str:
    return line if len(line) <= width else line[: width - 1].rstrip() + "…"


def _section(findings: list[Finding], base: str | None) -> list[str]:
    """One severity's findings: grouped lines, then one table per code whose findings list values."""
    tabled = {f.code for f in findings if f.items}
    tabled -= {f.code for f in findings if not f.items}  # a code is a table when all its findings list values
    groups: dict[tuple, list[Finding]] = {}
    for i, f in enumerate(findings):
        if f.code not in tabled:
            groups.setdefault((f.code, f.subject) if f.subject else (i,), []).append(f)
    lines = [_grouped(g, base) for g in groups.values()]
    for code in sorted(tabled, key=lambda c: next(f.sort_key() for f in findings if f.code == c)):
        lines.extend(table([f for f in findings if f.code == code], base))
    return lines


def _where(f: Finding, first: Finding, base: str | None) -> str:
    """A location after the first one: « l.X » in the same file, else the file (from the first's folder) and line."""
    if f.loc.file == first.loc.file:
        return f"l.{f.loc.line}" if f.loc.line else "?"
    file = _display_path(f.loc.file, os.path.dirname(first.loc.file) or None)
    return f"{file}:{f.loc.line}" if f.loc.line else file


def _grouped(group: list[Finding], base: str | None) -> str:
    """One finding as ``format_finding`` writes it; several: the first, and « (+N autres : l.X, l.Y) »."""
    first = group[0]
    line = format_finding(first, base)
    if len(group) == 1:
        return line
    others = [_where(f, first, base) for f in group[1:]]
    shown = ", ".join(dict.fromkeys(others[:MAX_OTHERS])) + ("…" if len(others) > MAX_OTHERS else "")
    n = len(others)
    more = f" (+{n} {'autre' if n == 1 else 'autres'} : {shown})"
    tail = f" [{first.code}]"
    return line.removesuffix(tail) + more + tail


def table(findings: list[Finding], base: str | None, width: int = WIDTH) -> list[str]:
    """The findings of one code that list values, as one table: a row per subject, a column per value.

    The first line is a finding line (the first location, the count, what the values are, the code);
    the values every row lacks are named once; ✗ marks a value a row lists, · one it does not; a row
    gives its location as « l.X » in the file most rows are in (the first line's), file:line elsewhere.
    The letters of the columns are explained below the table.
    """
    files = Counter(f.loc.file for f in findings)
    first = next(f for f in findings if files[f.loc.file] == max(files.values()))  # rows say « l.X » in its file
    rows: dict[str, tuple[Finding, list[str]]] = {}
    for f in findings:
        subject = f.subject or f.message
        row = rows.setdefault(subject, (f, []))[1]
        row.extend(i for i in f.items if i not in row)
    count = Counter(i for _, items in rows.values() for i in items)
    order = {i: n for n, i in enumerate(dict.fromkeys(i for _, items in rows.values() for i in items))}
    values = sorted(count, key=lambda i: (-count[i], order[i]))
    everywhere = [i for i in values if count[i] == len(rows)] if len(rows) > 1 else []
    columns = [i for i in values if i not in everywhere]
    columns, beyond = columns[: len(KEYS)], columns[len(KEYS):]
    lines = [format_finding(replace(first, message=f"{len(findings)} × {_what(first)}"), base)]
    if everywhere:
        lines.extend(_wrap([f"partout ({len(everywhere)}) :", *(f"{v}," for v in everywhere[:-1]), everywhere[-1]],
                           width, sep=" "))
    locs = {s: _where(f, first, base) for s, (f, _) in rows.items()}
    loc_w = max(len(v) for v in locs.values())
    gap = " " if len(columns) <= DENSE else ""
    if columns:
        lines.append("  " + " " * loc_w + "  " + gap.join(KEYS[: len(columns)]))
    for subject, (_f, items) in rows.items():
        marks = gap.join("✗" if c in items else "·" for c in columns)
        lines.append(_cut(f"  {locs[subject]:<{loc_w}}  {marks}{'  ' if marks else ''}{subject}".rstrip(), width))
    lines.extend(_wrap([f"{KEYS[k]} {c}" for k, c in enumerate(columns)], width, sep="   "))
    if beyond:  # more values than letters: named, their rows in -v
        lines.extend(_wrap([f"et {len(beyond)} autre(s) valeur(s) (lignes : -v) :",
                            *(f"{v}," for v in beyond[:-1]), beyond[-1]], width, sep=" "))
    return lines


def _wrap(words: list[str], width: int, sep: str) -> list[str]:
    """``words`` joined by ``sep`` on indented lines of at most ``width`` characters (a word is never cut)."""
    lines, line = [], ""
    for word in words:
        if line and len(line) + len(sep) + len(word) > width:
            lines.append(line)
            line = ""
        line = f"{line}{sep}{word}" if line else f"  {word}"
    return [*lines, line] if line else lines


def _what(f: Finding) -> str:
    """What a table's values are: the first finding's message without its subject and its list of values."""
    msg = f.message
    if f.subject and msg.startswith(f.subject):
        msg = msg[len(f.subject):].lstrip(" :—")
    listed = ", ".join(f.items)
    if listed and msg.endswith(listed):
        msg = msg[: -len(listed)].rstrip(" :")
    return msg
