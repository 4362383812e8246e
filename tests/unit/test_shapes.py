"""``ledger.shapes`` answers every request as pydantic would: the functions validate with shapes, the OpenAPI
document (and these tests) with the pydantic models ``ledger.api.documented`` makes of the same dataclasses.

For JSON input (what ``json.loads`` gives: dicts, lists, strings, ints, floats, booleans and None), held to
``pydantic.TypeAdapter(documented(hint)).validate_python``:

- every request body (each dataclass ``Request`` of the API's model modules, and each route's body hint);
- every query parameter a function declares (``Annotated[T, Query(...)]``), fed strings, as the query string
  gives them.

Both accept or both refuse. When both accept, the values are equal: the dataclass's ``asdict`` and the model's
``model_dump()``, URLs as their text, datetimes with their UTC offset, every scalar of the same type. When both
refuse, the errors are the same list of (type, loc, msg), with one intended difference: a date or datetime that
cannot be read is refused without pydantic's reason ("Input should be a valid datetime or date", not "...,
month value is outside expected range of 1-12"). So for error types starting with ``datetime_`` or ``date_``
only the location and the family (both ``datetime_...`` or both ``date_...``) must match, not the message.

The inputs are values near the rules (integers at and beyond their bounds, strings at their length limits and
one over, strings that match a pattern or almost, with a final newline among them, literals and near misses,
metadata with too many or too long keys, batches of 0, 1, the most and one more events, dates and datetimes in
many ISO 8601 forms and as Unix timestamps, URLs good and bad) mixed with arbitrary JSON values.
"""

from __future__ import annotations

import dataclasses
import functools
import importlib
import json
import pkgutil
import re
import types
import typing
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone, tzinfo
from pathlib import Path
from typing import Annotated, Any, Literal, NamedTuple

import pydantic
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import ledger.api
from credits_local.template import ROOT
from devkit.lambdas import function_module
from ledger import shapes
from ledger.api.balance_models import BalanceAtOut
from ledger.api.documented import documented, model_of
from ledger.api.grant_models import GrantIn
from ledger.api.history_models import UsageDayOut, UsageOut
from ledger.api.models import DebitIn
from ledger.api.purchase_models import PurchaseIn
from ledger.api.router import Router, _Param
from ledger.api.top_up_models import TopUpSettingsIn
from ledger.api.usage_batch_models import UsageBatchIn
from ledger.usecases.debit_many import MAX_EVENTS

Problem = tuple[str, tuple[str | int, ...], str]


class Answer(NamedTuple):
    """What one validator made of a value: the value it gave (as plain data), or its errors."""

    accepted: bool
    value: Any
    problems: tuple[Problem, ...]


# --- what is compared -----------------------------------------------------------------------------------------


def plain(value: Any) -> Any:
    """A validated value as data that compares exactly: bodies as dicts, URLs as text, datetimes with their
    offset, and every scalar with its type (so 1, 1.0 and True differ)."""
    if isinstance(value, pydantic.BaseModel):
        value = value.model_dump()
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        value = dataclasses.asdict(value)
    if isinstance(value, dict):
        return {key: plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [plain(item) for item in value]
    if isinstance(value, pydantic.AnyUrl):
        return ("str", str(value))
    if isinstance(value, datetime):
        return ("datetime", value.replace(tzinfo=None), value.utcoffset())
    return (type(value).__name__, value)


def shapes_answer(hint: Any, value: Any) -> Answer:
    try:
        checked = shapes.validate(hint, value)
    except shapes.Invalid as invalid:
        return Answer(False, None, tuple((p["type"], tuple(p["loc"]), p["msg"]) for p in invalid.problems))
    return Answer(True, plain(checked), ())


_ADAPTERS: dict[Any, pydantic.TypeAdapter[Any]] = {}


def pydantic_answer(hint: Any, value: Any) -> Answer:
    if hint not in _ADAPTERS:
        _ADAPTERS[hint] = pydantic.TypeAdapter(documented(hint))
    try:
        checked = _ADAPTERS[hint].validate_python(value)
    except pydantic.ValidationError as invalid:
        errors = invalid.errors(include_url=False)
        return Answer(False, None, tuple((e["type"], tuple(e["loc"]), e["msg"]) for e in errors))
    return Answer(True, plain(checked), ())


def same_problem(mine: Problem, theirs: Problem) -> bool:
    """Equal, or the same ``*_parsing`` problem at the same place: for a date or datetime that cannot be read,
    shapes leaves out pydantic's reason."""
    if mine == theirs:
        return True
    return mine[0] == theirs[0] and mine[0].endswith("_parsing") and mine[1] == theirs[1]


def differs(mine: Answer, theirs: Answer) -> bool:
    if mine.accepted != theirs.accepted:
        return True
    if mine.accepted:
        return bool(mine.value != theirs.value)
    return len(mine.problems) != len(theirs.problems) or not all(
        same_problem(m, t) for m, t in zip(mine.problems, theirs.problems, strict=True)
    )


_DECIMAL = re.compile(r"[+-]?(?=\.?[0-9])[0-9]*\.[0-9]*(?:[eE][+-]?[0-9]+)?")


def misread_by_pydantic(text: str) -> bool:
    """The timestamps pydantic reads wrongly, which shapes reads as what they say: digits of 2**64 or more (pydantic
    wraps them modulo 2**64: "18446744073709551616" is 1970-01-01), and milliseconds written with a point (it
    divides them by 1000 twice: "20000000001000.0" is 1970-08-20); and a year 0, which Python's datetime cannot
    hold (both refuse it, pydantic as a date without a zone, shapes as a date it cannot read)."""
    if re.fullmatch(r"[+-]?[0-9]+", text):
        return abs(int(text)) >= 2**64
    if _DECIMAL.fullmatch(text):
        return abs(float(text)) > 20_000_000_000
    return text.startswith("0000-")


def holds_misread_text(value: Any) -> bool:
    if isinstance(value, str):
        return misread_by_pydantic(value)
    if isinstance(value, dict):
        return any(holds_misread_text(v) for v in value.values())
    if isinstance(value, list):
        return any(holds_misread_text(v) for v in value)
    return False


def assert_answers_as_pydantic(hint: Any, value: Any) -> Answer:
    """shapes' answer for ``value``, after checking that pydantic gives the same one."""
    mine, theirs = shapes_answer(hint, value), pydantic_answer(hint, value)
    if holds_misread_text(value):
        return mine
    assert not differs(mine, theirs), f"{hint!r} given {value!r}:\n shapes:   {mine}\n pydantic: {theirs}"
    return mine


# --- what is validated ----------------------------------------------------------------------------------------

# every module of bodies: ledger/api/models.py and its <topic>_models.py siblings
MODEL_MODULES = [
    importlib.import_module(f"ledger.api.{found.name}")
    for found in pkgutil.iter_modules(ledger.api.__path__)
    if found.name == "models" or found.name.endswith("_models")
]


def request_bodies() -> list[type]:
    return sorted(
        (
            found
            for module in MODEL_MODULES
            for found in vars(module).values()
            if isinstance(found, type)
            and issubclass(found, shapes.Request)
            and dataclasses.is_dataclass(found)
            and found.__module__ == module.__name__
        ),
        key=lambda cls: cls.__name__,
    )


def route_parameters() -> list[tuple[str, _Param]]:
    """Every function's route parameters other than its path: (``function METHOD path``, parameter)."""
    found = []
    for path in sorted((Path(ROOT) / "functions").glob("*/app.py")):
        app = getattr(function_module(path.parent.name), "app", None)
        if not isinstance(app, Router):
            continue
        for route in app.routes:
            for param in route.params():
                if param.where != "path":
                    found.append((f"{path.parent.name} {route.method} {route.path}", param))
    return found


BODIES = request_bodies()
PARAMETERS = route_parameters()
QUERIES = [(f"{where} ?{param.key}", param.hint) for where, param in PARAMETERS if param.where == "query"]
# a route's body hint that is not a bare request body (``CaptureIn | None``)
ROUTE_BODIES = [
    (f"{where} body", param.hint)
    for where, param in PARAMETERS
    if param.where == "body" and param.hint not in BODIES
]


def test_the_request_bodies_are_found_in_the_model_modules() -> None:
    names = {cls.__name__ for cls in BODIES}
    assert {"DebitIn", "GrantIn", "PurchaseIn", "TopUpSettingsIn", "UsageBatchIn"} <= names
    assert {DebitIn, GrantIn, PurchaseIn, TopUpSettingsIn, UsageBatchIn} <= set(BODIES)
    routes = {param.hint for _, param in PARAMETERS if param.where == "body"}
    assert routes - set(BODIES) == {hint for _, hint in ROUTE_BODIES}


def test_the_query_parameters_are_found_in_the_functions() -> None:
    keys = {where.split("?")[1] for where, _ in QUERIES}
    assert {"limit", "cursor", "type", "format", "from", "to", "at"} <= keys


# --- strategies -----------------------------------------------------------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=10,
)

INTEGER_TEXT = [
    " 5",
    "+5",
    "-5",
    "5.0",
    "5.",
    ".5",
    "5.00",
    "1_000",
    "1__0",
    "_5",
    "5_",
    "0x10",
    "1e3",
    "",
    "\n5",
]
INTEGER_TEXT += [
    "5\n",
    "\t5 ",
    "\x855",
    "\u30005",
    "5\u2028",
    "\x1c5",
    "\u200b5",
    "\xa05",
    "\u20005",
    "\u0665",
    "\uff15",
    "-0",
    "00005",
    "9" * 20,
    "5 5",
    "+-5",
    "5.5",
    "-",
]
MOMENT_TEXT = [
    "2026-12-01",
    "2026-12-01T00:00:00Z",
    "1700000000",
    "2026-12-01T10:00:00+01:00",
    "soon",
    "2026-13-01",
    "2026-02-30T00:00:00Z",
    "2026-12-01T10:00:00+01:60",
    "2026-12-01T10:00:00.123456789Z",
    "2026-12-01T10:00:00,5z",
    "2026-12-01 10:00Z",
    "2026-12-01t10:00:00-0130",
    "2026-12-01_10:00:00+00:00",
    "2026-12-01T10:00:00-00:00",
    "1700000000.",
    ".5",
    "-.5",
    "1.5e9",
    "1.7645472e9",
    "2026-12-01T10:00:00\u221201:00",
    "2026-12-01T00:00:00+00:60",
    "0000-01-01",
    "1700000000.5",
    "-1",
    "+1700000000",
    "1_700_000_000",
    "1e9",
    "20000000000",
    "20000000001",
    "1700000000000",
    "99999999999999999",
    "\u0661\u0667" + "\u0660" * 8,
    "\uff12\uff10\uff12\uff16-\uff11\uff12-\uff10\uff11",
    "2026-12-01T10:00:00\n",
    "2026-12-01\n",
    " 2026-12-01",
    "0000-01-01T00:00:00Z",
    "9999-12-31T23:59:59-01:00",
    "0001-01-01T00:00:00+01:00",
    "1764547200",
    "2026-12-01T00:00:00+01:00",
    "2026-12-01T00:00:00.000Z",
    "2026-12-01T00:00",
    "2026-12-01T",
    "nan",
    "inf",
]
TRICKY_TEXT = list(
    dict.fromkeys([*INTEGER_TEXT, *MOMENT_TEXT, "null", "true", "None", "\ud800", "a\x00b", "\u0301", "🙂"])
)
URLS = [
    "https://example.com",
    "http://localhost:3000/return?x=1#done",
    "https://example.com/" + "a" * (2083 - 20),
    "https://example.com/" + "a" * (2083 - 19),
    "HTTPS://EXAMPLE.COM/Path",
    "https://例え.jp/パス",
    "https://user:pass@127.0.0.1:8443/a b",
    "https://[::1]/",
    "https://exa mple.com",
    "https://",
    "https:/example.com",
    "ftp://example.com",
    "javascript:alert(1)",
    "example.com",
    "//example.com",
    "https://example.com:99999",
    "",
    " https://example.com",
    "https://example.com\n",
]


def _bounded(low: int | None, high: int | None) -> st.SearchStrategy[int]:
    edges = [0, -1, 1, 2**63 - 1, 2**63, -(2**63), -(2**63) - 1, 2**64]
    edges += [bound + step for bound in (low, high) if bound is not None for step in (-1, 0, 1)]
    return st.sampled_from(edges) | st.integers() | st.integers(min_value=low, max_value=high)


def integers(rules: dict[str, Any]) -> st.SearchStrategy[Any]:
    numbers = _bounded(rules.get("ge"), rules.get("le"))
    return st.one_of(
        numbers,
        numbers.map(float),
        numbers.map(lambda n: n + 0.5),
        numbers.map(str),
        numbers.map(lambda n: f"{n}.0"),
        st.sampled_from(INTEGER_TEXT),
        st.booleans(),
        st.floats(allow_nan=False),
    )


def strings(rules: dict[str, Any]) -> st.SearchStrategy[Any]:
    shortest, longest, pattern = rules.get("min_length"), rules.get("max_length"), rules.get("pattern")
    options: list[st.SearchStrategy[Any]] = [st.text(max_size=20), st.sampled_from(TRICKY_TEXT)]
    for size in (shortest, longest):
        if size is not None:
            options += [st.text(min_size=n, max_size=n) for n in (size - 1, size, size + 1) if n >= 0]
    if pattern:
        matching = st.from_regex(pattern, fullmatch=True)
        options += [
            matching,
            matching,
            matching.map(lambda s: s + "\n"),
            matching.map(lambda s: "\n" + s),
            matching.map(lambda s: s + " "),
            matching.map(lambda s: s.upper()),
            st.tuples(matching, st.characters()).map(lambda t: t[0][:-1] + t[1]),
        ]
    return st.one_of(options)


def literals(allowed: tuple[Any, ...]) -> st.SearchStrategy[Any]:
    texts = [a for a in allowed if isinstance(a, str)]
    near = [f(a) for a in texts for f in (str.upper, str.title, lambda s: s + "\n", lambda s: " " + s)]
    near += [a[:-1] for a in texts] + [a + "s" for a in texts]
    return st.sampled_from(allowed) | st.sampled_from(near or [""]) | st.sampled_from([True, 1, 1.0, "true"])


def _iso(
    year: str, month: int, day: int, time: tuple[str, int, int, int | None, str | None] | None, zone: str
) -> str:
    text = f"{year}-{month:02d}-{day:02d}"
    if time is not None:
        separator, hour, minute, second, fraction = time
        text += f"{separator}{hour:02d}:{minute:02d}"
        if second is not None:
            text += f":{second:02d}" + ("" if fraction is None else fraction)
    return text + zone


_zones = st.one_of(
    st.sampled_from(
        ["", "", "Z", "z", "+00:00", "-00:00", "+01:00", "-0130", "+05:45", "+01", "+24:00", "\u221201:00"]
    ),
    st.builds(
        lambda sign, hours, minutes, colon: f"{sign}{hours:02d}{colon}{minutes:02d}",
        st.sampled_from("+-"),
        st.integers(0, 25),
        st.integers(0, 61),
        st.sampled_from([":", ""]),
    ),
)
iso_texts = st.builds(
    _iso,
    year=st.sampled_from(["2026", "1970", "1969", "0001", "0000", "9999", "10000", "999", "2026 "])
    | st.integers(0, 9999).map(lambda y: f"{y:04d}"),
    month=st.sampled_from([1, 2, 12]) | st.integers(0, 13),
    day=st.sampled_from([1, 28, 29, 30, 31]) | st.integers(0, 32),
    time=st.none()
    | st.tuples(
        st.sampled_from(["T", "T", "t", " ", "_", "x"]),
        st.sampled_from([0, 0, 23]) | st.integers(0, 25),
        st.sampled_from([0, 0, 59]) | st.integers(0, 61),
        st.none() | st.sampled_from([0, 0, 59]) | st.integers(0, 61),
        st.none() | st.sampled_from([".", ",", ".0", ".000000", ".5", ".123456789", ".1234567890123"]),
    ),
    zone=_zones,
)
offsets: st.SearchStrategy[tzinfo] = st.one_of(
    st.just(UTC),
    st.builds(timezone, st.integers(-23 * 60 - 59, 23 * 60 + 59).map(lambda m: timedelta(minutes=m))),
)
earliest, latest = datetime(1, 1, 2), datetime(9999, 12, 30)
moment_objects = st.datetimes(earliest, latest) | st.datetimes(earliest, latest, timezones=offsets)
timestamps = st.one_of(
    st.sampled_from(
        [0, -1, 1, 1_700_000_000, 20_000_000_000, 20_000_000_001, -20_000_000_001, 10**17, 2**64]
    ),
    st.integers(-(10**6), 10**6).map(lambda days: days * 86_400),
    st.integers(-(10**6), 10**6).map(lambda days: days * 86_400_000),
    st.integers(),
    st.floats(allow_nan=False),
    st.floats(min_value=-(10**12), max_value=10**12),
)


def moments() -> st.SearchStrategy[Any]:
    return st.one_of(
        iso_texts,
        iso_texts,
        moment_objects.map(lambda m: m.isoformat()),
        moment_objects.map(lambda m: m.isoformat(sep=" ", timespec="minutes")),
        moment_objects.map(lambda m: m.isoformat(timespec="milliseconds").replace("+00:00", "Z")),
        moment_objects.map(lambda m: m.date().isoformat()),
        timestamps,
        timestamps.map(str),
        st.sampled_from(MOMENT_TEXT),
    )


def urls() -> st.SearchStrategy[Any]:
    built = st.builds(
        lambda scheme, host, path: f"{scheme}{host}{path}",
        st.sampled_from(["https://", "http://", "HTTP://", "ftp://", "", "https:", "mailto:"]),
        st.sampled_from(
            ["example.com", "localhost:3000", "127.0.0.1", "[::1]", "例え.jp", "a" * 64 + ".com", ""]
        ),
        st.text(max_size=12).map(lambda s: "/" + s) | st.just(""),
    )
    return st.sampled_from(URLS) | built | st.text(max_size=20)


def sized(items: st.SearchStrategy[Any], sizes: list[int]) -> st.SearchStrategy[list[Any]]:
    """Lists of the given sizes: drawn item by item when short, repeating one item when long."""

    def of(size: int) -> st.SearchStrategy[list[Any]]:
        if size <= 5:
            return st.lists(items, min_size=size, max_size=size)
        return st.tuples(items, items).map(lambda two: [two[0]] * (size - 1) + [two[1]])

    return st.sampled_from(sorted(set(sizes))).flatmap(of)


def dicts(keys: Any, values_of: Any, rules: dict[str, Any]) -> st.SearchStrategy[Any]:
    key_rules = _rules_of(keys)
    # JSON object keys are always text: near the key's limits, or anything
    key_texts = st.one_of(
        [
            st.text(min_size=n, max_size=n)
            for n in _around(key_rules.get("min_length"), key_rules.get("max_length"))
        ]
        + [st.text(max_size=8)]
    )
    sizes = [n for n in _around(rules.get("min_length"), rules.get("max_length")) if n <= 12] or [0, 1, 3]

    def of(size: int) -> st.SearchStrategy[dict[str, Any]]:
        return st.dictionaries(key_texts, values(values_of), min_size=size, max_size=size)

    return st.sampled_from(sizes).flatmap(of)


def _around(shortest: int | None, longest: int | None) -> list[int]:
    return sorted(
        {n for size in (shortest, longest, 0, 1) if size is not None for n in (size - 1, size, size + 1)}
        - {-1}
    )


def _rules_of(hint: Any) -> dict[str, Any]:
    rules: dict[str, Any] = {}
    while typing.get_origin(hint) is Annotated:
        hint, *marks = typing.get_args(hint)
        for mark in marks:
            if isinstance(mark, shapes.Rule):
                rules.update(mark.field)
    return rules


@functools.cache
def bodies(cls: type) -> st.SearchStrategy[Any]:
    """Objects with the body's fields (some missing), with or without fields it does not have, or anything."""
    hints = typing.get_type_hints(cls, include_extras=True)
    fields = [f for f in dataclasses.fields(cls) if f.init]
    required = {
        f.name: values(hints[f.name])
        for f in fields
        if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
    }
    optional = {f.name: values(hints[f.name]) for f in fields if f.name not in required}
    complete = st.fixed_dictionaries(required, optional=optional)
    partial = st.fixed_dictionaries({}, optional={**required, **optional})
    names = [f.name for f in fields]
    strangers = st.dictionaries(
        st.text(max_size=10)
        | st.sampled_from([*(n.upper() for n in names), *(n + " " for n in names), "from"]),
        json_values,
        min_size=1,
        max_size=3,
    )
    return st.one_of(
        complete,
        complete,
        partial,
        st.tuples(complete, strangers).map(lambda two: {**two[0], **two[1]}),
        st.tuples(strangers, partial).map(lambda two: {**two[0], **two[1]}),
        json_values,
    )


def values(
    hint: Any, rules: dict[str, Any] | None = None, kinds: frozenset[str] = frozenset()
) -> st.SearchStrategy[Any]:
    """JSON values for ``hint``: near its rules, or anything."""
    return st.one_of(_near(hint, dict(rules or {}), kinds), json_values)


def _near(hint: Any, rules: dict[str, Any], kinds: frozenset[str]) -> st.SearchStrategy[Any]:
    origin = typing.get_origin(hint)
    if origin is Annotated:
        base, *marks = typing.get_args(hint)
        for mark in marks:
            if isinstance(mark, shapes.Rule):
                rules.update(mark.field)
        named = kinds | {mark.name for mark in marks if isinstance(mark, shapes.Kind)}
        return _near(base, rules, named)
    if origin in (typing.Union, types.UnionType):
        members = [m for m in typing.get_args(hint) if m is not type(None)]
        return st.one_of([st.none(), *(_near(m, dict(rules), kinds) for m in members)])
    if origin is Literal:
        return literals(typing.get_args(hint))
    if origin is dict:
        keys, items = typing.get_args(hint)
        return dicts(keys, items, rules)
    if origin is list:
        (items,) = typing.get_args(hint)
        sizes = [n for n in _around(rules.get("min_length"), rules.get("max_length")) if n <= MAX_EVENTS + 1]
        return sized(values(items), sizes)
    if hint is Any:
        return json_values
    if dataclasses.is_dataclass(hint) and isinstance(hint, type):
        return bodies(hint)
    if hint is int:
        return integers(rules)
    if hint is bool:
        return st.booleans() | st.sampled_from([0, 1, 1.0, "true", "false", "1", "yes", "on", None])
    if hint is str:
        return urls() if "HttpUrl" in kinds else strings(rules)
    if hint in (datetime, date):
        return moments()
    raise TypeError(f"no values for {hint}")


@functools.cache
def route_bodies(hint: Any) -> st.SearchStrategy[Any]:
    return values(hint)


def as_query_text(value: Any) -> str:
    """A value as a query string would carry it."""
    return value if isinstance(value, str) else json.dumps(value)


@functools.cache
def query_texts(hint: Any) -> st.SearchStrategy[str]:
    return st.one_of(values(hint).map(as_query_text), st.text(), st.sampled_from(TRICKY_TEXT))


# --- shapes against pydantic ----------------------------------------------------------------------------------


@pytest.mark.parametrize("body", BODIES, ids=lambda cls: cls.__name__)
@settings(max_examples=200, deadline=None)
@given(data=st.data())
def test_a_request_body_is_accepted_or_refused_as_pydantic_would(body: type, data: st.DataObject) -> None:
    assert_answers_as_pydantic(body, data.draw(bodies(body), label="body"))


@pytest.mark.parametrize(("route", "hint"), ROUTE_BODIES, ids=[where for where, _ in ROUTE_BODIES])
@settings(max_examples=200, deadline=None)
@given(data=st.data())
def test_a_route_body_that_may_be_absent_is_read_as_pydantic_would(
    route: str, hint: Any, data: st.DataObject
) -> None:
    assert_answers_as_pydantic(hint, data.draw(route_bodies(hint), label="body"))


@pytest.mark.parametrize(("parameter", "hint"), QUERIES, ids=[where for where, _ in QUERIES])
@settings(max_examples=300, deadline=None)
@given(data=st.data())
def test_a_query_parameter_is_read_from_its_text_as_pydantic_would(
    parameter: str, hint: Any, data: st.DataObject
) -> None:
    assert_answers_as_pydantic(hint, data.draw(query_texts(hint), label="text"))


@pytest.mark.parametrize(("parameter", "hint"), QUERIES, ids=[where for where, _ in QUERIES])
def test_a_query_parameter_reads_tricky_text_as_pydantic_would(parameter: str, hint: Any) -> None:
    differing = [
        f"{text!r}:\n shapes:   {mine}\n pydantic: {theirs}"
        for text in TRICKY_TEXT
        if not misread_by_pydantic(text)
        and differs(mine := shapes_answer(hint, text), theirs := pydantic_answer(hint, text))
    ]
    assert not differing, f"{hint!r} given\n" + "\n".join(differing)


def test_timestamps_pydantic_misreads_are_read_as_what_they_say() -> None:
    moment = shapes.AwareDatetime
    assert shapes.validate(moment, "20000000001000.0") == datetime(2603, 10, 11, 11, 33, 21, tzinfo=UTC)
    assert shapes.validate(moment, "20000000001000") == datetime(2603, 10, 11, 11, 33, 21, tzinfo=UTC)
    for unreadable in ("18446744073709551616", "0000-01-01T00:00:00Z"):
        with pytest.raises(shapes.Invalid) as refused:
            shapes.validate(moment, unreadable)
        assert [p["type"] for p in refused.value.problems] == ["datetime_from_date_parsing"]


# --- what users depend on -------------------------------------------------------------------------------------

DEBIT = {"amount": 10, "operation": "api.call", "idempotency_key": "key-1"}


@pytest.mark.parametrize("amount", [10.0, "10", True], ids=repr)
def test_a_strict_amount_refuses_a_float_a_string_and_a_boolean(amount: Any) -> None:
    answer = assert_answers_as_pydantic(DebitIn, {**DEBIT, "amount": amount})
    assert answer.problems == (("int_type", ("amount",), "Input should be a valid integer"),)


def test_a_pattern_ending_in_dollar_refuses_a_final_newline() -> None:
    declared = _rules_of(typing.get_type_hints(DebitIn, include_extras=True)["idempotency_key"])["pattern"]
    assert declared.endswith("$")
    assert re.search(declared, "key\n"), "Python's $ matches before a final newline"
    answer = assert_answers_as_pydantic(DebitIn, {**DEBIT, "idempotency_key": "key\n"})
    assert [(kind, loc) for kind, loc, _ in answer.problems] == [
        ("string_pattern_mismatch", ("idempotency_key",))
    ]


def test_a_field_the_body_does_not_declare_is_refused() -> None:
    answer = assert_answers_as_pydantic(DebitIn, {**DEBIT, "amout": 5})
    assert answer.problems == (("extra_forbidden", ("amout",), "Extra inputs are not permitted"),)


def test_a_missing_field_is_refused() -> None:
    answer = assert_answers_as_pydantic(DebitIn, {"amount": 10, "operation": "api.call"})
    assert answer.problems == (("missing", ("idempotency_key",), "Field required"),)


def test_a_valid_body_comes_back_as_its_dataclass() -> None:
    answer = assert_answers_as_pydantic(DebitIn, {**DEBIT, "metadata": {"region": "eu"}})
    assert answer.accepted
    assert shapes.validate(DebitIn, DEBIT) == DebitIn(
        amount=10, operation="api.call", idempotency_key="key-1"
    )


@dataclass(kw_only=True)
class Stamped:
    at: datetime
    elsewhere: datetime
    on: date
    note: str | None = None


def test_jsonable_writes_dates_datetimes_and_aliases_as_pydantic_does() -> None:
    usage = UsageOut(
        from_=date(2026, 11, 1),
        to=date(2026, 12, 1),
        total=15,
        by_operation={"api.call": 15},
        by_day=[UsageDayOut(date=date(2026, 11, 3), total=15, by_operation={"api.call": 15})],
    )
    stamped = Stamped(
        at=datetime(2026, 12, 1, 10, 0, 0, 123456, tzinfo=UTC),
        elsewhere=datetime(2026, 12, 1, 10, 0, tzinfo=timezone(timedelta(hours=-3, minutes=-30))),
        on=date(2026, 12, 1),
    )
    before_history = BalanceAtOut(
        at="2026-12-01T00:00:00Z", seq=None, as_of=None, balance=0, held=0, available=0
    )
    for value in (usage, stamped, before_history):
        model = model_of(type(value)).model_validate(dataclasses.asdict(value))
        assert shapes.jsonable(value) == model.model_dump(mode="json", by_alias=True)
        assert shapes.jsonable(value, drop_none=True) == model.model_dump(
            mode="json", by_alias=True, exclude_none=True
        )
    assert shapes.jsonable(usage)["from"] == "2026-11-01"
    assert shapes.jsonable(stamped)["at"] == "2026-12-01T10:00:00.123456Z"
