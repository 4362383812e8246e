"""The capacity rules the benchmarks price operations with: DynamoDB's documented item sizes and units."""

from __future__ import annotations

import pytest

from bench.sizes import index_write_sizes, item_size, read_units, write_units


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


def test_index_writes_count_entering_leaving_and_moving_in_a_keys_only_index() -> None:
    keys, projected = ["due_pk", "due"], ["pk"]
    out = {"pk": {"S": "a"}}
    due_at = lambda t: {**out, "due_pk": {"S": "DUE"}, "due": {"N": str(t)}}  # noqa: E731
    entry = item_size(due_at(5))
    assert index_write_sizes(out, out, keys, projected) == []
    assert index_write_sizes(None, due_at(5), keys, projected) == [entry]
    assert index_write_sizes(due_at(5), out, keys, projected) == [entry]
    assert index_write_sizes(due_at(5), due_at(6), keys, projected) == [entry, entry]
    assert index_write_sizes(due_at(5), {**due_at(5), "balance": {"N": "3"}}, keys, projected) == []


def test_an_index_projecting_every_attribute_is_written_when_any_attribute_of_an_indexed_item_changes() -> (
    None
):
    keys = ["top_up_pk", "check_at"]
    indexed = {"pk": {"S": "a"}, "top_up_pk": {"S": "T"}, "check_at": {"N": "0"}, "note": {"S": "x" * 2000}}
    changed = {**indexed, "version": {"N": "2"}}
    assert index_write_sizes(indexed, changed, keys, None) == [item_size(changed)]  # the whole item: 2 KB
    assert index_write_sizes(indexed, indexed, keys, None) == []
    assert index_write_sizes({"pk": {"S": "a"}}, {"pk": {"S": "a"}, "version": {"N": "2"}}, keys, None) == []
