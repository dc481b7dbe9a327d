"""Editing the dossier's YAML files in ruamel's round-trip mode, for ``import-xlsx``.

Comments, order and quoting are kept; each value is written in the style its file already uses.
"""

from __future__ import annotations

import datetime as dt
import io
import re
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from ruamel.yaml.comments import CommentedMap
from ruamel.yaml.error import YAMLError
from ruamel.yaml.nodes import ScalarNode
from ruamel.yaml.scalarstring import DoubleQuotedScalarString

from deliberation.findings import Finding, Loc, error
from deliberation.fmt import date_short, money, number, plain
from deliberation.load import THEMATIQUES_DIR
from deliberation.model import Ligne
from deliberation.schema import Invalid, schema_fields
from deliberation.xlsx.layout import (
    normalise,
)
from deliberation.xlsx.reading import DATE_KEYS, DECIMAL_KEYS, KINDS, MONEY_KEYS, clip, rt_yaml

# ---------------------------------------------------------------------------
# the dossier's YAML files, in round-trip mode




@dataclass
class YamlFile:
    """One dossier file as a round-trip document (comments, order and quotes kept)."""

    path: Path
    rel: str
    text: str
    data: object
    crlf: bool = False

    def dump(self) -> str:
        """The document as text, in the file's line endings."""
        buf = io.StringIO()
        rt_yaml().dump(self.data, buf)
        out = buf.getvalue()
        return out.replace("\n", "\r\n") if self.crlf else out


@dataclass
class Docs:
    """The editable files of a dossier and the indexes the import matches rows against."""

    files: dict[str, YamlFile] = field(default_factory=dict)
    budget: dict[str, CommentedMap] = field(default_factory=dict)  # code → budget line
    thematiques: dict[int, str] = field(default_factory=dict)  # numero → file
    operations: dict[tuple[int, int], tuple[str, CommentedMap]] = field(default_factory=dict)
    lignes: dict[str, tuple[str, int, int, CommentedMap]] = field(default_factory=dict)  # id → (file, t, o, ligne)
    structures: dict[str, str] = field(default_factory=dict)  # normalised name → key


def load_docs(root: Path) -> tuple[Docs, list[Finding]]:
    """Load ``budget.yaml`` and ``thematiques/*.yaml`` for editing, and ``structures.yaml`` for names."""
    docs = Docs()
    findings: list[Finding] = []
    paths = [root / "budget.yaml", *sorted((root / THEMATIQUES_DIR).glob("*.yaml"))]
    for path in paths:
        rel = path.relative_to(root).as_posix()
        try:
            raw = path.read_bytes()
            text = raw.decode("utf-8-sig")
            data = rt_yaml().load(text)
        except (OSError, UnicodeDecodeError, YAMLError) as err:
            findings.append(error("xlsx.dossier", f"fichier du dossier illisible : {clip(err, 200)}", Loc(str(path))))
            continue
        docs.files[rel] = YamlFile(path, rel, text, data, crlf=b"\r\n" in raw)
        if rel == "budget.yaml":
            for b in _items(data, "lignes"):
                if isinstance(b.get("code"), str):
                    docs.budget.setdefault(b["code"].strip(), b)
            continue
        t = _int(data.get("numero")) if isinstance(data, dict) else None
        if t is None:
            continue
        docs.thematiques.setdefault(t, rel)
        for o in _items(data, "operations"):
            n = _int(o.get("numero"))
            if n is None:
                continue
            docs.operations.setdefault((t, n), (rel, o))
            for ligne in _items(o, "lignes"):
                if isinstance(ligne.get("id"), str):
                    docs.lignes.setdefault(ligne["id"].strip(), (rel, t, n, ligne))
    try:
        registre = rt_yaml().load((root / "structures.yaml").read_text(encoding="utf-8-sig"))
        for key, s in (registre.get("structures") or {}).items():
            if isinstance(s, dict) and isinstance(s.get("nom"), str):
                docs.structures.setdefault(normalise(s["nom"]), key)
    except (OSError, UnicodeDecodeError, YAMLError, AttributeError):
        pass  # the names only help place a new ligne; ``check`` reports the registry
    return docs, findings


def _items(data, key: str) -> list:
    items = data.get(key) if isinstance(data, dict) else None
    return [i for i in items if isinstance(i, dict)] if isinstance(items, list) else []


def _int(value) -> int | None:
    try:
        return int(str(value).strip())
    except ValueError:
        return None


# ---------------------------------------------------------------------------
# writing values in the file's own style


@dataclass(frozen=True)
class Edit:
    """One value changed (or a ligne added) in a dossier file."""

    file: str
    element: str  # the ligne id, « opération 1.2 », or the budget code
    field: str
    before: str | None
    after: str | None


def _scalars(node, key: str):
    """Every scalar written under ``key`` anywhere in a document."""
    if isinstance(node, dict):
        for k, v in node.items():
            if k == key and isinstance(v, str):
                yield v
            yield from _scalars(v, key)
    elif isinstance(node, list):
        for v in node:
            yield from _scalars(v, key)


def _money_text(value: Decimal, old: str | None, doc) -> str:
    """An amount as the file writes amounts: ``"79 850,00"`` (French) or ``79850.00``; zero as ``0``."""
    samples = [*_scalars(doc, "montant"), *_scalars(doc, "ae"), *_scalars(doc, "disponible")]
    if value == 0 and any(s.strip() == "0" for s in [*samples, old or ""]):
        return "0"
    decimals = max(2, -value.normalize().as_tuple().exponent)
    reference = old if old is not None and old.strip() not in ("0", "") else next(
        (s for s in samples if s.strip() not in ("0", "")), None)
    french = reference is None or "," in reference or " " in reference.strip()
    return plain(number(value, decimals)) if french else f"{value:.{decimals}f}"


def _quoted(old, doc, key: str) -> bool:
    """Quote as the old value was, else as most values of this key in the file are (a plain ``0`` aside)."""
    if old is not None and not (isinstance(old, str) and old.strip() == "0"):
        return isinstance(old, DoubleQuotedScalarString)
    samples = [s for s in _scalars(doc, key) if s.strip() != "0"]
    quoted = sum(isinstance(s, DoubleQuotedScalarString) for s in samples)
    return quoted > len(samples) - quoted


def _scalar_text(key: str, value: object, old: str | None, doc) -> str:
    if key in MONEY_KEYS:
        return _money_text(value, old, doc)
    if key in DECIMAL_KEYS:
        text = format(value.normalize(), "f")
        return text.replace(".", ",") if old is not None and "," in old else text
    if key in DATE_KEYS:
        return value.isoformat() if old is not None and re.fullmatch(r"\d{4}-\d{1,2}-\d{1,2}", old.strip()) \
            else date_short(value)
    return str(value)


def styled(key: str, field_name: str, value: object, old, doc):
    """``value`` as a YAML scalar in the style the file already uses for ``key``."""
    text = _scalar_text(key, value, None if old is None else str(old), doc)
    if text == "0" and key in MONEY_KEYS:
        return text
    return DoubleQuotedScalarString(text) if _quoted(old, doc, field_name) else text


def show(key: str, value: object) -> str:
    """A value as the import's summary shows it (« — » when absent)."""
    if value is None:
        return "—"
    if key in MONEY_KEYS:
        return plain(money(value))
    if key in DECIMAL_KEYS:
        return plain(number(value))
    if isinstance(value, dt.date):
        return date_short(value)
    return f"« {clip(value, 60)} »"


def parse_old(key: str, old) -> object | None:
    """The dossier's current value of ``key``, typed as the workbook's is."""
    if old is None:
        return None
    try:
        return KINDS[key].convert(ScalarNode("tag:yaml.org,2002:str", str(old)), None, "")
    except (Invalid, KeyError):
        return str(old)


def same(key: str, a: object, b: object) -> bool:
    """True when the workbook's value and the dossier's say the same."""
    if isinstance(a, Decimal) and isinstance(b, Decimal):
        return a == b
    if key in ("budget", "code"):
        return str(a).strip() == str(b).strip()
    return a == b


def insert_key(mapping: CommentedMap, key: str, value, order: tuple[str, ...]) -> None:
    """Put ``key`` in ``mapping``: in place if present, else before the first key that follows it in ``order``."""
    if key in mapping:
        mapping[key] = value
        _comment_gap(mapping, key, value)
        return
    rank = order.index(key) if key in order else len(order)
    keys = list(mapping.keys())
    pos = next((i for i, k in enumerate(keys) if k in order and order.index(k) > rank), len(keys))
    mapping.insert(pos, key, value)


def _comment_gap(mapping: CommentedMap, key: str, value) -> None:
    """Keep two spaces between a longer value and its end-of-line comment (as the files write them)."""
    items = getattr(mapping, "ca", None) and mapping.ca.items.get(key)
    token = items[2] if items and len(items) > 2 else None
    if token is None or not isinstance(value, str) or not token.value.lstrip(" ").startswith("#"):
        return
    try:
        column = mapping.lc.key(key)[1]
    except (KeyError, TypeError, AttributeError):
        return
    end = column + len(key) + 2 + len(value) + (2 if isinstance(value, DoubleQuotedScalarString) else 0)
    if token.column < end + 2:
        token.column = end + 2


LIGNE_ORDER = tuple(f.name for f in schema_fields(Ligne))


def flow(mapping: dict) -> CommentedMap:
    """A mapping written in flow style (``{debut: …, fin: …}``)."""
    m = CommentedMap(mapping)
    m.fa.set_flow_style()
    return m
