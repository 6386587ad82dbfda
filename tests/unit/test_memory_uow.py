"""The generic in-memory unit of work keeps to the unit-of-work port's promises."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from tests.unit.memory_uow import MemoryStore, MemoryUnitOfWork, ReadOnlyViolation


@dataclass
class Notes:
    lines: list[str] = field(default_factory=list)


def store() -> MemoryStore[Notes]:
    return MemoryStore(Notes())


async def test_writes_are_private_until_commit() -> None:
    notes = store()
    async with MemoryUnitOfWork(notes) as uow:
        uow.writable().lines.append("a")
        assert notes.state.lines == []
        await uow.commit()
    assert notes.state.lines == ["a"]
    assert notes.commits == 1


async def test_leaving_without_commit_drops_the_writes() -> None:
    notes = store()
    async with MemoryUnitOfWork(notes) as uow:
        uow.writable().lines.append("a")
    assert notes.state.lines == []
    assert notes.commits == 0


async def test_an_exception_rolls_back() -> None:
    notes = store()

    async def fail_midway() -> None:
        async with MemoryUnitOfWork(notes) as uow:
            uow.writable().lines.append("a")
            raise LookupError

    with pytest.raises(LookupError):
        await fail_midway()
    assert notes.state.lines == []


async def test_writes_after_a_commit_wait_for_the_next_commit() -> None:
    notes = store()
    async with MemoryUnitOfWork(notes) as uow:
        uow.writable().lines.append("a")
        await uow.commit()
        uow.writable().lines.append("b")
    assert notes.state.lines == ["a"]


async def test_read_only_refuses_writes_and_commits_but_sees_the_committed_state() -> None:
    notes = MemoryStore(Notes(["x"]))
    async with MemoryUnitOfWork(notes, read_only=True) as uow:
        assert uow.state.lines == ["x"]
        with pytest.raises(ReadOnlyViolation):
            uow.writable("add")
        with pytest.raises(ReadOnlyViolation):
            await uow.commit()
    assert notes.read_only_flags == [True]


async def test_state_and_commit_need_an_open_block() -> None:
    uow = MemoryUnitOfWork(store())
    with pytest.raises(RuntimeError):
        _ = uow.state
    with pytest.raises(RuntimeError):
        await uow.commit()
