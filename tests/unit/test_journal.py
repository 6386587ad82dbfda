"""The message journal (journal/model.py, journal/service.py): frames are journalled with
the action they belong to, secrets never reach storage, and each station's journal stays
bounded."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.unit.fakes import FakeClock
from tests.unit.memory_uow import MemoryStore, MemoryUnitOfWork
from voltbook.core.redaction import REDACTED, SECRET_WORDS, redact
from voltbook.journal.model import Direction, Frame, JournalEntry, Kind, entry_of
from voltbook.journal.service import JournalService


@dataclass
class JournalRows:
    entries: list[JournalEntry] = field(default_factory=list)


class MemoryJournal(MemoryStore[JournalRows]):
    """The committed journal; calling it opens a unit of work (the factory the service takes)."""

    def __init__(self) -> None:
        super().__init__(JournalRows())

    @property
    def entries(self) -> list[JournalEntry]:
        return self.state.entries

    def __call__(self, *, read_only: bool = False) -> JournalUow:
        return JournalUow(self, read_only=read_only)


class JournalUow(MemoryUnitOfWork[JournalRows]):
    def __init__(self, store: MemoryJournal, *, read_only: bool = False) -> None:
        super().__init__(store, read_only=read_only)
        self.journal = MemoryJournalRepository(self)


class MemoryJournalRepository:
    """JournalRepository in a unit of work: entries get rising ids."""

    def __init__(self, uow: JournalUow) -> None:
        self._uow = uow

    @property
    def entries(self) -> list[JournalEntry]:
        return self._uow.state.entries

    @entries.setter
    def entries(self, entries: list[JournalEntry]) -> None:
        self._uow.writable("a write").entries = entries

    async def add_many(self, entries: list[JournalEntry]) -> None:
        self._uow.writable("add_many")
        for entry in entries:
            self.entries.append(
                JournalEntry(
                    entry.station_id, entry.direction, entry.at, entry.kind,
                    entry.unique_id, entry.action, entry.text, len(self.entries) + 1,
                )
            )  # fmt: skip

    async def recent(
        self,
        station_id: str,
        before: int | None,
        limit: int,
        action: str | None = None,
        direction: Direction | None = None,
    ) -> list[JournalEntry]:
        found = [
            e
            for e in reversed(self.entries)
            if e.station_id == station_id
            and (before is None or (e.id or 0) < before)
            and (action is None or e.action == action)
            and (direction is None or e.direction is direction)
        ]
        return found[:limit]

    async def trim(self, station_ids: list[str], keep: int) -> int:
        before = len(self.entries)
        for station_id in station_ids:
            mine = [e for e in self.entries if e.station_id == station_id]
            drop = {id(e) for e in mine[: max(0, len(mine) - keep)]}
            self.entries = [e for e in self.entries if id(e) not in drop]
        return before - len(self.entries)

    async def purge(self, older_than: object) -> int:
        before = len(self.entries)
        self.entries = [e for e in self.entries if e.at >= older_than]  # type: ignore[operator]
        return before - len(self.entries)


@pytest.fixture
def store() -> MemoryJournal:
    return MemoryJournal()


@pytest.fixture
def journal(store: MemoryJournal, clock: FakeClock) -> JournalService:
    return JournalService(store, clock, keep=3, retention=timedelta(hours=1))


def frame(direction: Direction, message: list[object], clock: FakeClock) -> Frame:
    return Frame("ST1", direction, clock.now(), json.dumps(message))


def test_an_answer_is_journalled_with_the_action_of_the_call_it_answers(
    clock: FakeClock,
) -> None:
    actions: dict[str, str] = {}
    call = entry_of(frame(Direction.OUT, [2, "a1", "Reset", {"type": "Soft"}], clock), actions)
    answer = entry_of(frame(Direction.IN, [3, "a1", {"status": "Accepted"}], clock), actions)
    # the station's own call with the same id is another conversation
    other = entry_of(frame(Direction.OUT, [3, "a1", {}], clock), actions)
    assert (call.kind, call.action) == (Kind.CALL, "Reset")
    assert (answer.kind, answer.action, answer.unique_id) == (Kind.RESULT, "Reset", "a1")
    assert other.action is None
    error = entry_of(frame(Direction.IN, [4, "zz", "NotImplemented", "", {}], clock), actions)
    assert (error.kind, error.action) == (Kind.ERROR, None)
    junk = entry_of(Frame("ST1", Direction.IN, clock.now(), "[not json"), actions)
    assert (junk.kind, junk.text) == (Kind.INVALID, "[not json")


@pytest.mark.parametrize(
    ("message", "secret"),
    [
        ([2, "1", "ChangeConfiguration", {"key": "AuthorizationKey", "value": "s3cr3t-16chars!!"}], "s3cr3t-16chars!!"),
        (
            [2, "2", "SetVariables", {"setVariableData": [{
                "attributeValue": "n3w-passw0rd-xyz",
                "component": {"name": "SecurityCtrlr"},
                "variable": {"name": "BasicAuthPassword"},
            }]}],
            "n3w-passw0rd-xyz",
        ),
        ([3, "3", {"configurationKey": [{"key": "AuthorizationKey", "readonly": False, "value": "k3y-in-an-answer"}]}], "k3y-in-an-answer"),
        ([2, "4", "DataTransfer", {"vendorId": "x", "data": {"password": "vendor-pass"}}], "vendor-pass"),
    ],
)  # fmt: skip
def test_secrets_are_replaced_and_the_rest_kept(
    message: list[object], secret: str, clock: FakeClock
) -> None:
    entry = entry_of(frame(Direction.OUT, message, clock), {})
    assert secret not in entry.text
    assert REDACTED in entry.text
    assert json.loads(entry.text)[1] == message[1]


def test_a_frame_without_secrets_is_kept_as_sent(clock: FakeClock) -> None:
    text = '[2, "9", "Heartbeat", {}]'
    assert entry_of(Frame("ST1", Direction.IN, clock.now(), text), {}).text == text
    assert redact({"key": "HeartbeatInterval", "value": "300"}) == (
        {"key": "HeartbeatInterval", "value": "300"},
        False,
    )


async def test_frames_are_written_in_one_batch_and_read_newest_first(
    journal: JournalService, store: MemoryJournal
) -> None:
    journal.note("ST1", True, '[2,"b1","Heartbeat",{}]')
    journal.note("ST1", False, '[3,"b1",{"currentTime":"2026-12-01T00:00:00Z"}]')
    journal.note("ST2", True, '[2,"c1","Heartbeat",{}]')
    assert store.entries == []  # nothing written on the path of a frame
    assert await journal.flush() == 3
    assert await journal.flush() == 0
    [answer, call] = await journal.recent("ST1", None, 10)
    assert (answer.direction, answer.action) == (Direction.OUT, "Heartbeat")
    assert (call.direction, call.kind) == (Direction.IN, Kind.CALL)


async def test_each_station_keeps_its_newest_entries_within_the_retention(
    journal: JournalService, store: MemoryJournal, clock: FakeClock
) -> None:
    for n in range(5):
        journal.note("ST1", True, f'[2,"{n}","Heartbeat",{{}}]')
    journal.note("ST2", True, '[2,"x","Heartbeat",{}]')
    await journal.flush()
    assert await journal.purge() == 2
    assert [e.unique_id for e in await journal.recent("ST1", None, 10)] == ["4", "3", "2"]
    clock.advance(3601)
    assert await journal.purge() == 4


def test_a_flooding_station_loses_its_oldest_unwritten_frames(
    store: MemoryJournal, clock: FakeClock
) -> None:
    journal = JournalService(store, clock, max_queued_per_station=2)
    for n in range(5):
        journal.note("ST1", True, f'[2,"{n}","Heartbeat",{{}}]')
    assert journal.queued == 2


async def test_a_station_sending_large_frames_keeps_at_most_its_share_of_text_queued(
    store: MemoryJournal, clock: FakeClock
) -> None:
    journal = JournalService(store, clock, max_queued_text_per_station=10_000)
    for n in range(50):  # 50 frames of about 3,000 characters: 150,000 in all
        journal.note("ST1", True, f'[2,"{n}","DataTransfer",{{"data":"{"x" * 3_000}"}}]')
    journal.note("ST2", True, '[2,"a","Heartbeat",{}]')  # another station keeps its own
    assert journal.queued == 3 + 1  # the newest three of ST1 fit in 10,000 characters
    await journal.flush()
    assert [e.unique_id for e in await journal.recent("ST1", None, 10)] == ["49", "48", "47"]


def test_a_frame_larger_than_the_bound_is_still_kept_alone(
    store: MemoryJournal, clock: FakeClock
) -> None:
    journal = JournalService(store, clock, max_queued_text_per_station=100)
    journal.note("ST1", True, '[2,"1","Heartbeat",{}]')
    journal.note("ST1", True, f'[2,"2","DataTransfer",{{"data":"{"x" * 500}"}}]')
    assert journal.queued == 1


async def test_a_station_gone_leaves_nothing_of_its_unanswered_calls_behind(
    journal: JournalService,
) -> None:
    journal.note("ST1", False, '[2,"r1","Reset",{"type":"Soft"}]')
    journal.forget("ST1")  # the station went away before answering
    journal.note("ST1", True, '[3,"r1",{"status":"Accepted"}]')  # its last words, still queued
    await journal.flush()
    [answer, _] = await journal.recent("ST1", None, 10)
    assert answer.action == "Reset"  # frames queued before it went are still named
    journal.note("ST1", False, '[2,"r2","Reset",{"type":"Soft"}]')
    journal.forget("ST1")
    await journal.flush()
    journal.note("ST1", True, '[3,"r2",{"status":"Accepted"}]')  # on a new connection
    await journal.flush()
    [late, *_] = await journal.recent("ST1", None, 10)
    assert (late.unique_id, late.action) == ("r2", None)  # nothing of the old call was kept


def test_a_secret_whose_name_is_spelt_with_json_escapes_is_still_replaced(
    clock: FakeClock,
) -> None:
    # What the station wrote, byte for byte: the key's "K" as \u004b, "password" as p\u0061ssword.
    hidden = [
        r'[2,"1","ChangeConfiguration",{"key":"Authorization\u004bey","value":"s3cr3t-16chars!!"}]',
        r'[2,"2","DataTransfer",{"vendorId":"x","data":{"p\u0061ssword":"vendor-pass"}}]',
    ]
    for text in hidden:
        entry = entry_of(Frame("ST1", Direction.OUT, clock.now(), text), {})
        assert "s3cr3t" not in entry.text
        assert "vendor-pass" not in entry.text
        assert REDACTED in entry.text


def test_secret_words_are_found_in_any_case(clock: FakeClock) -> None:
    text = (
        '[3,"3",{"configurationKey":[{"key":"AUTHORIZATIONKEY","readonly":false,"value":"k3y"}]}]'
    )
    assert "k3y" not in entry_of(Frame("ST1", Direction.IN, clock.now(), text), {}).text


@st.composite
def disguised(draw: st.DrawFn, word: str) -> str:
    """`word` as a station could write it in a JSON string: any letter in either case, any
    character as a \\uXXXX escape."""
    spelt = []
    for letter in word:
        char = letter.upper() if draw(st.booleans()) else letter
        spelt.append(f"\\u{ord(char):04x}" if draw(st.booleans()) else char)
    return "".join(spelt)


@given(
    st.sampled_from(SECRET_WORDS).flatmap(disguised),
    st.sampled_from(["ChangeConfiguration", "DataTransfer"]),
)
def test_a_secret_is_replaced_however_its_name_is_spelt(name: str, action: str) -> None:
    secret = "s3cr3t-v4lue-0123"
    if action == "ChangeConfiguration":
        payload = f'{{"key":"{name}","value":"{secret}"}}'
    else:
        payload = f'{{"vendorId":"x","data":{{"{name}":"{secret}"}}}}'
    text = f'[2,"1","{action}",{payload}]'
    entry = entry_of(Frame("ST1", Direction.OUT, datetime(2026, 12, 1, tzinfo=UTC), text), {})
    assert secret not in entry.text
    assert REDACTED in entry.text
