"""The bounded memo keeps the newest results and lets the oldest go."""

from __future__ import annotations

import pytest

from voltbook.core.memo import Memo


def test_a_kept_result_is_found_by_its_key() -> None:
    memo: Memo[str, int] = Memo(2)
    assert memo.get("a") is None
    assert memo.put("a", 1) == 1
    assert memo.get("a") == 1


def test_when_full_the_oldest_entry_goes() -> None:
    memo: Memo[str, int] = Memo(2)
    memo.put("a", 1)
    memo.put("b", 2)
    memo.put("a", 10)  # replacing an entry makes no room
    assert len(memo) == 2
    memo.put("c", 3)
    assert (memo.get("a"), memo.get("b"), memo.get("c")) == (None, 2, 3)
    assert len(memo) == 2


def test_a_memo_holds_at_least_one_entry() -> None:
    with pytest.raises(ValueError, match="at least one"):
        Memo(0)
