"""Findings: what the engine reports about a dossier, as values (never exceptions).

A finding has a code (``domain.subject``), a severity, a French message saying what was
expected, what was found and the gap, and the location of the offending value.
"""

from __future__ import annotations

import enum
import json
import os
from dataclasses import dataclass
from typing import NamedTuple


class Loc(NamedTuple):
    """Where a value comes from: file, 1-based line, and a path inside the file.

    A named tuple: immutable, ordered by file then line, and quick to pickle (the parse cache holds
    one per value of the dossier).
    """

    file: str
    line: int = 0
    path: str = ""

    def __str__(self) -> str:
        return f"{self.file}:{self.line}" if self.line else self.file


class Severity(enum.Enum):
    """How serious a finding is."""

    ERROR = "ERROR"
    WARNING = "WARNING"


@dataclass(frozen=True, slots=True)
class Finding:
    """One problem found in a dossier."""

    code: str
    severity: Severity
    message: str
    loc: Loc
    subject: str = ""  # what the finding is about (an act, a line…): findings of one code on one subject group
    items: tuple[str, ...] = ()  # the values the message lists (an act's missing values): shown as a table

    def sort_key(self) -> tuple:
        """Order findings by file, line, then code and message (deterministic output)."""
        return (self.loc.file, self.loc.line, self.code, self.message)


def error(code: str, message: str, loc: Loc, subject: str = "", items: tuple[str, ...] = ()) -> Finding:
    """Build an ERROR finding (``subject`` and ``items``: see ``Finding``)."""
    return Finding(code, Severity.ERROR, message, loc, subject, tuple(items))


def warning(code: str, message: str, loc: Loc, subject: str = "", items: tuple[str, ...] = ()) -> Finding:
    """Build a WARNING finding (``subject`` and ``items``: see ``Finding``)."""
    return Finding(code, Severity.WARNING, message, loc, subject, tuple(items))


def sort_findings(findings: list[Finding]) -> list[Finding]:
    """Return findings sorted and without exact duplicates."""
    seen: set[tuple] = set()
    out = []
    for f in sorted(findings, key=Finding.sort_key):
        key = (f.code, f.severity, f.message, f.loc)
        if key not in seen:
            seen.add(key)
            out.append(f)
    return out


def _display_path(path: str, base: str | None) -> str:
    if base:
        try:
            rel = os.path.relpath(path, base)
        except ValueError:
            return path
        if not rel.startswith(".."):
            return rel
    return path


def format_finding(f: Finding, base: str | None = None) -> str:
    """Format as ``path:line: SEVERITY: message [code]``."""
    file = _display_path(f.loc.file, base)
    where = f"{file}:{f.loc.line}" if f.loc.line else file
    return f"{where}: {f.severity.value}: {f.message} [{f.code}]"


def findings_to_json(findings: list[Finding], base: str | None = None) -> str:
    """Serialise findings as ``{"findings": [...]}``, sorted, one key order."""
    data = {
        "findings": [
            {
                "code": f.code,
                "severity": f.severity.value,
                "message": f.message,
                "file": _display_path(f.loc.file, base),
                "line": f.loc.line,
                "path": f.loc.path,
            }
            for f in findings
        ]
    }
    return json.dumps(data, ensure_ascii=False, indent=2, sort_keys=True)


def has_errors(findings: list[Finding], strict: bool = False) -> bool:
    """True when findings block a build: errors, or any finding under ``strict``."""
    return any(f.severity is Severity.ERROR or strict for f in findings)


class DeliberationError(Exception):
    """A condition that stops a build (unreadable template, failed write...)."""

    category = "build"


class TemplateError(DeliberationError):
    """A template is missing or broken."""

    category = "template"


class BuildError(DeliberationError):
    """Rendering or writing failed."""

    category = "build"
