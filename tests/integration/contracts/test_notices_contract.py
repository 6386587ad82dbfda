"""What every notice and topic repository does, the fake's as well as SQL's."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tests.integration.contracts.conftest import DRIVERS
from voltbook.notices.model import Notice, Urgency
from voltbook.notices.ports import NoticesUowFactory

WHEN = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)
D1, D2 = DRIVERS


def notice(driver_id: str, seq: int, *, lives: timedelta = timedelta(hours=1)) -> Notice:
    return Notice(
        driver_id, seq, "station.status", {"station_id": "ST", "n": seq}, Urgency.NORMAL,
        WHEN, WHEN + lives,
    )  # fmt: skip


async def queue(uow: NoticesUowFactory, driver_id: str, *, lives: timedelta) -> int:
    async with uow() as writing:
        seq = (await writing.notices.next_seqs([driver_id]))[driver_id]
        await writing.notices.add_many([notice(driver_id, seq, lives=lives)])
        await writing.commit()
    return seq


async def test_each_driver_has_a_sequence_of_their_own_that_never_repeats(
    notices_uow: NoticesUowFactory,
) -> None:
    async with notices_uow(read_only=True) as uow:
        assert await uow.notices.latest_seq(D1) == 0
    async with notices_uow() as uow:
        assert await uow.notices.next_seqs([D1, D2, D1]) == {D1: 1, D2: 1}
        assert await uow.notices.next_seqs([D1]) == {D1: 2}
        await uow.commit()
    async with notices_uow(read_only=True) as uow:
        assert await uow.notices.latest_seq(D1) == 2
        assert await uow.notices.latest_seq(D2) == 1


async def test_a_sequence_taken_without_commit_is_taken_again(
    notices_uow: NoticesUowFactory,
) -> None:
    async with notices_uow() as uow:
        assert await uow.notices.next_seqs([D1]) == {D1: 1}
    async with notices_uow() as uow:
        assert await uow.notices.next_seqs([D1]) == {D1: 1}


async def test_notices_after_a_seq_are_the_unexpired_ones_oldest_first(
    notices_uow: NoticesUowFactory,
) -> None:
    first = await queue(notices_uow, D1, lives=timedelta(hours=1))
    short = await queue(notices_uow, D1, lives=timedelta(minutes=1))
    last = await queue(notices_uow, D1, lives=timedelta(hours=1))
    await queue(notices_uow, D2, lives=timedelta(hours=1))
    later = WHEN + timedelta(minutes=5)
    async with notices_uow(read_only=True) as uow:
        found = await uow.notices.after(D1, 0, WHEN, 10)
        assert [n.seq for n in found] == [first, short, last]
        assert found[0] == notice(D1, first)
        assert [n.seq for n in await uow.notices.after(D1, first, later, 10)] == [last]
        assert [n.seq for n in await uow.notices.after(D1, 0, WHEN, 1)] == [first]


async def test_ack_knows_which_notices_exist(notices_uow: NoticesUowFactory) -> None:
    seq = await queue(notices_uow, D1, lives=timedelta(hours=1))
    async with notices_uow() as uow:
        assert await uow.notices.ack(D1, seq, WHEN)
        assert not await uow.notices.ack(D1, seq + 1, WHEN)
        assert not await uow.notices.ack(D2, seq, WHEN)
        await uow.notices.mark_pushed([(D1, seq)], WHEN)
        await uow.commit()


async def test_purge_drops_only_expired_notices(notices_uow: NoticesUowFactory) -> None:
    await queue(notices_uow, D1, lives=timedelta(minutes=1))
    kept = await queue(notices_uow, D1, lives=timedelta(hours=1))
    async with notices_uow() as uow:
        assert await uow.notices.purge(WHEN + timedelta(minutes=2)) == 1
        await uow.commit()
    async with notices_uow(read_only=True) as uow:
        assert [n.seq for n in await uow.notices.after(D1, 0, WHEN, 10)] == [kept]


async def test_topics_are_followed_until_removed(notices_uow: NoticesUowFactory) -> None:
    async with notices_uow() as uow:
        await uow.topics.add(D1, "station:ST", WHEN)
        await uow.topics.add(D1, "area:42.36,-71.06,2000", WHEN)
        await uow.topics.add(D2, "station:ST", WHEN)
        await uow.topics.add(D2, "station:OTHER", WHEN)
        await uow.commit()
    async with notices_uow(read_only=True) as uow:
        assert sorted(await uow.topics.of_driver(D1)) == [
            "area:42.36,-71.06,2000",
            "station:ST",
        ]
        assert sorted(await uow.topics.followers(["station:ST", "station:NONE"])) == [
            (D1, "station:ST"),
            (D2, "station:ST"),
        ]
        assert await uow.topics.area_topics() == [(D1, "area:42.36,-71.06,2000")]
    async with notices_uow() as uow:
        await uow.topics.remove(D1, "station:ST")
        await uow.topics.remove(D1, "station:NEVER")  # not followed: nothing happens
        await uow.commit()
    async with notices_uow(read_only=True) as uow:
        assert await uow.topics.of_driver(D1) == ["area:42.36,-71.06,2000"]
