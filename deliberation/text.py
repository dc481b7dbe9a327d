"""The dossier's Markdown texts as the Word writer will take them, without the writer.

Narratives cite computed figures only through the fixed ``[[name]]`` vocabulary (``PLACEHOLDERS``),
never template code; dispositif sheets are cut into ``## heading`` sections; and some Markdown cannot
become a Word document (lists nested too deep, control characters). The ``check`` rules and the
renderer share these functions, which need neither python-docx nor a template.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from markdown_it import MarkdownIt

from deliberation import fmt
from deliberation.model import UNITES
from deliberation.schema import CONTROL

if TYPE_CHECKING:  # annotations only
    from deliberation.compute import Totaux

#: Figures a narrative may cite by name; each comes from ``compute`` for the narrative's scope.
PLACEHOLDERS = {
    "montant": "total de l'opération ou de la thématique (712 000 €)",
    "montant_centimes": "le même total avec les centimes (712 000,00 €)",
    "structures": "nombre de structures",
    "lignes": "nombre de lignes",
    "dispositifs": "nombre de dispositifs (thématique)",
    "etp": "total des ETP (2,38)",
    "diagnostics": "total des diagnostics",
    "places": "total des places",
    "participants": "total des participants",
    "familles": "total des familles",
    "personnes": "total des personnes",
    "jeunes": "total des jeunes",
    "periode": "période couverte (du 1er janvier 2025 au 31 décembre 2025)",
    "debut": "premier jour (1er janvier 2025)",
    "fin": "dernier jour (31 décembre 2025)",
}
PLACEHOLDER = re.compile(r"\[\[\s*([a-z_]+)\s*\]\]")

#: The Markdown parser of every dossier text: CommonMark, raw HTML shown as text, never interpreted.
MD = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})


def unknown_placeholders(text: str) -> list[str]:
    """Placeholder names in ``text`` that are not in the vocabulary."""
    return [m.group(1) for m in PLACEHOLDER.finditer(text) if m.group(1) not in PLACEHOLDERS]


#: Figures that count something, with the noun a narrative writes after them (singular, plural, feminine).
#: « [[structures]] structures » (or « … structure ») is written agreed with the count, in words up to nine
#: (``fmt.count``): « une structure », « deux structures », « 12 structures » ; « de » before it elides
#: (« d'une structure ») and a sentence that starts with it starts with a capital (« Deux structures … »).
COUNTED = {
    "structures": ("structure", "structures", True),
    "lignes": ("ligne", "lignes", True),
    "dispositifs": ("dispositif", "dispositifs", False),
    "diagnostics": ("diagnostic", "diagnostics", False),
    "places": ("place", "places", True),
    "participants": ("participant", "participants", False),
    "familles": ("famille", "familles", True),
    "personnes": ("personne", "personnes", True),
    "jeunes": ("jeune", "jeunes", False),
}
_COUNTED = re.compile(r"(?P<de>\b[Dd]e )?\[\[\s*(?P<name>[a-z_]+)\s*\]\](?P<space>[ \u00a0]+)(?P<noun>\w+)")
_WHOLE = re.compile(r"\d{1,3}(?:\u00a0\d{3})*")  # a whole number as ``figure_values`` writes it (« 4 783 »)


def expand(text: str, values: dict[str, str]) -> str:
    """Replace ``[[name]]`` by its computed, formatted value (names missing stay visible).

    A count followed by its noun is written with the noun agreed (``COUNTED``): « [[structures]] structures »
    gives « une structure », « deux structures » or « 12 structures ».
    """
    return PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), _COUNTED.sub(
        lambda m: _agreed(m, text, values), text))


def _agreed(m: re.Match, text: str, values: dict[str, str]) -> str:
    """The count of match ``m`` (« de [[structures]] structures ») with its noun agreed, or the match unchanged."""
    noun = COUNTED.get(m["name"])
    value = values.get(m["name"], "")
    if noun is None or m["noun"] not in noun[:2] or not _WHOLE.fullmatch(value):
        return m.group(0)
    words = fmt.count(int(value.replace(fmt.NBSP, "")), *noun)
    if m["de"]:
        return fmt.elide(m["de"].strip(), words)
    before = text[:m.start()].rstrip(" \t*_")
    return fmt.capitalise(words) if not before or before.endswith(("\n", ".", "!", "?")) else words


def figure_values(t: Totaux) -> dict[str, str]:
    """The formatted figures ``[[name]]`` stands for in a text whose scope has totals ``t`` (empty ones left out)."""
    values = {
        "montant": fmt.money(t.montant, cents_shown=False) if t.montant is not None else "",
        "montant_centimes": fmt.money(t.montant) if t.montant is not None else "",
        "structures": str(t.structures),
        "lignes": str(t.lignes),
        "dispositifs": str(t.dispositifs),
        "etp": fmt.number(t.etp) if t.etp is not None else "",
    }
    for u in UNITES:
        v = t.volume(u)
        if v is not None:
            values[u] = fmt.number(v)
    if t.periode:
        debut, fin = (fmt.date_long(x) for x in t.periode)
        values.update(periode=f"du {debut} au {fin}", debut=debut, fin=fin)
    return {k: v for k, v in values.items() if v != ""}


#: List levels the Word templates have a style for (« List Bullet », « List Bullet 2 », « List Bullet 3 »…).
MAX_LIST_LEVELS = 3
LIST_OPEN = ("bullet_list_open", "ordered_list_open")
LIST_CLOSE = ("bullet_list_close", "ordered_list_close")
BLOCK_TEXT = ("code_block", "fence", "html_block")  # written as they are, in a body paragraph
INLINE_TEXT = ("text", "code_inline", "html_inline", "image")  # written as runs (an image: its alt text)
TOO_DEEP = (f"liste au {MAX_LIST_LEVELS + 1}e niveau d'imbrication : les modèles Word n'ont de style que pour "
            f"{MAX_LIST_LEVELS} niveaux de liste (puces et numéros confondus, citations comprises) ; "
            f"remontez-la d'un niveau")


@dataclass(frozen=True)
class Unrenderable:
    """Something of a Markdown text the Word writer cannot render: finding code, 0-based line in the text, why."""

    code: str
    line: int
    message: str


def unrenderable(text: str) -> list[Unrenderable]:
    """What the Word writer (``render.markdown.add_markdown``, ``render.wordml``) cannot render in Markdown ``text``.

    Empty when the text renders. Lists nested deeper than ``MAX_LIST_LEVELS`` (bullets and numbers
    counted together, in quotes too) have no template style; characters XML cannot hold (a control
    character, or an entity such as ``&#12;`` that decodes to one) cannot go into a document. Both
    the ``check`` rules and the avenant clauses use this function, which needs no python-docx.
    """
    out: list[Unrenderable] = []
    depth = 0
    for token in MD.parse(text):
        t = token.type
        line = token.map[0] if token.map else 0
        if t in LIST_OPEN:
            depth += 1
            if depth == MAX_LIST_LEVELS + 1:  # once per too deep list, not for the lists inside it
                out.append(Unrenderable("texte.imbrication", line, TOO_DEEP))
        elif t in LIST_CLOSE:
            depth -= 1
        if t == "inline":
            contents = [c.content for c in token.children or () if c.type in INLINE_TEXT]
        else:
            contents = [token.content] if t in BLOCK_TEXT else []
        for content in contents:
            if (m := CONTROL.search(content)) is not None:
                cp = ord(m.group())
                out.append(Unrenderable("texte.controle", line, (
                    f"caractère interdit dans le texte : U+{cp:04X} (caractère de contrôle ou non admis dans un "
                    f"document Word), écrit tel quel ou en entité comme « &#{cp}; »")))
                break
    return out


def sheet_sections(body: str) -> list[tuple[str, str, int]]:
    """The ``## heading`` sections of a dispositif sheet: heading, Markdown text, 0-based line of the text in ``body``.

    Text before the first heading is not shown; the sheet's ``corps_ligne`` plus the line is the file's line.
    """
    out: list[tuple[str, list[tuple[str, int]]]] = []
    newlines = 0
    for raw, line in zip(body.splitlines(keepends=True), body.splitlines(), strict=True):
        if line.startswith("## "):
            out.append((line[3:].strip(), []))
        elif out:
            out[-1][1].append((line, newlines))
        newlines += raw.count("\n")
    sections = []
    for heading, lines in out:
        text = "\n".join(line for line, _ in lines).strip()
        first = next((n for line, n in lines if line.strip()), 0)
        sections.append((heading, text, first))
    return sections
