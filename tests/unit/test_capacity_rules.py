"""The capacity rules the benchmarks price operations with: DynamoDB's documented item sizes and units."""

from __future__ import annotations

import pytest

from bench.sizes import index_writes, item_size, read_units, write_units


@pytest.mark.parametrize(
    ("item", "size"),
    [
        ({"name": {"S": "héllo"}}, 4 + 6),  # UTF-8 bytes of the name and the value
        ({"n": {"N": "12345"}}, 1 + 3 + 1),  # 1 byte per two significant digits, plus 1
        ({"n": {"N": "-0001000"}}, 1 + 1 + 1),  # leading and trailing zeros are trimmed
        ({"n": {"N": "12.5"}}, 1 + 2 + 1),
        ({"ok": {"BOOL": True}, "x": {"NULL": True}}, 2 + 1 + 1 + 1),
        ({"b": {"B": "AAEC"}}, 1 + 3),  # raw bytes, not base64
        ({"m": {"M": {}}}, 1 + 3),  # an empty map is its 3 bytes of overhead
        ({"m": {"M": {"a": {"S": "xy"}}}}, 1 + 3 + (1 + 2 + 1)),  # each element adds 1 byte
        ({"l": {"L": [{"N": "7"}, {"S": "ab"}]}}, 1 + 3 + (2 + 1) + (2 + 1)),
        ({"s": {"SS": ["ab", "c"]}}, 1 + 3),
    ],
)
def test_item_size_follows_the_documented_rules(item: dict, size: int) -> None:
    assert item_size(item) == size


def test_writes_cost_a_unit_per_started_kilobyte_and_double_in_transactions() -> None:
    assert [write_units(s) for s in (0, 1, 1024, 1025, 3000)] == [1, 1, 1, 2, 3]
    assert write_units(1025, transactional=True) == 4


def test_reads_cost_a_unit_per_started_4_kb_half_when_eventually_consistent() -> None:
    assert [read_units(s, consistent=True) for s in (0, 4096, 4097)] == [1, 1, 2]
    assert read_units(4097, consistent=False) == 1
    assert read_units(100, consistent=True, transactional=True) == 2


def test_index_writes_count_entering_leaving_and_moving_in_the_index() -> None:
    keys = ["due_pk", "due"]
    out = {"pk": {"S": "a"}}
    due_at = lambda t: {**out, "due_pk": {"S": "DUE"}, "due": {"N": str(t)}}  # noqa: E731
    assert index_writes(out, out, keys) == 0
    assert index_writes(None, due_at(5), keys) == 1
    assert index_writes(due_at(5), out, keys) == 1
    assert index_writes(due_at(5), due_at(6), keys) == 2
    assert index_writes(due_at(5), {**due_at(5), "balance": {"N": "3"}}, keys) == 0
    # an index projecting every attribute is written whenever its item changes, its keys or not
    assert index_writes(due_at(5), {**due_at(5), "balance": {"N": "3"}}, keys, projects_all=True) == 1
    assert index_writes(due_at(5), due_at(5), keys, projects_all=True) == 0
    assert index_writes(out, {**out, "balance": {"N": "3"}}, keys, projects_all=True) == 0
