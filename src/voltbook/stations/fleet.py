"""Use cases of running a fleet of stations: register, authenticate, follow state, command."""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime
from enum import Enum

from voltbook.core.bus import EventBus
from voltbook.core.clock import Clock, real_seconds
from voltbook.core.errors import InvalidInput, NotFound
from voltbook.core.secrets import RehashingHasher
from voltbook.core.turns import Turns
from voltbook.stations.commands import Command, CommandAnswer, SetStationPassword
from voltbook.stations.events import (
    ChargerHoldEnded,
    ConnectorStatusChanged,
    HoldEnd,
    StationBooted,
    StationConnected,
    StationConnectionClosed,
    StationDisconnected,
    StationNotice,
    StationPasswordChanged,
)
from voltbook.stations.model import ConnectorStatus, Station, StationPlace
from voltbook.stations.ports import FleetUowFactory, StationLink

# OCPP identities end up in URLs; keep them to unreserved characters (OCPP 2.0.1 allows 48).
STATION_ID_PATTERN = r"^[A-Za-z0-9._~:*+|@-]{1,48}$"
_STATION_ID = re.compile(STATION_ID_PATTERN)
MIN_STATION_PASSWORD = 16  # OCPP security profile 1/2 asks for 16 to 40 characters
MAX_STATION_PASSWORD = 40
# A rotated password: 20 characters (120 random bits), the most a 1.6 AuthorizationKey holds
# (20 bytes, sent as 40 hex digits); the same on 2.0.1 (docs/adr/0025).
ROTATED_PASSWORD_LENGTH = 20
# The station's answers that mean it keeps the new password (now, or after a reboot).
_TAKEN = frozenset({"Accepted", "RebootRequired"})
# last_seen is written at most this often per station; heartbeats stay cheap.
_TOUCH_EVERY_S = 60.0


class Admission(Enum):
    ADMITTED = "admitted"
    UNKNOWN_STATION = "unknown-station"
    WRONG_PASSWORD = "wrong-password"  # noqa: S105 - an outcome, not a password


@dataclass(frozen=True, slots=True)
class BootDecision:
    accepted: bool
    interval_s: int


@dataclass(frozen=True, slots=True)
class NewCredentials:
    station_id: str
    password: str


@dataclass(frozen=True, slots=True)
class Rotation:
    """A rotation's outcome: the station's own answer, and the new password (shown once)
    when the station took it; None when it did not, and then nothing changed."""

    station_id: str
    answer: CommandAnswer
    password: str | None


def check_station_id(station_id: str) -> None:
    if not _STATION_ID.match(station_id):
        raise InvalidInput("a station id has 1 to 48 letters, digits or ._~:*+|@-")


class FleetService:
    def __init__(
        self,
        uow: FleetUowFactory,
        hasher: RehashingHasher,
        link: StationLink,
        clock: Clock,
        bus: EventBus,
        *,
        heartbeat_interval_s: int = 300,
        auto_register: bool = False,
        command_timeout_s: float = 30.0,
        offline_grace_s: float = 0.0,
    ) -> None:
        """`offline_grace_s`: a station whose connection drops is written offline (and its
        alarm raised) only if it is not back on this node within this time (ADR 0034)."""
        self._uow = uow
        self._hasher = hasher
        self._link = link
        self._clock = clock
        self._bus = bus
        self._heartbeat = heartbeat_interval_s
        self._auto_register = auto_register
        self._command_timeout = command_timeout_s
        # Station passwords are checked with argon2 once; a reconnect with the same
        # password is then checked against this keyed digest, not by hashing again.
        self._verified: dict[str, bytes] = {}
        self._cache_key = secrets.token_bytes(32)
        self._touched: dict[str, float] = {}
        # A station's connect and disconnect are stored in the order they happened here:
        # a reconnect must not be overwritten by its old connection's late "offline".
        self._presence = Turns()
        self._offline_grace_s = offline_grace_s
        # Stations whose connection dropped within the grace period: their "offline" waits.
        self._leaving: dict[str, tuple[asyncio.Task[None], datetime]] = {}

    # --- credentials --------------------------------------------------------------------

    async def register(
        self, station_id: str, password: str | None = None, site_id: int | None = None
    ) -> NewCredentials:
        """Add a station; a password is made when none is given. The password is shown once."""
        check_station_id(station_id)
        password = password or secrets.token_urlsafe(24)[:MAX_STATION_PASSWORD]
        _check_password(password)
        hashed = self._hasher.hash(password)
        async with self._uow() as uow:
            await uow.stations.add(station_id, site_id, hashed)
            await uow.commit()
        return NewCredentials(station_id, password)

    async def new_password(self, station_id: str) -> NewCredentials:
        """Replace a station's password with a new random one, returned once."""
        password = secrets.token_urlsafe(24)[:MAX_STATION_PASSWORD]
        hashed = self._hasher.hash(password)
        async with self._uow() as uow:
            if not await uow.stations.set_password(station_id, hashed):
                raise NotFound(f"station {station_id} does not exist")
            await uow.commit()
        self._verified.pop(station_id, None)
        await self._bus.publish(StationPasswordChanged(station_id))  # other nodes forget too
        return NewCredentials(station_id, password)

    async def rotate_password(self, station_id: str, timeout_s: float | None = None) -> Rotation:
        """Send the station a new random password over its open connection without locking
        it out: the old password stays accepted until the station connects with the new one
        (then the old one is dropped). A station that does not take it changes nothing."""
        await self.get(station_id)
        password = secrets.token_urlsafe(ROTATED_PASSWORD_LENGTH)[:ROTATED_PASSWORD_LENGTH]
        pending = self._hasher.hash(password)
        # Pending before it is sent: the station may reconnect with it at once.
        async with self._uow() as uow:
            await uow.stations.set_pending_password(station_id, pending)
            await uow.commit()
        taken = False
        try:
            answer = await self._link.send(
                station_id, SetStationPassword(password), timeout_s or self._command_timeout
            )
            taken = answer.status in _TAKEN
        finally:
            if not taken:
                async with self._uow() as uow:
                    await uow.stations.set_pending_password(station_id, None, only_if=pending)
                    await uow.commit()
        return Rotation(station_id, answer, password if taken else None)

    def forget_password(self, station_id: str) -> None:
        """Forget the password this node last admitted the station with (it changed, maybe
        on another node: the event that says so is cluster-wide)."""
        self._verified.pop(station_id, None)

    async def admit(self, station_id: str, password: str) -> Admission:
        """Check a connecting station's Basic-auth password (OCPP security profile 1/2)."""
        digest = hmac.digest(self._cache_key, f"{station_id}\0{password}".encode(), "sha256")
        if hmac.compare_digest(self._verified.get(station_id, b""), digest):
            return Admission.ADMITTED
        async with self._uow(read_only=True) as uow:
            known = await uow.stations.credentials(station_id)
        if known is None:
            if not self._auto_register or not _STATION_ID.match(station_id):
                return Admission.UNKNOWN_STATION
            try:
                _check_password(password)
                await self.register(station_id, password)
            except (InvalidInput, NotFound):
                return Admission.UNKNOWN_STATION
            self._verified[station_id] = digest
            return Admission.ADMITTED
        stored = known.password_hash
        pending = known.pending_password_hash
        if stored is None or not await self._verify(stored, password):
            if pending is None or not self._hasher.verify(pending, password):
                return Admission.WRONG_PASSWORD
            # The station uses the rotated password: the old one is dropped everywhere.
            async with self._uow() as uow:
                await uow.stations.promote_password(station_id, pending)
                await uow.commit()
            await self._bus.publish(StationPasswordChanged(station_id))
            self._verified[station_id] = digest
            return Admission.ADMITTED
        if self._hasher.needs_rehash(stored) and pending is None:  # store the fast form
            async with self._uow() as uow:
                await uow.stations.set_password(station_id, self._hasher.hash(password))
                await uow.commit()
        self._verified[station_id] = digest
        return Admission.ADMITTED

    async def _verify(self, stored: str, password: str) -> bool:
        # A slow (older) hash goes to a thread; the fast keyed one costs microseconds.
        if self._hasher.needs_rehash(stored):
            return await asyncio.to_thread(self._hasher.verify, stored, password)
        return self._hasher.verify(stored, password)

    # --- what stations tell -------------------------------------------------------------

    async def connected(self, station_id: str, version: str) -> None:
        now = self._clock.now()
        self._touched[station_id] = self._clock.monotonic()
        leaving = self._leaving.pop(station_id, None)
        if leaving is not None:  # back within the grace period: never written offline
            leaving[0].cancel()
            await self._bus.publish(StationConnected(station_id, version, now, resumed=True))
            return
        async with self._presence.of(station_id), self._uow() as uow:
            await uow.stations.set_online(station_id, now)
            await uow.commit()
        await self._bus.publish(StationConnected(station_id, version, now))

    async def disconnected(self, station_id: str) -> None:
        """The station's connection ended: it is written offline after the grace period,
        unless it is back by then (ADR 0034); at once without one."""
        now = self._clock.now()
        self._touched.pop(station_id, None)
        await self._bus.publish(StationConnectionClosed(station_id, now))
        if self._offline_grace_s <= 0:
            await self._gone(station_id, now)
            return
        later = asyncio.create_task(self._offline_after_grace(station_id, now))
        self._leaving[station_id] = (later, now)

    async def offline_now(self) -> None:
        """Write every station still in its grace period offline at once (the server stops)."""
        leaving, self._leaving = self._leaving, {}
        for later, _ in leaving.values():
            later.cancel()
        for station_id, (later, since) in leaving.items():
            with contextlib.suppress(asyncio.CancelledError):
                await later
            await self._gone(station_id, since)

    async def _offline_after_grace(self, station_id: str, since: datetime) -> None:
        me = asyncio.current_task()
        assert me is not None
        while True:
            await asyncio.sleep(real_seconds(self._clock, self._offline_grace_s))
            leaving = self._leaving.get(station_id)
            if leaving is None or leaving[0] is not me:
                return
            del self._leaving[station_id]  # a reconnect from here on takes its turn after this
            try:
                await self._gone(station_id, since)
            except Exception:  # storage away: again after another grace period, unless back
                if station_id in self._touched or station_id in self._leaving:
                    return
                self._leaving[station_id] = (me, since)
            else:
                return

    async def _gone(self, station_id: str, since: datetime) -> None:
        """Write the station offline as of `since`, unless a connection since then (on any
        node) wrote it online; then tell the rest."""
        async with self._presence.of(station_id), self._uow() as uow:
            went = await uow.stations.set_offline(station_id, since)
            await uow.commit()
        if went:
            await self._bus.publish(StationDisconnected(station_id, since))

    async def booted(
        self, station_id: str, vendor: str, model: str, firmware: str | None, version: str
    ) -> BootDecision:
        async with self._uow() as uow:
            await uow.stations.record_boot(station_id, vendor, model, firmware, version)
            await uow.commit()
        await self._bus.publish(
            StationBooted(station_id, vendor, model, firmware, self._clock.now())
        )
        return BootDecision(accepted=True, interval_s=self._heartbeat)

    async def heard_from(self, station_id: str) -> None:
        """A heartbeat or any message: keeps last_seen fresh without a write per message."""
        now = self._clock.monotonic()
        if now - self._touched.get(station_id, -_TOUCH_EVERY_S) < _TOUCH_EVERY_S:
            return
        self._touched[station_id] = now
        async with self._uow() as uow:
            await uow.stations.touch(station_id, self._clock.now())
            await uow.commit()

    async def status_reported(
        self,
        station_id: str,
        evse_id: int,
        connector_id: int | None,
        status: ConnectorStatus,
        error_code: str | None,
        at: datetime | None = None,
    ) -> None:
        """A connector's (or a whole EVSE's) status; publishes every real change."""
        when = at or self._clock.now()
        async with self._uow() as uow:
            changes = await uow.stations.set_status(
                station_id, evse_id, connector_id, status, error_code, when
            )
            await uow.commit()
        for change in changes:
            await self._bus.publish(
                ConnectorStatusChanged(
                    station_id,
                    change.evse_id,
                    change.connector_id,
                    status,
                    change.previous,
                    error_code,
                    when,
                )
            )

    async def hold_ended(self, station_id: str, reservation_id: int, why: HoldEnd) -> None:
        """The charger stopped holding a reservation by itself; whose it is, if anyone's, is
        for reservations to tell."""
        await self._bus.publish(
            ChargerHoldEnded(station_id, reservation_id, why, self._clock.now())
        )

    async def notice(self, station_id: str, kind: str, detail: str) -> None:
        await self._bus.publish(StationNotice(station_id, kind, detail[:500], self._clock.now()))

    # --- operator side ------------------------------------------------------------------

    async def get(self, station_id: str) -> Station:
        async with self._uow(read_only=True) as uow:
            station = await uow.stations.get(station_id)
        if station is None:
            raise NotFound(f"station {station_id} does not exist")
        return station

    async def page(self, after: str | None, limit: int) -> list[Station]:
        async with self._uow(read_only=True) as uow:
            return await uow.stations.page(after, limit)

    async def places(self) -> list[StationPlace]:
        """The whole network at a glance: where each station is and how its connectors are."""
        async with self._uow(read_only=True) as uow:
            return await uow.stations.places()

    async def command(
        self, station_id: str, command: Command, timeout_s: float | None = None
    ) -> CommandAnswer:
        """Send a command and return the station's own answer (Unavailable, TimedOut)."""
        await self.get(station_id)
        return await self._link.send(station_id, command, timeout_s or self._command_timeout)


def _check_password(password: str) -> None:
    if not MIN_STATION_PASSWORD <= len(password) <= MAX_STATION_PASSWORD:
        raise InvalidInput(
            f"a station password has {MIN_STATION_PASSWORD} to {MAX_STATION_PASSWORD} characters"
        )
