"""Open data: the adopted phase's subsidies in the SCDL « Subventions » format of data.gouv.fr.

Schema: SCDL « Subventions » version 2.1.1 (schema.data.gouv.fr, ``scdl/subventions``, latest version;
repository https://gitlab.com/opendatafrance/scdl/subventions), a Table Schema. One row per
*financement* line of the phase as adopted (amendments applied); valorisation lines (0 €, ETP already
funded) grant nothing and are left out. The CSV follows the Table Schema defaults, the schema
declaring no dialect of its own: UTF-8 without BOM, comma delimiter, ``"`` quoting only when
needed, CRLF line ends (CSV Dialect default, RFC 4180), a header row of the field names in the
schema's order; missing values are empty strings (``missingValues: [""]``).

What each field takes, and from where:

======================  =====================================================================================
field                   value
======================  =====================================================================================
nomAttribuant           ``phase.yaml`` → ``attribuant.nom``
idAttribuant            ``phase.yaml`` → ``attribuant.siret`` (spaces removed; 14 digits, SIREN and SIRET keys)
dateConvention          the séance date: the Commission Permanente approves the convention or avenant
                        that day; its signature date is unknown when the data are published
referenceDecision       the délibération number (« 2024-587 »)
nomBeneficiaire         the structure's ``raison_sociale`` (legal name), else its ``nom``
idBeneficiaire          the structure's ``siret`` (spaces removed; 14 digits, SIREN and SIRET keys)
rnaBeneficiaire         empty: the registry holds no RNA number, so ``idBeneficiaire`` is required
                        (the schema's one-of-required check on these two fields)
objet                   « <operation title> — <line description> »; beyond the schema's 256 characters, cut
                        at a word with « … » and reported as a warning (the annex 4 text stays whole)
montant                 the line's amount, ``.`` as decimal mark, two decimals (« 50000.00 »)
nature                  « aide en numéraire »: every line pays money (the ETP a mixte line values are not
                        granted in kind by the Département)
conditionsVersement     « unique » or « échelonné »: from the number of instalments in the dispositif sheet
                        (``versements`` in percent), else in the line's existing convention (registry
                        ``versements``); neither known → finding
datesPeriodeVersement   the line's période « AAAA-MM-JJ/AAAA-MM-JJ » (payment dates are not known before
                        signature: the schema then asks for a period)
idRAE                   empty: these are not aids to companies listed in the Répertoire des aides
notificationUE          « non »: the phase's subsidies are not de minimis aids notified to the EC
pourcentageSubvention   « 1.00 »: each line has a single beneficiary
dispositifAide          empty: the dispositif codes (« 1.2 ») are not identifiers of the dispositif-aide
                        schema
======================  =====================================================================================

Every value is checked against the schema's declared constraints (:data:`SCHEMA`); a missing or
broken value is a finding ``scdl.*`` located at the dossier value it comes from, and is left empty.

A free-text value (:data:`FREE_TEXT`) starting with a character that makes a spreadsheet read it as a
formula (``=``, ``+``, ``-``, ``@``, tab, carriage return) is prefixed with an apostrophe, as the OWASP
« CSV Injection » guidance recommends, and reported as a warning ``scdl.formule``. The other fields
never start with those characters: fixed texts, or values checked against a pattern, a date or a
number (a signed number such as ``-5`` is read as a number, not as a formula).

The CSV is written by :func:`deliberation.fsio.write_file`: a folder, a device, a FIFO or a symbolic
link given as the output is refused, never replaced.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from deliberation.findings import Finding, Loc, Severity, error, warning
from deliberation.model import Dossier, Ligne, Operation, Thematique
from deliberation.outcome import Checked
from deliberation.rules.siret import KEY, compact, siret_problem

SCHEMA_NAME = "SCDL Subventions"
SCHEMA_VERSION = "2.1.1"

#: CSV dialect: Table Schema defaults (the schema sets none).
DELIMITER = ","
LINE_TERMINATOR = "\r\n"


@dataclass(frozen=True)
class Field:
    """A field of the schema and its declared constraints (Table Schema ``constraints``)."""

    name: str
    type: str  # string, date, number or boolean
    required: bool = False
    pattern: str | None = None
    max_length: int | None = None
    enum: tuple[str, ...] = ()
    minimum: Decimal | None = None
    maximum: Decimal | None = None


SIRET_PATTERN = r"^\d{14}$"

#: The 16 fields of SCDL Subventions 2.1.1, in the schema's order, with their constraints.
SCHEMA: tuple[Field, ...] = (
    Field("nomAttribuant", "string", required=True),
    Field("idAttribuant", "string", required=True, pattern=SIRET_PATTERN),
    Field("dateConvention", "date", required=True),
    Field("referenceDecision", "string"),
    Field("nomBeneficiaire", "string", required=True),
    # 2.1.0 made it optional (one-of-required with rnaBeneficiaire); its description still says 14 digits
    Field("idBeneficiaire", "string", pattern=SIRET_PATTERN),
    Field("rnaBeneficiaire", "string", pattern=r"^W\d{9}$"),
    Field("objet", "string", required=True, max_length=256),
    Field("montant", "number", required=True),
    Field("nature", "string", required=True, enum=(
        "aide en numéraire", "aide en nature", "aide en numéraire;aide en nature", "aide en nature;aide en numéraire",
    )),
    Field("conditionsVersement", "string", required=True, max_length=256),
    Field("datesPeriodeVersement", "string", required=True,
          pattern=r"^[0-9]{4}\-[0-9]{2}\-[0-9]{2}(\/[0-9]{4}\-[0-9]{2}\-[0-9]{2})?$"),
    Field("idRAE", "string", max_length=5),
    Field("notificationUE", "boolean", required=True),
    Field("pourcentageSubvention", "number", required=True, minimum=Decimal("0.01"), maximum=Decimal("1")),
    Field("dispositifAide", "string"),
)

FIELDS: tuple[str, ...] = tuple(f.name for f in SCHEMA)
BY_NAME = {f.name: f for f in SCHEMA}

#: Table Schema boolean values this schema allows (« Seules les valeurs 'oui' ou 'non' sont autorisées »).
TRUE_VALUES, FALSE_VALUES = ("oui",), ("non",)

#: The schema's custom check: each row names its beneficiary by SIRET or by RNA number.
ONE_OF_REQUIRED = ("idBeneficiaire", "rnaBeneficiaire")

#: Free-text fields: dossier text copied as written (names, délibération number, titles, descriptions). The other
#: string fields are fixed, or checked against a pattern or a list of values none of which starts
#: with a formula character.
FREE_TEXT: tuple[str, ...] = tuple(f.name for f in SCHEMA if f.type == "string" and f.pattern is None and not f.enum)

#: First characters that make a spreadsheet read a cell as a formula (OWASP « CSV Injection »).
FORMULA_START: tuple[str, ...] = ("=", "+", "-", "@", "\t", "\r")
_START_NAMES = {"\t": "une tabulation", "\r": "un retour chariot"}

_NUMBER = re.compile(r"[+-]?\d+(\.\d+)?")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def check_value(f: Field, value: str) -> tuple[str, str] | None:
    """Check one value against a field's declared type and constraints.

    Returns:
        ``(code, reason)`` in French when the value breaks a rule, else None. An empty string is a
        missing value: an error only for a required field.
    """
    if value == "":
        return ("scdl.manquant", "valeur obligatoire absente") if f.required else None
    if f.type == "date":
        try:
            ok = bool(_DATE.fullmatch(value)) and dt.date.fromisoformat(value) is not None
        except ValueError:
            ok = False
        if not ok:
            return "scdl.format", f"date au format AAAA-MM-JJ attendue, trouvé « {value} »"
    elif f.type == "number":
        if not _NUMBER.fullmatch(value):
            return "scdl.format", f"nombre avec un point décimal attendu (« 47800.20 »), trouvé « {value} »"
        try:
            number = Decimal(value)
        except InvalidOperation:  # pragma: no cover - the pattern above only lets numbers through
            return "scdl.format", f"nombre attendu, trouvé « {value} »"
        if f.minimum is not None and number < f.minimum or f.maximum is not None and number > f.maximum:
            return "scdl.bornes", f"valeur entre {f.minimum} et {f.maximum} attendue, trouvé {value}"
    elif f.type == "boolean" and value not in TRUE_VALUES + FALSE_VALUES:
        return "scdl.format", f"« oui » ou « non » attendu, trouvé « {value} »"
    if f.pattern is not None and not re.search(f.pattern, value):
        return "scdl.format", f"motif {f.pattern} attendu, trouvé « {value} »"
    if f.max_length is not None and len(value) > f.max_length:
        return "scdl.longueur", f"au plus {f.max_length} caractères, trouvé {len(value)}"
    if f.enum and value not in f.enum:
        allowed = ", ".join(f"« {v} »" for v in f.enum)
        return "scdl.valeur", f"valeurs admises : {allowed} ; trouvé « {value} »"
    return None


def neutralise(value: str) -> str:
    """``value`` prefixed with an apostrophe when it starts with a formula character, else unchanged."""
    return "'" + value if value.startswith(FORMULA_START) else value


def check_row(row: dict[str, str]) -> list[tuple[str, str, str]]:
    """Check a row against the whole schema: every field, then the one-of-required custom check.

    Returns:
        ``(field, code, reason)`` for each broken rule, in the schema's order.
    """
    out = []
    for f in SCHEMA:
        problem = check_value(f, row.get(f.name, ""))
        if problem is not None:
            out.append((f.name, *problem))
    if all(row.get(name, "") == "" for name in ONE_OF_REQUIRED):
        out.append((ONE_OF_REQUIRED[0], "scdl.manquant",
                    f"{' ou '.join(ONE_OF_REQUIRED)} obligatoire (le bénéficiaire est identifié par l'un des deux)"))
    return out


# ---------------------------------------------------------------------------
# dossier → rows


def _compact(siret: str | None) -> str:
    return compact(siret) if siret else ""


def _money(value: Decimal) -> str:
    return f"{value.quantize(Decimal('0.01')):f}"


def _objet(operation, ligne) -> str:
    """« <operation title> — <description> », whole."""
    return " — ".join(x for x in (operation.titre, ligne.description) if x)


def _cut(text: str) -> tuple[str, bool]:
    """``text`` cut at a word to the objet's 256 characters, with « … »; True if cut."""
    limit = BY_NAME["objet"].max_length
    if len(text) <= limit:
        return text, False
    head = text[: limit - 1]
    cut = head.rsplit(" ", 1)[0] if " " in head else head
    return cut.rstrip(" ,;:—-") + "…", True


def _conditions(ligne, operation, structure, dispositifs) -> str:
    """« unique » or « échelonné », from the dispositif sheet then the line's existing convention; "" if unknown."""
    sheet = dispositifs.get(operation.dispositif) if operation.dispositif else None
    count = len(sheet.versements) if sheet is not None else 0
    if not count and structure is not None:
        conv = structure.conventions.get(ligne.convention)
        count = len(conv.versements or ()) if conv is not None else 0
    return "" if not count else "unique" if count == 1 else "échelonné"


@dataclass(frozen=True)
class _Origin:
    """Where a field's value comes from: its location, how a reader names it, what would fix it."""

    loc: Loc
    what: str
    hint: str = ""


def _row(checked: Checked, operation: Operation, ligne: Ligne) -> tuple[dict[str, str], dict[str, _Origin]]:
    """One row and, per field, the dossier value it comes from."""
    d = checked.dossier
    info = d.info
    att = info.attribuant
    s = d.structures.get(ligne.structure)
    where_line = f"ligne {ligne.id}"
    where_s = f"structure {ligne.structure}" + (f" ({s.nom})" if s is not None and s.nom else "")
    s_loc = s.loc if s is not None else ligne.at("structure")
    periode = ligne.periode
    row = {
        "nomAttribuant": (att.nom or "") if att else "",
        "idAttribuant": _compact(att.siret) if att else "",
        "dateConvention": info.seance.date.isoformat() if info.seance and info.seance.date else "",
        "referenceDecision": (info.deliberation.numero or "") if info.deliberation else "",
        "nomBeneficiaire": ((s.raison_sociale or s.nom or "") if s is not None else ""),
        "idBeneficiaire": _compact(s.siret) if s is not None else "",
        "rnaBeneficiaire": "",
        "objet": _objet(operation, ligne),
        "montant": _money(ligne.montant) if ligne.montant is not None else "",
        "nature": "aide en numéraire",
        "conditionsVersement": _conditions(ligne, operation, s, checked.dispositifs),
        "datesPeriodeVersement": (f"{periode.debut.isoformat()}/{periode.fin.isoformat()}"
                                  if periode and periode.debut and periode.fin else ""),
        "idRAE": "",
        "notificationUE": "non",
        "pourcentageSubvention": "1.00",
        "dispositifAide": "",
    }
    here = info.loc
    sheet = f"la fiche du dispositif {operation.dispositif}" if operation.dispositif else "aucune fiche de dispositif"
    conv = "une nouvelle convention" if ligne.convention == "nouvelle" else f"la convention « {ligne.convention} »"
    origin = {
        "nomAttribuant": _Origin(att.at("nom") if att else here, "phase.yaml, attribuant"),
        "idAttribuant": _Origin((att.at("siret") if att.siret else att.loc) if att else here,
                                "phase.yaml, SIRET de l'attribuant", "(attribuant: {siret: …})"),
        "dateConvention": _Origin(info.seance.at("date") if info.seance else here, "date de la séance"),
        "referenceDecision": _Origin(info.deliberation.at("numero") if info.deliberation else here,
                                     "numéro de la délibération"),
        "nomBeneficiaire": _Origin((s.at("raison_sociale") if s.raison_sociale else s.at("nom")) if s is not None
                                   else s_loc, where_s),
        "idBeneficiaire": _Origin((s.at("siret") if s.siret else s.loc) if s is not None else s_loc,
                                  f"{where_s}, SIRET"),
        "objet": _Origin(ligne.at("description"), f"{where_line}, titre de l'opération et description"),
        "montant": _Origin(ligne.at("montant"), f"{where_line}, montant"),
        "conditionsVersement": _Origin(
            ligne.loc, f"{where_line}, conditions de versement",
            f"(« unique » ou « échelonné » : ni {sheet} ni {conv} du registre ne donnent d'échéancier)"),
        "datesPeriodeVersement": _Origin(ligne.at("periode"), f"{where_line}, période"),
    }
    return row, origin


SCHEMA_LABEL = f"{SCHEMA_NAME} {SCHEMA_VERSION}"


@dataclass(frozen=True)
class ScdlLine:
    """A financement line's SCDL values as the dossier gives them (not yet checked), and where each comes from."""

    values: dict[str, str]
    origin: dict[str, _Origin]
    thematique: Thematique
    operation: Operation
    ligne: Ligne
    attribuant: bool  # phase.yaml names the attribuant


def scdl_lines(checked: Checked) -> list[ScdlLine]:
    """One line per financement or mixte line of the adopted phase (``checked.dossier``), in the dossier's order."""
    d = checked.dossier
    out = []
    for t, o, ligne in d.lignes():
        if ligne.nature == "valorisation":
            continue
        values, origin = _row(checked, o, ligne)
        out.append(ScdlLine(values, origin, t, o, ligne, d.info.attribuant is not None))
    return out


def missing_attribuant(d: Dossier) -> list[Finding]:
    """The finding of a phase without attribuant (reported once, not on every row)."""
    if d.info.attribuant is not None:
        return []
    return [error("scdl.attribuant", "attribuant absent de phase.yaml : les données ouvertes "
                  f"({SCHEMA_LABEL}) exigent son nom officiel et son SIRET "
                  "(attribuant: {nom: …, siret: …})", d.info.loc)]


def examine(line: ScdlLine) -> tuple[dict[str, str], list[Finding]]:
    """The row written for ``line`` and the findings on its values.

    Each value that is missing or breaks a rule of the schema is emptied and reported as an ERROR
    ``scdl.*`` at the dossier value it comes from; an objet cut to 256 characters is a WARNING, and so
    is a free-text value neutralised as a possible formula (:func:`neutralise`). One finding per value.
    """
    row, origin, o, ligne = dict(line.values), line.origin, line.operation, line.ligne
    findings = _neutralise_formulas(row, origin, line.thematique, o, ligne)
    row["objet"], cut = _cut(row["objet"])
    if cut:
        findings.append(warning("scdl.objet_tronque", f"ligne {ligne.id} : objet coupé à "
                                f"{BY_NAME['objet'].max_length} caractères ({SCHEMA_LABEL}) : "
                                f"« {row['objet']} »", ligne.at("description")))
    reported = set() if line.attribuant else {"nomAttribuant", "idAttribuant"}  # reported once for the phase
    for name in ("idAttribuant", "idBeneficiaire"):  # the registry's SIRET check, stricter than the pattern
        problem = siret_problem(row[name]) if row[name] else None
        if problem is not None:
            where = origin[name]
            code, shown = ("scdl.siret", row[name]) if problem[0] == KEY else ("scdl.format", f"« {row[name]} »")
            findings.append(error(code, f"{where.what} {shown} : {problem[1]} ({name}, {SCHEMA_LABEL})", where.loc))
            reported.add(name)
    for name, code, reason in check_row({k: "" if k in reported else v for k, v in row.items()}):
        row[name] = ""
        if name in reported:
            continue
        where = origin.get(name, _Origin(ligne.loc, f"ligne {ligne.id}"))
        if name == "idBeneficiaire" and code == "scdl.manquant":
            msg = (f"{where.what.removesuffix(', SIRET')} : SIRET absent du registre ; les données ouvertes "
                   f"({SCHEMA_LABEL}) identifient le bénéficiaire par son SIRET (idBeneficiaire) ou son numéro RNA "
                   "(rnaBeneficiaire), que le registre ne donne pas non plus")
        else:
            msg = f"{where.what} : {name} ({SCHEMA_LABEL}) : {reason}" + (f" {where.hint}" if where.hint else "")
        findings.append(error(code, msg, where.loc))
    for name in reported:
        row[name] = ""
    return row, findings


def scdl_rows(lines: list[ScdlLine]) -> list[dict[str, str]]:
    """The rows written to the CSV (field → text), values checked: see :func:`examine`."""
    return [examine(line)[0] for line in lines]


def _neutralise_formulas(row: dict[str, str], origin: dict[str, _Origin], t, o, ligne) -> list[Finding]:
    """Neutralise the row's free-text values that a spreadsheet would read as formulas; a warning for each."""
    out = []
    for name in FREE_TEXT:
        value = row[name]
        if value == neutralise(value):
            continue
        row[name] = neutralise(value)
        where = origin.get(name, _Origin(ligne.loc, f"ligne {ligne.id}"))
        if name == "objet" and o.titre:  # the objet starts with the operation's title
            where, value = _Origin(o.at("titre"), f"opération {t.numero}.{o.numero}, titre"), o.titre
        elif name == "objet":
            value = ligne.description or value
        first = _START_NAMES.get(value[0], f"« {value[0]} »")
        shown = value.replace("\t", "\\t").replace("\r", "\\r").replace("\n", "\\n")
        out.append(warning("scdl.formule", f"{where.what} : {name} ({SCHEMA_LABEL}) : formule possible dans un "
                           f"tableur, valeur commençant par {first} neutralisée (préfixée d'une apostrophe) : "
                           f"« {shown} »", where.loc))
    return out


def to_csv(rows: list[dict[str, str]]) -> bytes:
    """The rows as CSV bytes: header, schema order, comma, CRLF, UTF-8 (same rows, same bytes)."""
    buf = io.StringIO(newline="")
    writer = csv.writer(buf, delimiter=DELIMITER, lineterminator=LINE_TERMINATOR, quoting=csv.QUOTE_MINIMAL)
    writer.writerow(FIELDS)
    for row in rows:
        writer.writerow([row.get(name, "") for name in FIELDS])
    return buf.getvalue().encode("utf-8")


@dataclass
class ScdlExport:
    """The outcome of an export: the checked dossier, the SCDL findings and the CSV (None when blocked)."""

    checked: Checked
    rows: list[dict[str, str]] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    data: bytes | None = None

    @property
    def reported(self) -> list[Finding]:
        """What to print: the dossier's errors (they block the export), then the SCDL findings."""
        errors = [f for f in self.checked.findings if f.severity is Severity.ERROR]
        return errors + self.findings
