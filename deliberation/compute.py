"""Compute every figure of a phase from its lines: the one source of all numbers.

Pure and tolerant: a line whose amount (or ETP, volume, period) could not be read makes
the aggregate that needs it ``None`` (unknown) rather than wrong, so that no declared
figure is compared against a partial sum.
"""

from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from deliberation.model import Dossier, LigneBudgetaire, Operation, Thematique

ZERO = Decimal("0")


@dataclass(frozen=True)
class Totaux:
    """Aggregates over a set of lines (an opération, a thématique, a budget line, the phase)."""

    montant: Decimal | None
    lignes: int
    structures: int
    etp: Decimal | None
    volumes: dict[str, Decimal]
    volumes_complets: bool
    periode: tuple[dt.date, dt.date] | None
    dispositifs: int
    periode_connue: tuple[dt.date | None, dt.date | None] = (None, None)

    def volume(self, unite: str) -> Decimal | None:
        """Total volume in ``unite`` (None when some line's volume is unreadable)."""
        if not self.volumes_complets:
            return None
        return self.volumes.get(unite, ZERO)


@dataclass(frozen=True)
class BudgetFigures:
    """A budget line's situation: AE, disponible, proposition and the computed solde."""

    ligne: LigneBudgetaire
    proposition: Decimal | None
    solde: Decimal | None
    totaux: Totaux


@dataclass
class Figures:
    """All computed figures, looked up by model object."""

    operations: dict[int, Totaux] = field(default_factory=dict)
    thematiques: dict[int, Totaux] = field(default_factory=dict)
    budget: dict[str, BudgetFigures] = field(default_factory=dict)
    phase: Totaux | None = None

    def of(self, node: Operation | Thematique) -> Totaux:
        """Totals of an opération or a thématique."""
        table = self.operations if isinstance(node, Operation) else self.thematiques
        return table[id(node)]


def totals(lines: list, dispositifs: int) -> Totaux:
    """Aggregate a list of lines."""
    montant: Decimal | None = ZERO
    etp: Decimal | None = ZERO
    volumes: dict[str, Decimal] = {}
    volumes_ok = True
    debut, fin, periode_ok = None, None, True
    pairs = set()
    for ligne in lines:
        montant = None if montant is None or ligne.montant is None else montant + ligne.montant
        if ligne.etp is not None and etp is not None:
            etp += ligne.etp
        elif "etp" in ligne.locs:
            etp = None
        if ligne.volume is not None:
            if ligne.volume.nombre is None or ligne.volume.unite is None:
                volumes_ok = False
            else:
                volumes[ligne.volume.unite] = volumes.get(ligne.volume.unite, ZERO) + ligne.volume.nombre
        elif "volume" in ligne.locs:
            volumes_ok = False
        p = ligne.periode
        if p is None or p.debut is None or p.fin is None:
            periode_ok = False
        if p is not None and p.debut is not None:
            debut = p.debut if debut is None else min(debut, p.debut)
        if p is not None and p.fin is not None:
            fin = p.fin if fin is None else max(fin, p.fin)
        pairs.add((ligne.structure, ligne.territoire))
    periode = (debut, fin) if periode_ok and debut is not None and fin is not None else None
    return Totaux(
        montant=montant,
        lignes=len(lines),
        structures=len(pairs),
        etp=etp,
        volumes=dict(sorted(volumes.items())),
        volumes_complets=volumes_ok,
        periode=periode,
        dispositifs=dispositifs,
        periode_connue=(debut, fin),
    )


def compute(d: Dossier) -> Figures:
    """Compute the figures of every opération, thématique, budget line and of the phase."""
    fig = Figures()
    all_lines = []
    by_budget: dict[str, list] = {}
    n_ops = 0
    for t in d.thematiques:
        t_lines = []
        for o in t.operations:
            fig.operations[id(o)] = totals(list(o.lignes), 1)
            t_lines += o.lignes
            by_budget.setdefault(o.budget, []).extend(o.lignes)
        fig.thematiques[id(t)] = totals(t_lines, len(t.operations))
        n_ops += len(t.operations)
        all_lines += t_lines
    fig.phase = totals(all_lines, n_ops)
    for b in d.budget:
        if b.code is None or b.code in fig.budget:
            continue
        lines = by_budget.get(b.code, [])
        tot = totals(lines, 0)
        proposition = tot.montant
        solde = None if proposition is None or b.disponible is None else b.disponible - proposition
        fig.budget[b.code] = BudgetFigures(ligne=b, proposition=proposition, solde=solde, totaux=tot)
    return fig


def schedule(montant: Decimal, pourcentages: list[Decimal]) -> list[Decimal]:
    """Split an amount into instalments by percentage, to the cent; the parts add up exactly.

    The running totals are rounded half up to the cent and each part is the difference of two of
    them, the last ending on the amount itself: rounding never creates or loses a cent, no part is
    more than a cent off its share, and no part is negative when no percentage is (rounding each
    part alone made 0,02 € in four quarters 0,01 + 0,01 + 0,01 − 0,01). 79 850 € at 60/40 →
    47 910,00 + 31 940,00.

    Raises:
        ValueError: the percentages do not add up to 100 (the sheet rule ``dispositif.versements``).
    """
    if sum(pourcentages, ZERO) != 100:
        msg = f"percentages add up to {sum(pourcentages, ZERO)}, not 100"
        raise ValueError(msg)
    bounds, running = [ZERO], ZERO
    for p in pourcentages[:-1]:
        running += p
        bounds.append((montant * running / 100).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))
    bounds.append(montant)
    return [b - a for a, b in zip(bounds, bounds[1:], strict=False)]


def months(debut: dt.date, fin: dt.date) -> Decimal:
    """Length of a period in months: whole months when it runs from a 1st to a month end."""
    if debut.day == 1 and fin.day == calendar.monthrange(fin.year, fin.month)[1]:  # no day after 31/12/9999
        return Decimal((fin.year - debut.year) * 12 + fin.month - debut.month + 1)
    days = (fin - debut).days + 1
    return (Decimal(days) * 12 / Decimal("365.25")).quantize(Decimal("0.01"))


def _json_totaux(t: Totaux) -> dict:
    return {
        "montant": None if t.montant is None else str(t.montant),
        "lignes": t.lignes,
        "structures": t.structures,
        "dispositifs": t.dispositifs,
        "etp": None if t.etp is None else str(t.etp.normalize() if t.etp else t.etp),
        "volumes": {k: str(v) for k, v in t.volumes.items()},
        "periode": None if t.periode is None else [t.periode[0].isoformat(), t.periode[1].isoformat()],
    }


def figures_to_data(d: Dossier, fig: Figures) -> dict:
    """Figures as plain data (for ``figures --json`` and golden files), in dossier order."""
    return {
        "phase": _json_totaux(fig.phase),
        "thematiques": [
            {
                "numero": t.numero,
                "titre": t.titre,
                **_json_totaux(fig.of(t)),
                "operations": [
                    {
                        "numero": o.numero,
                        "titre": o.titre,
                        "budget": o.budget,
                        **_json_totaux(fig.of(o)),
                        "detail": [
                            {
                                "id": ligne.id,
                                "structure": ligne.structure,
                                "territoire": ligne.territoire,
                                "montant": None if ligne.montant is None else str(ligne.montant),
                            }
                            for ligne in o.lignes
                        ],
                    }
                    for o in t.operations
                ],
            }
            for t in d.thematiques
        ],
        "budget": [
            {
                "code": code,
                "imputation": b.ligne.imputation,
                "libelle": b.ligne.libelle,
                "ae": None if b.ligne.ae is None else str(b.ligne.ae),
                "disponible": None if b.ligne.disponible is None else str(b.ligne.disponible),
                "proposition": None if b.proposition is None else str(b.proposition),
                "solde": None if b.solde is None else str(b.solde),
            }
            for code, b in fig.budget.items()
        ],
    }
