"""Declarative input schema: value kinds and the record converter.

The dossier's fields are declared once, on the model dataclasses (``model.py``), each with
a kind from this module and a docstring. ``convert`` walks a YAML node tree (with its line
marks) and returns model objects plus located findings; it never raises on bad input.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import difflib
import functools
import re
import unicodedata
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from ruamel.yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from deliberation.findings import Finding, Loc, error, warning

# ---------------------------------------------------------------------------
# conversion context


class Invalid(Exception):  # noqa: N818 - a signal inside the converter, never escapes it
    """A value does not fit its kind (turned into a finding by the record converter)."""

    def __init__(self, message: str, code: str = "schema.type"):
        super().__init__(message)
        self.message = message
        self.code = code


@dataclass
class Ctx:
    """Conversion state for one file: its name and the findings collected so far."""

    file: str
    findings: list[Finding] = field(default_factory=list)
    seen: set[int] = field(default_factory=set)

    def loc(self, node: Node | None, path: str) -> Loc:
        """Location of a node (1-based line)."""
        line = node.start_mark.line + 1 if node is not None and node.start_mark else 0
        return Loc(self.file, line, path)

    def add(self, code: str, message: str, node: Node | None, path: str) -> None:
        """Record an error at a node."""
        self.findings.append(error(code, message, self.loc(node, path)))

    def warn(self, code: str, message: str, node: Node | None, path: str) -> None:
        """Record a warning at a node (the value is kept)."""
        self.findings.append(warning(code, message, self.loc(node, path)))


_NULLS = frozenset(("", "~", "null", "Null", "NULL"))


def _is_null(node: Node) -> bool:
    """A plain (unquoted) null scalar: empty, ``~`` or ``null``."""
    return isinstance(node, ScalarNode) and not node.style and node.value in _NULLS


#: The marker of a value left to complete (``date: à compléter``): what ``deliberation init`` writes for
#: every value its workbook does not carry. Read as absent, with an error at its line (``schema.a_completer``).
BLANK = "à compléter"


#: An ASCII character that « à compléter » cannot hold in any spelling: a value with one is no blank.
#: (Decomposing and lower-casing keep ASCII characters, so one found here stays in the folded text.)
_NOT_BLANK = re.compile(r"[^\sACEOLMPTRaceolmptr\x80-\U0010ffff]")


def is_blank(node: Node) -> bool:
    """A scalar that says « à compléter » (any case, accents optional, extra spaces allowed)."""
    if not isinstance(node, ScalarNode) or len(node.value) > 40 or _NOT_BLANK.search(node.value):
        return False
    text = unicodedata.normalize("NFKD", node.value)
    text = "".join(c for c in text if not unicodedata.combining(c))
    return " ".join(text.lower().split()) == "a completer"


def blank_message(path: str, doc: str) -> str:
    """« seance.date à compléter : date de la réunion » — what the finding of a blank says."""
    label = re.sub(r"\s*\([^()]*\)", "", doc.split(" ; ")[0]).strip().rstrip(".").strip()
    if not label or label.startswith("«"):
        return f"{path} à compléter"
    if not label[1:2].isupper():
        label = label[0].lower() + label[1:]
    return f"{path} à compléter : {label}"


def _describe(node: Node) -> str:
    if isinstance(node, MappingNode):
        return "un dictionnaire"
    if isinstance(node, SequenceNode):
        return "une liste"
    return f"« {_clip(node.value)} »"


def _clip(text: str, n: int = 60) -> str:
    text = text.replace("\n", " ")
    return text if len(text) <= n else text[: n - 1] + "…"


# ---------------------------------------------------------------------------
# kinds


class Kind:
    """A kind of value: converts one YAML node into a Python value or raises Invalid."""

    label = "une valeur"

    def convert(self, node: Node, ctx: Ctx, path: str) -> Any:
        """Convert ``node``; raise ``Invalid`` when it does not fit."""
        raise NotImplementedError

    def scalar(self, node: Node) -> str:
        """Text of a scalar node, or Invalid when the node is a list or mapping."""
        if not isinstance(node, ScalarNode):
            raise Invalid(f"attendu : {self.label} ; trouvé : {_describe(node)}")
        return node.value


#: Control characters, and what XML 1.0 cannot hold at all (a Word document could not contain them).
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff\ufffe\uffff]")


def control_message(text: str) -> str | None:
    """Why ``text`` cannot go into a document (its first forbidden character), or None."""
    m = CONTROL.search(text)
    if m is None:
        return None
    return (f"caractère interdit dans le texte : U+{ord(m.group()):04X} (caractère de contrôle ou non admis dans "
            f"un document Word), position {m.start() + 1}")


#: Bidirectional controls: kept as written, but they reorder what follows them on the page (a name
#: typed with U+202E reads backwards in the PDF), so a reviewer is told where they are.
BIDI = re.compile(r"[\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c]")


class Text(Kind):
    """Free text (names, titles, descriptions). Control characters are refused."""

    label = "un texte"

    def __init__(self, max_len: int = 20000, pattern: str | None = None, hint: str = ""):
        self.max_len = max_len
        self.pattern = re.compile(pattern) if pattern else None
        self.hint = hint

    def convert(self, node, ctx, path):
        text = self.scalar(node)
        if (why := control_message(text)) is not None:
            raise Invalid(why, "texte.controle")
        text = unicodedata.normalize("NFC", text)
        if not text.strip():
            raise Invalid("texte vide", "texte.vide")
        if len(text) > self.max_len:
            raise Invalid(f"texte trop long : {len(text)} caractères (au plus {self.max_len})", "texte.long")
        if self.pattern and not self.pattern.fullmatch(text):
            raise Invalid(f"format inattendu : « {_clip(text)} » {self.hint}".rstrip(), "texte.format")
        if ctx is not None and (m := BIDI.search(text)) is not None:  # ctx is None for a value read from Excel
            ctx.warn("texte.bidi", f"caractère de contrôle bidirectionnel U+{ord(m.group()):04X} en position "
                     f"{m.start() + 1} : le texte qui le suit peut s'afficher dans un autre ordre que celui saisi "
                     f"(« {_clip(BIDI.sub('', text))} » sans ce caractère)", node, path)
        return text


class Markdown(Text):
    """Narrative text in Markdown (paragraphs, bold, italics, lists)."""

    label = "un texte Markdown"

    def __init__(self):
        super().__init__(max_len=200000)


class Int(Kind):
    """A whole number (``4783``, ``4 783``)."""

    label = "un nombre entier"

    def __init__(self, minimum: int | None = 0):
        self.minimum = minimum

    def convert(self, node, ctx, path):
        text = self.scalar(node).replace("\u00a0", "").replace("\u202f", "").replace(" ", "")
        if not re.fullmatch(r"-?\d{1,15}", text):
            raise Invalid(f"attendu : {self.label} ; trouvé : {_describe(node)}")
        value = int(text)
        if self.minimum is not None and value < self.minimum:
            raise Invalid(f"nombre {value} inférieur au minimum {self.minimum}", "nombre.negatif")
        return value


_DEC_FR = re.compile(r"-?\d{1,3}(?:[ \u00a0\u202f]\d{3})*(?:,\d+)?|-?\d+(?:,\d+)?")
_DEC_PLAIN = re.compile(r"-?\d+(?:\.\d+)?")


def parse_decimal(text: str) -> Decimal | None:
    """Parse ``53 700,00``, ``53700.00``, ``53700``, ``53 700,00 €`` or ``- €`` (zero)."""
    t = text.strip()
    if t.endswith("€"):
        t = t[:-1].strip()
    if t in ("-", "—"):
        return Decimal("0")
    if _DEC_PLAIN.fullmatch(t):
        return Decimal(t)
    if _DEC_FR.fullmatch(t):
        return Decimal(re.sub(r"[ \u00a0\u202f]", "", t).replace(",", "."))
    return None


class Dec(Kind):
    """A decimal number (French ``2,38`` or plain ``2.38``), never a float."""

    label = "un nombre décimal"

    def convert(self, node, ctx, path):
        text = self.scalar(node)
        value = parse_decimal(text)
        if value is None or len(text) > 40:
            raise Invalid(f"attendu : {self.label} ; trouvé : {_describe(node)}", "nombre.format")
        return value


class Money(Dec):
    """An amount in euros: ``53 700,00``, ``53700.00``; sign and decimals are checked by rules."""

    label = "un montant en euros"

    def convert(self, node, ctx, path):
        value = super().convert(node, ctx, path)
        if abs(value) >= Decimal("1e13"):
            raise Invalid(f"montant démesuré : {_clip(node.value)}", "montant.demesure")
        return value


_ISO = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})")
_FR = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})")
_MONTHS = [
    "janvier", "février", "mars", "avril", "mai", "juin",
    "juillet", "août", "septembre", "octobre", "novembre", "décembre",
]


class Date(Kind):
    """A date, ``2025-01-01`` or ``01/01/2025``; an impossible date is an error."""

    label = "une date (AAAA-MM-JJ ou JJ/MM/AAAA)"

    def convert(self, node, ctx, path):
        text = self.scalar(node).strip()
        m = _ISO.fullmatch(text)
        if m:
            y, mo, d = (int(g) for g in m.groups())
        else:
            m = _FR.fullmatch(text)
            if not m:
                raise Invalid(f"attendu : {self.label} ; trouvé : {_describe(node)}", "date.format")
            d, mo, y = (int(g) for g in m.groups())
        if not 1 <= mo <= 12:
            raise Invalid(f"date inexistante : {text} (mois {mo})", "date.inexistante")
        try:
            return dt.date(y, mo, d)
        except ValueError:
            import calendar

            last = calendar.monthrange(y, mo)[1] if 1 <= y <= 9999 else 0
            raise Invalid(
                f"date inexistante : {text} ({_MONTHS[mo - 1]} {y} n'a que {last} jours)",
                "date.inexistante",
            ) from None


class Choice(Kind):
    """One of a fixed set of words."""

    def __init__(self, *choices: str):
        self.choices = choices
        self.label = "l'une des valeurs " + ", ".join(choices)

    def convert(self, node, ctx, path):
        text = self.scalar(node).strip()
        if text not in self.choices:
            raise Invalid(f"valeur « {_clip(text)} » inconnue ; attendu : {', '.join(self.choices)}", "schema.choix")
        return text


class ListOf(Kind):
    """A YAML list of items of one kind; items that do not convert are left out."""

    label = "une liste"

    def __init__(self, item: Kind):
        self.item = item

    def convert(self, node, ctx, path):
        if not isinstance(node, SequenceNode):
            raise Invalid(f"attendu : une liste ; trouvé : {_describe(node)}")
        _guard_alias(node, ctx)
        out = []
        for i, child in enumerate(node.value):
            p = f"{path}[{i}]"
            if _is_null(child):
                ctx.add("schema.vide", "élément de liste vide", child, p)
                continue
            try:
                value = self.item.convert(child, ctx, p)
            except Invalid as inv:
                ctx.add(inv.code, inv.message, child, p)
                continue
            if value is not None:
                out.append(value)
        return tuple(out)


class Record(Kind):
    """A mapping converted into a model dataclass (see ``model.py``)."""

    label = "un dictionnaire"

    def __init__(self, cls: type, key_field: str | None = None):
        self.cls = cls
        self.key_field = key_field

    def convert(self, node, ctx, path, key: str | None = None, key_node: Node | None = None):
        return convert_record(self.cls, node, ctx, path, key=key, key_node=key_node, key_field=self.key_field)


class MapOf(Kind):
    """A mapping ``id: record``; the key becomes the record's ``id`` field."""

    label = "un dictionnaire d'identifiants"

    def __init__(self, cls: type):
        self.record = Record(cls, key_field="id")

    def convert(self, node, ctx, path):
        if not isinstance(node, MappingNode):
            raise Invalid(f"attendu : {self.label} ; trouvé : {_describe(node)}")
        _guard_alias(node, ctx)
        out: dict[str, Any] = {}
        for knode, vnode in node.value:
            key = knode.value if isinstance(knode, ScalarNode) else None
            p = f"{path}.{key}" if path else str(key)
            if not key or not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.\-]{0,80}", key):
                ctx.add("schema.identifiant", f"identifiant invalide : {_describe(knode)}", knode, p)
                continue
            if key in out:
                ctx.add("schema.cle_dupliquee", f"identifiant « {key} » défini deux fois", knode, p)
                continue
            try:
                out[key] = self.record.convert(vnode, ctx, p, key=key, key_node=knode)
            except Invalid as inv:
                ctx.add(inv.code, inv.message, vnode, p)
        return out


def _guard_alias(node: Node, ctx: Ctx) -> None:
    if id(node) in ctx.seen:
        raise Invalid("ancre ou alias YAML réutilisé : écrivez la valeur en entier", "yaml.alias")
    ctx.seen.add(id(node))


# ---------------------------------------------------------------------------
# field declaration and the record converter


def spec(kind: Kind, doc: str, *, required: bool = True, default: Any = None) -> Any:
    """Declare a dossier field: its kind, whether it is required, its default and its doc."""
    meta = {"kind": kind, "doc": doc, "required": required}
    if default is None and isinstance(kind, ListOf):
        default = ()  # an invalid or missing list reads as empty, never None
    if default is None and isinstance(kind, MapOf):
        default = {}
    if isinstance(default, (list, dict)):
        return field(default_factory=lambda: type(default)(default), metadata=meta)
    return field(default=default, metadata=meta)


@functools.cache
def schema_fields(cls: type) -> tuple[dataclasses.Field, ...]:
    """The declared (input) fields of a model class, in declaration order (computed once per class)."""
    return tuple(f for f in dataclasses.fields(cls) if "kind" in f.metadata)


@functools.cache
def _record_plan(cls: type, key_field: str | None) -> tuple[dict, tuple, list[str]]:
    """What converting a mapping into ``cls`` needs, worked out once per class.

    Its fields by name, ``(name, kind, required, doc)`` of each in declaration order, and the names a
    misspelt key may mean.
    """
    fields = {f.name: f for f in schema_fields(cls)}
    plan = tuple((name, f.metadata["kind"], f.metadata["required"], f.metadata["doc"]) for name, f in fields.items())
    return fields, plan, [n for n in fields if n != key_field]


def convert_record(cls, node, ctx, path, *, key=None, key_node=None, key_field=None):
    """Convert a mapping node into ``cls``; unknown, missing or invalid fields are findings."""
    if not isinstance(node, MappingNode):
        raise Invalid(f"attendu : un dictionnaire ({cls.__name__}) ; trouvé : {_describe(node)}")
    _guard_alias(node, ctx)
    fields, plan, names = _record_plan(cls, key_field)
    given: dict[str, tuple[Node, Node]] = {}
    for knode, vnode in node.value:
        name = knode.value if isinstance(knode, ScalarNode) else None
        if name in given:
            p = f"{path}.{name}" if path else str(name)
            ctx.add("schema.cle_dupliquee", f"clé « {name} » écrite deux fois", knode, p)
            continue
        if name not in fields or name == key_field:
            p = f"{path}.{name}" if path else str(name)
            close = difflib.get_close_matches(str(name), names, n=1)
            hint = f" ; vouliez-vous dire « {close[0]} » ?" if close else ""
            ctx.add("schema.cle_inconnue", f"clé inconnue « {name} »{hint}", knode, p)
            continue
        given[name] = (knode, vnode)
    values: dict[str, Any] = {}
    locs: dict[str, Loc] = {}
    blanks: set[str] = set()
    file = ctx.file
    if key_field:
        values[key_field] = key
        locs[key_field] = ctx.loc(key_node, f"{path}")
    for name, kind, required, doc in plan:
        if name not in given:
            if required:
                ctx.add("schema.manquant", f"champ obligatoire manquant : « {name} »", node, path or name)
            continue
        p = f"{path}.{name}" if path else name
        vnode = given[name][1]
        mark = vnode.start_mark
        locs[name] = Loc(file, mark.line + 1 if mark else 0, p)
        if _is_null(vnode):
            if required:
                ctx.add("schema.manquant", f"valeur manquante pour « {name} »", vnode, p)
            continue
        if is_blank(vnode):
            ctx.add("schema.a_completer", blank_message(p, doc), vnode, p)
            blanks.add(name)
            continue
        try:
            values[name] = kind.convert(vnode, ctx, p)
        except Invalid as inv:
            ctx.add(inv.code, f"{name} : {inv.message}", vnode, p)
    loc = ctx.loc(key_node if key_node is not None else node, path)
    if blanks:
        values["blanks"] = frozenset(blanks)
    return cls(**values, loc=loc, locs=locs)


def schema_doc(cls: type, indent: int = 0, seen: set | None = None) -> str:
    """Document a model class's fields as Markdown (used by the README's format section)."""
    seen = seen if seen is not None else set()
    lines = []
    pad = "  " * indent
    for f in schema_fields(cls):
        req = "obligatoire" if f.metadata["required"] else "facultatif"
        kind = f.metadata["kind"]
        lines.append(f"{pad}- `{f.name}` ({kind.label}, {req}) : {f.metadata['doc']}")
        inner = kind.item if isinstance(kind, ListOf) else kind
        inner = inner.record if isinstance(inner, MapOf) else inner
        if isinstance(inner, Record) and inner.cls not in seen:
            seen.add(inner.cls)
            lines.append(schema_doc(inner.cls, indent + 1, seen))
    return "\n".join(lines)


# ---------------------------------------------------------------------------
# kinds of a few structured values of the model (parsing stays here; the model gives the data)


class OneFigure(Kind):
    """A mapping holding exactly one key of ``kinds`` (its value converted) plus an optional ``source``.

    Used for a declared figure (« annonce ») : ``{montant: 59 220, source: "Délibération, article 3"}``;
    ``make(quoi=, valeur=, source=, loc=, locs=)`` builds the record.
    """

    label = "une annonce {clé: valeur, source: …}"

    def __init__(self, kinds: dict, make):
        self.kinds, self.make = kinds, make

    def convert(self, node, ctx, path):
        if not isinstance(node, MappingNode):
            raise Invalid(f"attendu : {self.label}")
        quoi, valeur, source, vloc = None, None, None, None
        for knode, vnode in node.value:
            key = knode.value if isinstance(knode, ScalarNode) else None
            p = f"{path}.{key}"
            if key == "source":
                source = Text().convert(vnode, ctx, p)
            elif key in self.kinds:
                if quoi is not None:
                    raise Invalid(f"une annonce porte sur un seul chiffre ; trouvé : {quoi} et {key}", "annonce.forme")
                quoi, vloc = key, ctx.loc(vnode, p)
                try:
                    valeur = self.kinds[key].convert(vnode, ctx, p)
                except Invalid as inv:
                    ctx.add(inv.code, f"{key} : {inv.message}", vnode, p)
                    return None
            else:
                known = ", ".join(self.kinds)
                ctx.add("annonce.inconnue", f"chiffre annoncé inconnu « {key} » ; attendu : {known}", knode, p)
                return None
        if quoi is None:
            raise Invalid("annonce sans chiffre", "annonce.forme")
        return self.make(quoi=quoi, valeur=valeur, source=source, loc=vloc, locs={})


class NamedOf(Kind):
    """``nom: valeur`` mapping → ``{nom: (valeur, location of the name)}``; a bad value is a finding."""

    def __init__(self, value: Kind, label: str = "un dictionnaire", item_doc: str = ""):
        self.value, self.label, self.item_doc = value, label, item_doc

    def convert(self, node, ctx, path):
        if not isinstance(node, MappingNode):
            raise Invalid(f"attendu : {self.label}")
        out: dict[str, tuple] = {}
        for knode, vnode in node.value:
            name = Text().convert(knode, ctx, path)
            p = f"{path}.{name}"
            if is_blank(vnode):  # the name is declared, its value is to complete
                ctx.add("schema.a_completer", blank_message(p, self.item_doc), vnode, p)
                out[name] = ((), ctx.loc(knode, p))
                continue
            try:
                value = self.value.convert(vnode, ctx, p)
            except Invalid as inv:
                ctx.add(inv.code, inv.message, vnode, p)
                continue
            out[name] = (value, ctx.loc(knode, p))
        return out


class Change(Kind):
    """One change an amendment makes: one target key, then values of that target's fields or an action.

    ``targets``: the keys naming a target (« ligne », « operation », « structure », « convention »);
    ``amendable``: target → fields one may change; ``classes``: target → model class (its fields'
    kinds convert the new values; « ligne » also converts an added line); ``make``: the record.
    """

    label = "une modification {ligne|operation|structure: …, champ: valeur}"

    def __init__(self, targets: tuple, amendable: dict, classes, make):
        self.targets, self.amendable, self.classes, self.make = targets, amendable, classes, make

    def convert(self, node, ctx, path):
        if not isinstance(node, MappingNode):
            raise Invalid(f"attendu : {self.label}")
        given = {}
        for knode, vnode in node.value:
            key = knode.value if isinstance(knode, ScalarNode) else None
            if key in given:
                ctx.add("schema.cle_dupliquee", f"clé « {key} » écrite deux fois", knode, f"{path}.{key}")
                continue
            given[key] = (knode, vnode)
        targets = {k: Text().convert(given[k][1], ctx, f"{path}.{k}") for k in self.targets if k in given}
        if "structure" in targets and "convention" in targets:
            cible = "convention"
        else:
            named = [k for k in ("ligne", "operation", "structure") if k in targets]
            if len(named) != 1:
                raise Invalid(
                    "une modification vise une seule cible : « ligne », « operation » ou « structure » "
                    "(avec « convention » pour une convention de la structure)", "amendement.cible")
            cible = named[0]
        if cible == "operation" and not re.fullmatch(r"\d{1,3}\.\d{1,3}", targets["operation"]):
            raise Invalid(f"operation : « {targets['operation']} » attendu « thématique.opération » (« 1.2 »)",
                          "amendement.cible")
        classes = self.classes
        allowed = self.amendable[cible]
        kinds = {f.name: f.metadata["kind"] for f in schema_fields(classes[cible])}
        valeurs, locs, retrait, ajout = {}, {}, False, None
        for key, (knode, vnode) in given.items():
            p = f"{path}.{key}"
            if key in self.targets and (key in targets and (key != "convention" or cible == "convention")):
                locs[key] = ctx.loc(vnode, p)
                continue
            try:
                if key == "retrait" and cible in ("ligne", "operation"):
                    if Choice("oui").convert(vnode, ctx, p) == "oui":
                        retrait = True
                    locs[key] = ctx.loc(vnode, p)
                elif key == "ajout" and cible == "operation":
                    ajout = Record(classes["ligne"]).convert(vnode, ctx, p)
                    locs[key] = ctx.loc(vnode, p)
                elif key in allowed:
                    if _is_null(vnode):
                        raise Invalid("valeur manquante", "schema.manquant")
                    valeurs[key] = kinds[key].convert(vnode, ctx, p)
                    locs[key] = ctx.loc(vnode, p)
                else:
                    what = ", ".join((*allowed, *(["retrait"] if cible in ("ligne", "operation") else []),
                                      *(["ajout"] if cible == "operation" else [])))
                    ctx.add("amendement.champ", f"« {key} » ne peut pas être modifié sur une {cible} ; "
                            f"champs modifiables : {what}", knode, p)
            except Invalid as inv:
                ctx.add(inv.code, f"{key} : {inv.message}", vnode, p)
        actions = bool(valeurs) + retrait + (ajout is not None)
        if actions != 1:
            raise Invalid("une modification change des valeurs, retire une ligne (« retrait: oui ») ou ajoute "
                          "une ligne (« ajout: … »), une seule de ces actions", "amendement.action")
        return self.make(
            cible=cible, retrait=retrait, ajout=ajout, valeurs=valeurs, loc=ctx.loc(node, path), locs=locs,
            **{k: v for k, v in targets.items() if k != "convention" or cible == "convention"},
        )
