"""The stations connected to this node, and the commands sent to them (the StationLink).

Built before the fleet (which commands through it) and handed to the gateway (which adds and
removes connections): neither needs the other after construction.
"""

from __future__ import annotations

from voltbook.core.errors import Unavailable, UpstreamFailed
from voltbook.ocpp.commands import status_of, to_ocpp
from voltbook.ocpp.connection import StationConnection
from voltbook.ocpp.protocol import OcppError
from voltbook.ocpp.validation import SchemaValidator
from voltbook.stations.commands import Command, CommandAnswer


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
        action, payload = to_ocpp(command, connection.version)
        response = await connection.call(action, payload, timeout_s)
        try:
            self._validator.validate_response(connection.version, action, response)
        except OcppError as error:
            raise UpstreamFailed(
                f"station answered {action} wrongly: {error.description}"
            ) from None
        return CommandAnswer(action=action, status=status_of(response), response=response)
