"""A bounded memo for the results of a pure function."""

from __future__ import annotations

from typing import Generic, TypeVar

K = TypeVar("K")
V = TypeVar("V")


class Memo(Generic[K, V]):
    """Results by their key, at most `size` of them: when full, the oldest entry goes.

    Only for values that depend on nothing but the key (so a kept value is never stale) and
    are immutable (so sharing one between callers is safe). Not thread-safe: one event loop.
    """

    def __init__(self, size: int) -> None:
        if size < 1:
            raise ValueError("a memo holds at least one entry")
        self._size = size
        self._kept: dict[K, V] = {}

    def get(self, key: K) -> V | None:
        return self._kept.get(key)

    def put(self, key: K, value: V) -> V:
        """Keep `value` for `key`, and return it."""
        if key not in self._kept and len(self._kept) >= self._size:
            del self._kept[next(iter(self._kept))]
        self._kept[key] = value
        return value

    def __len__(self) -> int:
        return len(self._kept)
