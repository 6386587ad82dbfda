"""Live-channel fuzzing: generated messages, well-formed and not, on one open socket.
Promise: an `error` for each bad one, the socket never dropped. The short variant runs with
the normal tests; the `long` one sends 10,000 messages."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
import websockets
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.e2e.test_reservations import new_drivers
from tests.reliability.volume import long_share

TYPES = ["location", "vehicle", "subscribe", "unsubscribe", "ack", "resume", "ping", "auth", "x"]
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**80), max_value=2**80),
    st.floats(allow_nan=False),
    st.text(st.characters(min_codepoint=0, max_codepoint=0x10FFFF), max_size=20),
)
values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner, max_size=4)
    ),
    max_leaves=12,
)
messages = st.one_of(
    st.fixed_dictionaries(
        {"type": st.sampled_from(TYPES), "id": st.one_of(st.integers(0, 10**6), st.text(max_size=8))},
        optional={
            "lat": values, "lon": values, "seq": values, "since": values, "topic": values,
            "vehicle_id": values, "soc_percent": values, "at": values, "accuracy_m": values,
        },
    ).map(json.dumps),
    values.map(json.dumps),
    st.text(max_size=40),  # not JSON at all
    st.integers(1, 3_000).map(lambda n: '{"type": "ping", "x": ' + "[" * n + "]" * n + "}"),
)  # fmt: skip


PER_SOCKET = 15  # with its fences, within an app's burst allowance (no rate-limit errors)


async def fuzz(server_url: str, who: dict[str, str], texts: list[str]) -> dict[str, int]:
    """Send each text, then a fence ping, and read up to the fence's answer (on a socket per
    `PER_SOCKET` texts); returns how many answers of each type came. Fails if a socket
    closes or a fence goes unanswered."""
    url = server_url.replace("http://", "ws://") + "/api/v1/live"
    seen: dict[str, int] = {}
    for start in range(0, len(texts), PER_SOCKET):
        async with websockets.connect(url, additional_headers=who, max_size=2**22) as socket:
            await socket.recv()  # welcome
            for text in texts[start : start + PER_SOCKET]:
                await socket.send(text)
                await socket.send('{"type": "ping", "id": "fence"}')
                while True:
                    try:
                        async with asyncio.timeout(10):
                            answer: dict[str, Any] = json.loads(await socket.recv())
                    except TimeoutError:
                        raise AssertionError(f"no answer after {text[:200]!r}") from None
                    if answer.get("id") == "fence":
                        break
                    seen[answer["type"]] = seen.get(answer["type"], 0) + 1
            assert socket.close_code is None  # never dropped
    return seen


def _fuzz_test(count: int, examples: int) -> Any:
    @settings(
        max_examples=examples,
        deadline=None,
        suppress_health_check=[
            HealthCheck.function_scoped_fixture,
            HealthCheck.too_slow,
            HealthCheck.data_too_large,
        ],
    )
    @given(texts=st.lists(messages, min_size=count, max_size=count))
    async def test(server_url: str, engine: AsyncEngine, texts: list[str]) -> None:
        [who] = await new_drivers(engine, 1)
        seen = await fuzz(server_url, who, texts)
        assert set(seen) <= {"error", "pong", "subscribed", "unsubscribed", "welcome"}, seen

    return test


# Short: 3 sockets x 100 messages with the normal tests. Long: 100 x 100 = 10,000 (Hypothesis
# cannot draw one list of thousands of messages, and draws of 500 can take it many minutes).
test_generated_messages_get_answers_and_never_drop_the_socket = _fuzz_test(100, 3)
test_ten_thousand_generated_messages_never_drop_a_socket = pytest.mark.long(
    _fuzz_test(100, long_share(100))
)
