"""Reading workbooks for ``import-xlsx``: the column mapping, the zip inspected within limits, sheets and cells.

A workbook is first inspected as a zip, within limits (``MAX_*``: file and uncompressed sizes,
compression ratio, rows and cells per sheet), so that a zip bomb is refused before openpyxl builds
anything. Each sheet's header row is found among its first rows by its known headers (``layout``),
which also tell an annexe 4 sheet from a budget sheet; values are typed from numbers, dates or French
texts (``79 850,00 €``, ``- €``); a value merged down several rows applies to each of them; subtotal
and empty rows are skipped. Every problem is a finding located ``Workbook.xlsx!Sheet!C14``.
"""

from __future__ import annotations

import datetime as dt
import difflib
import io
import os
import posixpath
import re
import stat
import unicodedata
import zipfile
import zlib
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from pathlib import Path
from xml.parsers import expat

from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError
from ruamel.yaml.nodes import ScalarNode

from deliberation.findings import Finding, Loc, error, warning
from deliberation.fmt import date_short, number, plain
from deliberation.load.yaml import _PlainResolver
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
BUDGET_FIELDS = ("imputation", "libelle", "ae", "disponible", "ajustement", "motif")

_LIGNE_KINDS = {f.name: f.metadata["kind"] for f in schema_fields(Ligne)}
KINDS: dict[str, Kind] = {
    **{k: _LIGNE_KINDS[p[0]] for k, p in LIGNE_PATHS.items() if len(p) == 1},
    "volume": {f.name: f.metadata["kind"] for f in schema_fields(Volume)}["nombre"],
    "unite": {f.name: f.metadata["kind"] for f in schema_fields(Volume)}["unite"],
    "debut": {f.name: f.metadata["kind"] for f in schema_fields(Periode)}["debut"],
    "fin": {f.name: f.metadata["kind"] for f in schema_fields(Periode)}["fin"],
    "budget": Text(), "code": Text(), "imputation": Text(), "libelle": Text(), "ae": Money(), "disponible": Money(),
    "ajustement": Money(), "motif": Text(),
}
MONEY_KEYS = {"montant", "ae", "disponible", "ajustement"}
DECIMAL_KEYS = {"etp", "etp_valorises", "volume"}
DATE_KEYS = {"debut", "fin"}
#: What a ligne must have when the workbook adds it to an opération.
NEW_LIGNE_REQUIRED = ("territoire", "structure", "convention", "nature", "debut", "fin", "montant", "document",
                      "description")


def cell_loc(where: str) -> Loc:
    """A location in a workbook (``Workbook.xlsx!Sheet!C14``), no line number."""
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
        data = rt_yaml().load(path.read_text(encoding="utf-8-sig"))
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
    return error("xlsx.illisible", f"classeur illisible : {reason}", cell_loc(display))


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
        raise _Refused(error(code, message, cell_loc(f"{self.display}!{sheet}" if sheet else self.display)))

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
                              f"lignes et {_n(MAX_CELLS)} cellules par feuille", cell_loc(f"{display}!{ws.title}"))]
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
                              cell_loc(display)))
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
        return b"", error("xlsx.introuvable", "classeur introuvable", cell_loc(display))
    except OSError as err:
        return b"", _unreadable(display, os_reason(err))
    if len(data) > MAX_FILE_BYTES:
        return b"", _too_large(display, len(data))
    return data, None


def _too_large(display: str, size: int) -> Finding:
    return error("xlsx.taille", f"classeur trop volumineux : {_mo(size)} (au plus {_mo(MAX_FILE_BYTES)})",
                 cell_loc(display))


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
                    f"en-tête « {clip(text)} » fusionné sur les colonnes {cols} : une colonne par en-tête "
                    f"(défusionnez les cellules {rng.coord})", cell_loc(where(rng.start_cell.coordinate))))
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
                                  f"colonne « {clip(text)} » en double : la colonne {first} "
                                  f"(« {labels[key]} ») donne déjà {column_of(columns, key).header.lower()}",
                                  cell_loc(where(cell.coordinate))))
            continue
        table.columns[key] = c
        labels[key] = str(text).strip()
    for col in columns:
        if col.required and col.key not in table.columns:
            accepted = ", ".join(f"« {h} »" for h in (col.header, *col.synonyms))
            findings.append(error("xlsx.colonne_manquante",
                                  f"colonne obligatoire « {col.header} » absente de la feuille "
                                  f"{KIND_NAMES[kind]} (en-têtes acceptés : {accepted} ; ou --colonnes)",
                                  cell_loc(where(f"A{header}"))))
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


def column_of(columns: tuple[Column, ...], key: str) -> Column:
    """The column of a layout with key ``key``."""
    return next(c for c in columns if c.key == key)


def clip(value: object, n: int = 50) -> str:
    """A value on one line, at most ``n`` characters, for a message."""
    text = " ".join(str(value).split())
    return text if len(text) <= n else text[: n - 1] + "…"


# ---------------------------------------------------------------------------
# cell values → typed values


def cell_text(raw: object) -> str:
    """A cell's value as text (a whole float without its « .0 »)."""
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
    loc = cell_loc(value.where)
    if key in ("thematique", "operation"):
        n = _number_of(raw)
        if n is None:
            what = "thématique" if key == "thematique" else "opération"
            return None, error("xlsx.numero", f"numéro de {what} illisible : « {clip(raw)} »", loc)
        return n, None
    if key in MONEY_KEYS or key in DECIMAL_KEYS:
        number_ = _decimal(raw, key in MONEY_KEYS)
        if number_ is None:
            if key in MONEY_KEYS:
                return None, error("xlsx.montant", f"montant illisible : « {clip(raw)} » ; attendu : un nombre "
                                   "(79 850,00 ou 79850.00, « - € » pour zéro)", loc)
            return None, error("xlsx.nombre", f"{key} : nombre illisible : « {clip(raw)} »", loc)
        try:
            kind_value = KINDS[key].convert(ScalarNode("tag:yaml.org,2002:str", format(number_, "f")), None, "")
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
        text = cell_text(raw)
        try:
            return Date().convert(ScalarNode("tag:yaml.org,2002:str", text), None, ""), None
        except Invalid as inv:
            code = "xlsx.date_inexistante" if inv.code == "date.inexistante" else "xlsx.date"
            return None, error(code, f"{_FIELD_NAMES.get(key, key)} : {inv.message}", loc)
    text = cell_text(raw)
    if key in ("budget", "code"):
        return text.upper().replace(" ", ""), None
    if key == "nom":
        return text, None
    try:
        return KINDS[key].convert(ScalarNode("tag:yaml.org,2002:str", text), None, ""), None
    except Invalid as inv:
        return None, error("xlsx.valeur", f"{_FIELD_NAMES.get(key, key)} : {inv.message}", loc)


def typed_row(values: dict[str, Value], findings: list[Finding]) -> dict[str, object] | None:
    """A row's cells converted (``convert``); None when one cannot be, its finding added to ``findings``.

    A formula Excel stored no value for is ignored with a warning (computed columns silently).
    """
    typed: dict[str, object] = {}
    ok = True
    for key, value in values.items():
        if key in ("proposition", "solde", "nom") and value.formula is not None:
            continue
        if value.formula is not None:
            findings.append(warning(
                "xlsx.formule", f"formule sans valeur enregistrée ({clip(value.formula)}) : valeur ignorée ; "
                "enregistrez le classeur dans Excel ou LibreOffice, ou saisissez la valeur", cell_loc(value.where)))
            continue
        v, finding = convert(key, value)
        if finding is not None:
            findings.append(finding)
            ok = False
        else:
            typed[key] = v
    return typed if ok else None


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

def rt_yaml() -> YAML:
    """Round-trip YAML reading every scalar as the text it is written as (no float, no date)."""
    y = YAML(typ="rt")
    y.Resolver = _PlainResolver  # every scalar stays the text it is written as (no float, no date)
    y.preserve_quotes = True
    y.width = 1_000_000  # never fold a long line
    y.indent(mapping=2, sequence=4, offset=2)
    return y
