"""Avenants and conventions: legal form, model conformity, undecided articles, missing data."""

from __future__ import annotations

import datetime as dt
import difflib
import re
from pathlib import Path

from deliberation import fmt
from deliberation.acts import (
    CLAUSE_LABELS,
    Act,
    act_values,
    document_reconstructions,
    filled_act,
    model_clauses,
    model_texts_of,
    reconstructed,
    titled_number,
    unknown_sheet_fields,
)
from deliberation.findings import Finding, Loc, error, warning
from deliberation.model import NOUVELLE
from deliberation.rules import DOSSIER, ERROR, WARNING, RuleInput, rule


def check_form(act: Act, modeles: dict) -> list[Finding]:
    """The document a line cites has the right legal form, and one act follows one model."""
    out = []
    seen = {}
    for _, _, ligne in act.lignes:
        m = modeles.get(ligne.document)
        if m is None:
            continue  # unknown model: reported by the reference rule
        seen.setdefault(ligne.document, ligne)
        if act.kind == "convention" and m.type == "avenant":
            out.append(error("acte.forme", f"{act.label} : la ligne « {ligne.id} » prévoit une nouvelle convention "
                             f"(convention: {NOUVELLE}) mais cite un modèle d'avenant ({m.id})", ligne.at("document")))
        if act.kind == "avenant" and m.type == "convention":
            out.append(error("acte.forme", f"{act.label} : la ligne « {ligne.id} » modifie une convention existante "
                             f"mais cite la convention type ({m.id}) ; il faut un avenant", ligne.at("document")))
    avenant_models = [k for k in seen if modeles[k].type == "avenant"]
    missing = unmerged(avenant_models, modeles)
    if missing and not any("fusion" in modeles[k].blanks for k in avenant_models):  # else: « à compléter »
        a, b = missing[0]
        second = seen[avenant_models[1]]
        out.append(error(
            "acte.modeles_multiples",
            f"{act.label} : les lignes de cette convention citent {len(avenant_models)} modèles d'avenant "
            f"({', '.join(avenant_models)}) ; un seul avenant est produit par convention : déclarez la fusion "
            f"(`fusion: [{b}]` sous le modèle {a} de phase.yaml) ou citez un seul modèle", second.at("document"),
        ))
    return out


def unmerged(keys: list[str], modeles: dict) -> list[tuple[str, str]]:
    """The pairs of these models that the phase does not declare mergeable in one avenant.

    Two models go together when either lists the other under ``fusion``; three or more when every
    pair does (a merge is declared, never inferred: A with B and B with C says nothing of A with C).
    """
    return [(a, b) for i, a in enumerate(keys) for b in keys[i + 1:]
            if b not in modeles[a].fusion and a not in modeles[b].fusion]


# « Modèle d'avenant n°7 », « modèle d'avenant n° 7 », « Modele d’avenant N°7 »: how the source and the
# annexe 4 cite a model. « avenant n°1 » alone is an avenant's own rank (« avenant n°1 à la convention
# 2024-01213 », seed l.773), « annexe n°2 » an annex: neither names a model.
_CITED_NUMBER = re.compile(r"mod[eè]le\s+d['’]\s*avenant\s*n\s*[°º]\s*(\d+)", re.IGNORECASE)
# a model key naming a number: « avenant-7 » (the fixtures' style), « modele-7 », « avenant_7 »
_KEY_NUMBER = re.compile(r"(?:avenant|mod[eè]le)[-_ ]?n?[°º]?[-_ ]?(\d{1,3})", re.IGNORECASE)


def own_number(m) -> int | None:
    """A model's own number when the phase gives it (``numero``, else its title), not its annex number."""
    return m.numero if m.numero is not None else titled_number(m)


def check_model_numbers(d) -> list[Finding]:
    """A model is cited by its own number: its title and key agree with ``numero``; a line's text cites its model's.

    What counts as citing a model number, to stay robust:

    - the model's ``titre``: its « n°N » (« Modèle d'avenant n°10 ») must be the declared ``numero``;
    - the model's key, when the whole key is a model name and a number (« avenant-7 », as the fixtures
      write them): the number must be the model's own (``numero``, else its title's) — a key like
      ``avenant-accueil`` or ``avenant-2024-01`` says no number and is not checked; reported once, at
      the key in phase.yaml, not at each line citing it;
    - a line's ``description``: only « modèle d'avenant n°N » names a model (as the source's annexe 4
      does); « avenant n°1 » is the rank of an avenant to its convention, « annexe n°2 » an annex, and
      neither is checked. The number must be the own number of the model its ``document`` cites.

    A model whose own number the phase does not give (no ``numero``, no number in its title) is
    numbered by its annex: nothing to compare.
    """
    modeles = d.info.modeles if d.info else {}
    out = []
    for m in modeles.values():
        t = titled_number(m)
        if m.numero is not None and t is not None and t != m.numero:
            out.append(error("modele.numero", f"{m.titre} : le titre dit n°{t}, le modèle est déclaré n°{m.numero}",
                             m.at("numero")))
        own = own_number(m)
        k = _KEY_NUMBER.fullmatch(m.id)
        if m.type == "avenant" and own is not None and k and int(k.group(1)) != own:
            users = [ligne.id for _, _, ligne in d.lignes() if ligne.document == m.id]
            cited = f" ; les lignes {', '.join(users)} le citent" if len(users) > 1 else (
                f" ; la ligne {users[0]} le cite" if users else "")
            out.append(error("modele.numero", f"modèle {m.id} : la clé dit n°{k.group(1)}, le modèle est le n°{own} "
                             f"({m.titre or 'numero: ' + str(own)}){cited} : nommez-le {m.id[:k.start(1)]}{own} ou "
                             "corrigez son numéro", m.loc))
    for _, _, ligne in d.lignes():
        m = modeles.get(ligne.document)
        if m is None or m.type != "avenant" or not ligne.description:
            continue
        own = own_number(m)
        for cited in _CITED_NUMBER.finditer(ligne.description):
            if own is not None and int(cited.group(1)) != own:
                out.append(error("modele.numero", f"ligne {ligne.id} : la description cite « {cited.group(0)} » mais "
                                 f"la ligne signe le modèle {m.id} (n°{own})", ligne.at("description")))
    return out


def check_merges(d) -> list[Finding]:
    """A ``fusion`` names another avenant model of the phase."""
    modeles = d.info.modeles if d.info else {}
    out = []
    for m in modeles.values():
        others = [x for x, o in modeles.items() if x != m.id and o.type == "avenant"]
        for k in m.fusion:
            if k not in others:
                close = difflib.get_close_matches(k, others, n=1)
                hint = f" ; vouliez-vous dire « {close[0]} » ?" if close else ""
                out.append(error("modele.fusion", f"{m.titre or m.id} : fusion avec « {k} », qui n'est pas un autre "
                                 f"modèle d'avenant de la phase ({', '.join(others) or 'aucun'}){hint}",
                                 m.at("fusion")))
    return out


def check_conformity(act: Act, d) -> list[Finding]:
    """The avenant the data calls for has the articles and annexes of the model(s) it cites.

    A model's articles are those of its voted text (``modeles.<clé>.texte``) when it has one, else its
    declared ``clauses`` — none declared means an avenant that changes nothing, compared too. Several
    models cited by one avenant are compared as one (their articles together). The review sheet of
    each act gives the word-by-word comparison (``render.acts.conformity``).
    """
    modeles = d.info.modeles if d.info else {}
    cited = [modeles[k] for k in act.modeles_cites if k in modeles and modeles[k].type == "avenant"]
    if act.kind != "avenant" or act.is_model or not cited or any("clauses" in m.blanks for m in cited):
        return []  # a model whose articles are « à compléter » is reported as such (schema.a_completer)
    voted = {m.id: d.textes_modeles[m.id] for m in cited if m.id in d.textes_modeles}
    want: list[str] = []
    for m in cited:
        for c in model_clauses(m, voted.get(m.id)):
            if c not in want:
                want.append(c)
    have = act.included
    why = {x.clause: x.reason for x in act.decisions}

    def quoted(clause: str) -> str:
        for t in voted.values():
            a = t.article(clause)
            if a is not None:
                text = " ".join(a.texte.split())
                text = text if len(text) <= 160 else text[:159] + "…"
                return f" — le texte voté dit : « {text} » ({a.loc.file.rsplit('/', 1)[-1]}:{a.loc.line})"
        return ""

    parts = [f"le modèle prévoit en plus : {CLAUSE_LABELS[c]} ({why[c]}){quoted(c)}" for c in want if c not in have]
    parts += [f"le modèle ne prévoit pas : {CLAUSE_LABELS[c]} ({why[c]})" for c in have if c not in want]
    codes = [s.code for s in act.sheets]
    joined = [c for m in cited for c in m.dispositifs]
    if joined and sorted(set(joined)) != sorted(set(codes)):
        parts.append(f"fiches jointes : {', '.join(codes)}, le modèle joint : {', '.join(dict.fromkeys(joined))}")
    if not parts:
        return []
    ligne = next(ligne for _, _, ligne in act.lignes if ligne.document in {m.id for m in cited})
    names = " + ".join(m.titre or m.id for m in cited)
    if not want:
        parts.insert(0, "le modèle ne déclare aucun article (ni `clauses`, ni texte voté) : il ne modifie rien")
    return [warning("acte.modele_divergent", f"{act.label} : l'avenant déduit des données diffère de "
                    f"{names} — " + " ; ".join(parts), ligne.at("document"), subject=act.label)]


def check_decisions(act: Act) -> list[Finding]:
    """Articles the data cannot decide, and explicit decisions that contradict the data."""
    out = []
    where = act.convention.loc if act.convention else (act.structure.loc if act.structure else act.loc)
    for d in act.decisions:
        if d.undecided:
            out.append(warning("acte.clause_indecise", f"{act.label} : {CLAUSE_LABELS[d.clause]} — {d.reason} ; "
                               f"déclarez « clauses: {{{d.clause}: oui|non}} » dans la convention (l'article est "
                               f"{'inclus' if d.included else 'omis'} en attendant)", where, subject=act.label))
        if d.explicit and d.rule_verdict is not None and d.rule_verdict != d.included and not act.is_model:
            out.append(warning("acte.clause_contredite", f"{act.label} : {CLAUSE_LABELS[d.clause]} — le registre "
                               f"dit {'oui' if d.included else 'non'} alors que les données disent "
                               f"{'oui' if d.rule_verdict else 'non'}", d.data[-1].loc or where, subject=act.label))
    return out


def check_blanks(act: Act, d, final: bool = False) -> list[Finding]:
    """Values the document needs and the dossier lacks: a PROJET (an error under ``--final``)."""
    _, blanks = act_values(act, d)
    if not blanks:
        return []
    make = error if final else warning
    labels = tuple(dict.fromkeys(b.label for b in blanks))
    verdict = "production définitive impossible" if final else "le document est produit comme PROJET"
    return [make("acte.incomplet", f"{act.label} : {verdict}, valeur(s) à compléter : {', '.join(labels)}",
                 blanks[0].loc, subject=act.label, items=labels)]


@rule(DOSSIER, ("fiche.champ_inconnu",))
def check_sheets(inp: RuleInput) -> list[Finding]:
    """Every ``[[field]]`` of an annex sheet is one the engine knows how to fill."""
    out = []
    for sheet in inp.dispositifs.values():
        for name in unknown_sheet_fields(sheet.corps):
            line = sheet.corps_ligne + sheet.corps[: sheet.corps.find(f"[[{name}")].count("\n")
            out.append(error("fiche.champ_inconnu", f"fiche {sheet.code} : champ « [[{name}]] » inconnu",
                             Loc(sheet.loc.file, line)))
    return out


def check_voted_articles(d) -> list[Finding]:
    """A voted text's conditional articles are among the model's declared ``clauses`` (when it declares some)."""
    out = []
    modeles = d.info.modeles if d.info else {}
    for key, t in d.textes_modeles.items():
        m = modeles.get(key)
        if m is None or not m.clauses:
            continue
        for a in t.articles:
            if a.clause not in ("objet", "autres") and a.clause not in m.clauses:
                out.append(error("modele.texte_article", f"{m.titre or key} : le texte voté a l'article {{{a.clause}}} "
                                 f"« {a.titre} », que le modèle ne déclare pas (clauses : {', '.join(m.clauses)})",
                                 a.loc))
    return out


_MONTHS = ("janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre",
           "novembre", "décembre")
_DATE = re.compile(r"\b(\d{1,2})(?:er)?\s+(" + "|".join(_MONTHS) + r")\s+(\d{4})\b|\b(\d{1,2})/(\d{1,2})/(\d{4})\b",
                   re.IGNORECASE)


def written_dates(text: str) -> list[dt.date]:
    """The dates a French text writes in full (« 1er janvier 2024 ») or as dd/mm/yyyy, in order.

    An impossible date (« 31 juin ») is skipped: the text is a voted one, its dates are read, not judged.
    """
    out = []
    for m in _DATE.finditer(text):
        try:
            if m.group(1):
                out.append(dt.date(int(m.group(3)), _MONTHS.index(m.group(2).lower()) + 1, int(m.group(1))))
            else:
                out.append(dt.date(int(m.group(6)), int(m.group(5)), int(m.group(4))))
        except ValueError:
            continue
    return out


def check_voted_term(act: Act, d) -> list[Finding]:
    """A voted text that fixes the convention's term (its « duree » article) agrees with the act's data.

    The term is the first and last dates the voted article writes (blanks aside); the act's term runs
    from the convention's first day to the later of its last day and the lines' last day.
    """
    if act.kind != "avenant" or act.is_model or "duree" not in act.included:
        return []
    out = []
    for t in model_texts_of(act, d):
        a = t.article("duree")
        dates = written_dates(a.texte) if a is not None else []
        if not dates:
            continue
        cp = act.convention.periode if act.convention else None
        ends = [x for x in ((cp.fin if cp else None),
                            *(ligne.periode.fin for _, _, ligne in act.lignes if ligne.periode)) if x]
        where = f"{a.loc.file.rsplit('/', 1)[-1]}:{a.loc.line}"
        voted_end, voted_start = max(dates), min(dates)
        if ends and max(ends) != voted_end:
            out.append(error("modele.terme", f"{act.label} : le texte voté ({where}) fixe la fin de la convention au "
                             f"{fmt.date_short(voted_end)}, les données de l'acte au {fmt.date_short(max(ends))}",
                             act.lignes[0][2].at("periode") if act.lignes else act.loc))
        if cp is not None and cp.debut is not None and cp.debut != voted_start:
            out.append(error("modele.terme", f"{act.label} : le texte voté ({where}) fait commencer la convention le "
                             f"{fmt.date_short(voted_start)}, le registre le {fmt.date_short(cp.debut)}",
                             act.convention.at("periode")))
    return out


_SHORT = r"\d{1,2}/\d{1,2}/\d{2,4}"
_LONG = r"\d{1,2}(?:er)?\s+(?:" + "|".join(_MONTHS) + r")\s+\d{4}"
_ONE = "(" + _SHORT + "|" + _LONG + ")"
#: A period the sheet states for the operation: « soit du … au … », « pour l'opération du … au … », « période du … ».
_OPERATION_PERIOD = re.compile(r"(?:soit|pour l[’']opération|période)\s+du\s+" + _ONE + r"\s+au\s+" + _ONE,
                               re.IGNORECASE)
#: Any other period it states: « ouvert du … au … » (a call for projects), « entre le … et le … » (a session).
_OTHER_PERIOD = re.compile(r"\b(?:du|entre le)\s+" + _ONE + r"\s+(?:au|et le)\s+" + _ONE, re.IGNORECASE)
#: A deadline it sets: « au plus tard le … », « soit (maximum) le … », « avant le … ».
_DEADLINE = re.compile(r"(?:au plus tard (?:le|au)|soit (?:maximum |au plus tard )?le|avant le)\s+" + _ONE,
                       re.IGNORECASE)
#: The years it gives the operation: « période 2026/2027 », « période 2026-2027 ».
_YEARS = re.compile(r"période\s+((?:19|20)\d\d)\s*[/-]\s*((?:19|20)\d\d)\b", re.IGNORECASE)


def _one_date(text: str) -> dt.date | None:
    m = re.fullmatch(r"(\d{1,2})/(\d{1,2})/(\d{2,4})", text)
    if m:
        year = int(m.group(3)) + (2000 if len(m.group(3)) == 2 else 0)
        try:
            return dt.date(year, int(m.group(2)), int(m.group(1)))
        except ValueError:
            return None
    dates = written_dates(text)
    return dates[0] if dates else None


def act_window(act: Act) -> tuple[dt.date, dt.date] | None:
    """The days an act's sheets may speak of: the convention's period and the phase's lines (for an avenant)."""
    days = [x for _, _, ligne in act.lignes if ligne.periode for x in (ligne.periode.debut, ligne.periode.fin) if x]
    cp = act.convention.periode if act.kind == "avenant" and act.convention else None
    days += [x for x in ((cp.debut, cp.fin) if cp else ()) if x]
    return (min(days), max(days)) if days else None


def sheet_date_contradictions(line: str, window: tuple[dt.date, dt.date]) -> list[tuple[str, str, str]]:
    """What a line of a sheet joined to an act dates that the act's period contradicts: (quote, why, what to do).

    Read, and only these (a date elsewhere — a law's « loi du 18 décembre 2023 », a past fact « au
    1er janvier 2024 » — is not about the act):

    - a period of the operation (« soit du … au … », « pour l'opération du … », « période du … ») lies
      within the act's period;
    - any other period (« ouvert du … au … », « entre le … et le … »: the call for projects, a session)
      lies within the act's years, the call preceding the operation by a year at most: it neither ends
      before 1 January of the year before the act starts nor starts after the act ends;
    - a deadline (« au plus tard le … », « soit le … », « avant le … ») falls between the act's start and
      31 December of the year after it ends (a final bilan is due after the operation);
    - years of the operation (« période 2026/2027 ») are the act's years.
    """
    start, end = window
    first, last = dt.date(max(start.year - 1, dt.MINYEAR), 1, 1), dt.date(min(end.year + 1, dt.MAXYEAR), 12, 31)
    out: list[tuple[str, str, str]] = []
    taken: list[tuple[int, int]] = []
    for m in _OPERATION_PERIOD.finditer(line):
        taken.append(m.span())
        debut, fin = _one_date(m.group(1)), _one_date(m.group(2))
        if debut is not None and fin is not None and not (start <= debut and fin <= end):
            out.append((m.group(0), "contredit la période de l'acte", "écrivez « [[periode]] »"))
    for m in _OTHER_PERIOD.finditer(line):
        if any(a < m.end() and m.start() < b for a, b in taken):
            continue
        debut, fin = _one_date(m.group(1)), _one_date(m.group(2))
        if debut is not None and fin is not None and (fin < first or debut > end):
            out.append((m.group(0), "tombe hors des années de l'acte (l'appel à projets le précède d'un an au plus)",
                        "retirez de la fiche ce qui date un autre appel à projets"))
    for m in _DEADLINE.finditer(line):
        day = _one_date(m.group(1))
        if day is not None and not (start <= day <= last):
            out.append((m.group(0), f"fixe une échéance hors de l'acte (de son début au {fmt.date_short(last)})",
                        "écrivez l'échéance par rapport à l'opération (« dans les 3 mois qui suivent sa fin »)"))
    for m in _YEARS.finditer(line):
        if int(m.group(1)) < start.year or int(m.group(2)) > end.year:
            out.append((m.group(0), "donne à l'opération d'autres années que l'acte", "écrivez « [[annees]] »"))
    return out


def check_sheet_periods(inp: RuleInput) -> list[Finding]:
    """A sheet joined to an act states no date or period about the operation that the act's period contradicts.

    What is read, and what is not, is ``sheet_date_contradictions``. The sheet's own period of the
    operation should be the field ``[[periode]]`` (« soit [[periode]] »), its years ``[[annees]]``: the
    engine fills them for each act.
    """
    groups: dict[tuple, list[Act]] = {}
    # hundreds of acts join the same sheet with the same period: each (sheet, period) is read once
    read: dict[tuple[str, tuple[dt.date, dt.date]], list[tuple[int, str, str, str]]] = {}
    for act in inp.acts:
        window = act_window(act)
        if act.is_model or window is None:
            continue
        for sheet in act.sheets:
            d = sheet.dispositif
            if d is None:
                continue
            said_here = read.get((d.corps, window))
            if said_here is None:
                said_here = read[d.corps, window] = [
                    (n, *found) for n, line in enumerate(d.corps.split("\n"))
                    for found in sheet_date_contradictions(line, window)]
            for n, said, why, todo in said_here:
                key = (d.loc.file, d.corps_ligne + n, d.code, said, why, todo, window)
                groups.setdefault(key, []).append(act)
    out = []
    for (file, line, code, said, why, todo, window), acts in sorted(groups.items(), key=lambda kv: kv[0][:2]):
        names = ", ".join(a.label for a in acts[:3]) + (f" et {len(acts) - 3} autre(s)" if len(acts) > 3 else "")
        filled = ", que le moteur remplit pour chaque acte" if "[[" in todo else ""
        out.append(error("fiche.periode_contraire", f"fiche {code} : « {said} » {why} (du "
                         f"{fmt.date_short(window[0])} au {fmt.date_short(window[1])}) : {names} ; {todo}{filled}",
                         Loc(file, line)))
    return out


def check_reconstructions(inp: RuleInput) -> list[Finding]:
    """Documents built from a template that is a reconstruction, not the adopted text: one finding per template.

    The acts (avenants, conventions) and the documents of the délibération (rapport, délibération,
    annexes) built from such a template are PROJETs — a banner and the review sheet for an act, the
    stamp of every page for a document of the délibération — with no finding (the engine ships
    reconstructions, every phase would warn); ``--final`` refuses them with an error naming the template.
    """
    if not inp.final:
        return []
    by_file: dict[str, tuple[object, list[str]]] = {}
    for stem, parts in document_reconstructions(inp.dossier, list(inp.acts), inp.dispositifs, inp.statuts).items():
        for file, status in parts:
            by_file.setdefault(file, (status, []))[1].append(stem)
    for act in inp.acts:
        for file, status in reconstructed(act, inp.dossier, inp.statuts):
            by_file.setdefault(file, (status, []))[1].append(act.label)
    out = []
    for file, (status, names) in sorted(by_file.items()):
        listed = ", ".join(names[:4]) + (f" et {len(names) - 4} autre(s)" if len(names) > 4 else "")
        where = "son en-tête" if file.startswith("clauses/") else "statuts.yaml"
        what = (f"reconstitution ({status.reference})" if status is not None and status.reference
                else "reconstitution" if status is not None else f"statut non déclaré dans {where}")
        parts = f", parties reconstituées : {status.parties}" if status is not None and status.parties else ""
        loc = status.loc if status is not None else (
            Loc(str(Path(inp.statuts_file).parent / file), 1) if file.startswith("clauses/") else Loc(inp.statuts_file))
        docs = f"{len(names)} document{'s' if len(names) > 1 else ''}"
        out.append(error("acte.reconstitution", f"{file} n'est pas le texte adopté : {what}{parts} ; production "
                         f"définitive impossible de {docs} ({listed}) ; remplacez-le par le texte adopté (--modeles) "
                         f"et déclarez-le « adopté » dans {where}", loc))
    return out


def check_empty_models(d) -> list[Finding]:
    """An avenant model with neither declared articles nor voted text: its annex says it modifies nothing."""
    modeles = d.info.modeles if d.info else {}
    return [warning("modele.sans_article", f"{m.titre or m.id} : ni articles déclarés (`clauses`) ni texte voté "
                    "(`texte`) ; son annexe dirait « modifier les articles de la convention » sans en nommer aucun, "
                    "et les avenants qui le citent lui sont comparés comme à un avenant qui ne modifie rien",
                    m.loc)
            for m in modeles.values()
            if m.type == "avenant" and not m.clauses and m.id not in d.textes_modeles and "clauses" not in m.blanks]


def check_filled_models(d, acts) -> list[Finding]:
    """A model voted as a filled act (``acte: structure/convention``) names an act of the phase that cites it."""
    out = []
    modeles = d.info.modeles if d.info else {}
    used = {ligne.document for _, _, ligne in d.lignes()}
    for m in modeles.values():
        if not m.acte or m.id not in used:  # a model no line cites is no annex (an amendment may withdraw it)
            continue
        act = filled_act(m, acts)
        if act is None:
            known = ", ".join(f"{a.structure_key}/{a.convention_key}" for a in acts if a.kind == "avenant")
            out.append(error("modele.acte", f"{m.titre or m.id} : « {m.acte} » ne désigne aucun acte de la phase "
                             f"(structure/convention : {known or 'aucun'})", m.at("acte")))
        elif m.id not in act.modeles_cites:
            out.append(error("modele.acte", f"{m.titre or m.id} : l'acte « {m.acte} » ({act.label}) ne cite pas ce "
                             f"modèle (ses lignes citent : {', '.join(act.modeles_cites)})", m.at("acte")))
    return out


@rule(DOSSIER, ("acte.forme", "acte.modeles_multiples", "acte.modele_divergent", "acte.clause_indecise",
                "acte.clause_contredite", "acte.incomplet", "modele.sans_article", "modele.acte",
                "modele.texte_article", "modele.terme", "modele.fusion", "modele.numero", "acte.reconstitution",
                "fiche.periode_contraire"),
      (ERROR, WARNING))
def check_acts(inp: RuleInput) -> list[Finding]:
    """Each avenant or convention: legal form, conformity to its model, undecided articles, blanks (errors if final)."""
    d = inp.dossier
    modeles = d.info.modeles if d.info else {}
    out: list[Finding] = (check_empty_models(d) + check_filled_models(d, inp.acts) + check_voted_articles(d)
                          + check_merges(d) + check_model_numbers(d) + check_reconstructions(inp)
                          + check_sheet_periods(inp))
    for act in inp.acts:
        out += check_form(act, modeles)
        out += check_conformity(act, d)
        out += check_voted_term(act, d)
        out += check_decisions(act)
        out += check_blanks(act, d, inp.final)
    return out
