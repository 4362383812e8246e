"""Fewer credits never cost more: custom amounts are capped by every larger offer of the catalog."""

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.payments.catalog import DEFAULT, MAX_CREDITS, Catalog

CATALOG = Catalog(**DEFAULT)


@pytest.mark.parametrize(
    ("credits", "price"),
    [
        (100, 100),
        (1_000, 1_000),
        (4_500, 4_500),
        (4_999, 4_500),
        (5_000, 4_500),
        (5_001, 4_501),
        (19_999, 16_000),
        (20_000, 16_000),
        (99_999, 70_000),
        (100_000, 70_000),
    ],
)
def test_the_built_in_catalog_never_charges_more_for_fewer_credits(credits: int, price: int) -> None:
    assert CATALOG.custom_price(credits) == price


def test_every_custom_amount_costs_at_least_the_one_before() -> None:
    prices = [CATALOG.top_up_price(c) for c in range(1, MAX_CREDITS + 1)]
    assert all(a <= b for a, b in itertools.pairwise(prices))
    for package in CATALOG.packages:
        assert all(p >= package.price for p in prices[package.credits :])


tiers = st.lists(st.integers(1, 5_000), min_size=1, max_size=4).map(
    lambda rates: [{"from_credits": 1 + 10_000 * i, "price_per_1000": r} for i, r in enumerate(rates)]
)


@settings(max_examples=50)
@given(tiers, st.integers(1, MAX_CREDITS - 1))
def test_any_tiered_catalog_prices_monotonically(tier_list: list, credits: int) -> None:
    catalog = Catalog(packages=[], custom={"min_credits": 1, "max_credits": MAX_CREDITS, "tiers": tier_list})
    assert catalog.custom_price(credits) <= catalog.custom_price(credits + 1)


def test_a_package_that_costs_more_than_more_credits_is_refused() -> None:
    bad = {**DEFAULT, "packages": [{"id": "small", "credits": 1_000, "price": 5_000}]}
    with pytest.raises(ValueError, match="costs more"):
        Catalog(**bad)
