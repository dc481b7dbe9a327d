"""What each command does, one function per command.

``check`` (and ``--liste-regles``), ``figures``, ``build``, ``ledger``, ``diff``, ``explain``, ``export scdl``,
``import-xlsx``, ``schema``. The command line (``cli``) turns options into ``Settings``, calls one of
these functions and prints what it returns; here each command puts the pipeline and the stages
together. A command that cannot go on raises ``Stop`` with what to show and the exit code; a template,
LibreOffice or a refused write raises ``DeliberationError``. No stage imports this module.

The rendering modules (python-docx, docxtpl) are imported inside the commands that render (``diff``,
``explain``), so that ``check`` and ``figures`` never load them.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from deliberation import pipeline
from deliberation.acts import plan_acts
from deliberation.bundle.lock import dossier_lock
from deliberation.compute import figures_to_data
from deliberation.diff import Change, Documents, compare, compare_documents, snapshot
from deliberation.findings import DeliberationError, Finding, Loc, Severity, error, has_errors, warning
from deliberation.fsio import folder_refusal, recover_files, write_file, write_files, write_new_folder
from deliberation.ledger import build_ledger, ledger_tables, ledger_to_data, programme_state
from deliberation.model import Amendements, Budget, Dispositif, PhaseInfo, ProgrammeInfo, Registre, Thematique
from deliberation.opendata import ScdlExport, scdl_lines, scdl_rows, to_csv
from deliberation.outcome import Built, Checked
from deliberation.report import _table, figures_table
from deliberation.resources import PROGRAMME_FILE, programme_root
from deliberation.rules import SCDL, STAGES, ScdlInput
from deliberation.schema import schema_doc
from deliberation.settings import Settings
from deliberation.validate import rules, run_rules

if TYPE_CHECKING:  # annotations only: loading it loads docxtpl (see ``_side``)
    from deliberation.bundle.history import Previous
    from deliberation.xlsx.apply import Imported
    from deliberation.xlsx.scaffold import Started


class Stop(Exception):
    """A command cannot go on: the findings to report first (None: no report), a message, the exit code."""

    def __init__(self, code: int, message: str | None = None, findings: list[Finding] | None = None):
        super().__init__(message or "")
        self.code = code
        self.message = message
        self.findings = findings


# ---------------------------------------------------------------------------
# check, figures, build


def check(settings: Settings) -> Checked:
    """Load, compute and validate a dossier: every finding (``pipeline.check``)."""
    return pipeline.check(settings)


def list_rules() -> str:
    """Every registered rule, in the order they run: stage, name, severities, when, codes (French headers)."""
    severity = {Severity.ERROR: "erreur", Severity.WARNING: "avertissement"}
    rows = [[STAGES[r.stage], r.name, ", ".join(severity[s] for s in r.severities),
             "--actes, --final" if r.on_demand else "toujours", ", ".join(r.codes)]
            for stage in STAGES for r in rules(stage)]
    head = f"Règles de contrôle ({len(rows)}), dans l'ordre où elles s'appliquent :\n\n"
    table = _table(["étape", "règle", "gravité", "quand", "codes"], rows, right=set())
    return head + "\n".join(line.rstrip() for line in table.split("\n"))


def figures(settings: Settings, as_json: bool = False, lines: bool = True) -> tuple[str, int]:
    """The computed figures as tables (or JSON), and the number of errors in the dossier.

    ``lines``: the tables start with every funding line (JSON always has them).

    Raises:
        Stop: the dossier cannot be read (its findings; exit 1).

    """
    checked = pipeline.check(settings)
    if checked.dossier is None:
        raise Stop(1, findings=checked.findings)
    data = figures_to_data(checked.dossier, checked.figures)
    text = json.dumps(data, ensure_ascii=False, indent=2) if as_json else figures_table(data, lines)
    return text, sum(f.severity is Severity.ERROR for f in checked.findings)


def build(settings: Settings) -> Built:
    """Check, render, convert and write the bundle (``pipeline.build``)."""
    return pipeline.build(settings)


#: What ``ledger -o`` writes: the only files it may replace in its output folder.
LEDGER_OUTPUTS = ("programme.xlsx", "programme.docx", "programme.pdf")


def ledger(root: Path, annexes: tuple, as_json: bool = False, out: Path | None = None,
           pdf: bool = True) -> tuple[str, list[Finding], list[str]]:
    """The programme's ledger as tables (or JSON), its findings, and the files written into ``out`` (issue 22).

    With ``out``, and no error: ``programme.xlsx``, ``programme.docx`` and (``pdf``) ``programme.pdf`` are
    written there all together (``fsio.write_files``). A folder holding anything else is refused, nothing
    written: the command replaces only what it wrote.

    Raises:
        Stop: ``root`` is not a programme (no ``programme.yaml``: exit 2); ``out`` is refused (exit 3).
        DeliberationError: LibreOffice or the system refused (nothing written).

    """
    result = build_ledger(root, annexes)
    if any(f.code == "programme.introuvable" for f in result.findings):
        raise Stop(2, findings=result.findings)
    text = (json.dumps(ledger_to_data(result), ensure_ascii=False, indent=2) + "\n" if as_json
            else ledger_tables(result))
    written: list[str] = []
    if out is not None and not has_errors(result.findings):
        if out.exists() and not out.is_dir():
            raise Stop(3, f"sortie refusée : {out} n'est pas un dossier ; rien n'a été écrit")
        others = sorted(p.name for p in out.iterdir() if p.name not in LEDGER_OUTPUTS
                        and not p.name.startswith(".")) if out.is_dir() else []
        if others:
            raise Stop(3, f"sortie refusée : {out} contient d'autres fichiers que ceux du grand livre "
                          f"({', '.join(others[:3])}{'…' if len(others) > 3 else ''}) ; rien n'a été écrit")
        from deliberation.bundle.programme import write_programme_outputs  # openpyxl, python-docx, LibreOffice

        files = write_programme_outputs(result, out, pdf=pdf)
        try:
            out.mkdir(parents=True, exist_ok=True)
        except OSError as err:
            raise Stop(3, f"sortie refusée : {out} ne peut être créé ({err.strerror}) ; rien n'a été écrit") from err
        write_files(out, files)
        written = sorted(files)
    return text, result.findings, written


# ---------------------------------------------------------------------------
# explain


def explain(settings: Settings, structure: str) -> list[str]:
    """The review sheets of one structure's avenants and conventions (by registry key or name).

    Raises:
        Stop: the dossier cannot be read (its findings; exit 1), or no act for ``structure`` (exit 2).
        DeliberationError: a clause text or template stops rendering.

    """
    from deliberation.render.acts import explain as explain_acts  # Jinja and docxtpl: not for ``check``

    checked = pipeline.check(settings)
    if checked.dossier is None:
        raise Stop(1, findings=checked.findings)
    texts = explain_acts(checked, structure)
    if not texts:
        known = sorted({a.structure_key for a in checked.acts})
        raise Stop(2, f"aucun avenant ni convention pour « {structure} » ; structures de la phase : {', '.join(known)}")
    return texts


# ---------------------------------------------------------------------------
# diff: two dossiers, two bundles, or a dossier before and after its amendments


@dataclass
class Side:
    """One side of a comparison: a checked dossier or a built bundle."""

    label: str
    figures: dict | None = None  # snapshot
    checked: Checked | None = None  # for a dossier
    bundle: Previous | None = None  # for a bundle


def presented_side(checked: Checked) -> Side:
    """The dossier as presented (before amendments), as a checked dossier of its own."""
    d, fig = checked.presented, checked.presented_figures
    before = Checked(d, fig, checked.dispositifs, [], plan_acts(d, checked.dispositifs), d, fig, [])
    return Side("présenté", snapshot(d, fig), checked=before)


def dossier_side(checked: Checked, label: str) -> Side:
    """A checked dossier (as adopted)."""
    return Side(label, snapshot(checked.dossier, checked.figures), checked=checked)


def bundle_side(bundle: Previous, label: str) -> Side:
    """A built bundle (its ``chiffres.json`` and manifest)."""
    return Side(label, bundle.snapshot(), bundle=bundle)


def _side(path: Path, label: str) -> tuple[Side, Checked | None]:
    """A folder as one side: a bundle (``manifest.json`` without ``phase.yaml``), else a dossier, checked.

    Raises:
        Stop: an unreadable bundle, or a dossier with errors (exit 1).

    """
    if (path / "manifest.json").is_file() and not (path / "phase.yaml").exists():
        from deliberation.bundle.history import read_previous  # with the redlines: docxtpl, not for ``check``

        bundle = read_previous(path)
        if bundle is None or bundle.snapshot() is None:
            raise Stop(1, f"ERREUR : {path} : dossier produit illisible (manifest.json ou chiffres.json)")
        return bundle_side(bundle, label), None
    checked = pipeline.check(Settings(source=path))
    if checked.dossier is None or has_errors(checked.findings):
        raise Stop(1, f"comparaison impossible : {path} contient des erreurs",
                   [f for f in checked.findings if f.severity is Severity.ERROR])
    return dossier_side(checked, label), checked


def _docx_hashes(side: Side, other: Side, templates: Path | None) -> dict[str, str]:
    """Content hashes of one side's Word documents; a dossier renders only what the other side cannot give."""
    from deliberation.render.documents import render_bundle  # python-docx, docxtpl: not for ``check``

    if side.bundle is not None:
        return side.bundle.hashes()
    reuse = other.bundle.documents() if other.bundle is not None else None
    files, _ = render_bundle(side.checked, templates, reuse)
    return {n: hashlib.sha256(b).hexdigest() for n, b in files.items() if n.endswith(".docx")}


def compare_sides(old: Side, new: Side, templates: Path | None = None) -> tuple[list[Change], Documents]:
    """Changed figures and documents from ``old`` to ``new``.

    Two dossiers are compared by rendering only the documents whose fingerprints differ (the same
    fingerprint means the same bytes); a dossier and a bundle by rendering the dossier, reusing the
    bundle's documents where their fingerprints match.

    Raises:
        DeliberationError: a template stops rendering.

    """
    from deliberation.render.compiled import render_many  # python-docx, docxtpl: not for ``check``
    from deliberation.render.documents import plan_documents

    changes = compare(old.figures or {}, new.figures or {})
    if old.checked is not None and new.checked is not None:
        a, _ = plan_documents(old.checked, templates)
        b, _ = plan_documents(new.checked, templates)
        ja, jb = {j.name: j for j in a}, {j.name: j for j in b}
        ha, hb = {}, {}
        differ = sorted(n for n in ja.keys() & jb.keys() if ja[n].key != jb[n].key)
        for name in ja.keys() & jb.keys():
            ha[name] = hb[name] = ja[name].key
        for side, jobs in ((ha, ja), (hb, jb)):
            docs = render_many([(jobs[n].template, jobs[n].context, jobs[n].when) for n in differ])
            side.update({n: hashlib.sha256(d).hexdigest() for n, d in zip(differ, docs, strict=True)})
        ha.update({n: "" for n in ja.keys() - jb.keys()})
        hb.update({n: "" for n in jb.keys() - ja.keys()})
        return changes, compare_documents(ha, hb)
    return changes, compare_documents(_docx_hashes(old, new, templates), _docx_hashes(new, old, templates))


def diff(old: Path, new: Path | None) -> tuple[list[Change], Documents]:
    """Changed figures and documents between two versions (dossiers or bundles).

    With ``new`` None, ``old`` is a dossier compared as presented and as adopted (its amendments).

    Raises:
        Stop: a side cannot be compared (exit 1), or a dossier without adopted amendment (exit 0, or 2
            when ``old`` is a bundle).
        DeliberationError: a template stops rendering.

    """
    if new is None:
        after, checked = _side(old, "adopté")
        if checked is None or not checked.effects:
            raise Stop(2 if checked is None else 0, f"{old} : aucun amendement adopté, rien à comparer")
        before = presented_side(checked)
    else:
        before, _ = _side(old, str(old))
        after, _ = _side(new, str(new))
    return compare_sides(before, after)


# ---------------------------------------------------------------------------
# export scdl


def export_scdl(settings: Settings, draft: bool = False) -> ScdlExport:
    """Check the dossier, then build its SCDL CSV.

    A dossier with errors exports nothing. SCDL findings (the ``SCDL`` rules: a missing SIRET…) block
    the export too, unless ``draft``: the CSV is then produced with those values empty and the findings
    become warnings.
    """
    checked = pipeline.check(settings)
    if checked.dossier is None or has_errors(checked.findings):
        return ScdlExport(checked)
    lines = scdl_lines(checked)
    findings = run_rules(SCDL, ScdlInput(checked.dossier, lines))
    rows = scdl_rows(lines)
    if has_errors(findings) and not draft:
        return ScdlExport(checked, rows, findings)
    findings = [Finding(f.code, Severity.WARNING, f.message, f.loc) for f in findings]
    return ScdlExport(checked, rows, findings, to_csv(rows))


def write_export(path: Path, data: bytes) -> None:
    """Replace ``path`` with ``data`` at once (``fsio.write_file``: no folder, device, pipe or link).

    Raises:
        DeliberationError: the file cannot be written.

    """
    write_file(path, data)


# ---------------------------------------------------------------------------
# import-xlsx


def import_xlsx(workbooks: list[Path], dossier: Path, mapping: Path | None = None,
                dry_run: bool = False) -> Imported:
    """Read workbooks and update the dossier's YAML files, all or nothing; nothing is written if anything is wrong.

    The workbooks are read first; then, holding the dossier's lock (``dossier_lock``: exclusive, so that
    a build of the dossier in progress refuses the import at once; shared for a dry run, which may run
    beside a build but waits for another import), an interrupted earlier import is completed
    (``fsio.recover_files``, said in ``notes``), the dossier is read, updated and its changed files are
    replaced together (``fsio.write_files``: a kill at any moment leaves the old set or the new one).
    The dossier is checked before and after (a dry run checks a temporary copy, removed even on error).

    Args:
        workbooks: ``.xlsx`` files (annexe 4 and/or budget situation), as the user named them.
        dossier: the dossier folder.
        mapping: a declared column mapping (``--colonnes``), or None.
        dry_run: report what would change, write nothing.

    Returns:
        The findings (errors mean nothing was written), the values changed, the files written, the
        figures changed and the dossier's own findings after the import.

    Raises:
        DeliberationError: the dossier is locked by a build or another import (``DossierLocked``), or
            the system refused a write (``WriteError``: disk full, read-only; the dossier is unchanged).

    """
    from deliberation.xlsx.apply import Imported, apply_tables, dry_run_copy, read_workbooks  # openpyxl

    result = Imported(dry_run=dry_run)
    if not dossier.is_dir():
        result.findings.append(error("dossier.introuvable", f"dossier introuvable : {dossier}", Loc(str(dossier))))
        return result
    read = read_workbooks(workbooks, mapping, result)  # before the lock: reading does not touch the dossier
    with dossier_lock(dossier, shared=dry_run):  # a dry run writes nothing: it may run beside a build
        note = recover_files(dossier)
        if note is not None:
            result.notes.append(note)
        files = apply_tables(read, dossier, result)
        if result.failed:
            return result
        before = pipeline.check(Settings(source=dossier))
        if not files:
            after = before
        elif dry_run:
            with dry_run_copy(dossier, files) as copy:
                after = pipeline.check(Settings(source=copy))
        else:
            write_files(dossier, files)
            result.written = list(files)
            after = pipeline.check(Settings(source=dossier))
        result.after = after.findings
        if before.presented is not None and after.presented is not None:
            result.changes = compare(snapshot(before.presented, before.presented_figures),
                                     snapshot(after.presented, after.presented_figures))
    return result


def recover_import(dossier: Path) -> None:
    """After an interrupted import (Ctrl-C, SIGTERM): finish or undo what was being written, if possible."""
    with contextlib.suppress(DeliberationError, OSError), dossier_lock(dossier, shared=False):
        recover_files(dossier)


# ---------------------------------------------------------------------------
# init: a new phase folder from the workbooks


def init_dossier(dossier: Path, annexe: Path, situation: Path | None = None, registre: Path | None = None,
                 mapping: Path | None = None) -> Started:
    """Create the phase folder ``dossier`` from an annexe 4 workbook, all or nothing (``xlsx.scaffold``).

    Everything is read and checked before anything is written: the workbooks (``xlsx.reading``, as
    ``import-xlsx`` reads them), the registry, the target (absent or empty). The files are then written
    into a hidden folder renamed to ``dossier`` (``fsio.write_new_folder``), which is checked.

    Args:
        dossier: the folder to create (absent, or empty).
        annexe: the annexe 4 workbook (``--depuis``).
        situation: a budget-situation workbook (``--situation``): AE, disponible… of the codes used.
        registre: a previous phase's ``structures.yaml`` (``--registre``), copied.
        mapping: a declared column mapping (``--colonnes``), or None.

    Returns:
        The findings (an error: nothing written), the files written and ``check`` of the new folder.

    Raises:
        DeliberationError: the system refused a write (``WriteError``); nothing is left behind.

    """
    from deliberation.xlsx.reading import ANNEXE4, BUDGET, read_mapping, read_workbook  # openpyxl
    from deliberation.xlsx.scaffold import Registry, Started, collect, derived_registry, read_registry
    from deliberation.xlsx.scaffold import files as scaffold_files

    result = Started()
    why = folder_refusal(dossier)
    if why is not None:
        result.findings.append(error("init.dossier", f"création refusée : {why} ; rien n'a été écrit "
                                     "(choisissez un dossier absent ou vide)", Loc(str(dossier))))
    mappings: dict[str, dict[str, str]] = {}
    if mapping is not None:
        mappings, f = read_mapping(mapping)
        result.findings += f
    books = [(annexe, ANNEXE4, "init.annexe4", "d'annexe 4 (colonnes « Ligne » et « Montant »)")]
    if situation is not None:
        books.append((situation, BUDGET, "init.situation", "de situation budgétaire (colonnes « Code opération » "
                      "et « Disponible »)"))
    tables: dict[str, list] = {}
    for path, kind, code, what in books:
        read, f = read_workbook(path, str(path), mappings)
        result.findings += f
        tables[kind] = read
        if not any(t.kind == kind for t in read) and not any(x.loc.file.startswith(str(path)) for x in f):
            sheets = ", ".join(f"« {t.sheet} »" for t in read)
            result.findings.append(error(code, f"aucune feuille {what} dans ce classeur (feuilles reconnues : "
                                         f"{sheets or 'aucune'})", Loc(str(path))))
    reg = Registry()
    prog = None
    root = programme_root(dossier)
    if root is not None:
        state, prog = _programme_start(root, dossier, registre, result)
        reg = derived_registry(state.structures, f"{root / 'structures.yaml'}")
    elif registre is not None:
        found, f = read_registry(registre)
        result.findings += f
        reg = found or reg
    if result.failed:
        return result
    sc = collect(tables[ANNEXE4], tables.get(BUDGET, []))
    result.findings += sc.findings
    if not sc.failed and not sc.thematiques:
        result.findings.append(error("init.vide", "aucune ligne dans l'annexe 4 : rien à créer", Loc(str(annexe))))
    if result.failed:
        return result
    files = scaffold_files(sc, reg, annexe.name, situation.name if situation is not None else None, prog)
    write_new_folder(dossier, files)
    result.written = sorted(files)
    result.thematiques, result.lignes = len(sc.thematiques), len(sc.lignes())
    result.operations = sum(len(ops) for ops in sc.thematiques.values())
    result.budget = len(sc.budget_order)
    result.after = pipeline.check(Settings(source=dossier)).findings
    if prog is not None:
        new = "structures.yaml" in files
        result.notes.insert(0, f"Programme {root} : registre et disponibles laissés par {prog.last or 'aucune phase'}"
                            + (" ; structures.yaml ne liste que les structures nouvelles dans le programme" if new else
                               " ; toutes les structures citées sont connues du programme (pas de structures.yaml)"))
    return result


def _programme_start(root: Path, dossier: Path, registre: Path | None, result: Started):
    """``init`` inside a programme: the state its phases leave, as the scaffold uses it (issue 22)."""
    from deliberation.xlsx.scaffold import Programme

    state = programme_state(root, Settings(source=dossier).annexes, before=dossier.name)
    if registre is not None:
        result.findings.append(error("init.registre", f"{dossier} est une phase du programme {root} : son registre "
                                     "est celui du programme, déduit des phases précédentes ; --registre ne "
                                     "s'emploie pas", Loc(str(registre))))
    for f in state.findings:
        if f.code == "programme.phase_precedente" and state.complete:
            result.findings.append(warning("init.programme", f"{f.message} ; la nouvelle phase en reprend le "
                                           "registre et les disponibles", f.loc))
        elif f.code != "programme.phase":  # a listed phase not there yet (this one?): check says so
            result.findings.append(f)
    if not state.complete:
        result.findings.append(error("init.programme", "le programme ne se rejoue pas jusqu'au bout : le registre "
                                     "et les disponibles de la nouvelle phase seraient faux (corrigez la phase "
                                     "illisible ci-dessus)", Loc(str(root / PROGRAMME_FILE))))
    last = state.last
    budget = {code: {"ae": step.ae, "apres": step.apres, "imputation": step.imputation, "libelle": step.libelle,
                     "phase": step.phase} for code, step in state.after.items()}
    prog = Programme(annee=state.info.annee if state.info else None, last=last.nom if last else None,
                     numero=(last.numero + 1 if last.numero is not None else None) if last else 1, budget=budget)
    listed = state.info.phases if state.info is not None else None
    if listed and dossier.name not in listed:
        names = ", ".join([*listed, dossier.name])
        result.notes.append(f"À faire : {root / PROGRAMME_FILE} liste ses phases sans « {dossier.name} » ; ajoutez-la "
                            f"à sa place dans l'ordre des séances (« phases: [{names}] »). init ne modifie pas ce "
                            f"fichier ; d'ici là, check de {dossier.name} signale programme.phase et ne déduit pas "
                            "son registre.")
    return state, prog

# an adopted amendment recorded (serve's form)

AMENDEMENTS = "amendements.yaml"
_AMENDEMENTS_HEAD = "# Amendements adoptés en séance, appliqués dans l'ordre sur le dossier (deliberation serve).\n"


@dataclass
class Recorded:
    """An amendment recorded: its number, the findings it brought (errors: nothing written), written or not."""

    numero: int = 0
    findings: list[Finding] | None = None
    written: bool = False


def record_amendment(dossier: Path, date: str, objet: str, cible: str, cle: str, montant: str | None = None,
                     retrait: bool = False, convention: str | None = None) -> Recorded:
    """Append an adopted amendment to ``amendements.yaml``, comments and order kept, checked, all or nothing.

    The file is edited in round-trip mode (``xlsx.yamledit``); the dossier with the new file is checked in a
    temporary copy first, and only when the amendment brings no error is the file replaced
    (``fsio.write_files``, under the dossier's lock: refused while a build reads it), as ``import-xlsx`` does.

    Args:
        dossier: the dossier folder.
        date: the amendment's date, as written (« 09/12/2024 »).
        objet: its object.
        cible: ``ligne``, ``operation`` or ``structure``.
        cle: the target (a line id, « 1.2 », a structure key).
        montant: the new amount, as written (« 70 000,00 »), or None.
        retrait: withdraw the target instead.
        convention: with ``structure``, the convention whose amount changes.

    Raises:
        DeliberationError: the dossier is locked, or the write was refused.

    """
    from ruamel.yaml.comments import CommentedMap, CommentedSeq
    from ruamel.yaml.scalarstring import DoubleQuotedScalarString

    from deliberation.xlsx.apply import dry_run_copy
    from deliberation.xlsx.reading import rt_yaml

    path = dossier / AMENDEMENTS
    text = path.read_text(encoding="utf-8") if path.is_file() else _AMENDEMENTS_HEAD + "amendements: []\n"
    data = rt_yaml().load(text)
    items = data.get("amendements") if isinstance(data, dict) else None
    if not isinstance(items, list) or not items:
        items = CommentedSeq()
        data["amendements"] = items
    numeros = [int(str(a.get("numero"))) for a in items if isinstance(a, dict) and str(a.get("numero", "")).isdigit()]
    numero = max(numeros, default=0) + 1
    change = CommentedMap()
    change[cible] = cle
    if cible == "structure" and convention:
        change["convention"] = convention
    if retrait:
        change["retrait"] = "oui"
    else:
        change["montant"] = DoubleQuotedScalarString(montant or "")
    entry = CommentedMap()
    entry["numero"] = str(numero)
    entry["date"] = date
    entry["objet"] = DoubleQuotedScalarString(objet)
    entry["modifications"] = CommentedSeq([change])
    items.append(entry)
    buf = io.StringIO()
    rt_yaml().dump(data, buf)
    files = {AMENDEMENTS: buf.getvalue().encode("utf-8")}
    out = Recorded(numero)
    with dossier_lock(dossier, shared=False):
        before = {str(f) for f in pipeline.check(Settings(source=dossier)).findings}
        with dry_run_copy(dossier, files) as copy:
            after = pipeline.check(Settings(source=copy)).findings
        root = str(copy)
        new = [f for f in after if str(f).replace(root, str(dossier)) not in before]
        out.findings = [replace(f, loc=f.loc._replace(file=f.loc.file.replace(root, str(dossier)))) for f in new]
        if has_errors(out.findings):
            return out
        write_files(dossier, files)
        out.written = True
    return out


# ---------------------------------------------------------------------------
# schema

#: The files of a dossier and the model class each one holds, as ``schema`` lists them.
SCHEMA_FILES = (
    ("phase.yaml", PhaseInfo), ("budget.yaml", Budget), ("structures.yaml", Registre),
    ("thematiques/*.yaml (une thématique par fichier)", Thematique),
    ("amendements.yaml (facultatif : amendements adoptés en séance, appliqués sur le dossier)", Amendements),
    ("annexes/dispositifs/*.md (en-tête YAML des fiches)", Dispositif),
    ("programme.yaml (un programme : une année d'appel à projets, un dossier par phase ; à côté, structures.yaml "
     "est le registre du début d'année, et le structures.yaml d'une phase n'ajoute que ce qu'elle apprend)",
     ProgrammeInfo),
)


def schema() -> list[str]:
    """The dossier's format, file by file, drawn from the model's declarations (one Markdown block each)."""
    return [f"## {title}\n\n{schema_doc(cls)}\n" for title, cls in SCHEMA_FILES]
