"""A peer's outbox: whoever sends never waits on a peer that stopped reading; that peer is
given up (and closed by its owner) when its queue is full or one send blocks too long."""

from __future__ import annotations

import asyncio

import pytest

from voltbook.core.outbox import Outbox


class Peer:
    """A peer whose reads are under the test's control."""

    def __init__(self) -> None:
        self.got: list[int] = []
        self.reading = asyncio.Event()
        self.reading.set()
        self.stalls: list[str] = []

    async def write(self, item: int) -> None:
        await self.reading.wait()
        self.got.append(item)

    async def on_stall(self, reason: str) -> None:
        self.stalls.append(reason)


async def settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


async def test_frames_reach_a_reading_peer_in_order() -> None:
    peer = Peer()
    outbox = Outbox(peer.write, peer.on_stall, limit=4, block_s=1.0)
    outbox.start()
    for item in range(3):
        outbox.offer(item)
    await outbox.put(3)
    await settle()
    assert peer.got == [0, 1, 2, 3]
    assert outbox.stalled is None
    assert peer.stalls == []


async def test_a_full_queue_gives_the_peer_up_without_the_sender_waiting() -> None:
    peer = Peer()
    peer.reading.clear()
    outbox = Outbox(peer.write, peer.on_stall, limit=3, block_s=60.0)
    outbox.start()
    outbox.offer(0)
    await settle()  # the writer holds 0, blocked
    for item in range(1, 5):  # 1-3 fill the queue, 4 finds it full
        outbox.offer(item)
    await settle()
    assert outbox.stalled == "more than 3 frames waiting"
    assert peer.stalls == ["more than 3 frames waiting"]
    outbox.offer(5)  # dropped, and the stall is not reported twice
    await settle()
    assert peer.stalls == ["more than 3 frames waiting"]
    assert outbox.waiting == 0


async def test_a_send_blocked_beyond_the_bound_gives_the_peer_up() -> None:
    peer = Peer()
    peer.reading.clear()
    outbox = Outbox(peer.write, peer.on_stall, limit=100, block_s=0.2)
    outbox.start()
    outbox.offer(0)
    await asyncio.sleep(0.4)
    assert peer.stalls == ["a send blocked for 0.2 s"]


async def test_a_put_waits_for_room_at_most_the_bound() -> None:
    peer = Peer()
    peer.reading.clear()
    outbox = Outbox(peer.write, peer.on_stall, limit=1, block_s=0.2)
    outbox.start()
    outbox.offer(0)
    await settle()
    await outbox.put(1)  # room: the queue holds 1
    started = asyncio.get_running_loop().time()
    await outbox.put(2)  # no room: gives up after the bound, does not wait longer
    waited = asyncio.get_running_loop().time() - started
    assert 0.15 <= waited < 1.0
    assert outbox.stalled is not None


async def test_a_peer_gone_ends_the_writer_without_a_stall() -> None:
    async def gone(item: int) -> None:
        raise ConnectionResetError

    stalls: list[str] = []

    async def on_stall(reason: str) -> None:
        stalls.append(reason)

    outbox = Outbox(gone, on_stall, limit=2, block_s=1.0)
    outbox.start()
    outbox.offer(0)
    await settle()
    assert outbox.closed
    assert stalls == []


def test_bounds_are_positive() -> None:
    async def write(item: int) -> None: ...

    async def on_stall(reason: str) -> None: ...

    with pytest.raises(ValueError, match="at least one frame"):
        Outbox(write, on_stall, limit=0)
    with pytest.raises(ValueError, match="at least one frame"):
        Outbox(write, on_stall, block_s=0)


async def test_an_idle_peer_has_no_writer_running() -> None:
    peer = Peer()
    outbox = Outbox(peer.write, peer.on_stall, limit=4, block_s=1.0)
    outbox.start()
    assert not outbox.writing  # nothing to send: no task kept for it
    outbox.offer(0)
    assert outbox.writing
    await settle()
    assert peer.got == [0]
    assert not outbox.writing  # sent: the writer is gone again
    await outbox.put(1)
    outbox.offer(2)
    await settle()
    assert peer.got == [0, 1, 2]
    assert not outbox.writing


async def test_frames_queued_before_start_go_out_once_started() -> None:
    peer = Peer()
    outbox = Outbox(peer.write, peer.on_stall, limit=4, block_s=1.0)
    outbox.offer(0)
    await settle()
    assert peer.got == []
    outbox.start()
    await settle()
    assert peer.got == [0]


async def test_a_put_waiting_for_room_goes_in_once_the_peer_reads() -> None:
    peer = Peer()
    peer.reading.clear()
    outbox = Outbox(peer.write, peer.on_stall, limit=1, block_s=5.0)
    outbox.start()
    outbox.offer(0)
    await settle()  # the writer holds 0, blocked
    outbox.offer(1)  # the queue is full
    waiting = asyncio.create_task(outbox.put(2))
    await settle()
    assert not waiting.done()
    peer.reading.set()
    await waiting
    await settle()
    assert peer.got == [0, 1, 2]
    assert outbox.stalled is None


async def test_a_put_waiting_for_room_returns_when_the_outbox_closes() -> None:
    peer = Peer()
    peer.reading.clear()
    outbox = Outbox(peer.write, peer.on_stall, limit=1, block_s=5.0)
    outbox.start()
    outbox.offer(0)
    await settle()
    outbox.offer(1)
    waiting = asyncio.create_task(outbox.put(2))
    await settle()
    outbox.close()
    await asyncio.wait_for(waiting, 1.0)  # at once, not after the 5 s bound
    assert outbox.waiting == 0
    assert not outbox.writing
