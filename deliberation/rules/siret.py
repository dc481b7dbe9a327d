"""SIRET numbers have 14 digits and valid check keys (python-stdnum's rules, La Poste's exception included).

The one SIRET check of the code base: the registry rule below and the SCDL export
(:mod:`deliberation.opendata`) both call :func:`siret_problem`.
"""

from __future__ import annotations

import re

from stdnum.fr import siren as stdnum_siren
from stdnum.fr import siret as stdnum_siret

from deliberation.findings import Finding, error
from deliberation.rules import DOSSIER, RuleInput, rule

#: SIREN of La Poste: its establishments' SIRETs (head office excepted) use a digit-sum rule instead of Luhn.
LA_POSTE = "356000000"

#: Kinds of problem returned by :func:`siret_problem`.
FORMAT, KEY = "format", "cle"

_DIGITS14 = re.compile(r"[0-9]{14}")  # ASCII digits only, as INSEE and stdnum write them


def compact(value: str) -> str:
    """``value`` without spaces, non-breaking spaces or narrow no-break spaces."""
    return re.sub(r"[\s\u00a0\u202f]", "", value)


def siret_problem(value: str) -> tuple[str, str] | None:
    """Why ``value`` is not a valid SIRET, or None when it is one.

    ``value`` is taken as given (pass it through :func:`compact` first to allow spaces). The keys are
    python-stdnum's (``stdnum.fr.siret``): Luhn key of the SIREN (first 9 digits) and of the SIRET,
    except La Poste's establishments, whose digits sum to a multiple of 5.

    Returns:
        ``(kind, reason)``: kind :data:`FORMAT` when it is not 14 digits, :data:`KEY` for a wrong check
        key; reason in French, without the number. None for a valid SIRET.
    """
    if not _DIGITS14.fullmatch(value):
        return FORMAT, f"14 chiffres attendus, {len(value)} caractères trouvés"
    if stdnum_siret.is_valid(value):
        return None
    if not stdnum_siren.is_valid(value[:9]):
        return KEY, f"clé de contrôle (Luhn) du SIREN {value[:9]} invalide"
    if value.startswith(LA_POSTE) and value != "35600000000048":  # stdnum's exception; the head office uses Luhn
        return KEY, "clé de contrôle invalide (La Poste : somme des chiffres multiple de 5 attendue)"
    return KEY, "clé de contrôle (Luhn) invalide"


def siret_ok(siret: str) -> bool:
    """True for a valid SIRET (see :func:`siret_problem`)."""
    return siret_problem(siret) is None


@rule(DOSSIER, ("siret.format", "siret.cle"))
def check_siret(inp: RuleInput) -> list[Finding]:
    """Every SIRET of the registry is well formed."""
    out: list[Finding] = []
    for s in inp.dossier.structures.values():
        if s.siret is None:
            continue
        value = compact(s.siret)
        problem = siret_problem(value)
        if problem is None:
            continue
        kind, reason = problem
        if kind == FORMAT:
            out.append(error("siret.format", f"structure {s.id} : SIRET « {s.siret} » : {reason}", s.at("siret")))
        else:
            out.append(error("siret.cle", f"structure {s.id} : SIRET {value} : {reason}", s.at("siret")))
    return out
