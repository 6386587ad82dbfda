"""Id tokens and authorization lists through the operator API, against voltbook's own
simulated chargers: a card the operator adds is accepted, and refused once blocked, online
and offline (from the station's own list)."""

from __future__ import annotations

import asyncio
import contextlib
import secrets
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner, Result

from tests.e2e.conftest import OPERATOR_PASSWORD
from tests.polling import eventually
from voltbook.cli import app as cli
from voltbook.sim import SimOptions, SimulatedStation, StationSpec, fetch_station_specs

Headers = dict[str, str]
PASSWORD = "driver password 123"


@pytest.fixture
async def driver(client: httpx.AsyncClient) -> tuple[str, Headers]:
    email = f"driver-{secrets.token_hex(4)}@example.org"
    made = await client.post("/api/v1/auth/register", json={"email": email, "password": PASSWORD})
    assert made.status_code == 201, made.text
    token = await client.post("/api/v1/auth/token", data={"username": email, "password": PASSWORD})
    headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
    me = (await client.get("/api/v1/me", headers=headers)).json()
    return me["id"], headers


async def test_operators_manage_cards_and_drivers_get_nothing(
    client: httpx.AsyncClient, operator: Headers, driver: tuple[str, Headers]
) -> None:
    driver_id, driver_headers = driver
    url = "/api/v1/operator/id-tokens"
    assert (await client.get(url, headers=driver_headers)).status_code == 403
    made = await client.post(
        url, json={"token": "04AABBCC", "driver_id": driver_id}, headers=operator
    )
    assert made.status_code == 201, made.text
    assert made.json()["standing"] == "Accepted"
    assert made.json()["driver_id"] == driver_id
    again = await client.post(url, json={"token": "04AABBCC"}, headers=operator)
    assert again.status_code == 409
    assert again.headers["content-type"].startswith("application/problem+json")
    bad = await client.post(url, json={"token": "no spaces"}, headers=operator)
    assert bad.status_code == 422
    missing = await client.post(f"{url}/NOPE/block", headers=operator)
    assert missing.status_code == 404
    assert missing.headers["content-type"].startswith("application/problem+json")

    blocked = await client.post(f"{url}/04AABBCC/block", headers=operator)
    assert blocked.json()["standing"] == "Blocked"
    assert (await client.post(f"{url}/04AABBCC/block", headers=operator)).status_code == 409
    page = await client.get(url, params={"standing": "Blocked"}, headers=operator)
    assert [t["token"] for t in page.json()["items"]] == ["04AABBCC"]
    await client.post(f"{url}/04AABBCC/unblock", headers=operator)
    expired = await client.post(f"{url}/04AABBCC/expire", json={}, headers=operator)
    assert expired.json()["standing"] == "Expired"
    renewed = await client.post(f"{url}/04AABBCC/renew", headers=operator)
    assert renewed.json()["standing"] == "Accepted"
    unassigned = await client.put(
        f"{url}/04AABBCC/driver", json={"driver_id": None}, headers=operator
    )
    assert unassigned.json()["driver_id"] is None
    rule = await client.put(
        "/api/v1/operator/auth-list-rule",
        json={"mode": "sites", "site_ids": [3, 1]},
        headers=operator,
    )
    assert rule.json() == {"mode": "sites", "site_ids": [1, 3]}
    assert (await client.get("/api/v1/operator/auth-list-rule", headers=operator)).json() == {
        "mode": "sites",
        "site_ids": [1, 3],
    }
    await client.put("/api/v1/operator/auth-list-rule", json={"mode": "none"}, headers=operator)


async def station_spec(
    client: httpx.AsyncClient, operator: Headers, server_url: str, station_id: str
) -> StationSpec:
    made = await client.post("/api/v1/operator/stations", json={"id": station_id}, headers=operator)
    assert made.status_code == 201, made.text
    me = (await client.get("/api/v1/me", headers=operator)).json()["email"]
    specs = await fetch_station_specs(server_url, me, OPERATOR_PASSWORD, 500, take_over=True)
    return next(s for s in specs if s.id == station_id)


@contextlib.asynccontextmanager
async def charger_of_every_card(
    client: httpx.AsyncClient,
    operator: Headers,
    server_url: str,
    spec: StationSpec,
    options: SimOptions,
) -> AsyncIterator[SimulatedStation]:
    """A simulated charger running, under the operator's rule that every station holds every
    card; stopped after, and the rule back to none (the database is shared with other tests)."""
    rule = await client.put(
        "/api/v1/operator/auth-list-rule", json={"mode": "all"}, headers=operator
    )
    assert rule.status_code == 200, rule.text
    station = SimulatedStation(server_url, spec, options)
    running = asyncio.create_task(station.run())
    try:
        yield station
    finally:
        await station.stop()
        running.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await running
        await client.put("/api/v1/operator/auth-list-rule", json={"mode": "none"}, headers=operator)


@pytest.mark.parametrize("version", ["1.6", "2.0.1"])
async def test_a_card_is_accepted_by_a_charger_and_refused_once_blocked(
    client: httpx.AsyncClient, operator: Headers, server_url: str, version: str
) -> None:
    station_id = f"LIST-{version}-{secrets.token_hex(3)}"
    said: list[str] = []  # what the charger did, as its log says
    spec = await station_spec(client, operator, server_url, station_id)
    options = SimOptions(
        version=version, session_rate=0, meter_interval=0.2, speed=60, auto_stop=False,
        seed=3, reconnect_base=0.1, reconnect_cap=0.3, on_event=lambda _s, text: said.append(text),
    )  # fmt: skip
    tokens = "/api/v1/operator/id-tokens"

    async def refused_for_its_standing(station: SimulatedStation, card: str) -> bool:
        """Presents the card at a free connector: True when refused as not authorized."""
        await eventually(
            lambda: not station.connectors[1].plugged and not station.connectors[1].busy, timeout=20
        )
        before = len(said)
        started = await station.start_session(1, card)
        return not started and f"EVSE 1: {card} not authorized" in said[before:]

    async with charger_of_every_card(client, operator, server_url, spec, options) as station:
        await eventually(lambda: station.booted, timeout=20)
        # Seven cards: more than the charger takes in one SendLocalList (four).
        cards = [f"CARD-{version}-{i}" for i in range(7)]
        for card in cards:
            made = await client.post(tokens, json={"token": card}, headers=operator)
            assert made.status_code == 201, made.text
        # The list holds every accepted token: these cards and the app tokens drivers get at
        # sign-up (other tests' drivers share this database).
        await eventually(lambda: set(cards) <= set(station.local_list.entries), timeout=20)
        assert station.local_list.updates >= 2

        assert await station.start_session(1, cards[0])
        assert await station.stop_session(1)
        assert cards[0] in station.auth_cache

        blocked = await client.post(f"{tokens}/{cards[0]}/block", headers=operator)
        assert blocked.status_code == 200
        await eventually(lambda: station.local_list.entries.get(cards[0]) == "Blocked", timeout=20)
        await eventually(lambda: cards[0] not in station.auth_cache, timeout=20)  # ClearCache
        assert await refused_for_its_standing(station, cards[0])

        # Offline the charger decides from its own list: the blocked card stays refused,
        # a card it never saw but holds as accepted charges.
        station.settings.local_authorize_offline = True
        await station.go_offline(30)
        assert await refused_for_its_standing(station, cards[0])
        assert await station.start_session(1, cards[1])

        state = await client.get(
            f"/api/v1/operator/stations/{station_id}/auth-list", headers=operator
        )
        assert state.json()["outcome"] == "Accepted"
        assert state.json()["entries"] == len(station.local_list.entries)
        assert state.json()["version"] == station.local_list.version


async def test_a_card_blocked_from_the_command_line_leaves_a_running_chargers_cache(
    client: httpx.AsyncClient,
    operator: Headers,
    server_url: str,
    database_url: str,
    tmp_path: Path,
) -> None:
    """The command line has no charger connected to it: the running server carries its
    change out (ADR 0035), the cache cleared and the list brought in line."""
    station_id = f"CLI-{secrets.token_hex(3)}"
    spec = await station_spec(client, operator, server_url, station_id)
    options = SimOptions(
        version="1.6", session_rate=0, meter_interval=0.2, speed=60, auto_stop=False, seed=5,
        reconnect_base=0.1, reconnect_cap=0.3,
    )  # fmt: skip
    card = f"CLI-CARD-{secrets.token_hex(3)}"
    env = {"VOLTBOOK_DATABASE_URL": database_url, "VOLTBOOK_DATA_DIR": str(tmp_path)}

    async def tag(*args: str) -> Result:
        result = await asyncio.to_thread(CliRunner().invoke, cli, ["tag", *args], env=env)
        assert result.exit_code == 0, result.output
        return result

    async with charger_of_every_card(client, operator, server_url, spec, options) as station:
        await eventually(lambda: station.booted, timeout=20)
        await tag("add", card)
        await eventually(lambda: station.local_list.entries.get(card) == "Accepted", timeout=20)
        assert await station.start_session(1, card)
        assert await station.stop_session(1)
        assert card in station.auth_cache

        await tag("block", card)
        await eventually(lambda: station.local_list.entries.get(card) == "Blocked", timeout=20)
        await eventually(lambda: card not in station.auth_cache, timeout=20)  # ClearCache


async def test_a_list_of_long_tokens_goes_in_frames_within_the_chargers_byte_limit(
    client: httpx.AsyncClient, operator: Headers, server_url: str
) -> None:
    """A 2.0.1 charger that takes 50 entries but only 1000 bytes a SendLocalList (the whole
    frame) answers a longer one with FormatViolation: the full list it gets at boot, of cards
    of 36 characters (some 117 bytes an entry as sent), must go in frames the server measured,
    not in parts it estimated."""
    station_id = f"BYTES-{secrets.token_hex(3)}"
    spec = await station_spec(client, operator, server_url, station_id)
    cards = [f"LONG-{i:02d}-{secrets.token_hex(14)}" for i in range(12)]
    assert {len(card) for card in cards} == {36}
    for card in cards:
        made = await client.post(
            "/api/v1/operator/id-tokens", json={"token": card}, headers=operator
        )
        assert made.status_code == 201, made.text
    options = SimOptions(
        version="2.0.1", session_rate=0, auto_stop=False, seed=5, reconnect_base=0.1,
        reconnect_cap=0.3, local_list_items=50, local_list_bytes=1000,
    )  # fmt: skip
    async with charger_of_every_card(client, operator, server_url, spec, options) as station:
        await eventually(lambda: set(cards) <= set(station.local_list.entries), timeout=20)
        assert station.local_list.updates >= 2  # 12 such cards do not fit 1000 bytes

        state = await client.get(
            f"/api/v1/operator/stations/{station_id}/auth-list", headers=operator
        )
        assert state.json()["outcome"] == "Accepted"
        assert state.json()["version"] == station.local_list.version
