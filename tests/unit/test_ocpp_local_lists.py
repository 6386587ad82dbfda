"""What a station's answer says of its local authorization list, read the same way whatever
OCPP version it speaks (the rest of voltbook sees only the version-neutral reading)."""

from __future__ import annotations

from voltbook.ocpp.local_lists import limit_keys, read_limits, read_list_version
from voltbook.ocpp.protocol import Version


def v16_answer(**values: str) -> dict[str, object]:
    return {
        "configurationKey": [{"key": k, "readonly": True, "value": v} for k, v in values.items()]
    }


def v201_answer(**values: str) -> dict[str, object]:
    return {
        "getVariableResult": [
            {
                "attributeStatus": "Accepted",
                "component": {"name": "LocalAuthListCtrlr"},
                "variable": {"name": name},
                "attributeValue": value,
            }
            for name, value in values.items()
        ]
    }


def test_a_v16_station_says_its_limits_in_configuration_keys_and_takes_short_id_tags() -> None:
    assert limit_keys(Version.V16)[0] == "LocalAuthListEnabled"
    answer = v16_answer(
        LocalAuthListEnabled="true", LocalAuthListMaxLength="500", SendLocalListMaxLength="50"
    )
    assert read_limits(Version.V16, answer) == {
        "enabled": True,
        "max_entries": 500,
        "per_message": 50,
        "max_token_length": 20,
    }


def test_a_v201_station_says_its_limits_in_local_auth_list_ctrlr_variables() -> None:
    assert "LocalAuthListCtrlr.BytesPerMessage" in limit_keys(Version.V201)
    answer = v201_answer(Enabled="True", ItemsPerMessage="20", BytesPerMessage="4096")
    assert read_limits(Version.V201, answer) == {
        "enabled": True,
        "per_message": 20,
        "bytes_per_message": 4096,
    }


def test_limits_a_station_does_not_state_plainly_are_left_out() -> None:
    answer = v16_answer(
        LocalAuthListEnabled="yes",
        LocalAuthListMaxLength="\u0661\u0662",  # Arabic-Indic digits
        SendLocalListMaxLength="99999999999999999999",
    )
    assert read_limits(Version.V16, answer) == {"enabled": False, "max_token_length": 20}
    refused = {"getVariableResult": [{"attributeStatus": "Rejected", "attributeValue": "true"}]}
    assert read_limits(Version.V201, refused) == {"enabled": False}


def test_the_list_version_is_read_from_either_versions_answer() -> None:
    assert read_list_version({"listVersion": 7}) == {"version": 7}
    assert read_list_version({"versionNumber": 0}) == {"version": 0}
    assert read_list_version({"listVersion": True}) == {}
    assert read_list_version({}) == {}
