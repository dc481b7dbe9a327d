"""Import an annexe 4 or budget-situation workbook into a dossier's YAML files (``import-xlsx``).

A workbook is read sheet by sheet: the header row is found among the first rows by its known
headers (``layout``), which also tell an annexe 4 sheet (one row per ligne; one sheet for the
phase with a thématique column, or one sheet per thématique) from a budget sheet (one row per
budget line, the finance system's export). Values are typed from numbers, dates or French texts
(``79 850,00 €``, ``- €``); a value merged down several rows applies to each of them; subtotal and
empty rows are skipped. The values that differ from the dossier are written into ``thematiques/*.yaml``
and ``budget.yaml`` in ruamel's round-trip mode (comments, order and quoting kept, each value in
the style its file already uses). Every problem is a finding located ``Workbook.xlsx!Sheet!C14``;
one error and nothing is written.
"""

from __future__ import annotations

import datetime as dt
import difflib
import io
import os
import re
import shutil
import tempfile
import unicodedata
import zipfile
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from pathlib import Path

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap
from ruamel.yaml.error import YAMLError
from ruamel.yaml.nodes import ScalarNode
from ruamel.yaml.scalarstring import DoubleQuotedScalarString

from deliberation.findings import Finding, Loc, Severity, error, warning
from deliberation.fmt import date_short, money, number, plain
from deliberation.load import AMENDEMENTS_FILE, THEMATIQUES_DIR
from deliberation.load.yaml import _PlainResolver
from deliberation.messages import os_reason
from deliberation.model import Ligne, Periode, Volume
from deliberation.schema import Date, Invalid, Kind, Money, Text, parse_decimal, schema_fields
from deliberation.xlsx.layout import (
    ANNEXE4_COLUMNS,
    BUDGET_COLUMNS,
    SHEET_THEMATIQUE,
    TOTAL,
    Column,
    header_index,
    normalise,
)

#: How many rows are scanned for the header row (titles and blank rows may come first).
HEADER_SCAN = 20
#: A header row has at least this many known headers.
MIN_HEADERS = 2

ANNEXE4 = "annexe4"
BUDGET = "budget"
LAYOUTS = {ANNEXE4: ANNEXE4_COLUMNS, BUDGET: BUDGET_COLUMNS}
KIND_NAMES = {ANNEXE4: "annexe 4", BUDGET: "situation budgétaire"}

#: Annexe 4 columns and where their value lives in a ligne of ``thematiques/*.yaml``.
LIGNE_PATHS: dict[str, tuple[str, ...]] = {
    "id": ("id",), "territoire": ("territoire",), "structure": ("structure",), "convention": ("convention",),
    "nature": ("nature",), "etp": ("etp",), "etp_valorises": ("etp_valorises",), "volume": ("volume", "nombre"),
    "unite": ("volume", "unite"), "debut": ("periode", "debut"), "fin": ("periode", "fin"),
    "montant": ("montant",), "document": ("document",), "description": ("description",),
}
#: Budget columns written into ``budget.yaml`` (``proposition`` and ``solde`` are computed, never read).
BUDGET_FIELDS = ("imputation", "libelle", "ae", "disponible")

_LIGNE_KINDS = {f.name: f.metadata["kind"] for f in schema_fields(Ligne)}
_KINDS: dict[str, Kind] = {
    **{k: _LIGNE_KINDS[p[0]] for k, p in LIGNE_PATHS.items() if len(p) == 1},
    "volume": {f.name: f.metadata["kind"] for f in schema_fields(Volume)}["nombre"],
    "unite": {f.name: f.metadata["kind"] for f in schema_fields(Volume)}["unite"],
    "debut": {f.name: f.metadata["kind"] for f in schema_fields(Periode)}["debut"],
    "fin": {f.name: f.metadata["kind"] for f in schema_fields(Periode)}["fin"],
    "budget": Text(), "code": Text(), "imputation": Text(), "libelle": Text(), "ae": Money(), "disponible": Money(),
}
MONEY_KEYS = {"montant", "ae", "disponible"}
DECIMAL_KEYS = {"etp", "etp_valorises", "volume"}
DATE_KEYS = {"debut", "fin"}
#: What a ligne must have when the workbook adds it to an opération.
NEW_LIGNE_REQUIRED = ("territoire", "structure", "convention", "nature", "debut", "fin", "montant", "document",
                      "description")


def _loc(where: str) -> Loc:
    return Loc(where, 0)


# ---------------------------------------------------------------------------
# the column mapping file


def read_mapping(path: Path) -> tuple[dict[str, dict[str, str]], list[Finding]]:
    """Read a declared column mapping: ``{annexe4: {montant: "Montant voté CP"}, budget: {…}}``.

    Returns:
        For each sheet kind, column key → the header used in the user's workbooks, and findings.

    """
    file = str(path)
    try:
        data = _rt_yaml().load(path.read_text(encoding="utf-8-sig"))
    except (OSError, UnicodeDecodeError) as err:
        return {}, [error("xlsx.colonnes", f"fichier de correspondance illisible : {err}", Loc(file))]
    except YAMLError as err:
        return {}, [error("xlsx.colonnes", f"fichier de correspondance : YAML mal formé ({err})", Loc(file))]
    out: dict[str, dict[str, str]] = {}
    findings: list[Finding] = []
    if not isinstance(data, dict):
        return {}, [error("xlsx.colonnes", "attendu : un dictionnaire « annexe4: {…}, budget: {…} »", Loc(file, 1))]
    for kind, columns in data.items():
        line = _line_of(data, kind)
        if kind not in LAYOUTS:
            findings.append(error("xlsx.colonnes", f"feuille « {kind} » inconnue ; attendu : annexe4 ou budget",
                                  Loc(file, line)))
            continue
        if not isinstance(columns, dict):
            findings.append(error("xlsx.colonnes", f"{kind} : attendu un dictionnaire clé → en-tête", Loc(file, line)))
            continue
        keys = [c.key for c in LAYOUTS[kind]]
        for key, header in columns.items():
            if key not in keys:
                close = difflib.get_close_matches(str(key), keys, n=1)
                hint = f" ; vouliez-vous dire « {close[0]} » ?" if close else f" ; attendu : {', '.join(keys)}"
                findings.append(error("xlsx.colonnes", f"{kind} : colonne « {key} » inconnue{hint}",
                                      Loc(file, _line_of(columns, key))))
                continue
            if not isinstance(header, str) or not header.strip():
                findings.append(error("xlsx.colonnes", f"{kind}.{key} : en-tête attendu (un texte)",
                                      Loc(file, _line_of(columns, key))))
                continue
            out.setdefault(kind, {})[key] = header
    return out, findings


def _line_of(mapping, key) -> int:
    try:
        return mapping.lc.key(key)[0] + 1
    except (AttributeError, KeyError, TypeError):
        return 0


# ---------------------------------------------------------------------------
# reading a workbook


@dataclass(frozen=True)
class Value:
    """One cell's value and where it comes from (``Workbook.xlsx!Sheet!C14``)."""

    raw: object
    where: str
    formula: str | None = None  # a formula Excel stored no value for (a workbook written by a program)


@dataclass
class Table:
    """One recognised sheet: its kind, header row, columns and the data rows (column key → value)."""

    kind: str
    sheet: str
    header_row: int
    columns: dict[str, int]
    rows: list[tuple[int, dict[str, Value]]] = field(default_factory=list)
    thematique: int | None = None  # from the sheet's name (one sheet per thématique)
    ignored: list[str] = field(default_factory=list)  # headers that name no known column
    usable: bool = True  # False without the column rows are matched by (ligne id, code opération)


def read_workbook(path: Path, display: str, mappings: dict[str, dict[str, str]] | None = None,
                  ) -> tuple[list[Table], list[Finding]]:
    """Read every recognised sheet of a workbook into tables; problems are located findings.

    Args:
        path: the ``.xlsx`` file.
        display: the file's name as the user gave it (findings say ``display!Sheet!C14``).
        mappings: declared column mapping (see ``read_mapping``).

    """
    from openpyxl import load_workbook

    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return [], [error("xlsx.introuvable", "classeur introuvable", _loc(display))]
    except OSError as err:
        return [], [error("xlsx.illisible", f"classeur illisible : {os_reason(err)}", _loc(display))]
    try:
        wb = load_workbook(io.BytesIO(data))
    except zipfile.BadZipFile:
        return [], [error("xlsx.illisible", "classeur illisible : ce n'est pas un fichier Excel .xlsx "
                          "(pas une archive zip ; un ancien .xls ou un .csv s'enregistre d'abord en .xlsx)",
                          _loc(display))]
    except Exception as err:  # noqa: BLE001 - openpyxl raises many kinds on a damaged or foreign file
        return [], [error("xlsx.illisible", f"classeur illisible : pas un classeur .xlsx valide ({err})",
                          _loc(display))]
    cached = _Cached(data)
    tables: list[Table] = []
    findings: list[Finding] = []
    for ws in wb.worksheets:
        table, f = _read_sheet(ws, display, mappings or {}, cached)
        findings += f
        if table is not None:
            tables.append(table)
    if not tables:
        names = ", ".join(f"« {ws.title} »" for ws in wb.worksheets)
        findings.append(error("xlsx.aucune_feuille", f"aucune feuille reconnue (annexe 4 ou situation budgétaire) "
                              f"parmi {names} : en-têtes attendus dans les {HEADER_SCAN} premières lignes, "
                              f"par exemple « Ligne » et « Montant », ou « Code opération » et « Disponible »",
                              _loc(display)))
    return tables, findings


class _Cached:
    """The values Excel stored for formula cells (read only when a formula is met)."""

    def __init__(self, data: bytes):
        self.data = data
        self.wb = None

    def value(self, sheet: str, ref: str):
        if self.wb is None:
            from openpyxl import load_workbook

            self.wb = load_workbook(io.BytesIO(self.data), data_only=True)
        return self.wb[sheet][ref].value


def _find_header(ws, indexes: dict[str, dict[str, str]]) -> tuple[int, str] | None:
    """The header row and the sheet kind: the row of the first rows with the most known headers."""
    best: tuple[int, int, str] | None = None  # (score, -row, kind)
    for r, row in enumerate(ws.iter_rows(min_row=1, max_row=min(ws.max_row, HEADER_SCAN), values_only=True), 1):
        names = [normalise(v) for v in row if isinstance(v, str) and v.strip()]
        for kind in (ANNEXE4, BUDGET):
            score = len({indexes[kind][n] for n in names if n in indexes[kind]})
            if score >= MIN_HEADERS and (best is None or (score, -r) > best[:2]):
                best = (score, -r, kind)
    return None if best is None else (-best[1], best[2])


def _read_sheet(ws, display: str, mappings: dict, cached: _Cached) -> tuple[Table | None, list[Finding]]:
    from openpyxl.utils import get_column_letter

    def where(ref: str) -> str:
        return f"{display}!{ws.title}!{ref}"

    indexes = {kind: header_index(cols, mappings.get(kind)) for kind, cols in LAYOUTS.items()}
    found = _find_header(ws, indexes)
    if found is None:
        return None, []
    header, kind = found
    columns = LAYOUTS[kind]
    index = indexes[kind]
    findings: list[Finding] = []
    m = SHEET_THEMATIQUE.match(ws.title)
    table = Table(kind, ws.title, header, {}, thematique=int(m.group(1)) if m and kind == ANNEXE4 else None)
    first_data = header + 1
    merged_down: dict[tuple[int, int], object] = {}  # (row, column) → the value merged over it
    for rng in ws.merged_cells.ranges:
        if rng.min_row <= header <= rng.max_row:
            first_data = max(first_data, rng.max_row + 1)
            if rng.max_col > rng.min_col:
                text = ws.cell(rng.min_row, rng.min_col).value
                cols = f"{get_column_letter(rng.min_col)} à {get_column_letter(rng.max_col)}"
                findings.append(error(
                    "xlsx.entete_fusionnee",
                    f"en-tête « {_clip(text)} » fusionné sur les colonnes {cols} : une colonne par en-tête "
                    f"(défusionnez les cellules {rng.coord})", _loc(where(rng.start_cell.coordinate))))
        elif rng.min_row > header:
            top = ws.cell(rng.min_row, rng.min_col).value
            for r in range(rng.min_row, rng.max_row + 1):
                merged_down[(r, rng.min_col)] = top
    labels: dict[str, str] = {}
    for c, cell in enumerate(ws[header], 1):
        text = cell.value
        if text is None or (isinstance(text, str) and not text.strip()):
            continue
        key = index.get(normalise(text))
        if key is None:
            table.ignored.append(str(text).strip())
            continue
        if key in table.columns:
            first = get_column_letter(table.columns[key])
            findings.append(error("xlsx.colonne_double",
                                  f"colonne « {_clip(text)} » en double : la colonne {first} "
                                  f"(« {labels[key]} ») donne déjà {_column(columns, key).header.lower()}",
                                  _loc(where(cell.coordinate))))
            continue
        table.columns[key] = c
        labels[key] = str(text).strip()
    for col in columns:
        if col.required and col.key not in table.columns:
            accepted = ", ".join(f"« {h} »" for h in (col.header, *col.synonyms))
            findings.append(error("xlsx.colonne_manquante",
                                  f"colonne obligatoire « {col.header} » absente de la feuille "
                                  f"{KIND_NAMES[kind]} (en-têtes acceptés : {accepted} ; ou --colonnes)",
                                  _loc(where(f"A{header}"))))
            table.usable = table.usable and col.key not in ("id", "code")
    for r in range(first_data, ws.max_row + 1):
        values: dict[str, Value] = {}
        for key, c in table.columns.items():
            cell = ws.cell(r, c)
            raw = merged_down.get((r, c), cell.value)
            formula = None
            if cell.data_type == "f" and (r, c) not in merged_down:
                if key in ("proposition", "solde"):
                    continue
                raw = cached.value(ws.title, cell.coordinate)
                formula = None if raw is not None else str(cell.value)
            if formula is None and (raw is None or (isinstance(raw, str) and not raw.strip())):
                continue
            values[key] = Value(raw, where(cell.coordinate), formula)
        if values and not {"id", "code"} & values.keys() and _is_total(ws, r):
            continue  # a subtotal row: « TOTAL … » in any column, no line id
        if values:
            table.rows.append((r, values))
    return table, findings


def _is_total(ws, row: int) -> bool:
    return any(isinstance(v, str) and normalise(v).upper().startswith(TOTAL)
               for v in next(ws.iter_rows(min_row=row, max_row=row, values_only=True)))


def _column(columns: tuple[Column, ...], key: str) -> Column:
    return next(c for c in columns if c.key == key)


def _clip(value: object, n: int = 50) -> str:
    text = " ".join(str(value).split())
    return text if len(text) <= n else text[: n - 1] + "…"


# ---------------------------------------------------------------------------
# cell values → typed values


def _text(raw: object) -> str:
    if isinstance(raw, float) and raw.is_integer():
        raw = int(raw)
    if isinstance(raw, dt.datetime):
        raw = raw.date()
    if isinstance(raw, dt.date):
        return date_short(raw)
    return unicodedata.normalize("NFC", str(raw)).strip()


def _decimal(raw: object, cents: bool) -> Decimal | None:
    """A number from a cell: int, float (rounded to the cent for amounts if it is a float artefact) or text."""
    if isinstance(raw, bool):
        return None
    if isinstance(raw, int):
        return Decimal(raw)
    if isinstance(raw, float):
        value = Decimal(repr(raw))
        if cents:
            rounded = value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
            if abs(rounded - value) < Decimal("0.000001"):
                value = rounded
        return value
    if isinstance(raw, Decimal):
        return raw
    if isinstance(raw, str):
        text = re.sub(r"[\u00a0\u202f\u2007\u2009]", " ", raw).strip()
        text = re.sub(r"\s*€$", " €", text) if text.endswith("€") else text
        try:
            return parse_decimal(text)
        except InvalidOperation:
            return None
    return None


_EXCEL_EPOCH = dt.date(1899, 12, 30)


def convert(key: str, value: Value) -> tuple[object | None, Finding | None]:
    """Convert one cell for column ``key``: a typed value, or a located finding."""
    raw = value.raw
    loc = _loc(value.where)
    if key in ("thematique", "operation"):
        n = _number_of(raw)
        if n is None:
            what = "thématique" if key == "thematique" else "opération"
            return None, error("xlsx.numero", f"numéro de {what} illisible : « {_clip(raw)} »", loc)
        return n, None
    if key in MONEY_KEYS or key in DECIMAL_KEYS:
        number_ = _decimal(raw, key in MONEY_KEYS)
        if number_ is None:
            if key in MONEY_KEYS:
                return None, error("xlsx.montant", f"montant illisible : « {_clip(raw)} » ; attendu : un nombre "
                                   "(79 850,00 ou 79850.00, « - € » pour zéro)", loc)
            return None, error("xlsx.nombre", f"{key} : nombre illisible : « {_clip(raw)} »", loc)
        try:
            kind_value = _KINDS[key].convert(ScalarNode("tag:yaml.org,2002:str", format(number_, "f")), None, "")
        except Invalid as inv:
            return None, error("xlsx.montant" if key in MONEY_KEYS else "xlsx.nombre", inv.message, loc)
        return kind_value, None
    if key in DATE_KEYS:
        if isinstance(raw, dt.datetime):
            return raw.date(), None
        if isinstance(raw, dt.date):
            return raw, None
        if isinstance(raw, (int, float)) and not isinstance(raw, bool) and 1 <= raw < 2958466:
            return _EXCEL_EPOCH + dt.timedelta(days=int(raw)), None  # a date serial without a date format
        text = _text(raw)
        try:
            return Date().convert(ScalarNode("tag:yaml.org,2002:str", text), None, ""), None
        except Invalid as inv:
            code = "xlsx.date_inexistante" if inv.code == "date.inexistante" else "xlsx.date"
            return None, error(code, f"{_FIELD_NAMES.get(key, key)} : {inv.message}", loc)
    text = _text(raw)
    if key in ("budget", "code"):
        return text.upper().replace(" ", ""), None
    if key == "nom":
        return text, None
    try:
        return _KINDS[key].convert(ScalarNode("tag:yaml.org,2002:str", text), None, ""), None
    except Invalid as inv:
        return None, error("xlsx.valeur", f"{_FIELD_NAMES.get(key, key)} : {inv.message}", loc)


_FIELD_NAMES = {"debut": "début", "fin": "fin", "id": "ligne", "unite": "unité", "libelle": "libellé"}


def _number_of(raw: object) -> int | None:
    if isinstance(raw, bool):
        return None
    if isinstance(raw, int):
        return raw
    if isinstance(raw, float):
        return int(raw) if raw.is_integer() else None
    m = re.fullmatch(r"(?:th[ée]matique|op[ée]ration|t|o)?\s*(?:n\s*[°o]\s*)?(\d+(?:\.\d+)?)", str(raw).strip(), re.I)
    if not m:
        return None
    return int(m.group(1).rsplit(".", 1)[-1])  # « 1.2 » names opération 2 of thématique 1


# ---------------------------------------------------------------------------
# the dossier's YAML files, in round-trip mode


def _rt_yaml() -> YAML:
    y = YAML(typ="rt")
    y.Resolver = _PlainResolver  # every scalar stays the text it is written as (no float, no date)
    y.preserve_quotes = True
    y.width = 1_000_000  # never fold a long line
    y.indent(mapping=2, sequence=4, offset=2)
    return y


@dataclass
class YamlFile:
    """One dossier file as a round-trip document (comments, order and quotes kept)."""

    path: Path
    rel: str
    text: str
    data: object
    crlf: bool = False

    def dump(self) -> str:
        """The document as text, in the file's line endings."""
        buf = io.StringIO()
        _rt_yaml().dump(self.data, buf)
        out = buf.getvalue()
        return out.replace("\n", "\r\n") if self.crlf else out


@dataclass
class Docs:
    """The editable files of a dossier and the indexes the import matches rows against."""

    files: dict[str, YamlFile] = field(default_factory=dict)
    budget: dict[str, CommentedMap] = field(default_factory=dict)  # code → budget line
    thematiques: dict[int, str] = field(default_factory=dict)  # numero → file
    operations: dict[tuple[int, int], tuple[str, CommentedMap]] = field(default_factory=dict)
    lignes: dict[str, tuple[str, int, int, CommentedMap]] = field(default_factory=dict)  # id → (file, t, o, ligne)
    structures: dict[str, str] = field(default_factory=dict)  # normalised name → key


def load_docs(root: Path) -> tuple[Docs, list[Finding]]:
    """Load ``budget.yaml`` and ``thematiques/*.yaml`` for editing, and ``structures.yaml`` for names."""
    docs = Docs()
    findings: list[Finding] = []
    paths = [root / "budget.yaml", *sorted((root / THEMATIQUES_DIR).glob("*.yaml"))]
    for path in paths:
        rel = path.relative_to(root).as_posix()
        try:
            raw = path.read_bytes()
            text = raw.decode("utf-8-sig")
            data = _rt_yaml().load(text)
        except (OSError, UnicodeDecodeError, YAMLError) as err:
            findings.append(error("xlsx.dossier", f"fichier du dossier illisible : {_clip(err, 200)}", Loc(str(path))))
            continue
        docs.files[rel] = YamlFile(path, rel, text, data, crlf=b"\r\n" in raw)
        if rel == "budget.yaml":
            for b in _items(data, "lignes"):
                if isinstance(b.get("code"), str):
                    docs.budget.setdefault(b["code"].strip(), b)
            continue
        t = _int(data.get("numero")) if isinstance(data, dict) else None
        if t is None:
            continue
        docs.thematiques.setdefault(t, rel)
        for o in _items(data, "operations"):
            n = _int(o.get("numero"))
            if n is None:
                continue
            docs.operations.setdefault((t, n), (rel, o))
            for ligne in _items(o, "lignes"):
                if isinstance(ligne.get("id"), str):
                    docs.lignes.setdefault(ligne["id"].strip(), (rel, t, n, ligne))
    try:
        registre = _rt_yaml().load((root / "structures.yaml").read_text(encoding="utf-8-sig"))
        for key, s in (registre.get("structures") or {}).items():
            if isinstance(s, dict) and isinstance(s.get("nom"), str):
                docs.structures.setdefault(normalise(s["nom"]), key)
    except (OSError, UnicodeDecodeError, YAMLError, AttributeError):
        pass  # the names only help place a new ligne; ``check`` reports the registry
    return docs, findings


def _items(data, key: str) -> list:
    items = data.get(key) if isinstance(data, dict) else None
    return [i for i in items if isinstance(i, dict)] if isinstance(items, list) else []


def _int(value) -> int | None:
    try:
        return int(str(value).strip())
    except ValueError:
        return None


# ---------------------------------------------------------------------------
# writing values in the file's own style


@dataclass(frozen=True)
class Edit:
    """One value changed (or a ligne added) in a dossier file."""

    file: str
    element: str  # the ligne id, « opération 1.2 », or the budget code
    field: str
    before: str | None
    after: str | None


def _scalars(node, key: str):
    """Every scalar written under ``key`` anywhere in a document."""
    if isinstance(node, dict):
        for k, v in node.items():
            if k == key and isinstance(v, str):
                yield v
            yield from _scalars(v, key)
    elif isinstance(node, list):
        for v in node:
            yield from _scalars(v, key)


def _money_text(value: Decimal, old: str | None, doc) -> str:
    """An amount as the file writes amounts: ``"79 850,00"`` (French) or ``79850.00``; zero as ``0``."""
    samples = [*_scalars(doc, "montant"), *_scalars(doc, "ae"), *_scalars(doc, "disponible")]
    if value == 0 and any(s.strip() == "0" for s in [*samples, old or ""]):
        return "0"
    decimals = max(2, -value.normalize().as_tuple().exponent)
    reference = old if old is not None and old.strip() not in ("0", "") else next(
        (s for s in samples if s.strip() not in ("0", "")), None)
    french = reference is None or "," in reference or " " in reference.strip()
    return plain(number(value, decimals)) if french else f"{value:.{decimals}f}"


def _quoted(old, doc, key: str) -> bool:
    """Quote as the old value was, else as most values of this key in the file are (a plain ``0`` aside)."""
    if old is not None and not (isinstance(old, str) and old.strip() == "0"):
        return isinstance(old, DoubleQuotedScalarString)
    samples = [s for s in _scalars(doc, key) if s.strip() != "0"]
    quoted = sum(isinstance(s, DoubleQuotedScalarString) for s in samples)
    return quoted > len(samples) - quoted


def _scalar_text(key: str, value: object, old: str | None, doc) -> str:
    if key in MONEY_KEYS:
        return _money_text(value, old, doc)
    if key in DECIMAL_KEYS:
        text = format(value.normalize(), "f")
        return text.replace(".", ",") if old is not None and "," in old else text
    if key in DATE_KEYS:
        return value.isoformat() if old is not None and re.fullmatch(r"\d{4}-\d{1,2}-\d{1,2}", old.strip()) \
            else date_short(value)
    return str(value)


def _styled(key: str, field_name: str, value: object, old, doc):
    text = _scalar_text(key, value, None if old is None else str(old), doc)
    if text == "0" and key in MONEY_KEYS:
        return text
    return DoubleQuotedScalarString(text) if _quoted(old, doc, field_name) else text


def _show(key: str, value: object) -> str:
    if value is None:
        return "—"
    if key in MONEY_KEYS:
        return plain(money(value))
    if key in DECIMAL_KEYS:
        return plain(number(value))
    if isinstance(value, dt.date):
        return date_short(value)
    return f"« {_clip(value, 60)} »"


def _parse_old(key: str, old) -> object | None:
    if old is None:
        return None
    try:
        return _KINDS[key].convert(ScalarNode("tag:yaml.org,2002:str", str(old)), None, "")
    except (Invalid, KeyError):
        return str(old)


def _same(key: str, a: object, b: object) -> bool:
    if isinstance(a, Decimal) and isinstance(b, Decimal):
        return a == b
    if key in ("budget", "code"):
        return str(a).strip() == str(b).strip()
    return a == b


def _insert(mapping: CommentedMap, key: str, value, order: tuple[str, ...]) -> None:
    """Put ``key`` in ``mapping``: in place if present, else before the first key that follows it in ``order``."""
    if key in mapping:
        mapping[key] = value
        _comment_gap(mapping, key, value)
        return
    rank = order.index(key) if key in order else len(order)
    keys = list(mapping.keys())
    pos = next((i for i, k in enumerate(keys) if k in order and order.index(k) > rank), len(keys))
    mapping.insert(pos, key, value)


def _comment_gap(mapping: CommentedMap, key: str, value) -> None:
    """Keep two spaces between a longer value and its end-of-line comment (as the files write them)."""
    items = getattr(mapping, "ca", None) and mapping.ca.items.get(key)
    token = items[2] if items and len(items) > 2 else None
    if token is None or not isinstance(value, str) or not token.value.lstrip(" ").startswith("#"):
        return
    try:
        column = mapping.lc.key(key)[1]
    except (KeyError, TypeError, AttributeError):
        return
    end = column + len(key) + 2 + len(value) + (2 if isinstance(value, DoubleQuotedScalarString) else 0)
    if token.column < end + 2:
        token.column = end + 2


_LIGNE_ORDER = tuple(f.name for f in schema_fields(Ligne))


def _flow(mapping: dict) -> CommentedMap:
    m = CommentedMap(mapping)
    m.fa.set_flow_style()
    return m


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
    changes: list = field(default_factory=list)  # diff.Change: figures before → after
    after: list[Finding] | None = None  # the dossier's findings after the import (``check``)
    dry_run: bool = False

    @property
    def failed(self) -> bool:
        """True when an error stopped the import (nothing written)."""
        return any(f.severity is Severity.ERROR for f in self.findings)

    def summary(self) -> str:
        """The import in a few lines: sheets read, values changed (before → after), figures, check."""
        from deliberation.diff import table

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
        out.append("Chiffres modifiés :\n" + table(self.changes))
        if self.dry_run:
            out.append("--dry-run : aucun fichier écrit")
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
        self.result.findings.append(error(code, message, _loc(where)))

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
        typed: dict[str, object] = {}
        ok = True
        for key, value in values.items():
            if key in ("proposition", "solde", "nom") and value.formula is not None:
                continue
            if value.formula is not None:
                self.result.findings.append(warning(
                    "xlsx.formule", f"formule sans valeur enregistrée ({_clip(value.formula)}) : valeur ignorée ; "
                    "enregistrez le classeur dans Excel ou LibreOffice, ou saisissez la valeur", _loc(value.where)))
                continue
            v, finding = convert(key, value)
            if finding is not None:
                self.result.findings.append(finding)
                ok = False
            else:
                typed[key] = v
        return typed if ok else None

    def annexe4_row(self, table: Table, values: dict[str, Value]) -> int:
        if "id" not in values:
            amount = values.get("montant")
            if amount is None or amount.formula:
                return 0  # a title row
            self.error("xlsx.ligne_sans_id", "ligne sans identifiant (colonne « Ligne ») : impossible de la "
                       "rapprocher du dossier", amount.where)
            return 0
        typed = self._typed(values)
        lid, at = _text(values["id"].raw), values["id"].where
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
                    sub = _flow({})
                    _insert(ligne, path[0], sub, _LIGNE_ORDER)
                parent = sub
            name = path[-1]
            old = parent.get(name)
            before = _parse_old(key, old)
            if before is not None and _same(key, before, typed[key]):
                continue
            order = _LIGNE_ORDER if len(path) == 1 else tuple(parent.keys()) + (name,)
            _insert(parent, name, _styled(key, name, typed[key], old, doc), order)
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
            names = ", ".join(_column(ANNEXE4_COLUMNS, k).header for k in missing)
            self.error("xlsx.ligne_incomplete", f"nouvelle ligne « {lid} » (opération {t}.{o}) incomplète : "
                       f"{names} manquant(s)", at)
            return False
        rel, op = self.docs.operations[(t, o)]
        doc = self.docs.files[rel].data
        ligne = CommentedMap()
        for key, path in LIGNE_PATHS.items():
            if key not in typed:
                continue
            value = _styled(key, path[-1], typed[key], None, doc)
            if len(path) == 1:
                ligne[key] = value
            else:
                ligne.setdefault(path[0], _flow({}))[path[-1]] = value
        if "periode" in ligne:
            ligne.move_to_end("periode")
            for later in ("montant", "document", "description"):
                if later in ligne:
                    ligne.move_to_end(later)
        lignes = op.get("lignes")
        if not isinstance(lignes, list):
            _insert(op, "lignes", [], ("numero", "titre", "dispositif", "budget", "narrative", "annonces", "lignes"))
            lignes = op["lignes"]
        lignes.append(ligne)
        self.docs.lignes[lid] = (rel, t, o, ligne)
        self.changed.add(rel)
        self.result.added.append(lid)
        self.result.edits.append(Edit(rel, lid, "ligne ajoutée", "—", f"opération {t}.{o}, "
                                      + _show("montant", typed["montant"])))
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
            before = _parse_old(key, old)
            if before is not None and _same(key, before, typed[key]):
                continue
            _insert(line, key, _styled(key, key, typed[key], old, doc), ("code", *BUDGET_FIELDS, "annonces"))
            self.edit("budget.yaml", code, key, before, typed[key])
        return 1

    def finish(self) -> None:
        """Opérations whose rows name another (known) budget line are imputed to it."""
        for (t, o), (code, _) in sorted(self.op_budget.items()):
            rel, op = self.docs.operations[(t, o)]
            old = op.get("budget")
            if isinstance(old, str) and old.strip() == code:
                continue
            _insert(op, "budget", _styled("budget", "budget", code, old, self.docs.files[rel].data),
                    ("numero", "titre", "dispositif", "budget"))
            self.edit(rel, f"opération {t}.{o}", "budget", None if old is None else str(old), code)

    def edit(self, rel: str, element: str, key: str, before, after) -> None:
        self.changed.add(rel)
        self.result.edits.append(Edit(rel, element, key, _show(key, before), _show(key, after)))


# ---------------------------------------------------------------------------
# the command


def import_workbooks(workbooks: list[Path], dossier: Path, mapping: Path | None = None,
                     dry_run: bool = False) -> Imported:
    """Read workbooks and update the dossier's YAML files; nothing is written if anything is wrong.

    Args:
        workbooks: ``.xlsx`` files (annexe 4 and/or budget situation), as the user named them.
        dossier: the dossier folder.
        mapping: a declared column mapping (``--colonnes``), or None.
        dry_run: report what would change, write nothing.

    Returns:
        The findings (errors mean nothing was written), the values changed, the files written, the
        figures changed and the dossier's own findings after the import.

    """
    from deliberation import pipeline
    from deliberation.diff import compare, snapshot
    from deliberation.settings import Settings

    result = Imported(dry_run=dry_run)
    if not dossier.is_dir():
        result.findings.append(error("dossier.introuvable", f"dossier introuvable : {dossier}", Loc(str(dossier))))
        return result
    mappings: dict[str, dict[str, str]] = {}
    if mapping is not None:
        mappings, f = read_mapping(mapping)
        result.findings += f
    docs, f = load_docs(dossier)
    result.findings += f
    if (dossier / AMENDEMENTS_FILE).exists():
        result.findings.append(warning(
            "xlsx.amendements", "le dossier a des amendements : l'import modifie le dossier présenté (avant "
            "amendements), alors que l'annexe 4 produite par build porte les chiffres adoptés",
            Loc(str(dossier / AMENDEMENTS_FILE))))
    apply = _Apply(docs, result)
    for path in workbooks:
        tables, f = read_workbook(path, str(path), mappings)
        result.findings += f
        for table in tables:
            if table.usable and not (table.kind == BUDGET and "budget.yaml" not in docs.files):
                apply.table(table, str(path))
    apply.finish()
    if result.failed:
        result.edits, result.added = [], []
        return result
    before = pipeline.check(Settings(source=dossier))
    texts = {rel: docs.files[rel].dump() for rel in sorted(apply.changed)}
    texts = {rel: t for rel, t in texts.items() if t != docs.files[rel].text}
    with tempfile.TemporaryDirectory(prefix="deliberation-import-") as tmp:
        target = dossier
        if dry_run:
            target = Path(tmp) / dossier.resolve().name
            shutil.copytree(dossier, target)
        for rel, text in texts.items():
            _write_atomic(target / rel, text)
        result.written = [] if dry_run else list(texts)
        after = pipeline.check(Settings(source=target))
        result.after = after.findings
        if before.presented is not None and after.presented is not None:
            result.changes = compare(snapshot(before.presented, before.presented_figures),
                                     snapshot(after.presented, after.presented_figures))
    return result


def _write_atomic(path: Path, text: str) -> None:
    """Write through a temporary file renamed over the target (a symbolic link's target is replaced)."""
    real = Path(os.path.realpath(path))
    tmp = real.with_name(f".{real.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "w", encoding="utf-8", newline="") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        mode = real.stat().st_mode & 0o777 if real.exists() else None
        if mode is not None:
            os.chmod(tmp, mode)
        os.replace(tmp, real)
    finally:
        if tmp.exists():
            tmp.unlink()
