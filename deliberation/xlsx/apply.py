"""Applying the tables read from workbooks to a dossier (``import-xlsx``): what changes, and the files to write.

The values that differ from the dossier are written into ``thematiques/*.yaml`` and ``budget.yaml``
(``yamledit``); one error and nothing is written. The command (``commands.import_xlsx``) replaces the
changed files all together (``fsio.write_files``) under the dossier's lock
(``bundle.lock.dossier_lock``), which a build holds shared; a dry run works on a copy of the dossier.
"""

from __future__ import annotations

import contextlib
import difflib
import os
import re
import shutil
import stat
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from ruamel.yaml.comments import CommentedMap

from deliberation.diff import Change
from deliberation.diff import table as changes_table
from deliberation.findings import Finding, Loc, Severity, error, warning
from deliberation.fsio import refuse_reason
from deliberation.load import AMENDEMENTS_FILE
from deliberation.load.yaml import is_inside
from deliberation.xlsx.layout import (
    ANNEXE4_COLUMNS,
    normalise,
)
from deliberation.xlsx.reading import (
    ANNEXE4,
    BUDGET,
    BUDGET_FIELDS,
    KIND_NAMES,
    LIGNE_PATHS,
    NEW_LIGNE_REQUIRED,
    Table,
    Value,
    cell_loc,
    cell_text,
    column_of,
    convert,
    read_mapping,
    read_workbook,
    typed_row,
)
from deliberation.xlsx.yamledit import (
    LIGNE_ORDER,
    Docs,
    Edit,
    flow,
    insert_key,
    load_docs,
    parse_old,
    same,
    show,
    styled,
)

# ---------------------------------------------------------------------------
# applying the tables to the dossier


@dataclass
class Imported:
    """What an import found and did."""

    findings: list[Finding] = field(default_factory=list)
    edits: list[Edit] = field(default_factory=list)
    added: list[str] = field(default_factory=list)  # new ligne ids
    ignored_codes: list[str] = field(default_factory=list)  # budget codes the phase does not use
    sheets: list[str] = field(default_factory=list)  # « Annexe 4 » (annexe 4, 27 lignes)
    ignored_headers: list[str] = field(default_factory=list)
    written: list[str] = field(default_factory=list)  # files written (relative to the dossier)
    changes: list[Change] = field(default_factory=list)  # figures before → after
    after: list[Finding] | None = None  # the dossier's findings after the import (``check``)
    dry_run: bool = False
    notes: list[str] = field(default_factory=list)  # what was done before the import (an earlier one completed)

    @property
    def failed(self) -> bool:
        """True when an error stopped the import (nothing written)."""
        return any(f.severity is Severity.ERROR for f in self.findings)

    def summary(self) -> str:
        """The import in a few lines: sheets read, values changed (before → after), figures, check."""
        out = [f"Feuilles lues : {', '.join(self.sheets) or 'aucune'}"]
        if self.ignored_headers:
            out.append(f"Colonnes ignorées : {', '.join(self.ignored_headers)}")
        out.append(f"Valeurs modifiées ({len(self.edits)}) :" + ("" if self.edits else " aucune"))
        width = max((len(e.element) for e in self.edits), default=0)
        out += [f"  {e.file}  {e.element.ljust(width)}  {e.field} : {e.before} → {e.after}" for e in self.edits]
        if self.added:
            out.append(f"Lignes ajoutées ({len(self.added)}) : {', '.join(self.added)}")
        if self.ignored_codes:
            out.append(f"Codes du classeur que la phase n'utilise pas, ignorés ({len(self.ignored_codes)}) : "
                       + ", ".join(self.ignored_codes))
        out.append("Chiffres modifiés :\n" + changes_table(self.changes))
        if self.dry_run:
            out.append("--essai : aucun fichier écrit")
        else:
            out.append(f"Fichiers écrits : {', '.join(self.written) or 'aucun (rien ne change)'}")
        if self.after is not None:
            n_err = sum(f.severity is Severity.ERROR for f in self.after)
            out.append(f"Contrôle du dossier : {n_err} erreur(s), {len(self.after) - n_err} avertissement(s)"
                       + (" (deliberation check pour le détail)" if self.after else ""))
        return "\n".join(out)


class _Apply:
    """Apply the workbook's tables to the round-trip documents, collecting edits and findings."""

    def __init__(self, docs: Docs, result: Imported):
        self.docs = docs
        self.result = result
        self.changed: set[str] = set()
        self.seen_ids: dict[str, str] = {}
        self.seen_codes: dict[str, str] = {}
        self.op_budget: dict[tuple[int, int], tuple[str, Value]] = {}

    def error(self, code: str, message: str, where: str) -> None:
        self.result.findings.append(error(code, message, cell_loc(where)))

    def duplicate(self, seen: dict[str, str], key: str, at: str, code: str, what: str) -> bool:
        """True (and a finding) when ``key`` was already read in the workbook; else remember where it is."""
        if key in seen:
            self.error(code, f"{what} en double dans le classeur (déjà en {seen[key]})", at)
            return True
        seen[key] = at
        return False

    def table(self, table: Table, display: str) -> None:
        """Apply one sheet."""
        rows = 0
        for _, values in table.rows:
            if table.kind == ANNEXE4:
                rows += self.annexe4_row(table, values)
            else:
                rows += self.budget_row(values)
        self.result.sheets.append(f"{display}!{table.sheet} ({KIND_NAMES[table.kind]}, "
                                  f"en-têtes ligne {table.header_row}, {rows} ligne(s))")
        self.result.ignored_headers += [f"{table.sheet} : « {h} »" for h in table.ignored]

    def _typed(self, values: dict[str, Value]) -> dict[str, object] | None:
        return typed_row(values, self.result.findings)

    def annexe4_row(self, table: Table, values: dict[str, Value]) -> int:
        if "id" not in values:
            amount = values.get("montant")
            if amount is None or amount.formula:
                return 0  # a title row
            self.error("xlsx.ligne_sans_id", "ligne sans identifiant (colonne « Ligne ») : impossible de la "
                       "rapprocher du dossier", amount.where)
            return 0
        typed = self._typed(values)
        lid, at = cell_text(values["id"].raw), values["id"].where
        if self.duplicate(self.seen_ids, lid, at, "xlsx.ligne_doublon", f"ligne « {lid} »") or typed is None:
            return 0
        if table.thematique is not None:
            if "thematique" in typed and typed["thematique"] != table.thematique:
                self.error("xlsx.thematique", f"thématique {typed['thematique']} dans la feuille de la "
                           f"thématique {table.thematique}", values["thematique"].where)
                return 0
            typed["thematique"] = table.thematique
        code = typed.get("budget")
        if code is not None and code not in self.docs.budget:
            close = difflib.get_close_matches(code, list(self.docs.budget), n=1)
            hint = f" ; vouliez-vous dire « {close[0]} » ?" if close else ""
            self.error("xlsx.budget_inconnu", f"code opération « {code} » inconnu : budget.yaml déclare "
                       f"{', '.join(self.docs.budget) or 'aucune ligne'}{hint}", values["budget"].where)
            return 0
        t, o = typed.get("thematique"), typed.get("operation")
        if lid in self.docs.lignes:
            rel, lt, lo, ligne = self.docs.lignes[lid]
            if (t is not None and t != lt) or (o is not None and o != lo):
                where = values.get("operation", values.get("thematique", values["id"])).where
                self.error("xlsx.ligne_deplacee", f"ligne « {lid} » : opération {t or lt}.{o or lo} dans le "
                           f"classeur, {lt}.{lo} dans le dossier (déplacer une ligne se fait dans {rel})", where)
                return 0
            self.update_ligne(rel, ligne, lid, typed)
        else:
            if not self.add_ligne(lid, typed, values):
                return 0
            lt, lo = t, o
        if code is not None:
            self.op_budget.setdefault((lt, lo), (code, values["budget"]))
            first = self.op_budget[(lt, lo)]
            if first[0] != code:
                self.error("xlsx.budget_divergent", f"opération {lt}.{lo} : code opération « {code} » ; une "
                           f"autre ligne de la même opération porte « {first[0]} » ({first[1].where})",
                           values["budget"].where)
        return 1

    def update_ligne(self, rel: str, ligne: CommentedMap, lid: str, typed: dict) -> None:
        doc = self.docs.files[rel].data
        for key, path in LIGNE_PATHS.items():
            if key == "id" or key not in typed:
                continue
            parent = ligne
            if len(path) == 2:
                sub = ligne.get(path[0])
                if not isinstance(sub, dict):
                    sub = flow({})
                    insert_key(ligne, path[0], sub, LIGNE_ORDER)
                parent = sub
            name = path[-1]
            old = parent.get(name)
            before = parse_old(key, old)
            if before is not None and same(key, before, typed[key]):
                continue
            order = LIGNE_ORDER if len(path) == 1 else tuple(parent.keys()) + (name,)
            insert_key(parent, name, styled(key, name, typed[key], old, doc), order)
            self.edit(rel, lid, key, before, typed[key])

    def add_ligne(self, lid: str, typed: dict, values: dict[str, Value]) -> bool:
        t, o = typed.get("thematique"), typed.get("operation")
        at = values["id"].where
        if t is None or o is None:
            self.error("xlsx.ligne_inconnue", f"ligne « {lid} » absente du dossier, sans thématique ni opération "
                       "pour la placer (colonnes « Thématique » et « Opération »)", at)
            return False
        if t not in self.docs.thematiques:
            self.error("xlsx.thematique_inconnue", f"ligne « {lid} » : thématique {t} absente du dossier "
                       f"(thématiques : {', '.join(map(str, sorted(self.docs.thematiques)))})",
                       values.get("thematique", values["id"]).where)
            return False
        if (t, o) not in self.docs.operations:
            known = ", ".join(f"{a}.{b}" for a, b in sorted(self.docs.operations) if a == t)
            self.error("xlsx.operation_inconnue", f"ligne « {lid} » : opération {t}.{o} absente du dossier "
                       f"(opérations de la thématique {t} : {known})", values.get("operation", values["id"]).where)
            return False
        if "structure" not in typed and "nom" in typed:
            key = self.docs.structures.get(normalise(typed["nom"]))
            if key:
                typed["structure"] = key
        missing = [k for k in NEW_LIGNE_REQUIRED if k not in typed]
        if missing:
            names = ", ".join(column_of(ANNEXE4_COLUMNS, k).header for k in missing)
            self.error("xlsx.ligne_incomplete", f"nouvelle ligne « {lid} » (opération {t}.{o}) incomplète : "
                       f"{names} manquant(s)", at)
            return False
        rel, op = self.docs.operations[(t, o)]
        doc = self.docs.files[rel].data
        ligne = CommentedMap()
        for key, path in LIGNE_PATHS.items():
            if key not in typed:
                continue
            value = styled(key, path[-1], typed[key], None, doc)
            if len(path) == 1:
                ligne[key] = value
            else:
                ligne.setdefault(path[0], flow({}))[path[-1]] = value
        if "periode" in ligne:
            ligne.move_to_end("periode")
            for later in ("montant", "document", "description"):
                if later in ligne:
                    ligne.move_to_end(later)
        lignes = op.get("lignes")
        if not isinstance(lignes, list):
            insert_key(op, "lignes", [], ("numero", "titre", "dispositif", "budget", "narrative", "annonces", "lignes"))
            lignes = op["lignes"]
        lignes.append(ligne)
        self.docs.lignes[lid] = (rel, t, o, ligne)
        self.changed.add(rel)
        self.result.added.append(lid)
        self.result.edits.append(Edit(rel, lid, "ligne ajoutée", "—", f"opération {t}.{o}, "
                                      + show("montant", typed["montant"])))
        return True

    def budget_row(self, values: dict[str, Value]) -> int:
        if "code" not in values:
            return 0  # a total or blank row
        code, at = convert("code", values["code"])[0], values["code"].where
        line = self.docs.budget.get(code)
        if line is None:
            if code not in self.result.ignored_codes:
                self.result.ignored_codes.append(code)  # the finance system's other lines
            return 0
        typed = self._typed(values)
        what = f"code opération « {code} »"
        if self.duplicate(self.seen_codes, code, at, "xlsx.budget_doublon", what) or typed is None:
            return 0
        doc = self.docs.files["budget.yaml"].data
        for key in BUDGET_FIELDS:
            if key not in typed:
                continue
            old = line.get(key)
            before = parse_old(key, old)
            if before is not None and same(key, before, typed[key]):
                continue
            insert_key(line, key, styled(key, key, typed[key], old, doc), ("code", *BUDGET_FIELDS, "annonces"))
            self.edit("budget.yaml", code, key, before, typed[key])
        return 1

    def finish(self) -> None:
        """Opérations whose rows name another (known) budget line are imputed to it."""
        for (t, o), (code, _) in sorted(self.op_budget.items()):
            rel, op = self.docs.operations[(t, o)]
            old = op.get("budget")
            if isinstance(old, str) and old.strip() == code:
                continue
            insert_key(op, "budget", styled("budget", "budget", code, old, self.docs.files[rel].data),
                    ("numero", "titre", "dispositif", "budget"))
            self.edit(rel, f"opération {t}.{o}", "budget", None if old is None else str(old), code)

    def edit(self, rel: str, element: str, key: str, before, after) -> None:
        self.changed.add(rel)
        self.result.edits.append(Edit(rel, element, key, show(key, before), show(key, after)))


# ---------------------------------------------------------------------------
# what the command (``commands.import_xlsx``) reads, applies and checks


def read_workbooks(workbooks: list[Path], mapping: Path | None, result: Imported) -> list[tuple[Path, list[Table]]]:
    """Read each workbook (and the declared column mapping, if any); their findings go to ``result``.

    Args:
        workbooks: ``.xlsx`` files (annexe 4 and/or budget situation), as the user named them.
        mapping: a declared column mapping (``--colonnes``), or None.
        result: where the findings go.

    Returns:
        Each workbook with the tables read from it.

    """
    mappings: dict[str, dict[str, str]] = {}
    if mapping is not None:
        mappings, f = read_mapping(mapping)
        result.findings += f
    read: list[tuple[Path, list[Table]]] = []
    for path in workbooks:
        tables, f = read_workbook(path, str(path), mappings)
        result.findings += f
        read.append((path, tables))
    return read


def apply_tables(read: list[tuple[Path, list[Table]]], dossier: Path, result: Imported) -> dict[str, bytes]:
    """Apply the tables read to the dossier's YAML documents; return the new bytes of each file that changes.

    The values changed, the lines added and the findings go to ``result``; nothing is written. When an
    error stops the import (``result.failed``, a file that cannot be replaced included) nothing is to
    write and no change is kept.
    """
    docs, f = load_docs(dossier)
    result.findings += f
    if (dossier / AMENDEMENTS_FILE).exists():
        result.findings.append(warning(
            "xlsx.amendements", "le dossier a des amendements : l'import modifie le dossier présenté (avant "
            "amendements), alors que l'annexe 4 produite par build porte les chiffres adoptés",
            Loc(str(dossier / AMENDEMENTS_FILE))))
    apply = _Apply(docs, result)
    for path, tables in read:
        for table in tables:
            if table.usable and not (table.kind == BUDGET and "budget.yaml" not in docs.files):
                apply.table(table, str(path))
    apply.finish()
    texts = {rel: docs.files[rel].dump() for rel in sorted(apply.changed)} if not result.failed else {}
    files = {rel: t.encode("utf-8") for rel, t in texts.items() if t != docs.files[rel].text}
    result.findings += [f for f in (_refused(dossier, rel) for rel in files) if f is not None]
    if result.failed:
        result.edits, result.added = [], []
        return {}
    return files


@contextlib.contextmanager
def dry_run_copy(dossier: Path, files: dict[str, bytes]) -> Iterator[Path]:
    """A temporary copy of ``dossier`` with ``files`` replaced, for a dry run to check; removed even on error.

    The copies left by killed imports are removed first (``_sweep_copies``).
    """
    _sweep_copies()
    with tempfile.TemporaryDirectory(prefix=f"{_COPY_PREFIX}{os.getpid()}-") as tmp:
        target = Path(tmp) / (dossier.resolve().name or "dossier")
        _copy_dossier(dossier, target)
        for rel, data in files.items():
            path = target / rel
            if is_inside(os.path.realpath(path.parent), os.path.realpath(target)):
                path.unlink(missing_ok=True)
                path.write_bytes(data)
        yield target


def _refused(dossier: Path, rel: str) -> Finding | None:
    """Why the import will not replace ``rel`` (a link, read-only, outside the dossier), as a finding."""
    path = dossier / rel
    why = refuse_reason(path)
    if why is None and not is_inside(os.path.realpath(path.parent), os.path.realpath(dossier)):
        why = f"le dossier {path.parent.name} mène hors du dossier (lien symbolique)"
    if why is None and not os.access(path, os.W_OK):
        why = "fichier en lecture seule"
    if why is None and not os.access(path.parent, os.W_OK):
        why = f"dossier {path.parent} en lecture seule"
    if why is None:
        return None
    return error("xlsx.ecriture", f"import impossible dans ce fichier : {why} ; rien n'a été écrit", Loc(str(path)))


_COPY_PREFIX = "deliberation-import-"


def _copy_dossier(dossier: Path, target: Path) -> None:
    """Copy ``dossier`` for a dry run; each link leads where the original's does (inside: into the copy)."""
    shutil.copytree(dossier, target, symlinks=True, ignore=_special_files)
    real = os.path.realpath(dossier)
    for top, dirs, names in os.walk(target):
        for name in dirs + names:
            path = os.path.join(top, name)
            if not os.path.islink(path):
                continue
            leads = os.path.realpath(os.path.join(dossier, os.path.relpath(path, target)))
            inside = is_inside(leads, real)
            os.unlink(path)
            os.symlink(os.path.join(target, os.path.relpath(leads, real)) if inside else leads, path)


def _special_files(folder: str, names: list[str]) -> list[str]:
    """For ``copytree``: devices, FIFOs and sockets are not copied (a FIFO would block the copy)."""
    skip = []
    for name in names:
        try:
            mode = os.lstat(os.path.join(folder, name)).st_mode
        except OSError:
            skip.append(name)
            continue
        if not (stat.S_ISREG(mode) or stat.S_ISDIR(mode) or stat.S_ISLNK(mode)):
            skip.append(name)
    return skip


def _sweep_copies() -> None:
    """Remove the dry-run copies of killed imports: ``deliberation-import-<pid>-*`` of this user, pid dead."""
    root = tempfile.gettempdir()
    try:
        entries = list(os.scandir(root))
    except OSError:
        return
    uid = os.getuid() if hasattr(os, "getuid") else None
    for entry in entries:
        m = re.fullmatch(rf"{_COPY_PREFIX}(\d+)-.*", entry.name)
        if not m or int(m.group(1)) == os.getpid():
            continue
        try:
            st = entry.stat(follow_symlinks=False)
            if not stat.S_ISDIR(st.st_mode) or (uid is not None and st.st_uid != uid):
                continue
            os.kill(int(m.group(1)), 0)
        except ProcessLookupError:
            shutil.rmtree(entry.path, ignore_errors=True)
        except (OSError, OverflowError):
            continue
