"""What refunds and disputes take back from a purchase, and what a dispute won gives back: never more than the
purchase gave, and once every dispute is won, exactly what the refunds paid back (pro rata)."""

from dataclasses import replace

from hypothesis import given
from hypothesis import strategies as st

from ledger.domain.purchase import Purchase

CREDITS, AMOUNT = 1000, 2000


def paid() -> Purchase:
    return Purchase("pur_1", "acme", CREDITS, AMOUNT, "usd", "payment_intent", "2026-12-01", paid=True)


def refund(p: Purchase, refunded: int) -> Purchase:
    """As the webhook records ``charge.refunded`` (``refunded``: the cumulative amount)."""
    if refunded <= p.refunded_amount:
        return p
    taken = p.refund_clawback(refunded)
    return replace(p, refunded_amount=refunded, clawed_back=p.clawed_back + taken)


def dispute(p: Purchase, dispute_id: str, amount: int, status: str = "needs_response") -> Purchase:
    """As the webhook records the first news of a dispute not won."""
    if dispute_id in p.disputes:
        return p
    taken = p.dispute_clawback(amount)
    disputes = {**p.disputes, dispute_id: {"status": status, "credits": taken}}
    return replace(p, disputes=disputes, clawed_back=p.clawed_back + taken)


def win(p: Purchase, dispute_id: str, status: str = "won") -> Purchase:
    """As the webhook records a dispute closed in the account's favour."""
    record = p.disputes.get(dispute_id)
    if record is None or record["status"] in ("won", "warning_closed", "lost"):
        return p
    given_back = p.dispute_restore(dispute_id)
    disputes = {**p.disputes, dispute_id: {**record, "status": status, "restored": given_back}}
    return replace(p, disputes=disputes, clawed_back=p.clawed_back - given_back)


def test_a_full_refund_during_an_inquiry_keeps_the_credits_taken_when_the_inquiry_closes() -> None:
    p = dispute(paid(), "dp_1", AMOUNT, "warning_needs_response")
    assert p.clawed_back == CREDITS
    p = refund(p, AMOUNT)
    assert p.clawed_back == CREDITS  # the inquiry had taken them already
    assert p.dispute_restore("dp_1") == 0
    assert win(p, "dp_1", "warning_closed").clawed_back == CREDITS


def test_a_partial_refund_during_an_inquiry_keeps_its_share_taken() -> None:
    p = refund(dispute(paid(), "dp_1", AMOUNT, "warning_needs_response"), AMOUNT // 2)
    assert p.dispute_restore("dp_1") == CREDITS // 2
    assert win(p, "dp_1", "warning_closed").clawed_back == CREDITS // 2


def test_a_dispute_won_gives_back_what_it_took_when_nothing_was_refunded() -> None:
    p = dispute(paid(), "dp_1", 900)
    assert p.clawed_back == 450
    assert win(p, "dp_1").clawed_back == 0


def test_a_win_gives_back_only_what_another_open_dispute_does_not_hold() -> None:
    p = dispute(dispute(paid(), "dp_1", AMOUNT), "dp_2", AMOUNT)  # the second finds nothing left to take
    assert (p.disputes["dp_1"]["credits"], p.disputes["dp_2"]["credits"]) == (CREDITS, 0)
    assert p.dispute_restore("dp_1") == CREDITS  # the second took nothing, so holds nothing


steps = st.lists(
    st.one_of(
        st.tuples(st.just("refund"), st.integers(min_value=1, max_value=AMOUNT)),
        st.tuples(st.just("dispute"), st.sampled_from(["dp_1", "dp_2"]), st.integers(0, AMOUNT)),
        st.tuples(st.just("win"), st.sampled_from(["dp_1", "dp_2"])),
    ),
    max_size=12,
)


@given(steps)
def test_clawbacks_stay_within_the_purchase_and_settle_to_the_refunds_once_disputes_are_won(
    history: list[tuple],
) -> None:
    p = paid()
    refunded = 0
    for step in history:
        if step[0] == "refund":
            refunded = max(refunded, step[1])
            p = refund(p, refunded)
        elif step[0] == "dispute":
            p = dispute(p, step[1], step[2])
        else:
            p = win(p, step[1])
        assert 0 <= p.clawed_back <= CREDITS
    for dispute_id in list(p.disputes):
        p = win(p, dispute_id)
    assert p.clawed_back == p.credits_for(p.refunded_amount)
