"""The burn order and settlement by segments, on hand-picked cases."""

from __future__ import annotations

from ledger.domain.grants import DEFAULT_PRIORITY, NEVER, Grant, burn, burn_key, next_expiry, settle


def grant(
    id: str,
    remaining: int = 100,
    *,
    source: str = "purchase",
    priority: int = DEFAULT_PRIORITY,
    created_at: int = 1,
    expires_at: int | None = None,
    base: int = 0,
    arrival: int = 0,
) -> Grant:
    return Grant(
        id=id,
        amount=remaining,
        remaining=remaining,
        source=source,
        priority=priority,
        created_at=created_at,
        expires_at=expires_at,
        base=base,
        arrival=arrival,
    )


def order(*grants: Grant) -> list[str]:
    return [g.id for g in sorted(grants, key=burn_key)]


def remaining(grants: list[Grant]) -> dict[str, int]:
    return {g.id: g.remaining for g in grants}


# burn_key: one rule at a time, every other field equal or pulling the other way


def test_lower_priority_number_burns_first_whatever_else() -> None:
    first = grant("z", priority=0, source="purchase", created_at=9_000)
    later = grant("a", priority=1, source="promotional", created_at=1_000, expires_at=10)
    assert order(later, first) == ["z", "a"]


def test_soonest_expiry_burns_first_within_a_priority() -> None:
    soon = grant("z", expires_at=100, source="purchase", created_at=9_000)
    late = grant("a", expires_at=200, source="promotional", created_at=1_000)
    assert order(late, soon) == ["z", "a"]


def test_never_expiring_grants_burn_last() -> None:
    never = grant("a", expires_at=None, source="promotional", created_at=1)
    far = grant("z", expires_at=NEVER - 1, source="purchase", created_at=9_000)
    assert order(never, far) == ["z", "a"]


def test_promotional_and_subscription_burn_before_purchased_credits() -> None:
    purchased = [
        grant("a1", source="purchase", created_at=1),
        grant("a2", source="adjustment", created_at=2),
        grant("a3", source="auto_top_up", created_at=3),
    ]
    free = [
        grant("z1", source="promotional", created_at=9_000),
        grant("z2", source="subscription", created_at=9_001),
    ]
    assert order(*purchased, *free) == ["z1", "z2", "a1", "a2", "a3"]


def test_promotional_and_subscription_rank_equal_then_oldest_first() -> None:
    assert order(
        grant("a", source="promotional", created_at=2), grant("z", source="subscription", created_at=1)
    ) == [
        "z",
        "a",
    ]
    assert order(
        grant("a", source="purchase", created_at=2), grant("z", source="adjustment", created_at=1)
    ) == [
        "z",
        "a",
    ]


def test_oldest_first_then_id() -> None:
    assert order(grant("a", created_at=2_000), grant("z", created_at=1_000)) == ["z", "a"]
    assert order(grant("b", created_at=1_000), grant("a", created_at=1_000)) == ["a", "b"]


def test_the_whole_order_on_a_mixed_wallet() -> None:
    wallet = [
        grant("paid-old", source="purchase", created_at=1),
        grant("paid-new", source="purchase", created_at=2),
        grant("promo", source="promotional", created_at=3),
        grant("expiring-late", source="purchase", expires_at=500, created_at=4),
        grant("expiring-soon", source="purchase", expires_at=100, created_at=5),
        grant("expiring-soon-promo", source="promotional", expires_at=100, created_at=6),
        grant("vip", source="purchase", priority=0, created_at=7),
    ]
    assert order(*wallet) == [
        "vip",
        "expiring-soon-promo",
        "expiring-soon",
        "expiring-late",
        "promo",
        "paid-old",
        "paid-new",
    ]


# burn


def test_burn_partial_takes_from_the_first_grant_only() -> None:
    grants = [grant("b", 50, created_at=2), grant("a", 50, created_at=1)]
    after, left = burn(grants, 30)
    assert left == 0
    assert remaining(after) == {"a": 20, "b": 50}
    assert [g.id for g in after] == ["b", "a"]  # the list keeps its order; only remainders change


def test_burn_across_grants_and_exactly_everything() -> None:
    grants = [grant("a", 50, created_at=1), grant("b", 50, created_at=2)]
    after, left = burn(grants, 70)
    assert (remaining(after), left) == ({"a": 0, "b": 30}, 0)
    after, left = burn(grants, 100)
    assert (remaining(after), left) == ({"a": 0, "b": 0}, 0)


def test_burn_beyond_everything_returns_the_shortfall() -> None:
    after, left = burn([grant("a", 50), grant("b", 20, created_at=2)], 100)
    assert (remaining(after), left) == ({"a": 0, "b": 0}, 30)
    assert burn([], 7) == ([], 7)


def test_burn_of_zero_changes_nothing() -> None:
    grants = [grant("a", 50)]
    assert burn(grants, 0) == (grants, 0)


def test_burn_is_additive() -> None:
    grants = [grant("a", 10, priority=1), grant("b", 25, expires_at=9), grant("c", 40, source="promotional")]
    once, left_once = burn(grants, 50)
    first, _ = burn(grants, 20)
    twice, left_twice = burn(first, 30)
    assert (remaining(once), left_once) == (remaining(twice), left_twice)


# settle


def test_settle_burns_each_segment_from_the_grants_present_when_it_began() -> None:
    # a (priority 1) arrives first; 30 consumed; b (priority 0, burns first) arrives; 30 more consumed
    a = grant("a", 100, priority=1, base=0)
    b = grant("b", 100, priority=0, base=30)
    settled = settle([a, b], 60)
    assert remaining(settled.grants) == {"a": 70, "b": 70}
    assert settled.debt == 0
    assert all(g.base == 0 for g in settled.grants)


def test_settle_without_grants_is_all_debt() -> None:
    assert settle([], 0).debt == 0
    assert settle([], 25).debt == 25


def test_settle_drops_exhausted_grants() -> None:
    settled = settle([grant("a", 40, created_at=1), grant("b", 60, created_at=2)], 40)
    assert remaining(settled.grants) == {"b": 60}
    settled = settle([grant("a", 40, created_at=1), grant("b", 60, created_at=2)], 100)
    assert (settled.grants, settled.debt) == ([], 0)


def test_overdraft_is_carried_and_paid_by_the_next_grant() -> None:
    # 50 credits, 80 consumed (30 on overdraft), then a grant of 100 and 10 more consumed
    a = grant("a", 50, base=0)
    b = grant("b", 100, base=80, created_at=2)
    settled = settle([a, b], 90)
    assert remaining(settled.grants) == {"b": 60}
    assert settled.debt == 0


def test_overdraft_is_paid_by_a_grant_arriving_after_the_last_consumption() -> None:
    a = grant("a", 50, base=0)
    b = grant("b", 100, base=80, created_at=2)
    settled = settle([a, b], 80)
    assert (remaining(settled.grants), settled.debt) == ({"b": 70}, 0)


def test_overdraft_larger_than_the_next_grant_stays_debt() -> None:
    a = grant("a", 50, base=0)
    b = grant("b", 20, base=80, created_at=2)
    settled = settle([a, b], 85)
    assert (settled.grants, settled.debt) == ([], 15)


def test_debt_is_repaid_in_arrival_order_not_burn_order() -> None:
    # 30 on overdraft; then b (priority 3) arrives before c (priority 0, which burns first)
    a = grant("a", 50, base=0)
    b = grant("b", 100, priority=3, base=80, arrival=2)
    c = grant("c", 100, priority=0, base=80, arrival=3)
    settled = settle([c, a, b], 80)
    assert (remaining(settled.grants), settled.debt) == ({"b": 70, "c": 100}, 0)
    settled = settle([c, a, b], 90)  # consumption after the repayment burns in burn order again
    assert (remaining(settled.grants), settled.debt) == ({"b": 70, "c": 90}, 0)


def test_debt_left_by_an_earlier_settlement_is_paid_first() -> None:
    # after a settlement left 15 of debt, ``unsettled`` restarts at 15 and a new grant's base is 15
    settled = settle([grant("c", 40, base=15)], 25)
    assert (remaining(settled.grants), settled.debt) == ({"c": 15}, 0)


def test_segments_respect_burn_order_within_each() -> None:
    promo = grant("promo", 30, source="promotional", created_at=1, base=0)
    paid = grant("paid", 100, source="purchase", created_at=1, base=0)
    soon = grant("soon", 20, source="purchase", expires_at=50, created_at=2, base=10)
    # [0, 10): promo first; [10, 60): soon (expires) before promo before paid
    settled = settle([promo, paid, soon], 60)
    assert remaining(settled.grants) == {"paid": 90}


def test_next_expiry() -> None:
    assert next_expiry([]) is None
    assert next_expiry([grant("a"), grant("b", expires_at=30), grant("c", expires_at=20)]) == 20
