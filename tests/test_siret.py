"""The engine's SIRET verdict is python-stdnum's (SIREN key, SIRET key, La Poste's exception)."""

from __future__ import annotations

import random

import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from stdnum.fr import siret as stdnum_siret

from deliberation.rules.siret import FORMAT, KEY, compact, siret_ok, siret_problem

digits14 = st.text(alphabet="0123456789", min_size=14, max_size=14)


@given(digits14)
@example("35600000000048")  # La Poste, head office: Luhn
@example("35600000000001")  # La Poste, an establishment: digit sum multiple of 5
@example("12345678900000")  # SIRET key right, SIREN key wrong
def test_verdict_is_stdnum(number):
    problem = siret_problem(number)
    assert (problem is None) == stdnum_siret.is_valid(number)
    assert problem is None or problem[0] == KEY


@given(st.builds(lambda head, key: head + key, digits14.map(lambda s: s[:13]), st.sampled_from("0123456789")))
def test_exactly_one_key_digit_fits(number):
    """Of the ten numbers differing by their last digit, stdnum and the engine accept the same ones."""
    accepted = [d for d in "0123456789" if siret_ok(number[:13] + d)]
    assert accepted == [d for d in "0123456789" if stdnum_siret.is_valid(number[:13] + d)]


def test_verdict_is_stdnum_on_a_seeded_sweep():
    """Same verdict on 10,000 seeded random numbers, a tenth of them given their SIRET key (some valid)."""
    rng = random.Random(17)
    valid = 0
    for i in range(10_000):
        number = f"{rng.randrange(10**14):014d}"
        if i % 10 == 0:
            head = number[:13]
            number = head + next((d for d in "0123456789" if stdnum_siret.is_valid(head + d)), number[13])
        expected = stdnum_siret.is_valid(number)
        valid += expected
        assert siret_ok(number) == expected, number
    assert valid > 50  # the sweep does reach valid numbers


def test_la_poste_head_office_accepted():
    assert siret_problem("35600000000048") is None


def test_la_poste_establishment_digit_sum():
    assert siret_ok("35600000000001")
    kind, reason = siret_problem("35600000000002")
    assert kind == KEY and "La Poste" in reason


def test_wrong_siren_key_refused():
    # 123456789 fails the SIREN's Luhn key while the 14 digits pass the SIRET's: the old rule took it
    assert not stdnum_siret.is_valid("12345678900000")
    assert siret_problem("12345678900000") == (KEY, "clé de contrôle (Luhn) du SIREN 123456789 invalide")


def test_wrong_siret_key_refused():
    assert siret_ok("18620009300083")  # Pas-de-Calais Actif
    assert siret_problem("18620009300084") == (KEY, "clé de contrôle (Luhn) invalide")


@pytest.mark.parametrize("value", ["1862000930008", "186200093000830", "18620 009300083", "1862000930008A",
                                   "\u0661" * 14, ""])
def test_format(value):
    assert siret_problem(value)[0] == FORMAT


def test_compact_removes_spaces():
    assert compact("186 200 093\u00a000083\u202f") == "18620009300083"
