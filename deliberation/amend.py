"""Apply the adopted amendments on top of a dossier: the phase as presented → the phase as adopted.

The rapport keeps the figures as presented; the délibération, annexe 4 and the acts carry the
figures as adopted. Every changed value keeps the location of the amendment that set it, so a
rule that fails on it points into ``amendements.yaml``. A modification that cannot apply (unknown
target, line already withdrawn, duplicated id) is a located finding and is skipped.
"""

from __future__ import annotations

import dataclasses
import difflib
from dataclasses import dataclass, field

from deliberation.findings import Finding, Loc, error, warning
from deliberation.model import Amendement, Dossier, Ligne, Modification, Node
from deliberation.schema import schema_fields


@dataclass
class Effect:
    """What one adopted amendment touched: the délibération cites it where it applies."""

    numero: int
    date: object
    objet: str
    loc: Loc
    thematiques: set = field(default_factory=set)  # thématique numbers
    budget: set = field(default_factory=set)  # budget codes
    lignes: set = field(default_factory=set)  # line ids (changed, withdrawn or added)
    structures: set = field(default_factory=set)  # structure keys
    hausses: list = field(default_factory=list)  # (budget code, Loc) of each raise of an amount


def same(a, b) -> bool:
    """Equal values, comparing model records field by field (they compare by identity otherwise)."""
    if isinstance(a, Node) and isinstance(b, Node):
        return type(a) is type(b) and all(
            same(getattr(a, f.name), getattr(b, f.name)) for f in schema_fields(type(a))
        )
    if isinstance(a, tuple) and isinstance(b, tuple):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    return a == b


def _relocate(obj: Node, values: dict, mod: Modification):
    """``obj`` with new values, each located at the amendment that set it."""
    return dataclasses.replace(obj, **values, locs={**obj.locs, **{k: mod.at(k) for k in values}})


def _hint(name: str, known) -> str:
    close = difflib.get_close_matches(str(name), list(known), n=1)
    return f" ; vouliez-vous dire « {close[0]} » ?" if close else ""


class _Work:
    """The dossier in mutable form while amendments apply."""

    def __init__(self, d: Dossier):
        self.d = d
        self.thematiques = [[t, [[o, list(o.lignes)] for o in t.operations]] for t in d.thematiques]
        self.structures = dict(d.structures)
        self.where: dict[str, tuple[int, int]] = {}
        self.ops: dict[str, tuple[int, int]] = {}
        for ti, (t, ops) in enumerate(self.thematiques):
            for oi, (o, lignes) in enumerate(ops):
                self.ops.setdefault(f"{t.numero}.{o.numero}", (ti, oi))
                for ligne in lignes:
                    if ligne.id is not None:  # a line without a valid id cannot be a target
                        self.where.setdefault(ligne.id, (ti, oi))
        self.withdrawn: dict[str, int] = {}
        self.emptied: list[tuple] = []  # (opération, amendment, line id, Loc) of each withdrawal that empties one

    def empty_operations(self) -> list[Finding]:
        """Opérations left without any line once every amendment has applied."""
        out = []
        for key, num, ligne, loc in self.emptied:
            if key in self.ops and not self.op(*self.ops[key])[1]:
                out.append(warning(
                    "amendement.operation_vide",
                    f"amendement n°{num} : le retrait de {ligne} laisse l'opération {key} sans ligne ; elle reste dans "
                    f"la délibération et l'annexe de répartition avec un total nul (pour la retirer aussi : "
                    f"« operation: \"{key}\" » et « retrait: oui »)", loc))
        return out

    def op(self, ti: int, oi: int):
        return self.thematiques[ti][1][oi]

    def dossier(self) -> Dossier:
        thematiques = []
        for t, ops in self.thematiques:
            operations = tuple(
                o if list(o.lignes) == lignes else dataclasses.replace(o, lignes=tuple(lignes)) for o, lignes in ops
            )
            changed = len(operations) != len(t.operations) or any(
                a is not b for a, b in zip(operations, t.operations, strict=False))
            thematiques.append(dataclasses.replace(t, operations=operations) if changed else t)
        return dataclasses.replace(self.d, thematiques=tuple(thematiques), structures=self.structures)


def _noop(target, values: dict, mod: Modification, num: int) -> list[Finding]:
    out = []
    for k, v in values.items():
        if same(getattr(target, k, None), v):
            out.append(warning("amendement.sans_effet",
                               f"amendement n°{num} : {mod.label}, « {k} » vaut déjà la valeur proposée", mod.at(k)))
    return out


def _apply_line(w: _Work, mod: Modification, eff: Effect) -> list[Finding]:
    num = eff.numero
    if mod.ligne in w.withdrawn:
        return [error("amendement.retiree", f"amendement n°{num} : la ligne {mod.ligne} a déjà été retirée par "
                      f"l'amendement n°{w.withdrawn[mod.ligne]}", mod.at("ligne"))]
    if mod.ligne not in w.where:
        return [error("amendement.cible_inconnue", f"amendement n°{num} : ligne inconnue « {mod.ligne} »"
                      f"{_hint(mod.ligne, w.where)}", mod.at("ligne"))]
    ti, oi = w.where[mod.ligne]
    o, lignes = w.op(ti, oi)
    i = next(i for i, ligne in enumerate(lignes) if ligne.id == mod.ligne)
    old = lignes[i]
    eff.thematiques.add(w.thematiques[ti][0].numero)
    eff.budget.add(o.budget)
    eff.lignes.add(old.id)
    eff.structures.add(old.structure)
    if mod.retrait:
        del lignes[i]
        del w.where[old.id]
        w.withdrawn[old.id] = num
        if not lignes:
            w.emptied.append((f"{w.thematiques[ti][0].numero}.{o.numero}", num, old.id, mod.at("retrait")))
        return []
    findings = _noop(old, mod.valeurs, mod, num)
    new = _relocate(old, mod.valeurs, mod)
    lignes[i] = new
    eff.structures.add(new.structure)
    if new.montant is not None and (old.montant is None or new.montant > old.montant):
        eff.hausses.append((o.budget, mod.at("montant")))
    return findings


def _apply_operation(w: _Work, mod: Modification, eff: Effect) -> list[Finding]:
    num = eff.numero
    if mod.operation not in w.ops:
        return [error("amendement.cible_inconnue", f"amendement n°{num} : opération inconnue « {mod.operation} » "
                      f"(thématique.opération){_hint(mod.operation, w.ops)}", mod.at("operation"))]
    ti, oi = w.ops[mod.operation]
    o, lignes = w.op(ti, oi)
    t = w.thematiques[ti][0]
    eff.thematiques.add(t.numero)
    eff.budget.add(o.budget)
    if mod.retrait:  # the whole opération is withdrawn, with its lines
        del w.thematiques[ti][1][oi]
        del w.ops[mod.operation]
        w.ops = {k: (tj, oj - 1 if tj == ti and oj > oi else oj) for k, (tj, oj) in w.ops.items()}
        w.where = {k: (tj, oj - 1 if tj == ti and oj > oi else oj) for k, (tj, oj) in w.where.items()
                   if (tj, oj) != (ti, oi)}
        for ligne in lignes:
            w.withdrawn[ligne.id] = num
            eff.lignes.add(ligne.id)
            eff.structures.add(ligne.structure)
        if not w.thematiques[ti][1]:
            return [warning("amendement.thematique_vide", f"amendement n°{num} : le retrait de l'opération "
                            f"{mod.operation} laisse la thématique {t.numero} sans opération", mod.at("retrait"))]
        return []
    if mod.ajout is not None:
        new: Ligne = mod.ajout
        if new.id in w.where:
            return [error("amendement.id_duplique", f"amendement n°{num} : la ligne ajoutée « {new.id} » existe déjà",
                          new.at("id"))]
        if new.id is not None:
            lignes.append(new)
            w.where[new.id] = (ti, oi)
            w.withdrawn.pop(new.id, None)
            eff.lignes.add(new.id)
            eff.structures.add(new.structure)
            if new.montant:
                eff.hausses.append((o.budget, new.at("montant")))
        return []
    findings = _noop(o, mod.valeurs, mod, num)
    new_op = _relocate(o, mod.valeurs, mod)
    w.thematiques[ti][1][oi] = [new_op, lignes]
    eff.budget.add(new_op.budget)
    if new_op.budget != o.budget and any(ligne.montant for ligne in lignes):
        eff.hausses.append((new_op.budget, mod.at("budget")))
    return findings


def _apply_registry(w: _Work, mod: Modification, eff: Effect) -> list[Finding]:
    num = eff.numero
    s = w.structures.get(mod.structure)
    if s is None:
        return [error("amendement.cible_inconnue", f"amendement n°{num} : structure inconnue « {mod.structure} »"
                      f"{_hint(mod.structure, w.structures)}", mod.at("structure"))]
    eff.structures.add(s.id)
    if mod.cible == "structure":
        w.structures[s.id] = _relocate(s, mod.valeurs, mod)
        return _noop(s, mod.valeurs, mod, num)
    c = s.conventions.get(mod.convention)
    if c is None:
        return [error("amendement.cible_inconnue", f"amendement n°{num} : convention inconnue « {mod.convention} » "
                      f"pour {s.id}{_hint(mod.convention, s.conventions)}", mod.at("convention"))]
    w.structures[s.id] = dataclasses.replace(s, conventions={**s.conventions, c.id: _relocate(c, mod.valeurs, mod)})
    return _noop(c, mod.valeurs, mod, num)


def _check_list(d: Dossier) -> list[Finding]:
    out = []
    seen: dict[int, Amendement] = {}
    seance = d.info.seance.date if d.info and d.info.seance else None
    for a in d.amendements:
        if a.numero is not None:
            if a.numero in seen:
                out.append(error("amendement.numero", f"amendement n°{a.numero} numéroté deux fois (aussi "
                                 f"{seen[a.numero].loc})", a.at("numero")))
            seen.setdefault(a.numero, a)
        if a.date is not None and seance is not None and a.date > seance:
            out.append(error("amendement.date", f"amendement n°{a.numero} daté du {a.date:%d/%m/%Y}, après la séance "
                             f"du {seance:%d/%m/%Y}", a.at("date")))
        if not a.modifications and "modifications" in a.locs:
            out.append(warning("amendement.vide", f"amendement n°{a.numero} sans modification", a.loc))
    numbers = sorted(seen)
    if numbers and numbers != list(range(1, len(numbers) + 1)):
        first = seen[numbers[0]]
        out.append(warning("amendement.numero", "amendements numérotés " + ", ".join(map(str, numbers))
                           + f" : attendu 1 à {len(numbers)} sans trou", first.at("numero")))
    return out


def apply_amendments(d: Dossier) -> tuple[Dossier, list[Finding], list[Effect]]:
    """Apply the adopted amendments in number order; return the adopted dossier, findings and effects."""
    if not d.amendements:
        return d, [], []
    findings = _check_list(d)
    w = _Work(d)
    effects = []
    adopted = [a for a in d.amendements if a.numero is not None and a.sort == "adopté"]
    for a in sorted(adopted, key=lambda a: a.numero):
        eff = Effect(numero=a.numero, date=a.date, objet=a.objet or "", loc=a.loc)
        for mod in a.modifications:
            apply = {"ligne": _apply_line, "operation": _apply_operation}.get(mod.cible, _apply_registry)
            findings += apply(w, mod, eff)
        effects.append(eff)
    findings += w.empty_operations()
    return w.dossier(), findings, effects

