"""Money arithmetic: instalments add up to the cent; totals do not depend on row order."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from deliberation.compute import months, schedule

D = Decimal


def test_pas_de_calais_actif_extra_etp_60_40():
    assert schedule(D("79850"), [D(60), D(40)]) == [D("47910.00"), D("31940.00")]


def test_rounding_goes_to_the_last_instalment():
    assert schedule(D("100.01"), [D(30), D(50), D(20)]) == [D("30.00"), D("50.01"), D("20.00")]


def test_percentages_must_add_to_100():
    with pytest.raises(ValueError):
        schedule(D("100"), [D(60), D(30)])


@given(
    cents=st.integers(min_value=0, max_value=10**11),
    split=st.lists(st.integers(min_value=1, max_value=100), min_size=1, max_size=5),
)
def test_instalments_always_add_up_to_the_cent(cents, split):
    total = sum(split)
    pourcentages = [D(x) * 100 / total for x in split]
    pourcentages[-1] = D(100) - sum(pourcentages[:-1])
    amount = D(cents) / 100
    parts = schedule(amount, pourcentages)
    assert sum(parts) == amount
    assert all(p.as_tuple().exponent >= -2 for p in parts)


def test_months():
    assert months(dt.date(2025, 1, 1), dt.date(2025, 12, 31)) == 12
    assert months(dt.date(2025, 1, 1), dt.date(2025, 6, 30)) == 6
    assert months(dt.date(2024, 11, 1), dt.date(2025, 10, 31)) == 12
