"""French formatting of amounts, quantities and dates (Babel, fr_FR); counts and names agreed in a sentence.

Documents use a no-break space (U+00A0) between digit groups and before ``€`` so that a
figure never breaks across lines; ``plain()`` turns it into an ordinary space for messages.
"""

from __future__ import annotations

import datetime as dt
import functools
from decimal import ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal

from babel import Locale
from babel.dates import format_date
from babel.numbers import parse_pattern

LOCALE = "fr_FR"
NBSP = "\u00a0"
CENT = Decimal("0.01")

_GROUP_SEPARATORS = ("\u202f", "\u00a0", " ")


def _fix_spaces(text: str) -> str:
    for sep in _GROUP_SEPARATORS:
        text = text.replace(sep, NBSP)
    return text


def plain(text: str) -> str:
    """Replace no-break spaces by ordinary spaces (for terminal messages)."""
    return text.replace(NBSP, " ").replace("\u202f", " ")


def cents(value: Decimal) -> Decimal:
    """Round an amount to the cent, half up (the rule for every displayed amount)."""
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def number(value: Decimal | int, decimals: int | None = None) -> str:
    """Format a number: ``4 783``, ``2,38``; ``decimals`` forces that many decimals."""
    return _number(Decimal(value), decimals)


@functools.lru_cache(maxsize=65536)
def _number(value: Decimal, decimals: int | None) -> str:
    # equal Decimals (2.5, 2.50) format alike under these patterns, so caching by value is safe
    if value.is_finite() and abs(value) < _LIMIT:
        return _grouped(value, decimals)
    return babel_number(value, decimals)


def babel_number(value: Decimal, decimals: int | None) -> str:
    """The same as :func:`number`, through Babel's pattern engine (the reference; 20 times slower)."""
    if decimals is None:
        pattern = "#,##0.###"
    else:
        pattern = "#,##0" + ("." + "0" * decimals if decimals else "")
    return _fix_spaces(_pattern(pattern).apply(value, _locale(), decimal_quantization=True))


_LIMIT = Decimal("1e20")  # well inside the default 28-digit context: quantize cannot overflow


def _grouped(value: Decimal, decimals: int | None) -> str:
    """Babel's ``#,##0.###`` / ``#,##0.00`` for fr_FR (half-even rounding, no-break group spaces), by hand.

    Babel looks the locale's symbols up again for every number (some 60 µs each, a fifth of a
    5 000-line check); the symbols are read from Babel once and tests compare both on many values.
    """
    group, decimal_sign, minus = _symbols()
    places = 3 if decimals is None else decimals
    q = value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_EVEN)
    whole, _, frac = format(abs(q), "f").partition(".")
    if decimals is None:
        frac = frac.rstrip("0")
    head = len(whole) % 3 or 3
    parts = [whole[:head]] + [whole[i:i + 3] for i in range(head, len(whole), 3)]
    text = group.join(parts) + (decimal_sign + frac if frac else "")
    return (minus if q.is_signed() else "") + text


@functools.cache
def _symbols() -> tuple[str, str, str]:
    from babel.numbers import get_decimal_symbol, get_minus_sign_symbol

    return NBSP, get_decimal_symbol(_locale()), get_minus_sign_symbol(_locale())


@functools.cache
def _pattern(pattern: str):
    """A Babel number pattern, parsed once (``format_decimal`` parses it at every call)."""
    return parse_pattern(pattern)


@functools.cache
def _locale() -> Locale:
    return Locale.parse(LOCALE)


def money(value: Decimal, *, cents_shown: bool = True, dash_zero: bool = False) -> str:
    """Format an amount: ``712 000,00 €`` (tables), ``712 000 €`` (prose), ``- €`` for zero."""
    if dash_zero and value == 0:
        return f"-{NBSP}€"
    if cents_shown:
        text = number(cents(value), 2)
    else:
        text = number(cents(value), 2 if cents(value) % 1 else 0)
    return f"{text}{NBSP}€"


def etp(value: Decimal) -> str:
    """Format a full-time equivalent: ``2,38 ETP``."""
    return f"{number(value)}{NBSP}ETP"


@functools.lru_cache(maxsize=4096)
def date_long(value: dt.date) -> str:
    """Format a date in words: ``9 décembre 2024``, ``1er janvier 2025``."""
    text = format_date(value, format="d MMMM y", locale=LOCALE)
    if value.day == 1:
        text = "1er" + text[1:]
    return text


def date_short(value: dt.date) -> str:
    """Format a date for tables: ``01/01/2025``."""
    return value.strftime("%d/%m/%Y")


def ordinal(n: int, feminine: bool = True) -> str:
    """Ordinal in the seed's style: ``1ère``/``1er``, ``2ème``."""
    if n == 1:
        return "1ère" if feminine else "1er"
    return f"{n}ème"


def gap(expected: Decimal, found: Decimal, unit: str = "€") -> str:
    """Describe the gap between an expected and a found figure: ``(20,00 € de moins)``."""
    diff = found - expected
    if diff == 0:
        return "(aucun écart)"
    word = "de plus" if diff > 0 else "de moins"
    amount = abs(diff)
    shown = money(amount) if unit == "€" else f"{number(amount)} {unit}".rstrip()
    return plain(f"({shown} {word})")


#: Letters before which « de », « le », « la » elide (« d'un dispositif », « d'Orange Insertion »). Not « h »:
#: an h aspiré (« de huit dispositifs », « de Hénin ») cannot be told from an h muet without a dictionary, so
#: a body whose name starts with an h muet declares « l' » in the registry.
_VOWELS = frozenset("aeiouyàâäéèêëîïôöùûüœæ")

#: Counts are written in words up to this number, in digits above (« 12 structures », « 4 783 diagnostics »).
#: The seed mixes both: « Un dispositif est proposé » (l.979) but « de 1 dispositif » (l.80, l.985),
#: « 4 dispositifs » (l.971), « 2 structures » (l.190, l.200), « les 3 thématiques » (l.967); its large counts
#: are digits (« 12 structures », l.158 ; « 16 ambitions », l.957). One rule for every count: words for the
#: small ones as French prose writes them (« d'un dispositif », « deux structures »), digits for the others.
WORDS_UP_TO = 9

#: The words for 0 to ``WORDS_UP_TO``: a bounded table (the only numbers ``count`` writes in words), so no
#: number-to-words library is needed; ``un`` is replaced by ``une`` before a feminine noun.
_WORDS = ("zéro", "un", "deux", "trois", "quatre", "cinq", "six", "sept", "huit", "neuf")


def starts_with_vowel(text: str) -> bool:
    """Whether ``text`` starts with a vowel that elides a preceding « de », « le », « la » (never « h »)."""
    return text[:1].lower() in _VOWELS


def elide(word: str, text: str) -> str:
    """``word`` (« de », « le », « la », « que ») before ``text``, elided before a vowel: « d'un », « D'une »."""
    if starts_with_vowel(text) and word.lower() in ("de", "le", "la", "que"):
        return f"{word[:-1]}'{text}"
    return f"{word} {text}"


def capitalise(text: str) -> str:
    """The first letter in upper case, the rest kept: « Quatre dispositifs », « L'Association Alpha »."""
    return text[:1].upper() + text[1:]


def count(n: int, singular: str, plural: str | None = None, feminine: bool = False) -> str:
    """A count with its noun, agreed: « un dispositif », « une structure », « deux structures », « 12 places ».

    Words up to ``WORDS_UP_TO``, digits above (grouped: « 4 783 diagnostics »); zero is « aucun(e) » with
    the singular. ``plural`` defaults to ``singular`` + « s ».
    """
    n = int(n)
    noun = singular if n in (0, 1) else (plural or singular + "s")
    if n == 0:
        return f"{'aucune' if feminine else 'aucun'} {noun}"
    if n == 1:
        return f"{'une' if feminine else 'un'} {noun}"
    return f"{_WORDS[n] if n <= WORDS_UP_TO else number(Decimal(n))} {noun}"


def de_count(n: int, singular: str, plural: str | None = None, feminine: bool = False) -> str:
    """The count after « de », elided: « d'un dispositif », « d'une structure », « de deux dispositifs »."""
    return elide("de", count(n, singular, plural, feminine))


def definite_count(n: int, singular: str, plural: str | None = None, feminine: bool = False) -> str:
    """The count with the definite article: « la thématique », « l'opération », « les trois thématiques »."""
    if int(n) == 1:
        return elide("la" if feminine else "le", singular)
    return f"les {count(n, singular, plural, feminine)}" if int(n) else count(0, singular, plural, feminine)


def designation(nom: str, article: str | None) -> dict[str, str]:
    """A body's name in a sentence, with the article the registry declares (none guessed).

    ``article``: « le », « la », « l' », « les », « aucun » (a proper name) or None (not declared: the
    name alone, as « aucun »). Returns the forms

    - ``nom``: bare, in a sentence (« la Maison de l'emploi », « l'Association Alpha », « Pas-de-Calais Actif ») ;
    - ``debut``: the same at the start of a sentence (« La Maison de l'emploi », « L'Association Alpha ») ;
    - ``de``: after « de » (« de la Maison », « du CCAS », « de l'Association », « des Amis »,
      « de Pas-de-Calais Actif », « d'Orange Insertion ») ;
    - ``a``: after « à » (« à la Maison », « au CCAS », « à l'Association », « aux Amis », « à Orange Insertion »).

    A declared « l' » is written before the name without a space; a declared « le » or « la » elides
    before a vowel like any article (« le » + « Atelier du Bois » : « l'Atelier du Bois », « de l'Atelier »).
    :func:`capitalise` gives the other forms at the start of a sentence (« Du CCAS … »).
    """
    if article in ("le", "la") and starts_with_vowel(nom):
        article = "l'"
    if article == "l'":
        forms = {"nom": f"l'{nom}", "de": f"de l'{nom}", "a": f"à l'{nom}"}
    elif article == "le":
        forms = {"nom": f"le {nom}", "de": f"du {nom}", "a": f"au {nom}"}
    elif article == "la":
        forms = {"nom": f"la {nom}", "de": f"de la {nom}", "a": f"à la {nom}"}
    elif article == "les":
        forms = {"nom": f"les {nom}", "de": f"des {nom}", "a": f"aux {nom}"}
    else:  # « aucun » or not declared: the name alone
        forms = {"nom": nom, "de": elide("de", nom), "a": f"à {nom}"}
    forms["debut"] = capitalise(forms["nom"])
    return forms
