"""Spelling of every French text: the dossier's, its voted model texts, the sheets and the templates.

The dossier is walked generically: every field declared ``Text`` or ``Markdown`` on the model is
checked, except identifiers and codes (a ``Text`` with a pattern, such as the séance's members),
and the fields ``NOT_PROSE`` lists (keys into the registry or the models, people's names, addresses,
SIRET). The voted model texts (``modeles/*.md``), the dispositif sheets, the clause texts and the
Word templates are read as files, line by line (a Word file paragraph by paragraph). A word is
located on its own line, inside a multi-line text too. See :mod:`deliberation.orthographe`.
"""

from __future__ import annotations

import functools
import re
from pathlib import Path

from deliberation.findings import Finding, Loc, warning
from deliberation.load.yaml import convert_text
from deliberation.model import ClauseText, Dossier, Node
from deliberation.orthographe import (
    Speller,
    absent_finding,
    dictionary,
    files_under,
    load_glossary,
    package_glossary_paths,
    template_texts,
)
from deliberation.rules import DOSSIER, WARNING, RuleInput, rule
from deliberation.schema import ListOf, MapOf, Record, Text, schema_fields

#: Text fields that are not French prose: keys, file paths, people's names, addresses, identifiers
#: (class name → fields). Territories are checked against the MDS list by ``rules.territoires``.
NOT_PROSE = {
    "Ligne": {"territoire", "structure", "convention", "document"},
    "Operation": {"budget"},
    "Modele": {"texte", "fusion", "dispositifs", "acte"},
    "AnnexeConvention": {"dispositif"},
    "ActesInfo": {"nature", "matiere"},
    "Signataire": {"nom"},
    "Representant": {"nom"},
    "Structure": {"siege", "siret"},
    "Attribuant": {"siret"},
    "Dispositif": {"source"},  # the files the sheet was written from
    "ClauseText": {"reference"},  # the délibération or the source it comes from
}



@rule(DOSSIER, ("orthographe.*",), (WARNING,))
def check_orthographe(inp: RuleInput) -> list[Finding]:
    """Every French text is spelt as the dictionary or the glossary has it (the word, its line, suggestions)."""
    d = inp.dossier
    dic = dictionary()
    if dic is None:
        return [absent_finding(Loc(d.root or "?"))]
    glossary, out = load_glossary(*package_glossary_paths(d.root))
    speller = Speller(dic, glossary)
    lines: dict[str, list[str]] = {}
    for dossier in dict.fromkeys(x for x in (d, inp.presented) if x is not None):
        out += _check_texts(speller, _dossier_texts(dossier), lines)
    for path in sorted({v.loc.file for v in d.textes_modeles.values()}):
        out += _check_lines(speller, path, _read_lines(path))
    for code in sorted(inp.dispositifs):  # the front matter as fields, the body line by line
        sheet = inp.dispositifs[code]
        out += _check_texts(speller, _node_texts(sheet), lines)
        out += _check_lines(speller, sheet.loc.file, sheet.corps.split("\n"), sheet.corps_ligne)
    templates = Path(inp.statuts_file).parent if inp.statuts_file else None
    if templates is not None:
        for path in files_under(templates / "clauses", "*.md"):
            if path.name != "README.md":
                out += _check_clause(speller, path, lines)
    if templates is not None:
        for path in files_under(templates, "*.docx"):
            for n, text in template_texts(path):
                for miss in speller.check(text):
                    out.append(warning(_code(miss), f"{miss.message()} (paragraphe {n})",
                                       Loc(str(path), n, f"paragraphe {n}")))
    dic.save()
    return out


def _code(miss) -> str:
    return "orthographe.sigle" if miss.sigle else "orthographe.mot"


def _dossier_texts(d: Dossier):
    """``(text, location)`` of every prose field of the dossier, in the order of its files."""
    roots: list = [d.info, *d.budget, *d.thematiques, *d.structures.values(), *d.amendements]
    for node in roots:
        if node is not None:
            yield from _node_texts(node)


@functools.cache
def _plan(cls: type) -> tuple[tuple[str, str], ...]:
    """The fields of ``cls`` to read: ``(name, "text" | "texts" | "nodes")``, computed once per class."""
    skip = NOT_PROSE.get(cls.__name__, ())
    plan = []
    for f in schema_fields(cls):
        kind = f.metadata["kind"]
        inner = kind.item if isinstance(kind, ListOf) else kind
        if f.name in skip:
            continue
        if isinstance(inner, Text) and inner.pattern is None:  # a pattern: a code, an identifier, a member
            plan.append((f.name, "texts" if isinstance(kind, ListOf) else "text"))
        elif isinstance(inner, (Record, MapOf)):
            plan.append((f.name, "nodes"))
    return tuple(plan)


def _node_texts(node: Node):
    for name, mode in _plan(type(node)):
        value = getattr(node, name, None)
        if value is None:
            continue
        if mode == "text":
            yield value, node.locs.get(name, node.loc)
        elif mode == "texts":
            loc = node.locs.get(name, node.loc)
            yield from ((text, loc) for text in value if isinstance(text, str))
        else:
            children = value.values() if isinstance(value, dict) else value if isinstance(value, tuple) else (value,)
            for child in children:
                if isinstance(child, Node):
                    yield from _node_texts(child)


def _file_lines(file: str, cache: dict[str, list[str]]) -> list[str]:
    if file not in cache:
        try:
            cache[file] = Path(file).read_text(encoding="utf-8", errors="replace").splitlines()
        except OSError:
            cache[file] = []
    return cache[file]


def _locate(loc: Loc, text: str, miss, cache: dict[str, list[str]]) -> Loc:
    """The line of the file where the word is: the field's line, or the line inside a multi-line text.

    The word's rank among its occurrences in the text gives the occurrence to find in the file, from the
    field's line on (full-line comments skipped); when it is not found there, the field's line.
    """
    if not loc.line or not loc.file:
        return loc
    source = _file_lines(loc.file, cache)
    word = re.escape(miss.word).replace("’", "['’]")
    pattern = re.compile(rf"(?<![^\W_]){word}(?![^\W_])")
    rank = len(pattern.findall(text.replace("'", "’"), 0, miss.start))
    seen = 0
    for n in range(loc.line - 1, len(source)):
        line = source[n]
        if line.lstrip().startswith("#"):
            continue
        found = len(pattern.findall(line))
        if seen + found > rank:
            return Loc(loc.file, n + 1, loc.path)
        seen += found
    return loc


def _check_texts(speller: Speller, texts, lines: dict[str, list[str]]) -> list[Finding]:
    """Findings for ``(text, location)`` pairs, each word located on its own line."""
    return [warning(_code(miss), miss.message(), _locate(loc, text, miss, lines))
            for text, loc in texts for miss in speller.check(text)]


def _read_lines(file: str) -> list[str]:
    try:
        return Path(file).read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return []  # the loader has said why


def _check_lines(speller: Speller, file: str, lines: list[str], first: int = 1) -> list[Finding]:
    """A Markdown text line by line (``first``: its first line in the file); HTML comments are notes, skipped."""
    out: list[Finding] = []
    comment = False
    for n, line in enumerate(lines, first):
        text, rest = "", line
        while rest:
            if comment:
                end = rest.find("-->")
                comment, rest = end < 0, rest[end + 3:] if end >= 0 else ""
            else:
                start = rest.find("<!--")
                if start < 0:
                    text, rest = text + rest, ""
                else:
                    text, rest, comment = text + rest[:start] + " ", rest[start + 4:], True
        out += [warning(_code(miss), miss.message(), Loc(file, n)) for miss in speller.check(text)]
    return out


def _check_clause(speller: Speller, path: Path, lines: dict[str, list[str]]) -> list[Finding]:
    """A clause text: its header's fields (as ``ClauseText`` declares them), then its body."""
    file = str(path)
    source = _read_lines(file)
    if len(source) < 2 or source[0].strip() != "---" or "---" not in (x.strip() for x in source[1:]):
        return _check_lines(speller, file, source)
    end = next(i for i in range(1, len(source)) if source[i].strip() == "---")
    header, _ = convert_text("\n" + "\n".join(source[1:end]), ClauseText, file)  # pad: the file's own lines
    out = _check_texts(speller, _node_texts(header), lines) if header is not None else []
    return out + _check_lines(speller, file, source[end + 1:], end + 2)
