"""The pipeline, top to bottom: load → amend → compute → validate → render → write.

Figures are computed before validation because declared figures are checked against them
(beancount's balance assertions); computing is pure and tolerant of invalid values.

The stages are also the order of the imports: a module imports from its own stage or an earlier one,
never from a later one, and never in a cycle (``STAGES``, checked by ``tests/test_imports.py``). What
renders and writes (python-docx, docxtpl, openpyxl, pypdf, LibreOffice's process pool) is imported by
``build`` only, so that ``check`` stays fast.
"""

from __future__ import annotations

import contextlib
import gc
import json
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace

from deliberation.acts import plan_acts
from deliberation.amend import apply_amendments
from deliberation.bundle.lock import build_lock, dossier_lock
from deliberation.bundle.write import check_output, recover, write_bundle
from deliberation.compute import compute
from deliberation.consolidation import consolidated_conventions
from deliberation.diff import SNAPSHOT, compare, compare_documents, snapshot
from deliberation.findings import BuildError, DeliberationError, Finding, Loc, error, has_errors, sort_findings, warning
from deliberation.fsio import JOURNAL, build_time, recover_files, sha256
from deliberation.ledger import within_programme
from deliberation.load import load_dispositifs, load_dossier
from deliberation.load.modeles import STATUTS_FILE, load_statuts
from deliberation.outcome import Built, Checked
from deliberation.resources import templates_dir
from deliberation.rules import DOSSIER, PDF, PdfInput, RuleInput
from deliberation.settings import Settings
from deliberation.validate import run_rules

#: Every module of the package by stage, in pipeline order (names relative to ``deliberation``; a package
#: stands for its modules). A module imports only from its own stage or an earlier one.
STAGES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("base", ("__init__", "findings", "messages", "fmt", "typo", "fsio", "resources", "settings", "schema", "model",
              "engine", "text", "mentions", "report", "readable", "outcome", "parallel")),  # helpers every stage uses
    ("load", ("load",)),
    ("amend", ("amend",)),
    ("compute", ("compute", "diff")),  # diff: figures as data, compared
    # rules, acts to sign, document plan, SCDL rows, the print check (rules on the converted PDFs)
    # the programme ledger (the phases before this one: registry, disponible)
    ("validate", ("acts", "plan", "rules", "opendata", "validate", "printcheck", "orthographe", "ledger")),
    ("render", ("render",)),
    ("write", ("bundle", "xlsx")),  # what follows rendering: PDF, bundle, history, workbooks
    ("pipeline", ("pipeline", "consolidation")),  # consolidation: a programme's conventions as amended
    ("commands", ("commands",)),
    ("web", ("web",)),  # serve: the workbench, above the commands it calls
    ("cli", ("cli", "clifr", "__main__")),
)


@contextlib.contextmanager
def no_cyclic_gc():
    """Python's cycle collector paused for the block (reference counting still frees memory).

    Loading a dossier makes hundreds of thousands of long-lived objects (nodes, records, locations):
    each allocation threshold reached ran a collection scanning them all again, a third of a cold
    ``check`` of 5 000 lines (issue 23). The block's cyclic garbage, if any, is collected afterwards
    as usual.
    """
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def check(settings: Settings) -> Checked:
    """Load, compute and validate a dossier; collect all findings (never raises on bad input)."""
    with no_cyclic_gc():
        return _check(settings)


def _check(settings: Settings) -> Checked:
    findings = _resume_import(settings.source)
    dossier, loaded = load_dossier(settings.source)
    if dossier is not None:  # a phase of a programme: its registry comes from the phases before it (issue 22)
        dossier, loaded = within_programme(dossier, loaded, settings.annexes)
    findings += loaded
    dispositifs, sheet_findings = load_dispositifs(*settings.catalogue_dirs())
    findings += sheet_findings
    if dossier is None:
        return Checked(None, None, dispositifs, sort_findings(findings))
    presented, presented_figures = dossier, compute(dossier)
    dossier, amend_findings, effects = apply_amendments(presented)  # the phase as adopted
    findings += amend_findings
    figures = compute(dossier) if effects else presented_figures
    acts = plan_acts(dossier, dispositifs)  # one avenant or convention per (structure, convention) pair
    templates = settings.templates or templates_dir()
    statuts, status_findings = load_statuts(templates)  # adopted texts or reconstructions
    findings += status_findings
    findings += run_rules(DOSSIER, RuleInput(dossier, figures, dispositifs, presented, presented_figures, effects,
                                             acts, final=settings.final, actes=settings.actes or settings.final,
                                             statuts=statuts, statuts_file=str(templates / STATUTS_FILE)))
    return Checked(dossier, figures, dispositifs, sort_findings(findings), acts, presented, presented_figures,
                   effects)


def _resume_import(source) -> list[Finding]:
    """Finish (or undo) an ``import-xlsx`` killed while writing the dossier, before reading it; say so.

    Only when its journal is there: otherwise no lock file is made for every folder ever checked.
    """
    if not os.path.lexists(os.path.join(source, JOURNAL)):
        return []
    where = Loc(os.path.join(str(source), JOURNAL))
    try:
        with dossier_lock(source, shared=True):  # never while the import is still writing
            done = recover_files(source)
    except DeliberationError as err:
        return [error("import.interrompu", f"import interrompu impossible à terminer : {err}", where)]
    return [warning("import.interrompu", done, where)] if done else []


def build(settings: Settings) -> Built:
    """Check, render, convert, compare with the previous bundle, then write it all at once (atomic swap).

    A dossier with errors (or warnings under ``strict``) writes nothing; under ``final`` a document
    with a blank is an error, and so is anything @ctes would reject (act number, objet, classification,
    transmitted PDFs unreadable, encrypted or over 150 Mo: ``rules.transmission``). When the
    output folder holds an earlier bundle, only the documents whose inputs changed are rendered and
    converted again (the others keep their bytes), the version number goes up, ``CHANGES.md`` says
    what changed and ``revisions/`` holds each changed Word document with tracked changes. If nothing
    changed, nothing is written.

    Raises:
        DeliberationError: a template, LibreOffice or the output folder stops the build, or another
            build holds the output folder (``bundle.lock``: it does not wait).

    """
    check_output(settings.out_dir, settings.source)  # never a folder the engine did not make, nor the dossier
    with contextlib.ExitStack() as resources:  # LibreOffice started ahead, if any, ends with the build
        resources.enter_context(dossier_lock(settings.source, shared=True))  # no import until the bundle is written
        office = _office(settings, resources)
        checked = check(settings)
        if checked.dossier is None or has_errors(checked.findings, settings.strict):
            return Built(checked)
        with build_lock(settings.out_dir):  # one build at a time per output folder, rendering included
            # a bundle left aside by a killed build is back before it is read
            recover(settings.out_dir, keep=office.root if office else None)
            return _render_and_write(settings, checked, office)


def _office(settings: Settings, resources: contextlib.ExitStack):
    """LibreOffice started while the dossier is checked and the documents rendered (PDF builds only).

    One process when the output folder holds a bundle with PDFs (a rebuild converts a few documents),
    ``settings.jobs`` otherwise; the plan then stops it if nothing is to convert, or starts more.
    """
    if not settings.pdf:
        return None
    from deliberation.bundle.pdf import Office  # LibreOffice's process pool (multiprocessing): PDF builds only

    opts = _convert_options(settings)
    if not opts.scratch.is_dir():
        return None  # the build says why it cannot write there
    again = (settings.out_dir / "bundle.pdf").is_file()
    try:
        return resources.enter_context(Office(1 if again else max(1, settings.jobs), opts))
    except BuildError:
        return None  # the folder cannot be written: the findings come first, the build says it later


def _convert_options(settings: Settings):
    """How this build converts: its PDF options, and a scratch folder the next build clears if killed."""
    from deliberation.bundle.pdf import ConvertOptions  # PDF builds only, as ``_office``

    out = settings.out_dir.absolute()
    return ConvertOptions(pdfa=settings.pdfa, jobs=settings.jobs, scratch=out.parent,
                          scratch_prefix=f".{out.name}.tmp-pdf-", progress=settings.progress)


def _render_and_write(settings: Settings, checked: Checked, office) -> Built:
    """The body of ``build`` once the dossier is valid and the output folder locked."""
    # render and write: here, not at the top, so that ``check`` never loads python-docx, docxtpl (render,
    # redline, history), openpyxl (the workbook), pypdf or the process pool (PDF, bundle)
    from deliberation.bundle.history import CHANGES, changelog, read_previous
    from deliberation.bundle.pack import signature_pack
    from deliberation.bundle.pdf import DOCUMENTS_PER_START
    from deliberation.bundle.publish import MANIFEST, manifest, publish_pdfs
    from deliberation.bundle.redline import REVISIONS, RedlineUnavailable, redlines
    from deliberation.render.documents import default_templates_dir, render_bundle
    from deliberation.render.register import (
        ACTES_PDF,
        REGISTRE_DOCX,
        REGISTRE_XLSX,
        register,
        register_docx,
        register_title,
    )
    from deliberation.xlsx.export import XLSX, workbook
    from deliberation.xlsx.register import register_workbook

    templates = settings.templates or default_templates_dir()
    previous = read_previous(settings.out_dir)
    options = {"pdf": settings.pdf, "pdfa": settings.pdfa, "strict": settings.strict, "final": settings.final}
    pdf_cache = previous.pdf_cache(options) if previous and settings.pdf else {}
    opts = _convert_options(settings) if settings.pdf else None

    def planned(changed: list[str], kept: dict[str, bytes]) -> None:
        """Before rendering: stop LibreOffice if nothing is to convert, start more if many documents are."""
        nonlocal opts
        if opts is None or office is None:
            return
        stale = len([n for n in changed if n.endswith(".docx")]) + len(
            [n for n, b in kept.items() if n.endswith(".docx") and (f"{n[:-5]}.pdf", sha256(b)) not in pdf_cache])
        if not stale:
            office.close()
            return
        office.start(min(settings.jobs, -(-stale // DOCUMENTS_PER_START)) - len(office.profiles))
        opts = replace(opts, office=office)

    d = checked.dossier
    files, keys = render_bundle(checked, templates, previous.documents() if previous else None, planned)
    files[SNAPSHOT] = (json.dumps(snapshot(d, checked.figures), ensure_ascii=False, indent=1, sort_keys=True)
                       + "\n").encode("utf-8")
    when = build_time(d.info.seance.date)
    entries, title = register(checked, templates), register_title(checked)  # the register of acts (issue 21)
    files[REGISTRE_XLSX] = register_workbook(entries, title, when)
    version = previous.version + 1 if previous else 1
    notes: list[str] = []
    # a phase of a programme: each convention as amended so far (issue 22), converted to PDF with the acts
    consolidated, notes_consolidation = consolidated_conventions(settings, checked, files, templates, when, check)
    files.update(consolidated)
    notes += notes_consolidation
    # redlines and LibreOffice run in other processes, started first; the workbook is built while the last
    # redlines finish (LibreOffice is driven from this thread, so that an interruption reaches it)
    with ThreadPoolExecutor(max_workers=1) as pool:
        word = {n: b for n, b in files.items() if n.endswith(".docx")}
        pairs = {n: (previous.files[n], b) for n, b in word.items()
                 if previous and n in previous.files and previous.files[n] != b}
        author = f"deliberation — version {version}"
        pending = pool.submit(redlines, pairs, author, when, settings.jobs)
        sources: dict[str, str] = {}
        if opts is not None:
            word_and_register = {**word, REGISTRE_DOCX: register_docx(entries, title, when)}
            pdfs, sources = publish_pdfs(checked, word_and_register, when, opts, templates, pdf_cache)
            files.update(pdfs)
            pack = signature_pack(entries, pdfs, when, f"Actes à signer — {title}")
            if pack is not None:
                files[ACTES_PDF] = pack
        files[XLSX] = workbook(d, checked.figures)
        try:
            revised = {f"{REVISIONS}/{n}": data for n, data in pending.result().items()}
        except RedlineUnavailable as err:
            revised = {f"{REVISIONS}/{n}": data for n, data in err.done.items()}
            notes.append(f"copies avec modifications suivies non produites pour {', '.join(err.missing)} : {err}")
    kinds = (".docx", ".xlsx")  # the documents a reader opens; CHANGES.md lists those that changed
    docs = compare_documents(previous.hashes(kinds) if previous else {},
                             {n: sha256(b) for n, b in files.items() if n.endswith(kinds)})
    if settings.pdf:  # the rules on the converted files (@ctes pre-flight, on demand), before any write
        pdf_findings = run_rules(PDF, PdfInput(d, files, settings.out_dir, actes=settings.actes or settings.final,
                                               final=settings.final))
        checked.findings = sort_findings(checked.findings + pdf_findings)
        if has_errors(pdf_findings, settings.strict):  # warnings (the print check) are reported, the bundle written
            return Built(checked)
    if previous is not None:
        old = {n: e.get("sha256") for n, e in previous.manifest.get("sorties", {}).items()
               if n not in (MANIFEST, CHANGES) and not n.startswith(f"{REVISIONS}/")}
        intact = all(n in previous.files for n in old)  # every earlier file still on disk, unaltered
        if intact and old == {n: sha256(b) for n, b in files.items()}:
            return Built(checked, {}, previous.version, unchanged=True, documents=docs)
    old_figures = previous.snapshot() if previous else None
    changes = compare(old_figures, snapshot(d, checked.figures)) if old_figures is not None else []
    files.update(revised)
    title = f"Délibération n°{d.info.deliberation.numero}" if d.info.deliberation else "Délibération"
    files[CHANGES] = changelog(previous.changelog() if previous else "", version, title,
                               changes if previous else None, docs, checked.effects, revised, notes)
    known = {e["sha256"]: e["pages"] for n, e in previous.manifest.get("sorties", {}).items()
             if n.endswith(".pdf") and isinstance(e, dict) and isinstance(e.get("pages"), int)} if previous else {}
    files[MANIFEST] = manifest(checked, files, options, templates, when, version, keys, sources, known)
    same = {n for n, data in files.items() if previous is not None and previous.files.get(n) == data}
    write_bundle(settings.out_dir, files, same)
    return Built(checked, files, version, changes=changes, documents=docs, notes=notes)
