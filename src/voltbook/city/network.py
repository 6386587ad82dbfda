"""The chargers of a simulated city: real stations of one metro from the bundled AFDC data,
or the denser Shenzhen network from the bundled UrbanEV zones."""

from __future__ import annotations

import csv
import io
import math
import random
from collections.abc import Iterable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from voltbook.city.params import Parameters

IMPORT_HEADER = [
    "source_id",
    "name",
    "address",
    "city",
    "region",
    "postal_code",
    "country",
    "latitude",
    "longitude",
    "operator",
    "access",
    "hours",
    "level2_ports",
    "dc_fast_ports",
    "connector_types",
    "max_power_kw",
]
EARTH_KM = 6371.0088


def distance_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_KM * math.asin(min(1.0, math.sqrt(a)))


@dataclass(frozen=True)
class Site:
    """One station (one OCPP identity) with its chargers (EVSEs 1..n: AC first, then DC)."""

    id: str
    name: str
    lat: float
    lon: float
    ac_ports: int
    dc_ports: int
    standards: tuple[str, ...]  # the names the import file uses (J1772, CCS1, ...)

    @property
    def chargers(self) -> int:
        return self.ac_ports + self.dc_ports

    def is_dc(self, evse_id: int) -> bool:
        return evse_id > self.ac_ports


@dataclass(frozen=True)
class Charger:
    site: Site
    evse_id: int

    @property
    def key(self) -> str:
        return f"{self.site.id}/{self.evse_id}"

    @property
    def dc(self) -> bool:
        return self.site.is_dc(self.evse_id)


@dataclass(frozen=True)
class Network:
    name: str
    centre: tuple[float, float]
    sites: tuple[Site, ...]
    dc_power_kw: float | None = None  # None: the parameter file's network.dc_power_kw
    country: str = "US"

    @property
    def chargers(self) -> list[Charger]:
        return [Charger(s, e) for s in self.sites for e in range(1, s.chargers + 1)]

    def site(self, site_id: str) -> Site:
        return next(s for s in self.sites if s.id == site_id)

    def write_import_csv(self, path: Path) -> None:
        """The sites in the CSV format `voltbook import-stations` reads."""
        with path.open("w", newline="", encoding="utf-8") as out:
            writer = csv.writer(out)
            writer.writerow(IMPORT_HEADER)
            for s in self.sites:
                writer.writerow(
                    [s.id, s.name, "", "", "", "", self.country, f"{s.lat:.6f}", f"{s.lon:.6f}",
                     "city simulation", "public", "24 hours daily", s.ac_ports, s.dc_ports,
                     ";".join(s.standards), ""]
                )  # fmt: skip


def bundled_rows() -> Iterable[dict[str, str]]:
    text = resources.files("voltbook").joinpath("data/stations.csv").read_text(encoding="utf-8")
    yield from csv.DictReader(io.StringIO(text, newline=""))


def boston(params: Parameters, min_chargers: int | None = None) -> Network:
    """The public sites nearest downtown Boston, nearest first, until `min_chargers`."""
    lat0, lon0 = params["network.boston_centre"]
    wanted = int(min_chargers or params["network.boston_min_chargers"])
    rows = [r for r in bundled_rows() if r["access"] == "public" and r["region"] == "MA"]
    rows.sort(key=lambda r: distance_km(lat0, lon0, float(r["latitude"]), float(r["longitude"])))
    sites: list[Site] = []
    total = 0
    for row in rows:
        standards = tuple(t for t in row["connector_types"].split(";") if t)
        ac, dc = int(row["level2_ports"] or 0), int(row["dc_fast_ports"] or 0)
        if ac + dc == 0 or not standards:
            continue
        sites.append(
            Site(row["source_id"], row["name"], float(row["latitude"]), float(row["longitude"]),
                 ac, dc, standards)
        )  # fmt: skip
        total += ac + dc
        if total >= wanted:
            break
    return Network("Boston (AFDC)", (lat0, lon0), tuple(sites))


def urbanev_zones() -> list[dict[str, str]]:
    """The UrbanEV Shenzhen traffic zones (CC0 1.0; see city/data/SOURCE.md): centroid,
    charging piles, area."""
    text = resources.files("voltbook.city").joinpath("data/urbanev_inf.csv").read_text("utf-8")
    return list(csv.DictReader(io.StringIO(text, newline="")))


def dense(params: Parameters, seed: int = 17, min_chargers: int | None = None) -> Network:
    """The denser second network, from the UrbanEV Shenzhen zones: the zones nearest the
    centre until `min_chargers` piles, each zone's real pile count split into stations of
    lognormal size (median `dense_piles_median`) placed uniformly in a disc of the zone's
    area around its centroid (the file gives zones, not stations). All DC, GB/T."""
    rng = random.Random(seed)  # noqa: S311 - simulation draws, not secrets
    lat0, lon0 = params["network.dense_centre"]
    wanted = int(min_chargers or params["network.dense_min_chargers"])
    zones = urbanev_zones()
    zones.sort(key=lambda z: distance_km(lat0, lon0, float(z["latitude"]), float(z["longitude"])))
    sites: list[Site] = []
    total = 0
    for zone in zones:
        piles = int(zone["charge_count"])
        radius = math.sqrt(float(zone["area"]) / math.pi) / 1000
        zlat, zlon = float(zone["latitude"]), float(zone["longitude"])
        while piles > 0:
            size = min(piles, max(1, round(rng.lognormvariate(
                math.log(params.num("network.dense_piles_median")),
                params.num("network.dense_piles_sigma")))))  # fmt: skip
            r, angle = radius * math.sqrt(rng.random()), rng.uniform(0, 2 * math.pi)
            lat = zlat + (r * math.cos(angle)) / 111.2
            lon = zlon + (r * math.sin(angle)) / (111.2 * math.cos(math.radians(zlat)))
            n = len(sites) + 1
            sites.append(Site(f"SZ{zone['TAZID']}-{n:04d}", f"Shenzhen zone {zone['TAZID']} "
                              f"site {n}", lat, lon, 0, size, ("GBT",)))  # fmt: skip
            piles -= size
            total += size
        if total >= wanted:
            break
    return Network("Shenzhen (UrbanEV zones)", (lat0, lon0), tuple(sites), dc_power_kw=
                   params.num("network.dense_dc_power_kw"), country="CN")  # fmt: skip
