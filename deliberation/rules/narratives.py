"""Narratives cite computed figures only through the known ``[[name]]`` vocabulary."""

from __future__ import annotations

from deliberation.findings import Finding, error
from deliberation.render.markdown import PLACEHOLDERS, unknown_placeholders


def check_narratives(inp) -> list[Finding]:
    """Every ``[[name]]`` in a narrative is a figure the engine computes."""
    d = inp.dossier
    scopes = [(t, f"thématique {t.numero}") for t in d.thematiques]
    scopes += [(o, f"opération {t.numero}.{o.numero}") for t, o in d.operations()]
    if d.info and d.info.rapport:
        scopes.append((d.info.rapport, "introduction du rapport"))
    out: list[Finding] = []
    known = ", ".join(PLACEHOLDERS)
    for node, label in scopes:
        text = getattr(node, "narrative", None) or getattr(node, "introduction", None)
        for name in unknown_placeholders(text or ""):
            field = "narrative" if hasattr(node, "narrative") else "introduction"
            msg = f"{label} : chiffre inconnu [[{name}]] ; chiffres disponibles : {known}"
            out.append(error("narrative.variable", msg, node.at(field)))
    return out
