"""Properties of money (issue 9, part 5): instalments, totals and the amount format, for any amount.

Instalments (avance, acompte, solde…) add up to the cent with no negative part; totals do not
depend on the order of the lines; an amount formatted for a document reads back exactly.
"""

from __future__ import annotations

import dataclasses
import re
import shutil
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from ruamel.yaml.nodes import ScalarNode

from deliberation import fmt, pipeline
from deliberation.acts import act_values
from deliberation.compute import compute, figures_to_data, schedule
from deliberation.load import load_dossier
from deliberation.load.yaml import compose_text
from deliberation.schema import Ctx, Int, Invalid, Money, parse_decimal
from deliberation.settings import Settings

D = Decimal
CENT = D("0.01")
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
MAX_CENTS = 10**15 - 1  # Money accepts up to 9 999 999 999 999,99 €

cents = st.integers(min_value=0, max_value=MAX_CENTS).map(lambda c: D(c) / 100)
signed_cents = st.integers(min_value=-MAX_CENTS, max_value=MAX_CENTS).map(lambda c: D(c) / 100)


@st.composite
def percentages(draw, max_parts: int = 6, places: int = 3) -> list[Decimal]:
    """Any non-negative percentages adding up to exactly 100 (cut points of 0–100, zero parts included)."""
    scale = 10**places
    cuts = sorted(draw(st.lists(st.integers(0, 100 * scale), max_size=max_parts - 1)))
    bounds = [0, *cuts, 100 * scale]
    return [D(b - a) / scale for a, b in zip(bounds, bounds[1:], strict=False)]


# ---------------------------------------------------------------------------
# instalments


@given(montant=cents, pcts=percentages())
def test_instalments_add_up_to_the_cent_and_none_is_negative(montant, pcts):
    parts = schedule(montant, pcts)
    assert len(parts) == len(pcts)
    assert sum(parts, D(0)) == montant
    assert all(p >= 0 for p in parts)
    assert all(p == p.quantize(CENT) for p in parts)
    for p, pct in zip(parts, pcts, strict=True):  # each part within a cent of its exact share
        assert abs(p - montant * pct / 100) <= CENT


@given(montant=cents, avance=st.integers(0, 100), acompte=st.integers(0, 100))
def test_avance_acompte_solde(montant, avance, acompte):
    acompte = min(acompte, 100 - avance)
    parts = schedule(montant, [D(avance), D(acompte), D(100 - avance - acompte)])
    assert sum(parts) == montant and min(parts) >= 0


def test_tiny_amounts_leave_no_negative_instalment():
    """Regression: 0,02 € in four quarters used to give 0,01 + 0,01 + 0,01 − 0,01."""
    assert schedule(D("0.02"), [D(25)] * 4) == [D("0.01"), D("0.00"), D("0.01"), D("0.00")]
    assert schedule(D("0.01"), [D(50), D(50), D(0)]) == [D("0.01"), D("0.00"), D("0.00")]
    assert schedule(D("100.02"), [D(25)] * 4) == [D("25.01"), D("25.00"), D("25.01"), D("25.00")]


# ---------------------------------------------------------------------------
# totals


@pytest.fixture(scope="module")
def loaded(tmp_path_factory):
    """The fixture dossiers, loaded once (parse cache in a temporary folder)."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DELIBERATION_CACHE", str(tmp_path_factory.mktemp("cache")))
        yield {name: load_dossier(FIXTURES / name)[0] for name in ("fictif", "phase-6-2024")}


def _without_detail(data: dict) -> dict:
    for t in data["thematiques"]:
        for o in t["operations"]:
            o.pop("detail")
    return data


def _reordered(d, data, amounts: bool):
    """``d`` with the lines of each opération shuffled and, if ``amounts``, new amounts to the cent."""
    thematiques = []
    for t in d.thematiques:
        operations = []
        for o in t.operations:
            lignes = list(data.draw(st.permutations(o.lignes)))
            if amounts:
                lignes = [dataclasses.replace(x, montant=data.draw(cents)) for x in lignes]
            operations.append(dataclasses.replace(o, lignes=tuple(lignes)))
        thematiques.append(dataclasses.replace(t, operations=tuple(operations)))
    return dataclasses.replace(d, thematiques=tuple(thematiques))


@given(data=st.data(), name=st.sampled_from(("fictif", "phase-6-2024")))
def test_totals_do_not_depend_on_line_order(loaded, data, name):
    d = loaded[name]
    shuffled = _reordered(d, data, amounts=False)
    assert _without_detail(figures_to_data(shuffled, compute(shuffled))) == _without_detail(
        figures_to_data(d, compute(d)))


@given(data=st.data(), name=st.sampled_from(("fictif", "phase-6-2024")))
def test_totals_add_up_for_any_amounts(loaded, data, name):
    d = _reordered(loaded[name], data, amounts=True)
    fig = compute(d)
    lines = [ligne for _, _, ligne in d.lignes()]
    assert fig.phase.montant == sum(x.montant for x in lines)
    assert fig.phase.montant == sum(fig.of(t).montant for t in d.thematiques)
    for t in d.thematiques:
        assert fig.of(t).montant == sum(fig.of(o).montant for o in t.operations)
    for code, b in fig.budget.items():
        assert b.proposition == sum(x.montant for _, o, x in d.lignes() if o.budget == code)
        assert b.solde == b.ligne.disponible - b.proposition
    shuffled = _reordered(d, data, amounts=False)
    assert figures_to_data(shuffled, compute(shuffled))["phase"] == figures_to_data(d, fig)["phase"]


# ---------------------------------------------------------------------------
# the amount format, there and back


def _read_money(text: str) -> Decimal:
    """Read an amount as the dossier's loader does (``Money`` kind), from YAML text."""
    node, findings = compose_text(f'montant: "{text}"\n', "x.yaml")
    assert not findings
    return Money().convert(node.value[0][1], Ctx("x.yaml"), "montant")


@given(value=signed_cents)
def test_formatted_amounts_read_back_exactly(value):
    shown = fmt.money(value)
    assert re.fullmatch(r"-?\d{1,3}(\u00a0\d{3})*,\d\d\u00a0€", shown), shown
    assert _read_money(shown) == value
    assert parse_decimal(fmt.money(value, cents_shown=False)) == value
    assert parse_decimal(fmt.money(value, dash_zero=True)) == value
    assert parse_decimal(shown.replace("\u00a0", "\u202f")) == value  # narrow no-break spaces
    assert parse_decimal(fmt.plain(shown)) == value  # ordinary spaces (messages)
    assert parse_decimal(fmt.number(value, 2)) == value


@given(value=st.decimals(min_value=-(10**12), max_value=10**12, places=4, allow_nan=False))
def test_amounts_with_more_decimals_read_back_rounded_half_up(value):
    assert _read_money(fmt.money(value)) == fmt.cents(value)


@given(value=st.integers(min_value=0, max_value=10**15 - 1))
def test_formatted_counts_read_back(value):
    node = ScalarNode("tag:yaml.org,2002:str", fmt.number(value))
    assert Int().convert(node, Ctx("x.yaml"), "n") == value


def test_zero_and_extremes_read_back():
    for value in (D("0"), D("-0.01"), D("1000000"), D("9999999999999.99"), D("-9999999999999.99")):
        assert _read_money(fmt.money(value)) == value
    assert _read_money(fmt.money(D(0), dash_zero=True)) == 0
    with pytest.raises(Invalid):  # 10 000 milliards: out of range, a finding
        _read_money(fmt.money(D("10000000000000")))


# ---------------------------------------------------------------------------
# what the acts say: the instalments of the schedule add up to the amount granted


@pytest.fixture(scope="module")
def fictif_copy(tmp_path_factory):
    """A writable copy of the fictitious dossier (parse cache in a temporary folder)."""
    root = tmp_path_factory.mktemp("props") / "fictif"
    shutil.copytree(FIXTURES / "fictif", root)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DELIBERATION_CACHE", str(root.parent / "cache"))
        yield root


SHEET_41 = (FIXTURES / "fictif" / "dispositifs" / "4.1.md").read_text(encoding="utf-8")
T4 = (FIXTURES / "fictif" / "thematiques" / "t4.yaml").read_text(encoding="utf-8")
LABELS = ("à titre d'avance", "à titre d'acompte", "au solde", "au solde final", "en complément", "en reliquat")


@pytest.mark.slow
@given(montant=st.integers(min_value=1, max_value=10**9).map(lambda c: D(c) / 100), pcts=percentages(places=2))
def test_convention_instalments_add_up_to_the_amount(fictif_copy, montant, pcts):
    versements = "".join(f'  - {{libelle: "{LABELS[i]}", pourcentage: {p}}}\n' for i, p in enumerate(pcts))
    sheet = re.sub(r"versements:\n(  - .*\n)+", "versements:\n" + versements, SHEET_41)
    (fictif_copy / "dispositifs" / "4.1.md").write_text(sheet, encoding="utf-8")
    text = T4.replace("montant: 12000", f'montant: "{fmt.plain(fmt.money(montant))}"')
    (fictif_copy / "thematiques" / "t4.yaml").write_text(text, encoding="utf-8")
    checked = pipeline.check(Settings(source=fictif_copy))
    (act,) = [a for a in checked.acts if a.structure.id == "gamma"]
    values, _ = act_values(act, checked.dossier)
    said = values["annexes"][0]["values"]["versements"].split("\n")
    assert len(said) == len(pcts)
    amounts = [parse_decimal(re.search(r"soit (.*€)$", line).group(1)) for line in said]
    assert sum(amounts) == montant == parse_decimal(values["annexes"][0]["values"]["cout"])
    assert all(a >= 0 for a in amounts)


@given(st.decimals(allow_nan=False, allow_infinity=False, min_value=Decimal("-1e19"), max_value=Decimal("1e19")),
       st.sampled_from([None, 0, 1, 2, 3]))
def test_fast_number_formatting_equals_babel(value, decimals):
    """fmt formats numbers by hand for speed: it must say exactly what Babel's pattern engine says."""
    assert fmt._grouped(value, decimals) == fmt.babel_number(value, decimals)


@pytest.mark.parametrize("value", ["2.0005", "2.0015", "999.9995", "-0.0004", "1E+3", "12345678.905", "0.125"])
@pytest.mark.parametrize("decimals", [None, 0, 2])
def test_fast_number_formatting_equals_babel_at_the_edges(value, decimals):
    assert fmt.number(Decimal(value), decimals) == fmt.babel_number(Decimal(value), decimals)
