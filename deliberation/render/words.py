"""Amounts in French words (« sept cent douze mille euros »), 1990 spelling rules not applied."""

from __future__ import annotations

from decimal import Decimal

from deliberation.fmt import cents

_UNITS = ["zéro", "un", "deux", "trois", "quatre", "cinq", "six", "sept", "huit", "neuf", "dix", "onze",
          "douze", "treize", "quatorze", "quinze", "seize", "dix-sept", "dix-huit", "dix-neuf"]
_TENS = {2: "vingt", 3: "trente", 4: "quarante", 5: "cinquante", 6: "soixante", 8: "quatre-vingt"}


def _below_100(n: int) -> str:
    if n < 20:
        return _UNITS[n]
    tens, unit = divmod(n, 10)
    if tens in (7, 9):
        base = "soixante" if tens == 7 else "quatre-vingt"
        rest = 10 + unit
        joiner = " et " if (tens == 7 and unit == 1) else "-"
        return f"{base}{joiner}{_UNITS[rest]}"
    word = _TENS[tens]
    if unit == 0:
        return word + ("s" if tens == 8 else "")
    if unit == 1 and tens != 8:
        return f"{word} et un"
    return f"{word}-{_UNITS[unit]}"


def _below_1000(n: int) -> str:
    hundreds, rest = divmod(n, 100)
    parts = []
    if hundreds:
        word = "cent" if hundreds == 1 else f"{_UNITS[hundreds]} cent"
        if hundreds > 1 and rest == 0:
            word += "s"
        parts.append(word)
    if rest:
        parts.append(_below_100(rest))
    return " ".join(parts)


def integer_words(n: int) -> str:
    """Whole number in French words (up to the billions)."""
    if n == 0:
        return "zéro"
    parts = []
    for value, singular, plural in ((10**9, "milliard", "milliards"), (10**6, "million", "millions")):
        q, n = divmod(n, value)
        if q:
            parts.append(f"{integer_words(q)} {singular if q == 1 else plural}")
    q, n = divmod(n, 1000)
    if q:
        word = _below_1000(q)
        if word.endswith(("cents", "vingts")):  # « cent » and « vingt » are invariable before « mille »
            word = word[:-1]
        parts.append("mille" if q == 1 else f"{word} mille")
    if n:
        parts.append(_below_1000(n))
    return " ".join(parts)


def amount_words(value: Decimal) -> str:
    """An amount in euros in words: ``sept cent douze mille euros et cinquante centimes``."""
    value = cents(value)
    euros = int(value)
    centimes = int((value - euros) * 100)
    text = f"{integer_words(euros)} euro{'s' if euros > 1 else ''}"
    if euros and euros % 1_000_000 == 0:
        text = text.replace(" euros", " d'euros")
    if centimes:
        text += f" et {integer_words(centimes)} centime{'s' if centimes > 1 else ''}"
    return text
