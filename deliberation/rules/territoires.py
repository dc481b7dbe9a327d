"""Territories are one of the nine MDS territories or a declared alias."""

from __future__ import annotations

import difflib
import unicodedata

from deliberation.findings import Finding, error
from deliberation.model import TERRITOIRES
from deliberation.rules import DOSSIER, RuleInput, rule


def _norm(text: str) -> str:
    text = unicodedata.normalize("NFKD", text)
    text = "".join(c for c in text if not unicodedata.combining(c))
    return "".join(c for c in text.lower() if c.isalnum())


def suggest(name: str, known: list[str]) -> str | None:
    """The closest known territory name, comparing without accents, case or punctuation."""
    by_norm = {_norm(k): k for k in known}
    n = _norm(name)
    if n in by_norm:
        return by_norm[n]
    prefix = [k for nk, k in by_norm.items() if n[:4] and nk.startswith(n[:4])]
    if len(prefix) == 1:
        return prefix[0]
    close = difflib.get_close_matches(n, list(by_norm), n=1, cutoff=0.6)
    return by_norm[close[0]] if close else None


@rule(DOSSIER, ("territoire.inconnu",))
def check_territoires(inp: RuleInput) -> list[Finding]:
    """Every line's territory is known; otherwise suggest the closest name."""
    d = inp.dossier
    aliases = d.info.alias_territoires if d.info else {}
    known = list(TERRITOIRES) + list(aliases)
    out: list[Finding] = []
    for _, _, ligne in d.lignes():
        t = ligne.territoire
        if t is None or t in known:
            continue
        close = suggest(t, known)
        hint = f" ; vouliez-vous dire « {close} » ?" if close else ""
        msg = f"ligne {ligne.id} : territoire inconnu « {t} »{hint} (ou déclarez un alias dans phase.yaml)"
        out.append(error("territoire.inconnu", msg, ligne.at("territoire")))
    return out
