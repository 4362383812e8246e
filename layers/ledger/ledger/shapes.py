"""Bodies as plain dataclasses, checked and written here with pydantic's rules and messages, without
importing pydantic.

A function's cold start is mostly its imports, and pydantic's alone (with its models built) was about a third
of the bare handler's. So the API's request and response bodies, the notifications' details and the catalog
are dataclasses whose fields carry pydantic's ``Field`` arguments in a ``Rule``
(``Annotated[int, Rule(strict=True, ge=1)]``), and this module checks a value against them as pydantic would:
the same rules, error types, messages and locations (``tests/unit/test_shapes.py`` holds every request body
and query parameter to pydantic's own answers). The OpenAPI document and the event schemas are still
pydantic's: ``ledger.api.documented`` turns each dataclass into the pydantic model it describes.

What is checked, as pydantic checks it: integers (strict: only an int; otherwise, as in pydantic's default
mode, also a string of digits, which is how a query parameter arrives), strings (length in characters, a
pattern whose ``$`` is the end of the text), strict booleans, literals, optional values, dicts, lists, nested
bodies (undeclared fields refused in a ``Closed`` one), dates and datetimes in ISO 8601 or as Unix
timestamps. URLs are checked by ``pydantic_core``, imported only when a request carries one.
"""

from __future__ import annotations

import dataclasses
import math
import re
import types
import typing
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Annotated, Any, ClassVar, Literal

Loc = tuple[str | int, ...]
Problems = list[dict[str, Any]]
Check = Callable[[Any, Loc, Problems], Any]


class Rule:
    """A field's constraints and documentation: pydantic ``Field`` arguments (``ge``, ``le``, ``min_length``,
    ``max_length``, ``pattern``, ``strict``, ``alias``, ``description``...)."""

    __slots__ = ("field",)

    def __init__(self, **field: Any) -> None:
        self.field = field


class Kind:
    """A type pydantic knows by name (``AwareDatetime``, ``HttpUrl``) standing on a plain Python type."""

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name


AwareDatetime = Annotated[datetime, Kind("AwareDatetime")]
HttpUrl = Annotated[str, Kind("HttpUrl")]
StrictInt = Annotated[int, Rule(strict=True)]
StrictBool = Annotated[bool, Rule(strict=True)]


class Closed:
    """A body that refuses fields it does not declare (``extra_forbidden``); with ``strict``, as pydantic's
    ``strict=True`` config, each int, bool and datetime field takes only a value of its own type."""

    strict: ClassVar[bool] = False


class Request(Closed):
    """A request body."""


class Invalid(ValueError):
    """A value failed its checks: pydantic's errors (type, loc, msg, input)."""

    def __init__(self, problems: Problems) -> None:
        super().__init__(problems)
        self.problems = problems


def validate(hint: Any, value: Any) -> Any:
    """``value`` checked against ``hint`` (a dataclass, or a type with its rules); ``Invalid`` if it fails.
    As in pydantic's default (lax) mode, an int may come as a string of digits unless its rule is strict."""
    problems: Problems = []
    checked = checker(hint)(value, (), problems)
    if problems:
        raise Invalid(problems)
    return checked


_CHECKERS: dict[Any, Check] = {}


def checker(hint: Any) -> Check:
    """The check of ``hint``, made the first time it is asked for."""
    if hint not in _CHECKERS:
        _CHECKERS[hint] = _compile(hint, {}, (), False)
    return _CHECKERS[hint]


@typing.dataclass_transform(kw_only_default=True, frozen_default=True)
def checked[T](cls: type[T]) -> type[T]:
    """A frozen, keyword-only dataclass whose fields are checked when one is made, as a pydantic model's are:
    a field missing, undeclared or failing its rules raises ``Invalid``."""
    made = dataclasses.dataclass(frozen=True, kw_only=True)(cls)
    init = made.__init__

    def __init__(self: Any, **values: Any) -> None:
        problems: Problems = []
        checked_values = _fields_check(made)(values, (), problems)
        if problems:
            raise Invalid(problems)
        init(self, **checked_values)

    made.__init__ = __init__  # type: ignore[method-assign]
    return made


def _problem(problems: Problems, kind: str, loc: Loc, msg: str, value: Any, **ctx: Any) -> None:
    found: dict[str, Any] = {"type": kind, "loc": loc, "msg": msg, "input": value}
    if ctx:
        found["ctx"] = ctx
    problems.append(found)


def _compile(hint: Any, rules: dict[str, Any], kinds: tuple[str, ...], strict: bool) -> Check:
    origin = typing.get_origin(hint)
    if origin is Annotated:
        base, *extra = typing.get_args(hint)
        more = dict(rules)
        for mark in extra:
            if isinstance(mark, Rule):
                more.update(mark.field)
        named = kinds + tuple(m.name for m in extra if isinstance(m, Kind))
        return _compile(base, more, named, strict)
    if origin in (typing.Union, types.UnionType):
        members = [m for m in typing.get_args(hint) if m is not type(None)]
        if len(members) != 1:
            raise TypeError(f"only X | None unions are supported, not {hint}")
        inner = _compile(members[0], rules, kinds, strict)
        return lambda value, loc, problems: None if value is None else inner(value, loc, problems)
    if origin is Literal:
        return _literal(typing.get_args(hint))
    if origin is dict:
        keys, values = typing.get_args(hint)
        return _dict(_compile(keys, {}, (), strict), _compile(values, {}, (), strict), rules)
    if origin is list:
        (items,) = typing.get_args(hint)
        return _list(_compile(items, {}, (), strict), rules)
    if hint is Any:
        return lambda value, loc, problems: value
    if dataclasses.is_dataclass(hint):
        return _body(typing.cast(type, hint))
    strict = bool(rules.get("strict", strict))
    if hint is int:
        return _number(_int(strict), rules)
    if hint is bool and strict:  # pydantic's lax booleans ("yes", "on", 1) are not needed, so not written
        return _bool
    if hint is str:
        return _url if "HttpUrl" in kinds else _string(rules)
    if hint is datetime:
        return _datetime("AwareDatetime" in kinds, strict)
    if hint is date:
        return _date
    raise TypeError(f"no check for {hint}")


def _int(strict: bool) -> Check:
    def check(value: Any, loc: Loc, problems: Problems) -> Any:
        if type(value) is int:
            return value
        if not strict:
            if type(value) is bool:
                return int(value)
            if type(value) is float:
                return _int_of_float(value, loc, problems)
            if type(value) is str:
                return _int_of_string(value, loc, problems)
        _problem(problems, "int_type", loc, "Input should be a valid integer", value)
        return None

    return check


def _int_of_float(value: float, loc: Loc, problems: Problems) -> Any:
    if value != value or value in (float("inf"), float("-inf")):
        _problem(problems, "finite_number", loc, "Input should be a finite number", value)
    elif not value.is_integer():
        message = "Input should be a valid integer, got a number with a fractional part"
        _problem(problems, "int_from_float", loc, message, value)
    elif abs(value) >= 2**63:
        message = "Unable to parse input string as an integer, exceeded maximum size"
        _problem(problems, "int_parsing_size", loc, message, value)
    else:
        return int(value)
    return None


_INT_TEXT = re.compile(r"[+-]?[0-9]+(?:_[0-9]+)*(?:\.0+)?")
# what pydantic strips around a number: Rust's whitespace (Python's str.strip() also strips \x1c-\x1f)
_WHITESPACE = (
    " \t\n\r\x0b\x0c\x85\xa0\u1680"
    + "".join(map(chr, range(0x2000, 0x200B)))
    + "\u2028\u2029\u202f\u205f\u3000"
)


def _int_of_string(value: str, loc: Loc, problems: Problems) -> Any:
    if not is_text(value):
        _problem(problems, "string_unicode", loc, _NOT_UNICODE, value)
        return None
    text = value.strip(_WHITESPACE)
    if _INT_TEXT.fullmatch(text):
        try:
            return int(text.split(".")[0].replace("_", ""))
        except ValueError:  # more digits than Python reads (4,300)
            message = "Unable to parse input string as an integer, exceeded maximum size"
            _problem(problems, "int_parsing_size", loc, message, value)
            return None
    message = "Input should be a valid integer, unable to parse string as an integer"
    _problem(problems, "int_parsing", loc, message, value)
    return None


def _number(typed: Check, rules: dict[str, Any]) -> Check:
    low, high, above = rules.get("ge"), rules.get("le"), rules.get("gt")

    def check(value: Any, loc: Loc, problems: Problems) -> Any:
        before = len(problems)
        number = typed(value, loc, problems)
        if len(problems) > before:
            return None
        if above is not None and number <= above:
            _problem(problems, "greater_than", loc, f"Input should be greater than {above}", value, gt=above)
        elif low is not None and number < low:
            message = f"Input should be greater than or equal to {low}"
            _problem(problems, "greater_than_equal", loc, message, value, ge=low)
        elif high is not None and number > high:
            message = f"Input should be less than or equal to {high}"
            _problem(problems, "less_than_equal", loc, message, value, le=high)
        return number

    return check


def _bool(value: Any, loc: Loc, problems: Problems) -> Any:
    if type(value) is bool:
        return value
    _problem(problems, "bool_type", loc, "Input should be a valid boolean", value)
    return None


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def _string(rules: dict[str, Any]) -> Check:
    shortest, longest, pattern = rules.get("min_length"), rules.get("max_length"), rules.get("pattern")
    # pydantic's patterns are Rust regexes, whose $ is the end of the text (Python's also matches before a
    # final newline); ours use explicit ASCII classes, which both read alike
    compiled = re.compile(re.sub(r"(?<!\\)\$$", r"\\Z", pattern)) if pattern else None
    constrained = shortest is not None or longest is not None or pattern is not None

    def check(value: Any, loc: Loc, problems: Problems) -> Any:
        if type(value) is not str:
            _problem(problems, "string_type", loc, "Input should be a valid string", value)
        elif constrained and not is_text(value):
            _problem(problems, "string_unicode", loc, _NOT_UNICODE, value)
        elif shortest is not None and len(value) < shortest:
            message = f"String should have at least {_plural(shortest, 'character')}"
            _problem(problems, "string_too_short", loc, message, value, min_length=shortest)
        elif longest is not None and len(value) > longest:
            message = f"String should have at most {_plural(longest, 'character')}"
            _problem(problems, "string_too_long", loc, message, value, max_length=longest)
        elif compiled is not None and not compiled.search(value):
            message = f"String should match pattern '{pattern}'"
            _problem(problems, "string_pattern_mismatch", loc, message, value, pattern=pattern)
        else:
            return value
        return None

    return check


def _literal(expected: tuple[Any, ...]) -> Check:
    shown = [repr(e) for e in expected]
    listed = shown[0] if len(shown) == 1 else f"{', '.join(shown[:-1])} or {shown[-1]}"

    def check(value: Any, loc: Loc, problems: Problems) -> Any:
        for allowed in expected:
            if type(value) is type(allowed) and value == allowed:
                return value
        if type(value) is str and not is_text(value):
            _problem(problems, "string_unicode", loc, _NOT_UNICODE, value)
            return None
        _problem(problems, "literal_error", loc, f"Input should be {listed}", value, expected=listed)
        return None

    return check


def _length(problems: Problems, what: str, loc: Loc, value: Any, count: int, rules: dict[str, Any]) -> None:
    shortest, longest = rules.get("min_length"), rules.get("max_length")
    if shortest is not None and count < shortest:
        message = f"{what} should have at least {_plural(shortest, 'item')} after validation, not {count}"
        _problem(
            problems,
            "too_short",
            loc,
            message,
            value,
            field_type=what,
            min_length=shortest,
            actual_length=count,
        )
    elif longest is not None and count > longest:
        message = f"{what} should have at most {_plural(longest, 'item')} after validation, not {count}"
        _problem(
            problems,
            "too_long",
            loc,
            message,
            value,
            field_type=what,
            max_length=longest,
            actual_length=count,
        )


def _dict(keys: Check, values: Check, rules: dict[str, Any]) -> Check:
    def check(value: Any, loc: Loc, problems: Problems) -> Any:
        if type(value) is not dict:
            _problem(problems, "dict_type", loc, "Input should be a valid dictionary", value)
            return None
        before = len(problems)
        checked = {}
        for key, item in value.items():
            checked_key = keys(key, (*loc, key, "[key]"), problems)
            checked[checked_key] = values(item, (*loc, key), problems)
        if len(problems) == before:
            _length(problems, "Dictionary", loc, value, len(checked), rules)
        return checked

    return check


def _list(items: Check, rules: dict[str, Any]) -> Check:
    def check(value: Any, loc: Loc, problems: Problems) -> Any:
        if type(value) not in (list, tuple):
            _problem(problems, "list_type", loc, "Input should be a valid list", value)
            return None
        before = len(problems)
        checked = [items(item, (*loc, index), problems) for index, item in enumerate(value)]
        if len(problems) == before:
            _length(problems, "List", loc, value, len(checked), rules)
        return checked

    return check


def _body(cls: type) -> Check:
    fields_check = _fields_check(cls)

    def check(value: Any, loc: Loc, problems: Problems) -> Any:
        if isinstance(value, cls):
            return value
        if type(value) is not dict:
            message = f"Input should be a valid dictionary or instance of {cls.__name__}"
            _problem(problems, "model_type", loc, message, value, class_name=cls.__name__)
            return None
        before = len(problems)
        values = fields_check(value, loc, problems)
        return None if len(problems) > before else cls(**values)

    return check


_FIELD_CHECKS: dict[type, Check] = {}


def _fields_check(cls: type) -> Check:
    """The check of a dataclass's fields given as a dict: the checked values by field name."""
    if cls in _FIELD_CHECKS:
        return _FIELD_CHECKS[cls]
    hints = typing.get_type_hints(cls, include_extras=True)
    strict = issubclass(cls, Closed) and cls.strict
    fields = [(f, _compile(hints[f.name], {}, (), strict)) for f in dataclasses.fields(cls) if f.init]
    names = {f.name for f, _ in fields}
    forbid = issubclass(cls, Closed)

    def check(value: Any, loc: Loc, problems: Problems) -> Any:
        values: dict[str, Any] = {}
        for spec, field_check in fields:
            if spec.name in value:
                values[spec.name] = field_check(value[spec.name], (*loc, spec.name), problems)
            elif spec.default is dataclasses.MISSING and spec.default_factory is dataclasses.MISSING:
                _problem(problems, "missing", (*loc, spec.name), "Field required", value)
        if forbid:
            for extra in value:
                if extra not in names:
                    message = "Extra inputs are not permitted"
                    _problem(problems, "extra_forbidden", (*loc, extra), message, value[extra])
        return values

    _FIELD_CHECKS[cls] = check
    return check


_URL_CHECK: Any = None


def _url(value: Any, loc: Loc, problems: Problems) -> Any:
    """An http(s) URL, as pydantic's ``HttpUrl`` checks and writes it (``https://example.com/``)."""
    global _URL_CHECK
    if (
        _URL_CHECK is None
    ):  # only the functions that take a URL pay for pydantic_core, when they first get one
        from pydantic_core import SchemaValidator

        _URL_CHECK = SchemaValidator(
            {"type": "url", "max_length": 2083, "allowed_schemes": ["http", "https"]}
        )
    from pydantic_core import ValidationError

    try:
        return str(_URL_CHECK.validate_python(value))
    except ValidationError as invalid:
        for found in invalid.errors(include_url=False):
            problems.append({**found, "loc": (*loc, *found["loc"])})
        return None


# ISO 8601 as pydantic reads it: a date, then optionally T (t, _ or space), hh:mm, :ss, a fraction (. or ,)
# and a zone (Z, z, or ±hh:mm / ±hhmm, the minus also as U+2212)
_DATETIME = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})"
    r"(?:[Tt_ ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9})\d*)?)?"
    r"(Z|z|[+\-\u2212]\d{2}:?\d{2})?)?",
    re.ASCII,
)
# a Unix timestamp in a string: digits, or a decimal number with a point (which may carry an exponent)
_WHOLE = re.compile(r"[+-]?\d+", re.ASCII)
_DECIMAL = re.compile(r"[+-]?(?=\.?\d)\d*\.\d*(?:[eE][+-]?\d+)?", re.ASCII)
# a Unix timestamp above this is in milliseconds (pydantic's rule)
_MILLISECONDS_FROM = 20_000_000_000
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _zone(text: str | None) -> timezone | bool | None:
    """The zone of ``text``; False for one out of range."""
    if text is None:
        return None
    if text in ("Z", "z"):
        return UTC
    digits = text[1:].replace(":", "")
    hours, minutes = int(digits[:2]), int(digits[2:])
    if hours > 23 or minutes > 59:
        return False
    offset = timedelta(hours=hours, minutes=minutes)
    return timezone(offset if text[0] == "+" else -offset) if offset else UTC


def _half_up(value: float) -> int:
    """Rounded half away from zero (Rust's ``round``)."""
    return math.floor(value + 0.5) if value >= 0 else -math.floor(-value + 0.5)


def _from_timestamp(whole: int, micro: int) -> datetime | None:
    """The moment of a Unix timestamp, as pydantic reads it: ``whole`` seconds, or milliseconds when above 2e10
    (the quotient and remainder truncated toward zero), plus ``micro`` microseconds."""
    if abs(whole) > _MILLISECONDS_FROM:
        seconds = abs(whole) // 1000 * (1 if whole >= 0 else -1)
        micro += (whole - seconds * 1000) * 1000
    else:
        seconds = whole
    try:
        moment = _EPOCH + timedelta(seconds=seconds, microseconds=micro)
    except OverflowError:
        return None
    return moment


def _from_number(value: float) -> datetime | None:
    """A JSON number as a timestamp: its fraction in microseconds, or in thousandths of a millisecond above 2e10
    (pydantic takes the floor and adds the fraction's absolute value, so -1.25 is -2 + 0.25)."""
    if type(value) is int:
        return _from_timestamp(value, 0)
    if not math.isfinite(value) or abs(value) >= 2**63:
        return None
    fraction = abs(value - math.trunc(value))
    micro = _half_up(fraction * 1000) if abs(value) > _MILLISECONDS_FROM else _half_up(fraction * 1_000_000)
    return _from_timestamp(math.floor(value), micro)


def _parse_datetime(value: str) -> datetime | None:
    if _WHOLE.fullmatch(value):
        try:
            whole = int(value)
        except ValueError:  # more digits than Python reads (4,300)
            return None
        return _from_timestamp(whole, 0) if abs(whole) < 2**63 else None
    if _DECIMAL.fullmatch(value):  # read exactly, unlike a JSON number (see _from_number)
        number = float(value)
        if not math.isfinite(number) or abs(number) >= 2**63:
            return None
        whole = math.trunc(number)
        return _from_timestamp(whole, _half_up((number - whole) * 1_000_000))
    found = _DATETIME.fullmatch(value)
    if found is None:
        return None
    year, month, day, hour, minute, second, fraction, zone = found.groups()
    tz = _zone(zone.replace("\u2212", "-") if zone else None)
    if tz is False:
        return None
    try:
        return datetime(
            int(year),
            int(month),
            int(day),
            int(hour or 0),
            int(minute or 0),
            int(second or 0),
            int((fraction or "0")[:6].ljust(6, "0")),
            tzinfo=tz,  # type: ignore[arg-type]  # False was answered above
        )
    except ValueError:
        return None


_NOT_UNICODE = "Input should be a valid string, unable to parse raw data as a unicode string"


def is_text(value: str) -> bool:
    """Whether ``value`` can be written as UTF-8, as pydantic reads text: no lone surrogate (JSON's "\\ud800"
    gives one)."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


@dataclasses.dataclass(frozen=True)
class _Problems:
    """How pydantic names what is wrong with a date or datetime: (type, message) of each case."""

    wrong_type: tuple[str, str]
    unreadable_text: tuple[str, str]
    unreadable_number: tuple[str, str]


_AFTER_9999 = "dates after 9999 are not supported as unix timestamps"
_DATETIME_PROBLEMS = _Problems(
    ("datetime_type", "Input should be a valid datetime"),
    ("datetime_from_date_parsing", "Input should be a valid datetime or date"),
    ("datetime_parsing", f"Input should be a valid datetime, {_AFTER_9999}"),
)
_DATE_PROBLEMS = _Problems(
    ("date_type", "Input should be a valid date"),
    ("date_from_datetime_parsing", "Input should be a valid date or datetime"),
    ("date_from_datetime_parsing", f"Input should be a valid date or datetime, {_AFTER_9999}"),
)


def _moment(value: Any, loc: Loc, problems: Problems, strict: bool, named: _Problems) -> datetime | None:
    """``value`` read as a moment, or None with its problem written as ``named`` says."""
    if type(value) is datetime:
        return value
    if type(value) in (int, float) and not strict:
        moment, unreadable = _from_number(value), named.unreadable_number
    elif type(value) is str and not strict:
        if not is_text(value):
            _problem(problems, "string_unicode", loc, _NOT_UNICODE, value)
            return None
        moment, unreadable = _parse_datetime(value), named.unreadable_text
    else:
        moment, unreadable = None, named.wrong_type
    if moment is None:
        kind, message = unreadable
        _problem(problems, kind, loc, message, value)
    return moment


def _datetime(aware: bool, strict: bool) -> Check:
    def check(value: Any, loc: Loc, problems: Problems) -> Any:
        moment = _moment(value, loc, problems, strict, _DATETIME_PROBLEMS)
        if moment is not None and aware and moment.tzinfo is None:
            _problem(problems, "timezone_aware", loc, "Input should have timezone info", value)
            return None
        return moment

    return check


def _date(value: Any, loc: Loc, problems: Problems) -> Any:
    if type(value) is date:
        return value
    moment = _moment(value, loc, problems, False, _DATE_PROBLEMS)
    if moment is None:
        return None
    if moment.timetz().replace(tzinfo=None) != datetime.min.time():
        message = "Datetimes provided to dates should have zero time - e.g. be exact dates"
        _problem(problems, "date_from_datetime_inexact", loc, message, value)
        return None
    return moment.date()


def jsonable(value: Any, drop_none: bool = False) -> Any:
    """``value`` as JSON data, as pydantic writes it: dataclasses as objects (a field's ``alias`` as its
    name; with ``drop_none``, fields that are None left out), dates and datetimes in ISO 8601 (UTC as ``Z``)."""
    if value is None or isinstance(value, str | int | float | bool):
        return value
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        written = ((name, getattr(value, attribute)) for attribute, name in _public_fields(type(value)))
        return {name: jsonable(v, drop_none) for name, v in written if not (drop_none and v is None)}
    if isinstance(value, dict):
        return {str(k): jsonable(v, drop_none) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [jsonable(v, drop_none) for v in value]
    if isinstance(value, datetime):
        text = value.isoformat()
        return text[:-6] + "Z" if text.endswith("+00:00") else text
    if isinstance(value, date):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON data")


_FIELDS: dict[type, list[tuple[str, str]]] = {}


def _public_fields(cls: type) -> list[tuple[str, str]]:
    """Each field's attribute and its name in JSON (its ``alias``, if it has one)."""
    if cls not in _FIELDS:
        hints = typing.get_type_hints(cls, include_extras=True)
        _FIELDS[cls] = [(f.name, _alias(hints[f.name]) or f.name) for f in dataclasses.fields(cls)]
    return _FIELDS[cls]


def _alias(hint: Any) -> str | None:
    for mark in getattr(hint, "__metadata__", ()):
        if isinstance(mark, Rule) and "alias" in mark.field:
            return str(mark.field["alias"])
    return None
