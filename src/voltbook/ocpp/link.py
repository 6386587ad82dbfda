"""The stations connected to this node, and the commands sent to them (the StationLink).

What differs between OCPP versions stays here and in `commands`: a `HoldConnector` for any
connector is a ReserveNow without an EVSE on 2.0.1, and on 1.6 one for connector 0 where
the charger says it supports that (ReserveConnectorZeroSupported, asked once per connection),
else one for the EVSE booked. `GetLocalListLimits` reads the configuration each version keeps
them in, and its answer, like `GetLocalListVersion`'s, carries a version-neutral `reading`.

Built before the fleet (which commands through it) and handed to the gateway (which adds and
removes connections): neither needs the other after construction.
"""

from __future__ import annotations

import asyncio
import secrets
from dataclasses import replace
from typing import Any

from voltbook.core.errors import InvalidInput, TimedOut, Unavailable, UpstreamFailed
from voltbook.ocpp.commands import status_of, to_ocpp
from voltbook.ocpp.connection import StationConnection
from voltbook.ocpp.local_lists import limit_keys, read_limits, read_list_version
from voltbook.ocpp.protocol import OcppError, Version
from voltbook.ocpp.validation import SchemaValidator
from voltbook.stations.commands import (
    Command,
    CommandAnswer,
    GetBaseReport,
    GetConfiguration,
    GetLocalListLimits,
    GetLocalListVersion,
    HoldConnector,
    ReserveNow,
)


class LocalStationLink:
    def __init__(self, validator: SchemaValidator) -> None:
        self._validator = validator
        self._connections: dict[str, StationConnection] = {}

    @property
    def connected(self) -> int:
        return len(self._connections)

    def attach(self, connection: StationConnection) -> StationConnection | None:
        """Make `connection` the station's; returns the one it replaces, if any."""
        previous = self._connections.get(connection.station_id)
        self._connections[connection.station_id] = connection
        return previous

    def detach(self, connection: StationConnection) -> bool:
        """Forget `connection` unless a newer one replaced it; True when it was current."""
        if self._connections.get(connection.station_id) is connection:
            del self._connections[connection.station_id]
            return True
        return False

    async def send(self, station_id: str, command: Command, timeout_s: float) -> CommandAnswer:
        connection = self._connections.get(station_id)
        if connection is None:
            raise Unavailable(f"station {station_id} is not connected")
        if isinstance(command, HoldConnector):
            return await self.send(
                station_id, await self._reserve_now(connection, command, timeout_s), timeout_s
            )
        if isinstance(command, GetBaseReport):
            return await self._base_report(connection, command, timeout_s)
        if isinstance(command, GetLocalListLimits):
            keys = GetConfiguration(limit_keys(connection.version))
            answer = await self.send(station_id, keys, timeout_s)
            return replace(answer, reading=read_limits(connection.version, answer.response))
        action, payload = to_ocpp(command, connection.version)
        response = await self._call(connection, action, payload, timeout_s)
        answer = CommandAnswer(action=action, status=status_of(response), response=response)
        if isinstance(command, GetLocalListVersion):
            return replace(answer, reading=read_list_version(response))
        return answer

    async def _call(
        self, connection: StationConnection, action: str, payload: dict[str, Any], timeout_s: float
    ) -> dict[str, Any]:
        response = await connection.call(action, payload, timeout_s)
        try:
            self._validator.validate_response(connection.version, action, response)
        except OcppError as error:
            raise UpstreamFailed(
                f"station answered {action} wrongly: {error.description}"
            ) from None
        return response

    async def _base_report(
        self, connection: StationConnection, command: GetBaseReport, timeout_s: float
    ) -> CommandAnswer:
        """2.0.1 GetBaseReport, then its NotifyReport parts put together: the answer carries
        the station's own answer and, when it accepted, `reportData` (every part's items in
        seqNo order). The whole exchange has `timeout_s`."""
        if connection.version is not Version.V201:
            raise InvalidInput(
                "GetBaseReport is OCPP 2.0.1; a 1.6 station answers GetConfiguration"
            )
        deadline = asyncio.get_running_loop().time() + timeout_s
        request_id = secrets.randbelow(2**31 - 2) + 1
        whole = connection.reports.expect(request_id)
        try:
            payload = {"requestId": request_id, "reportBase": command.report_base}
            response = await self._call(connection, "GetBaseReport", payload, timeout_s)
            status = status_of(response)
            if status != "Accepted":
                return CommandAnswer("GetBaseReport", status, response)
            try:
                async with asyncio.timeout_at(deadline):
                    items = await whole
            except TimeoutError:
                raise TimedOut(
                    f"station {connection.station_id} did not complete its report within "
                    f"{timeout_s:g} s"
                ) from None
        finally:
            connection.reports.forget(request_id)
            if not whole.done():
                whole.cancel()
        return CommandAnswer("GetBaseReport", status, response | {"reportData": items})

    async def _reserve_now(
        self, connection: StationConnection, hold: HoldConnector, timeout_s: float
    ) -> ReserveNow:
        evse: int | None = hold.evse_id
        if hold.any_evse and (
            connection.version is Version.V201
            or await self._reserves_connector_zero(connection, timeout_s)
        ):
            evse = None  # the charger keeps any fitting connector free
        return ReserveNow(hold.reservation_id, hold.id_tag, hold.expires_at, evse)

    async def _reserves_connector_zero(
        self, connection: StationConnection, timeout_s: float
    ) -> bool:
        """OCPP 1.6: may connectorId 0 reserve "any connector"? Asked once per connection."""
        if connection.reserves_connector_zero is None:
            key = "ReserveConnectorZeroSupported"
            answer = await self.send(connection.station_id, GetConfiguration((key,)), timeout_s)
            keys = answer.response.get("configurationKey") or []
            connection.reserves_connector_zero = any(
                k.get("key") == key and str(k.get("value", "")).lower() == "true" for k in keys
            )
        return connection.reserves_connector_zero
