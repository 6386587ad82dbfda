"""A 2.0.1 station's whole configuration through GetBaseReport: the NotifyReport parts it
sends (seqNo, tbc) are put together into one report, in order, within a timeout and a bound."""

from __future__ import annotations

import asyncio
import secrets
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.e2e.conftest import simulated_station_spec
from tests.e2e.ocpp_client import ScriptedStation, connect
from tests.polling import eventually
from voltbook.sim import SimOptions, SimulatedStation

Headers = dict[str, str]


def item(component: str, variable: str, value: str) -> dict[str, Any]:
    return {
        "component": {"name": component},
        "variable": {"name": variable},
        "variableAttribute": [{"type": "Actual", "value": value, "mutability": "ReadWrite"}],
    }


def part(request_id: int, seq_no: int, tbc: bool, *items: dict[str, Any]) -> dict[str, Any]:
    return {
        "requestId": request_id,
        "generatedAt": "2026-12-07T05:00:00Z",
        "seqNo": seq_no,
        "tbc": tbc,
        "reportData": list(items),
    }


async def registered(client: httpx.AsyncClient, operator: Headers) -> tuple[str, str]:
    station_id = f"REPORT-{secrets.token_hex(3)}"
    made = await client.post("/api/v1/operator/stations", json={"id": station_id}, headers=operator)
    return station_id, str(made.json()["password"])


async def asked_report(station: ScriptedStation) -> int:
    await eventually(lambda: any(c[2] == "GetBaseReport" for c in station.received_calls))
    [call] = [c for c in station.received_calls if c[2] == "GetBaseReport"]
    assert call[3]["reportBase"] == "FullInventory"
    return int(call[3]["requestId"])


async def test_a_report_in_several_parts_is_put_together_in_order(
    client: httpx.AsyncClient, operator: Headers, server_url: str
) -> None:
    station_id, password = await registered(client, operator)
    async with connect(server_url, station_id, password, "ocpp2.0.1") as station:
        station.answers["GetBaseReport"] = {"status": "Accepted"}
        asking = asyncio.create_task(
            client.post(
                f"/api/v1/operator/stations/{station_id}/commands/get_base_report",
                json={},
                headers=operator,
            )
        )
        request_id = await asked_report(station)
        # Parts arrive out of order; a part of another report is no part of this one.
        for payload in (
            part(request_id, 1, True, item("TxCtrlr", "EVConnectionTimeOut", "90")),
            part(request_id + 1, 0, False, item("Stray", "Variable", "x")),
            part(
                request_id,
                0,
                True,
                item("OCPPCommCtrlr", "HeartbeatInterval", "300"),
                item("AuthCtrlr", "LocalPreAuthorize", "false"),
            ),
            part(request_id, 2, False, item("SampledDataCtrlr", "TxUpdatedInterval", "60")),
        ):
            assert (await station.call("NotifyReport", payload))[0] == 3
        answer = await asking
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert (body["action"], body["status"]) == ("GetBaseReport", "Accepted")
    names = [
        f"{i['component']['name']}.{i['variable']['name']}" for i in body["response"]["reportData"]
    ]
    assert names == [
        "OCPPCommCtrlr.HeartbeatInterval",
        "AuthCtrlr.LocalPreAuthorize",
        "TxCtrlr.EVConnectionTimeOut",
        "SampledDataCtrlr.TxUpdatedInterval",
    ]


async def test_an_unfinished_report_times_out_and_an_endless_one_is_cut_off(
    client: httpx.AsyncClient, operator: Headers, server_url: str
) -> None:
    station_id, password = await registered(client, operator)
    path = f"/api/v1/operator/stations/{station_id}/commands/get_base_report"
    async with connect(server_url, station_id, password, "ocpp2.0.1") as station:
        station.answers["GetBaseReport"] = {"status": "Accepted"}
        asking = asyncio.create_task(
            client.post(path, json={}, params={"timeout_s": 1}, headers=operator)
        )
        request_id = await asked_report(station)
        await station.call("NotifyReport", part(request_id, 0, True, item("A", "B", "1")))
        unfinished = await asking
        assert unfinished.status_code == 504, unfinished.text
        assert unfinished.headers["content-type"].startswith("application/problem+json")

        station.received_calls.clear()
        asking = asyncio.create_task(client.post(path, json={}, headers=operator))
        request_id = await asked_report(station)
        await station.call("NotifyReport", part(request_id, 600, True, item("A", "B", "1")))
        endless = await asking
        assert endless.status_code == 502, endless.text
        # The connection is still the station's.
        assert (await station.call("Heartbeat", {}))[0] == 3


async def test_a_refused_report_returns_the_stations_answer_and_1_6_is_told_to_read_otherwise(
    client: httpx.AsyncClient, operator: Headers, server_url: str
) -> None:
    station_id, password = await registered(client, operator)
    path = f"/api/v1/operator/stations/{station_id}/commands/get_base_report"
    async with connect(server_url, station_id, password, "ocpp2.0.1") as station:
        station.answers["GetBaseReport"] = {"status": "NotSupported"}
        refused = await client.post(path, json={}, headers=operator)
        assert refused.status_code == 200
        assert refused.json()["status"] == "NotSupported"
        assert "reportData" not in refused.json()["response"]
    async with connect(server_url, station_id, password, "ocpp1.6"):
        old = await client.post(path, json={}, headers=operator)
        assert old.status_code == 422, old.text
    bad = await client.post(path, json={"report_base": "Everything"}, headers=operator)
    assert bad.status_code == 422


@pytest.mark.parametrize("base", ["FullInventory", "ConfigurationInventory"])
async def test_voltbooks_simulated_charger_reports_its_configuration_in_parts(
    client: httpx.AsyncClient,
    operator: Headers,
    server_url: str,
    engine: AsyncEngine,
    base: str,
) -> None:
    station_id = f"REPSIM-{secrets.token_hex(3)}"
    spec = await simulated_station_spec(client, operator, server_url, engine, station_id, "C-1")
    options = SimOptions(version="2.0.1", session_rate=0, seed=7, heartbeat_interval=45)
    station = SimulatedStation(server_url, spec, options)
    running = asyncio.create_task(station.run())
    try:
        await eventually(lambda: station.booted, timeout=20)
        answer = await client.post(
            f"/api/v1/operator/stations/{station_id}/commands/get_base_report",
            json={"report_base": base},
            headers=operator,
        )
    finally:
        running.cancel()
        await asyncio.gather(running, return_exceptions=True)
    assert answer.status_code == 200, answer.text
    report = {
        f"{i['component']['name']}.{i['variable']['name']}": i["variableAttribute"][0]
        for i in answer.json()["response"]["reportData"]
    }
    assert len(report) > 8  # more than one part's worth
    assert report["OCPPCommCtrlr.HeartbeatInterval"]["value"] == "45"
    assert report["SecurityCtrlr.BasicAuthPassword"] == {
        "type": "Actual",
        "mutability": "WriteOnly",
    }
    assert ("ChargingStation.Model" in report) is (base == "FullInventory")
