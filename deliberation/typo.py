"""French typography, applied to every text the engine writes (templates, dossier values, narratives, sheets).

The rules are those of the Lexique des règles typographiques en usage à l'Imprimerie nationale, as the
Département's own acts apply them:

- a no-break space (U+00A0) before « : », a narrow one (U+202F) before « ; ! ? » and inside « … »;
- straight quotes become « … » and the straight apostrophe between two letters becomes ’;
- ordinals in French style, their letters raised: 1er, 1re, 2e (« 2ème », « 1ère » are corrected);
- no line break inside a date (« 9 décembre 2024 »), an amount (« 712 000,00 € », « - € »), a number
  after « n° », « article », « annexe », « alinéa », « page », « phase », « opération » or « thématique »
  (« n° 2024-587 », « article 4 »).

Digits, letters and hyphens are never changed: a SIRET, a reference (« C02-446A05 »), a file name or an
address keeps its characters (only the spaces around punctuation and the quotes change).

Grammalecte's text formatter (Debian ``python3-grammalecte``) applies most of these rules too; it is a
set of regular expressions on plain strings, GPL, not on PyPI, and it cannot say which characters to raise
or keep the runs of a Word paragraph. So the engine applies its own rules, run by run (``typeset_runs``),
and the test suite checks, on the seed's sentences, that Grammalecte's formatter finds nothing left to do.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

NBSP = "\u00a0"
NNBSP = "\u202f"
_SPACES = " \u00a0\u202f"

_MONTHS = "janvier|février|mars|avril|mai|juin|juillet|août|septembre|octobre|novembre|décembre"
#: Spaces (one or more) before a « : » or before « ; ! ? ».
_SPACE_BEFORE = re.compile(r"[ \u00a0\u202f]+(?=[:;!?])")
#: A « : ; ! ? » glued to the word before it, followed by a space or the end of the paragraph.
_GLUED = re.compile(r"(?<=[\w)\]»…%€°])[:;!?](?=[ \u00a0\u202f!?]|$)")
_ENTITY = re.compile(r"&#?\w+$")
_OPEN_GUILLEMET = re.compile(r"«[ \u00a0\u202f]*")
_CLOSE_GUILLEMET = re.compile(r"[ \u00a0\u202f]*»")
_APOSTROPHE = re.compile(r"(?<=\w)['´`ʼ](?=\w)")
#: Ordinals: 1er, 1re, 1ère, 2e, 2ème, 2eme, 3ième — a number then the ordinal letters, as one word.
_ORDINAL = re.compile(r"\b(\d+)(ères|ère|ères|res|re|ers|er|ièmes|ième|èmes|ème|emes|eme|es|e)\b")
_ORDINAL_LETTERS = {"ère": "re", "ères": "res", "re": "re", "res": "res", "er": "er", "ers": "ers",
                    "ième": "e", "ièmes": "es", "ème": "e", "èmes": "es", "eme": "e", "emes": "es", "e": "e",
                    "es": "es"}
_DATE = re.compile(rf"\b(\d{{1,2}}(?:er)?)[ \u202f]+({_MONTHS})(?:[ \u202f]+(\d{{4}}))?\b", re.IGNORECASE)
_MONTH_YEAR = re.compile(rf"\b({_MONTHS})[ \u202f]+(\d{{4}})\b", re.IGNORECASE)
_BEFORE_NUMBER = re.compile(r"(?i)\b(n°|articles?|annexes?|alinéas?|pages?|phases?|opérations?|thématiques?"
                            r"|avenants? n°)([ \u202f]+)(?=\d)")
#: An amount typed with ordinary spaces: « 13 789 480,46 € ».
_AMOUNT = re.compile(r"(?<![\d,])\d{1,3}(?:[ \u202f]\d{3})+(?:,\d+)?(?=[ \u00a0\u202f]?€)")
_NUMBER_SIGN = re.compile(r"(?<=\d)[ \u202f]+(?=[€%])")
_DASH_EURO = re.compile(r"(?<![\w-])-[ \u202f]*(?=€)")


@dataclass
class _Edits:
    """What becomes of each character of a text: a replacement, and text inserted before it."""

    text: str

    def __post_init__(self):
        self.out: list[str] = list(self.text)
        self.raised: set[int] = set()

    def replace(self, i: int, value: str) -> None:
        self.out[i] = value

    def before(self, i: int, value: str) -> None:
        self.out[i] = value + self.out[i]

    def after(self, i: int, value: str) -> None:
        self.out[i] = self.out[i] + value

    def spaces(self, start: int, end: int, value: str) -> None:
        """The spaces ``text[start:end]`` become one ``value``."""
        self.out[start] = value
        for i in range(start + 1, end):
            self.out[i] = ""


def _edits(text: str) -> _Edits:
    e = _Edits(text)
    if not text:
        return e
    for m in _SPACE_BEFORE.finditer(text):  # « Territoriales ; », « Objet : »
        e.spaces(m.start(), m.end(), NBSP if text[m.end()] == ":" else NNBSP)
    for m in _GLUED.finditer(text):
        if m.group() == ":" and _time_or_scheme(text, m.start()):
            continue
        if m.group() == ";" and _ENTITY.search(text, 0, m.start()):
            continue  # « &amp; », « &#49; »: an entity written as text, not punctuation
        e.before(m.start(), NBSP if m.group() == ":" else NNBSP)
    _quotes(text, e)
    for m in _OPEN_GUILLEMET.finditer(text):
        if m.end() == m.start() + 1:
            e.after(m.start(), NNBSP)
        else:
            e.spaces(m.start() + 1, m.end(), NNBSP)
    for m in _CLOSE_GUILLEMET.finditer(text):
        if m.end() == m.start() + 1:
            if m.start() > 0:
                e.before(m.start(), NNBSP)
        else:
            e.spaces(m.start(), m.end() - 1, NNBSP)
    for m in _APOSTROPHE.finditer(text):
        e.replace(m.start(), "’")
    for m in _ORDINAL.finditer(text):
        letters = _ORDINAL_LETTERS[m.group(2).lower()] if m.group(2).islower() else m.group(2)
        start = m.start(2)
        for k in range(start, m.end(2)):
            e.replace(k, "")
            e.raised.add(k)
        e.replace(start, letters)
    for m in _DATE.finditer(text):
        for g in (1, 2):
            _nbsp_between(text, e, m.end(g), m.start(g + 1) if m.group(g + 1) else m.end(g))
    for m in _MONTH_YEAR.finditer(text):
        _nbsp_between(text, e, m.end(1), m.start(2))
    for m in _BEFORE_NUMBER.finditer(text):
        e.spaces(m.start(2), m.end(2), NBSP)
    for m in _AMOUNT.finditer(text):
        for k in range(m.start(), m.end()):
            if text[k] in " \u202f":
                e.replace(k, NBSP)
    for m in _NUMBER_SIGN.finditer(text):
        e.spaces(m.start(), m.end(), NBSP)
    for m in _DASH_EURO.finditer(text):
        if m.end() > m.start() + 1:
            e.spaces(m.start() + 1, m.end(), NBSP)
        else:
            e.after(m.start(), NBSP)
    return e


def _nbsp_between(text: str, e: _Edits, start: int, end: int) -> None:
    if end > start and all(c in _SPACES for c in text[start:end]):
        e.spaces(start, end, NBSP)


def _time_or_scheme(text: str, i: int) -> bool:
    """« 14:30 » or « https: » — a colon that is not punctuation."""
    return text[max(0, i - 5):i].lower().endswith(("http", "https", "ftp", "mailto"))


def _quotes(text: str, e: _Edits) -> None:
    """Straight double quotes become « … », or “ … ” within « … »; the context says which opens."""
    stack: list[str] = []  # «: a guillemet of the text; G: a quote made «; q: a quote made “
    n = len(text)
    for i, c in enumerate(text):
        if c == "«":
            stack.append("«")
        elif c == "»":
            while stack and stack.pop() != "«":
                pass
        if c != '"':
            continue
        prev = text[i - 1] if i else " "
        nxt = text[i + 1] if i + 1 < n else " "
        can_open = prev in _SPACES + "\t\n([{'’-«" and nxt not in _SPACES + "»"
        can_close = nxt in _SPACES + ".,;:!?)]}»…\n"
        if stack and stack[-1] in "Gq" and (can_close or not can_open):
            kind = stack.pop()
            j = i - 1
            while j >= 0 and text[j] in _SPACES:
                e.replace(j, "")
                j -= 1
            e.replace(i, "”" if kind == "q" else NNBSP + "»")
        else:
            stack.append("q" if stack else "G")
            j = i + 1
            while j < n and text[j] in _SPACES:
                e.replace(j, "")
                j += 1
            e.replace(i, "“" if stack[-1] == "q" else "«" + NNBSP)


def typeset(text: str) -> str:
    """The text with French typography (ordinal letters included, not raised)."""
    return "".join(_edits(text).out)


def typeset_runs(pieces: list[str]) -> list[list[tuple[str, bool]]]:
    """The pieces of one paragraph (its runs' texts, in order), typeset as one text.

    Returns, for each piece, its new text cut into ``(text, raised)`` segments: ``raised`` marks the letters
    of an ordinal, to be set in superscript. Text inserted at a piece boundary goes with the character it
    precedes or follows, so each piece keeps its own formatting.
    """
    return _typeset_runs(tuple(pieces))


@functools.lru_cache(maxsize=65536)
def _typeset_runs(pieces: tuple[str, ...]) -> list[list[tuple[str, bool]]]:
    e = _edits("".join(pieces))
    out, pos = [], 0
    for piece in pieces:
        segments: list[tuple[str, bool]] = []
        for i in range(pos, pos + len(piece)):
            value, raised = e.out[i], i in e.raised
            if not value:
                continue
            if segments and segments[-1][1] == raised:
                segments[-1] = (segments[-1][0] + value, raised)
            else:
                segments.append((value, raised))
        out.append(segments)
        pos += len(piece)
    return out
