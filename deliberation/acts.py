"""Avenants and conventions: which articles each act contains, and why (the clause model).

An avenant is the list of changes it makes to an existing convention (``CLAUSES``), framed by
two fixed articles (objet de l'avenant, autres dispositions). Each change is included by a named
rule over the dossier data; where the data cannot decide, the registry says so explicitly
(``conventions.<clé>.clauses``). Article numbers, the « modifier les articles … » list, the annex
numbers and every cross-reference are derived here, once, so they agree by construction.

``plan_acts`` gives one act per (structure, convention) pair of the phase; ``plan_model`` gives
the voted model of an avenant (an annex of the délibération) from its declaration. ``act_values``
computes every value a document shows, formatted, with a visible blank where data is missing.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from dataclasses import dataclass, field
from decimal import Decimal

from deliberation import fmt
from deliberation.compute import schedule
from deliberation.findings import Loc
from deliberation.model import (
    CLAUSES,
    NOUVELLE,
    AnnexeConvention,
    Convention,
    Dispositif,
    Dossier,
    Ligne,
    Modele,
    Operation,
    Structure,
    Thematique,
)
from deliberation.plan import DOCUMENT_TEMPLATES, documents
from deliberation.text import sheet_sections

ZERO = Decimal(0)

#: What each conditional article changes, for review sheets and findings.
CLAUSE_LABELS = {
    "objet_convention": "objet de la convention (article 1)",
    "duree": "période d'application (article 3)",
    "cout": "coût de l'opération (article 4)",
    "obligations": "obligations de l'organisme (article 8-1)",
    "annexes": "annexes (article 12)",
}


@dataclass(frozen=True)
class Datum:
    """A value a rule read, with where it comes from."""

    label: str
    value: str
    loc: Loc | None = None


@dataclass
class Decision:
    """Whether a conditional article is in the act, by which rule, on which data."""

    clause: str
    included: bool
    rule: str
    reason: str
    data: list[Datum] = field(default_factory=list)
    explicit: bool = False  # decided by the dossier (or the voted model), not by the data
    undecided: bool = False  # the data could not decide and the dossier says nothing
    rule_verdict: bool | None = None  # what the data says, when the dossier decided otherwise


@dataclass
class Sheet:
    """An annex sheet of the act: one per dispositif, with its number in the convention."""

    numero: int
    code: str
    titre: str
    dispositif: Dispositif | None
    lignes: list[Ligne]
    operations: list[Operation]
    ancienne: AnnexeConvention | None = None  # the initial annex it continues (same dispositif)


@dataclass
class Act:
    """One document to sign: an avenant to an existing convention, or a new convention."""

    kind: str  # "avenant" or "convention"
    structure_key: str
    structure: Structure | None
    convention_key: str
    convention: Convention | None
    lignes: list[tuple[Thematique, Operation, Ligne]]
    modele: Modele | None
    modeles_cites: list[str]
    decisions: list[Decision] = field(default_factory=list)
    sheets: list[Sheet] = field(default_factory=list)
    is_model: bool = False
    cached_values: tuple | None = field(default=None, repr=False, compare=False)  # (dossier, act_values)

    @property
    def included(self) -> list[str]:
        """Conditional articles present, in article order."""
        return [d.clause for d in self.decisions if d.included]

    @property
    def loc(self) -> Loc:
        """Where the act comes from: its first line (or the model's declaration)."""
        if self.lignes:
            return self.lignes[0][2].loc
        return self.modele.loc if self.modele else Loc("?")

    @property
    def nom(self) -> str:
        """The structure's usual name (the key when the registry lacks it)."""
        if self.is_model:
            return "[nom de la structure]"
        return (self.structure.nom if self.structure and self.structure.nom else None) or self.structure_key

    @property
    def label(self) -> str:
        """How findings and review sheets name the act."""
        if self.is_model:
            return self.modele.titre or self.modele.id
        if self.kind == "convention":
            return f"{self.nom} — nouvelle convention"
        return f"{self.nom} — avenant à la convention « {self.convention_key} »"

    @property
    def printed_label(self) -> str:
        """How the act's pages name it (the stamp at their foot): no key of the dossier, words of the act.

        The convention an avenant amends is named by its number, else by the titles of its annexes (what
        it funds), else by its object, else by its period; « en vigueur » when the dossier says none.
        """
        if self.is_model or self.kind == "convention":
            return self.label
        return f"{self.nom} — avenant à la convention {convention_designation(self.convention)}"


def convention_designation(convention: Convention | None) -> str:
    """Words naming an existing convention in print: « n°2024-01213 », or the titles of its annexes, quoted."""
    c = convention
    if c is None:
        return "en vigueur"
    if c.numero:
        return f"n°{c.numero}"
    titles = [a.titre for a in c.annexes if a.titre]
    if titles:
        return "« " + " ; ".join(titles) + " »"
    if c.objet:
        return f"« {c.objet} »"
    if c.periode and c.periode.debut and c.periode.fin:
        return f"du {fmt.date_short(c.periode.debut)} au {fmt.date_short(c.periode.fin)}"
    return "en vigueur"


# ---------------------------------------------------------------------------
# planning


def _codes_in_order(lignes) -> list[tuple[str, str, Operation]]:
    seen: dict[str, tuple[str, str, Operation]] = {}
    for _, o, _ligne in lignes:
        code = o.dispositif or f"op-{o.numero}"
        seen.setdefault(code, (code, o.titre or "", o))
    return list(seen.values())


def _sheets(codes, lignes, anciennes, dispositifs, first_default: int = 2) -> list[Sheet]:
    """Number the sheets: those continuing an initial annex first (its order), then new ones."""
    by_code = {a.dispositif: a for a in anciennes if a.dispositif}
    kept = [c for c in codes if c[0] in by_code]
    kept.sort(key=lambda c: by_code[c[0]].numero or 0)
    added = [c for c in codes if c[0] not in by_code]
    first = min((a.numero for a in anciennes if a.numero), default=first_default)
    out = []
    for i, (code, titre, _o) in enumerate(kept + added):
        sheet = dispositifs.get(code)
        mine = [ligne for _, o, ligne in lignes if (o.dispositif or f"op-{o.numero}") == code]
        ops = []
        for _, o, _ligne in lignes:
            if (o.dispositif or f"op-{o.numero}") == code and o not in ops:
                ops.append(o)
        out.append(Sheet(
            numero=first + i,
            code=code,
            titre=(sheet.titre if sheet and sheet.titre else titre),
            dispositif=sheet,
            lignes=mine,
            operations=ops,
            ancienne=by_code.get(code),
        ))
    return out


def _periode(lignes) -> tuple[dt.date, dt.date] | None:
    periods = [ligne.periode for ligne in lignes if ligne.periode and ligne.periode.debut and ligne.periode.fin]
    if not periods:
        return None
    return min(p.debut for p in periods), max(p.fin for p in periods)


def _montant(lignes) -> Decimal:
    return sum((ligne.montant for ligne in lignes if ligne.montant is not None), ZERO)


def _describe_codes(annexes) -> str:
    return ", ".join(f"annexe {a.numero} ({a.dispositif or 'sans dispositif'})" for a in annexes) or "aucune"


def _rule_objet_convention(act: Act) -> Decision:
    conv = act.convention
    new = [s.code for s in act.sheets]
    data = [Datum("dispositifs de la phase", ", ".join(new), act.loc)]
    if conv is None or not conv.annexes:
        return Decision("objet_convention", True, "dispositifs-modifies",
                        "les annexes de la convention initiale ne sont pas déclarées au registre : impossible de "
                        "savoir si la liste des dispositifs change", data, undecided=True)
    old = [a.dispositif for a in conv.annexes]
    data.append(Datum("annexes de la convention initiale", _describe_codes(conv.annexes), conv.at("annexes")))
    changed = sorted(c or "" for c in old) != sorted(new)
    reason = (
        "la liste des dispositifs de la convention change : l'article 1 qui les énumère est réécrit"
        if changed else "la convention porte déjà exactement ces dispositifs : l'article 1 reste inchangé"
    )
    return Decision("objet_convention", changed, "dispositifs-modifies", reason, data)


def _rule_duree(act: Act) -> Decision:
    conv = act.convention
    per = _periode(x for _, _, x in act.lignes)
    data = []
    if per:
        # at the line whose period ends last (the end that may extend the convention), in its own file
        last = next(x for _, _, x in act.lignes if x.periode and x.periode.debut and x.periode.fin == per[1])
        data.append(Datum("période des lignes", f"du {fmt.date_short(per[0])} au {fmt.date_short(per[1])}",
                          last.at("periode")))
    if conv is None or conv.periode is None or conv.periode.fin is None or per is None:
        return Decision("duree", False, "periode-prolongee",
                        "la période de la convention initiale n'est pas déclarée au registre : impossible de savoir "
                        "si l'avenant la prolonge", data, undecided=True)
    cp = conv.periode
    data.append(Datum("période de la convention", f"du {fmt.date_short(cp.debut) if cp.debut else '?'} "
                      f"au {fmt.date_short(cp.fin)}", conv.at("periode")))
    longer = per[1] > cp.fin or (cp.debut is not None and per[0] < cp.debut)
    reason = (
        "les lignes de la phase courent au-delà de la période de la convention : l'article 3 est modifié"
        if longer else "les lignes de la phase tiennent dans la période de la convention : l'article 3 reste inchangé"
    )
    return Decision("duree", longer, "periode-prolongee", reason, data)


def _rule_cout(act: Act) -> Decision:
    total = _montant(x for _, _, x in act.lignes)
    natures = sorted({ligne.nature for _, _, ligne in act.lignes if ligne.nature})
    # point at the amount where it is written (its own thématique file, or amendements.yaml when an amendment
    # set it): the one line bringing an amount, else each of them
    funded = [ligne for _, _, ligne in act.lignes if ligne.montant and ligne.montant > 0]
    # (several: the total is their sum, written nowhere; each part follows at its line)
    where = funded[0].at("montant") if len(funded) == 1 else (act.lignes[0][2].at("montant") if len(act.lignes) == 1
                                                              else None if funded else act.loc)
    data = [Datum("montant attribué par la phase", fmt.plain(fmt.money(total)), where)]
    if len(funded) > 1:
        data += [Datum(f"dont ligne {ligne.id}", fmt.plain(fmt.money(ligne.montant)), ligne.at("montant"))
                 for ligne in funded]
    data.append(Datum("nature des lignes", ", ".join(natures), act.loc))
    if total > 0:
        return Decision("cout", True, "montant-attribue",
                        "la phase attribue un montant à cette convention : le coût de l'opération change", data)
    return Decision("cout", False, "montant-attribue",
                    "valorisation seule : la phase n'attribue aucun montant nouveau, le coût reste inchangé", data)


def _rule_obligations(act: Act) -> Decision:
    required = []
    data = []
    for s in act.sheets:
        if s.dispositif and s.dispositif.obligations:
            required += [o for o in s.dispositif.obligations if o not in required]
            data.append(Datum(f"fiche {s.code}", "obligations : " + ", ".join(s.dispositif.obligations),
                              s.dispositif.at("obligations")))
    if required:
        return Decision("obligations", True, "obligation-de-la-fiche",
                        "la fiche d'un dispositif de la convention impose une obligation nouvelle : l'article 8-1 "
                        "est complété", data)
    return Decision("obligations", False, "obligation-de-la-fiche",
                    "aucune fiche des dispositifs de la convention n'impose d'obligation nouvelle", data)


def _rule_annexes(act: Act) -> Decision:
    # each sheet at its first line (a dispositif of another thématique file is written there)
    data = [Datum(f"annexe {s.numero}", f"fiche {s.code} « {s.titre} »", s.lignes[0].loc if s.lignes else act.loc)
            for s in act.sheets]
    if act.sheets:
        return Decision("annexes", True, "fiches-jointes",
                        "la fiche de chaque dispositif de la phase est jointe à l'avenant : l'article 12 est modifié",
                        data)
    return Decision("annexes", False, "fiches-jointes", "aucune fiche à joindre", data)


#: The rule deciding each article of an avenant (not validation rules: those are ``deliberation.rules``).
ARTICLE_RULES = {
    "objet_convention": _rule_objet_convention,
    "duree": _rule_duree,
    "cout": _rule_cout,
    "obligations": _rule_obligations,
    "annexes": _rule_annexes,
}


def _decide(act: Act) -> list[Decision]:
    out = []
    explicit = act.convention.clauses if act.convention else None
    for clause in CLAUSES:
        d = ARTICLE_RULES[clause](act)
        said = getattr(explicit, clause, None) if explicit else None
        if said is not None:
            verdict = None if d.undecided else d.included
            d = Decision(clause, said == "oui", d.rule,
                         f"décision explicite du dossier ({said}) ; règle : {d.reason}", d.data, explicit=True,
                         rule_verdict=verdict)
            d.data = [*d.data, Datum("décision du registre", said, explicit.at(clause))]
        out.append(d)
    return out


def plan_acts(d: Dossier, dispositifs: dict[str, Dispositif]) -> list[Act]:
    """One act per (structure, convention) pair, in the order of the lines."""
    groups: dict[tuple[str, str], list] = {}
    for t, o, ligne in d.lignes():
        if not ligne.structure or not ligne.convention:
            continue
        groups.setdefault((ligne.structure, ligne.convention), []).append((t, o, ligne))
    modeles = d.info.modeles if d.info else {}
    acts = []
    for (skey, ckey), lignes in groups.items():
        structure = d.structures.get(skey)
        convention = structure.conventions.get(ckey) if structure else None
        cited = []
        for _, _, ligne in lignes:
            if ligne.document and ligne.document not in cited:
                cited.append(ligne.document)
        modele = next((modeles[c] for c in cited if c in modeles), None)
        kind = "convention" if ckey == NOUVELLE else "avenant"
        act = Act(kind, skey, structure, ckey, convention, lignes, modele, cited)
        anciennes = list(convention.annexes) if convention else []
        # a new convention numbers its annexes from 1; an avenant continues the convention's (from 2 when the
        # registry does not say: annexe 1 of an existing convention is not the phase's to replace)
        act.sheets = _sheets(_codes_in_order(lignes), lignes, anciennes if kind == "avenant" else [], dispositifs,
                             first_default=2 if kind == "avenant" else 1)
        if kind == "avenant":
            act.decisions = _decide(act)
        acts.append(act)
    return acts


_TITLE_NUMBER = re.compile(r"n°\s*(\d+)", re.IGNORECASE)


def titled_number(modele: Modele) -> int | None:
    """The number a model's title gives (« Modèle d'avenant n°10 » → 10), if any."""
    m = _TITLE_NUMBER.search(modele.titre or "")
    return int(m.group(1)) if m else None


def model_number(modele: Modele, annexe: int | None) -> int | str:
    """A model's own number: declared (``numero``), else its title's, else its annex number in the délibération."""
    if modele.numero is not None:
        return modele.numero
    return titled_number(modele) or annexe or "?"


def model_clauses(modele: Modele, voted) -> tuple[str, ...]:
    """The conditional articles of an avenant model: its declared ``clauses``, else those of its voted text.

    A voted text may word only some of the declared articles (the others keep the engine's clause texts).
    """
    if modele.clauses:
        return tuple(modele.clauses)
    return voted.clauses if voted is not None else ()


#: The Word template of each kind of act.
ACT_TEMPLATE = {"avenant": "avenant.docx", "convention": "convention.docx"}


def act_templates(act: Act, d: Dossier) -> list[str]:
    """The templates an act, or a model voted as an annex, is built from (paths in the templates folder).

    A convention is built from the convention type (``convention.docx``); an avenant from its frame
    (``avenant.docx``) and, for each article no voted model text words, the engine's clause text
    (``clauses/<article>.md``).
    """
    files = [ACT_TEMPLATE[act.kind]]
    if act.kind == "avenant":
        if act.is_model:
            voted = [d.textes_modeles[act.modele.id]] if act.modele and act.modele.id in d.textes_modeles else []
        else:
            voted = model_texts_of(act, d)
        files += [f"clauses/{name}.md" for name in ("objet", *act.included, "autres")
                  if not any(t.article(name) is not None for t in voted)]
    return files


def not_adopted(files: list[str], statuts: dict) -> list[tuple[str, object]]:
    """Those of ``files`` not declared adopted: (file, its status, or None when nothing declares it)."""
    return [(f, statuts.get(f)) for f in files if statuts.get(f) is None or statuts[f].statut != "adopté"]


def reconstructed(act: Act, d: Dossier, statuts: dict) -> list[tuple[str, object]]:
    """The templates an act is built from that are not declared adopted: (file, its status or None).

    The models voted as annexes are not acts: their annex, a document of the délibération, says it
    (``document_reconstructions``).
    """
    return [] if act.is_model else not_adopted(act_templates(act, d), statuts)


def document_reconstructions(d: Dossier, acts: list[Act], dispositifs: dict[str, Dispositif],
                             statuts: dict) -> dict[str, list[tuple[str, object]]]:
    """Each document of the délibération (``plan.documents``) built from a template not declared adopted.

    Stem of the document → its templates that are reconstructions. A model's annex is built like an
    avenant (the filled act it names, or the model itself); the others from their one Word template.
    The cover and table of contents of ``bundle.pdf`` are no document of the délibération.
    """
    out: dict[str, list[tuple[str, object]]] = {}
    for doc in documents(d):
        if doc.kind == "modele":
            act = filled_act(doc.annexe.modele, acts) or plan_model(d, doc.annexe.modele, dispositifs)
            files = act_templates(act, d)
        else:
            files = [DOCUMENT_TEMPLATES[doc.kind]]
        if parts := not_adopted(files, statuts):
            out[doc.stem] = parts
    return out


def filled_act(modele: Modele, acts: list[Act]) -> Act | None:
    """The act a model's annex is (``modeles.<clé>.acte``: « structure/convention »), if it names one of ``acts``."""
    if not modele.acte:
        return None
    skey, _, ckey = modele.acte.partition("/")
    return next((a for a in acts if a.structure_key == skey and a.convention_key == ckey and not a.is_model), None)


def plan_model(d: Dossier, modele: Modele, dispositifs: dict[str, Dispositif]) -> Act:
    """The voted model of an avenant, from its declaration: articles as declared, values blank."""
    lignes = [(t, o, ligne) for t, o, ligne in d.lignes() if ligne.document == modele.id]
    codes = []
    for code in modele.dispositifs:
        titre = dispositifs[code].titre if code in dispositifs else code
        op = next((o for _, o, _ in lignes if o.dispositif == code), None)
        codes.append((code, titre, op))
    if not codes:
        codes = _codes_in_order(lignes)
    act = Act("avenant", "", None, "", None, [], modele, [modele.id], is_model=True)
    act.sheets = _sheets(codes, lignes, list(modele.annexes_initiales), dispositifs)
    for s in act.sheets:  # a model shows the sheet, not any structure's lines
        s.lignes = []
    act.lignes = []
    voted = d.textes_modeles.get(modele.id)
    declared = set(model_clauses(modele, voted))
    act.decisions = [
        Decision(c, c in declared, "modele", "article prévu par le modèle voté" if c in declared
                 else "article absent du modèle voté", [Datum("modèle", modele.id, modele.at("clauses"))],
                 explicit=True)
        for c in CLAUSES
    ]
    act._chapitres = sorted({o.budget for _, o, _ in lignes if o.budget})  # type: ignore[attr-defined]
    return act


# ---------------------------------------------------------------------------
# values shown in the documents


@dataclass(frozen=True)
class Blank:
    """A value the document needs and the dossier lacks."""

    label: str
    loc: Loc


class Values:
    """Formats values for one act and records every blank left visible."""

    def __init__(self, act: Act):
        self.act = act
        self.blanks: list[Blank] = []

    def need(self, value, label: str, loc: Loc | None = None, render=str) -> str:
        """``render(value)``, or a visible blank « [label à compléter] » (« [label] » in a model)."""
        if value is not None and value != "":
            return render(value)
        if self.act.is_model:
            return f"[{label}]"
        if not any(b.label == label for b in self.blanks):
            self.blanks.append(Blank(label, loc or self.act.loc))
        return f"[{label} à compléter]"


def _liste(items: list[str], sep: str = ", ") -> str:
    if len(items) <= 1:
        return "".join(items)
    return sep.join(items[:-1]) + " et " + items[-1]


def _tranches(lignes) -> list[tuple[dt.date | None, dt.date | None, Decimal]]:
    by: dict[tuple, Decimal] = {}
    for ligne in lignes:
        if ligne.montant and ligne.montant > 0:
            p = ligne.periode
            key = (p.debut if p else None, p.fin if p else None)
            by[key] = by.get(key, ZERO) + ligne.montant
    return sorted(by.items(), key=lambda kv: (kv[0][0] or dt.date.min, kv[0][1] or dt.date.min))


#: Key of a sheet's values saying that a new convention's annex needs its own instalments row.
CONVENTION_ROWS = "__lignes_convention__"

#: Key of a sheet's values saying that the phase brings it no amount (no instalment of the phase to state).
UNFUNDED = "__sans_financement__"

#: Sheet fields stating the phase's instalments.
PHASE_INSTALMENTS = re.compile(r"\[\[\s*(?:versements|versement_\d+)\s*\]\]")


def sheet_placeholders(body: str) -> set[str]:
    """The ``[[name]]`` fields a sheet body uses."""
    return set(re.findall(r"\[\[\s*([a-z_0-9]+)\s*\]\]", body))


#: Fields an annex sheet may use; other ``[[…]]`` names are reported when the sheet is loaded.
SHEET_FIELDS = {
    "duree": "période de l'opération pour la structure (« Du 01/01/2025 au 31/12/2025 »)",
    "periode": "la même, dans une phrase (« soit [[periode]] » : « soit du 01/01/2025 au 31/12/2025 »)",
    "annees": "ses années (« pour la période [[annees]] » : « 2026/2027 », ou « 2025 » sur une seule année)",
    "cout": "coût (montant de la convention + montant de la phase)",
    "territoire": "territoire(s) d'intervention des lignes",
    "chapitre": "code opération de la ligne budgétaire",
    "etp": "ETP financés par la phase",
    "versements": "échéancier calculé (liste) à partir des pourcentages de la fiche",
}
SHEET_FIELD_PATTERNS = (r"versement_\d+", r"versement_convention_\d+")


def unknown_sheet_fields(body: str) -> list[str]:
    """Fields of a sheet body that are not in the vocabulary."""
    return sorted(
        n for n in sheet_placeholders(body)
        if n not in SHEET_FIELDS and not any(re.fullmatch(p, n) for p in SHEET_FIELD_PATTERNS)
    )


_VERSEMENT = re.compile(r"versement_(\d+)")
_VERSEMENT_CONVENTION = re.compile(r"versement_convention_(\d+)")


@functools.lru_cache(maxsize=256)
def _placeholders(body: str) -> frozenset[str]:
    return frozenset(sheet_placeholders(body))


@functools.lru_cache(maxsize=256)
def _sheet_heads(body: str) -> tuple[str, ...]:
    """The headings of a sheet's sections, in lower case (read once per sheet body, not once per act)."""
    return tuple(h.lower() for h, _, _ in sheet_sections(body))


def _sheet_values(v: Values, act: Act, s: Sheet) -> dict[str, str]:
    conv = act.convention
    out: dict[str, str] = {}
    body = s.dispositif.corps if s.dispositif else ""
    used = {"duree", "cout", "territoire", "chapitre"} | _placeholders(body)  # a set: « versements » may be added
    if not re.search(r"^## ", body, re.M):  # a sheet without its sections: its text is still to be written
        out["texte_fiche"] = v.need(None, f"texte de la fiche du dispositif {s.code}",
                                    s.dispositif.loc if s.dispositif else act.loc)
    total = _montant(s.lignes)
    per = _periode(s.lignes)
    cloc = conv.loc if conv else act.loc
    if "duree" in used or "periode" in used or "annees" in used:
        if act.is_model:
            out["duree"] = v.need(None, "durée")
            out["periode"] = v.need(None, "période de l'opération")
            out["annees"] = v.need(None, "années de l'opération")
        else:
            debut, fin = per if per else (None, None)
            if s.ancienne is not None:
                cp = conv.periode if conv else None
                if cp is None or cp.debut is None or cp.fin is None:
                    debut = fin = None
                else:
                    debut, fin = min(cp.debut, debut or cp.debut), max(cp.fin, fin or cp.fin)
            label = "période de la convention" if s.ancienne is not None else "période"
            out["duree"] = (f"Du {fmt.date_short(debut)} au {fmt.date_short(fin)}" if debut and fin
                            else v.need(None, label, cloc))
            out["periode"] = out["duree"][0].lower() + out["duree"][1:] if debut and fin else out["duree"]
            years = (str(debut.year) if debut.year == fin.year else f"{debut.year}/{fin.year}") if debut and fin else ""
            out["annees"] = years or out["duree"]  # the period's blank when it is unknown
    if "cout" in used:
        if act.is_model:
            out["cout"] = v.need(None, "coût")
        elif s.ancienne is not None:
            # the annex's own part of the convention when the registry splits it (else the convention has one annex)
            part = s.ancienne.montant if s.ancienne.montant is not None else (conv.montant if conv else None)
            base = v.need(part, "montant de la convention", cloc, fmt.money)
            out["cout"] = f"{base} + {fmt.money(total)}" if total > 0 else base
        elif total > 0:
            out["cout"] = fmt.money(total)
        else:
            etp = sum((ligne.etp or ZERO for ligne in s.lignes), ZERO)
            out["cout"] = f"Valorisation de {fmt.etp(etp)}, sans financement supplémentaire"
    territoires = []
    for ligne in s.lignes:
        if ligne.territoire and ligne.territoire not in territoires:
            territoires.append(ligne.territoire)
    out["territoire"] = " – ".join(territoires) if territoires else v.need(None, "territoire d'intervention")
    chapitres = sorted({o.budget for o in s.operations if o.budget}) or getattr(act, "_chapitres", [])
    out["chapitre"] = ", ".join(chapitres) if chapitres else v.need(None, "chapitre budgétaire")
    financed = sum(((ligne.etp or ZERO) - (ligne.etp_valorises or ZERO) for ligne in s.lignes
                    if ligne.nature != "valorisation"), ZERO)
    if "etp" in used:
        out["etp"] = fmt.number(financed) if financed and not act.is_model else v.need(None, "ETP")
    versements = [x for x in (s.dispositif.versements if s.dispositif else ()) if x.pourcentage is not None]
    pcts = [x.pourcentage for x in versements]  # an unreadable percentage is a finding of the sheet
    parts: list[Decimal] = []
    if pcts and total > 0 and sum(pcts) == 100:
        parts = schedule(total, pcts)
    if act.kind == "convention" and not act.is_model:
        # the convention type's articles 5 and 9 send the reader to the annex for the instalments and the
        # bilan: the annex holds them, from the sheet or as a blank to fill
        heads = _sheet_heads(body)
        if not any(h.startswith("modalités de versement") for h in heads):
            used.add("versements")
            out[CONVENTION_ROWS] = "oui"
        if not any(h.startswith("bilan") for h in heads):
            out["bilan"] = v.need(None, f"conditions du bilan (section « Bilan » de la fiche {s.code})",
                                  s.dispositif.loc if s.dispositif else act.loc)
    # a sheet the phase brings no amount to (valorisation only) has no instalment of the phase to state:
    # its lines naming one are left out of the sheet (``render.acts.sheet_rows``), nothing is a blank
    unfunded = total <= 0 and not act.is_model
    if unfunded:
        out[UNFUNDED] = "oui"
    if "versements" in used and not unfunded:
        if parts:
            items = [
                f"- {fmt.number(x.pourcentage)} % {x.libelle}, soit {fmt.money(m)}"
                for x, m in zip(versements, parts, strict=True)
            ]
            out["versements"] = "\n".join(items)
        else:
            out["versements"] = v.need(None, "échéancier des versements", s.dispositif.loc if s.dispositif else None)
    for name in sorted(used):
        m = _VERSEMENT.fullmatch(name)
        if m and not unfunded:
            i = int(m.group(1)) - 1
            value = parts[i] if i < len(parts) else None
            out[name] = v.need(value, f"montant du versement n°{i + 1}",
                               s.dispositif.loc if s.dispositif else None, fmt.money)
        m = _VERSEMENT_CONVENTION.fullmatch(name)
        if m:
            i = int(m.group(1)) - 1
            vs = conv.versements if conv else ()
            value = vs[i].montant if i < len(vs) else None
            out[name] = v.need(value, f"montant du versement n°{i + 1} de la convention", cloc, fmt.money)
    return out


def act_values(act: Act, d: Dossier) -> tuple[dict, list[Blank]]:
    """Every value the act's documents show, formatted; and the blanks left visible.

    Computed once per act and dossier (the check needs the blanks, the rendering the values).
    """
    if act.cached_values is not None and act.cached_values[0] is d:
        return act.cached_values[1]
    result = _act_values(act, d)
    act.cached_values = (d, result)
    return result


def _act_values(act: Act, d: Dossier) -> tuple[dict, list[Blank]]:
    v = Values(act)
    info = d.info
    s = act.structure
    conv = act.convention
    sloc = s.loc if s else act.loc
    rep = s.representant if s else None
    cloc = conv.loc if conv else sloc
    partie = {
        "nom": act.nom,
        "raison_sociale": (s.raison_sociale or s.nom) if s and not act.is_model else act.nom,
        "forme_juridique": (s.forme_juridique or "") if s and not act.is_model else "",
        "siege": v.need(s.siege if s else None, "adresse du siège", sloc),
        "siret": v.need(s.siret if s else None, "SIRET", sloc),
        "representant": v.need(
            (f"{rep.civilite + ' ' if rep.civilite else ''}{rep.nom}" if rep and rep.nom else None),
            "représentant légal", sloc),
        "qualite": v.need(rep.qualite if rep else None, "qualité du représentant", sloc),
        "habilitation": v.need(rep.habilitation if rep else None, "habilitation du représentant", sloc),
    }
    # the name in a sentence, with the article the registry declares (« l'Association Alpha », « le CCAS de … »):
    # « Pour l'Association Alpha, », « entre le Département et … », « ci-après désigné(e) par « … » » (``nom``,
    # as « le Département » is designated with its article)
    forms = fmt.designation(act.nom, s.article if s and not act.is_model else None)
    partie["designation"] = partie["nom"] = forms["nom"]
    partie["article_declare"] = bool(s and s.article) or act.is_model
    partie["signataire"] = v.need(rep.nom if rep and rep.nom else None, "représentant légal", sloc)
    if rep and rep.qualite and rep.civilite and not act.is_model:
        article = "La " if rep.civilite == "Mme" else "Le "
        partie["qualite_signature"] = article + rep.qualite[0].lower() + rep.qualite[1:]
    else:
        partie["qualite_signature"] = partie["qualite"]
    seance = info.seance if info else None
    signataire = info.signataire_actes if info else None
    values: dict = {
        "kind": act.kind,
        "modele": act.is_model,
        "partie": partie,
        "departement": {
            "president": seance.president_signature.nom if seance and seance.president_signature else "",
            "date_cp": fmt.date_long(seance.date) if seance and seance.date else "",
            "lieu": (seance.lieu or "").title() if seance else "",
            "signataire_qualite": v.need(signataire.qualite if signataire else None,
                                         "qualité du signataire du Département", info.loc if info else None),
            "signataire_nom": v.need(signataire.nom if signataire else None,
                                     "signataire du Département", info.loc if info else None),
        },
    }
    per = _periode(ligne for _, _, ligne in act.lignes)
    total = _montant(ligne for _, _, ligne in act.lignes)
    sheets = []
    for sh in act.sheets:
        sheets.append({"numero": sh.numero, "code": sh.code, "titre": sh.titre, "values": _sheet_values(v, act, sh)})
    values["annexes"] = sheets
    for dec in act.decisions:
        if dec.undecided:
            where = conv.loc if conv else sloc
            v.need(None, f"décision sur l'article « {CLAUSE_LABELS[dec.clause]} »", where)
    values["dispositifs"] = [{"titre": sh.titre, "annexe": sh.numero} for sh in act.sheets]
    if act.kind == "convention":
        values["convention"] = {
            "debut": fmt.date_long(per[0]) if per else v.need(None, "début de la période"),
            "fin": fmt.date_long(per[1]) if per else v.need(None, "fin de la période"),
            "montant": fmt.money(total),
            "descriptions": [ligne.description for _, _, ligne in act.lignes if ligne.description],
        }
        values["titre"] = "CONVENTION"
        values["objet"] = f"Définition du partenariat entre le Département et {partie['designation']}"
        values["visas"] = [
            f"la délibération de la Commission Permanente en date du {values['departement']['date_cp']} ;"
        ]
        return values, v.blanks

    numero = v.need(conv.numero if conv else None, "numéro de la convention", cloc)
    signature = v.need(conv.signature if conv else None, "date de signature de la convention", cloc, fmt.date_long)
    values["numero_convention"] = numero
    if conv is not None and conv.avenants is not None and not act.is_model:
        values["titre"] = f"AVENANT N°{conv.avenants + 1}"
    else:
        values["titre"] = "AVENANT À LA CONVENTION"
    objet = conv.objet if conv and conv.objet else None
    values["objet"] = (
        f"Avenant à la convention n°{numero} : {objet[0].lower() + objet[1:]}" if objet
        else f"Avenant à la convention n°{numero} définissant le partenariat entre le Département et "
        f"{partie['designation']}"
    )
    values["visas"] = [
        f"la convention n°{numero} signée le {signature} ;",
        f"la délibération de la Commission Permanente en date du {values['departement']['date_cp']} ;",
    ]
    values["signee_le"] = f", signée le {signature}"
    # period and cost, for articles 3 and 4
    cp = conv.periode if conv else None
    cdebut = cp.debut if cp else None
    cfin = cp.fin if cp else None
    if act.is_model:
        new_debut = new_fin = None
    else:
        new_debut = min(x for x in (cdebut, per[0] if per else None) if x) if (cdebut or per) else None
        new_fin = max(x for x in (cfin, per[1] if per else None) if x) if (cfin or per) else None
    values["periode"] = {
        "debut": v.need(new_debut if cdebut else None, "début de la convention", cloc, fmt.date_long),
        "fin": v.need(new_fin, "fin de la convention", cloc, fmt.date_long),
    }
    included = set(act.included)
    tranches = [
        {"debut": v.need(a, "début de la période", act.loc, fmt.date_long),
         "fin": v.need(b, "fin de la période", act.loc, fmt.date_long),
         "montant": fmt.money(m)}
        for (a, b), m in _tranches(ligne for _, _, ligne in act.lignes)
    ]
    if act.is_model:
        tranches = [{"debut": "[début]", "fin": "[fin]", "montant": "[montant]"}]
    conv_part = {
        "debut": v.need(cdebut, "début de la convention", cloc, fmt.date_long) if "cout" in included else "",
        "fin": v.need(cfin, "fin de la convention", cloc, fmt.date_long) if "cout" in included else "",
        "montant": (v.need(conv.montant if conv else None, "montant de la convention", cloc, fmt.money)
                    if "cout" in included else ""),
    }
    cout = {"forme": "total" if "duree" in included else "supplement", "convention": conv_part,
            "tranches": tranches}
    if cout["forme"] == "total" and "cout" in included:
        cout["tranches"] = [{"debut": conv_part["debut"], "fin": v.need(cfin, "fin de la convention", cloc,
                                                                         fmt.date_long),
                             "montant": conv_part["montant"]}, *tranches]
        base = conv.montant if conv else None
        cout["total"] = v.need(base + total if base is not None else None, "coût total", cloc, fmt.money)
    values["cout"] = cout
    obligations: list[str] = []
    for sh in act.sheets:
        for o in (sh.dispositif.obligations if sh.dispositif else ()):
            if o not in obligations:
                obligations.append(o)
    values["obligations"] = obligations
    anciennes = list(conv.annexes) if conv else list(act.modele.annexes_initiales if act.modele else ())
    kept = {sh.ancienne.numero: sh for sh in act.sheets if sh.ancienne is not None}
    values["annexes_clause"] = {
        "anciennes": [
            {
                "numero": a.numero,
                "titre": a.titre,
                "sort": "modifiee" if a.numero in kept else "supprimee",
                "titre_change": a.numero in kept and kept[a.numero].titre != a.titre,
            }
            for a in anciennes
        ],
        "nouvelles": [{"numero": sh.numero, "titre": sh.titre} for sh in act.sheets],
        "ajoutees": _liste([f"l'annexe {sh.numero}" for sh in act.sheets if sh.ancienne is None
                            and sh.numero not in {a.numero for a in anciennes}]),
    }
    values["champs"] = _model_fields(v, act, d, values, per, total)
    return values, v.blanks


def model_texts_of(act: Act, d: Dossier) -> list:
    """The voted texts of the avenant models the act's lines cite (``Dossier.textes_modeles``), in citing order."""
    return [d.textes_modeles[k] for k in act.modeles_cites if k in d.textes_modeles]


def _model_fields(v: Values, act: Act, d: Dossier, values: dict, per, total: Decimal) -> dict[str, str]:
    """The values of the blanks a voted model text may declare (``model.MODEL_FIELDS``), for this act.

    Only computed when a cited model has a voted text (a blank is recorded only if the text uses it).
    ``articles_modifies`` and ``motifs`` depend on the clause texts: the renderer adds them.
    """
    texts = [d.textes_modeles[act.modele.id]] if act.is_model and act.modele and act.modele.id in d.textes_modeles \
        else model_texts_of(act, d)
    shown = {"objet", "autres", *act.included}  # the blanks of articles the act has, not of the others
    used = {m for t in texts for a in t.articles if a.clause in shown
            for m in re.findall(r"\[\[\s*([a-z_0-9]+)\s*\]\]", a.texte)}
    if not used:
        return {}
    conv = act.convention
    cloc = conv.loc if conv else act.loc
    cp = conv.periode if conv else None
    seance = d.info.seance if d.info else None
    sheets = act.sheets
    funded = _periode(ligne for _, _, ligne in act.lignes if ligne.montant and ligne.montant > 0) or per
    raw = {
        "structure": (act.nom, "nom de la structure", act.loc, str),
        "numero_convention": (conv.numero if conv else None, "numéro de la convention", cloc, str),
        "signature_convention": (conv.signature if conv else None, "date de signature de la convention", cloc,
                                 fmt.date_long),
        "objet_convention": ((conv.objet[0].lower() + conv.objet[1:]) if conv and conv.objet else None,
                             "objet de la convention", cloc, str),
        "debut_convention": (cp.debut if cp else None, "début de la convention", cloc, fmt.date_long),
        "fin_initiale": (cp.fin if cp else None, "fin de la convention", cloc, fmt.date_long),
        "fin_convention": (max(x for x in (cp.fin if cp else None, per[1] if per else None) if x)
                           if (cp and cp.fin) or per else None, "fin de la convention", cloc, fmt.date_long),
        "montant_convention": (conv.montant if conv else None, "montant de la convention initiale", cloc, fmt.money),
        "cout_total": (conv.montant + total if conv and conv.montant is not None else None, "coût total", cloc,
                       fmt.money),
        "debut_phase": (funded[0] if funded else None, "début de la période", act.loc, fmt.date_long),
        "fin_phase": (funded[1] if funded else None, "fin de la période", act.loc, fmt.date_long),
        "montant_phase": (total if act.lignes else None, "montant de la phase", act.loc, fmt.money),
        "annexe_numero": (sheets[0].numero if sheets else None, "numéro de l'annexe", act.loc, str),
        "annexe_titre": (sheets[0].titre if sheets else None, "titre de l'annexe", act.loc, str),
        "annexes": (modified_annexes([s.numero for s in sheets]) if sheets else None, "annexes", act.loc, str),
        "date_cp": (seance.date if seance else None, "date de la séance", d.info.loc if d.info else act.loc,
                    fmt.date_long),
    }
    out = {}
    for name in sorted(used & set(raw)):
        value, label, loc, render = raw[name]
        if act.is_model:
            value = None
        out[name] = v.need(value, label, loc, render)
    return out


def modified_annexes(numbers: list[int]) -> str:
    """« l'annexe 2 » / « les annexes 2 et 3 »."""
    nums = [str(n) for n in numbers]
    if len(nums) == 1:
        return f"l'annexe {nums[0]}"
    return "les annexes " + _liste(nums)


def modified_articles(numbers: list[int]) -> str:
    """« les articles 1 ; 4 ; 8 et 12 » / « l'article 4 » (the seed's wording)."""
    nums = [str(n) for n in sorted(set(numbers))]
    if len(nums) == 1:
        return f"l'article {nums[0]}"
    return "les articles " + _liste(nums, " ; ")


def motifs(phrases: list[str]) -> str:
    """« afin de A, de B ainsi que de C »."""
    if not phrases:
        return ""
    if len(phrases) == 1:
        return ", afin " + phrases[0]
    return ", afin " + ", ".join(phrases[:-1]) + " ainsi que " + phrases[-1]
