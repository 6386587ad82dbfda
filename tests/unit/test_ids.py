"""Time-ordered identifiers (core/ids.py)."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from types import SimpleNamespace

import pytest

from voltbook.core import ids as ids_module
from voltbook.core.ids import TimeOrderedIds


def test_ids_are_uuids_of_version_7_and_rfc_variant() -> None:
    value = TimeOrderedIds().new_id()
    parsed = uuid.UUID(value)
    assert str(parsed) == value  # canonical lower-case, dashed form
    assert parsed.version == 7
    assert parsed.variant == uuid.RFC_4122


def test_ids_carry_the_creation_time_in_milliseconds() -> None:
    before = time.time_ns() // 1_000_000
    value = TimeOrderedIds().new_id()
    after = time.time_ns() // 1_000_000
    assert before <= uuid.UUID(value).int >> 80 <= after


def test_ten_thousand_ids_are_all_different() -> None:
    source = TimeOrderedIds()
    values = [source.new_id() for _ in range(10_000)]
    assert len(set(values)) == len(values)


def test_ids_made_in_later_milliseconds_sort_after_earlier_ones() -> None:
    source = TimeOrderedIds()
    values = []
    for _ in range(5):
        values.append(source.new_id())
        time.sleep(0.002)
    assert sorted(values) == values


def test_sorted_order_equals_creation_order_across_milliseconds(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Each id gets its own millisecond, including ones far apart in time.
    instants: Iterator[int] = iter(
        [1, 2, 3, 1_000, 1_001, 1_700_000_000_000, 1_700_000_000_001, 2**47, 2**48 - 1]
    )
    fake_time = SimpleNamespace(time_ns=lambda: next(instants) * 1_000_000)
    monkeypatch.setattr(ids_module, "time", fake_time)
    source = TimeOrderedIds()
    values = [source.new_id() for _ in range(9)]
    assert sorted(values) == values
    assert all(uuid.UUID(v).version == 7 for v in values)


def test_ids_in_the_same_millisecond_still_differ_and_share_their_time_prefix(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    fake_time = SimpleNamespace(time_ns=lambda: 1_700_000_000_000 * 1_000_000)
    monkeypatch.setattr(ids_module, "time", fake_time)
    source = TimeOrderedIds()
    values = [source.new_id() for _ in range(1_000)]
    assert len(set(values)) == 1_000
    assert {uuid.UUID(v).int >> 80 for v in values} == {1_700_000_000_000}
