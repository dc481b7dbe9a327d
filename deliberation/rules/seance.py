"""The séance adds up: votes against members, intéressés among members, no one listed twice."""

from __future__ import annotations

from deliberation.findings import Finding, error
from deliberation.rules import DOSSIER, RuleInput, rule


@rule(DOSSIER, ("seance.membre_double", "seance.interesse_inconnu", "seance.role_absent", "vote.total",
                "vote.absents", "seance.excuse_absent"))
def check_seance(inp: RuleInput) -> list[Finding]:
    """Vote figures match the attendance; named people are members of the commission."""
    info = inp.dossier.info
    if info is None or info.seance is None:
        return []
    s = info.seance
    out: list[Finding] = []
    groups = {"présents": s.presents, "excusés": s.excuses, "absents": s.absents}
    where: dict[str, str] = {}
    for label, members in groups.items():
        for m in members:
            if m in where:
                msg = f"{m} figure à la fois parmi les {where[m]} et les {label}"
                out.append(error("seance.membre_double", msg, s.at(_field(label))))
            where.setdefault(m, label)
    members = len(where)
    for m in s.interesses:
        if m not in where:
            msg = f"{m}, déclaré intéressé à l'affaire, n'est ni présent, ni excusé, ni absent"
            out.append(error("seance.interesse_inconnu", msg, s.at("interesses")))
    for m in s.interesses_excuses:
        state = where.get(m)
        if state is None:
            e = "e" if m.startswith("Mme ") else ""
            msg = (f"{m}, dit{e} « intéressé{e} à l'affaire et excusé{e} », n'est ni présent{e}, ni excusé{e}, "
                   f"ni absent{e}")
            out.append(error("seance.interesse_inconnu", msg, s.at("interesses_excuses")))
        elif state != "excusés":
            e = "e" if m.startswith("Mme ") else ""
            msg = (
                f"{m} est dit{e} « intéressé{e} à l'affaire et excusé{e} » mais figure parmi les {state}, pas parmi "
                "les excusés : excusé et absent ne sont pas la même chose dans un procès-verbal"
            )
            out.append(error("seance.excuse_absent", msg, s.at("interesses_excuses")))
    for role in ("president", "secretaire"):
        name = getattr(s, role)
        if name and where.get(name) != "présents":
            out.append(error("seance.role_absent", f"{name} ({role}) ne figure pas parmi les présents", s.at(role)))
    v = s.vote
    if v is not None and None not in (v.pour, v.contre, v.abstention, v.absents_sans_delegation):
        total = v.pour + v.contre + v.abstention + v.absents_sans_delegation
        if total != members:
            msg = (
                f"vote : pour {v.pour} + contre {v.contre} + abstention {v.abstention} + absents sans délégation "
                f"{v.absents_sans_delegation} = {total} ; la commission compte {members} membres "
                f"({len(s.presents)} présents, {len(s.excuses)} excusés, {len(s.absents)} absents)"
            )
            out.append(error("vote.total", msg, s.at("vote")))
        if v.absents_sans_delegation > len(s.absents) + len(s.excuses):
            msg = (
                f"vote : {v.absents_sans_delegation} absents sans délégation pour "
                f"{len(s.absents) + len(s.excuses)} membres absents ou excusés"
            )
            out.append(error("vote.absents", msg, v.at("absents_sans_delegation")))
    return out


def _field(label: str) -> str:
    return {"présents": "presents", "excusés": "excuses", "absents": "absents"}[label]
