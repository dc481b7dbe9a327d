"""What a French text states in figures: quantities, ranges, periods and durations, read once per text.

The ``texte.*`` rules (``rules/textes.py``) compare these with the computed figures and with each other.
Reading is conservative: only clear patterns are read (« 4 783 diagnostics », « 1,2 ETP », « de 18 à 15 ans »,
« entre 40 et 20 % », « du 1er janvier au 30 juin 2025 », « pour l'année 2025 », « opération d'un an »,
« pour une durée de 18 mois »); anything else is left unread rather than guessed. The regular expressions
are compiled once and ``read`` is cached per text (a dossier repeats many descriptions).
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from dataclasses import dataclass
from decimal import Decimal

SP = "[ \u00a0\u202f]"

#: Volume units a text may count, singular and plural, as the model names them (``model.UNITES``).
_VOLUMES = ("diagnostic", "place", "participant", "famille", "personne", "jeune")
_WORDS = {"un": 1, "une": 1, "deux": 2, "trois": 3, "quatre": 4, "cinq": 5, "six": 6, "sept": 7, "huit": 8,
          "neuf": 9, "dix": 10, "onze": 11, "douze": 12, "dix-huit": 18, "vingt-quatre": 24, "trente-six": 36}
_WORD = "|".join(sorted(_WORDS, key=len, reverse=True))


def _num(p: str) -> str:
    """A number written in any form, its groups prefixed with ``p`` (``grp``: « 4 783 », ``spc``: « 1, 2 »…)."""
    return (rf"(?<![\w,./-])(?:(?P<{p}grp>\d{{1,3}}(?:{SP}\d{{3}})+)(?:,(?P<{p}grpdec>\d+))?"
            rf"|(?P<{p}spc>\d+),[ \u00a0](?P<{p}spcdec>\d{{1,2}})"
            rf"|(?P<{p}pt>\d+)\.(?P<{p}ptdec>\d{{1,2}})"
            rf"|(?P<{p}int>\d+)(?:,(?P<{p}dec>\d+))?)")


_UNIT = (r"ETP\b|€|euros?\b|%|structures?\b|" + "|".join(rf"{u}s?\b" for u in _VOLUMES))
#: A unit, found first (units are rare in a text; the number before one is then read backwards).
_UNIT_AT = re.compile(rf"€|%|(?<![\w-])(?:{_UNIT})", re.IGNORECASE)
#: The number a unit follows (« 1200 », « d'1,2 », « 59 220 »), or a small count in words (« deux structures »).
_NUMBER_BEFORE = re.compile(rf"{_num('a')}{SP}*$")
_WORD_BEFORE = re.compile(rf"(?<![\w-])(?P<word>{_WORD}){SP}+$", re.IGNORECASE)
_RANGE_UNIT = rf"(?:{_UNIT}|ans\b|mois\b|jours\b|semaines\b|heures\b|h\b)"
#: « de X à Y unité » and « entre X et Y » (the unit after X is optional in both).
_RANGE = re.compile(rf"\b(?P<kw>[Dd]e|[Ee]ntre){SP}+{_num('a')}{SP}*(?:{_RANGE_UNIT}{SP}*)?{SP}(?P<sep>à|et){SP}+"
                    rf"{_num('b')}(?:{SP}*(?P<unit>{_RANGE_UNIT}))?")
#: Words before « de X à Y » that make it a change, not a range (« ramené de 20 à 15 places »).
_CHANGE = re.compile(r"(?:pass|ramen|rédui|réduc|porté|portant|baiss|diminu|augment|évolu|revu|revoi|hausse|modifi"
                     r"|abaiss|relev|ajust|prolong|remplac)\w*[^.;:]{0,40}$", re.IGNORECASE)
_DIGIT = re.compile(r"\d")
_MONTHS = {"janvier": 1, "février": 2, "fevrier": 2, "mars": 3, "avril": 4, "mai": 5, "juin": 6, "juillet": 7,
           "août": 8, "aout": 8, "septembre": 9, "octobre": 10, "novembre": 11, "décembre": 12, "decembre": 12}
_MONTH = "|".join(_MONTHS)


def _date(p: str, day_only: bool) -> str:
    """A date: ``01/01/25``, ``01/01/2025``, ``1er janvier 2025``, ``1er janvier`` (year shared), ``1er`` (start)."""
    alts = [rf"(?P<{p}d>\d{{1,2}})/(?P<{p}m>\d{{1,2}})/(?P<{p}y>\d{{4}}|\d{{2}})(?![\d/])",
            rf"(?P<{p}td>\d{{1,2}})(?:er)?{SP}+(?P<{p}tm>{_MONTH})(?:{SP}+(?P<{p}ty>\d{{4}}))?(?!\w)"]
    if day_only:
        alts.append(rf"(?P<{p}dd>\d{{1,2}})(?:er)?(?={SP}+au{SP})")
    return "(?:" + "|".join(alts) + ")"


#: « du <date> au <date> ».
_PERIOD = re.compile(rf"\b[Dd]u{SP}+{_date('a', True)}{SP}+au{SP}+{_date('b', False)}", re.IGNORECASE)
#: « pour l'année 2025 », « sur l'année 2025 », « au titre de l'année 2025 ».
_YEAR = re.compile(rf"\b(?:pour|sur|durant|pendant|titre{SP}+de){SP}+l['’]année{SP}+(?P<y>\d{{4}})\b", re.IGNORECASE)
#: « opération d'un an », « pour une durée de 18 mois », « sur 12 mois », « pendant deux ans ».
_DURATION = re.compile(
    rf"\b(?:(?:pendant|sur|pour)(?:{SP}+une{SP}+(?:durée|période))?|durée|opération|action|projet|convention"
    rf"|expérimentation|programme|mission|contrat){SP}+(?:de{SP}+|d['’])?(?P<n>\d{{1,2}}|{_WORD}){SP}+"
    rf"(?P<u>mois|ans?|années?)\b(?!{SP}*(?:supplémentaire|de{SP}+plus|additionnel))", re.IGNORECASE)
_PROLONG = re.compile(r"prolong\w*[^.;:]{0,40}$", re.IGNORECASE)


@dataclass(frozen=True)
class Quantity:
    """A number and its unit as a text writes it: ``unit`` is « ETP », « € », « % » or a plural noun."""

    value: Decimal
    unit: str
    form: str  # grouped (« 4 783 »), plain (« 1200 »), spaced (« 1, 2 »), point (« 1.2 ») or word (« deux »)
    start: int
    text: str
    total: bool = False  # an amount written after « montant (total) de »


@dataclass(frozen=True)
class Range:
    """« de X à Y », « entre X et Y » or « du <date> au <date> », with its bounds (numbers or dates)."""

    low: object
    high: object
    start: int
    text: str

    @property
    def inverted(self) -> bool:
        """The range ends before it starts."""
        return self.low > self.high


@dataclass(frozen=True)
class Duration:
    """A length of time (« d'un an » : 12 months)."""

    months: Decimal
    start: int
    text: str


@dataclass(frozen=True)
class Reading:
    """What one text states: quantities, number ranges, periods (« du … au … », « l'année … ») and durations."""

    quantities: tuple[Quantity, ...]
    ranges: tuple[Range, ...]
    periods: tuple[Range, ...]
    durations: tuple[Duration, ...]


def _value(m: re.Match, p: str) -> tuple[Decimal, str]:
    """The value and the form of the number of match ``m`` whose groups start with ``p``."""
    if m[p + "grp"]:
        whole = re.sub(SP, "", m[p + "grp"])
        return Decimal(f"{whole}.{m[p + 'grpdec']}" if m[p + "grpdec"] else whole), "grouped"
    if m[p + "spc"]:
        return Decimal(f"{m[p + 'spc']}.{m[p + 'spcdec']}"), "spaced"
    if m[p + "pt"]:
        return Decimal(f"{m[p + 'pt']}.{m[p + 'ptdec']}"), "point"
    return Decimal(f"{m[p + 'int']}.{m[p + 'dec']}" if m[p + "dec"] else m[p + "int"]), "plain"


def _unit(word: str) -> str:
    """The unit key of a unit as written: « ETP », « € », « % » or the plural noun (« diagnostics »)."""
    w = word.lower()
    if w == "etp":
        return "ETP"
    if w in ("€", "euro", "euros"):
        return "€"
    if w == "%":
        return "%"
    return w if w.endswith("s") else w + "s"


def _day(m: re.Match, p: str) -> tuple[int | None, int | None, int | None]:
    """Day, month and year of the date of match ``m`` (None where the text leaves them to the other end)."""
    if m[p + "d"]:
        y = int(m[p + "y"])
        return int(m[p + "d"]), int(m[p + "m"]), (2000 + y if y < 100 else y)
    if m[p + "td"]:
        return int(m[p + "td"]), _MONTHS[m[p + "tm"].lower()], (int(m[p + "ty"]) if m[p + "ty"] else None)
    return int(m[p + "dd"]), None, None


def _period(m: re.Match) -> tuple[dt.date, dt.date] | None:
    """The two dates of a « du … au … » match, the start's missing month or year taken from the end."""
    d0, m0, y0 = _day(m, "a")
    d1, m1, y1 = _day(m, "b")
    if y1 is None:
        y1 = y0
    if y1 is None:
        return None
    if m0 is None:
        m0 = m1
    if y0 is None:  # « du 1er novembre au 31 octobre 2025 »: the start is in the year before
        y0 = y1 - 1 if (m0, d0) > (m1, d1) else y1
    try:
        return dt.date(y0, m0, d0), dt.date(y1, m1, d1)
    except ValueError:  # an impossible date (« 31/06/2025 ») is not a period
        return None


@functools.lru_cache(maxsize=65536)
def read(text: str) -> Reading:
    """Read the quantities, ranges, periods and durations ``text`` states (cached per text)."""
    ranges: list[Range] = []
    spans: list[tuple[int, int]] = []
    digits = _DIGIT.search(text) is not None
    if digits and ("à" in text or "ntre" in text):
        for m in _RANGE.finditer(text):
            if m["sep"] != ("à" if m["kw"].lower() == "de" else "et"):
                continue
            before = text[max(0, m.start() - 60):m.start()]
            if m["kw"].lower() == "de" and (m["unit"] is None or _CHANGE.search(before)):
                continue
            (low, _), (high, _) = _value(m, "a"), _value(m, "b")
            ranges.append(Range(low, high, m.start(), m.group(0)))
            spans.append(m.span())
    quantities = []
    for u in _UNIT_AT.finditer(text) if digits or "ETP" in text or "tructure" in text else ():
        unit = _unit(u.group(0))
        m = _NUMBER_BEFORE.search(text, max(0, u.start() - 24), u.start()) if digits else None
        if m is not None:
            value, form = _value(m, "a")
        elif unit in ("ETP", "structures") and (m := _WORD_BEFORE.search(text, max(0, u.start() - 16),
                                                                           u.start())) is not None:
            value, form = Decimal(_WORDS[m["word"].lower()]), "word"
        else:
            continue
        if any(a <= m.start() < b for a, b in spans):  # « entre 50 et 150 jeunes »: a range, not a count
            continue
        total = unit == "€" and re.search(rf"montant(?:{SP}+(?:total|global))?{SP}+de{SP}*$",
                                          text[max(0, m.start() - 30):m.start()], re.IGNORECASE) is not None
        quantities.append(Quantity(value, unit, form, m.start(), text[m.start():u.end()], total))
    periods = []
    for m in _PERIOD.finditer(text) if digits and "au" in text else ():
        p = _period(m)
        if p is not None:
            periods.append(Range(p[0], p[1], m.start(), m.group(0)))
    for m in _YEAR.finditer(text) if digits and "ann" in text else ():
        y = int(m["y"])
        periods.append(Range(dt.date(y, 1, 1), dt.date(y, 12, 31), m.start(), m.group(0)))
    durations = []
    for m in _DURATION.finditer(text) if "mois" in text or " an" in text else ():
        if _PROLONG.search(text[max(0, m.start() - 50):m.start()]):  # « prolongée de six mois »: an extension
            continue
        n = int(m["n"]) if m["n"].isdigit() else _WORDS[m["n"].lower()]
        months = Decimal(n) * (1 if m["u"].lower() == "mois" else 12)
        durations.append(Duration(months, m.start(), m.group(0)))
    return Reading(tuple(quantities), tuple(ranges), tuple(sorted(periods, key=lambda r: r.start)), tuple(durations))
