"""The city on simpy: one process per need, one per charger fault; every question to
voltbook goes through the port, so the same engine runs on the real server or in memory.

A port call is a coroutine; `Bridge.ask` turns it into something a simpy process can wait
for (`yield from bridge.ask(coro)`): at once in memory, or an asyncio task on the real
server whose answer comes back at the simulated time it arrives (see server.py).
"""

from __future__ import annotations

from collections.abc import Coroutine, Generator
from typing import Any, Protocol, TypeVar

import simpy

from voltbook.city.choice import Acceptance
from voltbook.city.demand import Fault, Need
from voltbook.city.ledger import Arm, Ledger, Outcome, Use
from voltbook.city.network import Network, Site, distance_km
from voltbook.city.params import Parameters
from voltbook.city.ports import Booking, CityPort, Offered

T = TypeVar("T")
Wait = Generator[Any, Any, T]


class Bridge(Protocol):
    def ask(self, call: Coroutine[Any, Any, T]) -> Wait[T]: ...


class AtOnce:
    """For ports that answer without waiting (in memory): runs the coroutine to its end."""

    def ask(self, call: Coroutine[Any, Any, T]) -> Wait[T]:
        try:
            call.send(None)
        except StopIteration as done:
            return done.value  # type: ignore[no-any-return]
        call.close()
        raise RuntimeError("an in-memory port must not wait")
        yield  # a generator, for `yield from`


class City:
    def __init__(
        self,
        env: simpy.Environment,
        params: Parameters,
        network: Network,
        port: CityPort,
        bridge: Bridge,
        arm: Arm,
        horizon_s: float,
        grace_s: float = 900.0,
    ) -> None:
        self.env, self.p, self.network, self.port, self.bridge = env, params, network, port, bridge
        self.arm = arm
        self.grace_s = grace_s
        self.ledger = Ledger(arm, horizon_s, [c.key for c in network.chargers])
        self.occupied: dict[str, int] = {}  # charger -> need id plugged in
        self.held: dict[str, float] = {}  # charger -> held since (a booking nobody used yet)
        self.faulted: dict[str, float] = {}  # charger -> faulted since
        self.sessions: dict[str, tuple[float, float]] = {}  # charger -> (began, charging s)
        self.queues: dict[str, list[simpy.Event]] = {}
        self.freed: dict[str, simpy.Event] = {}
        self.speed_kms = params.num("drivers.speed_kmh") / 3600.0
        self.acceptance = Acceptance(params)

    def start(self, needs: list[Need], faults: list[Fault]) -> None:
        for need in needs:
            self.env.process(self._driver(need))
        for fault in faults:
            self.env.process(self._fault(fault))

    # -- drivers ---------------------------------------------------------------------------

    def _ask(self, outcome: Outcome | None, call: Coroutine[Any, Any, T]) -> Wait[T]:
        """A question to voltbook; the simulated time its answer took is kept apart (a loaded
        test machine at 1,800 times real speed turns 100 ms into 3 minutes no driver waits)."""
        before = self.env.now
        answer = yield from self.bridge.ask(call)
        if outcome is not None:
            outcome.server_s += self.env.now - before
        return answer

    def _driver(self, need: Need) -> Wait[None]:
        listens = self.arm.offers and need.consents
        if listens:  # the app reports the position while the driver is on the road
            lead_s = 60 * self.p.num("offers.share_lead_min")
            yield self.env.timeout(max(0.0, need.at_s - lead_s - self.env.now))
            yield from self.bridge.ask(self.port.share_position(need, need.lat, need.lon))
        yield self.env.timeout(max(0.0, need.at_s - self.env.now))
        self.ledger.started += 1
        if self.arm.books and need.no_show:
            yield from self._no_show(need)
        began, lat, lon = self.env.now, need.lat, need.lon
        outcome = Outcome(need.id, charged=False, search_wait_s=0.0)
        tried: set[str] = set()
        offered: Offered | None = None
        for attempt in range(int(self.p["drivers.max_sites"])):
            site, evse = yield from self._choose(need, lat, lon, tried, outcome)
            redeeming = False
            if listens and not outcome.accepted:  # the app shows offers heard meanwhile
                listen_s = 60 * self.p.num("offers.listen_min") if attempt == 0 else 0.0
                offered = yield from self._ask(outcome, self.port.offer(need, lat, lon, listen_s))
                if offered is not None and offered.site_id not in tried:
                    outcome.offered = True
                    site, evse = yield from self._weigh(
                        need, lat, lon, offered, outcome, site, evse
                    )
                    redeeming = outcome.accepted
            if site is None:
                break
            booking = None
            if self.arm.books and evse is not None:
                minutes = self._book_minutes(need, lat, lon, site)
                call = (self.port.reserve_for(need, offered, site.id, evse, minutes)
                        if redeeming and offered is not None
                        else self.port.reserve(need, site.id, evse, minutes))  # fmt: skip
                booking = yield from self._ask(outcome, call)
                if booking is not None:
                    self.held[f"{site.id}/{booking.evse_id}"] = self.env.now
                    outcome.booked = True
            yield self.env.timeout(distance_km(lat, lon, site.lat, site.lon) / self.speed_kms)
            lat, lon = site.lat, site.lon
            outcome.sites_tried += 1
            tag = offered.id_tag if redeeming and offered is not None else f"CITY{need.id}"
            charger = yield from self._at_site(need, site, booking, outcome, tag)
            if charger is not None:
                outcome.charged, outcome.charger = True, charger
                if redeeming and offered is not None:
                    outcome.discount = (offered.percent_off / 100 * outcome.kwh
                                        * self.p.num("offers.price_per_kwh"))  # fmt: skip
                break
            tried.add(site.id)
        outcome.search_wait_s = self.env.now - began - outcome.server_s
        self.ledger.outcomes.append(outcome)

    def _no_show(self, need: Need) -> Wait[None]:
        """Books the nearest free charger and does not come; turns up as a walk-in later."""
        site, evse = yield from self._choose(need, need.lat, need.lon, set(), None)
        if site is not None and evse is not None:
            booking = yield from self.bridge.ask(self.port.reserve(need, site.id, evse, 30))
            if booking is not None:
                key = f"{site.id}/{booking.evse_id}"
                self.held[key] = self.env.now
                self.env.process(self._expire(key, self.env.now))
                self.ledger.outcomes.append(Outcome(-need.id - 1, False, 0.0, key, booked=True,
                                                    honoured=False))  # fmt: skip
        yield self.env.timeout(self.grace_s + 300.0)

    def _expire(self, key: str, since: float) -> Wait[None]:
        yield self.env.timeout(self.grace_s)
        if self.held.get(key) == since:
            del self.held[key]
            self.ledger.span(key, Use.RESERVED, since, self.env.now)
            self._release(key)

    def _book_minutes(self, need: Need, lat: float, lon: float, site: Site) -> int:
        drive = distance_km(lat, lon, site.lat, site.lon) / self.speed_kms / 60
        return max(10, int(drive + self.p.num("reservations.book_minutes_extra")))

    def _fits(self, need: Need, site: Site) -> list[int]:
        if not set(need.standards) & set(site.standards):
            return []
        return [e for e in range(1, site.chargers + 1) if site.is_dc(e) == need.dc]

    def _choose(
        self, need: Need, lat: float, lon: float, tried: set[str], outcome: Outcome | None
    ) -> Wait[tuple[Site | None, int | None]]:
        reach = min(need.tolerance_km, self.p.num("drivers.choice_radius_km"))
        if self.arm.informed:
            seen = yield from self._ask(outcome, self.port.available(need, lat, lon, reach))
            for s in seen:
                if s.site_id not in tried:
                    return self.network.site(s.site_id), s.evse_id
        known = [
            (distance_km(lat, lon, s.lat, s.lon), s.id)
            for s in self.network.sites
            if s.id not in tried and self._fits(need, s)
        ]
        near = sorted(d for d in known if d[0] <= reach) or sorted(known)[:1]
        return (self.network.site(near[0][1]), None) if near else (None, None)

    def _weigh(
        self,
        need: Need,
        lat: float,
        lon: float,
        offered: Offered,
        outcome: Outcome,
        site: Site | None,
        evse: int | None,
    ) -> Wait[tuple[Site | None, int | None]]:
        """The site the driver would pick anyway (B1: `site`, `evse`) against the offer's:
        the logit in the discount, the extra distance and the wait the offer saves (the
        expected queue when no charger shows free within reach) decides, on the need's own
        draw."""
        there = self.network.site(offered.site_id)
        far = distance_km(lat, lon, there.lat, there.lon)
        if site is not None and site.id == there.id:
            outcome.accepted = True  # going there anyway: the discount moves no one
            return site, evse
        if far > need.tolerance_km:
            return site, evse
        default_km = 0.0 if site is None else distance_km(lat, lon, site.lat, site.lon)
        saved = 0.0 if evse is not None else self.p.num("drivers.patience_mean_min")
        p = self.acceptance.probability(offered.percent_off, far - default_km, saved)
        if need.draw >= p:
            return site, evse
        outcome.accepted = outcome.moved = True
        free = None
        if self.arm.books:
            seen = yield from self._ask(outcome, self.port.available(need, there.lat, there.lon,
                                                                     0.1))  # fmt: skip
            free = next((s.evse_id for s in seen if s.site_id == there.id), None)
        return there, free

    def _at_site(
        self, need: Need, site: Site, booking: Booking | None, outcome: Outcome, tag: str
    ) -> Wait[str | None]:
        """Plug in (the booked charger first); else queue, balk or renege."""
        if booking is not None:
            key = f"{site.id}/{booking.evse_id}"
            since = self.held.pop(key, None)
            if since is not None:
                self.ledger.span(key, Use.RESERVED, since, self.env.now)
            started = yield from self._plug(need, site, booking.evse_id, booking.id_tag, outcome)
            if started:
                return key
            outcome.honoured = False
            self._release(key)
        deadline = self.env.now + need.patience_s
        while True:
            for evse in self._fits(need, site):
                key = f"{site.id}/{evse}"
                if key in self.occupied or key in self.held:
                    continue  # a car is there, or the charger shows it is reserved
                if (yield from self._plug(need, site, evse, tag, outcome)):
                    return key
            yield self.env.timeout(60 * self.p.num("drivers.site_check_min"))
            waiting = self.queues.setdefault(site.id, [])
            if len(waiting) >= int(self.p["drivers.balk_queue"]) or self.env.now >= deadline:
                return None
            turn = self.env.event()
            waiting.append(turn)
            yield turn | self.env.timeout(deadline - self.env.now)
            if turn in waiting:
                waiting.remove(turn)
            if not turn.triggered:
                return None  # reneged

    def _plug(self, need: Need, site: Site, evse: int, id_tag: str, outcome: Outcome) -> Wait[bool]:
        key = f"{site.id}/{evse}"
        if key in self.occupied:  # someone got there first (a booking raced a walk-in)
            outcome.refused_starts += 1
            return False
        self.occupied[key] = need.id  # the driver stands at it while the charger decides
        started = yield from self._ask(outcome, self.port.plug(site.id, evse, id_tag))
        if not started:
            del self.occupied[key]
            outcome.refused_starts += 1
            return False
        power = self.p.num("network.ac_power_kw")
        if site.is_dc(evse):
            power = self.network.dc_power_kw or self.p.num("network.dc_power_kw")
        charge_s = min(need.connect_s, need.energy_kwh / power * 3600.0)
        outcome.kwh = power * charge_s / 3600.0
        self.env.process(self._session(key, site, evse, charge_s, need.connect_s))
        return True

    def _session(
        self, key: str, site: Site, evse: int, charge_s: float, stay_s: float
    ) -> Wait[None]:
        began = self.env.now
        self.sessions[key] = (began, charge_s)
        yield self.env.timeout(stay_s)
        del self.sessions[key]
        yield from self.bridge.ask(self.port.unplug(site.id, evse))
        self.ledger.span(key, Use.CHARGING, began, began + charge_s)
        self.ledger.span(key, Use.PLUGGED, began + charge_s, self.env.now)
        del self.occupied[key]
        self._release(key)

    def _release(self, key: str) -> None:
        """A charger is free again: the first in the site's queue tries, and faults waiting
        for the car to leave may begin."""
        site_id = key.rsplit("/", 1)[0]
        waiting = self.queues.get(site_id)
        if waiting:
            waiting.pop(0).succeed()
        freed = self.freed.pop(key, None)
        if freed is not None:
            freed.succeed()

    # -- faults ----------------------------------------------------------------------------

    def _fault(self, fault: Fault) -> Wait[None]:
        """A charger breaks at its time, or once the car on it (or its booking) has gone."""
        yield self.env.timeout(max(0.0, fault.start_s - self.env.now))
        while fault.charger in self.occupied or fault.charger in self.held:
            freed = self.freed.setdefault(fault.charger, self.env.event())
            yield freed
        if self.env.now >= fault.end_s or fault.charger in self.faulted:
            return
        site_id, evse = fault.charger.rsplit("/", 1)
        self.faulted[fault.charger] = began = self.env.now  # it looks free: drivers try it
        yield from self.bridge.ask(self.port.fault(site_id, int(evse)))
        yield self.env.timeout(max(0.0, fault.end_s - self.env.now))
        yield from self.bridge.ask(self.port.recover(site_id, int(evse)))
        self.ledger.span(fault.charger, Use.FAULTED, began, self.env.now)
        del self.faulted[fault.charger]
        self._release(fault.charger)

    def finish(self) -> Ledger:
        """The ledger at the horizon, with the time of sessions, holds and faults still
        running counted up to it."""
        end = self.ledger.horizon_s
        for key, (began, charge_s) in self.sessions.items():
            self.ledger.span(key, Use.CHARGING, began, began + charge_s)
            self.ledger.span(key, Use.PLUGGED, began + charge_s, end)
        for key, since in self.held.items():
            self.ledger.span(key, Use.RESERVED, since, end)
        for key, since in self.faulted.items():
            self.ledger.span(key, Use.FAULTED, since, end)
        return self.ledger
