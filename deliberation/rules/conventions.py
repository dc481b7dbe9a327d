"""The conventions an avenant amends: still in force, funded without a gap, their amount split per annex."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from deliberation import fmt
from deliberation.acts import Act
from deliberation.findings import Finding, error, warning
from deliberation.rules import DOSSIER, ERROR, WARNING, RuleInput, rule

ONE_DAY = dt.timedelta(days=1)


def expired(act: Act, seance: dt.date | None) -> list[Finding]:
    """An avenant to a convention that ended before the séance: an expired contract cannot be amended.

    A convention in force on the séance day (its last day that day or later) can be.
    """
    conv = act.convention
    if act.kind != "avenant" or seance is None or conv is None or conv.periode is None or conv.periode.fin is None:
        return []
    fin = conv.periode.fin
    if fin >= seance:
        return []
    return [error("acte.convention_echue", f"{act.label} : la convention {conv.numero or conv.id} a pris fin le "
                  f"{fmt.date_short(fin)}, avant la séance du {fmt.date_short(seance)} ; une convention échue ne "
                  "peut pas être modifiée par avenant (nouvelle convention : convention: nouvelle)",
                  conv.periode.at("fin"))]


def funding_gaps(act: Act) -> list[Finding]:
    """A convention extended by the phase whose cost schedule leaves days with no funding.

    Covered: the convention's own period (funded by its initial amount), and the periods of the
    phase's lines that bring an amount (a valorisation at 0 € funds nothing). The gap is any stretch
    between the convention's end and the last funded day of the phase that neither covers; a
    phase whose lines bring no amount at all extends nothing to fund and is not checked.
    """
    conv = act.convention
    if act.kind != "avenant" or conv is None or conv.periode is None or conv.periode.fin is None:
        return []
    funded = sorted(((ligne.periode.debut, ligne.periode.fin, ligne) for _, _, ligne in act.lignes
                     if ligne.montant and ligne.montant > 0 and ligne.periode and ligne.periode.debut
                     and ligne.periode.fin), key=lambda t: (t[0], t[1]))
    if not funded or max(f for _, f, _ in funded) <= conv.periode.fin:
        return []
    out = []
    covered_to = conv.periode.fin
    for debut, fin, ligne in funded:
        if debut > covered_to + ONE_DAY:
            out.append(warning("acte.echeancier_lacune", f"{act.label} : aucun financement du "
                               f"{fmt.date_short(covered_to + ONE_DAY)} au {fmt.date_short(debut - ONE_DAY)} "
                               f"entre la fin de la convention ({fmt.date_short(conv.periode.fin)}) et la ligne "
                               f"« {ligne.id} » (du {fmt.date_short(debut)}) : l'échéancier de la convention "
                               "prolongée a un trou", ligne.at("periode")))
        covered_to = max(covered_to, fin)
    return out


def annex_amounts(act: Act) -> list[Finding]:
    """A convention's amount split per annex: declared on every annex when on one, adding up to the amount.

    An avenant continuing two or more initial annexes needs the split: each annex sheet shows its own
    part of the convention, not the whole amount (the sheets would add up to twice the convention).
    """
    conv = act.convention
    if act.kind != "avenant" or conv is None:
        return []
    annexes = list(conv.annexes)
    declared = [a for a in annexes if a.montant is not None]
    if declared:
        missing = [a for a in annexes if a.montant is None]
        if missing:
            return [error("convention.montant_annexes", f"{act.label} : part du montant déclarée pour l'annexe "
                          f"{declared[0].numero} mais pas pour l'annexe {missing[0].numero} (toutes ou aucune)",
                          missing[0].loc)]
        total = sum((a.montant for a in declared), Decimal(0))
        if conv.montant is not None and total != conv.montant:
            gap = total - conv.montant
            return [error("convention.montant_annexes", f"{act.label} : parts des annexes "
                          + " + ".join(fmt.money(a.montant) for a in declared)
                          + f" = {fmt.money(total)}, montant de la convention {fmt.money(conv.montant)} "
                          f"({fmt.money(abs(gap))} de {'trop' if gap > 0 else 'moins'})", conv.at("montant"))]
        return []
    continued = [s for s in act.sheets if s.ancienne is not None]
    if len(continued) >= 2:
        return [error("convention.montant_annexes", f"{act.label} : l'avenant reprend {len(continued)} annexes de "
                      "la convention (" + ", ".join(f"annexe {s.ancienne.numero}" for s in continued)
                      + ") sans la part du montant de chacune : déclarez `montant` sur chaque annexe du registre "
                      "(sinon chaque fiche afficherait le montant entier de la convention)", conv.at("annexes"))]
    return []


@rule(DOSSIER, ("acte.convention_echue", "acte.echeancier_lacune", "convention.montant_annexes"),
      (ERROR, WARNING, ERROR))
def check_conventions(inp: RuleInput) -> list[Finding]:
    """Each avenant's convention: in force at the séance, funded without a gap, its amount split per annex."""
    d = inp.dossier
    seance = d.info.seance.date if d.info and d.info.seance else None
    out: list[Finding] = []
    for act in inp.acts:
        out += expired(act, seance)
        out += funding_gaps(act)
        out += annex_amounts(act)
    return out
