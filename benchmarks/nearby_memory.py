"""Nearby search in memory: the site index with up to 1,000,000 sites, in this process.

* `SiteIndex.nearest`: the 10 nearest within 50 km around the synthetic benchmark's query
  points (`benchmarks/nearby.py`), one query after another, and the same with a filter that
  accepts one site in five (what `available=true` leaves of the synthetic data);
* the ceiling, in the same run: a bare k-d tree (`scipy.spatial.cKDTree`, compiled) over the
  same points on the unit sphere, asked for the 10 nearest within the same chord, one query
  after another (its per-call cost, as a search serves one request at a time);
* memory: the index's resident growth per site, and the site catalog's (the index plus the
  immutable `Site` objects with a station and its connectors) on `--catalog-sites` sites.

See docs/benchmarks.md and docs/adr/0022.
"""

from __future__ import annotations

import argparse
import gc
import time
from collections.abc import Callable
from pathlib import Path

from benchmarks.common import Ceiling, Row, Stats, print_table
from benchmarks.nearby import LIMIT, RADIUS_M, query_points, synthetic_sites
from voltbook.stations.catalog import SiteCatalog
from voltbook.stations.index import SiteIndex, chord_of, unit_point
from voltbook.stations.model import (
    Connector,
    ConnectorStatus,
    PowerType,
    Site,
    SiteDetails,
    Station,
)
from voltbook.stations.standards import Standard

QUERIES = 20_000


def _rss_bytes() -> int:
    pages = int(Path("/proc/self/statm").read_text().split()[1])
    return pages * 4096


def _say(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def _timed(search: Callable[[float, float], int], duration_s: float) -> Stats:
    points = query_points("synthetic", QUERIES, 7)
    latencies: list[float] = []
    items = 0
    gc.collect()
    started = time.perf_counter()
    deadline = started + duration_s
    n = 0
    while True:
        lat, lon = points[n % QUERIES]
        n += 1
        before = time.perf_counter()
        items += search(lat, lon)
        after = time.perf_counter()
        latencies.append((after - before) * 1000.0)
        if after >= deadline:
            break
    elapsed = time.perf_counter() - started
    latencies.sort()
    return Stats(1, len(latencies), 0, elapsed, latencies, items)


Plugs = tuple[tuple[int, str, str, float], ...]


def _site(site_id: int, lat: float, lon: float, plugs: Plugs, online: bool, status: str) -> Site:
    station_id = f"SYN-{site_id}"
    return Site(
        id=site_id,
        details=SiteDetails(
            "synthetic",
            f"S{site_id}",
            f"Synthetic site {site_id}",
            f"{site_id % 9973 + 1} Main St",
            "",
            "",
            "",
            "US",
            lat,
            lon,
            None,
            "public",
            "24 hours daily",
        ),
        stations=(
            Station(
                station_id,
                site_id,
                online=online,
                connectors=tuple(
                    Connector(
                        station_id,
                        evse,
                        1,
                        Standard(standard),
                        PowerType(power),
                        kw,
                        ConnectorStatus(status),
                    )
                    for evse, standard, power, kw in plugs
                ),
            ),
        ),
    )


def add_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("nearby_memory")
    group.add_argument(
        "--memory-sites", type=int, default=1_000_000, help="sites in the index (default 1,000,000)"
    )
    group.add_argument(
        "--catalog-sites",
        type=int,
        default=100_000,
        help="sites in the catalog whose memory is measured (default 100,000)",
    )


async def run(args: argparse.Namespace) -> list[Row]:
    import numpy as np
    from scipy.spatial import cKDTree  # type: ignore[import-untyped]

    # First, while this process is small: the catalog's memory per site.
    rows: list[Row] = _catalog_memory(args.catalog_sites, args.seed)
    count = args.memory_sites
    label = f"synthetic {count:,}"
    sites = [(s.id, s.lat, s.lon) for s in synthetic_sites(count, args.seed)]
    gc.collect()
    before = _rss_bytes()
    started = time.perf_counter()
    index = SiteIndex(sites)
    built_s = time.perf_counter() - started
    gc.collect()
    index_bytes = (_rss_bytes() - before) / count
    _say(f"index: {count:,} sites built in {built_s:.1f} s, {index_bytes:.0f} bytes per site")
    xyz = np.array([unit_point(*site)[:3] for site in sites])
    del sites
    started = time.perf_counter()
    tree = cKDTree(xyz)
    _say(f"cKDTree built in {time.perf_counter() - started:.1f} s")
    reach = chord_of(RADIUS_M) + 1e-9

    def bare(lat: float, lon: float) -> int:
        x, y, z, _, _, _ = unit_point(0, lat, lon)
        distances, _ = tree.query((x, y, z), k=LIMIT, distance_upper_bound=reach)
        return int(np.isfinite(distances).sum())

    def ours(lat: float, lon: float) -> int:
        return len(index.nearest(lat, lon, RADIUS_M, LIMIT))

    def one_in_five(lat: float, lon: float) -> int:
        return len(index.nearest(lat, lon, RADIUS_M, LIMIT, lambda site_id: site_id % 5 == 0))

    _say("cKDTree.query")
    ceiling = _timed(bare, args.duration)
    rows.append(Row("memory", label, "cKDTree.query (ceiling)", ceiling))
    for layer, search in (("SiteIndex.nearest", ours), ("SiteIndex.nearest 1 in 5", one_in_five)):
        _say(layer)
        stats = _timed(search, args.duration)
        met = stats.qps >= 5_000 and stats.qps >= 0.3 * ceiling.qps
        target = "≥ 5,000/s, ≥ 0.3× cKDTree" if layer == "SiteIndex.nearest" else ""
        rows.append(
            Row("memory", label, layer, stats, [Ceiling("cKDTree", ceiling.qps)], target,
                met if target else None)
        )  # fmt: skip
    print_table(
        f"nearby in memory: {LIMIT} nearest within {RADIUS_M / 1000:.0f} km, one query at a "
        f"time for {args.duration:g} s; index {index_bytes:.0f} B/site, built in {built_s:.1f} s",
        rows,
        style=args.style,
    )
    return rows


def _catalog_memory(count: int, seed: int) -> list[Row]:
    gc.collect()
    before = _rss_bytes()
    catalog = SiteCatalog()
    catalog.load(
        _site(s.id, s.lat, s.lon, s.connectors, s.online, s.status)
        for s in synthetic_sites(count, seed)
    )
    gc.collect()
    per_site = (_rss_bytes() - before) / count
    _say(f"catalog: {count:,} sites, {per_site:.0f} bytes per site (index and Site objects)")
    stats = Stats(1, count, 0, 1.0, [per_site / 1000.0], 0)
    return [Row("memory", f"synthetic {count:,}", "catalog kB/site (as p50)", stats)]
