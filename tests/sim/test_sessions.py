"""Boot, heartbeats, charging sessions, faults and offline operation, in both OCPP versions."""

from __future__ import annotations

import pytest

from tests.polling import eventually
from tests.sim import (
    Commands,
    count,
    fake_csms,
    running_station,
    status_of,
    transactions,
)

VERSIONS = ["1.6", "2.0.1"]
pytestmark = pytest.mark.parametrize("version", VERSIONS)


async def test_boot_then_status_for_every_connector_then_heartbeats(version: str) -> None:
    async with (
        fake_csms(version) as csms,
        running_station(csms, heartbeat_interval=0.05) as station,
    ):
        await csms.wait_for(lambda: len(csms.sent("Heartbeat")) >= 2)
        assert station.connected
        assert station.booted
    boot = csms.sent("BootNotification")[0]
    statuses = csms.sent("StatusNotification")
    if version == "1.6":
        assert boot["chargePointVendor"] == "voltbook"
        assert boot["chargePointModel"] == "SimCharger-DC"
        assert {s["connectorId"] for s in statuses} == {1, 2}
        assert {(s["status"], s["errorCode"]) for s in statuses} == {("Available", "NoError")}
    else:
        assert boot["reason"] == "PowerUp"
        assert boot["chargingStation"]["vendorName"] == "voltbook"
        assert {(s["evseId"], s["connectorId"]) for s in statuses} == {(1, 1), (1, 2), (2, 1)}
        assert {s["connectorStatus"] for s in statuses} == {"Available"}
    assert all(s["timestamp"].endswith("Z") for s in statuses)
    assert [r.action for r in csms.calls][:1] == ["BootNotification"]
    assert not csms.problems


async def test_a_session_starts_meters_rising_energy_and_soc_and_stops(version: str) -> None:
    async with fake_csms(version) as csms, running_station(csms) as station:
        assert await station.start_session(1, "SIM-AAAAAA")
        assert station.sessions[1].id_tag == "SIM-AAAAAA"
        await csms.wait_for(lambda: count(csms, "update") >= 3)
        assert await station.stop_session(1)
        await csms.wait_status(1, "Available")
        assert 1 not in station.sessions
    messages = transactions(csms)
    kinds = [m.kind for m in messages]
    assert kinds[0] == "start"
    assert kinds[-1] == "end"
    assert kinds.count("update") >= 3
    assert len({m.transaction_id for m in messages}) == 1
    updates = [m for m in messages if m.kind == "update"]
    energies = [m.energy_wh or 0.0 for m in updates]
    socs = [m.soc or 0.0 for m in updates]
    assert energies == sorted(energies)
    assert energies[-1] > energies[0]
    assert socs == sorted(socs)
    assert socs[-1] > socs[0]
    assert (messages[-1].energy_wh or 0.0) >= energies[-1]
    assert csms.sent("Authorize")
    if version == "1.6":
        start = csms.sent("StartTransaction")[0]
        assert start["connectorId"] == 1
        assert start["idTag"] == "SIM-AAAAAA"
        assert csms.sent("StopTransaction")[0]["reason"] == "Local"
        statuses = [s["status"] for s in csms.sent("StatusNotification") if s["connectorId"] == 1]
        assert statuses == ["Available", "Preparing", "Charging", "Finishing", "Available"]
        sampled = csms.sent("MeterValues")[0]["meterValue"][0]["sampledValue"]
        assert {(s["measurand"], s["unit"], s["context"]) for s in sampled} == {
            ("Energy.Active.Import.Register", "Wh", "Sample.Periodic"),
            ("Power.Active.Import", "W", "Sample.Periodic"),
            ("SoC", "Percent", "Sample.Periodic"),
        }
        assert next(s for s in sampled if s["measurand"] == "SoC")["location"] == "EV"
    else:
        events = csms.sent("TransactionEvent")
        assert [e["seqNo"] for e in events] == list(range(len(events)))
        assert events[0]["triggerReason"] == "Authorized"
        assert events[0]["idToken"] == {"idToken": "SIM-AAAAAA", "type": "ISO14443"}
        assert events[0]["evse"] == {"id": 1, "connectorId": 1}
        assert {e["triggerReason"] for e in events[1:-1]} == {"MeterValuePeriodic"}
        assert events[-1]["triggerReason"] == "StopAuthorized"
        assert events[-1]["transactionInfo"]["stoppedReason"] == "Local"
        assert not any(e.get("offline") for e in events)
    assert not csms.problems


async def test_a_tag_the_server_refuses_starts_nothing(version: str) -> None:
    async with (
        fake_csms(version, rejected_tags={"SIM-BAD000"}) as csms,
        running_station(csms) as station,
    ):
        assert not await station.start_session(2, "SIM-BAD000")
        assert csms.sent("Authorize")
        assert station.sessions == {}
    assert count(csms, "start") == 0
    assert not csms.problems


async def test_a_full_battery_suspends_and_the_driver_leaves_on_their_own(version: str) -> None:
    async with (
        fake_csms(version) as csms,
        running_station(csms, speed=200_000.0, auto_stop=True) as station,
    ):
        assert await station.start_session(2, "SIM-AAAAAA")
        session = station.sessions[2]
        await session.ended.wait()
        await csms.wait_status(2, "Available")
    vehicle = session.charge.vehicle
    assert vehicle.soc <= vehicle.target_soc + 1e-6
    assert session.stop_reason in {"Local", "EVDisconnected"}
    if session.stop_reason == "EVDisconnected":
        assert vehicle.full
    assert count(csms, "end") == 1
    assert not csms.problems


async def test_remote_start_and_remote_stop(version: str) -> None:
    commands = Commands(version)
    async with fake_csms(version) as csms, running_station(csms) as station:
        answer = await csms.call("SIM-1", *commands.remote_start(2, "SIM-REMOTE", remote_id=77))
        assert status_of(answer) == "Accepted"
        await csms.wait_for(lambda: count(csms, "start") == 1)
        start = transactions(csms)[0]
        if version == "2.0.1":
            assert answer["transactionId"] == start.transaction_id
            event = start.record.payload
            assert event["triggerReason"] == "RemoteStart"
            assert event["transactionInfo"]["remoteStartId"] == 77
            assert event["idToken"]["type"] == "Central"
        # The EVSE is busy now: a second remote start there is refused.
        again = await csms.call("SIM-1", *commands.remote_start(2, "SIM-OTHER"))
        assert status_of(again) == "Rejected"
        unknown = 999_999 if version == "1.6" else "no-such-transaction"
        assert status_of(await csms.call("SIM-1", *commands.remote_stop(unknown))) == "Rejected"
        stop = await csms.call("SIM-1", *commands.remote_stop(start.transaction_id))
        assert status_of(stop) == "Accepted"
        await csms.wait_for(lambda: count(csms, "end") == 1)
        assert station.sessions == {}
    end = transactions(csms)[-1].record.payload
    if version == "1.6":
        assert end["reason"] == "Remote"
        assert not csms.sent("Authorize")  # AuthorizeRemoteTxRequests is false by default
    else:
        assert end["triggerReason"] == "RemoteStop"
        assert end["transactionInfo"]["stoppedReason"] == "Remote"
    assert not csms.problems


async def test_remote_start_authorizes_first_when_configured_to(version: str) -> None:
    commands = Commands(version)
    async with fake_csms(version) as csms, running_station(csms):
        assert status_of(await csms.call("SIM-1", *commands.set_authorize_remote())) == "Accepted"
        answer = await csms.call("SIM-1", *commands.remote_start(None, "SIM-REMOTE"))
        assert status_of(answer) == "Accepted"
        await csms.wait_for(lambda: count(csms, "start") == 1)
    actions = [r.action for r in csms.calls]
    start_action = "StartTransaction" if version == "1.6" else "TransactionEvent"
    assert actions.index("Authorize") < actions.index(start_action)
    assert not csms.problems


async def test_a_fault_reports_faulted_and_stops_the_session(version: str) -> None:
    async with fake_csms(version) as csms, running_station(csms) as station:
        assert await station.start_session(1, "SIM-AAAAAA")
        await csms.wait_for(lambda: count(csms, "update") >= 1)
        station.fault(1, "GroundFailure")
        await csms.wait_for(lambda: count(csms, "end") == 1)
        await csms.wait_status(1, "Faulted")
        assert station.connectors[1].status == "Faulted"
        assert not await station.start_session(1, "SIM-AAAAAA")
        station.recover(1)
        await csms.wait_status(1, "Available")
    statuses = csms.sent("StatusNotification")
    end = transactions(csms)[-1].record
    faulted = next(
        i
        for i, r in enumerate(csms.calls)
        if r.action == "StatusNotification"
        and (r.payload.get("status") or r.payload.get("connectorStatus")) == "Faulted"
    )
    assert faulted < csms.calls.index(end)  # Faulted is reported before the stop
    if version == "1.6":
        assert {s["errorCode"] for s in statuses if s["status"] == "Faulted"} == {"GroundFailure"}
        assert end.payload["reason"] == "Other"
    else:
        assert end.payload["triggerReason"] == "AbnormalCondition"
        assert end.payload["transactionInfo"]["stoppedReason"] == "GroundFault"
    assert not csms.problems


async def test_offline_transaction_messages_are_queued_and_sent_once_after_reconnect(
    version: str,
) -> None:
    async with fake_csms(version) as csms, running_station(csms) as station:
        assert await station.start_session(1, "SIM-AAAAAA")
        await csms.wait_for(lambda: count(csms, "update") >= 1)
        online_before = len(transactions(csms))
        await station.go_offline(60)  # comes back when told below, not after a minute
        assert not station.connected
        assert not station.booted
        await csms.wait_for(lambda: not csms.connected("SIM-1"))
        # While offline: the session goes on and ends, and a new one starts on the cached tag.
        await eventually(lambda: station.outbox.queued >= 3)
        assert await station.stop_session(1)
        assert await station.start_session(2, "SIM-AAAAAA")
        await eventually(lambda: station.outbox.queued >= 7)
        assert await station.stop_session(2)
        queued = station.outbox.queued
        assert len(transactions(csms)) == online_before
        station.come_online()
        await csms.wait_for(lambda: len(transactions(csms)) == online_before + queued, 10)
        await eventually(lambda: station.outbox.queued == 0)
        assert len(transactions(csms)) == online_before + queued
    messages = transactions(csms)
    late = messages[online_before:]
    assert {m.record.connection for m in late} == {2}
    assert all(m.record.connection == 1 for m in messages[:online_before])
    ids = [m.record.message_id for m in messages]
    assert len(ids) == len(set(ids))  # new message ids, nothing sent twice
    sessions: dict[object, list[str]] = {}
    for message in messages:
        sessions.setdefault(message.transaction_id, []).append(message.kind)
    assert len(sessions) == 2
    for kinds in sessions.values():
        assert kinds[0] == "start"
        assert kinds[-1] == "end"
        assert kinds.count("end") == 1
    energies = [m.energy_wh for m in messages if m.kind == "update"]
    assert len(energies) >= 3
    if version == "1.6":
        # The offline start got a provisional id; its later messages carry the real one.
        assert all(isinstance(t, int) and t >= 1000 for t in sessions)
        offline_start = next(m for m in late if m.kind == "start")
        assert offline_start.record.payload["connectorId"] == 2
        assert [m.kind for m in late if m.transaction_id == offline_start.transaction_id][
            -1
        ] == "end"
    else:
        # Everything that happened offline says so (the second session entirely).
        offline_session = transactions(csms)[-1].transaction_id
        assert all(m.record.payload["offline"] for m in late if m.transaction_id == offline_session)
        assert late[-1].record.payload.get("offline") is True
        for transaction_id in sessions:
            seq = [
                m.record.payload["seqNo"] for m in messages if m.transaction_id == transaction_id
            ]
            assert seq == list(range(len(seq)))
    assert not csms.problems
