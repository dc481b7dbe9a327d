"""The register of acts: one row per avenant or convention of the phase, as the lawyers review them.

Each row says which structure signs (its legal name), which convention the act amends (or « nouvelle
convention »), the voted model(s) it follows, its conformity to them (``render.acts.conformity``, the
same comparison as the review sheet), its status (complete, or PROJET with the values still missing and
the reconstructed texts), the amount the phase gives it and its budget lines. The rows are drawn from the
same act contexts as the documents; the workbook (``xlsx.register``), the PDF (``register_docx``, converted
with the bundle) and the web page show them.
"""

from __future__ import annotations

import copy
import datetime as dt
import io
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from deliberation import fmt
from deliberation.acts import Act, convention_designation
from deliberation.findings import Loc
from deliberation.fsio import normalise_zip
from deliberation.outcome import Checked
from deliberation.plan import annexes
from deliberation.render.acts import act_context, act_paths, load_clauses
from deliberation.resources import templates_dir as engine_templates

#: Where the register goes in the bundle, and the signature pack (every act whose values are complete).
REGISTRE_XLSX = "actes/registre.xlsx"
REGISTRE_PDF = "actes/registre.pdf"
REGISTRE_DOCX = "actes/registre.docx"  # converted to REGISTRE_PDF, never written itself
ACTES_PDF = "actes.pdf"

#: The register's columns, as printed (workbook, PDF, web page).
COLUMNS = ("N°", "Structure (raison sociale)", "Convention", "Modèle voté", "Conformité au modèle", "Statut",
           "Valeurs à compléter", "Montant", "Ligne budgétaire")
#: Column widths of the PDF's table (cm, landscape A4 less margins: 26.7 cm).
DOCX_WIDTHS = (0.9, 3.6, 4.4, 3.0, 2.7, 3.2, 4.6, 2.2, 2.1)


@dataclass(frozen=True)
class Entry:
    """One act of the register."""

    numero: int
    structure: str  # legal name (raison sociale, else usual name)
    structure_key: str
    kind: str  # "avenant" or "convention"
    convention: str  # « Avenant à la convention n°2024-01213 », « Nouvelle convention »
    document: str  # the act's path in the bundle, without extension (``actes/<structure>/avenant-<clé>``)
    modeles: tuple[str, ...]  # the voted models cited, with their annex (« avenant-9 (annexe 9) »)
    conforme: bool | None  # None: nothing to compare with (a convention, no avenant model cited)
    ecarts: int  # articles differing from the model
    blancs: int  # declared blanks of the voted text filled with the act's values
    manquants: tuple[str, ...]  # values left blank in the act
    reconstitutions: tuple[str, ...]  # engine texts not adopted (the act is then a PROJET)
    montant: Decimal
    lignes_budgetaires: tuple[str, ...]
    lignes: tuple[str, ...]  # the dossier's line ids
    loc: Loc

    @property
    def complet(self) -> bool:
        """No value left blank (the act may still be a PROJET for a reconstructed text)."""
        return not self.manquants

    @property
    def projet(self) -> bool:
        """True when the act is printed as a PROJET: a blank value or a reconstructed text."""
        return bool(self.manquants or self.reconstitutions)

    @property
    def statut(self) -> str:
        """« complet » or « PROJET »."""
        return "PROJET" if self.projet else "complet"

    @property
    def statut_detail(self) -> str:
        """The status in words, with why it is a PROJET."""
        if self.manquants:
            return f"PROJET — {len(self.manquants)} valeur(s) à compléter"
        if self.reconstitutions:
            return "PROJET — valeurs complètes, texte reconstitué : " + ", ".join(self.reconstitutions)
        return "complet"

    @property
    def modele(self) -> str:
        """The model(s) followed, in words."""
        if self.kind == "convention":
            return "convention type"
        return ", ".join(self.modeles) or "aucun"

    @property
    def conformite(self) -> str:
        """The conformity to the model, in words."""
        if self.conforme is None:
            return "sans objet"
        if self.conforme:
            return f"conforme ({self.blancs} blanc(s) déclaré(s))" if self.blancs else "conforme"
        return f"non conforme ({self.ecarts} article(s))"

    @property
    def montant_texte(self) -> str:
        """The amount in French (« 53 700,00 € »)."""
        return fmt.money(self.montant)


def register(checked: Checked, templates_dir: Path | None = None) -> list[Entry]:
    """The register of a checked dossier's acts, in the order of the bundle (the order of the lines)."""
    d = checked.dossier
    if d is None:
        return []
    clauses = load_clauses(templates_dir or engine_templates())
    numbers = {a.modele.id: a.numero for a in annexes(d) if a.kind == "modele"}
    out = []
    for i, (act, path) in enumerate(zip(checked.acts, act_paths(checked.acts), strict=True), 1):
        ctx, blanks = act_context(act, d, clauses)
        out.append(_entry(i, act, path, ctx, blanks, numbers))
    return out


def _entry(i: int, act: Act, path: str, ctx: dict, blanks: list, numbers: dict[str, int]) -> Entry:
    s = act.structure
    legal = (s.raison_sociale or s.nom) if s else None
    if act.kind == "convention":
        convention = "Nouvelle convention"
    else:
        convention = f"Avenant à la convention {convention_designation(act.convention)}"
    conf = ctx.get("conformite")
    budgets: list[str] = []
    for _, o, _ in act.lignes:
        if o.budget and o.budget not in budgets:
            budgets.append(o.budget)
    montant = sum((ligne.montant for _, _, ligne in act.lignes if ligne.montant is not None), Decimal(0))
    return Entry(
        numero=i, structure=legal or act.nom, structure_key=act.structure_key, kind=act.kind,
        convention=convention, document=path,
        modeles=tuple(f"{c} (annexe {numbers[c]})" if c in numbers else c for c in act.modeles_cites),
        conforme=None if conf is None else conf.conforme, ecarts=len(conf.gaps) if conf else 0,
        blancs=conf.blanks if conf else 0,
        manquants=tuple(dict.fromkeys(b.label for b in blanks)),
        reconstitutions=tuple(r["fichier"] for r in ctx.get("reconstitutions", [])),
        montant=montant, lignes_budgetaires=tuple(budgets),
        lignes=tuple(ligne.id or "?" for _, _, ligne in act.lignes), loc=act.loc,
    )


def summary(entries: list[Entry]) -> str:
    """The register in one sentence: « 22 actes : 1 aux valeurs complètes, 21 à compléter ; total … »."""
    complete = sum(e.complet for e in entries)
    total = fmt.money(sum((e.montant for e in entries), Decimal(0)))
    return (f"{fmt.count(len(entries), 'acte')} : {complete} aux valeurs complètes, "
            f"{len(entries) - complete} à compléter ; total {total}.")


def register_title(checked: Checked) -> str:
    """« Registre des actes — Délibération n°2024-587 »."""
    d = checked.dossier
    numero = d.info.deliberation.numero if d and d.info and d.info.deliberation else None
    return "Registre des actes" + (f" — Délibération n°{numero}" if numero else "")


def register_docx(entries: list[Entry], title: str, when: dt.datetime) -> bytes:
    """The register as a landscape Word table (converted to ``actes/registre.pdf``); same rows, same bytes."""
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Cm

    doc = landscape_document()
    doc.add_heading(title, level=1)
    doc.add_paragraph(summary(entries))
    table = doc.add_table(rows=1, cols=len(COLUMNS))
    table.style = "Table Grid"
    table.autofit = False
    widths = [Cm(w) for w in DOCX_WIDTHS]
    for cell, text in zip(table.rows[0].cells, COLUMNS, strict=True):
        cell.text = text
        cell.paragraphs[0].runs[0].bold = True
    rows = [(str(e.numero), e.structure, e.convention, e.modele, e.conformite, e.statut_detail,
             " ; ".join(e.manquants) or "—", e.montant_texte, ", ".join(e.lignes_budgetaires)) for e in entries]
    for values in rows[:1]:  # the first row through python-docx; the others are copies of it (a hundredth of the time)
        row = table.add_row().cells
        for cell, text in zip(row, values, strict=True):
            cell.text = text
        row[7].paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.RIGHT
    for column, width in zip(table.columns, widths, strict=True):
        column.width = width  # the grid LibreOffice lays out
    for r in table.rows:
        for cell, width in zip(r.cells, widths, strict=True):
            cell.width = width
    if len(rows) > 1:
        model = table.rows[1]._tr
        for values in rows[1:]:
            tr = copy.deepcopy(model)
            for tc, text in zip(tr.tc_lst, values, strict=True):
                tc.p_lst[0].r_lst[0].text = text  # what ``cell.text`` writes in a cell holding one run
            table._tbl.append(tr)
    return saved_document(doc, title, when)


def landscape_document():
    """An empty A4 landscape Word document, 1,5 cm margins, 8 pt Liberation Sans (tables of the register, reports)."""
    from docx import Document
    from docx.enum.section import WD_ORIENT
    from docx.shared import Cm, Pt

    doc = Document()
    section = doc.sections[0]
    section.orientation = WD_ORIENT.LANDSCAPE
    section.page_width, section.page_height = Cm(29.7), Cm(21.0)
    for side in ("left_margin", "right_margin", "top_margin", "bottom_margin"):
        setattr(section, side, Cm(1.5))
    style = doc.styles["Normal"]
    style.font.name = "Liberation Sans"
    style.font.size = Pt(8)
    return doc


def saved_document(doc, title: str, when) -> bytes:
    """A python-docx document's bytes, reproducible: titled, authored « deliberation », dated ``when``."""
    props = doc.core_properties
    props.title = title
    props.author = props.last_modified_by = "deliberation"
    props.created = props.modified = when
    props.revision = 1
    buf = io.BytesIO()
    doc.save(buf)
    return normalise_zip(buf.getvalue(), when)
