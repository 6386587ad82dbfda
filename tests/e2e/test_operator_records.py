"""What an operator reads of the network, against a simulated charger on a real server:
the message journal (secrets replaced), utilisation and the rows of the status history, sessions
(listed, exported, closed) and the metrics."""

from __future__ import annotations

import asyncio
import contextlib
import csv
import io
import secrets
from datetime import UTC, datetime, timedelta

import httpx
import segno

from tests.e2e.conftest import OPERATOR_PASSWORD
from tests.polling import eventually
from voltbook.sim import SimOptions, SimulatedStation, fetch_station_specs

Headers = dict[str, str]


async def test_an_operator_reads_what_a_charger_said_did_and_charged(
    client: httpx.AsyncClient, operator: Headers, server_url: str
) -> None:
    station_id = f"REC-{secrets.token_hex(3)}"
    made = await client.post("/api/v1/operator/stations", json={"id": station_id}, headers=operator)
    assert made.status_code == 201, made.text
    card = f"CARD-{secrets.token_hex(3)}"
    added = await client.post("/api/v1/operator/id-tokens", json={"token": card}, headers=operator)
    assert added.status_code == 201
    me = (await client.get("/api/v1/me", headers=operator)).json()["email"]
    spec = next(
        s
        for s in await fetch_station_specs(server_url, me, OPERATOR_PASSWORD, 500, take_over=True)
        if s.id == station_id
    )
    options = SimOptions(
        version="1.6", session_rate=0, meter_interval=0.2, speed=60, auto_stop=False, seed=5
    )
    station = SimulatedStation(server_url, spec, options)
    running = asyncio.create_task(station.run())
    started = datetime.now(UTC) - timedelta(minutes=1)
    base = f"/api/v1/operator/stations/{station_id}"
    try:
        async with asyncio.timeout(20):
            while not station.booted:
                await asyncio.sleep(0.05)
        secret = "new-station-secret-0123"
        changed = await client.post(
            f"{base}/commands/change_configuration",
            json={"key": "AuthorizationKey", "value": secret},
            headers=operator,
        )
        assert changed.status_code == 200, changed.text
        assert await station.start_session(1, card)

        async def journalled() -> bool:
            page = await client.get(f"{base}/messages", headers=operator)
            actions = {(m["direction"], m["kind"], m["action"]) for m in page.json()["items"]}
            return {
                ("in", "call", "BootNotification"),
                ("out", "result", "BootNotification"),
                ("out", "call", "ChangeConfiguration"),
                ("in", "result", "ChangeConfiguration"),
                ("in", "call", "StartTransaction"),
            } <= actions

        await eventually(journalled, timeout=20)
        page = (await client.get(f"{base}/messages?limit=500", headers=operator)).json()
        assert all(secret not in m["text"] for m in page["items"])
        [change] = [
            m for m in page["items"] if m["action"] == "ChangeConfiguration" and m["kind"] == "call"
        ]
        assert '"value":"***"' in change["text"]
        calls = await client.get(
            f"{base}/messages?direction=out&action=ChangeConfiguration", headers=operator
        )
        assert {m["direction"] for m in calls.json()["items"]} == {"out"}

        async def charging_counted() -> bool:
            now = datetime.now(UTC) + timedelta(minutes=1)
            found = await client.get(
                "/api/v1/operator/utilisation",
                params={
                    "from": started.isoformat(),
                    "to": now.isoformat(),
                    "station_id": station_id,
                },
                headers=operator,
            )
            assert found.status_code == 200, found.text
            return any(u["seconds"].get("charging", 0) > 0 for u in found.json()["items"])

        await eventually(charging_counted, timeout=20)
        changes = await client.get(
            "/api/v1/operator/utilisation/status-history",
            params={
                "from": started.isoformat(),
                "to": (datetime.now(UTC) + timedelta(minutes=1)).isoformat(),
                "station_id": station_id,
            },
            headers=operator,
        )
        assert changes.status_code == 200, changes.text
        rows = changes.json()["items"]
        assert rows == sorted(rows, key=lambda r: r["at"], reverse=True)
        assert {r["station_id"] for r in rows} == {station_id}
        assert ("Charging", "charging") in {(r["status"], r["state"]) for r in rows}
        idle = await client.get(
            "/api/v1/operator/utilisation/idle-places",
            params={"from": started.isoformat(), "to": (started + timedelta(hours=1)).isoformat()},
            headers=operator,
        )
        assert station_id in {s for p in idle.json()["items"] for s in p["station_ids"]}

        sessions = await client.get(
            "/api/v1/operator/sessions", params={"station_id": station_id}, headers=operator
        )
        [session] = sessions.json()["items"]
        assert (session["id_tag"], session["stopped_at"]) == (card, None)
        warned = await client.get(
            f"{base}/interruptions", params={"command": "reset", "hard": "true"}, headers=operator
        )
        assert warned.json() == {
            "interrupts": True,
            "evse_ids": [1],
            "session_ids": [session["id"]],
        }
        harmless = await client.get(
            f"{base}/interruptions",
            params={"command": "change_availability", "evse_id": 1},
            headers=operator,
        )
        assert harmless.json()["interrupts"] is False
        target = await client.get(f"{base}/evses/1/qr-target", headers=operator)
        assert target.json()["url"] == f"{server_url}/#/charge/{station_id}/1"
        qr = await client.get(f"{base}/evses/1/qr.svg", headers=operator)
        assert qr.headers["content-type"] == "image/svg+xml"
        assert qr.text.startswith("<svg")
        # The code says that URL: the same symbol as the URL's own, drawn the same way.
        expected = io.BytesIO()
        segno.make(f"{server_url}/#/charge/{station_id}/1", error="m").save(
            expected, kind="svg", scale=8, border=4, xmldecl=False
        )
        assert qr.content == expected.getvalue()
        assert segno.make(f"{server_url}/#/charge/{station_id}/2", error="m").matrix != (
            segno.make(f"{server_url}/#/charge/{station_id}/1", error="m").matrix
        )  # a code per EVSE
        assert (await client.get(f"{base}/evses/99/qr.svg", headers=operator)).status_code == 404
        exported = await client.get(
            "/api/v1/operator/sessions.csv", params={"id_tag": card}, headers=operator
        )
        assert exported.headers["content-type"].startswith("text/csv")
        [row] = list(csv.DictReader(io.StringIO(exported.text)))
        assert row["station_id"] == station_id
        closed = await client.post(
            f"/api/v1/operator/sessions/{session['id']}/close",
            json={"reason": "stuck open"},
            headers=operator,
        )
        assert closed.json()["stop_reason"] == "stuck open"
        again = await client.post(
            f"/api/v1/operator/sessions/{session['id']}/close",
            json={"reason": "stuck open"},
            headers=operator,
        )
        assert again.status_code == 409

        metrics = (await client.get("/metrics")).text
        assert "voltbook_stations_connected" in metrics
        assert (
            'voltbook_ocpp_messages_total{action="BootNotification",direction="in",kind="call"}'
            in metrics
        )
        assert (
            # The charger refuses it: a 1.6 AuthorizationKey is hex (security whitepaper).
            'voltbook_ocpp_command_seconds_count{action="ChangeConfiguration",outcome="Rejected"}'
            in metrics
        )
    finally:
        await station.stop()
        running.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await running
