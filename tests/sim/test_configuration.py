"""Configuration: 1.6 GetConfiguration/ChangeConfiguration, 2.0.1 GetVariables/SetVariables,
and the 2.0.1-only reset and unlock variants."""

from __future__ import annotations

from tests.sim import count, fake_csms, running_station, transactions


async def test_get_configuration_lists_realistic_keys_and_unknown_ones() -> None:
    async with fake_csms("1.6") as csms, running_station(csms):
        everything = await csms.call("SIM-1", "GetConfiguration", {})
        some = await csms.call(
            "SIM-1", "GetConfiguration", {"key": ["HeartbeatInterval", "NoSuchKey"]}
        )
    keys = {entry["key"]: entry for entry in everything["configurationKey"]}
    for name in (
        "HeartbeatInterval",
        "MeterValueSampleInterval",
        "ConnectionTimeOut",
        "NumberOfConnectors",
        "ReserveConnectorZeroSupported",
        "AuthorizeRemoteTxRequests",
        "LocalPreAuthorize",
        "MeterValuesSampledData",
        "SupportedFeatureProfiles",
    ):
        assert name in keys
    assert keys["NumberOfConnectors"] == {
        "key": "NumberOfConnectors",
        "readonly": True,
        "value": "2",
    }
    assert keys["ReserveConnectorZeroSupported"]["value"] == "true"
    assert keys["ReserveConnectorZeroSupported"]["readonly"] is True
    assert keys["HeartbeatInterval"] == {
        "key": "HeartbeatInterval",
        "readonly": False,
        "value": "60",
    }
    assert "Reservation" in keys["SupportedFeatureProfiles"]["value"]
    assert "unknownKey" not in everything
    assert [entry["key"] for entry in some["configurationKey"]] == ["HeartbeatInterval"]
    assert some["unknownKey"] == ["NoSuchKey"]
    assert not csms.problems


async def test_change_configuration_accepts_rejects_and_applies() -> None:
    async with fake_csms("1.6") as csms, running_station(csms) as station:

        async def change(key: str, value: str) -> str:
            answer = await csms.call("SIM-1", "ChangeConfiguration", {"key": key, "value": value})
            return str(answer["status"])

        assert await change("MeterValueSampleInterval", "30") == "Accepted"
        assert station.settings.meter_interval == 30
        assert await change("NumberOfConnectors", "4") == "Rejected"  # read-only
        assert await change("NoSuchKey", "1") == "NotSupported"
        assert await change("LocalPreAuthorize", "maybe") == "Rejected"
        assert await change("MeterValuesSampledData", "Energy.Active.Import.Register,Voltage") == (
            "Accepted"
        )
        assert await change("MeterValuesSampledData", "Energy.Active.Import.Register,RPM") == (
            "Rejected"
        )
        assert station.settings.measurands == ("Energy.Active.Import.Register", "Voltage")
        answer = await csms.call("SIM-1", "GetConfiguration", {"key": ["MeterValueSampleInterval"]})
        assert answer["configurationKey"][0]["value"] == "30"
    assert not csms.problems


def variable(component: str, name: str, **extra: object) -> dict[str, object]:
    return {"component": {"name": component, **extra}, "variable": {"name": name}}


async def test_get_and_set_variables() -> None:
    async with fake_csms("2.0.1") as csms, running_station(csms) as station:
        answer = await csms.call(
            "SIM-1",
            "GetVariables",
            {
                "getVariableData": [
                    variable("OCPPCommCtrlr", "HeartbeatInterval"),
                    variable("SampledDataCtrlr", "TxUpdatedInterval"),
                    variable("ReservationCtrlr", "Enabled"),
                    variable("ChargingStation", "EVSECount"),
                    variable("EVSE", "Power", evse={"id": 2}),
                    variable("Connector", "ConnectorType", evse={"id": 1, "connectorId": 2}),
                    variable("NoSuchCtrlr", "Enabled"),
                    variable("OCPPCommCtrlr", "NoSuchVariable"),
                    {**variable("OCPPCommCtrlr", "HeartbeatInterval"), "attributeType": "Target"},
                ]
            },
        )
        results = answer["getVariableResult"]
        assert [r["attributeStatus"] for r in results] == [
            "Accepted",
            "Accepted",
            "Accepted",
            "Accepted",
            "Accepted",
            "Accepted",
            "UnknownComponent",
            "UnknownVariable",
            "NotSupportedAttributeType",
        ]
        assert [r.get("attributeValue") for r in results[:6]] == [
            "60",
            "0.05",
            "true",
            "2",
            "7200",
            "cG105",
        ]
        answer = await csms.call(
            "SIM-1",
            "SetVariables",
            {
                "setVariableData": [
                    {**variable("SampledDataCtrlr", "TxUpdatedInterval"), "attributeValue": "20"},
                    {**variable("ReservationCtrlr", "Enabled"), "attributeValue": "false"},
                    {**variable("OCPPCommCtrlr", "Nope"), "attributeValue": "1"},
                    {**variable("Nope", "Nope"), "attributeValue": "1"},
                    {**variable("AuthCtrlr", "LocalPreAuthorize"), "attributeValue": "yes"},
                ]
            },
        )
        assert [r["attributeStatus"] for r in answer["setVariableResult"]] == [
            "Accepted",
            "Rejected",
            "UnknownVariable",
            "UnknownComponent",
            "Rejected",
        ]
        assert station.settings.meter_interval == 20
    assert not csms.problems


async def test_on_idle_reset_waits_for_the_transaction_to_end() -> None:
    async with fake_csms("2.0.1") as csms, running_station(csms) as station:
        assert await station.start_session(1, "SIM-AAAAAA")
        await csms.wait_for(lambda: count(csms, "start") == 1)
        answer = await csms.call("SIM-1", "Reset", {"type": "OnIdle"})
        assert answer["status"] == "Scheduled"
        assert csms.connection_count["SIM-1"] == 1
        assert await station.stop_session(1)
        await csms.wait_for(lambda: csms.connection_count["SIM-1"] == 2 and station.booted)
    end = transactions(csms)[-1].record.payload
    assert end["transactionInfo"]["stoppedReason"] == "Local"
    assert csms.sent("BootNotification")[-1]["reason"] == "RemoteReset"
    assert not csms.problems


async def test_resetting_one_evse_ends_its_transaction_without_a_reboot() -> None:
    async with fake_csms("2.0.1") as csms, running_station(csms) as station:
        assert await station.start_session(2, "SIM-AAAAAA")
        answer = await csms.call("SIM-1", "Reset", {"type": "Immediate", "evseId": 2})
        assert answer["status"] == "Accepted"
        await csms.wait_for(lambda: count(csms, "end") == 1)
        assert station.booted
        assert csms.connection_count["SIM-1"] == 1
    assert not csms.problems
