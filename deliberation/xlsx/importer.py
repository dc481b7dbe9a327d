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

A workbook is first inspected as a zip, within limits (``MAX_*``: file and uncompressed sizes,
compression ratio, rows and cells per sheet), so that a zip bomb is refused before openpyxl builds
anything. The command (``commands.import_xlsx``) replaces the changed files all together
(``fsio.write_files``) under the dossier's lock (``bundle.lock.dossier_lock``), which a build holds shared.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import difflib
import io
import os
import posixpath
import re
import shutil
import stat
import tempfile
import unicodedata
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from pathlib import Path
from xml.parsers import expat

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap
from ruamel.yaml.error import YAMLError
from ruamel.yaml.nodes import ScalarNode
from ruamel.yaml.scalarstring import DoubleQuotedScalarString

from deliberation.diff import Change
from deliberation.diff import table as changes_table
from deliberation.findings import Finding, Loc, Severity, error, warning
from deliberation.fmt import date_short, money, number, plain
from deliberation.fsio import refuse_reason
from deliberation.load import AMENDEMENTS_FILE, THEMATIQUES_DIR
from deliberation.load.yaml import _PlainResolver, is_inside
from deliberation.messages import library_error, os_reason, yaml_problem
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
        return {}, [error("xlsx.colonnes", f"fichier de correspondance illisible : {library_error(err)}", Loc(file))]
    except YAMLError as err:
        msg = f"fichier de correspondance : YAML mal formé ({yaml_problem(str(err))})"
        return {}, [error("xlsx.colonnes", msg, Loc(file))]
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


# ---------------------------------------------------------------------------
# limits: a workbook is inspected as a zip before openpyxl parses it

#: Bytes of a workbook file.
MAX_FILE_BYTES = 20 * 1024 * 1024
#: Files in the workbook's zip.
MAX_MEMBERS = 1_000
#: Uncompressed bytes of one file of the zip, and of all of them.
MAX_MEMBER_BYTES = 50 * 1024 * 1024
MAX_TOTAL_BYTES = 100 * 1024 * 1024
#: Compression ratio of a file of the zip larger than ``RATIO_FLOOR`` bytes uncompressed.
MAX_RATIO = 100
RATIO_FLOOR = 1024 * 1024
#: Rows (highest row number) and cells (rows × columns) of one sheet.
MAX_ROWS = 50_000
MAX_CELLS = 200_000
#: Cells, and shared strings, of a whole workbook.
MAX_WORKBOOK_CELLS = 500_000
#: XML elements of a whole workbook (styles, comments… anything openpyxl would build objects for).
MAX_ELEMENTS = 4_000_000

_WORKBOOK, _WORKBOOK_RELS = "xl/workbook.xml", "xl/_rels/workbook.xml.rels"
_COLUMNS: dict[str, int] = {}  # column letters → number, as met
_OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # an old .xls, or an .xlsx encrypted with a password
_REF = re.compile(r"\$?([A-Za-z]{1,3})?\$?(\d{1,7})?(?::\$?([A-Za-z]{1,3})?\$?(\d{1,7})?)?")
_XML_ERRORS = {
    expat.errors.XML_ERROR_NO_ELEMENTS: "vide ou tronqué",
    expat.errors.XML_ERROR_UNKNOWN_ENCODING: "encodage non pris en charge",
    expat.errors.XML_ERROR_INCORRECT_ENCODING: "encodage incorrect",
    expat.errors.XML_ERROR_INVALID_TOKEN: "caractère ou balise invalide",
    expat.errors.XML_ERROR_TAG_MISMATCH: "balise fermante qui ne correspond pas",
    expat.errors.XML_ERROR_UNCLOSED_TOKEN: "balise non terminée",
    expat.errors.XML_ERROR_JUNK_AFTER_DOC_ELEMENT: "contenu après la fin du document",
    expat.errors.XML_ERROR_UNDEFINED_ENTITY: "entité non définie",
}


def _n(value: int) -> str:
    return plain(number(Decimal(value), 0))


def _mo(size: int) -> str:
    return f"{plain(number(Decimal(size) / (1024 * 1024), 1))} Mo"


def _unreadable(display: str, reason: str) -> Finding:
    return error("xlsx.illisible", f"classeur illisible : {reason}", _loc(display))


class _Refused(Exception):
    """Stops the inspection: the workbook is refused for ``finding``."""

    def __init__(self, finding: Finding):
        super().__init__(finding.message)
        self.finding = finding


def _col_number(letters: str) -> int:
    n = 0
    for ch in letters.upper():
        n = n * 26 + ord(ch) - 64
    return n


def _bounds(ref: str) -> tuple[int, int, int, int] | None:
    """``A1:XFD1048576`` → (first row, first column, last row, last column); None if not a cell range."""
    m = _REF.fullmatch(ref.strip())
    if not m or not (m.group(1) and m.group(2)):
        return None
    c1, r1 = _col_number(m.group(1)), int(m.group(2))
    c2 = _col_number(m.group(3)) if m.group(3) else c1
    r2 = int(m.group(4)) if m.group(4) else r1
    return min(r1, r2), min(c1, c2), max(r1, r2), max(c1, c2)


def _not_a_zip(data: bytes) -> str:
    if data.startswith(_OLE):
        return ("ce n'est pas un fichier Excel .xlsx (un ancien .xls, ou un classeur protégé par mot de passe : "
                "enregistrez-le en .xlsx, sans mot de passe)")
    if data.startswith(b"PK"):
        return "archive zip endommagée (répertoire de l'archive introuvable : fichier tronqué ?)"
    return ("ce n'est pas un fichier Excel .xlsx (pas une archive zip ; un ancien .xls ou un .csv s'enregistre "
            "d'abord en .xlsx)")


def _zip_reason(err: Exception, member: str | None) -> str:
    text = str(err)
    if isinstance(err, zipfile.BadZipFile) and "CRC" in text:
        what = "somme de contrôle (CRC) fausse"
    elif isinstance(err, zipfile.BadZipFile) and "magic" in text:
        what = "en-tête de fichier incorrect"
    elif isinstance(err, zlib.error):
        what = "données compressées corrompues"
    elif isinstance(err, EOFError):
        what = "archive tronquée"
    else:
        what = "structure incorrecte"
    return f"archive zip endommagée ({what}{f' : {member}' if member else ''})"


class _Scan:
    """Streams a workbook's XML files through expat: well-formed, no DOCTYPE, and within the limits."""

    def __init__(self, display: str):
        self.display = display
        self.elements = 0
        self.cells = 0  # in the whole workbook
        self.sheet_names: dict[str, str] = {}  # r:id → sheet name (xl/workbook.xml)
        self.targets: dict[str, str] = {}  # r:id → member (xl/_rels/workbook.xml.rels)
        self.member = ""

    def refuse(self, code: str, message: str, sheet: str | None = None) -> None:
        raise _Refused(error(code, message, _loc(f"{self.display}!{sheet}" if sheet else self.display)))

    def sheet_name(self, member: str) -> str | None:
        for rid, target in self.targets.items():
            path = target.lstrip("/") if target.startswith("/") else posixpath.normpath(f"xl/{target}")
            if path == member and rid in self.sheet_names:
                return self.sheet_names[rid]
        return None

    def scan(self, zf: zipfile.ZipFile, info: zipfile.ZipInfo) -> None:
        """Parse one XML file of the zip (in 1 MiB chunks, constant memory); raises ``_Refused``."""
        self.member = info.filename
        sheet = _SheetCount(self, info.filename)
        parser = expat.ParserCreate(namespace_separator=" ")

        def doctype(*_):
            raise _Refused(_unreadable(self.display, f"XML refusé dans {info.filename} : déclaration DOCTYPE "
                                       "(un classeur Excel n'en a jamais)"))

        def in_sheet(name: str, attrs: dict) -> None:
            self.elements += 1
            if self.elements > MAX_ELEMENTS:
                too_many()
            sheet.element(name[name.rfind(" ") + 1:], attrs)

        def too_many() -> None:
            self.refuse("xlsx.taille", f"classeur trop complexe : plus de {_n(MAX_ELEMENTS)} éléments XML "
                        f"(au plus {_n(MAX_ELEMENTS)})")

        def start(name: str, attrs: dict) -> None:
            self.elements += 1
            if self.elements > MAX_ELEMENTS:
                too_many()
            local = name[name.rfind(" ") + 1:]
            if sheet.root is None:
                sheet.root = local
                if local == "worksheet":
                    parser.StartElementHandler = in_sheet
            elif sheet.root == "sst" and local == "si":
                sheet.strings += 1
                if sheet.strings > MAX_WORKBOOK_CELLS:
                    self.refuse("xlsx.cellules", f"classeur trop grand : plus de {_n(MAX_WORKBOOK_CELLS)} textes "
                                f"partagés ({info.filename}) ; au plus {_n(MAX_WORKBOOK_CELLS)}")
            elif local == "sheet" and info.filename == _WORKBOOK:
                rid = next((v for k, v in attrs.items() if k.endswith(" id")), None)
                if rid is not None and isinstance(attrs.get("name"), str):
                    self.sheet_names[rid] = attrs["name"]
            elif local == "Relationship" and "Id" in attrs and info.filename == _WORKBOOK_RELS:
                self.targets[attrs["Id"]] = attrs.get("Target", "")

        parser.StartDoctypeDeclHandler = doctype
        parser.StartElementHandler = start
        with zf.open(info) as fh:
            try:
                while chunk := fh.read(1 << 20):
                    parser.Parse(chunk, False)
                parser.Parse(b"", True)
            except expat.ExpatError as err:
                while fh.read(1 << 20):
                    pass  # damaged data is the zip's fault: its CRC, checked at the end, says so first
                detail = _XML_ERRORS.get(expat.errors.messages[err.code], "")
                raise _Refused(_unreadable(self.display, f"XML invalide dans {info.filename} (ligne {err.lineno}"
                                           f"{f' : {detail}' if detail else ''})")) from None


@dataclass
class _SheetCount:
    """What one worksheet's XML holds so far: rows, cells, the extent of cells, merges and links."""

    scan: _Scan
    member: str
    root: str | None = None
    row: int = 0
    col: int = 0
    cells: int = 0
    last_row: int = 0
    last_col: int = 0
    strings: int = 0  # shared strings (sharedStrings.xml)

    def where(self) -> tuple[str, str | None]:
        name = self.scan.sheet_name(self.member)
        return (f"la feuille « {name} »" if name else f"la feuille {self.member}"), name

    def extend(self, row: int, col: int, what: str = "") -> None:
        self.last_row, self.last_col = max(self.last_row, row), max(self.last_col, col)
        area = self.last_row * self.last_col
        if self.last_row > MAX_ROWS or area > MAX_CELLS:
            label, name = self.where()
            self.scan.refuse("xlsx.cellules", f"classeur trop grand : {label} va jusqu'à la ligne "
                             f"{_n(self.last_row)} et la colonne {_n(self.last_col)}{what}, soit "
                             f"{_n(area)} cellules : au plus {_n(MAX_ROWS)} lignes et {_n(MAX_CELLS)} cellules "
                             "par feuille", name)

    def element(self, local: str, attrs: dict) -> None:
        if local == "v":
            return  # most elements: the value of a cell
        if local == "c":
            self.cells += 1
            self.scan.cells += 1
            ref = attrs.get("r")
            row = self.row
            if ref:
                letters = ref.rstrip("0123456789")
                col = _COLUMNS.get(letters)
                if col is None:
                    valid = len(letters) <= 3 and letters.isascii() and letters.isalpha()
                    col = _COLUMNS[letters] = _col_number(letters) if valid else 0
                    if not valid:
                        del _COLUMNS[letters]
                self.col = col or self.col + 1
                digits = ref[len(letters):]
                row = int(digits) if digits and len(digits) <= 7 else row
            else:
                self.col += 1
            if self.cells > MAX_CELLS:
                label, name = self.where()
                self.scan.refuse("xlsx.cellules", f"classeur trop grand : {label} a plus de {_n(MAX_CELLS)} cellules "
                                 f"(lecture arrêtée ligne {_n(self.row)}) : au plus {_n(MAX_CELLS)} par feuille", name)
            if self.scan.cells > MAX_WORKBOOK_CELLS:
                self.scan.refuse("xlsx.cellules", f"classeur trop grand : plus de {_n(MAX_WORKBOOK_CELLS)} cellules "
                                 f"en tout : au plus {_n(MAX_WORKBOOK_CELLS)} par classeur")
            if row > self.last_row or self.col > self.last_col:
                self.extend(row, self.col)
        elif local == "row":
            r = attrs.get("r")
            self.row = int(r) if r and r.isdigit() else self.row + 1
            self.col = 0
            if self.row > self.last_row:
                self.extend(self.row, 1)
        elif local == "dimension" and attrs.get("ref"):
            b = _bounds(attrs["ref"])
            if b:
                self.extend(b[2], b[3], f" (dimension déclarée {attrs['ref']})")
        elif local in ("mergeCell", "hyperlink") and attrs.get("ref"):
            b = _bounds(attrs["ref"])
            if b:
                what = "cellules fusionnées" if local == "mergeCell" else "lien"
                self.extend(b[2], b[3], f" ({what} {attrs['ref']})")


def inspect_workbook(data: bytes, display: str) -> list[Finding]:
    """Check a workbook against the limits before it is parsed; a refusal is one located finding.

    The zip's directory gives each file's size and compression ratio (``zipfile`` never inflates a
    file past its declared size), then every XML file is streamed once through expat: well-formed,
    no DOCTYPE, and rows and cells counted (each sheet's ``dimension``, cells, merges and links),
    stopping at the first limit passed. A zip bomb is thus refused at once, in constant memory.
    """
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, ValueError, OSError):
        return [_unreadable(display, _not_a_zip(data))]
    scan = _Scan(display)
    with zf:
        try:
            _check_members(zf, scan)
            infos = zf.infolist()
            first = (_WORKBOOK_RELS, _WORKBOOK)  # sheet names first: findings name the sheet
            infos.sort(key=lambda i: first.index(i.filename) if i.filename in first else len(first))
            for info in infos:
                if info.filename.lower().endswith((".xml", ".rels")):
                    scan.scan(zf, info)
        except _Refused as stop:
            return [stop.finding]
        except (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError, RuntimeError,
                NotImplementedError) as err:
            return [_unreadable(display, _zip_reason(err, scan.member))]
    return []


def _check_members(zf: zipfile.ZipFile, scan: _Scan) -> None:
    """Sizes, ratios, encryption and compression methods of the zip's files; the package is an xlsx one."""
    infos = zf.infolist()
    if len(infos) > MAX_MEMBERS:
        scan.refuse("xlsx.taille", f"classeur refusé : {_n(len(infos))} fichiers dans l'archive "
                    f"(au plus {_n(MAX_MEMBERS)})")
    names = {i.filename for i in infos}
    if "[Content_Types].xml" not in names:
        if "mimetype" in names and b"opendocument" in zf.read("mimetype")[:100]:
            raise _Refused(_unreadable(scan.display, "classeur OpenDocument (.ods), pas Excel : enregistrez-le "
                                       "au format Excel .xlsx"))
        raise _Refused(_unreadable(scan.display, "archive zip qui n'est pas un classeur Excel .xlsx "
                                   "([Content_Types].xml absent)"))
    if not any(n.startswith("xl/") for n in names):
        kind = "un document Word" if any(n.startswith("word/") for n in names) else "un autre document Office"
        raise _Refused(_unreadable(scan.display, f"{kind}, pas un classeur Excel .xlsx (dossier xl/ absent)"))
    total = 0
    for info in infos:
        if info.flag_bits & 0x1:
            raise _Refused(_unreadable(scan.display, f"{info.filename} est chiffré (classeur protégé par mot de "
                                       "passe ?) : enregistrez-le sans mot de passe"))
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise _Refused(_unreadable(scan.display, f"{info.filename} : méthode de compression non prise en "
                                       f"charge ({info.compress_type}) ; réenregistrez le classeur dans Excel"))
        if info.file_size > MAX_MEMBER_BYTES:
            scan.refuse("xlsx.taille", f"classeur trop volumineux : {info.filename} fait {_mo(info.file_size)} une "
                        f"fois décompressé (au plus {_mo(MAX_MEMBER_BYTES)} par fichier de l'archive)")
        ratio = info.file_size / max(info.compress_size, 1)
        if info.file_size > RATIO_FLOOR and ratio > MAX_RATIO:
            scan.refuse("xlsx.taille", f"classeur refusé : {info.filename} se décompresse {_n(int(ratio))} fois "
                        f"({_mo(info.compress_size)} → {_mo(info.file_size)}) ; au plus {_n(MAX_RATIO)} fois "
                        "(bombe de décompression ?)")
        total += info.file_size
    if total > MAX_TOTAL_BYTES:
        scan.refuse("xlsx.taille", f"classeur trop volumineux : {_mo(total)} une fois décompressé "
                    f"(au plus {_mo(MAX_TOTAL_BYTES)})")


def _openpyxl_reason(err: Exception) -> str:
    """Why openpyxl could not read a workbook the inspection let through, in French."""
    m = re.search(r"named '([^']+)'", str(err))
    if isinstance(err, KeyError) and m:
        return f"la partie {m.group(1)} manque dans l'archive"
    name = type(err).__name__
    if "XMLSyntax" in name or name in ("ParseError", "ExpatError"):
        line = getattr(err, "lineno", None) or (getattr(err, "position", None) or (None,))[0]
        return f"XML invalide (ligne {line})" if isinstance(line, int) else "XML invalide"
    if isinstance(err, zipfile.BadZipFile | zlib.error | EOFError):
        return _zip_reason(err, None)
    return f"le contenu ne suit pas le format Excel .xlsx (erreur {type(err).__name__})"


def read_workbook(path: Path, display: str, mappings: dict[str, dict[str, str]] | None = None,
                  ) -> tuple[list[Table], list[Finding]]:
    """Read every recognised sheet of a workbook into tables; problems are located findings.

    Args:
        path: the ``.xlsx`` file.
        display: the file's name as the user gave it (findings say ``display!Sheet!C14``).
        mappings: declared column mapping (see ``read_mapping``).

    """
    from openpyxl import load_workbook

    data, refused = _read_file(path, display)
    if refused is not None:
        return [], [refused]
    findings = inspect_workbook(data, display)
    if findings:
        return [], findings
    try:
        wb = load_workbook(io.BytesIO(data))
    except Exception as err:  # noqa: BLE001 - openpyxl raises many kinds on a damaged or foreign file
        return [], [_unreadable(display, _openpyxl_reason(err))]
    for ws in wb.worksheets:  # the inspection bounds this already: a last guard before cells are walked
        if ws.max_row > MAX_ROWS or ws.max_row * ws.max_column > MAX_CELLS:
            return [], [error("xlsx.cellules", f"classeur trop grand : la feuille « {ws.title} » a "
                              f"{_n(ws.max_row)} lignes × {_n(ws.max_column)} colonnes : au plus {_n(MAX_ROWS)} "
                              f"lignes et {_n(MAX_CELLS)} cellules par feuille", _loc(f"{display}!{ws.title}"))]
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


def _read_file(path: Path, display: str) -> tuple[bytes, Finding | None]:
    """The workbook's bytes, or why they are not read (missing, not a regular file, too large)."""
    try:
        st = os.stat(path)
        if not stat.S_ISREG(st.st_mode):
            what = "c'est un dossier" if stat.S_ISDIR(st.st_mode) else "ce n'est pas un fichier ordinaire"
            return b"", _unreadable(display, f"{what}, pas un classeur .xlsx")
        if st.st_size > MAX_FILE_BYTES:
            return b"", _too_large(display, st.st_size)
        with open(path, "rb") as fh:
            data = fh.read(MAX_FILE_BYTES + 1)
    except FileNotFoundError:
        return b"", error("xlsx.introuvable", "classeur introuvable", _loc(display))
    except OSError as err:
        return b"", _unreadable(display, os_reason(err))
    if len(data) > MAX_FILE_BYTES:
        return b"", _too_large(display, len(data))
    return data, None


def _too_large(display: str, size: int) -> Finding:
    return error("xlsx.taille", f"classeur trop volumineux : {_mo(size)} (au plus {_mo(MAX_FILE_BYTES)})",
                 _loc(display))


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
