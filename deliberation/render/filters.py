"""Jinja filters for French documents, backed by Babel (see ``deliberation.fmt``)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from deliberation import fmt
from deliberation.render.words import amount_words, integer_words


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


#: Counts are written in words up to this number (« un dispositif », « quatre dispositifs »), in digits above
#: (« 12 structures »): the usage of French administrative prose for small counts.
WORDS_UP_TO = 9

_VOWEL = "aeiouyàâäéèêëîïôöùûüœæAEIOUYÀÂÉÈÊÎÔÛŒÆ"


def compte(n: int, singulier: str, pluriel: str | None = None, feminin: bool = False) -> str:
    """A count and its noun, agreed: « un dispositif », « une structure », « quatre dispositifs », « 12 places »."""
    n = int(n)
    noun = singulier if n == 1 else (pluriel or singulier + "s")
    if n == 0:
        return f"{'aucune' if feminin else 'aucun'} {singulier}"
    if n == 1:
        return f"{'une' if feminin else 'un'} {noun}"
    return f"{integer_words(n) if n <= WORDS_UP_TO else fmt.number(Decimal(n))} {noun}"


def de(text: str) -> str:
    """« de » before ``text``, elided before a vowel: « d'un dispositif », « de quatre dispositifs »."""
    return f"d'{text}" if text[:1] in _VOWEL else f"de {text}"


def de_compte(n: int, singulier: str, pluriel: str | None = None, feminin: bool = False) -> str:
    """« d'un dispositif », « de deux structures » (``de`` of ``compte``)."""
    return de(compte(n, singulier, pluriel, feminin))


def les_compte(n: int, singulier: str, pluriel: str | None = None, feminin: bool = False) -> str:
    """The definite counted noun: « la thématique », « l'opération », « le dispositif », « les trois thématiques »."""
    if int(n) == 1:
        if singulier[:1] in _VOWEL:
            return f"l'{singulier}"
        return f"{'la' if feminin else 'le'} {singulier}"
    return f"les {compte(n, singulier, pluriel, feminin)}"


def capitale(text: str) -> str:
    """The first letter in upper case: « Quatre dispositifs sont proposés »."""
    return text[:1].upper() + text[1:]


FILTERS = {f.__name__: f for f in (
    euros, euros_prose, euros_annexe, montant, nombre, etp, date_longue, date_courte, ordinal, en_lettres,
    liste, majuscules, compte, de, de_compte, les_compte, capitale,
)}
