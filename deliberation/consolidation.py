"""Consolidated conventions of a programme's phase: each convention as amended so far (issue 22).

``build`` of a phase inside a programme writes, for each convention the programme has amended up to
and including this phase, ``actes/<structure>/convention-<numéro>-consolidee.docx``: the initial
convention with every adopted avenant applied (``render.consolidate``), and beside it
``…-consolidee-suivi.docx``, the same with tracked changes against the initial text.

The initial text is the convention a phase of the programme created (rendered again from that phase),
or, for a convention older than the programme, a Word file the programme holds as
``conventions/<numéro>.docx``; without either, a note says which conventions have no consolidated
version. Each avenant is rendered again from the phase that adopted it (this phase's from this build).
Earlier phases are checked as they are built: one that does not pass gives a note, not a wrong text.
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import replace
from pathlib import Path

from deliberation.findings import has_errors
from deliberation.ledger import ConventionHistory, Ledger, build_ledger
from deliberation.outcome import Checked
from deliberation.plan import slugify
from deliberation.resources import programme_root
from deliberation.settings import Settings

#: Where a programme keeps the initial text of a convention older than the programme.
INITIAL_TEXTS = "conventions"


def _folder(h: ConventionHistory) -> str:
    return slugify(h.nom, reserved_suffix="structure")


def _stem(h: ConventionHistory) -> str:
    return f"actes/{_folder(h)}/convention-{slugify(h.numero or h.cle)}-consolidee"


def _act_name(checked: Checked, structure: str, convention: str | None) -> str | None:
    """The bundle name of the act of ``structure`` on ``convention`` (None: its new convention)."""
    from deliberation.render.acts import act_paths  # render stage, imported by build only

    for act, path in zip(checked.acts, act_paths(checked.acts), strict=True):
        if act.structure_key != structure:
            continue
        if (convention is None and act.kind == "convention") or (act.kind == "avenant"
                                                                 and act.convention_key == convention):
            return f"{path}.docx"
    return None


def _render(checked: Checked, names: set[str], templates: Path) -> dict[str, bytes]:
    """Render only the named documents of a checked phase."""
    from deliberation.render.compiled import render_many
    from deliberation.render.documents import plan_documents

    jobs, _ = plan_documents(checked, templates)
    todo = [job for job in jobs if job.name in names]
    return dict(zip((j.name for j in todo), render_many([(j.template, j.context, j.when) for j in todo]),
                    strict=True))


def consolidated_conventions(settings: Settings, checked: Checked, files: dict[str, bytes], templates: Path,
                             when: dt.datetime, check_phase) -> tuple[dict[str, bytes], list[str]]:
    """The consolidated conventions (and their tracked-changes copies) of a phase; notes for those left out.

    ``files``: this build's documents (this phase's avenants); ``check_phase(settings)``: the pipeline's
    ``check``, for the earlier phases.
    """
    root = programme_root(settings.source)
    if root is None:
        return {}, []
    ledger: Ledger = build_ledger(root, settings.annexes, upto=settings.source)
    here = os.path.realpath(settings.source)
    phases = {p.nom: p for p in ledger.phases}
    checks: dict[str, Checked | None] = {}
    notes: list[str] = []

    def phase_checked(name: str) -> Checked | None:
        if name not in checks:
            entry = phases[name]
            if os.path.realpath(entry.root) == here:
                checks[name] = checked
            else:
                other = check_phase(replace(settings, source=Path(entry.root), out_dir=None))
                checks[name] = None if other.dossier is None or has_errors(other.findings) else other
        return checks[name]

    wanted: list[tuple[ConventionHistory, tuple, list]] = []  # (history, initial source, avenant sources)
    needed: dict[str, set[str]] = {}
    for h in ledger.conventions:
        if not h.avenants:
            continue
        label = f"{h.nom}, convention {h.numero or h.cle}"
        given = root / INITIAL_TEXTS / f"{h.numero}.docx" if h.numero else None
        if h.origine is None and not (given is not None and given.is_file()):
            where = f"{INITIAL_TEXTS}/{h.numero or '<numéro>'}.docx"
            notes.append(f"version consolidée non produite pour {label} : texte initial inconnu (convention antérieure "
                         f"au programme ; à déposer dans le programme sous {where})")
            continue
        sources = [(h.origine, None)] if h.origine else []
        sources += [(a.phase, h.cle) for a in h.avenants]
        missing = [p for p, _ in sources if phase_checked(p) is None]
        if missing:
            notes.append(f"version consolidée non produite pour {label} : la phase {missing[0]} ne passe pas le "
                         "contrôle")
            continue
        names = [(p, _act_name(phase_checked(p), h.structure, c)) for p, c in sources]
        if any(n is None for _, n in names):
            notes.append(f"version consolidée non produite pour {label} : acte introuvable dans sa phase")
            continue
        for p, n in names:
            needed.setdefault(p, set()).add(n)
        initial = ("given", given) if h.origine is None else ("phase", names[0])
        wanted.append((h, initial, names[1:] if h.origine else names))
    rendered: dict[str, dict[str, bytes]] = {}
    for p, names in needed.items():
        if phase_checked(p) is checked:
            rendered[p] = {n: files[n] for n in names if n in files}
        else:
            rendered[p] = _render(phase_checked(p), names, templates)
    from deliberation.bundle.consolidated import consolidated_redline  # redlines: python-docx
    from deliberation.render.consolidate import Applied, consolidate

    out: dict[str, bytes] = {}
    for h, (kind, source), avenants in wanted:
        initial = source.read_bytes() if kind == "given" else rendered[source[0]][source[1]]
        applied = [Applied(numero=a.numero, date=a.date, docx=rendered[p][n])
                   for a, (p, n) in zip(h.avenants, avenants, strict=True)]
        text = consolidate(initial, applied, templates)
        out[f"{_stem(h)}.docx"] = text
        out[f"{_stem(h)}-suivi.docx"] = consolidated_redline(initial, text, when)
    return out, notes

