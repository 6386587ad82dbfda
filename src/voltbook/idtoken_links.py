"""Where the id-token area meets the stations area: authorization lists and caches as
operator commands to stations (SendLocalList, GetLocalListVersion, ClearCache, and the
configuration that says a station's limits)."""

from __future__ import annotations

from typing import Any

from voltbook.core.bus import Event, EventBus
from voltbook.core.worker import SerialWorker
from voltbook.idtokens.events import IdTokenBlocked, IdTokenChanged
from voltbook.idtokens.list_model import ListLimits, ListUpdate
from voltbook.idtokens.lists import AuthListService
from voltbook.idtokens.model import TokenKind
from voltbook.stations.commands import (
    ClearCache,
    GetConfiguration,
    GetLocalListVersion,
    LocalListEntry,
    SendLocalList,
)
from voltbook.stations.events import StationBooted, StationConnected
from voltbook.stations.fleet import FleetService

V16_KEYS = ("LocalAuthListEnabled", "LocalAuthListMaxLength", "SendLocalListMaxLength")
V201_KEYS = (
    "LocalAuthListCtrlr.Enabled",
    "LocalAuthListCtrlr.ItemsPerMessage",
    "LocalAuthListCtrlr.BytesPerMessage",
)


class FleetLocalLists:
    """The LocalListLink of the id-token area, over the fleet's command channel."""

    def __init__(self, fleet: FleetService, timeout_s: float) -> None:
        self._fleet = fleet
        self._timeout = timeout_s
        self._versions: dict[str, str] = {}  # station → OCPP version it connected with

    def connected(self, station_id: str, version: str) -> None:
        self._versions[station_id] = version

    async def _v16(self, station_id: str) -> bool:
        version = self._versions.get(station_id)
        if version is None:
            version = (await self._fleet.get(station_id)).ocpp_version or "1.6"
        return version.removeprefix("ocpp") == "1.6"

    async def limits(self, station_id: str) -> ListLimits | None:
        v16 = await self._v16(station_id)
        keys = V16_KEYS if v16 else V201_KEYS
        answer = await self._fleet.command(station_id, GetConfiguration(keys), self._timeout)
        values = _v16_values(answer.response) if v16 else _v201_values(answer.response)
        enabled = values.get(keys[0], "").strip().lower() == "true"
        if not enabled:
            return None
        return ListLimits(
            max_entries=_positive(values.get(keys[1])) if v16 else None,
            per_message=_positive(values.get(keys[2] if v16 else keys[1])),
            bytes_per_message=None if v16 else _positive(values.get(keys[2])),
            v16=v16,
        )

    async def version(self, station_id: str) -> int | None:
        answer = await self._fleet.command(station_id, GetLocalListVersion(), self._timeout)
        value = answer.response.get("listVersion", answer.response.get("versionNumber"))
        return value if isinstance(value, int) else None

    async def send(self, station_id: str, update: ListUpdate) -> str:
        entries = tuple(
            LocalListEntry(
                e.token,
                None if e.standing is None else e.standing.value,
                "Central" if e.kind is TokenKind.APP else "ISO14443",
            )
            for e in update.entries
        )
        command = SendLocalList(update.version, update.full, entries)
        answer = await self._fleet.command(station_id, command, self._timeout)
        return answer.status or "Failed"

    async def clear_cache(self, station_id: str) -> str:
        answer = await self._fleet.command(station_id, ClearCache(), self._timeout)
        return answer.status or "Failed"


def _v16_values(response: dict[str, Any]) -> dict[str, str]:
    keys = response.get("configurationKey") or []
    return {str(k.get("key")): str(k.get("value", "")) for k in keys if isinstance(k, dict)}


def _v201_values(response: dict[str, Any]) -> dict[str, str]:
    values: dict[str, str] = {}
    for result in response.get("getVariableResult") or []:
        if not isinstance(result, dict) or result.get("attributeStatus") != "Accepted":
            continue
        component = (result.get("component") or {}).get("name")
        variable = (result.get("variable") or {}).get("name")
        values[f"{component}.{variable}"] = str(result.get("attributeValue", ""))
    return values


def _positive(value: str | None) -> int | None:
    if value is None or not value.strip().isdigit():
        return None
    number = int(value.strip())
    return number if number > 0 else None


def route_id_token_events(
    bus: EventBus, lists: AuthListService, link: FleetLocalLists, worker: SerialWorker
) -> None:
    """A blocked card leaves every station's authorization cache; any change of a card, or a
    station that boots, brings authorization lists in line. Both go to `worker`, off the
    path of whoever changed the card or of the station's boot; changes queued one after the
    other are handled in one round."""

    async def token_changes(changes: list[IdTokenChanged]) -> None:
        if any(isinstance(c, IdTokenBlocked) for c in changes):
            await lists.clear_caches()
        await lists.sync_all()

    async def stations_booted(station_ids: list[str]) -> None:
        for station_id in dict.fromkeys(station_ids):
            await lists.sync(station_id)

    async def token_changed(event: Event) -> None:
        assert isinstance(event, IdTokenChanged)
        worker.submit_item(token_changes, event)

    async def station_connected(event: Event) -> None:
        assert isinstance(event, StationConnected)
        link.connected(event.station_id, event.ocpp_version)

    async def station_booted(event: Event) -> None:
        # Not at connection: a station may take no call before its boot is accepted.
        assert isinstance(event, StationBooted)
        worker.submit_item(stations_booted, event.station_id)

    bus.subscribe(IdTokenChanged, token_changed)
    bus.subscribe(StationConnected, station_connected)
    bus.subscribe(StationBooted, station_booted)
