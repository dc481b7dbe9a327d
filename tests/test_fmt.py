"""French formatting (Babel, fr_FR)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from deliberation import fmt


def test_money():
    assert fmt.plain(fmt.money(Decimal("712000"))) == "712 000,00 €"
    assert fmt.plain(fmt.money(Decimal("712000"), cents_shown=False)) == "712 000 €"
    assert fmt.plain(fmt.money(Decimal("338226.74"), cents_shown=False)) == "338 226,74 €"
    assert fmt.plain(fmt.money(Decimal("0"), dash_zero=True)) == "- €"
    assert fmt.money(Decimal("53700")) == "53\u00a0700,00\u00a0€"


def test_rounding_is_half_up():
    assert fmt.cents(Decimal("0.005")) == Decimal("0.01")
    assert fmt.cents(Decimal("2.675")) == Decimal("2.68")


def test_dates():
    assert fmt.date_long(dt.date(2024, 12, 9)) == "9 décembre 2024"
    assert fmt.date_long(dt.date(2025, 1, 1)) == "1er janvier 2025"
    assert fmt.date_short(dt.date(2025, 1, 1)) == "01/01/2025"


def test_numbers_and_etp():
    assert fmt.plain(fmt.number(Decimal("4783"))) == "4 783"
    assert fmt.plain(fmt.etp(Decimal("2.38"))) == "2,38 ETP"
    assert fmt.ordinal(2) == "2ème" and fmt.ordinal(1) == "1ère"


def test_gap():
    assert fmt.gap(Decimal("59220"), Decimal("59200")) == "(20,00 € de moins)"
