"""The workbook layout shared by the Excel export (``build``) and import (``import-xlsx``).

Declared once: the sheet names, the columns of the annexe 4 (répartition) sheet and of the budget
sheet, their headers, the other headers a user's workbook may carry for them (a declared column
mapping adds more), their widths and number formats. A workbook that ``build`` writes can be read
back by ``import-xlsx`` and gives the same figures.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

#: Sheet names of ``annexe-4.xlsx``.
SHEET_ANNEXE4 = "Annexe 4"
SHEET_BUDGET = "Contrôle budgétaire"
#: A sheet per thématique is also accepted on import: « Thématique 1 », « T1 », « Thématique n°3 »…
SHEET_THEMATIQUE = re.compile(r"^\s*(?:th[ée]matique|t)\s*(?:n\s*[°o]\s*)?(\d+)\s*$", re.I)

#: Number formats (Excel codes; Excel and LibreOffice show them with the user's French separators).
FMT_MONEY = '#,##0.00\\ "€"'
FMT_DECIMAL = "#,##0.00"
FMT_INTEGER = "#,##0"
FMT_DATE = "DD/MM/YYYY"
FMT_TEXT = "@"

#: Subtotal rows carry this word at the start of the label column and no line id.
TOTAL = "TOTAL"


@dataclass(frozen=True)
class Column:
    """One column: the field it holds, its header, other accepted headers, width and number format."""

    key: str
    header: str
    synonyms: tuple[str, ...] = ()
    width: float = 12
    number_format: str | None = None
    required: bool = False  # a workbook without it cannot be imported


#: The annexe 4 sheet, one row per ligne of the dossier (``key`` is the ``Ligne`` field, or
#: ``thematique``/``operation``/``budget`` for the numbers of its thématique and opération and the
#: code of its budget line; ``debut``/``fin`` are its période; ``volume``/``unite`` its volume).
ANNEXE4_COLUMNS: tuple[Column, ...] = (
    Column("thematique", "Thématique", ("N° thématique", "Thématique n°"), 11, FMT_INTEGER),
    Column("operation", "Opération", ("N° opération", "Opération n°"), 10, FMT_INTEGER),
    Column("id", "Ligne", ("Id ligne", "Identifiant", "Identifiant ligne", "Réf. ligne"), 22, FMT_TEXT, True),
    Column("territoire", "Territoire", ("Territoire MDS", "MDS", "Territoires"), 16),
    Column("structure", "Code structure", ("Clé structure", "Id structure"), 16, FMT_TEXT),
    Column("nom", "Structure", ("Nom de la structure", "Porteur", "Opérateur"), 28),
    Column("convention", "Convention", ("Clé convention",), 14),
    Column("nature", "Nature", ("Type de ligne",), 14),
    Column("etp", "ETP", ("Nombre d'ETP", "ETP retenus"), 8, FMT_DECIMAL),
    Column("etp_valorises", "ETP valorisés", (), 10, FMT_DECIMAL),
    Column("volume", "Volume", ("Nombre", "Places", "Diagnostics"), 10, FMT_INTEGER),
    Column("unite", "Unité", ("Unité du volume",), 12),
    Column("debut", "Début", ("Date de début", "Du"), 12, FMT_DATE),
    Column("fin", "Fin", ("Date de fin", "Au"), 12, FMT_DATE),
    Column("description", "Action", ("Description", "Description de l'action", "Objet", "Libellé"), 60),
    Column("montant", "Montant", ("Montant retenu", "Montant proposé", "Montant (€)", "Proposition"), 16,
           FMT_MONEY, True),
    Column("document", "Document à signer", ("Document", "Modèle", "Document à signer (modèle)"), 16),
    Column("budget", "Code opération", ("Code budgétaire", "Ligne budgétaire", "Code opé."), 14, FMT_TEXT),
)

#: The budget sheet: one row per budget line (the budget-situation workbook of the finance system
#: has the first five; ``proposition`` and ``solde`` are formulas in the export, ignored on import).
BUDGET_COLUMNS: tuple[Column, ...] = (
    Column("code", "Code opération", ("Code", "Code opé.", "Opération", "Code budgétaire"), 14, FMT_TEXT, True),
    Column("imputation", "Imputation", ("Imputation budgétaire", "Nature/fonction"), 14, FMT_TEXT),
    Column("libelle", "Libellé", ("Libellé opération", "Intitulé"), 40),
    Column("ae", "AE", ("Autorisation d'engagement", "AE votée", "Montant AE"), 16, FMT_MONEY),
    Column("disponible", "Disponible", ("Disponible AE", "Crédits disponibles", "AE disponible"), 16, FMT_MONEY,
           True),
    Column("proposition", "Proposition", ("Proposition de la phase", "Engagement proposé"), 16, FMT_MONEY),
    Column("solde", "Solde", ("Solde disponible", "Reste disponible"), 16, FMT_MONEY),
    # in a programme: the declared gap with what the previous phase left, and its reason (issue 22)
    Column("ajustement", "Ajustement", ("Ajustement du disponible", "Écart déclaré"), 16, FMT_MONEY),
    Column("motif", "Motif de l'ajustement", ("Motif", "Raison de l'ajustement"), 40),
)


def normalise(header: object) -> str:
    """A header as compared: no accents, lower case, single spaces, no trailing colon or unit mark."""
    text = unicodedata.normalize("NFKD", str(header or ""))
    text = "".join(c for c in text if not unicodedata.combining(c)).lower()
    text = re.sub(r"[\s\u00a0\u202f]+", " ", text).strip().rstrip(":").strip()
    return text


def header_index(columns: tuple[Column, ...], mapping: dict[str, str] | None = None) -> dict[str, str]:
    """Normalised header → column key, from the declared headers, their synonyms and ``mapping``.

    ``mapping`` (column key → header used in the user's workbook) comes from a declared column
    mapping and takes precedence.
    """
    index: dict[str, str] = {}
    for col in columns:
        for name in (col.header, *col.synonyms):
            index.setdefault(normalise(name), col.key)
    for key, name in (mapping or {}).items():
        index[normalise(name)] = key
    return index
