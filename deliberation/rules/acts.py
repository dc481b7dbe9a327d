"""Avenants and conventions: legal form, model conformity, undecided articles, missing data."""

from __future__ import annotations

from deliberation.acts import CLAUSE_LABELS, Act, act_values, unknown_sheet_fields
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
    if len(avenant_models) > 1:
        second = seen[avenant_models[1]]
        out.append(warning(
            "acte.modeles_multiples",
            f"{act.label} : les lignes de cette convention citent {len(avenant_models)} modèles d'avenant "
            f"({', '.join(avenant_models)}) ; un seul avenant est produit par convention",
            second.at("document"),
        ))
    return out


def check_conformity(act: Act) -> list[Finding]:
    """The avenant the data calls for has the articles and annexes of the model it cites."""
    m = act.modele
    if act.kind != "avenant" or m is None or m.type != "avenant" or not m.clauses:
        return []
    want, have = set(m.clauses), set(act.included)
    ligne = next(ligne for _, _, ligne in act.lignes if ligne.document == m.id)
    why = {d.clause: d.reason for d in act.decisions}
    parts = [f"le modèle prévoit en plus : {CLAUSE_LABELS[c]} ({why[c]})" for c in m.clauses if c not in have]
    parts += [f"le modèle ne prévoit pas : {CLAUSE_LABELS[c]} ({why[c]})" for c in act.included if c not in want]
    codes = [s.code for s in act.sheets]
    if m.dispositifs and sorted(m.dispositifs) != sorted(codes):
        parts.append(f"fiches jointes : {', '.join(codes)}, le modèle joint : {', '.join(m.dispositifs)}")
    if not parts:
        return []
    return [warning("acte.modele_divergent", f"{act.label} : l'avenant déduit des données diffère de "
                    f"{m.titre or m.id} — " + " ; ".join(parts), ligne.at("document"))]


def check_decisions(act: Act) -> list[Finding]:
    """Articles the data cannot decide, and explicit decisions that contradict the data."""
    out = []
    where = act.convention.loc if act.convention else (act.structure.loc if act.structure else act.loc)
    for d in act.decisions:
        if d.undecided:
            out.append(warning("acte.clause_indecise", f"{act.label} : {CLAUSE_LABELS[d.clause]} — {d.reason} ; "
                               f"déclarez « clauses: {{{d.clause}: oui|non}} » dans la convention (l'article est "
                               f"{'inclus' if d.included else 'omis'} en attendant)", where))
        if d.explicit and d.rule_verdict is not None and d.rule_verdict != d.included and not act.is_model:
            out.append(warning("acte.clause_contredite", f"{act.label} : {CLAUSE_LABELS[d.clause]} — le registre "
                               f"dit {'oui' if d.included else 'non'} alors que les données disent "
                               f"{'oui' if d.rule_verdict else 'non'}", d.data[-1].loc or where))
    return out


def check_blanks(act: Act, d, final: bool = False) -> list[Finding]:
    """Values the document needs and the dossier lacks: a PROJET (an error under ``--final``)."""
    _, blanks = act_values(act, d)
    if not blanks:
        return []
    make = error if final else warning
    labels = ", ".join(dict.fromkeys(b.label for b in blanks))
    verdict = "production définitive impossible" if final else "le document est produit comme PROJET"
    return [make("acte.incomplet", f"{act.label} : {verdict}, valeur(s) à compléter : {labels}", blanks[0].loc)]


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


@rule(DOSSIER, ("acte.forme", "acte.modeles_multiples", "acte.modele_divergent", "acte.clause_indecise",
                "acte.clause_contredite", "acte.incomplet"), (ERROR, WARNING))
def check_acts(inp: RuleInput) -> list[Finding]:
    """Each avenant or convention: legal form, conformity to its model, undecided articles, blanks (errors if final)."""
    d = inp.dossier
    modeles = d.info.modeles if d.info else {}
    out: list[Finding] = []
    for act in inp.acts:
        out += check_form(act, modeles)
        out += check_conformity(act)
        out += check_decisions(act)
        out += check_blanks(act, d, inp.final)
    return out
