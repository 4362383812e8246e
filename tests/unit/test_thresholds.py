"""One rule for the low-balance notice and auto top-up (below), and the badge at or below."""

from hypothesis import given
from hypothesis import strategies as st

from ledger.domain.thresholds import crossed_below, is_below, shows_low, spendable_trip, threshold_in_force
from ledger.domain.top_up import TopUp
from ledger.usecases.top_up_requests import crossing

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


def test_no_threshold_is_never_below_and_turning_one_on_while_below_is_a_crossing() -> None:
    assert not is_below(-1000, None)
    assert not crossed_below(600, 500, 400, None)  # auto top-up turned off on the way down
    assert crossed_below(400, None, 400, 500) and not crossed_below(600, None, 600, 500)


@given(small, small, small)
def test_a_writes_condition_on_spendable_says_below_exactly_when_available_is(
    available: int, threshold: int, hard_limit: int
) -> None:
    spendable = available - hard_limit
    assert (spendable < spendable_trip(threshold, hard_limit)) == is_below(available, threshold)


def _account(available: int, threshold: int | None, seq: int) -> dict:
    item = {"balance": available, "held": 0, "seq": seq}
    return item if threshold is None else {**item, "top_up_threshold": threshold}


@given(small, st.none() | small, small, st.none() | small, st.booleans())
def test_a_top_up_is_asked_for_exactly_on_a_crossing(
    before: int, before_threshold: int | None, after: int, after_threshold: int | None, new_account: bool
) -> None:
    old = None if new_account else _account(before, before_threshold, 1)
    asked = crossing("acme", old, _account(after, after_threshold, 2))
    expected = crossed_below(
        0 if new_account else before, None if new_account else before_threshold, after, after_threshold
    )
    assert (asked is not None) == expected
    assert asked is None or asked.seq == 2


def test_a_top_up_is_asked_for_below_the_threshold_not_on_it_and_once_per_crossing() -> None:
    assert crossing("acme", _account(600, 500, 1), _account(500, 500, 2)) is None
    assert crossing("acme", _account(600, 500, 1), _account(499, 500, 2)) is not None
    assert crossing("acme", _account(499, 500, 1), _account(400, 500, 2)) is None  # already below
    assert crossing("acme", _account(400, None, 1), _account(400, 500, 2)) is not None  # turned on below
    assert crossing("acme", None, _account(-1, 0, 1)) is not None


@given(st.none() | small, st.none() | small, small)
def test_the_accounts_own_threshold_wins_then_auto_top_ups_then_the_default(
    own: int | None, top_up: int | None, default: int
) -> None:
    expected = own if own is not None else top_up if top_up is not None else default
    assert threshold_in_force(own, top_up, default) == expected
    assert threshold_in_force(None, None, default) == default


def test_a_settlement_of_several_steps_asks_for_a_top_up_once_from_before_it_to_after_it() -> None:
    """Its steps ask for nothing; its last step crosses from the available before its first."""
    item = {"balance": 1000, "held": 0, "top_up_threshold": 100, "seq": 9}
    settling = {**item, "balance": 40, "settling_from": 300}  # a step between: 40, below the threshold
    assert crossing("a", item, settling) is None
    assert crossing("a", settling, {**item, "balance": 50}) is not None  # 300 before it, 50 after: once
    assert crossing("a", settling, {**item, "balance": 500}) is None  # 300 before it, 500 after: nothing
    already_low = {**settling, "settling_from": 60}
    assert crossing("a", already_low, {**item, "balance": 50}) is None  # low before it: no new crossing
