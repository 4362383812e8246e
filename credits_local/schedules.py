"""Schedule and ScheduleV2 events: rate() and cron() expressions firing scheduled functions.

A Schedule (EventBridge rule) delivers a "Scheduled Event" whose ``time`` is the scheduled time; scheduled
functions take "now" from it, so ``trigger`` can fire one as of any time. A ScheduleV2 (EventBridge
Scheduler) delivers its ``Input`` with <aws.scheduler.scheduled-time> and <aws.scheduler.execution-id>
filled in, or, without an ``Input``, the same scheduled event as a Schedule.
"""

from __future__ import annotations

import json
import re
import sys
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from cronsim import CronSim, CronSimError

from credits_local.authorizers import LOCAL_ACCOUNT_ID

_RATE = re.compile(r"^rate\(\s*(\d+)\s+(minute|minutes|hour|hours|day|days)\s*\)$")
_CRON = re.compile(r"^cron\((.+)\)$")
_UNITS = {"minute": 60, "hour": 3600, "day": 86400}


class ScheduleError(ValueError):
    """An expression the local stack cannot read."""


def parse_time(text: str) -> datetime:
    """An ISO 8601 time with its zone (2027-11-22T00:00:00Z), as UTC."""
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ScheduleError(f"not an ISO 8601 time: {text!r} (e.g. 2027-11-22T00:00:00Z)") from None
    if parsed.tzinfo is None:
        raise ScheduleError(f"the time needs a zone: {text!r} (e.g. 2027-11-22T00:00:00Z)")
    return parsed.astimezone(UTC)


def format_time(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _dow_to_cron(field: str) -> str:
    """AWS numbers weekdays 1-7 from Sunday; cron 0-6. Names are the same."""

    def shift(match: re.Match[str]) -> str:
        return str(int(match.group(0)) - 1)

    return re.sub(r"(?<![#\d])\d+", shift, field)


def _year_matches(field: str, year: int) -> bool:
    if field in ("*", "?"):
        return True
    for part in field.split(","):
        low, _, high = part.partition("-")
        if int(low) <= year <= int(high or low):
            return True
    return False


@dataclass(frozen=True)
class Expression:
    text: str
    period: timedelta | None = None  # rate()
    cron: str | None = None  # cron(), as a five-field expression
    years: str = "*"

    @classmethod
    def parse(cls, text: str) -> Expression:
        text = text.strip()
        if rate := _RATE.match(text):
            value, unit = int(rate.group(1)), rate.group(2).rstrip("s")
            if value < 1 or (value == 1) != (rate.group(2) == unit):
                raise ScheduleError(f"{text}: use rate(1 {unit}) or rate(N {unit}s) with N > 1")
            return cls(text, period=timedelta(seconds=value * _UNITS[unit]))
        if cron := _CRON.match(text):
            fields = cron.group(1).split()
            if len(fields) != 6:
                raise ScheduleError(f"{text}: cron() takes six fields: minutes hours day month weekday year")
            minutes, hours, day, month, weekday, years = fields
            five = " ".join(
                [minutes, hours, day.replace("?", "*"), month, _dow_to_cron(weekday.replace("?", "*"))]
            )
            try:
                CronSim(five, datetime(2000, 1, 1))
            except CronSimError as error:
                raise ScheduleError(f"{text}: {error}") from None
            return cls(text, cron=five, years=years)
        raise ScheduleError(f"{text}: not a rate() or cron() expression")

    def next_after(self, moment: datetime) -> datetime | None:
        """The first firing strictly after ``moment`` (rates count from ``moment``); None if none is left."""
        if self.period is not None:
            return moment + self.period
        assert self.cron is not None
        naive = moment.astimezone(UTC).replace(tzinfo=None)
        for candidate in CronSim(self.cron, naive):
            if candidate.year > naive.year + 200:
                return None
            if _year_matches(self.years, candidate.year):
                return candidate.replace(tzinfo=UTC)
        return None


@dataclass(frozen=True)
class Schedule:
    function: str
    event_name: str
    kind: str  # Schedule or ScheduleV2
    expression: Expression
    enabled: bool
    input: str | None
    rule_arn: str

    @classmethod
    def from_event(
        cls, function: str, event_name: str, kind: str, properties: dict[str, Any], region: str
    ) -> Schedule:
        enabled = (
            properties.get("Enabled", True) is not False and properties.get("State", "ENABLED") != "DISABLED"
        )
        name = properties.get("Name") or f"{function}-{event_name}"
        service = "events" if kind == "Schedule" else "scheduler"
        resource = "rule" if kind == "Schedule" else "schedule/default"
        return cls(
            function=function,
            event_name=event_name,
            kind=kind,
            expression=Expression.parse(
                properties["Schedule" if kind == "Schedule" else "ScheduleExpression"]
            ),
            enabled=enabled,
            input=properties.get("Input"),
            rule_arn=f"arn:aws:{service}:{region}:{LOCAL_ACCOUNT_ID}:{resource}/{name}",
        )

    def event(self, at: datetime) -> Any:
        """What the function receives for a firing scheduled at ``at``."""
        when = format_time(at)
        if self.input is not None:
            text = self.input
            if self.kind == "ScheduleV2":
                text = text.replace("<aws.scheduler.scheduled-time>", when)
                text = text.replace("<aws.scheduler.execution-id>", str(uuid.uuid4()))
                text = text.replace("<aws.scheduler.schedule-arn>", self.rule_arn)
            return json.loads(text)
        return {
            "version": "0",
            "id": str(uuid.uuid4()),
            "detail-type": "Scheduled Event",
            "source": "aws.events" if self.kind == "Schedule" else "aws.scheduler",
            "account": LOCAL_ACCOUNT_ID,
            "time": when,
            "region": self.rule_arn.split(":")[3],
            "resources": [self.rule_arn],
            "detail": {},
        }


class Scheduler(threading.Thread):
    """Fires each enabled schedule on its rate or cron, each firing on its own thread (an async invoke)."""

    def __init__(
        self,
        schedules: list[Schedule],
        invoke: Callable[[str, Any], Any],
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        super().__init__(name="scheduler", daemon=True)
        self.schedules, self.invoke, self.now = [s for s in schedules if s.enabled], invoke, now
        self.stopping = threading.Event()

    def fire(self, schedule: Schedule, at: datetime) -> Any:
        print(
            f"{schedule.function}: {schedule.kind} {schedule.expression.text} fired for {format_time(at)}",
            flush=True,
        )
        return self.invoke(schedule.function, schedule.event(at))

    def _fire_async(self, schedule: Schedule, at: datetime) -> None:
        def run() -> None:
            try:
                self.fire(schedule, at)
            except Exception as error:
                print(
                    f"{schedule.function}: scheduled invocation failed: {error}", file=sys.stderr, flush=True
                )

        threading.Thread(target=run, name=f"schedule-{schedule.function}", daemon=True).start()

    def run(self) -> None:
        start = self.now()
        due = {s: s.expression.next_after(start) for s in self.schedules}
        while not self.stopping.is_set():
            pending = {s: t for s, t in due.items() if t is not None}
            if not pending:
                return
            schedule, at = min(pending.items(), key=lambda item: item[1])
            wait = (at - self.now()).total_seconds()
            if wait > 0:
                self.stopping.wait(min(wait, 60))
                continue
            self._fire_async(schedule, at)
            due[schedule] = schedule.expression.next_after(at)

    def stop(self) -> None:
        self.stopping.set()
