"""Ratios and ceilings stated by the dispositif sheets (parameters are data, in annexes/)."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, localcontext

from deliberation.compute import months
from deliberation.findings import Finding, error, warning
from deliberation.fmt import etp, money, number, plain
from deliberation.rules import DOSSIER, ERROR, WARNING, RuleInput, rule

HUNDRED = Decimal(100)


def _range(r) -> str:
    if r.min_par_etp is not None and r.max_par_etp is not None:
        if r.min_par_etp == r.max_par_etp:
            return f"{number(r.min_par_etp)} {r.unite} par ETP"
        return f"{number(r.min_par_etp)} à {number(r.max_par_etp)} {r.unite} par ETP"
    if r.min_par_etp is not None:
        return f"au moins {number(r.min_par_etp)} {r.unite} par ETP"
    return f"au plus {number(r.max_par_etp)} {r.unite} par ETP"


@rule(DOSSIER, ("dispositif.ratio", "dispositif.plafond"), (ERROR, WARNING))
def check_ratios(inp: RuleInput) -> list[Finding]:
    """Volume per ETP within the sheet's range (warning); amounts under its ceilings (error)."""
    # volumes and ETP are read as written (up to 40 characters): a ratio or a ceiling can need more digits
    # than the default 28 to be rounded to the cent
    with localcontext(prec=120):
        return _check_ratios(inp)


def _check_ratios(inp) -> list[Finding]:
    out: list[Finding] = []
    for _t, o, ligne in inp.dossier.lignes():
        sheet = inp.dispositifs.get(o.dispositif) if o.dispositif else None
        if sheet is None:
            continue
        vol = ligne.volume
        has_vol = vol is not None and vol.nombre is not None and vol.unite is not None
        for r in sheet.ratios:
            if not has_vol or vol.unite != r.unite or not ligne.etp:
                continue
            per = (vol.nombre / ligne.etp).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
            low = r.min_par_etp is not None and per < r.min_par_etp
            high = r.max_par_etp is not None and per > r.max_par_etp
            if low or high:
                msg = (
                    f"ligne {ligne.id} : {plain(number(vol.nombre))} {vol.unite} pour {plain(etp(ligne.etp))}, "
                    f"soit {plain(number(per))} par ETP ; la fiche {sheet.code} prévoit {plain(_range(r))}"
                )
                out.append(warning("dispositif.ratio", msg, ligne.at("volume")))
        p = ligne.periode
        if ligne.montant is None or p is None or p.debut is None or p.fin is None or p.debut > p.fin:
            continue
        n_months = months(p.debut, p.fin)
        for c in sheet.plafonds:
            if c.par_mois is not None and c.unite and has_vol and vol.unite == c.unite and vol.nombre > 0:
                ceiling = c.par_mois * vol.nombre * n_months
                if ligne.montant > ceiling:
                    msg = (
                        f"ligne {ligne.id} : {plain(money(ligne.montant))} pour {plain(number(vol.nombre))} "
                        f"{vol.unite} sur {plain(number(n_months))} mois dépasse le plafond de la fiche {sheet.code} "
                        f"({plain(money(c.par_mois))} par {vol.unite[:-1]} et par mois, soit "
                        f"{plain(money(ceiling))} au plus)"
                    )
                    out.append(error("dispositif.plafond", msg, ligne.at("montant")))
            if c.par_etp_an is not None and ligne.etp:
                funded = ligne.etp - (ligne.etp_valorises or 0)
                ceiling = (c.par_etp_an * funded * n_months / 12).quantize(Decimal("0.01"))
                if funded > 0 and ligne.montant > ceiling:
                    msg = (
                        f"ligne {ligne.id} : {plain(money(ligne.montant))} pour {plain(etp(funded))} financés sur "
                        f"{plain(number(n_months))} mois dépasse le plafond de la fiche {sheet.code} "
                        f"({plain(money(c.par_etp_an))} par ETP et par an, soit {plain(money(ceiling))} au plus)"
                    )
                    out.append(error("dispositif.plafond", msg, ligne.at("montant")))
    return out


@rule(DOSSIER, ("dispositif.versements", "dispositif.ratio_inverse"))
def check_catalogue(inp: RuleInput) -> list[Finding]:
    """Each sheet's payment schedule adds up to 100 % and its ranges are ordered."""
    out: list[Finding] = []
    for code in sorted(inp.dispositifs):
        sheet = inp.dispositifs[code]
        parts = [v.pourcentage for v in sheet.versements if v.pourcentage is not None]
        for v in sheet.versements:
            if v.pourcentage is not None and v.pourcentage < 0:
                msg = f"fiche {code} : versement « {v.libelle} » de {number(v.pourcentage)} % : pourcentage négatif"
                out.append(error("dispositif.versements", msg, v.at("pourcentage")))
        if parts and sum(parts) != HUNDRED:
            msg = f"fiche {code} : les versements totalisent {number(sum(parts))} % au lieu de 100 %"
            out.append(error("dispositif.versements", msg, sheet.at("versements")))
        for r in sheet.ratios:
            if r.min_par_etp is not None and r.max_par_etp is not None and r.min_par_etp > r.max_par_etp:
                msg = f"fiche {code} : ratio {r.unite} avec un minimum supérieur au maximum"
                out.append(error("dispositif.ratio_inverse", msg, r.loc))
    return out
