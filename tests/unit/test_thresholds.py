"""One rule for the low-balance notice and auto top-up (below), and the badge at or below."""

from hypothesis import given
from hypothesis import strategies as st

from ledger.domain.thresholds import crossed_below, is_below, shows_low
from ledger.domain.top_up import TopUp

small = st.integers(min_value=-1000, max_value=1000)


def test_landing_exactly_on_the_threshold_is_not_below_but_shows_low() -> None:
    assert not is_below(500, 500) and is_below(499, 500)
    assert not crossed_below(600, 500, 500, 500) and crossed_below(600, 500, 499, 500)
    assert shows_low(500, 500) and not shows_low(501, 500)


@given(small, small, small)
def test_below_implies_the_badge_and_a_crossing_ends_below(before: int, after: int, threshold: int) -> None:
    if is_below(after, threshold):
        assert shows_low(after, threshold)
    if crossed_below(before, threshold, after, threshold):
        assert is_below(after, threshold) and not is_below(before, threshold)


@given(small, small)
def test_auto_top_up_starts_exactly_when_the_notice_rule_says_below(available: int, threshold: int) -> None:
    top_up = TopUp("acme", enabled=True, threshold=threshold, amount=1000)
    assert top_up.may_start(available, 1, 0, 0, True) == is_below(available, threshold)
