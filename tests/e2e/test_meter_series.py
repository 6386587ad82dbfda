"""A session's meter values, as simulated 1.6 and 2.0.1 chargers send them, are kept and
read back by an operator: energy, power and state of charge over time."""

from __future__ import annotations

import asyncio
import contextlib
import secrets
from datetime import UTC, datetime
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.e2e.conftest import simulated_station_spec
from tests.e2e.ocpp_client import connect
from tests.e2e.test_reservations import new_drivers
from tests.polling import eventually
from voltbook.sim import SimOptions, SimulatedStation

Headers = dict[str, str]


async def add_station(client: httpx.AsyncClient, operator: Headers) -> tuple[str, str]:
    station_id = f"MV-{secrets.token_hex(3)}"
    made = await client.post("/api/v1/operator/stations", json={"id": station_id}, headers=operator)
    assert made.status_code == 201, made.text
    card = await client.post(
        "/api/v1/operator/id-tokens", json={"token": "MVCARD"}, headers=operator
    )
    assert card.status_code in (201, 409)
    return station_id, made.json()["password"]


def sample(
    at: str, wh: float, kw: float | None = None, soc: float | None = None, v201: bool = False
) -> Any:
    """A meterValue entry as 1.6 (text values, `unit`) or 2.0.1 (numbers, `unitOfMeasure`)
    spells it."""

    def value(number: float, measurand: str, unit: str) -> dict[str, Any]:
        if v201:
            return {"value": number, "measurand": measurand, "unitOfMeasure": {"unit": unit}}
        return {"value": str(number), "measurand": measurand, "unit": unit}

    values = [value(wh, "Energy.Active.Import.Register", "Wh")]
    if kw is not None:
        values.append(value(kw, "Power.Active.Import", "kW"))
    if soc is not None:
        values.append(value(soc, "SoC", "Percent"))
    return {"timestamp": at, "sampledValue": values}


async def series(client: httpx.AsyncClient, operator: Headers, session_id: int) -> list[Any]:
    found = await client.get(
        f"/api/v1/operator/sessions/{session_id}/meter-values", headers=operator
    )
    assert found.status_code == 200, found.text
    points: list[Any] = found.json()["points"]
    return [(p["at"][11:19], p["energy_wh"], p["power_w"], p["soc_percent"]) for p in points]


async def test_a_16_chargers_meter_values_and_stop_data_make_the_sessions_series(
    client: httpx.AsyncClient, operator: Headers, server_url: str
) -> None:
    station_id, password = await add_station(client, operator)
    async with connect(server_url, station_id, password) as station:
        await station.call("BootNotification", {"chargePointVendor": "A", "chargePointModel": "B"})
        start = {"connectorId": 1, "idTag": "MVCARD", "meterStart": 1000,
                 "timestamp": "2026-12-01T10:00:00Z"}  # fmt: skip
        transaction = (await station.call("StartTransaction", start))[2]["transactionId"]
        for minute, wh, kw, soc in [(5, 1500, 7.2, 40), (10, 2100, 7.4, 44)]:
            at = f"2026-12-01T10:{minute:02d}:00Z"
            meter = {"connectorId": 1, "transactionId": transaction,
                     "meterValue": [sample(at, wh, kw, soc)]}  # fmt: skip
            assert (await station.call("MeterValues", meter))[0] == 3
            await station.call("MeterValues", meter)  # resent after a reconnect: kept once
        await station.call(
            "StopTransaction",
            {
                "transactionId": transaction,
                "meterStop": 3000,
                "timestamp": "2026-12-01T10:20:00Z",
                "transactionData": [
                    sample("2026-12-01T10:00:00Z", 1000),  # the start again: not kept twice
                    sample("2026-12-01T10:15:00Z", 2600, 7.0, 49),
                ],
            },
        )
    expected = [
        ("10:00:00", 0.0, None, None),
        ("10:05:00", 500.0, 7200.0, 40.0),
        ("10:10:00", 1100.0, 7400.0, 44.0),
        ("10:15:00", 1600.0, 7000.0, 49.0),
        ("10:20:00", 2000.0, None, None),
    ]
    assert await series(client, operator, transaction) == expected

    async def written() -> bool:  # the same once the batch is written
        return await series(client, operator, transaction) == expected

    await eventually(written, timeout=10)
    missing = await client.get("/api/v1/operator/sessions/999999/meter-values", headers=operator)
    assert missing.status_code == 404
    assert missing.headers["content-type"] == "application/problem+json"


async def test_a_201_chargers_transaction_events_make_the_sessions_series(
    client: httpx.AsyncClient, operator: Headers, server_url: str
) -> None:
    station_id, password = await add_station(client, operator)
    async with connect(server_url, station_id, password, "ocpp2.0.1") as station:
        boot = {"reason": "PowerUp", "chargingStation": {"vendorName": "A", "model": "B"}}
        await station.call("BootNotification", boot)

        def event(kind: str, seq: int, at: str, wh: float, kw: float, soc: float) -> Any:
            return {
                "eventType": kind,
                "timestamp": at,
                "triggerReason": "MeterValuePeriodic",
                "seqNo": seq,
                "transactionInfo": {"transactionId": "tx-mv", "chargingState": "Charging"},
                "evse": {"id": 1, "connectorId": 1},
                "meterValue": [sample(at, wh, kw, soc, v201=True)],
            }

        await station.call(
            "TransactionEvent", event("Started", 0, "2026-12-01T11:00:00Z", 200, 0, 20)
        )
        await station.call(
            "TransactionEvent", event("Updated", 1, "2026-12-01T11:10:00Z", 8200, 48, 35)
        )
        await station.call(
            "TransactionEvent", event("Updated", 1, "2026-12-01T11:10:00Z", 8200, 48, 35)
        )
        await station.call(
            "TransactionEvent", event("Ended", 2, "2026-12-01T11:20:00Z", 15200, 42, 50)
        )
    sessions = await client.get(
        "/api/v1/operator/sessions", params={"station_id": station_id}, headers=operator
    )
    [session] = sessions.json()["items"]
    assert datetime.fromisoformat(session["started_at"]) == datetime(2026, 12, 1, 11, tzinfo=UTC)
    assert await series(client, operator, session["id"]) == [
        ("11:00:00", 0.0, 0.0, 20.0),
        ("11:10:00", 8000.0, 48000.0, 35.0),
        ("11:20:00", 15000.0, 42000.0, 50.0),
    ]


async def test_a_driver_reads_the_meter_values_of_their_own_charge_and_no_one_elses(
    client: httpx.AsyncClient, operator: Headers, server_url: str, engine: AsyncEngine
) -> None:
    station_id = f"MVA-{secrets.token_hex(3)}"
    spec = await simulated_station_spec(client, operator, server_url, engine, station_id, "C-1")
    options = SimOptions(
        version="1.6", session_rate=0, meter_interval=0.3, speed=1, auto_stop=False, seed=4,
        reconnect_base=0.1, reconnect_cap=0.5,
    )  # fmt: skip
    station = SimulatedStation(server_url, spec, options)
    running = asyncio.create_task(station.run())
    driver, stranger = await new_drivers(engine, 2)
    try:

        async def available() -> bool:
            seen = await client.get(f"/api/v1/operator/stations/{station_id}", headers=operator)
            return any(c["status"] == "Available" for c in seen.json().get("connectors", []))

        await eventually(available, timeout=20)
        started = await client.post(
            "/api/v1/sessions",
            json={"station_id": station_id, "evse_id": 1},
            headers=driver | {"Idempotency-Key": "mv-1"},
        )
        assert started.status_code == 201, started.text
        url = f"/api/v1/sessions/{started.json()['id']}/meter-values"

        async def a_few_readings() -> bool:
            found = await client.get(url, headers=driver)
            assert found.status_code == 200, found.text
            return len(found.json()["points"]) >= 3

        await eventually(a_few_readings, timeout=20)
        series = (await client.get(url, headers=driver)).json()
        energies = [p["energy_wh"] for p in series["points"] if p["energy_wh"] is not None]
        assert energies == sorted(energies)  # a register only rises
        operators_view = await client.get(
            f"/api/v1/operator/sessions/{series['session_id']}/meter-values", headers=operator
        )
        assert operators_view.json()["points"][: len(series["points"])] == series["points"]
        assert (await client.get(url, headers=stranger)).status_code == 404
        denied = await client.get(
            f"/api/v1/operator/sessions/{series['session_id']}/meter-values", headers=driver
        )
        assert denied.status_code == 403
    finally:
        await station.stop()
        running.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await running
