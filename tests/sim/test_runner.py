"""Provisioning from the operator API (httpx.MockTransport), running several stations, the
control server and the `voltbook sim` command."""

from __future__ import annotations

import asyncio
import json
from typing import Any
from urllib.parse import parse_qs

import httpx
import pytest
import typer
from typer.testing import CliRunner

from tests.sim import fake_csms, fast_options, running_station
from voltbook.sim import (
    ConnectorSpec,
    SimError,
    StationSpec,
    fetch_station_specs,
    run_stations,
)
from voltbook.sim.command import parse_near, sim_command
from voltbook.sim.control import start_control_server
from voltbook.sim.runner import spec_from_item, websocket_url


def test_websocket_url_follows_the_http_url() -> None:
    assert websocket_url("http://127.0.0.1:8000", "AFDC-1") == "ws://127.0.0.1:8000/ocpp/AFDC-1"
    assert websocket_url("https://example.org/", "A B") == "wss://example.org/ocpp/A%20B"
    assert websocket_url("http://h:1/prefix/", "X") == "ws://h:1/prefix/ocpp/X"


def station_item(number: int) -> dict[str, Any]:
    return {
        "id": f"AFDC-{number}",
        "site_id": 12,
        "online": False,
        "ocpp_version": None,
        "connectors": [
            {
                "evse_id": 1,
                "connector_id": 1,
                "standard": "IEC_62196_T1",
                "power_type": "AC",
                "max_power_kw": None,
                "status": "Unknown",
            },
            {
                "evse_id": 2,
                "connector_id": 1,
                "standard": "IEC_62196_T1_COMBO",
                "power_type": "DC",
                "max_power_kw": 62.5,
                "status": "Unknown",
            },
        ],
    }


class OperatorApi:
    """A fake operator API: 5 stations, 2 per page."""

    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []
        self.stations = [station_item(n) for n in range(1, 6)]
        self.registered: list[dict[str, Any]] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        path = request.url.path
        if path == "/api/v1/auth/token":
            form = parse_qs(request.content.decode())
            if form != {"username": ["ops@example.org"], "password": ["s3cret"]}:
                return httpx.Response(401, json={"detail": "bad credentials"})
            return httpx.Response(
                200, json={"access_token": "tok", "token_type": "bearer", "expires_in": 3600}
            )
        if request.headers.get("Authorization") != "Bearer tok":
            return httpx.Response(401)
        if path == "/api/v1/operator/stations" and request.method == "GET":
            start = int(request.url.params.get("cursor") or 0)
            page = self.stations[start : start + 2]
            more = start + 2 < len(self.stations)
            return httpx.Response(
                200, json={"items": page, "next_cursor": str(start + 2) if more else None}
            )
        if path == "/api/v1/operator/stations" and request.method == "POST":
            body = json.loads(request.content)
            self.registered.append(body)
            return httpx.Response(201, json={"station_id": body["id"], "password": "pw-new"})
        if path.endswith("/credentials") and request.method == "POST":
            station_id = path.split("/")[-2]
            return httpx.Response(
                201, json={"station_id": station_id, "password": f"pw-{station_id}"}
            )
        return httpx.Response(404)


async def test_fetch_signs_in_pages_and_provisions_credentials() -> None:
    api = OperatorApi()
    specs = await fetch_station_specs(
        "http://server",
        "ops@example.org",
        "s3cret",
        3,
        near=(42.35, -71.06),
        transport=httpx.MockTransport(api),
        take_over=True,
    )
    assert [s.id for s in specs] == ["AFDC-1", "AFDC-2", "AFDC-3"]
    assert [s.password for s in specs] == ["pw-AFDC-1", "pw-AFDC-2", "pw-AFDC-3"]
    assert specs[0].connectors == (
        ConnectorSpec(1, 1, "IEC_62196_T1", "AC", None),
        ConnectorSpec(2, 1, "IEC_62196_T1_COMBO", "DC", 62.5),
    )
    lists = [r for r in api.requests if r.url.path == "/api/v1/operator/stations"]
    assert len(lists) == 2  # 2 + 2 items cover 3; the third page is never asked for
    assert lists[0].url.params["limit"] == "100"
    assert lists[0].url.params["near_lat"] == "42.35"
    assert lists[0].url.params["near_lon"] == "-71.06"
    assert "cursor" not in lists[0].url.params
    assert lists[1].url.params["cursor"] == "2"
    posts = [r for r in api.requests if r.url.path.endswith("/credentials")]
    assert [r.url.path for r in posts] == [
        f"/api/v1/operator/stations/AFDC-{n}/credentials" for n in (1, 2, 3)
    ]


async def test_without_take_over_the_simulator_changes_no_station_it_did_not_make() -> None:
    api = OperatorApi()
    api.stations[0] = {**api.stations[0], "id": "SIM-OWN1", "online": False}
    api.stations[1] = {**api.stations[1], "id": "SIM-BUSY", "online": True}
    specs = await fetch_station_specs(
        "http://server", "ops@example.org", "s3cret", 3, transport=httpx.MockTransport(api)
    )
    # Its own offline station gets a new password; others are only models for new ones.
    resets = [r.url.path for r in api.requests if r.url.path.endswith("/credentials")]
    assert resets == ["/api/v1/operator/stations/SIM-OWN1/credentials"]
    assert [b["site_id"] for b in api.registered] == [
        api.stations[2].get("site_id"),
        api.stations[3].get("site_id"),
    ]
    assert all(s.id.startswith("SIM-") for s in specs)
    assert "SIM-BUSY" not in [s.id for s in specs]
    assert specs[1].connectors == spec_from_item(api.stations[2], "x").connectors


async def test_fetch_stops_when_the_list_ends() -> None:
    specs = await fetch_station_specs(
        "http://server",
        "ops@example.org",
        "s3cret",
        50,
        transport=httpx.MockTransport(OperatorApi()),
        take_over=True,
    )
    assert len(specs) == 5


async def test_a_failed_sign_in_is_a_sim_error() -> None:
    with pytest.raises(SimError, match="sign-in failed: HTTP 401"):
        await fetch_station_specs(
            "http://server",
            "ops@example.org",
            "wrong",
            1,
            transport=httpx.MockTransport(OperatorApi()),
        )


def test_spec_from_item_fills_gaps() -> None:
    spec = spec_from_item({"id": "X", "connectors": []}, "pw")
    assert spec == StationSpec("X", "pw", (ConnectorSpec(1),))


async def test_run_stations_runs_them_all_until_cancelled() -> None:
    async with fake_csms("1.6") as csms:
        specs = [StationSpec(f"S-{n}", f"pw-{n}", (ConnectorSpec(1),)) for n in range(3)]
        for spec in specs:
            csms.passwords[spec.id] = spec.password
        task = asyncio.create_task(run_stations(csms.url, specs, fast_options("1.6")))
        await csms.wait_for(lambda: all(csms.sent("StatusNotification", spec.id) for spec in specs))
        task.cancel()
        await asyncio.wait({task})
        await csms.wait_for(lambda: not any(csms.connected(spec.id) for spec in specs))
    assert sorted(csms.connection_count) == ["S-0", "S-1", "S-2"]
    assert not csms.problems


async def test_the_control_server_drives_a_station() -> None:
    async with fake_csms("1.6") as csms, running_station(csms) as station:
        server = await start_control_server([station], 0)
        port = next(iter(server.sockets)).getsockname()[1]
        try:
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
                listing = (await client.get("/stations")).json()
                assert listing[0]["id"] == "SIM-1"
                assert listing[0]["booted"] is True
                started = await client.post("/stations/SIM-1/start?evse=2&id_tag=SIM-CTRL01")
                assert started.json()["started"] is True
                one = (await client.get("/stations/SIM-1")).json()
                assert one["sessions"][0]["id_tag"] == "SIM-CTRL01"
                stopped = await client.post("/stations/SIM-1/stop?evse=2")
                assert stopped.json()["stopped"] is True
                faulted = await client.post("/stations/SIM-1/fault?evse=1&error_code=OverVoltage")
                assert faulted.json()["connectors"][0]["status"] == "Faulted"
                await csms.wait_status(1, "Faulted")
                recovered = await client.post("/stations/SIM-1/recover?evse=1")
                assert recovered.json()["connectors"][0]["status"] == "Available"
                offline = await client.post("/stations/SIM-1/offline?seconds=0.1")
                assert offline.status_code == 200
                assert (await client.get("/stations/NOPE")).status_code == 404
                assert (await client.post("/stations/SIM-1/explode?evse=1")).status_code == 404
                assert (await client.post("/stations/SIM-1/fault?evse=9")).status_code == 404
                assert (await client.post("/stations/SIM-1/fault?evse=x")).status_code == 400
                assert (await client.delete("/stations")).status_code == 405
                assert (await client.get("/elsewhere")).status_code == 404
            await csms.wait_for(lambda: csms.connection_count["SIM-1"] == 2 and station.booted)
        finally:
            server.close()
            await server.wait_closed()
    faulted_status = [s for s in csms.sent("StatusNotification") if s["status"] == "Faulted"]
    assert faulted_status[0]["errorCode"] == "OverVoltage"
    assert not csms.problems


def cli() -> typer.Typer:
    app = typer.Typer()
    app.command("sim")(sim_command)
    return app


def test_the_command_needs_operator_credentials() -> None:
    result = CliRunner().invoke(cli(), ["--count", "1"], env={})
    assert result.exit_code == 2
    assert "operator-email" in result.output


def test_the_command_checks_near() -> None:
    env = {"VOLTBOOK_SIM_OPERATOR_EMAIL": "a@b.c", "VOLTBOOK_SIM_OPERATOR_PASSWORD": "pw"}
    result = CliRunner().invoke(cli(), ["--near", "north"], env=env)
    assert result.exit_code == 2
    assert parse_near("42.3555,-71.0605") == (42.3555, -71.0605)
    assert parse_near(None) is None


def test_the_command_reports_an_unreachable_server_without_secrets() -> None:
    env = {"VOLTBOOK_SIM_OPERATOR_EMAIL": "a@b.c", "VOLTBOOK_SIM_OPERATOR_PASSWORD": "hunter2"}
    result = CliRunner().invoke(
        cli(), ["--url", "http://127.0.0.1:9", "--version", "2.0.1"], env=env
    )
    assert result.exit_code == 1
    assert "error" in result.output
    assert "hunter2" not in result.output


def test_events_print_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    from voltbook.sim.command import print_event

    print_event("AFDC-1", "booted [x]")
    assert "AFDC-1" in capsys.readouterr().out
