"""Bodies of the operator API: stations, credentials, commands, alarms."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, Field

from voltbook.alarms.model import Alarm
from voltbook.api.inputs import Input
from voltbook.api.schemas import ConnectorOut
from voltbook.stations import commands
from voltbook.stations.fleet import STATION_ID_PATTERN
from voltbook.stations.model import Station

INT32 = 2**31 - 1
StationId = Field(min_length=1, max_length=48, pattern=STATION_ID_PATTERN)


class StationOut(BaseModel):
    id: str
    site_id: int | None
    online: bool
    last_seen: datetime | None
    vendor: str | None
    model: str | None
    firmware: str | None
    ocpp_version: str | None
    connectors: list[ConnectorOut]

    @classmethod
    def of(cls, station: Station) -> StationOut:
        return cls(
            id=station.id,
            site_id=station.site_id,
            online=station.online,
            last_seen=station.last_seen,
            vendor=station.vendor,
            model=station.model,
            firmware=station.firmware,
            ocpp_version=station.ocpp_version,
            connectors=[ConnectorOut.of(c) for c in station.connectors],
        )


class StationPage(BaseModel):
    items: list[StationOut]
    next_cursor: str | None


class StationIn(Input):
    id: str = StationId
    password: str | None = Field(
        default=None,
        min_length=16,
        max_length=40,
        description="16 to 40 characters; made for you when left out",
    )
    site_id: int | None = Field(default=None, ge=1, le=INT32)


class CredentialsOut(BaseModel):
    station_id: str
    password: str = Field(description="Shown once; voltbook keeps only a keyed hash")


class AlarmOut(BaseModel):
    id: int
    station_id: str
    evse_id: int | None
    connector_id: int | None
    kind: str
    code: str
    severity: str
    raised_at: datetime
    cleared_at: datetime | None
    acknowledged_at: datetime | None = Field(
        description="When an operator took it in hand; null until one does"
    )
    acknowledged_by: str | None = Field(description="That operator's account id")

    @classmethod
    def of(cls, alarm: Alarm) -> AlarmOut:
        return cls(
            id=alarm.id,
            station_id=alarm.station_id,
            evse_id=alarm.evse_id,
            connector_id=alarm.connector_id,
            kind=alarm.kind.value,
            code=alarm.code,
            severity=alarm.severity.value,
            raised_at=alarm.raised_at,
            cleared_at=alarm.cleared_at,
            acknowledged_at=alarm.acknowledged_at,
            acknowledged_by=alarm.acknowledged_by,
        )


class AlarmPage(BaseModel):
    items: list[AlarmOut]
    next_cursor: str | None


class CommandOut(BaseModel):
    command: str
    action: str = Field(description="The OCPP message sent, for the station's version")
    status: str | None = Field(description="The station's status word (Accepted, Rejected …)")
    response: dict[str, Any] = Field(description="The station's answer as it sent it")


class RotationOut(CommandOut):
    password: str | None = Field(
        description="The new password, shown once, when the station took it (then the old "
        "one stays accepted until the station connects with the new one); null when it did "
        "not, and then nothing changed"
    )


# --- one body per command ------------------------------------------------------------


class GetConfigurationIn(Input):
    keys: list[str] = Field(
        default_factory=list,
        max_length=50,
        description="1.6 keys, or Component.Variable for 2.0.1; empty = all (1.6)",
    )

    def command(self) -> commands.Command:
        return commands.GetConfiguration(tuple(self.keys))


class GetBaseReportIn(Input):
    report_base: Literal["FullInventory", "ConfigurationInventory", "SummaryInventory"] = Field(
        default="FullInventory",
        description="2.0.1 ReportBase: every variable, the settable ones, or a summary",
    )

    def command(self) -> commands.Command:
        return commands.GetBaseReport(self.report_base)


class TriggerMessageIn(Input):
    message: Literal[
        "BootNotification",
        "Heartbeat",
        "StatusNotification",
        "MeterValues",
        "DiagnosticsStatusNotification",
        "FirmwareStatusNotification",
    ]
    evse_id: int | None = Field(default=None, ge=0, le=INT32)

    def command(self) -> commands.Command:
        return commands.TriggerMessage(self.message, self.evse_id)


class ChangeConfigurationIn(Input):
    key: str = Field(min_length=1, max_length=100)
    value: str = Field(max_length=500)

    def command(self) -> commands.Command:
        return commands.ChangeConfiguration(self.key, self.value)


class ChangeAvailabilityIn(Input):
    operative: bool
    evse_id: int | None = Field(
        default=None, ge=0, le=INT32, description="None or 0: the whole station"
    )

    def command(self) -> commands.Command:
        return commands.ChangeAvailability(self.operative, self.evse_id)


class ResetIn(Input):
    hard: bool = False

    def command(self) -> commands.Command:
        return commands.Reset(self.hard)


class UnlockConnectorIn(Input):
    evse_id: int = Field(ge=1, le=INT32)
    connector_id: int = Field(default=1, ge=1, le=INT32)

    def command(self) -> commands.Command:
        return commands.UnlockConnector(self.evse_id, self.connector_id)


class RemoteStartIn(Input):
    id_tag: str = Field(min_length=1, max_length=20)
    evse_id: int | None = Field(default=None, ge=1, le=INT32)

    def command(self) -> commands.Command:
        return commands.RemoteStart(self.id_tag, self.evse_id)


class RemoteStopIn(Input):
    transaction_id: str = Field(min_length=1, max_length=36)

    def command(self) -> commands.Command:
        return commands.RemoteStop(self.transaction_id)


class ReserveNowIn(Input):
    reservation_id: int = Field(ge=0, le=INT32)
    id_tag: str = Field(min_length=1, max_length=20)
    expires_at: AwareDatetime
    evse_id: int | None = Field(default=None, ge=0, le=INT32, description="None or 0: any EVSE")

    def command(self) -> commands.Command:
        return commands.ReserveNow(self.reservation_id, self.id_tag, self.expires_at, self.evse_id)


class CancelReservationIn(Input):
    reservation_id: int = Field(ge=0, le=INT32)

    def command(self) -> commands.Command:
        return commands.CancelReservation(self.reservation_id)


class ClearCacheIn(Input):
    def command(self) -> commands.Command:
        return commands.ClearCache()
