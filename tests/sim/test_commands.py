"""Every server command round trip, in both OCPP versions: answer and side effect."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest

from tests.sim import (
    TWO_EVSES,
    Commands,
    CsmsCallError,
    FakeCsms,
    count,
    fake_csms,
    fast_options,
    in_minutes,
    in_seconds,
    running_station,
    status_of,
    transactions,
)
from voltbook.sim import SimulatedStation, StationSpec

VERSIONS = ["1.6", "2.0.1"]
pytestmark = pytest.mark.parametrize("version", VERSIONS)


async def test_reserve_now_blocks_other_tags_and_cancel_frees_it(version: str) -> None:
    commands = Commands(version)
    async with fake_csms(version) as csms, running_station(csms) as station:
        reserve = commands.reserve(41, 2, "SIM-OWNER1", in_minutes(15))
        assert status_of(await csms.call("SIM-1", *reserve)) == "Accepted"
        await csms.wait_status(2, "Reserved")
        assert station.reservations[41].id_tag == "SIM-OWNER1"
        assert station.connectors[2].status == "Reserved"
        # Another tag is refused on the spot, without asking the server.
        assert not await station.start_session(2, "SIM-OTHER1")
        assert not csms.sent("Authorize")
        # Another reservation for the same EVSE is refused.
        clash = commands.reserve(42, 2, "SIM-OTHER1", in_minutes(15))
        assert status_of(await csms.call("SIM-1", *clash)) == "Rejected"
        assert status_of(await csms.call("SIM-1", *commands.cancel(41))) == "Accepted"
        await csms.wait_status(2, "Available")
        assert station.reservations == {}
        assert status_of(await csms.call("SIM-1", *commands.cancel(41))) == "Rejected"
        assert await station.start_session(2, "SIM-OTHER1")
    assert not csms.problems


async def test_the_reserved_tag_starts_and_the_start_fulfils_the_reservation(version: str) -> None:
    commands = Commands(version)
    async with fake_csms(version) as csms, running_station(csms) as station:
        reserve = commands.reserve(7, 1, "SIM-OWNER1", in_minutes(15))
        assert status_of(await csms.call("SIM-1", *reserve)) == "Accepted"
        await csms.wait_status(1, "Reserved")
        assert await station.start_session(1, "SIM-OWNER1")
        await csms.wait_for(lambda: count(csms, "start") == 1)
        assert station.reservations == {}
        # The EVSE is charging: a reservation there now is Occupied.
        busy = commands.reserve(8, 1, "SIM-OTHER1", in_minutes(15))
        assert status_of(await csms.call("SIM-1", *busy)) == "Occupied"
    start = transactions(csms)[0].record.payload
    assert start["reservationId"] == 7
    assert not csms.problems


async def test_a_reservation_expires_at_its_expiry_date(version: str) -> None:
    commands = Commands(version)
    async with fake_csms(version) as csms, running_station(csms) as station:
        reserve = commands.reserve(9, 2, "SIM-OWNER1", in_seconds(0.4))
        assert status_of(await csms.call("SIM-1", *reserve)) == "Accepted"
        await csms.wait_status(2, "Reserved")
        await csms.wait_status(2, "Available", timeout=3)
        assert station.reservations == {}
        if version == "2.0.1":
            await csms.wait_for(lambda: bool(csms.sent("ReservationStatusUpdate")))
            assert csms.sent("ReservationStatusUpdate") == [
                {"reservationId": 9, "reservationUpdateStatus": "Expired"}
            ]
    assert not csms.problems


async def test_reserving_any_connector_keeps_one_free_for_that_tag(version: str) -> None:
    commands = Commands(version)
    async with fake_csms(version) as csms, running_station(csms) as station:
        reserve = commands.reserve(5, None, "SIM-OWNER1", in_minutes(15))
        assert status_of(await csms.call("SIM-1", *reserve)) == "Accepted"
        assert station.reservations[5].evse_id is None
        assert await station.start_session(1, "SIM-OTHER1")  # one of two EVSEs: fine
        assert not await station.start_session(2, "SIM-OTHER2")  # the last one is kept
        second = commands.reserve(6, None, "SIM-OTHER2", in_minutes(15))
        assert status_of(await csms.call("SIM-1", *second)) == "Occupied"
        assert await station.start_session(2, "SIM-OWNER1")
        assert station.reservations == {}
        await csms.wait_for(lambda: count(csms, "start") == 2)
    starts = [m.record.payload for m in transactions(csms) if m.kind == "start"]
    assert "reservationId" not in starts[0]
    assert starts[1]["reservationId"] == 5
    assert not csms.problems


async def test_reserve_now_answers_faulted_and_unavailable(version: str) -> None:
    commands = Commands(version)
    async with fake_csms(version) as csms, running_station(csms) as station:
        station.fault(1)
        faulted = commands.reserve(1, 1, "SIM-OWNER1", in_minutes(5))
        assert status_of(await csms.call("SIM-1", *faulted)) == "Faulted"
        assert status_of(await csms.call("SIM-1", *commands.availability(2, False))) == "Accepted"
        unavailable = commands.reserve(2, 2, "SIM-OWNER1", in_minutes(5))
        assert status_of(await csms.call("SIM-1", *unavailable)) == "Unavailable"
        unknown = commands.reserve(3, 9, "SIM-OWNER1", in_minutes(5))
        assert status_of(await csms.call("SIM-1", *unknown)) == "Rejected"
    assert not csms.problems


async def test_a_fault_removes_the_reservation_of_its_evse(version: str) -> None:
    commands = Commands(version)
    async with fake_csms(version) as csms, running_station(csms) as station:
        reserve = commands.reserve(11, 2, "SIM-OWNER1", in_minutes(5))
        assert status_of(await csms.call("SIM-1", *reserve)) == "Accepted"
        station.fault(2, "HighTemperature")
        await csms.wait_status(2, "Faulted")
        assert station.reservations == {}
        if version == "2.0.1":
            await csms.wait_for(lambda: bool(csms.sent("ReservationStatusUpdate")))
            update = csms.sent("ReservationStatusUpdate")[0]
            assert update["reservationUpdateStatus"] == "Removed"
    assert not csms.problems


async def test_change_availability_now_or_scheduled_after_the_session(version: str) -> None:
    commands = Commands(version)
    async with fake_csms(version) as csms, running_station(csms) as station:
        assert status_of(await csms.call("SIM-1", *commands.availability(2, False))) == "Accepted"
        await csms.wait_status(2, "Unavailable")
        assert not await station.start_session(2, "SIM-AAAAAA")
        assert status_of(await csms.call("SIM-1", *commands.availability(2, True))) == "Accepted"
        await csms.wait_status(2, "Available")
        assert await station.start_session(1, "SIM-AAAAAA")
        whole = commands.availability(None, False)
        assert status_of(await csms.call("SIM-1", *whole)) == "Scheduled"
        await csms.wait_status(2, "Unavailable")
        assert station.connectors[1].status == "Charging"
        assert await station.stop_session(1)
        await csms.wait_status(1, "Unavailable")
        unknown = commands.availability(9, False)
        assert status_of(await csms.call("SIM-1", *unknown)) == "Rejected"
    assert not csms.problems


async def test_reset_stops_transactions_reconnects_and_boots_again(version: str) -> None:
    commands = Commands(version)
    async with fake_csms(version) as csms, running_station(csms) as station:
        assert await station.start_session(1, "SIM-AAAAAA")
        await csms.wait_for(lambda: count(csms, "start") == 1)
        assert status_of(await csms.call("SIM-1", *commands.reset())) == "Accepted"
        await csms.wait_for(lambda: csms.connection_count["SIM-1"] == 2 and station.booted)
        await csms.wait_for(lambda: len(csms.sent("BootNotification")) == 2)
        assert station.sessions == {}
    end = transactions(csms)[-1]
    assert end.kind == "end"
    assert end.record.connection == 1
    boots = [r for r in csms.calls if r.action == "BootNotification"]
    assert [b.connection for b in boots] == [1, 2]
    if version == "1.6":
        assert end.record.payload["reason"] == "SoftReset"
    else:
        assert end.record.payload["transactionInfo"]["stoppedReason"] == "ImmediateReset"
        assert end.record.payload["triggerReason"] == "ResetCommand"
        assert boots[1].payload["reason"] == "RemoteReset"
    assert not csms.problems


async def test_heartbeat_interval_change_takes_effect(version: str) -> None:
    commands = Commands(version)
    async with fake_csms(version) as csms, running_station(csms) as station:
        assert station.settings.heartbeat_interval == 60
        assert status_of(await csms.call("SIM-1", *commands.set_heartbeat("1"))) == "Accepted"
        assert station.settings.heartbeat_interval == 1
        await csms.wait_for(lambda: len(csms.sent("Heartbeat")) >= 1, timeout=3)
        bad = commands.set_heartbeat("soon")
        assert status_of(await csms.call("SIM-1", *bad)) == "Rejected"
    assert not csms.problems


async def test_unlock_connector(version: str) -> None:
    commands = Commands(version)
    async with fake_csms(version) as csms, running_station(csms) as station:
        assert status_of(await csms.call("SIM-1", *commands.unlock(2))) == "Unlocked"
        assert await station.start_session(1, "SIM-AAAAAA")
        await csms.wait_for(lambda: count(csms, "start") == 1)
        answer = status_of(await csms.call("SIM-1", *commands.unlock(1)))
        if version == "1.6":
            assert answer == "Unlocked"  # stops the transaction first
            await csms.wait_for(lambda: count(csms, "end") == 1)
            assert transactions(csms)[-1].record.payload["reason"] == "UnlockCommand"
            assert status_of(await csms.call("SIM-1", *commands.unlock(9))) == "NotSupported"
        else:
            assert answer == "OngoingAuthorizedTransaction"
            assert station.sessions
            assert status_of(await csms.call("SIM-1", *commands.unlock(9))) == "UnknownConnector"
    assert not csms.problems


async def test_trigger_message_sends_what_was_asked(version: str) -> None:
    commands = Commands(version)
    async with fake_csms(version) as csms, running_station(csms) as station:
        for message in ("BootNotification", "Heartbeat", "StatusNotification", "MeterValues"):
            before = len(csms.sent(message))
            answer = await csms.call("SIM-1", *commands.trigger(message, 2))
            assert status_of(answer) == "Accepted"
            await csms.wait_for(sent_more(csms, message, before))
        assert await station.start_session(1, "SIM-AAAAAA")
        await csms.wait_for(lambda: count(csms, "start") == 1)
        assert status_of(await csms.call("SIM-1", *commands.trigger("MeterValues", 1))) == (
            "Accepted"
        )
        await csms.wait_for(lambda: len(csms.sent("MeterValues")) >= 2)
        unsupported = (
            "DiagnosticsStatusNotification" if version == "1.6" else "LogStatusNotification"
        )
        answer = await csms.call("SIM-1", *commands.trigger(unsupported))
        assert status_of(answer) == "NotImplemented"
        assert status_of(await csms.call("SIM-1", *commands.trigger("Heartbeat", 9))) == "Rejected"
    if version == "2.0.1":
        assert csms.sent("BootNotification")[-1]["reason"] == "Triggered"
    triggered = csms.sent("MeterValues")[0]["meterValue"][0]["sampledValue"][0]
    assert triggered["context"] == "Trigger"
    assert not csms.problems


async def test_clear_cache_data_transfer_and_unknown_actions(version: str) -> None:
    async with fake_csms(version) as csms, running_station(csms) as station:
        assert await station.start_session(2, "SIM-AAAAAA")
        assert station.auth_cache == {"SIM-AAAAAA"}
        assert status_of(await csms.call("SIM-1", "ClearCache", {})) == "Accepted"
        assert station.auth_cache == set()
        answer = await csms.call("SIM-1", "DataTransfer", {"vendorId": "acme", "data": "x"})
        assert status_of(answer) == "UnknownVendorId"
        with pytest.raises(CsmsCallError) as error:
            await csms.call("SIM-1", "GetCompositeSchedule", composite(version))
        assert error.value.code == "NotImplemented"
        reply = await csms.send_raw("SIM-1", '[2, "m-1", "Reset", {"type": 5}]')
        bad_payload = "FormationViolation" if version == "1.6" else "FormatViolation"
        assert reply[:3] == [4, "m-1", bad_payload]
        reply = await csms.send_raw("SIM-1", '[2, "m-2", "Reset"]')
        assert reply[:3] == [4, "m-2", bad_payload]
        reply = await csms.send_raw("SIM-1", "not json")
        framing = "FormationViolation" if version == "1.6" else "RpcFrameworkError"
        assert reply[:3] == [4, "-1", framing]
        reply = await csms.send_raw("SIM-1", '[2, "m-3", "Foo", {}]')
        assert reply[:3] == [4, "m-3", "NotImplemented"]
        assert station.connected  # none of this broke the connection
    assert not csms.problems


def sent_more(csms: FakeCsms, action: str, before: int) -> Callable[[], bool]:
    return lambda: len(csms.sent(action)) > before


def composite(version: str) -> dict[str, object]:
    if version == "1.6":
        return {"connectorId": 1, "duration": 60}
    return {"duration": 60, "evseId": 1}


async def test_boot_pending_is_retried_after_the_interval(version: str) -> None:
    async with (
        fake_csms(version, boot_statuses=["Pending"]) as csms,
        running_station(csms) as station,
    ):
        assert station.booted
    boots = csms.sent("BootNotification")
    assert len(boots) == 2
    first_status = next(r for r in csms.calls if r.action == "StatusNotification")
    assert csms.calls.index(first_status) > 1  # nothing but boots before acceptance
    assert not csms.problems


async def test_a_refused_upgrade_is_retried_with_backoff(version: str) -> None:
    async with fake_csms(version) as csms:
        events: list[str] = []
        csms.passwords["SIM-1"] = "not-the-password"
        spec = StationSpec("SIM-1", "the-password", TWO_EVSES)
        options = fast_options(version, on_event=lambda _id, text: events.append(text))
        station = SimulatedStation(csms.url, spec, options)
        task = asyncio.create_task(station.run())
        try:
            await csms.wait_for(lambda: len(csms.refused) >= 3)
            assert not station.connected
            assert "connection refused: HTTP 401" in events
            assert "the-password" not in " ".join(events)
            csms.passwords["SIM-1"] = "the-password"
            await csms.wait_for(lambda: station.booted)
        finally:
            await station.stop()
        assert task.done()
    assert not csms.problems
