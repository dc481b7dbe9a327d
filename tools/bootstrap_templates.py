"""Write the first version of the Word templates in templates/ (python-docx + docxtpl tags).

The .docx files in templates/ are the source of truth: lawyers edit them in Word or
LibreOffice. This script only bootstrapped them; re-running it overwrites their edits
(``--force`` is required when a template already exists).
"""

from __future__ import annotations

import sys
from pathlib import Path

from docx import Document
from docx.enum.section import WD_ORIENT
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Pt

OUT = Path(__file__).resolve().parents[1] / "deliberation" / "templates"
CENTER = WD_ALIGN_PARAGRAPH.CENTER
RIGHT = WD_ALIGN_PARAGRAPH.RIGHT
JUSTIFY = WD_ALIGN_PARAGRAPH.JUSTIFY


def new_doc(landscape: bool = False) -> Document:
    doc = Document()
    style = doc.styles["Normal"]
    style.font.name = "Arial"
    style.font.size = Pt(10.5)
    section = doc.sections[0]
    section.page_height, section.page_width = Cm(29.7), Cm(21)
    if landscape:
        section.orientation = WD_ORIENT.LANDSCAPE
        section.page_width, section.page_height = Cm(29.7), Cm(21)
    for side in ("left_margin", "right_margin"):
        setattr(section, side, Cm(2))
    return doc


def para(doc, text: str = "", *, bold=False, align=None, size=None, underline=False, space_after=6):
    p = doc.add_paragraph()
    if text:
        run = p.add_run(text)
        run.bold = bold or None
        run.underline = underline or None
        if size:
            run.font.size = Pt(size)
    if align is not None:
        p.alignment = align
    p.paragraph_format.space_after = Pt(space_after)
    return p


def tag(doc, text: str):
    """A paragraph holding only a docxtpl paragraph tag ({%p … %} or {{p … }})."""
    return doc.add_paragraph(text)


def table(doc, headers: list[str], rows: list[list[str]], bold_rows=(), widths=None):
    t = doc.add_table(rows=1 + len(rows), cols=len(headers))
    t.style = "Table Grid"
    t.alignment = WD_TABLE_ALIGNMENT.CENTER
    header = OxmlElement("w:tblHeader")  # repeat the header row on every page
    header.set(qn("w:val"), "true")
    t.rows[0]._tr.get_or_add_trPr().append(header)
    for i, h in enumerate(headers):
        cell = t.rows[0].cells[i]
        cell.text = ""
        run = cell.paragraphs[0].add_run(h)
        run.bold = True
    for r, row in enumerate(rows, 1):
        for i, text in enumerate(row):
            cell = t.rows[r].cells[i]
            cell.text = ""
            run = cell.paragraphs[0].add_run(text)
            if r - 1 in bold_rows:
                run.bold = True
            if text.startswith("{{") and ("montant" in text or "euros" in text or "|" in text):
                cell.paragraphs[0].alignment = RIGHT
    if widths:
        t.autofit = False
        for i, col in enumerate(t._tbl.tblGrid.findall(qn("w:gridCol"))):
            col.set(qn("w:w"), str(int(Cm(widths[i]).twips)))
        for row in t.rows:
            for i, w in enumerate(widths):
                row.cells[i].width = Cm(w)
    return t


ARTICLE_THEMATIQUE = (
    "De valider le financement de {{ a.thematique.dispositifs }} dispositif{{ 's' if a.thematique.dispositifs > 1 }} "
    "de la thématique {{ a.thematique.numero }} « {{ a.thematique.titre }} », pour un montant total de "
    "{{ a.thematique.total|euros_prose }} ainsi que la répartition financière proposée en annexe "
    "{{ annexe_repartition }}"
)
#: « , modifié par l'amendement n°1 » / « , modifié par les amendements n°1 et 2 » where amendments apply.
AMENDED = (
    "{% if LIST %}, modifié par {{ 'les amendements' if LIST|length > 1 else \"l'amendement\" }} "
    "n°{{ LIST|liste }}{% endif %}"
)
AMENDED_TABLE = (
    "{% if a.amendements %} (tableau modifié par {{ 'les amendements' if a.amendements|length > 1 else "
    "\"l'amendement\" }} n°{{ a.amendements|liste }}){% endif %}"
)
SIGN = "D'autoriser le Président du Conseil départemental à signer"
SIGN_RAPPORT = "De m'autoriser à signer"
CONVENTIONS = (
    ", au nom et pour le compte du Département, avec les structures citées en annexe {{ annexe_repartition }}, "
    "les conventions correspondantes selon les modalités présentées au "
)
AVENANTS = (
    ", au nom et pour le compte du Département, avec les structures citées en annexe {{ annexe_repartition }}, "
    "les avenants relatifs aux conventions selon les modalités présentées au "
)
AVENANT_ANNEXES = (
    "dans les termes des projets joints en annexe{{ 's' if a.annexes|length > 1 }} {{ a.annexes|liste }}"
)


def rapport() -> Document:
    doc = new_doc()
    para(doc, "{{ departement }}", bold=True)
    para(doc, "{{ rapport.pole }}", space_after=0)
    para(doc, "{{ rapport.direction }}", space_after=0)
    tag(doc, "{%p if rapport.mission %}")
    para(doc, "{{ rapport.mission }}")
    tag(doc, "{%p endif %}")
    para(doc, "RAPPORT N°{{ rapport.numero }}", bold=True, align=CENTER, size=13)
    para(doc, "Territoire(s): {{ rapport.territoires }}", space_after=0)
    para(doc, "Canton(s): {{ rapport.cantons }}", space_after=0)
    para(doc, "EPCI(s): {{ rapport.epci }}")
    para(doc, "COMMISSION PERMANENTE DU CONSEIL DEPARTEMENTAL", bold=True, align=CENTER)
    para(doc, "REUNION DU {{ seance.date|date_longue|majuscules }}", bold=True, align=CENTER)
    para(doc, "{{ deliberation.titre }}", bold=True, align=CENTER)
    tag(doc, "{{p rapport.introduction }}")
    para(
        doc,
        "{% if rapport.instruction %}{{ rapport.instruction }}, il{% else %}Il{% endif %} est proposé de valider "
        "la mise en œuvre de dispositifs intervenant dans les {{ thematiques|length }} thématiques de l'Appel à "
        "projets{% if rapport.rapport_cadre %}, présentées dans le rapport cadre de la Commission Permanente du "
        "{{ rapport.rapport_cadre|date_longue }}{% endif %} :",
        align=JUSTIFY,
    )
    tag(doc, "{%p for t in thematiques %}")
    para(doc, "Thématique {{ t.numero }} : {{ t.titre }} :", bold=True)
    para(
        doc,
        "{% if t.dispositifs == 1 %}Un dispositif est proposé{% else %}{{ t.dispositifs }} dispositifs sont "
        "proposés{% endif %} pour un total de {{ t.total|euros_prose }} (Annexes {{ t.annexe }} et "
        "{{ annexe_repartition }}).",
    )
    tag(doc, "{%p endfor %}")
    para(doc, "Il convient de statuer sur cette affaire et, le cas échéant :")
    tag(doc, "{%p for a in articles %}")
    tag(doc, "{%p if a.kind == 'thematique' %}")
    doc.add_paragraph(ARTICLE_THEMATIQUE + " ;", style="List Bullet")
    tag(doc, "{%p elif a.kind == 'conventions' %}")
    doc.add_paragraph(
        SIGN_RAPPORT + CONVENTIONS + "présent rapport, dans les termes du modèle type {{ deliberation.modele_type }} ;",
        style="List Bullet",
    )
    tag(doc, "{%p elif a.kind == 'avenants' %}")
    doc.add_paragraph(SIGN_RAPPORT + AVENANTS + "présent rapport, " + AVENANT_ANNEXES + " ;", style="List Bullet")
    tag(doc, "{%p endif %}")
    tag(doc, "{%p endfor %}")
    para(doc, "La dépense serait imputée sur le budget départemental comme suit :")
    table(
        doc,
        ["Code Opération", "Imputation Budgétaire", "Libellé Opération", "AE €", "Disponible €", "Proposition €",
         "Solde €"],
        [
            ["{%tr for b in budget %}", "", "", "", "", "", ""],
            ["{{ b.code }}", "{{ b.imputation }}", "{{ b.libelle }}", "{{ b.ae|montant }}",
             "{{ b.disponible|montant }}", "{{ b.proposition|montant }}", "{{ b.solde|montant }}"],
            ["{%tr endfor %}", "", "", "", "", "", ""],
        ],
    )
    para(doc, "")
    tag(doc, "{%p for c in commissions %}")
    para(
        doc,
        "La {{ c.numero|ordinal }} Commission - {{ c.nom }} a émis un avis {{ c.avis }} sur ce rapport lors de sa "
        "réunion du {{ c.date|date_courte }}.",
    )
    tag(doc, "{%p endfor %}")
    para(doc, "Je vous prie de bien vouloir en délibérer.")
    para(doc, "Le Président du Conseil Départemental", align=RIGHT, space_after=0)
    para(doc, "SIGNE", align=RIGHT, space_after=0)
    para(doc, "{{ seance.president.nom }}", align=RIGHT)
    return doc


def deliberation() -> Document:
    doc = new_doc()
    para(doc, "{{ departement }}", bold=True, align=CENTER)
    para(doc, "DELIBERATION DE LA COMMISSION PERMANENTE", bold=True, align=CENTER, space_after=0)
    para(doc, "DU CONSEIL DEPARTEMENTAL", bold=True, align=CENTER)
    para(doc, "REUNION DU {{ seance.date|date_longue|majuscules }}", bold=True, align=CENTER)
    para(doc, "PRESIDENCE DE {{ seance.presidence }}", bold=True, align=CENTER)
    para(doc, "Secrétaire : {{ seance.secretaire }}")
    para(doc, "Étaient présents : {{ seance.presents|join(', ') }}.", align=JUSTIFY)
    for key, label in (
        ("excuses", "Excusé(s)"),
        ("absents", "Absent(s)"),
        ("presents_sans_voix", "Assistant également sans voix délibérative"),
        ("excuses_sans_voix", "Excusé(s) sans voix délibérative"),
    ):
        tag(doc, f"{{%p if seance.{key} %}}")
        para(doc, f"{label} : {{{{ seance.{key}|join(', ') }}}}.", align=JUSTIFY)
        tag(doc, "{%p endif %}")
    para(doc, "{{ deliberation.titre }}", bold=True, align=CENTER)
    para(doc, "(N°{{ deliberation.numero }})", bold=True, align=CENTER)
    para(doc, "La Commission Permanente du Conseil départemental du Pas-de-Calais,")
    tag(doc, "{%p for v in deliberation.visas %}")
    para(doc, "Vu {{ v }}", align=JUSTIFY)
    tag(doc, "{%p endfor %}")
    tag(doc, "{%p for c in commissions %}")
    para(
        doc,
        "Vu l'avis de la {{ c.numero|ordinal }} commission « {{ c.nom }} » rendu lors de sa réunion en date du "
        "{{ c.date|date_courte }} ;",
        align=JUSTIFY,
    )
    tag(doc, "{%p endfor %}")
    tag(doc, "{%p for m in amendements %}")
    para(doc, "Vu l'amendement n°{{ m.numero }} « {{ m.objet }} », adopté en séance ;", align=JUSTIFY)
    tag(doc, "{%p endfor %}")
    for key, extra in (("presents", ""), ("excuses", " et excusé"), ("absents", " et absent")):
        tag(doc, f"{{%p if seance.interesses_{key}.noms %}}")
        para(
            doc,
            f"{{{{ seance.interesses_{key}.noms }}}}, intéressé{{{{ seance.interesses_{key}.accord }}}} à l'affaire"
            + (f"{extra}{{{{ seance.interesses_{key}.accord }}}}" if extra else "")
            + f", {{{{ seance.interesses_{key}.verbe }}}} pas donné de délégation de vote pour ce rapport.",
            align=JUSTIFY,
        )
        tag(doc, "{%p endif %}")
    para(doc, "Après en avoir délibéré,")
    para(doc, "DECIDE :", bold=True)
    tag(doc, "{%p for a in articles %}")
    para(doc, "Article {{ a.numero }} :", bold=True, underline=True)
    tag(doc, "{%p if a.kind == 'thematique' %}")
    para(doc, ARTICLE_THEMATIQUE + " à la présente délibération" + AMENDED.replace("LIST", "a.thematique.amendements")
         + ".", align=JUSTIFY)
    tag(doc, "{%p elif a.kind == 'conventions' %}")
    para(
        doc,
        SIGN + CONVENTIONS + "rapport joint à la présente délibération, dans les termes du modèle type "
        "{{ deliberation.modele_type }}.",
        align=JUSTIFY,
    )
    tag(doc, "{%p elif a.kind == 'avenants' %}")
    para(doc, SIGN + AVENANTS + "rapport, " + AVENANT_ANNEXES + " à la présente délibération.", align=JUSTIFY)
    tag(doc, "{%p elif a.kind == 'imputation' %}")
    para(
        doc,
        "Les dépenses versées en application des articles {{ a.articles|liste }} de la présente délibération "
        "sont imputées sur le budget départemental comme suit" + AMENDED_TABLE + " :",
        align=JUSTIFY,
    )
    table(
        doc,
        ["Code Opération", "Imputation budgétaire", "Libellé Opération", "AE €", "Dépense €"],
        [
            ["{%tr for b in budget %}", "", "", "", ""],
            ["{{ b.code }}", "{{ b.imputation }}", "{{ b.libelle }}", "{{ b.ae|montant }}",
             "{{ b.proposition|montant }}"],
            ["{%tr endfor %}", "", "", "", ""],
        ],
    )
    tag(doc, "{%p endif %}")
    tag(doc, "{%p endfor %}")
    para(doc, "Dans les conditions de vote ci-dessous :")
    groups = "{% if seance.vote.GROUPS %} ({{ seance.vote.GROUPS|join(' ; ') }}){% endif %}"
    para(
        doc,
        "Pour : {{ seance.vote.pour }} voix" + groups.replace("GROUPS", "pour_groupes")
        + " Contre : {{ seance.vote.contre }} voix" + groups.replace("GROUPS", "contre_groupes")
        + " Abstention : {{ seance.vote.abstention }}" + groups.replace("GROUPS", "abstention_groupes")
        + " Absents sans délégation de vote : {{ seance.vote.absents }}" + groups.replace("GROUPS", "absents_groupes"),
        align=JUSTIFY,
    )
    para(doc, "({{ seance.vote.resultat }})", bold=True, align=CENTER)
    para(doc, "{{ seance.president.qualite }},", bold=True, align=RIGHT, space_after=0)
    para(doc, "{{ seance.president.nom }}", align=RIGHT)
    para(doc, "{{ seance.lieu }}, le {{ seance.date|date_longue }}", align=RIGHT)
    tag(doc, "{%p if seance.delegation %}")
    para(doc, "Pour le Président du Conseil départemental,", align=RIGHT, space_after=0)
    para(doc, "{{ seance.delegation.qualite }},", align=RIGHT, space_after=0)
    para(doc, "Signé", align=RIGHT, space_after=0)
    para(doc, "{{ seance.delegation.nom }}", align=RIGHT)
    tag(doc, "{%p endif %}")
    return doc


def narrative() -> Document:
    doc = new_doc()
    para(doc, "Annexe {{ t.annexe }}", bold=True, align=RIGHT)
    para(doc, "Thématique {{ t.numero }} {{ t.titre }}", bold=True, align=CENTER, size=12)
    para(doc, "Propositions {{ phase.annee }}", bold=True, align=CENTER, space_after=0)
    para(doc, "Phase {{ phase.numero }}", bold=True, align=CENTER)
    tag(doc, "{%p if rapport.rapport_cadre %}")
    para(
        doc,
        "Les dispositifs rattachés à cette thématique sont détaillés dans le rapport présenté en Commission "
        "permanente du {{ rapport.rapport_cadre|date_longue }}.",
        align=JUSTIFY,
    )
    tag(doc, "{%p endif %}")
    para(
        doc,
        "Le tableau repris en annexe {{ annexe_repartition }} détaille par structure et par territoire les montants "
        "correspondants aux actions proposées sur cette phase {{ phase.numero }}.",
        align=JUSTIFY,
    )
    tag(doc, "{{p t.narrative }}")
    tag(doc, "{%p for o in t.operations %}")
    para(
        doc,
        "Opération {{ o.numero }} : {{ o.titre }}{% if o.dispositif %} (dispositif {{ o.dispositif }}){% endif %}",
        bold=True,
    )
    tag(doc, "{{p o.narrative }}")
    tag(doc, "{%p endfor %}")
    return doc


def repartition() -> Document:
    doc = new_doc(landscape=True)
    para(
        doc,
        "ANNEXE {{ annexe_repartition }} - APPEL A PROJETS DPID {{ phase.annee }} - REPARTITION FINANCIERE DES "
        "OPERATIONS Phase {{ phase.numero }}",
        bold=True,
        align=CENTER,
    )
    tag(doc, "{%p for t in thematiques %}")
    para(doc, "{{ t.numero }}. {{ t.titre }}", bold=True)
    table(
        doc,
        ["Opération", "Territoire(s)", "Structure", "Description Action / Complément d'Information",
         "Montant Retenu", "Avenant/Convention"],
        [
            ["{%tr for o in t.operations %}", "", "", "", "", ""],
            ["{%tr for l in o.lignes %}", "", "", "", "", ""],
            ["{% if l.premiere %}Opération {{ o.numero }} : {{ o.titre }}{% endif %}", "{{ l.territoire }}",
             "{{ l.structure }}", "{{ l.description }}", "{{ l.montant|euros_annexe }}", "{{ l.document }}"],
            ["{%tr endfor %}", "", "", "", "", ""],
            ["TOTAL Opération {{ o.numero }}", "", "", "", "{{ o.total|euros_annexe }}", ""],
            ["{%tr endfor %}", "", "", "", "", ""],
            ["TOTAL Thématique {{ t.numero }}", "", "", "", "{{ t.total|euros_annexe }}", ""],
        ],
        bold_rows={3, 5},
        widths=[4.5, 3, 3.5, 10, 3, 3.5],
    )
    para(doc, "")
    tag(doc, "{%p endfor %}")
    return doc


def numpages(doc, before: str, after: str):
    """A paragraph with a NUMPAGES field: Word and LibreOffice compute the real page count."""
    p = doc.add_paragraph()
    p.add_run(before)
    fld = OxmlElement("w:fldSimple")
    fld.set(qn("w:instr"), " NUMPAGES ")
    run = OxmlElement("w:r")
    text = OxmlElement("w:t")
    text.text = "1"
    run.append(text)
    fld.append(run)
    p._p.append(fld)
    p.add_run(after)
    return p


def field(paragraph, instr: str, cached: str = "1", size: float | None = None):
    """Append a simple Word field (PAGE, NUMPAGES) to a paragraph (its result in ``size`` points if given)."""
    fld = OxmlElement("w:fldSimple")
    fld.set(qn("w:instr"), f" {instr} ")
    run = OxmlElement("w:r")
    if size:
        run.append(stamp_rpr(size))
    text = OxmlElement("w:t")
    text.text = cached
    run.append(text)
    fld.append(run)
    paragraph._p.append(fld)


def stamp_rpr(size: float):
    """Run properties of the stamp: one size for every run, the fields' results and the paragraph mark."""
    rpr = OxmlElement("w:rPr")
    for name in ("w:sz", "w:szCs"):
        sz = OxmlElement(name)
        sz.set(qn("w:val"), str(round(size * 2)))
        rpr.append(sz)
    return rpr


def stamp(doc):
    """The discreet stamp of every page: « Délibération n°2024-587 — Annexe 5 — page 3/12 », in one type."""
    for section in doc.sections:
        p = section.footer.paragraphs[0]
        p.alignment = CENTER
        p._p.get_or_add_pPr().append(stamp_rpr(7))
        p.add_run("{{ tampon }} — page ")._r.insert(0, stamp_rpr(7))
        field(p, "PAGE", size=7)
        p.add_run("/")._r.insert(0, stamp_rpr(7))
        field(p, "NUMPAGES", size=7)


def page_break(doc):
    from docx.enum.text import WD_BREAK

    doc.add_paragraph().add_run().add_break(WD_BREAK.PAGE)


PARTIES = [
    (
        "Entre le Département du Pas-de-Calais, dont le siège est en l'Hôtel du Département rue Ferdinand Buisson "
        "62018 Arras Cedex 9, représenté par son Président, {{ acte.departement.president }}, dûment autorisé par "
        "délibération de la Commission Permanente en date du {{ acte.departement.date_cp }},"
    ),
    "ci-après désigné par « le Département »",
    "d'une part,",
    "Et",
    (
        "{{ acte.partie.raison_sociale }}{% if acte.partie.forme_juridique %}, « {{ acte.partie.forme_juridique }} »"
        "{% endif %}, dont le siège social se situe {{ acte.partie.siege }}, identifié(e) au répertoire SIRET sous "
        "le n° {{ acte.partie.siret }}, représenté(e) par {{ acte.partie.representant }}, {{ acte.partie.qualite }}, "
        "{{ acte.partie.habilitation }},"
    ),
    "ci-après désigné(e) par « {{ acte.partie.nom }} »",
    "d'autre part.",
]


def act_head(doc, kind: str):
    para(doc, "{{ pole }}", bold=True, space_after=0)
    para(doc, "{{ direction }}", bold=True)
    tag(doc, "{%p if acte.annexe_modele %}")
    para(doc, "Annexe {{ acte.annexe_modele }} — {{ acte.modele_titre }}", bold=True, align=RIGHT)
    tag(doc, "{%p endif %}")
    tag(doc, "{%p if acte.projet %}")
    para(doc, "PROJET — valeurs à compléter : {{ acte.manquants|join(', ') }}", bold=True, align=CENTER)
    tag(doc, "{%p endif %}")
    para(doc, "{{ acte.titre }}", bold=True, align=CENTER, size=13)
    para(doc, "Objet : {{ acte.objet }}", bold=True, align=JUSTIFY)
    for text in PARTIES:
        para(doc, text, align=JUSTIFY)
    tag(doc, "{%p for v in acte.visas %}")
    para(doc, "Vu : {{ v }}", align=JUSTIFY)
    tag(doc, "{%p endfor %}")
    para(doc, "Il a été convenu ce qui suit,")


def act_tail(doc):
    para(doc, "Fait en deux exemplaires originaux")
    numpages(doc, "Ce document comprend ", " pages.")
    para(doc, "A {{ acte.departement.lieu }}, le")
    t = doc.add_table(rows=1, cols=2)
    left, right = t.rows[0].cells
    left.text = ""
    for i, text in enumerate((
        "Pour le Département,", "Et par délégation,", "{{ acte.departement.signataire_qualite }},",
        "{{ acte.departement.signataire_nom }}.",
    )):
        p = left.paragraphs[0] if i == 0 else left.add_paragraph()
        p.add_run(text).bold = i < 3 or None
    for i, text in enumerate((
        "Pour {{ acte.partie.nom }},", "{{ acte.partie.qualite_signature }},", "{{ acte.partie.signataire }}",
        "(Signature et cachet)",
    )):
        p = right.paragraphs[0] if i == 0 else right.add_paragraph()
        p.add_run(text).bold = i < 2 or None
    tag(doc, "{%p for a in acte.annexes %}")
    page_break(doc)
    para(doc, "« {{ a.titre }} »", bold=True, align=CENTER, size=12)
    para(doc, "Annexe N°{{ a.numero }} – {{ acte.nom_majuscules }}", bold=True, align=CENTER)
    tag(doc, "{{p a.table }}")
    tag(doc, "{%p if a.fiche %}")  # the dispositif's description, shared by every act (issue 23)
    page_break(doc)
    para(doc, "« {{ a.titre }} »", bold=True, align=CENTER, size=12)
    para(doc, "Annexe N°{{ a.numero }} (suite) — description du dispositif", bold=True, align=CENTER)
    tag(doc, "{{p a.fiche }}")
    tag(doc, "{%p endif %}")
    tag(doc, "{%p endfor %}")


def avenant() -> Document:
    doc = new_doc()
    act_head(doc, "avenant")
    tag(doc, "{{p acte.articles }}")
    act_tail(doc)
    return doc


CONVENTION_ARTICLES = [
    ("Objet de la convention", [
        "La présente convention a pour objet de définir les modalités de partenariat entre le Département du "
        "Pas-de-Calais et {{ acte.partie.nom }} concourant à la mise en œuvre de la/des opération(s) citée(s) "
        "ci-dessous, dont les dispositions de mise en œuvre (durée, montant, déroulement, objectifs, bilan) sont "
        "précisées en annexe :",
        "{%p for d in acte.dispositifs %}",
        "- Dispositif « {{ d.titre }} » (annexe {{ d.annexe }})",
        "{%p endfor %}",
        "Durant la période d'exécution de la convention, l'organisme s'engage à réaliser la/les opération(s). Il "
        "bénéficie pour cela d'une participation financière du Département du Pas-de-Calais.",
    ]),
    ("Engagements de l'organisme", [
        "L'organisme s'engage à mettre en œuvre la/les opération(s) décrite(s) en annexe dans les conditions qui y "
        "sont fixées, et à informer sans délai le Département de toute difficulté d'exécution.",
    ]),
    ("Période d'application de la convention", [
        "La présente convention s'applique sur la période du {{ acte.convention.debut }} au "
        "{{ acte.convention.fin }} inclus. La conclusion d'une nouvelle convention pourra être négociée à l'issue de "
        "la procédure d'évaluation. En aucun cas cette convention ne peut se poursuivre pour une nouvelle période "
        "par tacite reconduction.",
    ]),
    ("Coût de l'opération", [
        "Pour la durée de la convention le coût total de l'opération est estimé à un montant maximum de "
        "{{ acte.convention.montant }}.",
        "La contribution financière du Département ne sera applicable que sous réserve des conditions suivantes :",
        "- Le respect par la structure des clauses de la présente convention ;",
        "- La vérification par les services du Département que le montant de la contribution financière n'excède "
        "pas le coût de l'action ;",
        "- La transmission, dans les délais précisés en annexe, des documents de bilan.",
    ]),
    ("Modalités de versement", [
        "La participation financière est versée selon les modalités précisées en annexe.",
    ]),
    ("Imputation budgétaire", [
        "La participation financière est imputée sur le budget du Département du Pas-de-Calais, au chapitre "
        "précisé en annexe.",
    ]),
    ("Contrôle", [
        "L'organisme s'engage à faciliter le contrôle, par le Département, de la réalisation de l'opération et de "
        "l'utilisation des fonds versés.",
    ]),
    ("Obligations de l'organisme", [
        "8-1 Obligations générales : l'organisme s'engage à réaliser l'opération conformément à la présente "
        "convention et à ses annexes, à tenir une comptabilité permettant d'en retracer les dépenses et à "
        "transmettre ses bilans dans les délais fixés en annexe.",
        "8-2 Communication : l'organisme fait mention du soutien du Département du Pas-de-Calais sur tout support "
        "relatif à l'opération.",
    ]),
    ("Évaluation", [
        "L'opération fait l'objet d'un bilan qualitatif et quantitatif, dans les conditions précisées en annexe.",
    ]),
    ("Modification", ["Toute modification de la présente convention fait l'objet d'un avenant."]),
    ("Résiliation", [
        "En cas de non-respect par l'organisme de ses engagements, le Département peut résilier la présente "
        "convention par lettre recommandée avec accusé de réception, après mise en demeure restée sans effet "
        "pendant un mois, et demander le reversement de tout ou partie des sommes versées.",
    ]),
    ("Annexes", [
        "Les annexes suivantes font partie intégrante de la présente convention :",
        "{%p for a in acte.annexes %}",
        "- Annexe {{ a.numero }} : « {{ a.titre }} »",
        "{%p endfor %}",
    ]),
    ("Litiges", [
        "Les litiges relatifs à la présente convention relèvent de la compétence du tribunal administratif de "
        "Lille.",
    ]),
]


def convention() -> Document:
    doc = new_doc()
    act_head(doc, "convention")
    for n, (titre, paragraphs) in enumerate(CONVENTION_ARTICLES, 1):
        para(doc, f"Article {n} : {titre}", bold=True)
        for text in paragraphs:
            if text.startswith("{%p"):
                tag(doc, text)
            elif text.startswith("- "):
                doc.add_paragraph(text[2:], style="List Bullet")
            else:
                para(doc, text, align=JUSTIFY)
    act_tail(doc)
    return doc


def sommaire() -> Document:
    doc = new_doc()
    para(doc, "{{ departement }}", bold=True, align=CENTER, size=14)
    para(doc, "")
    para(doc, "COMMISSION PERMANENTE DU CONSEIL DEPARTEMENTAL", bold=True, align=CENTER, size=13)
    para(doc, "Réunion du {{ seance.date|date_longue }}", align=CENTER, size=12)
    para(doc, "")
    para(doc, "{{ deliberation.titre|insecable }}", bold=True, align=CENTER, size=13)
    para(doc, "Délibération n°{{ deliberation.numero }} — Rapport n°{{ rapport.numero }}", align=CENTER)
    para(doc, "Dossier complet : rapport, délibération et annexes", align=CENTER)
    page_break(doc)
    para(doc, "SOMMAIRE", bold=True, align=CENTER, size=13)
    table(
        doc,
        ["Document", "Page"],
        [
            ["{%tr for e in sommaire %}", ""],
            ["{{ e.titre }}", "{{ e.page }}"],
            ["{%tr endfor %}", ""],
        ],
        widths=[14, 3],
    )
    return doc


TEMPLATES = {
    "sommaire.docx": sommaire,
    "avenant.docx": avenant,
    "convention.docx": convention,
    "rapport.docx": rapport,
    "deliberation.docx": deliberation,
    "annexe-narrative.docx": narrative,
    "annexe-repartition.docx": repartition,
}


def main() -> None:
    force = "--force" in sys.argv
    OUT.mkdir(exist_ok=True)
    for name, build in TEMPLATES.items():
        path = OUT / name
        if path.exists() and not force:
            print(f"{path} existe : ignoré (--force pour l'écraser)")
            continue
        doc = build()
        if name != "sommaire.docx":
            stamp(doc)
        doc.save(path)
        print(f"écrit {path}")


if __name__ == "__main__":
    main()
