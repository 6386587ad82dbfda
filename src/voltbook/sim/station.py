"""Shared station behaviour: connectors, reservations, sessions and the offline queue.

`StationCore` keeps one station's state and does what both OCPP versions share; `v16` and
`v201` turn its changes into messages and answer commands; runner.py adds the connection.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

from voltbook.sim.local_list import LocalList
from voltbook.sim.model import (
    PLUGGED_AFTER,
    RFID,
    Behaviour,
    Connector,
    Reservation,
    ReservationRules,
    Sample,
    Session,
    Settings,
    SimOptions,
    StationSpec,
    build_connectors,
    now_utc,
    random_id_tag,
    rfc3339,
    same_tag,
)
from voltbook.sim.physics import Charge, Vehicle
from voltbook.sim.rpc import CallError, ConnectionLost, Offline, Outbox

T = TypeVar("T")
log = logging.getLogger(__name__)


class StationCore(ReservationRules):
    """One station's state and the behaviour both OCPP versions share.

    `SimulatedStation` (runner.py) adds the connection lifecycle; `behaviour` (v16/v201)
    turns state changes into messages and answers the server's commands.
    """

    behaviour: Behaviour

    def __init__(self, url: str, spec: StationSpec, options: SimOptions | None = None) -> None:
        self.url = url
        self.spec = spec
        self.id = spec.id
        self.options = options = options or SimOptions()
        seed = f"{options.seed}:{spec.id}" if options.seed is not None else None
        self.rng = random.Random(seed)  # noqa: S311 - simulation, not security
        self.settings = Settings(options.heartbeat_interval or 300.0, options.meter_interval)
        self.connectors = build_connectors(spec, self.rng)
        self.reservations: dict[int, Reservation] = {}
        self.sessions: dict[int, Session] = {}  # by EVSE id
        self.auth_cache: set[str] = set()
        self.local_list = LocalList(options.local_list_items, options.local_list_bytes)
        self.id_tags = options.id_tags or tuple(random_id_tag(self.rng) for _ in range(3))
        self.outbox = Outbox(retry_delay=1.0)
        self.connected = False
        self.booted = False
        self.boot_reason = "PowerUp"
        self.heartbeat_changed = asyncio.Event()
        self._tasks: set[asyncio.Task[Any]] = set()
        self._reset_when_idle: str | None = None

    # -- plumbing ---------------------------------------------------------------------------

    def emit(self, text: str) -> None:
        log.debug("%s: %s", self.id, text)
        if self.options.on_event is not None:
            self.options.on_event(self.id, text)

    def spawn(self, coro: Coroutine[Any, Any, T]) -> asyncio.Task[T]:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._task_done)
        return task

    def _task_done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("%s: task failed", self.id, exc_info=task.exception())

    async def cancel_tasks(self) -> None:
        for reservation in self.reservations.values():
            if reservation.timer is not None:
                reservation.timer.cancel()
        current = asyncio.current_task()
        # Ending sessions may spawn follow-ups (unplugging, a scheduled reboot): repeat.
        while tasks := [t for t in self._tasks if t is not current and not t.done()]:
            for task in tasks:
                task.cancel()
            await asyncio.wait(tasks)
        self.outbox.clear()

    def publish(self, connector: Connector, *, force: bool = False) -> None:
        """Send StatusNotification(s) when the connector's reported status changed."""
        key = self.behaviour.status_key(connector)
        if key == connector.reported and not force:
            return
        connector.reported = key
        for payload in self.behaviour.status_notifications(connector):
            self.outbox.send("StatusNotification", payload)

    @property
    def model(self) -> str:
        dc = any(c.power_type == "DC" for c in self.connectors.values())
        return "SimCharger-DC" if dc else "SimCharger-AC"

    def set_heartbeat_interval(self, seconds: float) -> None:
        self.settings.heartbeat_interval = seconds
        self.heartbeat_changed.set()

    def sample(self, connector: Connector, context: str) -> Sample:
        session = connector.session
        charge = session.charge if session is not None else None
        charging = (
            session is not None
            and session.phase == "Charging"
            and context not in ("Transaction.Begin", "Transaction.End")
        )
        return Sample(
            timestamp=rfc3339(),
            context=context,
            energy_wh=connector.meter_wh,
            power_w=charge.power_kw * 1000.0 if charge is not None and charging else 0.0,
            soc=charge.vehicle.soc if charge is not None else None,
            voltage=charge.voltage if charge is not None else 230.0,
        )

    def find_session(self, transaction_id: object) -> Session | None:
        return next((s for s in self.sessions.values() if s.transaction_id == transaction_id), None)

    # -- faults and availability --------------------------------------------------------------

    def fault(self, evse_id: int, error_code: str = "GroundFailure") -> None:
        """The EVSE reports a fault: Faulted, and a running session stops (reason Other)."""
        connector = self.connectors[evse_id]
        connector.fault = error_code
        if connector.reservation is not None:
            self._remove_reservation(connector.reservation)
        self.publish(connector)
        if connector.session is not None:
            connector.session.fault_code = error_code
            connector.session.request_stop("Other")
        self.emit(f"EVSE {evse_id} faulted: {error_code}")

    def recover(self, evse_id: int) -> None:
        connector = self.connectors[evse_id]
        connector.fault = None
        self.publish(connector)
        self.emit(f"EVSE {evse_id} recovered")

    def change_availability(self, evse_id: int | None, operative: bool) -> str:
        """Accepted, Scheduled (a session runs; applied when it ends) or Rejected."""
        if evse_id:
            if evse_id not in self.connectors:
                return "Rejected"
            targets = [self.connectors[evse_id]]
        else:
            targets = list(self.connectors.values())
        scheduled = False
        for connector in targets:
            if not operative and connector.session is not None:
                connector.pending_inoperative = scheduled = True
                continue
            connector.pending_inoperative = False
            connector.operative = operative
            if not operative and connector.reservation is not None:
                self._remove_reservation(connector.reservation)
            self.publish(connector)
        return "Scheduled" if scheduled else "Accepted"

    # -- sessions ------------------------------------------------------------------------------

    def start_session(
        self, evse_id: int, id_tag: str, token_type: str = RFID
    ) -> asyncio.Task[bool]:
        """A driver plugs in and presents `id_tag`; the task tells whether charging started."""
        return self.spawn(self._local_start(evse_id, id_tag, token_type))

    def stop_session(self, evse_id: int, reason: str = "Local") -> asyncio.Task[bool]:
        """The driver ends the session; the task ends when the transaction is stopped."""
        return self.spawn(self._stop(evse_id, reason))

    async def _local_start(self, evse_id: int, id_tag: str, token_type: str) -> bool:
        connector = self.connectors.get(evse_id)
        if connector is None:
            return False
        refusal = self.refusal(connector, id_tag)
        if refusal is not None:
            self.emit(f"EVSE {evse_id}: {id_tag} refused locally ({refusal})")
            return False
        return await self.begin(connector, id_tag, token_type, authorize=True) is not None

    async def _stop(self, evse_id: int, reason: str) -> bool:
        session = self.sessions.get(evse_id)
        if session is None:
            return False
        session.request_stop(reason)
        await session.ended.wait()
        return True

    def refusal(self, connector: Connector, id_tag: str) -> str | None:
        """Why `id_tag` cannot start on the connector now, decided without the server."""
        if connector.fault is not None:
            return "faulted"
        if not connector.operative or connector.pending_inoperative:
            return "unavailable"
        if connector.session is not None or connector.busy or connector.plugged:
            return "occupied"
        reservation = connector.reservation
        if reservation is not None:
            return None if same_tag(reservation.id_tag, id_tag) else "reserved for another tag"
        if len(self._free()) - 1 < len(self._any_reservations(except_tag=id_tag)):
            return "kept free for a reservation"
        return None

    async def _authorize(self, id_tag: str, token_type: str) -> bool:
        known = self.local_list.decides(id_tag, self.auth_cache)  # the list, else the cache
        if self.settings.local_pre_authorize and known:
            return True
        request = self.behaviour.authorize_request(id_tag, token_type)
        try:
            answer = await self.outbox.call("Authorize", request)
        except (Offline, ConnectionLost, TimeoutError):
            return self.settings.local_authorize_offline and known
        except CallError:
            return False
        status = self.behaviour.authorize_status(answer)
        if status == "Accepted":
            self.auth_cache.add(id_tag)
        else:
            self.auth_cache.discard(id_tag)
        return status == "Accepted"

    async def begin(
        self,
        connector: Connector,
        id_tag: str,
        token_type: str,
        *,
        authorize: bool,
        remote_start_id: int | None = None,
        transaction_id: int | str | None = None,
    ) -> Session | None:
        """Authorize if asked, then start a transaction on the connector."""
        connector.busy = True
        try:
            if authorize and not await self._authorize(id_tag, token_type):
                self.emit(f"EVSE {connector.evse_id}: {id_tag} not authorized")
                return None
            if connector.fault is not None or not connector.operative:
                return None
        finally:
            connector.busy = False
        reservation = connector.reservation
        if reservation is None or not same_tag(reservation.id_tag, id_tag):
            reservation = next(iter(self._any_reservations_for(id_tag)), None)
        if reservation is not None:
            self._drop_reservation(reservation)
        charge = Charge(Vehicle.random(self.rng), connector.power_type, connector.max_power_kw)
        to_target = charge.seconds_to_target()
        session = Session(
            evse_id=connector.evse_id,
            connector_id=connector.connector_ids[0],
            id_tag=id_tag,
            token_type=token_type,
            transaction_id=transaction_id or self.behaviour.new_transaction_id(),
            charge=charge,
            meter_start_wh=round(connector.meter_wh),
            started_at=now_utc(),
            departure_s=to_target * self.rng.uniform(0.6, 1.5) + self.rng.uniform(60, 900),
            remote_start_id=remote_start_id,
            reservation_id=reservation.id if reservation is not None else None,
        )
        connector.session = session
        self.sessions[connector.evse_id] = session
        self.spawn(self._run_session(session, connector))
        return session

    def _any_reservations_for(self, id_tag: str) -> list[Reservation]:
        return [r for r in self._any_reservations() if same_tag(r.id_tag, id_tag)]

    async def _run_session(self, session: Session, connector: Connector) -> None:
        loop = asyncio.get_running_loop()
        try:
            self.publish(connector)  # Preparing
            self.behaviour.transaction_started(session, self.sample(connector, "Transaction.Begin"))
            session.phase = "Charging"
            self.publish(connector)
            vehicle = session.charge.vehicle
            self.emit(
                f"EVSE {session.evse_id}: charging {session.id_tag}, "
                f"{vehicle.capacity_kwh:.0f} kWh battery at {vehicle.soc:.0f}%"
            )
            last = loop.time()
            next_meter = last + self.settings.meter_interval
            while session.stop_reason is None:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(session.wake.wait(), max(0.0, next_meter - last))
                session.wake.clear()
                now = loop.time()
                self._advance(session, connector, now - last)
                last = now
                if session.stop_reason is not None:
                    break
                if session.phase == "Charging" and vehicle.full:
                    session.phase = "SuspendedEV"
                    self.publish(connector)
                    sample = self.sample(connector, "Sample.Periodic")
                    self.behaviour.transaction_updated(session, sample, "ChargingStateChanged")
                if self.options.auto_stop and session.elapsed_s >= session.departure_s:
                    session.request_stop("EVDisconnected" if vehicle.full else "Local")
                    break
                if now >= next_meter:
                    sample = self.sample(connector, "Sample.Periodic")
                    self.behaviour.transaction_updated(session, sample, "MeterValuePeriodic")
                    next_meter = now + self.settings.meter_interval
            self._advance(session, connector, loop.time() - last)
            self.behaviour.transaction_ended(session, self.sample(connector, "Transaction.End"))
            self.emit(
                f"EVSE {session.evse_id}: stopped ({session.stop_reason}), "
                f"{session.energy_wh / 1000:.2f} kWh, SoC {vehicle.soc:.0f}%"
            )
        finally:
            self._end_session(session, connector)

    def _advance(self, session: Session, connector: Connector, real_seconds: float) -> None:
        simulated = max(0.0, real_seconds) * self.options.speed
        connector.meter_wh += session.charge.advance(simulated)
        session.elapsed_s += simulated

    def _end_session(self, session: Session, connector: Connector) -> None:
        connector.session = None
        if self.sessions.get(session.evse_id) is session:
            del self.sessions[session.evse_id]
        connector.plugged = session.stop_reason in PLUGGED_AFTER and connector.fault is None
        if connector.pending_inoperative:
            connector.pending_inoperative = False
            connector.operative = False
        self.publish(connector)
        session.ended.set()
        if connector.plugged:
            self.spawn(self._unplug_later(connector))
        if self._reset_when_idle is not None and not self.sessions:
            reason, self._reset_when_idle = self._reset_when_idle, None
            self.spawn(self.reboot(reason))

    async def _unplug_later(self, connector: Connector) -> None:
        await asyncio.sleep(min(120.0, self.rng.uniform(20.0, 90.0) / self.options.speed))
        self.unplug(connector)

    def unplug(self, connector: Connector) -> None:
        if connector.plugged:
            connector.plugged = False
            self.publish(connector)

    # -- commands ------------------------------------------------------------------------------

    def remote_start(
        self, evse_id: int | None, id_tag: str, token_type: str, remote_start_id: int | None = None
    ) -> tuple[int | str, Callable[[], Coroutine[Any, Any, None]]] | None:
        """Claim a connector for a remote start; None when none can take it (Rejected)."""
        if evse_id:
            candidates = [self.connectors[evse_id]] if evse_id in self.connectors else []
        else:
            candidates = list(self.connectors.values())
        connector = next((c for c in candidates if self.refusal(c, id_tag) is None), None)
        if connector is None:
            return None
        connector.busy = True
        transaction_id = self.behaviour.new_transaction_id()

        async def start() -> None:
            await self.begin(
                connector,
                id_tag,
                token_type,
                authorize=self.settings.authorize_remote,
                remote_start_id=remote_start_id,
                transaction_id=transaction_id,
            )

        return transaction_id, start

    def remote_stop(self, transaction_id: object) -> bool:
        session = self.find_session(transaction_id)
        if session is None:
            return False
        session.request_stop("Remote")
        return True

    def deauthorize(self, session: Session) -> None:
        """The server refused the id tag of a running transaction."""
        self.auth_cache.discard(session.id_tag)
        if self.settings.stop_on_invalid_id:
            session.request_stop("DeAuthorized")

    def reset(self, reason: str, *, when_idle: bool = False) -> str:
        """Stop transactions and reboot now, or (`when_idle`) once the last one ended."""
        if when_idle and self.sessions:
            self._reset_when_idle = reason
            return "Scheduled"
        self.spawn(self.reboot(reason))
        return "Accepted"

    async def reboot(self, reason: str) -> None:
        sessions = list(self.sessions.values())
        for session in sessions:
            session.request_stop(reason)
        for session in sessions:
            await session.ended.wait()
        await self.outbox.drain(self.options.call_timeout)
        for connector in self.connectors.values():
            connector.plugged = False
        self.emit(f"rebooting ({reason})")
        await self.restart()

    async def restart(self) -> None:
        """Close the connection and boot again (the connection lifecycle implements it)."""
        raise NotImplementedError

    def trigger_status(self, evse_id: int | None) -> bool:
        if evse_id and evse_id not in self.connectors:
            return False
        for connector in self.connectors.values():
            if not evse_id or connector.evse_id == evse_id:
                self.publish(connector, force=True)
        return True

    def trigger_meter_values(self, evse_id: int | None) -> bool:
        if evse_id and evse_id not in self.connectors:
            return False
        for connector in self.connectors.values():
            if evse_id and connector.evse_id != evse_id:
                continue
            sample = self.sample(connector, "Trigger")
            if connector.session is not None:
                self.behaviour.transaction_updated(connector.session, sample, "Trigger")
            else:
                self.outbox.send("MeterValues", self.behaviour.meter_values(connector, sample))
        return True
