"""voltbook's rules in memory, for fast tests of the city (the study runs on the server):
availability is what the chargers are, a booking holds a charger for its tag until the
grace has passed, a faulted or held charger refuses anyone else."""

from __future__ import annotations

from collections.abc import Callable

import simpy

from voltbook.city.demand import DAY_S, Need, faults, needs
from voltbook.city.engine import AtOnce, City
from voltbook.city.ledger import Arm, Ledger
from voltbook.city.network import Network, distance_km
from voltbook.city.params import Parameters
from voltbook.city.ports import Booking, Offered, Seen

# The server's offer engine names the longest-idle charger within this reach of the driver
# (its EngineRules.idle_reach_m).
IDLE_REACH_KM = 3.0


class MemoryPort:
    def __init__(
        self,
        network: Network,
        now: Callable[[], float],
        grace_s: float = 900.0,
        *,
        idle_minutes: float = 30.0,
        percent_off: float = 20.0,
    ) -> None:
        self.network, self.now, self.grace_s = network, now, grace_s
        self.idle_s, self.percent_off = 60 * idle_minutes, percent_off
        self.plugged: dict[str, str] = {}
        self.faulted: set[str] = set()
        self.holds: dict[str, tuple[str, float]] = {}  # charger -> (id tag, held until)
        self.free_since: dict[str, float] = {}  # charger -> Available since (absent: from 0)
        self.told: set[tuple[int, str]] = set()  # (need, site) offered once
        self.calls = 0

    def _held_for(self, key: str) -> str | None:
        hold = self.holds.get(key)
        if hold is None or hold[1] <= self.now():
            if hold is not None:
                self.free_since[key] = hold[1]  # the booking lapsed: Available from then
            self.holds.pop(key, None)
            return None
        return hold[0]

    def _free(self, key: str) -> bool:
        return key not in self.plugged and key not in self.faulted and not self._held_for(key)

    async def available(self, need: Need, lat: float, lon: float, radius_km: float) -> list[Seen]:
        self.calls += 1
        found: list[Seen] = []
        for site in self.network.sites:
            km = distance_km(lat, lon, site.lat, site.lon)
            if km > radius_km or not set(need.standards) & set(site.standards):
                continue
            found.extend(
                Seen(site.id, evse, km)
                for evse in range(1, site.chargers + 1)
                if site.is_dc(evse) == need.dc and self._free(f"{site.id}/{evse}")
            )
        return sorted(found, key=lambda s: s.distance_km)

    async def share_position(self, need: Need, lat: float, lon: float) -> None:
        self.calls += 1

    async def offer(self, need: Need, lat: float, lon: float, listen_s: float) -> Offered | None:
        """The idle-station rule, as the server's offer engine has it: of the chargers fitting
        the need that have been free for the offer's idle minutes, anywhere in the city (the
        offer's area), the one free longest within the engine's reach of the driver; the
        nearest when none is that close."""
        self.calls += 1
        now = self.now()
        idle: list[tuple[float, float, str]] = []  # (km, free since, site)
        for site in self.network.sites:
            if not set(need.standards) & set(site.standards) or (need.id, site.id) in self.told:
                continue
            since = [
                self.free_since.get(key, 0.0)
                for evse in range(1, site.chargers + 1)
                if site.is_dc(evse) == need.dc
                and self._free(key := f"{site.id}/{evse}")
                and now - self.free_since.get(key, 0.0) >= self.idle_s
            ]
            if since:
                idle.append((distance_km(lat, lon, site.lat, site.lon), min(since), site.id))
        if not idle:
            return None
        in_reach = [i for i in idle if i[0] <= IDLE_REACH_KM]
        _, _, site_id = min(in_reach, key=lambda i: (i[1], i[0])) if in_reach else min(idle)
        self.told.add((need.id, site_id))
        return Offered(site_id, self.percent_off, f"CARD{need.id}")

    async def reserve(self, need: Need, site_id: str, evse_id: int, minutes: int) -> Booking | None:
        return self._hold(need, site_id, evse_id, f"BOOK{need.id}")

    async def reserve_for(
        self, need: Need, offered: Offered, site_id: str, evse_id: int, minutes: int
    ) -> Booking | None:
        return self._hold(need, site_id, evse_id, offered.id_tag)

    def _hold(self, need: Need, site_id: str, evse_id: int, tag: str) -> Booking | None:
        self.calls += 1
        key = f"{site_id}/{evse_id}"
        if not self._free(key):
            return None
        self.holds[key] = (tag, self.now() + self.grace_s)
        return Booking(str(need.id), site_id, evse_id, tag)

    async def plug(self, site_id: str, evse_id: int, id_tag: str) -> bool:
        self.calls += 1
        key = f"{site_id}/{evse_id}"
        holder = self._held_for(key)
        if key in self.plugged or key in self.faulted or holder not in (None, id_tag):
            return False
        self.holds.pop(key, None)
        self.plugged[key] = id_tag
        return True

    async def unplug(self, site_id: str, evse_id: int) -> None:
        self.plugged.pop(f"{site_id}/{evse_id}", None)
        self.free_since[f"{site_id}/{evse_id}"] = self.now()

    async def fault(self, site_id: str, evse_id: int) -> None:
        self.faulted.add(f"{site_id}/{evse_id}")

    async def recover(self, site_id: str, evse_id: int) -> None:
        self.faulted.discard(f"{site_id}/{evse_id}")
        self.free_since[f"{site_id}/{evse_id}"] = self.now()


def run_in_memory(
    params: Parameters, network: Network, arm: Arm, days: float, seed: int, stress: float = 1.0
) -> Ledger:
    """One run of the city against the in-memory rules (tests; no server)."""
    env = simpy.Environment()
    port = MemoryPort(network, lambda: env.now, idle_minutes=params.num("offers.idle_minutes"),
                      percent_off=params.num("offers.discount_percent"))  # fmt: skip
    city = City(env, params, network, port, AtOnce(), arm, days * DAY_S)
    city.start(
        needs(params, network, days, seed, stress=stress), faults(params, network, days, seed)
    )
    env.run(until=days * DAY_S)
    return city.finish()
