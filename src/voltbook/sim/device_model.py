"""The simulated 2.0.1 station's device model: the components and variables a CSMS reads
with GetVariables and changes with SetVariables."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Final

from voltbook.sim.credentials import BASIC_AUTH_PASSWORD, StationPassword
from voltbook.sim.local_list import v201_variables
from voltbook.sim.model import (
    Connector,
    flag,
    format_number,
    parse_measurands,
    parse_positive_int,
    rfc3339,
)
from voltbook.sim.rpc import JsonObject, Reply, field_value, optional_value

if TYPE_CHECKING:
    from voltbook.sim.station import StationCore

# 2.0.1 ConnectorEnumType -> the operator API's (OCPI) connector standards.
CONNECTOR_TYPES: Final[dict[str, frozenset[str]]] = {
    "cType1": frozenset({"IEC_62196_T1"}),
    "cCCS1": frozenset({"IEC_62196_T1_COMBO"}),
    "cType2": frozenset({"IEC_62196_T2"}),
    "sType2": frozenset({"IEC_62196_T2"}),
    "cCCS2": frozenset({"IEC_62196_T2_COMBO"}),
    "cG105": frozenset({"CHADEMO"}),
    "cTesla": frozenset({"TESLA_S", "TESLA_R"}),
    "cChaoJi": frozenset({"CHAOJI"}),
    "cGBT": frozenset({"GBT_AC", "GBT_DC"}),
    "sType3": frozenset({"IEC_62196_T3A", "IEC_62196_T3C"}),
    "s309-1P-16A": frozenset({"IEC_60309_2_single_16"}),
    "s309-3P-16A": frozenset({"IEC_60309_2_three_16"}),
    "s309-3P-32A": frozenset({"IEC_60309_2_three_32"}),
    "Pan": frozenset({"PANTOGRAPH_BOTTOM_UP", "PANTOGRAPH_TOP_DOWN"}),
}
Getter = Callable[[], str]
Setter = Callable[[str], object]
REPORT_PART = 8  # variables per NotifyReport: the report comes in parts, as a real one does


def _WRITE_ONLY() -> str:  # noqa: N802 - a marker getter
    return ""


def connector_status(status: str) -> str:
    """A 1.6 ChargePointStatus (the station's own words) as a 2.0.1 ConnectorStatus."""
    return status if status in ("Available", "Reserved", "Unavailable", "Faulted") else "Occupied"


def connector_type(standard: str) -> str:
    return next((name for name, group in CONNECTOR_TYPES.items() if standard in group), "Unknown")


class DeviceModel:
    def __init__(self, station: StationCore, password: StationPassword | None = None) -> None:
        self.station = station
        self.password = password or StationPassword(station.id, station.spec.password)
        self._known = self._entries()

    def _entries(self) -> dict[tuple[str, str], tuple[Getter, Setter | None]]:
        station, settings = self.station, self.station.settings
        true: Getter = lambda: "true"  # noqa: E731
        return {
            ("OCPPCommCtrlr", "HeartbeatInterval"): (
                lambda: format_number(settings.heartbeat_interval),
                lambda t: station.set_heartbeat_interval(parse_positive_int(t)),
            ),
            ("SampledDataCtrlr", "TxUpdatedInterval"): (
                lambda: format_number(settings.meter_interval),
                lambda t: setattr(settings, "meter_interval", parse_positive_int(t)),
            ),
            ("SampledDataCtrlr", "TxUpdatedMeasurands"): (
                lambda: ",".join(settings.measurands),
                lambda t: setattr(settings, "measurands", parse_measurands(t)),
            ),
            ("TxCtrlr", "EVConnectionTimeOut"): (
                lambda: str(settings.connection_timeout),
                lambda t: setattr(settings, "connection_timeout", parse_positive_int(t)),
            ),
            ("TxCtrlr", "StopTxOnInvalidId"): flag(settings, "stop_on_invalid_id"),
            ("AuthCtrlr", "AuthorizeRemoteStart"): flag(settings, "authorize_remote"),
            ("AuthCtrlr", "LocalPreAuthorize"): flag(settings, "local_pre_authorize"),
            ("AuthCtrlr", "LocalAuthorizeOffline"): flag(settings, "local_authorize_offline"),
            ("AuthCacheCtrlr", "Enabled"): (true, None),
            ("ReservationCtrlr", "Enabled"): (true, None),
            ("ReservationCtrlr", "Available"): (true, None),
            ("ReservationCtrlr", "NonEvseSpecific"): (true, None),
            ("ChargingStation", "Available"): (true, None),
            ("ChargingStation", "VendorName"): (lambda: "voltbook", None),
            ("ChargingStation", "Model"): (lambda: station.model, None),
            ("ChargingStation", "EVSECount"): (lambda: str(len(station.connectors)), None),
            ("ChargingStation", "AvailabilityState"): (
                lambda: (
                    "Available"
                    if any(c.operative for c in station.connectors.values())
                    else "Unavailable"
                ),
                None,
            ),
            BASIC_AUTH_PASSWORD: (_WRITE_ONLY, self.password.set),
        } | v201_variables(station.local_list)

    def _lookup(
        self, component: JsonObject, variable: JsonObject
    ) -> tuple[str, Getter | None, Setter | None]:
        """(status, getter, setter); status is Accepted, UnknownComponent or UnknownVariable."""
        name = field_value(component, "name", str)
        variable_name = field_value(variable, "name", str)
        evse = component.get("evse")
        if name in ("EVSE", "Connector") and isinstance(evse, dict):
            connector = self.station.connectors.get(field_value(evse, "id", int))
            connector_id = optional_value(evse, "connectorId", int)
            if connector is None or (
                name == "Connector" and connector_id not in connector.connector_ids
            ):
                return "UnknownComponent", None, None
            getter = self._evse_variable(connector, name, variable_name, connector_id)
            return ("Accepted", getter, None) if getter else ("UnknownVariable", None, None)
        if not any(known == name for known, _ in self._known):
            return "UnknownComponent", None, None
        entry = self._known.get((name, variable_name))
        if entry is None:
            return "UnknownVariable", None, None
        return "Accepted", entry[0], entry[1]

    def _evse_variable(
        self, connector: Connector, component: str, variable: str, connector_id: int | None
    ) -> Getter | None:
        if variable == "AvailabilityState":
            return lambda: connector_status(connector.status)
        if component == "EVSE" and variable == "Power":
            return lambda: format_number(connector.max_power_kw * 1000)
        if component == "Connector" and variable == "ConnectorType" and connector_id is not None:
            index = connector.connector_ids.index(connector_id)
            return lambda: connector_type(connector.standards[index])
        return None

    def report(self, request_id: int, base: str) -> list[JsonObject]:
        """The NotifyReport payloads answering GetBaseReport: every variable (for
        ConfigurationInventory the settable ones), REPORT_PART to a part, seqNo from 0."""
        items: list[JsonObject] = []
        for (component, variable), (getter, setter) in self._known.items():
            if base == "ConfigurationInventory" and setter is None:
                continue
            writable = "WriteOnly" if getter is _WRITE_ONLY else "ReadWrite"
            attribute: JsonObject = {
                "type": "Actual",
                "mutability": "ReadOnly" if setter is None else writable,
            }
            if getter is not _WRITE_ONLY:
                attribute["value"] = getter()[:2500]
            items.append(
                {
                    "component": {"name": component},
                    "variable": {"name": variable},
                    "variableAttribute": [attribute],
                }
            )
        if base != "ConfigurationInventory":
            for connector in self.station.connectors.values():
                state = connector_status(connector.status)
                items.append(
                    {
                        "component": {"name": "EVSE", "evse": {"id": connector.evse_id}},
                        "variable": {"name": "AvailabilityState"},
                        "variableAttribute": [{"value": state, "mutability": "ReadOnly"}],
                    }
                )
        parts = [items[i : i + REPORT_PART] for i in range(0, len(items), REPORT_PART)]
        at = rfc3339()
        return [
            {
                "requestId": request_id,
                "generatedAt": at,
                "seqNo": n,
                "tbc": n < len(parts) - 1,
                "reportData": part,
            }
            for n, part in enumerate(parts)
        ]

    def get_variables(self, payload: JsonObject) -> Reply:
        results: list[JsonObject] = []
        for item in field_value(payload, "getVariableData", list):
            component = field_value(item, "component", dict)
            variable = field_value(item, "variable", dict)
            attribute = optional_value(item, "attributeType", str) or "Actual"
            result: JsonObject = {"component": component, "variable": variable}
            status, getter, _ = self._lookup(component, variable)
            if status == "Accepted" and attribute != "Actual":
                status = "NotSupportedAttributeType"
            if getter is _WRITE_ONLY:
                status = "Rejected"  # a write-only variable is never read back
            result["attributeStatus"] = status
            result["attributeType"] = attribute
            if status == "Accepted" and getter is not None:
                result["attributeValue"] = getter()
            results.append(result)
        return Reply({"getVariableResult": results})

    def set_variables(self, payload: JsonObject) -> Reply:
        results: list[JsonObject] = []
        for item in field_value(payload, "setVariableData", list):
            component = field_value(item, "component", dict)
            variable = field_value(item, "variable", dict)
            value = field_value(item, "attributeValue", str)
            attribute = optional_value(item, "attributeType", str) or "Actual"
            status, _, setter = self._lookup(component, variable)
            if status == "Accepted" and attribute != "Actual":
                status = "NotSupportedAttributeType"
            elif status == "Accepted":
                status = self._apply(setter, value)
                if status == "Accepted":
                    self.station.emit(f"variable {component['name']}.{variable['name']} changed")
            results.append(
                {
                    "attributeType": attribute,
                    "attributeStatus": status,
                    "component": component,
                    "variable": variable,
                }
            )
        return Reply({"setVariableResult": results}, after=self.password.reconnect_after_answer())

    @staticmethod
    def _apply(setter: Setter | None, value: str) -> str:
        if setter is None:
            return "Rejected"  # read-only
        try:
            setter(value)
        except ValueError:
            return "Rejected"
        return "Accepted"
