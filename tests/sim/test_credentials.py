"""The simulated charger's password is write-only, and a malformed new one is refused
(reconnecting with an accepted one is tested against the real server, in tests/e2e)."""

from __future__ import annotations

from tests.sim import fake_csms, running_station


async def test_1_6_authorization_key_is_write_only_and_must_be_hex_of_16_to_20_bytes() -> None:
    async with fake_csms("1.6") as csms, running_station(csms):
        everything = await csms.call("SIM-1", "GetConfiguration", {})
        asked = await csms.call("SIM-1", "GetConfiguration", {"key": ["AuthorizationKey"]})
        not_hex = await csms.call(
            "SIM-1", "ChangeConfiguration", {"key": "AuthorizationKey", "value": "not hex at all"}
        )
        too_short = await csms.call(
            "SIM-1", "ChangeConfiguration", {"key": "AuthorizationKey", "value": b"short".hex()}
        )
    assert "AuthorizationKey" not in {k["key"] for k in everything["configurationKey"]}
    assert asked["unknownKey"] == ["AuthorizationKey"]
    assert not_hex["status"] == "Rejected"
    assert too_short["status"] == "Rejected"
    assert csms.connection_count["SIM-1"] == 1  # a refused key makes it reconnect no more


async def test_2_0_1_basic_auth_password_is_write_only_and_16_to_40_characters() -> None:
    variable = {"component": {"name": "SecurityCtrlr"}, "variable": {"name": "BasicAuthPassword"}}
    async with fake_csms("2.0.1") as csms, running_station(csms):
        read = await csms.call("SIM-1", "GetVariables", {"getVariableData": [variable]})
        short = await csms.call(
            "SIM-1", "SetVariables", {"setVariableData": [variable | {"attributeValue": "short"}]}
        )
    assert read["getVariableResult"][0]["attributeStatus"] == "Rejected"
    assert "attributeValue" not in read["getVariableResult"][0]
    assert short["setVariableResult"][0]["attributeStatus"] == "Rejected"
