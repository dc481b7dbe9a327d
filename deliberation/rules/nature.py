"""Valorisation lines carry 0 €, financement lines more than 0 €."""

from __future__ import annotations

from deliberation.findings import Finding, error
from deliberation.fmt import money, plain
from deliberation.rules import DOSSIER, RuleInput, rule


@rule(DOSSIER, ("nature.valorisation", "nature.financement", "nature.mixte"))
def check_nature(inp: RuleInput) -> list[Finding]:
    """A line's amount agrees with its nature (valorisation, financement, mixte)."""
    out: list[Finding] = []
    for _, _, ligne in inp.dossier.lignes():
        m, nature, where = ligne.montant, ligne.nature, ligne.at("montant")
        if m is None or nature is None:
            continue
        if nature == "valorisation" and m != 0:
            msg = f"ligne {ligne.id} : une valorisation porte 0 € ; trouvé {plain(money(m))}"
            out.append(error("nature.valorisation", msg, where))
        elif nature in ("financement", "mixte") and m <= 0:
            msg = f"ligne {ligne.id} : un {nature} porte un montant supérieur à 0 € ; trouvé {plain(money(m))}"
            out.append(error("nature.financement", msg, where))
        if nature == "mixte" and (ligne.etp is None or ligne.etp_valorises is None):
            msg = f"ligne {ligne.id} : une ligne mixte indique etp et etp_valorises"
            out.append(error("nature.mixte", msg, ligne.loc))
        elif nature == "mixte" and not 0 < ligne.etp_valorises < ligne.etp:
            msg = (
                f"ligne {ligne.id} : etp_valorises ({ligne.etp_valorises}) doit être compris entre 0 "
                f"et etp ({ligne.etp})"
            )
            out.append(error("nature.mixte", msg, ligne.at("etp_valorises")))
        elif nature != "mixte" and ligne.etp_valorises is not None:
            msg = f"ligne {ligne.id} : etp_valorises ne s'emploie que pour une ligne mixte"
            out.append(error("nature.mixte", msg, ligne.at("etp_valorises")))
    return out
