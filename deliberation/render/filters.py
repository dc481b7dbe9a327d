"""Jinja filters for French documents, backed by Babel (see ``deliberation.fmt``)."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

from deliberation import fmt
from deliberation.render.words import amount_words


def euros(value: Decimal) -> str:
    """Table amount: ``712 000,00 €``."""
    return fmt.money(value)


def euros_prose(value: Decimal) -> str:
    """Prose amount: ``712 000 €`` (cents only when there are some)."""
    return fmt.money(value, cents_shown=False)


def euros_annexe(value: Decimal) -> str:
    """Annexe 4 amount: ``53 700,00 €``, ``- €`` for zero."""
    return fmt.money(value, dash_zero=True)


def montant(value: Decimal) -> str:
    """Amount without the currency sign, for tables whose header says €: ``8 589 450,00``."""
    return fmt.number(fmt.cents(value), 2)


def nombre(value) -> str:
    """Count or volume: ``4 783``, ``2,38``."""
    return fmt.number(Decimal(value))


def etp(value: Decimal) -> str:
    """Full-time equivalents: ``2,38 ETP``."""
    return fmt.etp(value)


def date_longue(value: dt.date) -> str:
    """``9 décembre 2024``, ``1er janvier 2025``."""
    return fmt.date_long(value)


def date_courte(value: dt.date) -> str:
    """``01/01/2025``."""
    return fmt.date_short(value)


def ordinal(n: int) -> str:
    """``1ère``, ``2ème``."""
    return fmt.ordinal(n)


def en_lettres(value: Decimal) -> str:
    """``sept cent douze mille euros``."""
    return amount_words(value)


def liste(items) -> str:
    """French enumeration: ``5, 6, 7 et 8``."""
    items = [str(i) for i in items]
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " et " + items[-1]


def majuscules(text: str) -> str:
    """Upper case, accents kept (``9 DÉCEMBRE 2024``)."""
    return text.upper()


def compte(n: int, singulier: str, pluriel: str | None = None, feminin: bool = False) -> str:
    """A count and its noun, agreed (``fmt.count``): « un dispositif », « quatre dispositifs », « 12 places »."""
    return fmt.count(n, singulier, pluriel, feminin)


def de(text: str) -> str:
    """« de » before ``text``, elided before a vowel (``fmt.elide``): « d'un dispositif », « de quatre … »."""
    return fmt.elide("de", text)


def de_compte(n: int, singulier: str, pluriel: str | None = None, feminin: bool = False) -> str:
    """« d'un dispositif », « de deux structures » (``fmt.de_count``)."""
    return fmt.de_count(n, singulier, pluriel, feminin)


def les_compte(n: int, singulier: str, pluriel: str | None = None, feminin: bool = False) -> str:
    """The definite counted noun (``fmt.definite_count``): « la thématique », « les trois thématiques »."""
    return fmt.definite_count(n, singulier, pluriel, feminin)


def capitale(text: str) -> str:
    """The first letter in upper case (``fmt.capitalise``): « Quatre dispositifs sont proposés »."""
    return fmt.capitalise(text)


#: No-break space and non-breaking hyphen (Unicode): a line never breaks there.
NBSP, NBHYPHEN = "\u00a0", "\u2011"
_HYPHEN = re.compile(r"(?<=\w)-(?=\w)")
_BEFORE_NUMBER = re.compile(r" (?=[^\s]*\d)")  # « PHASE 6 », « n° 2024-587 », « du 9 décembre 2024 »
_AFTER_SHORT = re.compile(r"(?<![^\s'’])(\w{1,2}) (?=\S)")  # « À PROJETS », « DE LA MEMPA », « l'a »
_FRENCH_PUNCT = re.compile(r" (?=[;:!?»])|(?<=«) ")


def insecable(text: str) -> str:
    """A title that wraps only between words that may part.

    A hyphen between two words or numbers never breaks (« 2024‑PHASE »), nor the space before a word
    holding a digit (« PHASE 6 », « n° 2024-587 »), after a word of one or two letters (« À PROJETS »,
    « DE LA MEMPA »), before « ; : ! ? » » and after « « » (French typography).
    """
    text = _HYPHEN.sub(NBHYPHEN, str(text))
    text = _BEFORE_NUMBER.sub(NBSP, text)
    text = _AFTER_SHORT.sub(lambda m: m.group(1) + NBSP, text)
    return _FRENCH_PUNCT.sub(NBSP, text)


FILTERS = {f.__name__: f for f in (
    euros, euros_prose, euros_annexe, montant, nombre, etp, date_longue, date_courte, ordinal, en_lettres,
    liste, majuscules, compte, de, de_compte, les_compte, capitale, insecable,
)}
