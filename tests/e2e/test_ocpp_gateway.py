"""Stations connect over OCPP 1.6J and 2.0.1; voltbook follows their state and commands them."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
import websockets
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.e2e.ocpp_client import connect
from tests.polling import eventually
from voltbook.storage.tables import id_tokens

NOW = "2026-11-26T10:00:00Z"
Headers = dict[str, str]


async def add_station(client: httpx.AsyncClient, operator: Headers) -> tuple[str, str]:
    station_id = f"CP-{secrets.token_hex(3)}"
    made = await client.post("/api/v1/operator/stations", json={"id": station_id}, headers=operator)
    assert made.status_code == 201, made.text
    return station_id, made.json()["password"]


async def station_state(client: httpx.AsyncClient, operator: Headers, station_id: str) -> Any:
    return (await client.get(f"/api/v1/operator/stations/{station_id}", headers=operator)).json()


async def session_row(engine: AsyncEngine, station_id: str) -> Any:
    async with engine.connect() as connection:
        return (
            (
                await connection.execute(
                    sa.text("SELECT * FROM charging_sessions WHERE station_id = :s"),
                    {"s": station_id},
                )
            )
            .mappings()
            .all()
        )


BOOT_16 = {"chargePointVendor": "Acme", "chargePointModel": "AC-22"}
BOOT_201 = {"reason": "PowerUp", "chargingStation": {"vendorName": "Acme", "model": "DC-150"}}


async def test_a_16_station_boots_reports_and_charges_once_even_when_replaying(
    client: httpx.AsyncClient, operator: Headers, server_url: str, engine: AsyncEngine
) -> None:
    station_id, password = await add_station(client, operator)
    async with engine.begin() as connection:
        await connection.execute(
            id_tokens.insert().values(
                token="CARD1", status="Accepted", created_at=datetime.now(UTC)
            )
        )
    async with connect(server_url, station_id, password) as station:
        boot = await station.call("BootNotification", BOOT_16)
        assert boot[2]["status"] == "Accepted"
        assert boot[2]["interval"] > 0
        status = {"connectorId": 1, "errorCode": "NoError", "status": "Available", "timestamp": NOW}
        assert (await station.call("StatusNotification", status))[0] == 3
        state = await station_state(client, operator, station_id)
        assert state["online"] is True
        assert state["vendor"] == "Acme"
        assert state["connectors"][0]["status"] == "Available"

        assert (await station.call("Authorize", {"idTag": "CARD1"}))[2]["idTagInfo"][
            "status"
        ] == "Accepted"
        assert (await station.call("Authorize", {"idTag": "STRANGER"}))[2]["idTagInfo"][
            "status"
        ] == "Invalid"

        start = {"connectorId": 1, "idTag": "CARD1", "meterStart": 1000, "timestamp": NOW}
        started = await station.call("StartTransaction", start)
        transaction = started[2]["transactionId"]
        assert started[2]["idTagInfo"]["status"] == "Accepted"
        meter = {
            "connectorId": 1,
            "transactionId": transaction,
            "meterValue": [
                {
                    "timestamp": "2026-11-26T10:05:00Z",
                    "sampledValue": [
                        {
                            "value": "1500",
                            "measurand": "Energy.Active.Import.Register",
                            "unit": "Wh",
                        },
                        {"value": "7.2", "measurand": "Power.Active.Import", "unit": "kW"},
                        {"value": "55", "measurand": "SoC", "unit": "Percent"},
                    ],
                }
            ],
        }
        await station.call("MeterValues", meter)
        stop = {
            "transactionId": transaction,
            "meterStop": 4000,
            "timestamp": "2026-11-26T10:30:00Z",
            "reason": "Local",
        }
        await station.call("StopTransaction", stop)
        [row] = await session_row(engine, station_id)
        assert row["energy_wh"] == 3000
        assert row["soc_percent"] == 55
        assert row["stopped_at"] is not None

        # Reconnected, the station sends its queue again with new message ids.
        again = await station.call("StartTransaction", start)
        assert again[2]["transactionId"] == transaction
        await station.call("MeterValues", meter)
        await station.call("StopTransaction", stop | {"meterStop": 9999})
        assert await session_row(engine, station_id) == [row]


async def test_a_201_station_runs_a_transaction_and_replays_change_nothing(
    client: httpx.AsyncClient, operator: Headers, server_url: str, engine: AsyncEngine
) -> None:
    station_id, password = await add_station(client, operator)
    async with connect(server_url, station_id, password, "ocpp2.0.1") as station:
        assert (await station.call("BootNotification", BOOT_201))[2]["status"] == "Accepted"
        await station.call(
            "StatusNotification",
            {"timestamp": NOW, "connectorStatus": "Occupied", "evseId": 1, "connectorId": 1},
        )

        def event(kind: str, seq: int, wh: float, at: str, **extra: Any) -> dict[str, Any]:
            return {
                "eventType": kind,
                "timestamp": at,
                "triggerReason": "MeterValuePeriodic",
                "seqNo": seq,
                "transactionInfo": {"transactionId": "tx-1", "chargingState": "Charging"} | extra,
                "evse": {"id": 1, "connectorId": 1},
                "meterValue": [
                    {
                        "timestamp": at,
                        "sampledValue": [
                            {"value": wh, "measurand": "Energy.Active.Import.Register"},
                            {
                                "value": 40 + seq,
                                "measurand": "SoC",
                                "unitOfMeasure": {"unit": "Percent"},
                            },
                        ],
                    }
                ],
            }

        await station.call(
            "TransactionEvent",
            event("Started", 0, 100, NOW) | {"idToken": {"idToken": "X", "type": "ISO14443"}},
        )
        state = await station_state(client, operator, station_id)
        assert state["connectors"][0]["status"] == "Charging"
        await station.call("TransactionEvent", event("Updated", 1, 2100, "2026-11-26T10:10:00Z"))
        await station.call(
            "TransactionEvent",
            event("Ended", 2, 5100, "2026-11-26T10:20:00Z", stoppedReason="EVDisconnected"),
        )
        [row] = await session_row(engine, station_id)
        assert row["energy_wh"] == 5000
        assert row["stop_reason"] == "EVDisconnected"

        await station.call("TransactionEvent", event("Updated", 1, 2100, "2026-11-26T10:10:00Z"))
        await station.call(
            "TransactionEvent",
            event("Ended", 2, 9100, "2026-11-26T10:20:00Z", stoppedReason="Local"),
        )
        assert await session_row(engine, station_id) == [row]


COMMANDS_16: list[tuple[str, dict[str, Any], str, dict[str, Any]]] = [
    ("get_configuration", {"keys": ["HeartbeatInterval"]}, "GetConfiguration",
     {"configurationKey": [{"key": "HeartbeatInterval", "readonly": False, "value": "300"}]}),
    ("trigger_message", {"message": "Heartbeat"}, "TriggerMessage", {"status": "Accepted"}),
    ("change_configuration", {"key": "HeartbeatInterval", "value": "60"}, "ChangeConfiguration", {"status": "Accepted"}),
    ("change_availability", {"operative": False, "evse_id": 1}, "ChangeAvailability", {"status": "Scheduled"}),
    ("reset", {"hard": True}, "Reset", {"status": "Accepted"}),
    ("unlock_connector", {"evse_id": 1}, "UnlockConnector", {"status": "Unlocked"}),
    ("remote_start", {"id_tag": "CARD1", "evse_id": 1}, "RemoteStartTransaction", {"status": "Accepted"}),
    ("remote_stop", {"transaction_id": "17"}, "RemoteStopTransaction", {"status": "Rejected"}),
    ("reserve_now", {"reservation_id": 7, "id_tag": "CARD1", "expires_at": "2030-01-01T10:00:00Z"}, "ReserveNow", {"status": "Occupied"}),
    ("cancel_reservation", {"reservation_id": 7}, "CancelReservation", {"status": "Accepted"}),
    ("clear_cache", {}, "ClearCache", {"status": "Accepted"}),
]  # fmt: skip
COMMANDS_201: list[tuple[str, dict[str, Any], str, dict[str, Any]]] = [
    ("get_configuration", {"keys": ["OCPPCommCtrlr.HeartbeatInterval"]}, "GetVariables",
     {"getVariableResult": [{"attributeStatus": "Accepted", "attributeValue": "300",
                             "component": {"name": "OCPPCommCtrlr"}, "variable": {"name": "HeartbeatInterval"}}]}),
    ("trigger_message", {"message": "StatusNotification", "evse_id": 1}, "TriggerMessage", {"status": "Accepted"}),
    ("change_configuration", {"key": "OCPPCommCtrlr.HeartbeatInterval", "value": "60"}, "SetVariables",
     {"setVariableResult": [{"attributeStatus": "Rejected",
                             "component": {"name": "OCPPCommCtrlr"}, "variable": {"name": "HeartbeatInterval"}}]}),
    ("change_availability", {"operative": True}, "ChangeAvailability", {"status": "Accepted"}),
    ("reset", {}, "Reset", {"status": "Scheduled"}),
    ("unlock_connector", {"evse_id": 1, "connector_id": 1}, "UnlockConnector", {"status": "Unlocked"}),
    ("remote_start", {"id_tag": "CARD1"}, "RequestStartTransaction", {"status": "Accepted", "transactionId": "tx-9"}),
    ("remote_stop", {"transaction_id": "tx-9"}, "RequestStopTransaction", {"status": "Accepted"}),
    ("reserve_now", {"reservation_id": 7, "id_tag": "CARD1", "expires_at": "2030-01-01T10:00:00Z", "evse_id": 1}, "ReserveNow", {"status": "Accepted"}),
    ("cancel_reservation", {"reservation_id": 7}, "CancelReservation", {"status": "Rejected"}),
    ("clear_cache", {}, "ClearCache", {"status": "Accepted"}),
]  # fmt: skip


@pytest.mark.parametrize(
    ("version", "table"), [("ocpp1.6", COMMANDS_16), ("ocpp2.0.1", COMMANDS_201)]
)
async def test_every_command_reaches_the_station_and_returns_its_answer(
    client: httpx.AsyncClient,
    operator: Headers,
    server_url: str,
    version: str,
    table: list[tuple[str, dict[str, Any], str, dict[str, Any]]],
) -> None:
    station_id, password = await add_station(client, operator)
    async with connect(server_url, station_id, password, version) as station:
        station.answers = {action: answer for _, _, action, answer in table}
        await station.call("Heartbeat", {})
        for command, body, action, answer in table:
            response = await client.post(
                f"/api/v1/operator/stations/{station_id}/commands/{command}",
                json=body,
                headers=operator,
            )
            assert response.status_code == 200, (command, response.text)
            result = response.json()
            assert result["action"] == action
            assert result["response"] == answer
            assert result["status"] == (answer.get("status") or result["status"])
            assert station.received_calls[-1][2] == action


async def test_commands_to_an_offline_or_silent_station_fail_clearly(
    client: httpx.AsyncClient, operator: Headers, server_url: str
) -> None:
    station_id, password = await add_station(client, operator)
    url = f"/api/v1/operator/stations/{station_id}/commands/clear_cache"
    offline = await client.post(url, json={}, headers=operator)
    assert offline.status_code == 409
    assert offline.headers["content-type"] == "application/problem+json"
    async with connect(server_url, station_id, password) as station:
        await station.call("Heartbeat", {})
        silent = await client.post(url, params={"timeout_s": 0.3}, json={}, headers=operator)
        assert silent.status_code == 504
        station.answers["ClearCache"] = {"status": "Rejected"}
        assert (await client.post(url, json={}, headers=operator)).json()["status"] == "Rejected"
    unknown = await client.post(
        "/api/v1/operator/stations/NOPE/commands/clear_cache", json={}, headers=operator
    )
    assert unknown.status_code == 404


async def test_drivers_cannot_use_the_operator_api(client: httpx.AsyncClient) -> None:
    email = f"d-{secrets.token_hex(3)}@example.org"
    await client.post(
        "/api/v1/auth/register", json={"email": email, "password": "driver password 1"}
    )
    token = await client.post(
        "/api/v1/auth/token", data={"username": email, "password": "driver password 1"}
    )
    headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
    assert (await client.get("/api/v1/operator/stations", headers=headers)).status_code == 403
    assert (await client.get("/api/v1/operator/stations")).status_code == 401


@pytest.mark.parametrize(
    ("who", "password", "subprotocol", "status"),
    [
        ("known", None, "ocpp1.6", 401),
        ("known", "wrong-password-0123456", "ocpp1.6", 401),
        ("unknown", "some-password-0123456", "ocpp1.6", 404),
        ("known", "right", "ocpp1.5", 400),
    ],
)
async def test_refused_at_the_upgrade(
    client: httpx.AsyncClient,
    operator: Headers,
    server_url: str,
    who: str,
    password: str | None,
    subprotocol: str,
    status: int,
) -> None:
    station_id, real_password = await add_station(client, operator)
    if who == "unknown":
        station_id = "NOT-REGISTERED"
    if password == "right":
        password = real_password
    with pytest.raises(websockets.InvalidStatus) as refused:
        async with connect(server_url, station_id, password, subprotocol):
            pass
    assert refused.value.response.status_code == status


async def test_a_new_connection_replaces_the_old_one(
    client: httpx.AsyncClient, operator: Headers, server_url: str
) -> None:
    station_id, password = await add_station(client, operator)
    async with connect(server_url, station_id, password) as first:
        await first.call("Heartbeat", {})
        async with connect(server_url, station_id, password) as second:
            await first.socket.wait_closed()
            assert first.socket.close_code == 4000
            assert (await second.call("Heartbeat", {}))[0] == 3
            state = await station_state(client, operator, station_id)
            assert state["online"] is True


async def test_offline_and_faulted_stations_raise_alarms_that_clear(
    client: httpx.AsyncClient, operator: Headers, server_url: str
) -> None:
    station_id, password = await add_station(client, operator)

    async def alarms() -> list[tuple[str, Any]]:
        found = (await client.get("/api/v1/operator/alarms", headers=operator)).json()["items"]
        return [(a["kind"], a["code"]) for a in found if a["station_id"] == station_id]

    async with connect(server_url, station_id, password) as station:
        fault = {
            "connectorId": 2,
            "errorCode": "GroundFailure",
            "status": "Faulted",
            "timestamp": NOW,
        }
        await station.call("StatusNotification", fault)
        assert await alarms() == [("faulted", "GroundFailure")]
        fixed = fault | {"errorCode": "NoError", "status": "Available"}
        await station.call("StatusNotification", fixed)
        assert await alarms() == []

    async def offline_alarm() -> bool:
        return await alarms() == [("offline", "Offline")]

    await eventually(offline_alarm)
    found = (await client.get("/api/v1/operator/alarms", headers=operator)).json()["items"]
    [offline] = [a for a in found if a["station_id"] == station_id]
    taken = await client.post(
        f"/api/v1/operator/alarms/{offline['id']}/acknowledge", headers=operator
    )
    assert taken.status_code == 200, taken.text
    assert taken.json()["acknowledged_at"] is not None
    assert taken.json()["cleared_at"] is None  # taken in hand, not cleared
    again = await client.post(
        f"/api/v1/operator/alarms/{offline['id']}/acknowledge", headers=operator
    )
    assert again.status_code == 409
    assert await alarms() == [("offline", "Offline")]
    async with connect(server_url, station_id, password) as station:
        await station.call("Heartbeat", {})
        assert await alarms() == []


async def test_an_oversized_frame_closes_with_1009(
    client: httpx.AsyncClient, operator: Headers, server_url: str
) -> None:
    station_id, password = await add_station(client, operator)
    async with connect(server_url, station_id, password) as station:
        await station.socket.send(
            '[2,"big","DataTransfer",{"vendorId":"x","data":"' + "x" * 70_000 + '"}]'
        )
        await station.socket.wait_closed()
        assert station.socket.close_code == 1009
