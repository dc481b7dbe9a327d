"""What changed between two versions of a phase: figures (before → after, with the gap) and documents.

A *snapshot* is the phase's figures as plain data, keyed by what a reader names (line id,
« 1.2 » for an opération, thématique number, budget code); the bundle carries it as
``chiffres.json`` so that two built bundles can be compared as well as two dossiers
(``commands.diff`` renders what the comparison of documents needs).
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import asdict, dataclass
from decimal import Decimal

from deliberation.compute import Figures, Totaux
from deliberation.fmt import date_short, money, number, plain
from deliberation.model import Dossier
from deliberation.report import _table

#: File name of the snapshot inside a bundle.
SNAPSHOT = "chiffres.json"

#: Fields that are amounts (formatted in euros) and fields that are counts or quantities.
MONEY = {"montant", "proposition", "solde", "disponible", "ae"}
NUMBERS = {"etp", "lignes", "structures", "dispositifs", "volume"}

SCOPES = {"ligne": "Ligne", "operation": "Opération", "thematique": "Thématique", "budget": "Ligne budgétaire",
          "phase": "Phase"}


def _s(value) -> str | None:
    return None if value is None else str(value)


def _tot(t: Totaux) -> dict:
    return {"montant": _s(t.montant), "lignes": t.lignes, "structures": t.structures, "etp": _s(t.etp)}


def snapshot(d: Dossier, fig: Figures) -> dict:
    """The phase's figures as plain, JSON-able data (amounts as strings, never floats)."""
    lignes, operations, thematiques = {}, {}, {}
    for t in d.thematiques:
        thematiques[str(t.numero)] = {"titre": t.titre, **_tot(fig.of(t)), "dispositifs": fig.of(t).dispositifs}
        for o in t.operations:
            key = f"{t.numero}.{o.numero}"
            operations[key] = {"titre": o.titre, "budget": o.budget, **_tot(fig.of(o))}
            for ligne in o.lignes:
                s = d.structures.get(ligne.structure)
                v, p = ligne.volume, ligne.periode
                lignes[ligne.id] = {
                    "operation": key,
                    "structure": ligne.structure,
                    "nom": s.nom if s else ligne.structure,
                    "territoire": ligne.territoire,
                    "nature": ligne.nature,
                    "montant": _s(ligne.montant),
                    "etp": _s(ligne.etp),
                    "volume": None if v is None or v.nombre is None else f"{v.nombre} {v.unite}",
                    "periode": None if p is None or p.debut is None or p.fin is None
                    else f"{p.debut.isoformat()}/{p.fin.isoformat()}",
                    "document": ligne.document,
                    "convention": ligne.convention,
                }
    budget = {
        code: {"libelle": b.ligne.libelle, "ae": _s(b.ligne.ae), "disponible": _s(b.ligne.disponible),
               "proposition": _s(b.proposition), "solde": _s(b.solde)}
        for code, b in fig.budget.items()
    }
    numero = d.info.deliberation.numero if d.info and d.info.deliberation else None
    return {"deliberation": numero, "phase": _tot(fig.phase), "thematiques": thematiques,
            "operations": operations, "lignes": lignes, "budget": budget}


@dataclass(frozen=True)
class Change:
    """One changed figure: where (scope, key, label), which field, before, after and the gap."""

    portee: str  # ligne, operation, thematique, budget, phase
    cle: str
    libelle: str
    champ: str  # a field, or « ajout » / « retrait » for a whole line
    avant: str | None
    apres: str | None
    ecart: str | None = None  # after − before, for amounts and quantities


def _gap(field: str, before, after) -> str | None:
    if field not in MONEY | NUMBERS or field == "volume":
        return None
    if before is None or after is None:
        return None
    return str(Decimal(after) - Decimal(before))


def _label(scope: str, key: str, item: dict) -> str:
    if scope == "ligne":
        return f"{key} — {item.get('nom')} ({item.get('territoire')})"
    if scope in ("operation", "thematique"):
        return f"{key} {item.get('titre') or ''}".strip()
    if scope == "budget":
        return f"{key} {item.get('libelle') or ''}".strip()
    return "Total de la phase"


def compare(old: dict, new: dict) -> list[Change]:
    """Every figure that differs between two snapshots, lines first, then opérations, thématiques, budget, phase."""
    out: list[Change] = []
    for scope, table in (("ligne", "lignes"), ("operation", "operations"), ("thematique", "thematiques"),
                         ("budget", "budget")):
        a, b = old.get(table, {}), new.get(table, {})
        for key in [*a, *(k for k in b if k not in a)]:
            before, after = a.get(key), b.get(key)
            label = _label(scope, key, after or before)
            if before is None or after is None:
                amount = (after or before).get("montant") if scope != "budget" else (after or before).get("proposition")
                champ = "ajout" if before is None else "retrait"
                gap = amount if before is None else (None if amount is None else str(-Decimal(amount)))
                out.append(Change(scope, key, label, champ, None if before is None else amount,
                                  amount if before is None else None, gap))
                continue
            for field in after:
                if field in ("titre", "nom", "libelle") or before.get(field) == after.get(field):
                    continue
                out.append(Change(scope, key, label, field, _s(before.get(field)), _s(after.get(field)),
                                  _gap(field, before.get(field), after.get(field))))
    pa, pb = old.get("phase", {}), new.get("phase", {})
    for field in pb:
        if pa.get(field) != pb.get(field):
            out.append(Change("phase", "phase", "Total de la phase", field, _s(pa.get(field)), _s(pb.get(field)),
                              _gap(field, pa.get(field), pb.get(field))))
    return out


# ---------------------------------------------------------------------------
# output


def show(field: str, value: str | None, signed: bool = False) -> str:
    """A snapshot value as a French reader expects it (``70 000,00 €``, ``01/01/2025 → 31/12/2025``)."""
    if value is None:
        return "—"
    if field in MONEY or (field in ("ajout", "retrait")):
        d = Decimal(value)
        text = plain(money(abs(d) if signed else d))
        return ("+" if d > 0 else "−" if d < 0 else "") + text if signed else text
    if field in NUMBERS and field != "volume":
        d = Decimal(value)
        text = plain(number(abs(d) if signed else d))
        return ("+" if d > 0 else "−" if d < 0 else "") + text if signed else text
    if field == "periode" and "/" in value:
        a, b = (dt.date.fromisoformat(x) for x in value.split("/"))
        return f"{date_short(a)} → {date_short(b)}"
    if field == "volume":
        n, _, unit = value.partition(" ")
        return f"{plain(number(Decimal(n)))} {unit}"
    return value


def rows(changes: list[Change]) -> list[list[str]]:
    """Table rows: portée, élément, donnée, avant, après, écart."""
    out = []
    for c in changes:
        what = {"ligne": "ligne", "operation": "opération", "thematique": "thématique",
                "budget": "ligne budgétaire"}.get(c.portee, "")
        champ = {"ajout": f"{what} ajoutée", "retrait": f"{what} retirée"}.get(c.champ, c.champ)
        field = "montant" if c.champ in ("ajout", "retrait") else c.champ
        out.append([SCOPES[c.portee], c.libelle, champ, show(field, c.avant), show(field, c.apres),
                    "" if c.ecart is None else show(field, c.ecart, signed=True)])
    return out


HEADERS = ["Portée", "Élément", "Donnée", "Avant", "Après", "Écart"]


def table(changes: list[Change]) -> str:
    """The changes as a plain-text table (for the terminal)."""
    if not changes:
        return "Aucun chiffre modifié."
    clipped = [[r[0], r[1] if len(r[1]) <= 60 else r[1][:59] + "…", *r[2:]] for r in rows(changes)]
    return _table(HEADERS, clipped, right={3, 4, 5})


def markdown_table(changes: list[Change]) -> str:
    """The changes as a Markdown table (for ``CHANGES.md``)."""
    if not changes:
        return "Aucun chiffre modifié."
    lines = ["| " + " | ".join(HEADERS) + " |", "|" + "---|" * 3 + "---:|" * 3]
    lines += ["| " + " | ".join(cell.replace("|", "\\|") for cell in r) + " |" for r in rows(changes)]
    return "\n".join(lines)


@dataclass
class Documents:
    """Which documents changed, appeared or disappeared between two versions (file names)."""

    modifies: list[str]
    ajoutes: list[str]
    supprimes: list[str]
    inchanges: int


def compare_documents(old: dict[str, str], new: dict[str, str]) -> Documents:
    """Compare two ``name → content hash`` maps."""
    return Documents(
        modifies=sorted(n for n in new if n in old and old[n] != new[n]),
        ajoutes=sorted(n for n in new if n not in old),
        supprimes=sorted(n for n in old if n not in new),
        inchanges=sum(1 for n in new if n in old and old[n] == new[n]),
    )


def documents_text(docs: Documents) -> str:
    """The document changes as plain text."""
    out = []
    for title, names in (("Documents modifiés", docs.modifies), ("Documents ajoutés", docs.ajoutes),
                         ("Documents supprimés", docs.supprimes)):
        out.append(f"{title} ({len(names)}) :" + ("" if names else " aucun"))
        out += [f"  {n}" for n in names]
    out.append(f"Documents inchangés : {docs.inchanges}")
    return "\n".join(out)


def to_json(changes: list[Change], docs: Documents | None) -> str:
    """Changes and documents as JSON (amounts as strings)."""
    data = {"chiffres": [asdict(c) for c in changes]}
    if docs is not None:
        data["documents"] = asdict(docs)
    return json.dumps(data, ensure_ascii=False, indent=2, sort_keys=True)
