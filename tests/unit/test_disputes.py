"""The dispute rules: what each piece of Stripe's news does to a purchase's record of one dispute, delivered in
any order and any number of times."""

from dataclasses import dataclass

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ledger.domain.disputes import is_restored, on_news

OPEN = ["warning_needs_response", "warning_under_review", "needs_response", "under_review"]
WON = ["won", "warning_closed"]
OTHER_CLOSED = ["lost", "charge_refunded", "prevented"]

news = st.one_of(
    st.tuples(st.just("created"), st.sampled_from([None, *OPEN])),
    st.tuples(st.just("closed"), st.sampled_from(WON + OTHER_CLOSED + OPEN)),
)


@pytest.mark.parametrize(
    ("recorded", "kind", "status", "action", "told"),
    [
        (None, "created", None, "claw_back", "needs_response"),  # news without a status: a new dispute
        (None, "created", "warning_needs_response", "claw_back", "warning_needs_response"),
        (None, "closed", "lost", "claw_back", "lost"),  # first heard of as lost: taken all the same
        (None, "closed", "won", "record_won", "won"),  # first heard of as won: nothing was ever taken
        (None, "closed", "warning_closed", "record_won", "warning_closed"),
        ("needs_response", "closed", "won", "restore", "won"),
        ("warning_under_review", "closed", "warning_closed", "restore", "warning_closed"),
        ("needs_response", "created", None, "nothing", "needs_response"),  # a repeat
        ("needs_response", "closed", "lost", "nothing", "lost"),  # the credits stay taken
        ("lost", "closed", "won", "nothing", "won"),  # lost is final
        ("won", "closed", "won", "nothing", "won"),
        ("won", "created", "needs_response", "nothing", "needs_response"),  # late news of the opening
        (None, "created", "prevented", "claw_back", "prevented"),  # stopped by a refund before a chargeback
        ("prevented", "closed", "won", "nothing", "won"),  # final, as lost is
        ("charge_refunded", "closed", "won", "nothing", "won"),
        (None, "created", "a_status_stripe_adds", "claw_back", "a_status_stripe_adds"),  # taken, as if open
        ("a_status_stripe_adds", "closed", "won", "restore", "won"),  # so a win gives it back
    ],
)
def test_each_piece_of_news_does_what_the_rules_say(
    recorded: str | None, kind: str, status: str | None, action: str, told: str
) -> None:
    step = on_news(recorded, kind, status)  # type: ignore[arg-type]
    assert (step.action, step.status) == (action, told)


def test_only_a_win_restores() -> None:
    assert all(is_restored(s) for s in WON)
    assert not any(is_restored(s) for s in [*OPEN, *OTHER_CLOSED, None])


@dataclass
class Record:
    """The purchase's record of the dispute, kept as the webhook handler keeps it."""

    status: str | None = None
    taken: int = 0
    clawbacks: int = 0
    restores: int = 0

    def hear(self, kind: str, status: str | None, credits: int) -> str:
        step = on_news(self.status, kind, status)  # type: ignore[arg-type]
        if step.action == "claw_back":
            self.status, self.taken, self.clawbacks = step.status, credits, self.clawbacks + 1
        elif step.action == "record_won":
            self.status = step.status
        elif step.action == "restore":
            self.status, self.taken, self.restores = step.status, 0, self.restores + 1
        return step.action


@given(st.lists(news, min_size=1, max_size=8), st.integers(min_value=1, max_value=10_000))
def test_credits_are_taken_at_most_once_and_given_back_at_most_once(
    history: list[tuple[str, str | None]], credits: int
) -> None:
    record = Record()
    for kind, status in history:
        record.hear(kind, status, credits)
    assert record.clawbacks <= 1 and record.restores <= record.clawbacks
    assert record.taken in (0, credits)
    assert record.taken == credits * (record.clawbacks - record.restores)


@given(st.lists(news, min_size=1, max_size=8), st.integers(min_value=1, max_value=10_000))
def test_the_same_news_twice_in_a_row_is_heard_once(
    history: list[tuple[str, str | None]], credits: int
) -> None:
    record = Record()
    for kind, status in history:
        record.hear(kind, status, credits)
        before = (record.status, record.taken)
        assert record.hear(kind, status, credits) == "nothing"
        assert (record.status, record.taken) == before


@given(st.lists(news, max_size=8), st.sampled_from(WON), st.integers(min_value=1, max_value=10_000))
def test_a_dispute_first_heard_of_as_won_never_costs_credits(
    later: list[tuple[str, str | None]], won: str, credits: int
) -> None:
    record = Record()
    assert record.hear("closed", won, credits) == "record_won"
    for kind, status in later:
        record.hear(kind, status, credits)
    assert record.taken == 0 and record.clawbacks == 0


@given(
    st.sampled_from([None, *OPEN]),
    st.lists(st.tuples(st.just("created"), st.sampled_from([None, *OPEN])), max_size=4),
    st.sampled_from(WON),
    st.integers(min_value=1, max_value=10_000),
)
def test_an_opened_dispute_won_gives_back_exactly_what_it_took(
    opened: str | None, repeats: list[tuple[str, str | None]], won: str, credits: int
) -> None:
    record = Record()
    assert record.hear("created", opened, credits) == "claw_back"
    assert record.taken == credits
    for kind, status in repeats:
        assert record.hear(kind, status, credits) == "nothing"
    assert record.hear("closed", won, credits) == "restore"
    assert (record.taken, record.status) == (0, won)
