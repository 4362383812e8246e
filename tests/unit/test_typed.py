"""store/typed.py against boto3's TypeSerializer and TypeDeserializer, which it replaces: the same attribute
values for every value the ledger writes, and the same plain values back (numbers as int)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from boto3.dynamodb.types import Binary, TypeDeserializer, TypeSerializer
from hypothesis import given
from hypothesis import strategies as st

from ledger.store.typed import plain, typed

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**30), 10**30),
    st.text(max_size=20),
    st.binary(min_size=1, max_size=8),
)
sets = st.one_of(
    st.frozensets(st.integers(-(10**12), 10**12), min_size=1, max_size=5).map(set),
    st.frozensets(st.text(max_size=8), min_size=1, max_size=5).map(set),
)
values = st.recursive(
    st.one_of(scalars, sets),
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)


def as_boto3_reads(value: Any) -> Any:
    """What boto3's deserializer gives, with Decimal as int (how the ledger has always read numbers)."""
    if isinstance(value, Decimal):
        return int(value)
    if isinstance(value, Binary):
        return bytes(value)
    if isinstance(value, dict):
        return {k: as_boto3_reads(v) for k, v in value.items()}
    if isinstance(value, list):
        return [as_boto3_reads(v) for v in value]
    if isinstance(value, set):
        return {as_boto3_reads(v) for v in value}
    return value


def canonical(attribute: Any) -> Any:
    """Sets' members in one order (a set has none), bytes as bytes."""
    if isinstance(attribute, dict):
        return {k: sorted(v) if k in ("SS", "NS", "BS") else canonical(v) for k, v in attribute.items()}
    if isinstance(attribute, list):
        return [canonical(v) for v in attribute]
    if isinstance(attribute, Binary):
        return bytes(attribute)
    return attribute


@given(values)
def test_writes_what_boto3_writes_and_reads_what_it_reads(value: Any) -> None:
    attribute = typed(value)
    assert canonical(attribute) == canonical(TypeSerializer().serialize(value))
    assert plain(attribute) == as_boto3_reads(TypeDeserializer().deserialize(attribute))


@pytest.mark.parametrize(
    ("text", "number"),
    [("1E+3", 1000), ("5.0", 5), ("-0", 0), ("12345678901234567890123456789", 12345678901234567890123456789)],
)
def test_numbers_written_in_another_form_read_as_whole_numbers(text: str, number: int) -> None:
    assert plain({"N": text}) == number and type(plain({"N": text})) is int


@pytest.mark.parametrize("value", [1.5, {"a": 0.1}, [2.0], {1, "a"}, object()])
def test_what_dynamodb_cannot_hold_exactly_is_refused(value: Any) -> None:
    with pytest.raises(TypeError):
        typed(value)
