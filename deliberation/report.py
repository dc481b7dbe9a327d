"""Readable tables of the computed figures (``deliberation figures``)."""

from __future__ import annotations

from decimal import Decimal

from deliberation.fmt import money, number, plain


def _m(v: str | None) -> str:
    return "?" if v is None else plain(money(Decimal(v)))


def _n(v: str | None) -> str:
    return "?" if v is None else plain(number(Decimal(v)))


def _table(headers: list[str], rows: list[list[str]], right: set[int]) -> str:
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(headers)]

    def line(cells):
        pairs = enumerate(zip(cells, widths, strict=True))
        return "  ".join(c.rjust(w) if i in right else c.ljust(w) for i, (c, w) in pairs)

    return "\n".join([line(headers), line(["-" * w for w in widths]), *(line(r) for r in rows)])


def _vol(t: dict) -> str:
    return ", ".join(f"{_n(v)} {u}" for u, v in t["volumes"].items())


def figures_table(data: dict, lines: bool = True) -> str:
    """Render figures data (see ``compute.figures_to_data``) as plain-text tables (``lines``: with every line)."""
    out = []
    rows = []
    for t in data["thematiques"]:
        for o in t["operations"]:
            for li in o["detail"]:
                rows.append([f"{t['numero']}.{o['numero']}", li["id"] or "?", li["structure"] or "?",
                             li["territoire"] or "?", _m(li["montant"])])
    if lines:
        out.append("LIGNES\n" + _table(["op.", "ligne", "structure", "territoire", "montant"], rows, {4}))
    rows = []
    for t in data["thematiques"]:
        for o in t["operations"]:
            rows.append([f"{t['numero']}.{o['numero']}", (o["titre"] or "?")[:48], str(o["lignes"]),
                         str(o["structures"]), _n(o["etp"]), _vol(o), _m(o["montant"])])
    out.append("OPÉRATIONS\n" + _table(
        ["op.", "titre", "lignes", "structures", "ETP", "volumes", "total"], rows, {2, 3, 4, 6}))
    rows = [[str(t["numero"]), (t["titre"] or "?")[:48], str(t["dispositifs"]), str(t["lignes"]),
             str(t["structures"]), _m(t["montant"])] for t in data["thematiques"]]
    out.append("THÉMATIQUES\n" + _table(
        ["thém.", "titre", "dispositifs", "lignes", "structures", "total"], rows, {2, 3, 4, 5}))
    rows = [[b["code"], b["imputation"] or "?", (b["libelle"] or "?")[:40], _m(b["ae"]), _m(b["disponible"]),
             _m(b["proposition"]), _m(b["solde"])] for b in data["budget"]]
    out.append("BUDGET\n" + _table(
        ["code opération", "imputation", "libellé", "AE", "disponible", "proposition", "solde"], rows,
        {3, 4, 5, 6}))
    p = data["phase"]
    out.append(
        f"PHASE\n{p['dispositifs']} dispositif(s), {p['lignes']} ligne(s), {p['structures']} structure(s), "
        f"{_n(p['etp'])} ETP, total {_m(p['montant'])}"
    )
    return "\n\n".join(out) + "\n"
