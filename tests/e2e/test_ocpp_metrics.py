"""`voltbook_ocpp_messages_total` on /metrics counts every OCPP frame where it passes, by
direction, action and kind: with the message journal off too (VOLTBOOK_JOURNAL_ENABLED=false),
the station's calls, the server's answers and commands, and frames that are not OCPP-J."""

from __future__ import annotations

import re
import secrets

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.e2e.ocpp_client import connect
from tests.e2e.test_offers import account
from voltbook.drivers.model import Role
from voltbook.services import Services
from voltbook.stations.commands import Reset


@pytest.fixture
def app_overrides() -> dict[str, object]:
    return {"journal_enabled": False}


@pytest.fixture
def engine(own_database: tuple[str, AsyncEngine]) -> AsyncEngine:
    """This module's tests run against a server of their own, on a database of their own."""
    return own_database[1]


def messages(metrics: str) -> dict[tuple[str, str, str], float]:
    """The counts of voltbook_ocpp_messages_total by (direction, action, kind)."""
    found = {}
    for line in metrics.splitlines():
        match = re.fullmatch(r"voltbook_ocpp_messages_total\{(.*)\} (\S+)", line)
        if match is not None:
            labels = dict(re.findall(r'(\w+)="([^"]*)"', match[1]))
            found[labels["direction"], labels["action"], labels["kind"]] = float(match[2])
    return found


async def test_a_stations_messages_are_counted_with_the_journal_off(
    http: httpx.AsyncClient, engine: AsyncEngine, services: Services, base: str
) -> None:
    _, operator = await account(engine, Role.OPERATOR)
    station_id = f"METRICS-{secrets.token_hex(3)}"
    made = await http.post("/api/v1/operator/stations", json={"id": station_id}, headers=operator)
    assert made.status_code == 201, made.text
    async with connect(base, station_id, made.json()["password"]) as charger:
        charger.answers = {"Reset": {"status": "Accepted"}}
        await charger.call("BootNotification", {"chargePointVendor": "A", "chargePointModel": "B"})
        for _ in range(3):
            await charger.call("Heartbeat", {})
        assert (await charger.raw("not a frame"))[0] == 4
        assert (await services.fleet.command(station_id, Reset(), 5)).status == "Accepted"

    await services.journal.flush()
    kept = await http.get(f"/api/v1/operator/stations/{station_id}/messages", headers=operator)
    assert kept.json()["items"] == []  # the journal is off
    counted = messages((await http.get("/metrics")).text)
    assert counted == {
        ("in", "BootNotification", "call"): 1,
        ("out", "BootNotification", "result"): 1,
        ("in", "Heartbeat", "call"): 3,
        ("out", "Heartbeat", "result"): 3,
        ("in", "", "invalid"): 1,
        ("out", "", "error"): 1,
        ("out", "Reset", "call"): 1,
        ("in", "Reset", "result"): 1,
    }
