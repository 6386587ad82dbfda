"""Rows to domain objects, shared by the repositories that read stations and connectors."""

from __future__ import annotations

from typing import Any

from voltbook.stations.model import Connector, ConnectorStatus, PowerType, Station
from voltbook.stations.standards import Standard
from voltbook.storage.timestamps import as_utc_or_none

# Stored values to members by a dict lookup: calling an enum class costs several times more,
# and a nearby answer reads dozens of connectors (a stored value outside the enum still
# raises, as the call would).
_STANDARDS = {member.value: member for member in Standard}
_POWER_TYPES = {member.value: member for member in PowerType}
_STATUSES = {member.value: member for member in ConnectorStatus}


def connector_from_row(station_id: str, row: Any) -> Connector:
    standard, power_type = row["standard"], row["power_type"]
    return Connector(
        station_id=station_id,
        evse_id=row["evse_id"],
        connector_id=row["connector_id"],
        standard=_STANDARDS[standard] if standard else None,
        power_type=_POWER_TYPES[power_type] if power_type else None,
        max_power_kw=row["max_power_kw"],
        status=_STATUSES[row["status"]],
        status_since=as_utc_or_none(row["status_since"]),
        error_code=row["error_code"],
    )


def station_from_row(
    station_id: str, site_id: int | None, row: Any, plugs: list[Connector]
) -> Station:
    return Station(
        id=station_id,
        site_id=site_id,
        online=bool(row["online"]),
        last_seen=as_utc_or_none(row["last_seen"]),
        vendor=row["vendor"],
        model=row["model"],
        firmware=row["firmware"],
        ocpp_version=row["ocpp_version"],
        connectors=tuple(plugs),
    )
