"""Scheduled functions fired with ``credits-local trigger`` as of a chosen time, in a stack of a test template."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.conftest import Stack, start_stack, stop_stack

TEMPLATE = Path(__file__).parent / "scheduled" / "template.yaml"


@pytest.fixture(scope="module")
def scheduled(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    running = start_stack(
        tmp_path_factory.mktemp("scheduled"), "--template", str(TEMPLATE), "--parameter", "Greeting=hi"
    )
    yield running
    stop_stack(running)


def test_the_stack_lists_each_schedule(scheduled: Stack) -> None:
    lines = [line for line in scheduled.stdout_lines if line.startswith("schedule")]
    assert lines == [
        "schedule   ClockFunction cron(0 12 * * ? *)",
        "schedule   SchedulerFunction rate(1 hour)",
    ]


def test_trigger_fires_a_schedule_as_of_the_given_time(scheduled: Stack) -> None:
    done = scheduled.cli("trigger", "ClockFunction", "--time", "2027-11-22T00:00:00Z")
    assert json.loads(done.stdout) == {
        "now": "2027-11-22T00:00:00Z",
        "source": "aws.events",
        "detail_type": "Scheduled Event",
        "greeting": "hi",  # the parameter, overridden
        "self": "credits-local-clock",  # !Sub with the stack's name
        "function": "credits-local-ClockFunction",
    }


def test_trigger_fills_a_schedule_v2_input(scheduled: Stack) -> None:
    done = scheduled.cli("trigger", "SchedulerFunction", "--time", "2027-01-31T23:00:00+01:00")
    answer = json.loads(done.stdout)
    assert (answer["now"], answer["source"]) == ("2027-01-31T22:00:00Z", "scheduler")


def test_trigger_refuses_what_it_cannot_fire(scheduled: Stack) -> None:
    unscheduled = scheduled.cli("trigger", "UnscheduledFunction", check=False)
    assert unscheduled.returncode == 1
    assert "UnscheduledFunction has no Schedule or ScheduleV2 event" in unscheduled.stderr
    unknown = scheduled.cli("trigger", "NoSuchFunction", check=False)
    assert (unknown.returncode, "no function NoSuchFunction" in unknown.stderr) == (1, True)
    bad_time = scheduled.cli("trigger", "ClockFunction", "--time", "tomorrow", check=False)
    assert (bad_time.returncode, "not an ISO 8601 time" in bad_time.stderr) == (1, True)
