"""rate() and cron() as EventBridge reads them, and the events scheduled functions receive."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from credits_local.schedules import Expression, Schedule, ScheduleError, parse_time


def at(text: str) -> datetime:
    return parse_time(text)


@pytest.mark.parametrize(
    ("expression", "after", "expected"),
    [
        ("rate(1 hour)", "2026-11-21T10:15:00Z", "2026-11-21T11:15:00Z"),
        ("rate(5 minutes)", "2026-11-21T10:15:00Z", "2026-11-21T10:20:00Z"),
        ("rate(2 days)", "2026-11-21T10:15:00Z", "2026-11-23T10:15:00Z"),
        ("cron(0 12 * * ? *)", "2026-11-21T13:00:00Z", "2026-11-22T12:00:00Z"),
        ("cron(0 12 * * ? *)", "2026-11-21T11:59:00Z", "2026-11-21T12:00:00Z"),
        ("cron(0/15 * * * ? *)", "2026-11-21T10:16:00Z", "2026-11-21T10:30:00Z"),
        # weekdays count from Sunday = 1 in EventBridge: 2 is Monday (2026-11-21 is a Saturday)
        ("cron(0 9 ? * 2 *)", "2026-11-21T00:00:00Z", "2026-11-23T09:00:00Z"),
        ("cron(0 9 ? * MON-FRI *)", "2026-11-21T00:00:00Z", "2026-11-23T09:00:00Z"),
        ("cron(0 9 ? * 1 *)", "2026-11-21T00:00:00Z", "2026-11-22T09:00:00Z"),
        ("cron(0 0 L * ? *)", "2026-11-21T00:00:00Z", "2026-11-30T00:00:00Z"),
        ("cron(0 0 1 1 ? 2030)", "2026-11-21T00:00:00Z", "2030-01-01T00:00:00Z"),
    ],
)
def test_next_firing(expression: str, after: str, expected: str) -> None:
    assert Expression.parse(expression).next_after(at(after)) == at(expected)


def test_a_cron_whose_years_are_past_never_fires_again() -> None:
    assert Expression.parse("cron(0 0 1 1 ? 2020)").next_after(at("2026-11-21T00:00:00Z")) is None


@pytest.mark.parametrize(
    "expression",
    [
        "rate(1 hours)",
        "rate(2 hour)",
        "rate(0 minutes)",
        "every hour",
        "cron(0 12 * * ?)",
        "cron(0 25 * * ? *)",
    ],
)
def test_unreadable_expressions_are_refused(expression: str) -> None:
    with pytest.raises(ScheduleError):
        Expression.parse(expression)


def test_a_schedule_event_carries_the_scheduled_time() -> None:
    schedule = Schedule.from_event(
        "SweepFunction", "Hourly", "Schedule", {"Schedule": "rate(1 hour)"}, "us-east-1"
    )
    event = schedule.event(datetime(2027, 11, 22, tzinfo=UTC))
    assert (event["time"], event["detail-type"], event["source"]) == (
        "2027-11-22T00:00:00Z",
        "Scheduled Event",
        "aws.events",
    )
    assert event["resources"] == ["arn:aws:events:us-east-1:123456789012:rule/SweepFunction-Hourly"]


def test_a_schedule_v2_input_gets_the_scheduled_time() -> None:
    properties = {"ScheduleExpression": "rate(1 hour)", "Input": '{"at": "<aws.scheduler.scheduled-time>"}'}
    schedule = Schedule.from_event("F", "E", "ScheduleV2", properties, "us-east-1")
    assert schedule.event(at("2027-11-22T01:02:03Z")) == {"at": "2027-11-22T01:02:03Z"}


def test_disabled_schedules_are_known_but_do_not_run() -> None:
    disabled = Schedule.from_event(
        "F", "E", "Schedule", {"Schedule": "rate(1 hour)", "Enabled": False}, "us-east-1"
    )
    assert not disabled.enabled


@pytest.mark.parametrize("text", ["2027-11-22", "tomorrow", "2027-11-22T00:00:00"])
def test_times_need_a_date_a_time_and_a_zone(text: str) -> None:
    with pytest.raises(ScheduleError):
        parse_time(text)
