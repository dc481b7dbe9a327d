"""Numbers, ranges and periods written in the dossier's texts: possible, written one way, true to the figures.

Every text field of the dossier (every ``Text`` or ``Markdown`` field of the schema, found by walking the
model, not listed by hand) is read by :func:`deliberation.mentions.read`:

- ``texte.intervalle`` (error): a range that ends before it starts (« de 18 à 15 ans », « entre 40 et 20 % »,
  « du 01/07/2025 au 01/01/2025 »);
- ``texte.nombre`` (warning, one per form, every place listed): a decimal written « 1, 2 » or « 1.2 » before a
  unit where French writes « 1,2 »; a kind of quantity (« diagnostics », « € »…) written with thousands grouped
  in one place and not in another (« 4 783 diagnostics », « 1200 diagnostics »);
- ``texte.chiffre``, ``texte.periode``, ``texte.duree`` (errors): a narrative (thématique, opération, the
  rapport's introduction) that states a figure, a period or a duration its lines contradict, and a line's
  description that contradicts the line's own ETP, volume or period.

A text is compared only where it is unambiguous: one value of a kind in the text (two different periods in
one text are not guessed between), a volume only in a unit the scope's lines count, nothing the text also
cites by ``[[name]]``. A figure that the scope's ``annonces`` declare with the same kind and value
(``montant``, ``etp``, ``structures``, a volume unit, ``periode``) is the text's figure transcribed: it is left
to ``annonce.*``, which reports it with its source (one contradiction, one finding); a text figure no
annonce states is compared here. Texts are read as presented and as adopted; a finding both give
is reported once.
"""

from __future__ import annotations

import datetime as dt
import functools
import os
from collections.abc import Iterator
from decimal import Decimal

from deliberation.compute import Totaux, months
from deliberation.findings import Finding, Loc, error, warning
from deliberation.fmt import date_short, etp, gap, money, number, plain
from deliberation.mentions import Quantity, Range, Reading, read
from deliberation.model import UNITES, Ligne, Node, Structure, Thematique
from deliberation.rules import DOSSIER, ERROR, WARNING, RuleInput, rule
from deliberation.rules.narratives import _yaml_line
from deliberation.schema import ListOf, MapOf, Record, Text, schema_fields
from deliberation.text import PLACEHOLDER

#: Placeholders that cite a computed figure of each kind: a text citing one does not also state it.
_CITES = {"montant": ("montant", "montant_centimes"), "etp": ("etp",), "structures": ("structures",),
          "periode": ("periode", "debut", "fin"), **{u: (u,) for u in UNITES}}
#: Months a stated duration may differ from the period's length (a period from the 1st to a month end is exact).
_TOLERANCE = Decimal("0.5")


@functools.cache
def _plan(cls: type) -> tuple[tuple[str, int], ...]:
    """The fields of model class ``cls`` worth walking: (name, 0 text / 1 list of texts / 2 records)."""
    plan = []
    for f in schema_fields(cls):
        kind = f.metadata["kind"]
        item = kind.item if isinstance(kind, ListOf) else kind
        if isinstance(item, Text):
            if item.pattern is None:  # a patterned text is a code or a number (« C02-446A05 »), not prose
                plan.append((f.name, 1 if isinstance(kind, ListOf) else 0))
        elif isinstance(item, (Record, MapOf, ListOf)) and not (cls is Thematique and f.name == "operations"):
            plan.append((f.name, 2))
    return tuple(plan)


def _texts(d) -> Iterator[tuple[str, Node, str, str]]:
    """Every prose text of dossier ``d`` (every ``Text`` field of the schema): (owner's label, node, field, text)."""

    def walk(obj, label: str):
        if isinstance(obj, Node):
            if isinstance(obj, Ligne):
                label = f"ligne {obj.id}"
            elif isinstance(obj, Structure):
                label = f"structure {obj.id}"
            for name, how in _plan(type(obj)):
                value = getattr(obj, name)
                if not value:
                    continue
                if how == 0:
                    yield label, obj, name, value
                elif how == 1:
                    yield from ((label, obj, name, v) for v in value if isinstance(v, str))
                else:
                    yield from walk(value, label)
            if isinstance(obj, Thematique):
                for o in obj.operations:
                    yield from walk(o, f"opération {obj.numero}.{o.numero}")
        elif isinstance(obj, (tuple, list)):
            for x in obj:
                yield from walk(x, label)
        elif isinstance(obj, dict):
            for k in sorted(obj):
                yield from walk(obj[k], label)

    yield from walk(d.info, "phase")
    yield from walk(d.budget, "budget")
    for t in d.thematiques:
        yield from walk(t, f"thématique {t.numero}")
    yield from walk(d.structures, "registre")
    yield from walk(d.amendements, "amendement")


class _Where:
    """Locations of a text's matches: the line inside a literal block (``|``), else the field's line."""

    def __init__(self, root: str):
        self.root = root
        self.cache: dict[str, list[str]] = {}

    def at(self, node: Node, field: str, text: str, start: int) -> Loc:
        """Where character ``start`` of ``text`` (field ``field`` of ``node``) is."""
        return _yaml_line(node.at(field), text.count("\n", 0, start), self.cache)

    def show(self, loc: Loc) -> str:
        """``thematiques/t1.yaml:94``: a location as a message names it, relative to the dossier."""
        file = loc.file
        if self.root:
            rel = os.path.relpath(file, self.root)
            file = file if rel.startswith("..") else rel
        return f"{file}:{loc.line}" if loc.line else file


#: Figures from this size on are shown as typed, without a gap (the formatter's limit; a fuzzed volume).
_HUGE = Decimal("1e20")


def _shown(value: Decimal, unit: str) -> str:
    if abs(value) >= _HUGE:
        return f"{value} {unit}"
    if unit == "€":
        return plain(money(value))
    if unit == "ETP":
        return plain(etp(value))
    return plain(f"{number(value)} {unit[:-1] if value == 1 else unit}")  # « 1 structure », « 2 structures »


def _gap(stated: Decimal, value: Decimal, unit: str) -> str:
    """``fmt.gap`` with a count's noun agreed (« (1 structure de moins) »)."""
    if max(abs(stated), abs(value)) >= _HUGE:
        return ""
    one = abs(value - stated) == 1 and unit.endswith("s") and unit != "mois"
    return gap(stated, value, unit[:-1] if one else unit)


def _period(p) -> str:
    return f"du {date_short(p[0])} au {date_short(p[1])}"


def _days(a: dt.date, b: dt.date) -> str:
    n = (b - a).days
    return "même jour" if n == 0 else f"{abs(n)} jour{'s' if abs(n) > 1 else ''} {'plus tard' if n > 0 else 'plus tôt'}"


def _inverted(label: str, field: str, r: Range) -> str:
    if isinstance(r.low, dt.date):
        return (f"{label}, {field} : période inversée « {r.text} » : elle finirait le {date_short(r.high)}, avant "
                f"de commencer le {date_short(r.low)}")
    return (f"{label}, {field} : intervalle inversé « {r.text} » : la première borne ({number(r.low)}) dépasse la "
            f"seconde ({number(r.high)})")


_FORMS = {
    "spaced": ("nombre décimal écrit avec une espace après la virgule", lambda q: q.text.replace(", ", ",", 1)),
    "point": ("nombre décimal écrit avec un point", lambda q: q.text.replace(".", ",", 1)),
}


def _forms(seen: list[tuple[Quantity, Loc]], where: _Where) -> list[Finding]:
    """One warning per form kind: decimals written « 1, 2 » or « 1.2 », thousands grouped here and not there."""
    out: list[Finding] = []
    for form, (what, fix) in _FORMS.items():
        hits = [(q, loc) for q, loc in seen if q.form == form]
        if hits:
            places = " ; ".join(f"« {q.text} » ({where.show(loc)}) : écrire « {fix(q)} »" for q, loc in hits)
            out.append(warning("texte.nombre", f"{what} ({len(hits)} fois) : {places}", hits[0][1]))
    units = sorted({q.unit for q, _ in seen if q.value >= 1000 and q.value % 1 == 0})
    for unit in units:
        big = [(q, loc) for q, loc in seen if q.unit == unit and q.value >= 1000]
        grouped = [(q, loc) for q, loc in big if q.form == "grouped"]
        bare = [(q, loc) for q, loc in big if q.form == "plain"]
        if grouped and bare:
            def listed(hits):
                return ", ".join(f"« {q.text} » ({where.show(loc)})" for q, loc in hits)
            msg = (f"{unit} écrits tantôt sans espace des milliers : {listed(bare)}, tantôt avec : {listed(grouped)} ; "
                   f"écrire « {_shown(bare[0][0].value, unit)} »")
            out.append(warning("texte.nombre", msg, bare[0][1]))
    return out


def _one(values: list) -> object | None:
    """The value a text states when it states exactly one (several different ones are not guessed between)."""
    distinct = set(values)
    return distinct.pop() if len(distinct) == 1 else None


class _Compare:
    """Compare what one text states with the figures of its scope, findings at the stated value."""

    def __init__(self, where: _Where, out: list[Finding]):
        self.where, self.out = where, out

    def __call__(self, label, node, field, text, reading: Reading, found: dict, how: dict, declared: dict):
        skip: set[str] = set()
        if "[[" in text:
            names = {n.strip() for n in PLACEHOLDER.findall(text)}
            skip = {k for k, cites in _CITES.items() if names.intersection(cites)}
        for kind, value in found.items():
            if kind in skip or value is None or kind == "periode":
                continue
            unit = _UNIT_OF.get(kind, kind)
            qs = [q for q in reading.quantities if q.unit == unit and (kind != "montant" or q.total)]
            stated = _one([q.value for q in qs])
            if stated is None or stated == value or stated in declared.get(kind, ()) or (
                    kind == "etp" and self._etp_ok(node, qs, value)):
                continue
            q = next(q for q in qs if q.value == stated)
            msg = (f"{label}, {field} : le texte dit « {q.text} », {how[kind]} {_shown(value, unit)} "
                   f"{_gap(stated, value, unit)}").rstrip()
            self.out.append(error("texte.chiffre", msg, self.where.at(node, field, text, q.start)))
        periode = found.get("periode")
        if periode is None:
            return
        periods = [p for p in reading.periods if not p.inverted]
        if "periode" not in skip and (stated := _one([(p.low, p.high) for p in periods])) is not None \
                and stated != periode and stated not in declared.get("periode", ()):
            p = next(p for p in periods if (p.low, p.high) == stated)
            msg = (f"{label}, {field} : le texte dit « {p.text} » ({_period(stated)}), {how['periode']} "
                   f"{_period(periode)} (début : {_days(stated[0], periode[0])} ; "
                   f"fin : {_days(stated[1], periode[1])})")
            self.out.append(error("texte.periode", msg, self.where.at(node, field, text, p.start)))
        length = months(*periode)
        for d in reading.durations:
            if abs(d.months - length) > _TOLERANCE:
                msg = (f"{label}, {field} : le texte dit « {d.text} » ({number(d.months)} mois), alors que "
                       f"{how['periode']} {_period(periode)} dure {number(length)} mois "
                       f"{gap(d.months, length, 'mois')}")
                self.out.append(error("texte.duree", msg, self.where.at(node, field, text, d.start)))

    @staticmethod
    def _etp_ok(node, qs: list[Quantity], value: Decimal) -> bool:
        """A line's ETP told in parts (« 1,3 ETP … + 1 ETP ») or, for a mixed line, its valued part."""
        if sum((q.value for q in qs), Decimal(0)) == value:
            return True
        valorises = getattr(node, "etp_valorises", None)
        return valorises is not None and {q.value for q in qs} <= {valorises, value - valorises}


_UNIT_OF = {"montant": "€", "etp": "ETP"}


def _scope_figures(t: Totaux) -> dict:
    found = {"montant": t.montant, "etp": t.etp, "structures": Decimal(t.structures), "periode": t.periode}
    for u in UNITES:
        v = t.volume(u)
        if v:  # a unit the scope's lines count (« 3 familles d'accompagnement » in a text counting places is not)
            found[u] = v
    return found


def _declared(annonces) -> dict[str, set]:
    """The values the scope's ``annonces`` declare, by kind (a period as its two dates)."""
    out: dict[str, set] = {}
    for a in annonces:
        v = a.valeur
        if a.quoi == "periode":
            v = (v.debut, v.fin) if v is not None else None
        elif v is not None:
            v = Decimal(v)
        out.setdefault(a.quoi, set()).add(v)
    return out


_SCOPE_HOW = {"montant": "somme des lignes", "etp": "somme des lignes", "structures": "décompte des lignes",
              "periode": "période couverte par les lignes", **{u: "somme des lignes" for u in UNITES}}
_LINE_HOW = {"etp": "la ligne saisit", "periode": "la période de la ligne", **{u: "la ligne saisit" for u in UNITES}}


def _figures(d, fig, compare: _Compare) -> None:
    """Narratives against their scope's computed figures; descriptions against their line's fields."""
    scopes = []
    if d.info and d.info.rapport and fig.phase is not None:
        scopes.append(("rapport", d.info.rapport, "introduction", fig.phase, d.info.annonces))
    for t in d.thematiques:
        scopes.append((f"thématique {t.numero}", t, "narrative", fig.of(t), t.annonces))
        for o in t.operations:
            scopes.append((f"opération {t.numero}.{o.numero}", o, "narrative", fig.of(o), o.annonces))
    for label, node, field, totaux, annonces in scopes:
        text = getattr(node, field, None)
        if text:
            compare(label, node, field, text, read(text), _scope_figures(totaux), _SCOPE_HOW, _declared(annonces))
    for _, _, ligne in d.lignes():
        if not ligne.description:
            continue
        found: dict = {"etp": ligne.etp}
        if ligne.volume is not None and ligne.volume.unite and ligne.volume.nombre is not None:
            found[ligne.volume.unite] = ligne.volume.nombre
        p = ligne.periode
        found["periode"] = (p.debut, p.fin) if p is not None and p.debut and p.fin and p.debut <= p.fin else None
        compare(f"ligne {ligne.id}", ligne, "description", ligne.description, read(ligne.description), found,
                _LINE_HOW, {})


@rule(DOSSIER, ("texte.intervalle", "texte.nombre", "texte.chiffre", "texte.periode", "texte.duree"),
      (ERROR, WARNING))
def check_texts(inp: RuleInput) -> list[Finding]:
    """Ranges in the texts are possible, numbers written one way, narratives and descriptions true to the figures."""
    versions = [(inp.dossier, inp.figures)]
    if inp.presented is not None and inp.presented is not inp.dossier:
        versions.insert(0, (inp.presented, inp.presented_figures))
    where = _Where(inp.dossier.root)
    out: list[Finding] = []
    seen: list[tuple[Quantity, Loc]] = []
    done: set[tuple] = set()
    for d, _ in versions:
        for label, node, field, text in _texts(d):
            key = (node.at(field), text)
            if key in done:
                continue
            done.add(key)
            reading = read(text)
            for r in (*reading.ranges, *reading.periods):
                if r.inverted:
                    loc = where.at(node, field, text, r.start)
                    out.append(error("texte.intervalle", _inverted(label, field, r), loc))
            seen += [(q, where.at(node, field, text, q.start)) for q in reading.quantities]
    out += _forms(seen, where)
    compare = _Compare(where, out)
    for d, fig in versions:
        if fig is not None:
            _figures(d, fig, compare)
    unique: dict[tuple, Finding] = {}
    for f in out:
        unique.setdefault((f.code, f.loc, f.message), f)
    return list(unique.values())
