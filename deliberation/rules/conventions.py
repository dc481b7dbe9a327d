"""The conventions an avenant amends: still in force, funded without a gap, their amount split per annex."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from deliberation import fmt
from deliberation.acts import Act
from deliberation.findings import Finding, Loc, error, warning
from deliberation.rules import DOSSIER, ERROR, WARNING, RuleInput, rule

ONE_DAY = dt.timedelta(days=1)


def _at(loc: Loc) -> str:
    """A location for a message: the file's name and the line (« t1.yaml:161 »)."""
    name = loc.file.replace("\\", "/").rsplit("/", 1)[-1]
    return f"{name}:{loc.line}" if loc.line else name


def expired(act: Act, seance: dt.date | None) -> list[Finding]:
    """An avenant to a convention that ended before the séance: an expired contract cannot be amended.

    A convention in force on the séance day (its last day that day or later) can be: ending the day
    before the séance is an error, ending on the séance day or after is not. The finding is placed at
    the convention's period in the registry and names the phase's lines that call for the avenant.
    """
    conv = act.convention
    if act.kind != "avenant" or seance is None or conv is None or conv.periode is None or conv.periode.fin is None:
        return []
    fin = conv.periode.fin
    if fin >= seance:
        return []
    lignes = ", ".join(f"« {ligne.id} » ({_at(ligne.loc)})" for _, _, ligne in act.lignes)
    return [error("acte.convention_echue", f"{act.label} : la convention {conv.numero or conv.id} a pris fin le "
                  f"{fmt.date_short(fin)}, avant la séance du {fmt.date_short(seance)} ; une convention échue ne "
                  "peut pas être modifiée par avenant (nouvelle convention : convention: nouvelle) — "
                  f"{'ligne' if len(act.lignes) == 1 else 'lignes'} de la phase : {lignes}",
                  conv.periode.at("fin"))]


def funding_gaps(act: Act) -> list[Finding]:
    """A convention extended by the phase whose cost schedule leaves days with no funding.

    Checked when the avenant both extends the convention (article 3, rule ``periode-prolongee``: the
    lines run beyond the convention's end) and rewrites its cost (article 4, rule ``montant-attribue``:
    a line brings an amount); the cost article then gives a schedule by period, which must run without
    a hole up to the convention's new end. A valorisation-only extension rewrites no cost: no schedule,
    nothing checked.

    The stretch checked runs from the day after the convention's end to its new end, the last day of
    any line of the phase (a valorisation line sets the new end too). A day is covered by the
    convention's own period (its initial amount) or by the period of a line that brings an amount
    (``montant`` > 0, financement or mixte); a valorisation line at 0 € covers nothing. Each
    uncovered stretch is one warning, with its dates, at the line that follows it (or, for a stretch
    at the end, the line that sets the new end).
    """
    conv = act.convention
    if act.kind != "avenant" or conv is None or conv.periode is None or conv.periode.fin is None:
        return []
    if not {"duree", "cout"} <= set(act.included):
        return []
    dated = [ligne for _, _, ligne in act.lignes if ligne.periode and ligne.periode.debut and ligne.periode.fin]
    if not dated:
        return []
    last = max(dated, key=lambda ligne: ligne.periode.fin)
    end = last.periode.fin
    if end <= conv.periode.fin:
        return []
    funded = sorted((ligne for ligne in dated if ligne.montant and ligne.montant > 0),
                    key=lambda ligne: (ligne.periode.debut, ligne.periode.fin))
    out = []
    covered_to = conv.periode.fin

    def gap(debut: dt.date, fin: dt.date, ligne, after: str) -> Finding:
        return warning("acte.echeancier_lacune", f"{act.label} : aucun financement du {fmt.date_short(debut)} au "
                       f"{fmt.date_short(fin)} ({(fin - debut).days + 1} jours) entre la fin de la convention "
                       f"({fmt.date_short(conv.periode.fin)}) et {after} : l'échéancier de la convention prolongée "
                       "a un trou", ligne.at("periode"), subject=act.label)

    for ligne in funded:
        debut = ligne.periode.debut
        if debut > covered_to + ONE_DAY:
            out.append(gap(covered_to + ONE_DAY, debut - ONE_DAY, ligne,
                           f"la ligne « {ligne.id} » (du {fmt.date_short(debut)})"))
        covered_to = max(covered_to, ligne.periode.fin)
    if covered_to < end:
        # the line setting the new end brings no amount (else it would cover its own period)
        out.append(gap(covered_to + ONE_DAY, end, last, f"sa nouvelle fin, le {fmt.date_short(end)}, fixée par la "
                       f"ligne « {last.id} » ({last.nature or 'nature inconnue'}, sans montant)"))
    return out


def _split(label: str, conv) -> list[Finding]:
    """A registry convention whose amount is split per annex: a part on every annex, adding up to the amount."""
    annexes = list(conv.annexes)
    declared = [a for a in annexes if a.montant is not None]
    if not declared:
        return []
    missing = [a for a in annexes if a.montant is None]
    if missing:
        return [error("convention.montant_annexes", f"{label} : part du montant déclarée pour l'annexe "
                      f"{declared[0].numero} mais pas pour l'annexe {missing[0].numero} (toutes ou aucune)",
                      missing[0].loc)]
    total = sum((a.montant for a in declared), Decimal(0))
    if conv.montant is not None and total != conv.montant:
        gap = total - conv.montant
        return [error("convention.montant_annexes", f"{label} : parts des annexes "
                      + " + ".join(fmt.money(a.montant) for a in declared)
                      + f" = {fmt.money(total)}, montant de la convention {fmt.money(conv.montant)} "
                      f"({fmt.money(abs(gap))} de {'trop' if gap > 0 else 'moins'})", conv.at("montant"))]
    return []


def annex_amounts(act: Act) -> list[Finding]:
    """An avenant continuing an annex of a convention that has several needs each annex's part of the amount.

    A sheet continuing an initial annex shows that annex's part of the convention (« 60 000,00 € +
    … »); without declared parts it could only show the whole amount, as if the annex carried all of
    it: with two annexes continued the sheets would add up to twice the convention, with one of two the
    sheet would give one dispositif the other's money.
    """
    conv = act.convention
    if act.kind != "avenant" or conv is None or len(conv.annexes) < 2:
        return []
    if any(a.montant is not None for a in conv.annexes):
        return []  # split declared: its sum is checked with the registry
    continued = [s for s in act.sheets if s.ancienne is not None]
    if not continued:
        return []
    which = ", ".join(f"annexe {s.ancienne.numero}" for s in continued)
    return [error("convention.montant_annexes", f"{act.label} : l'avenant reprend "
                  + (f"{len(continued)} annexes de la convention ({which})" if len(continued) > 1
                     else f"l'{which} d'une convention qui en a {len(conv.annexes)}")
                  + " sans la part du montant de chacune : déclarez `montant` sur chaque annexe du registre "
                  "(sinon chaque fiche afficherait le montant entier de la convention)", conv.at("annexes"))]


@rule(DOSSIER, ("acte.convention_echue", "acte.echeancier_lacune", "convention.montant_annexes"), (ERROR, WARNING))
def check_conventions(inp: RuleInput) -> list[Finding]:
    """Each avenant's convention: in force at the séance, funded without a gap, its amount split per annex."""
    d = inp.dossier
    seance = d.info.seance.date if d.info and d.info.seance else None
    out: list[Finding] = []
    labels = {}
    for act in inp.acts:
        if act.convention is not None:
            labels[id(act.convention)] = act.label
        out += expired(act, seance)
        out += funding_gaps(act)
        out += annex_amounts(act)
    # every registry convention's split, amended by the phase or not (the registry is read by later phases too)
    for skey, structure in d.structures.items():
        for ckey, conv in structure.conventions.items():
            label = labels.get(id(conv)) or f"{structure.nom or skey} — convention « {ckey} »"
            out += _split(label, conv)
    return out
