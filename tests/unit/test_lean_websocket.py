"""The receive inbox and the writability flag that replace uvicorn's asyncio.Queue and
asyncio.Event in the WebSocket protocol (api/lean_websocket.py) behave as uvicorn uses them;
the protocol itself runs under every end-to-end OCPP and live-channel test."""

from __future__ import annotations

import asyncio

from voltbook.api.lean_websocket import _Flag, _Inbox


async def test_the_inbox_hands_out_messages_in_the_order_they_came() -> None:
    inbox = _Inbox()
    assert inbox.empty()
    inbox.put_nowait({"n": 1})
    inbox.put_nowait({"n": 2})
    assert not inbox.empty()
    assert await inbox.get() == {"n": 1}
    assert await inbox.get() == {"n": 2}
    assert inbox.empty()


async def test_a_reader_waiting_on_an_empty_inbox_wakes_when_a_message_comes() -> None:
    inbox = _Inbox()
    reader = asyncio.create_task(inbox.get())
    await asyncio.sleep(0)
    assert not reader.done()
    inbox.put_nowait("connect")
    assert await asyncio.wait_for(reader, 1) == "connect"


async def test_a_cancelled_reader_leaves_the_inbox_usable() -> None:
    inbox = _Inbox()
    reader = asyncio.create_task(inbox.get())
    await asyncio.sleep(0)
    reader.cancel()
    await asyncio.gather(reader, return_exceptions=True)
    inbox.put_nowait("after")
    assert await asyncio.wait_for(inbox.get(), 1) == "after"


async def test_the_flag_starts_set_and_holds_senders_while_cleared() -> None:
    flag = _Flag()
    assert flag.is_set()
    await asyncio.wait_for(flag.wait(), 1)  # set: no wait
    flag.clear()
    senders = [asyncio.create_task(flag.wait()) for _ in range(3)]
    await asyncio.sleep(0)
    assert not any(s.done() for s in senders)
    flag.set()
    await asyncio.wait_for(asyncio.gather(*senders), 1)
    assert flag.is_set()
