"""The programme's year as a report (issue 22): the ledger's tables and two charts, in a Word document.

``programme_report`` lays out, from a ``Ledger``, the phases, the budget lines phase by phase (disponible
declared and expected, adjustment and its reason, proposition, disponible after, gap), the conventions with
each avenant (running ceiling, end date) and the structures' year (per phase, dispositif and territory),
every amount and date in French (``deliberation.fmt``). ``programme_charts`` draws, with matplotlib, the
consumption of each budget line across the phases and each structure's amounts per phase, as PNG: the same
ledger, the same bytes (Agg, DejaVu Sans shipped with matplotlib, fixed DPI, no metadata). matplotlib is an
optional extra (``deliberation[programme]``): without it the report says that its charts are missing.
The report is converted to PDF with the bundle's LibreOffice converter (``bundle.programme``).
"""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

from deliberation import fmt
from deliberation.ledger import BudgetStep, ConventionHistory, Ledger
from deliberation.render.register import landscape_document, saved_document

#: The charts, by file name (as the report and the README show them).
CHART_CONSOMMATION = "programme-consommation.png"
CHART_STRUCTURES = "programme-structures.png"

#: What the views say for a line without dispositif or territory.
NON_RENSEIGNE = "non renseigné"

#: Said in the report when matplotlib is not installed.
NO_CHARTS = ("Graphiques non produits : matplotlib n'est pas installé "
             "(pip install 'deliberation[programme]').")

#: Chart rendering: resolution (dots per inch) and the options that keep the PNG bytes stable.
DPI = 150
RC = {
    "font.family": "DejaVu Sans",  # shipped with matplotlib: the same glyphs everywhere
    "font.size": 9,
    "svg.hashsalt": "deliberation",
    "path.simplify": False,
    "axes.spines.top": False,
    "axes.spines.right": False,
}
PROPOSITION_COLOR = "#4472C4"
APRES_COLOR = "#C0504D"


# ---------------------------------------------------------------------------
# the ledger's rows, as the workbook and the report list them


def phase_order(ledger: Ledger) -> dict[str, int]:
    """Phase name → its rank in the programme."""
    return {p.nom: i for i, p in enumerate(ledger.phases)}


def budget_rows(ledger: Ledger) -> list[BudgetStep]:
    """The budget steps per line (by code), each line's phases in vote order."""
    rank = phase_order(ledger)
    return sorted(ledger.budget, key=lambda b: (b.code, rank.get(b.phase, len(rank))))


def convention_act(h: ConventionHistory) -> str:
    """What a convention's first row says (« convention créée en phase-1 », « convention au 1er janvier »)."""
    if h.origine:
        return f"convention créée en {h.origine}"
    before = f" ({fmt.count(h.avenants_anterieurs, 'avenant antérieur', 'avenants antérieurs')})"
    return "convention au 1er janvier" + (before if h.avenants_anterieurs else "")


def axes(ledger: Ledger) -> tuple[list[str], list[str], list[str]]:
    """The phases (vote order), dispositifs and territories (sorted) of the lines of known amount."""
    lines = [ln for ln in ledger.lignes if ln.montant is not None]
    phases = [p.nom for p in ledger.phases if any(ln.phase == p.nom for ln in lines)]
    dispositifs = sorted({ln.dispositif or NON_RENSEIGNE for ln in lines})
    territoires = sorted({ln.territoire or NON_RENSEIGNE for ln in lines})
    return phases, dispositifs, territoires


def _key(key: str) -> str:
    """A ledger key of a structure's year (« ? » for none) as the views show it."""
    return NON_RENSEIGNE if key == "?" else key


# ---------------------------------------------------------------------------
# charts


def charts_available() -> bool:
    """True when matplotlib can be imported (the optional extra ``deliberation[programme]``)."""
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        return False
    return True


def _euros(value: float, _pos=None) -> str:
    return fmt.money(Decimal(round(value)), cents_shown=False)


def _png(figure) -> bytes:
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(figure)
    buf = io.BytesIO()
    figure.savefig(buf, format="png", dpi=DPI, metadata={"Software": None})
    return buf.getvalue()


def _consommation(ledger: Ledger) -> bytes:
    """Per budget line, one panel: the proposition of each phase (bars), the disponible after it (line)."""
    from matplotlib.figure import Figure
    from matplotlib.ticker import FuncFormatter

    steps = budget_rows(ledger)
    codes = list(dict.fromkeys(b.code for b in steps))
    cols = 1 if len(codes) == 1 else 2
    rows = max(1, -(-len(codes) // cols))
    figure = Figure(figsize=(5.2 * cols, 3.4 * rows), layout="constrained")
    figure.suptitle("Consommation des lignes budgétaires, phase par phase", fontsize=11, fontweight="bold")
    for k, code in enumerate(codes or ["—"]):
        ax = figure.add_subplot(rows, cols, k + 1)
        mine = [b for b in steps if b.code == code]
        names = [b.phase for b in mine]
        x = list(range(len(mine)))
        props = [float(b.proposition or 0) for b in mine]
        bars = ax.bar(x, props, color=PROPOSITION_COLOR, width=0.55, label="proposition de la phase")
        ax.bar_label(bars, labels=[_euros(v) for v in props], fontsize=7, padding=2)
        known = [(i, float(b.apres)) for i, b in zip(x, mine, strict=True) if b.apres is not None]
        if known:
            ax.plot([i for i, _ in known], [v for _, v in known], color=APRES_COLOR, marker="o",
                    label="disponible après la phase")
            for i, v in known:
                ax.annotate(_euros(v), (i, v), textcoords="offset points", xytext=(0, 6), ha="center", fontsize=7,
                            color=APRES_COLOR)
        libelle = mine[0].libelle if mine and mine[0].libelle else ""
        ax.set_title(f"{code}" + (f" — {libelle}" if libelle else ""), fontsize=9)
        ax.set_xticks(x, names)
        ax.yaxis.set_major_formatter(FuncFormatter(_euros))
        ax.set_ylim(0, max([*props, *(v for _, v in known), 1]) * 1.15)
        if k == 0:
            figure.legend(fontsize=8, loc="outside lower center", frameon=False, ncols=2)
    return _png(figure)


def _structures(ledger: Ledger) -> bytes:
    """Per structure, its year's amount as one bar split by phase."""
    from matplotlib.figure import Figure
    from matplotlib.ticker import FuncFormatter

    phases, _, _ = axes(ledger)
    years = list(reversed(ledger.structures))  # the first structure at the top
    figure = Figure(figsize=(10, 1.2 + 0.42 * max(1, len(years))), layout="constrained")
    figure.suptitle("Montants de l'année par structure et par phase", fontsize=11, fontweight="bold")
    ax = figure.add_subplot(1, 1, 1)
    left = [0.0] * len(years)
    palette = ("#4472C4", "#ED7D31", "#A5A5A5", "#FFC000", "#5B9BD5", "#70AD47", "#264478", "#9E480E")
    for k, phase in enumerate(phases):
        widths = [float(y.par_phase.get(phase, 0)) for y in years]
        ax.barh([y.nom for y in years], widths, left=left, color=palette[k % len(palette)], label=phase, height=0.6)
        left = [a + b for a, b in zip(left, widths, strict=True)]
    for i, y in enumerate(years):
        ax.annotate(fmt.money(y.total, cents_shown=False), (left[i], i), textcoords="offset points", xytext=(4, 0),
                    va="center", fontsize=7)
    ax.xaxis.set_major_formatter(FuncFormatter(_euros))
    ax.set_xlim(0, max([*left, 1]) * 1.15)
    if phases:
        figure.legend(fontsize=8, loc="outside lower center", frameon=False, ncols=min(len(phases), 8))
    return _png(figure)


def programme_charts(ledger: Ledger) -> dict[str, bytes]:
    """The report's charts as PNG, by file name; empty without matplotlib. The same ledger, the same bytes."""
    if not charts_available():
        return {}
    import matplotlib

    with matplotlib.rc_context(RC):
        return {CHART_CONSOMMATION: _consommation(ledger), CHART_STRUCTURES: _structures(ledger)}


# ---------------------------------------------------------------------------
# the Word report


def _m(value: Decimal | None) -> str:
    return "" if value is None else fmt.money(value)


def _d(value: dt.date | None) -> str:
    return "" if value is None else fmt.date_long(value)


def programme_title(ledger: Ledger) -> str:
    """« Programme 2025 — le point de l'année »."""
    return f"Programme {ledger.annee or ''} — le point de l'année".replace("  ", " ")


def _table(doc, headers: list[str], rows: list[list[str]], widths: list[float], right: set[int],
           bold_rows: frozenset[int] = frozenset()) -> None:
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn
    from docx.shared import Cm

    table = doc.add_table(rows=1, cols=len(headers))
    table.style = "Table Grid"
    table.autofit = False
    for cell, text in zip(table.rows[0].cells, headers, strict=True):
        cell.text = text
        if text:
            cell.paragraphs[0].runs[0].bold = True
    repeat = OxmlElement("w:tblHeader")  # the header row again on each page the table runs onto
    repeat.set(qn("w:val"), "true")
    table.rows[0]._tr.get_or_add_trPr().append(repeat)
    for n, values in enumerate(rows):
        cells = table.add_row().cells
        for i, (cell, text) in enumerate(zip(cells, values, strict=True)):
            cell.text = text
            if i in right:
                cell.paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.RIGHT
            if n in bold_rows and cell.paragraphs[0].runs:
                cell.paragraphs[0].runs[0].bold = True
    for column, width in zip(table.columns, widths, strict=True):
        column.width = Cm(width)
    for r in table.rows:
        for cell, width in zip(r.cells, widths, strict=True):
            cell.width = Cm(width)


def _heading(doc, text: str, level: int) -> None:
    """A heading kept on the page of what follows it."""
    doc.add_heading(text, level=level).paragraph_format.keep_with_next = True


def _intro(doc, text: str) -> None:
    """A paragraph kept on the page of the table that follows it."""
    doc.add_paragraph(text).paragraph_format.keep_with_next = True


def _picture(doc, png: bytes, width_cm: float) -> None:
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Cm

    doc.add_picture(io.BytesIO(png), width=Cm(width_cm))
    doc.paragraphs[-1].alignment = WD_ALIGN_PARAGRAPH.CENTER


def _budget_section(doc, ledger: Ledger, charts: dict[str, bytes]) -> None:
    _heading(doc, "Lignes budgétaires", 2)
    _intro(doc, "Pour chaque ligne, dans l'ordre des phases : le disponible déclaré par la phase, celui "
                      "qu'elle devait trouver (le disponible laissé par la phase précédente, plus l'ajustement "
                      "déclaré), la proposition adoptée et le disponible qu'elle laisse.")
    rows = []
    for b in budget_rows(ledger):
        ecart = b.disponible - b.attendu if b.disponible is not None and b.attendu is not None else None
        rows.append([b.phase, b.code, b.libelle or "", _m(b.ae), _m(b.disponible), _m(b.attendu), _m(b.ajustement),
                     _m(b.proposition), _m(b.apres), _m(ecart)])
    _table(doc, ["Phase", "Code opération", "Libellé", "AE", "Disponible déclaré", "Attendu", "Ajustement",
                 "Proposition", "Disponible après", "Écart"], rows,
           [1.8, 2.4, 4.5, 2.7, 2.6, 2.6, 2.4, 2.5, 2.6, 2.1], {3, 4, 5, 6, 7, 8, 9})
    for b in ledger.budget:
        if b.ajustement is not None:
            doc.add_paragraph(f"{b.code}, {b.phase} : ajustement de {fmt.money(b.ajustement)} — "
                              f"{b.motif or '(sans motif)'}.")
    if CHART_CONSOMMATION in charts:
        _picture(doc, charts[CHART_CONSOMMATION], 17 if len({b.code for b in ledger.budget}) > 1 else 11)


def _conventions_section(doc, ledger: Ledger) -> None:
    _heading(doc, "Conventions et avenants", 2)
    doc.paragraphs[-1].paragraph_format.page_break_before = True  # after the chart, a page of its own
    _intro(doc, "Chaque convention, puis chacun de ses avenants adoptés dans l'année : le montant ajouté, "
                      "le plafond qui en résulte et la fin de la période.")
    phases = {p.nom: p for p in ledger.phases}
    rows = []
    for h in ledger.conventions:
        origin = phases.get(h.origine) if h.origine else None
        rows.append([h.nom, h.numero or "(à compléter)", convention_act(h), h.origine or "",
                     _d(origin.date if origin else None), _m(h.montant_initial), _m(h.montant_initial),
                     _d(h.periode_initiale[1]) if h.periode_initiale else ""])
        for a in h.avenants:
            rows.append(["", "", f"avenant n°{a.numero}", a.phase, _d(a.date), _m(a.montant), _m(a.plafond),
                         _d(a.periode[1]) if a.periode else ""])
    _table(doc, ["Structure", "Convention", "Acte", "Phase", "Séance", "Montant", "Plafond", "Fin"], rows,
           [4.6, 2.4, 5.0, 2.0, 3.4, 2.9, 2.9, 3.5], {5, 6})


def _structures_section(doc, ledger: Ledger, charts: dict[str, bytes]) -> None:
    _heading(doc, "Structures : l'année", 2)
    phases, _, _ = axes(ledger)
    total = sum((y.total for y in ledger.structures), Decimal(0))
    rows = [[y.nom, *(_m(y.par_phase.get(p, Decimal(0))) for p in phases), _m(y.total)] for y in ledger.structures]
    rows.append(["TOTAL", *(_m(sum((y.par_phase.get(p, Decimal(0)) for y in ledger.structures), Decimal(0)))
                            for p in phases), _m(total)])
    each = min(3.0, (26.7 - 6.0 - 3.0) / max(1, len(phases)))
    _table(doc, ["Structure", *phases, "Total de l'année"], rows, [6.0, *([each] * len(phases)), 3.0],
           set(range(1, len(phases) + 2)), frozenset({len(rows) - 1}))
    if CHART_STRUCTURES in charts:
        _picture(doc, charts[CHART_STRUCTURES], 20)
    _intro(doc, "Par dispositif et par territoire :")
    rows = []
    for y in ledger.structures:
        parts = [("dispositif", k, v) for k, v in sorted(y.par_dispositif.items())]
        parts += [("territoire", k, v) for k, v in sorted(y.par_territoire.items())]
        for n, (kind, key, value) in enumerate(parts):
            rows.append([y.nom if n == 0 else "", kind, _key(key), _m(value)])
    _table(doc, ["Structure", "", "Dispositif ou territoire", "Montant"], rows, [6.0, 2.4, 6.0, 3.2], {3})


def programme_report(ledger: Ledger, when: dt.datetime, charts: dict[str, bytes] | None = None) -> bytes:
    """The programme's report as a landscape Word document (converted to ``programme.pdf``).

    Args:
        ledger: the programme replayed (``build_ledger``).
        when: the date stamped into the document and its zip (the last phase's séance).
        charts: the PNG charts (``programme_charts``), drawn here when not given; empty: no chart, and the
            report says why.

    Returns:
        The DOCX file (the same ledger and date, the same bytes).

    """
    charts = programme_charts(ledger) if charts is None else charts
    doc = landscape_document()
    title = programme_title(ledger)
    _heading(doc, title, 1)
    if ledger.intitule:
        doc.add_paragraph(ledger.intitule)
    last = ledger.phases[-1] if ledger.phases else None
    if last is not None:
        seance = f" (séance du {fmt.date_long(last.date)})" if last.date else ""
        counts = [fmt.count(len(ledger.phases), "phase", None, True),
                  fmt.count(len({b.code for b in ledger.budget}), "ligne budgétaire", "lignes budgétaires", True),
                  fmt.count(len(ledger.conventions), "convention", None, True),
                  fmt.count(len(ledger.structures), "structure financée", "structures financées", True)]
        doc.add_paragraph(f"Situation après {last.nom}{seance} : {', '.join(counts)}.")
    if not charts:
        doc.add_paragraph(NO_CHARTS)
    _heading(doc, "Phases", 2)
    _table(doc, ["Phase", "N°", "Séance", "Délibération"],
           [[p.nom, str(p.numero or ""), _d(p.date), p.deliberation or ""] for p in ledger.phases],
           [3.0, 1.5, 4.5, 3.5], set())
    _budget_section(doc, ledger, charts)
    _conventions_section(doc, ledger)
    _structures_section(doc, ledger, charts)
    if ledger.findings:
        _heading(doc, "Constats du grand livre", 2)
        for f in ledger.findings:
            doc.add_paragraph(f"{f.severity.value} : {f.message} [{f.code}]", style="List Bullet")
    return saved_document(doc, title, when)
