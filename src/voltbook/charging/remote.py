"""Use cases of charging from the app: start on an EVSE, follow what the charger reports,
stop, and list a driver's charges. See `remote_model` for the states."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from voltbook.charging.remote_model import (
    STARTABLE,
    AppCharge,
    AppChargeUowFactory,
    ChargerControl,
    ChargeState,
    ChargeView,
    request_hash,
)
from voltbook.core.clock import Clock
from voltbook.core.errors import Conflict, InvalidInput, NotFound, TimedOut, Unavailable
from voltbook.core.ids import IdSource


class AppChargingService:
    def __init__(
        self, uow: AppChargeUowFactory, control: ChargerControl, clock: Clock, ids: IdSource
    ) -> None:
        self._uow = uow
        self._control = control
        self._clock = clock
        self._ids = ids

    async def issue_token(self, driver_id: str) -> str:
        """The driver's app id token (made at sign-up; made now for older accounts)."""
        async with self._uow() as uow:
            token = await uow.app_charges.app_token(driver_id)
            await uow.commit()
        return token

    async def start(
        self, driver_id: str, station_id: str, evse_id: int, idempotency_key: str
    ) -> tuple[ChargeView, bool]:
        """Ask the charger to start for the driver's app token; (charge, created).

        The same key and EVSE return the first charge; the same key for another EVSE is
        InvalidInput. Refused (Conflict) on an EVSE that is busy, faulted, offline or held
        for someone else."""
        fingerprint = request_hash(station_id, evse_id)
        async with self._uow(read_only=True) as uow:
            earlier = await uow.app_charges.by_key(driver_id, idempotency_key)
        if earlier is not None:
            return await self._replayed(earlier, fingerprint), False
        token = await self.issue_token(driver_id)
        await self._check_startable(station_id, evse_id, token)
        now = self._clock.now()
        charge = AppCharge(
            id=self._ids.new_id(),
            driver_id=driver_id,
            station_id=station_id,
            evse_id=evse_id,
            id_tag=token,
            state=ChargeState.REQUESTED,
            created_at=now,
            updated_at=now,
            idempotency_key=idempotency_key,
            request_hash=fingerprint,
        )
        async with self._uow() as uow:
            added = await uow.app_charges.add(charge)
            await uow.commit()
        if not added:  # a concurrent request with the same key won
            async with self._uow(read_only=True) as uow:
                earlier = await uow.app_charges.by_key(driver_id, idempotency_key)
            if earlier is None:
                raise Conflict("a start with this Idempotency-Key is being decided")
            return await self._replayed(earlier, fingerprint), False
        await self._ask_charger(charge)
        return await self.view(driver_id, charge.id), True

    async def _replayed(self, earlier: AppCharge, fingerprint: str) -> ChargeView:
        if earlier.request_hash != fingerprint:
            raise InvalidInput("this Idempotency-Key was used for another charger")
        return await self.view(earlier.driver_id, earlier.id)

    async def _check_startable(self, station_id: str, evse_id: int, token: str) -> None:
        async with self._uow(read_only=True) as uow:
            found = await uow.app_charges.evse_status(station_id, evse_id)
        if found is None:
            raise NotFound(f"no EVSE {evse_id} at station {station_id}")
        status, online = found
        if not online:
            raise Unavailable("this charger is offline")
        held_for_others = await self._control.held_for_others(station_id, evse_id, token)
        if held_for_others:
            raise Conflict("this connector is reserved for someone else")
        if status not in STARTABLE and status != "Reserved":
            raise Conflict(f"this connector cannot start now: it is {status}", status=status)

    async def _ask_charger(self, charge: AppCharge) -> None:
        """Send the remote start; its answer moves the charge on, unless the charger
        already reported the transaction meanwhile."""
        try:
            answer = await self._control.remote_start(
                charge.station_id, charge.evse_id, charge.id_tag
            )
        except Unavailable:
            await self._settle(charge.id, ChargeState.FAILED, "the charger went offline")
            return
        except TimedOut:
            await self._settle(charge.id, ChargeState.FAILED, "the charger did not answer")
            return
        if answer != "Accepted":
            await self._settle(
                charge.id, ChargeState.FAILED, f"the charger refused to start ({answer})"
            )
            return
        async with self._uow(read_only=True) as uow:
            found = await uow.app_charges.evse_status(charge.station_id, charge.evse_id)
        cable_in = found is not None and found[0] not in ("Available", "Reserved")
        await self._settle(charge.id, ChargeState.STARTING if cable_in else ChargeState.PLUG_IN)

    async def _settle(self, charge_id: str, state: ChargeState, reason: str | None = None) -> None:
        """Move a charge that is still waiting for the charger's answer."""
        async with self._uow() as uow:
            charge = await uow.app_charges.get(charge_id)
            if charge is None or charge.state is not ChargeState.REQUESTED:
                return
            await uow.app_charges.save(charge.moved(state, self._clock.now(), reason))
            await uow.commit()

    # --- what the charger reports ----------------------------------------------------------

    async def connector_status(self, station_id: str, evse_id: int, status: str) -> None:
        """The cable going in moves a waiting charge to `starting`; a fault fails it."""
        if status not in ("Preparing", "Faulted", "Unavailable"):
            return
        async with self._uow(read_only=True) as uow:  # the common case: no app charge
            waiting = await uow.app_charges.waiting_for(station_id, evse_id, None)
        if waiting is None:
            return
        async with self._uow() as uow:
            charge = await uow.app_charges.waiting_for(station_id, evse_id, None)
            if charge is None:
                return
            now = self._clock.now()
            if status == "Preparing" and charge.state is ChargeState.PLUG_IN:
                moved = charge.moved(ChargeState.STARTING, now)
            elif status != "Preparing":
                moved = charge.moved(ChargeState.FAILED, now, f"the connector is {status}")
            else:
                return
            await uow.app_charges.save(moved)
            await uow.commit()

    async def session_started(
        self, session_id: int, station_id: str, evse_id: int, id_tag: str | None
    ) -> None:
        """The charger reported the transaction of a charge asked for from the app."""
        if not id_tag:
            return
        async with self._uow() as uow:
            charge = await uow.app_charges.waiting_for(station_id, evse_id, id_tag)
            if charge is None:
                return
            started = charge.moved(ChargeState.CHARGING, self._clock.now())
            await uow.app_charges.save(replace(started, session_id=session_id))
            await uow.commit()

    async def session_stopped(self, session_id: int, reason: str | None) -> AppCharge | None:
        """The charger reported the stop: the charge is finished (returned, once)."""
        async with self._uow() as uow:
            charge = await uow.app_charges.of_session(session_id)
            if charge is None or charge.state.ended:
                return None
            finished = charge.moved(ChargeState.FINISHED, self._clock.now(), reason)
            await uow.app_charges.save(finished)
            await uow.commit()
        return finished

    # --- the driver's side ---------------------------------------------------------------

    async def stop(self, driver_id: str, charge_id: str) -> ChargeView:
        """Ask the charger to stop; the charge ends when the charger reports the stop."""
        view = await self.view(driver_id, charge_id)
        charge, session = view.charge, view.session
        if charge.state is not ChargeState.CHARGING or session is None:
            raise Conflict(f"this charge is not running: it is {charge.state.value}")
        answer = await self._control.remote_stop(charge.station_id, session.reference)
        if answer != "Accepted":
            raise Conflict(f"the charger refused to stop ({answer})")
        async with self._uow() as uow:
            current = await uow.app_charges.get(charge_id)
            if current is not None and current.state is ChargeState.CHARGING:
                await uow.app_charges.save(current.moved(ChargeState.STOPPING, self._clock.now()))
                await uow.commit()
        return await self.view(driver_id, charge_id)

    async def view(self, driver_id: str, charge_id: str) -> ChargeView:
        """One of the driver's charges; another driver's is NotFound."""
        async with self._uow(read_only=True) as uow:
            charge = await uow.app_charges.get(charge_id)
            if charge is None or charge.driver_id != driver_id:
                raise NotFound("no such charge")
        return (await self._views([charge]))[0]

    async def of_driver(
        self, driver_id: str, before: datetime | None, limit: int
    ) -> list[ChargeView]:
        async with self._uow(read_only=True) as uow:
            charges = await uow.app_charges.of_driver(driver_id, before, limit)
        return await self._views(charges)

    async def _views(self, charges: list[AppCharge]) -> list[ChargeView]:
        now = self._clock.now()
        views = []
        for listed in charges:
            charge = await self._give_up(listed) if listed.overdue(now) else listed
            async with self._uow(read_only=True) as uow:
                stored = (
                    await uow.app_charges.session(charge.session_id)
                    if charge.session_id is not None
                    else None
                )
                name, address = await uow.app_charges.place(charge.station_id)
            live = (
                await self._control.current(charge.station_id, stored.reference)
                if stored is not None and stored.active
                else None
            )
            views.append(ChargeView(charge, live or stored, name, address, now))
        return views

    async def _give_up(self, charge: AppCharge) -> AppCharge:
        """A charge the charger never started: failed, saying why."""
        reason = (
            "no cable was plugged in in time"
            if charge.state is ChargeState.PLUG_IN
            else "the charger did not start charging"
        )
        async with self._uow() as uow:
            current = await uow.app_charges.get(charge.id)
            if current is None or not current.state.waiting:
                return current or charge
            failed = current.moved(ChargeState.FAILED, self._clock.now(), reason)
            await uow.app_charges.save(failed)
            await uow.commit()
        return failed
