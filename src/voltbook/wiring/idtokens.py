"""What the id-token area hears from other areas, and the bridge it commands stations through:
authorization lists and caches as commands to stations (SendLocalList, GetLocalListVersion,
ClearCache, and the query of a station's list limits). Which configuration keys say those
limits, and where each OCPP version keeps a list's version, is the OCPP gateway's business."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from voltbook.core.worker import SerialWorker
from voltbook.idtokens.events import IdTokenChanged
from voltbook.idtokens.list_model import ListLimits, ListUpdate
from voltbook.idtokens.lists import AuthListService
from voltbook.idtokens.model import TokenKind
from voltbook.stations.commands import (
    ClearCache,
    GetLocalListLimits,
    GetLocalListVersion,
    LocalListEntry,
    SendLocalList,
)
from voltbook.stations.events import StationBooted
from voltbook.stations.fleet import FleetService


class FleetLocalLists:
    """The LocalListLink of the id-token area, over the fleet's command channel.
    `frame_bytes` is the gateway's measure of the frame a SendLocalList goes in."""

    def __init__(
        self,
        fleet: FleetService,
        timeout_s: float,
        frame_bytes: Callable[[SendLocalList], int],
    ) -> None:
        self._fleet = fleet
        self._timeout = timeout_s
        self._frame_bytes = frame_bytes

    async def limits(self, station_id: str) -> ListLimits | None:
        answer = await self._fleet.command(station_id, GetLocalListLimits(), self._timeout)
        reading = answer.reading
        if not reading.get("enabled"):
            return None
        return ListLimits(
            max_entries=_count(reading, "max_entries"),
            per_message=_count(reading, "per_message"),
            bytes_per_message=_count(reading, "bytes_per_message"),
            max_token_length=_count(reading, "max_token_length"),
        )

    async def version(self, station_id: str) -> int | None:
        answer = await self._fleet.command(station_id, GetLocalListVersion(), self._timeout)
        version = answer.reading.get("version")  # 0 or less: the station holds no list
        return version if isinstance(version, int) and not isinstance(version, bool) else None

    def message_bytes(self, update: ListUpdate) -> int:
        return self._frame_bytes(local_list_command(update))

    async def send(self, station_id: str, update: ListUpdate) -> str:
        command = local_list_command(update)
        answer = await self._fleet.command(station_id, command, self._timeout)
        return answer.status or "Failed"

    async def clear_cache(self, station_id: str) -> str:
        answer = await self._fleet.command(station_id, ClearCache(), self._timeout)
        return answer.status or "Failed"


def local_list_command(update: ListUpdate) -> SendLocalList:
    """The command that sends `update`: cards as ISO14443 tokens, app tokens as Central."""
    entries = tuple(
        LocalListEntry(
            e.token,
            None if e.standing is None else e.standing.value,
            "Central" if e.kind is TokenKind.APP else "ISO14443",
        )
        for e in update.entries
    )
    return SendLocalList(update.version, update.full, entries)


def _count(reading: dict[str, Any], key: str) -> int | None:
    value = reading.get(key)
    if not isinstance(value, int) or isinstance(value, bool):
        return None
    return value if value > 0 else None


class IdTokenReactions:
    """A change of a card made in this process has the changes kept for the stations
    carried out at once (a blocked card leaves every station's authorization cache, lists
    come in line: `AuthListService.carry_out_changes`); a station that boots gets its list.
    Both go to `worker`, off the path of whoever changed the card or of the station's boot;
    what is queued one after the other is handled in one round."""

    def __init__(self, lists: AuthListService, worker: SerialWorker) -> None:
        self._lists = lists
        self._worker = worker

    async def token_changed(self, event: IdTokenChanged) -> None:
        await self._lists.look_for_changes()

    async def station_booted(self, event: StationBooted) -> None:
        # Not at connection: a station may take no call before its boot is accepted.
        self._worker.submit_item(self._stations_booted, event.station_id)

    async def _stations_booted(self, station_ids: list[str]) -> None:
        for station_id in dict.fromkeys(station_ids):
            await self._lists.sync(station_id)
