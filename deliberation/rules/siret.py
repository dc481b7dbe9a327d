"""SIRET numbers have 14 digits and a valid Luhn key."""

from __future__ import annotations

import re

from deliberation.findings import Finding, error

#: SIREN of La Poste, whose SIRETs use a digit-sum rule instead of Luhn.
LA_POSTE = "356000000"


def luhn_ok(digits: str) -> bool:
    """True when ``digits`` passes the Luhn check."""
    total = 0
    for i, ch in enumerate(reversed(digits)):
        n = int(ch)
        if i % 2 == 1:
            n *= 2
            if n > 9:
                n -= 9
        total += n
    return total % 10 == 0


def siret_ok(siret: str) -> bool:
    """True for a well-formed SIRET (14 digits, Luhn key; La Poste's own rule)."""
    if not re.fullmatch(r"\d{14}", siret):
        return False
    if siret.startswith(LA_POSTE):
        return sum(int(c) for c in siret) % 5 == 0
    return luhn_ok(siret)


def check_siret(inp) -> list[Finding]:
    """Every SIRET of the registry is well formed."""
    out: list[Finding] = []
    for s in inp.dossier.structures.values():
        if s.siret is None:
            continue
        compact = re.sub(r"[\s\u00a0\u202f]", "", s.siret)
        if not re.fullmatch(r"\d{14}", compact):
            msg = f"structure {s.id} : SIRET « {s.siret} » : 14 chiffres attendus, {len(compact)} caractères trouvés"
            out.append(error("siret.format", msg, s.at("siret")))
        elif not siret_ok(compact):
            msg = f"structure {s.id} : SIRET {compact} : clé de contrôle (Luhn) invalide"
            out.append(error("siret.cle", msg, s.at("siret")))
    return out
