"""The likely-free flag in nearby answers (docs/adr/0028): what it costs a search.

In this process, on a site catalog of synthetic sites: the catalog's search and the answer's
JSON (`nearby_json`, what the fast lane sends), one query after another, without the flag
(the ceiling, measured in the same run) and with a flag for every site (the map the
forecasts' refresh keeps). The flag is a dictionary lookup per result, so the ratio should
stay near 1.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable

from benchmarks.common import Ceiling, Row, print_table
from benchmarks.nearby import LIMIT, RADIUS_M, synthetic_sites
from benchmarks.nearby_memory import _say, _site, _timed
from voltbook.api.schemas import nearby_json
from voltbook.stations.catalog import SiteCatalog
from voltbook.stations.model import NearbyQuery


def add_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("nearby_flag")
    group.add_argument(
        "--flag-sites", type=int, default=50_000, help="sites in the catalog (default 50,000)"
    )


async def run(args: argparse.Namespace) -> list[Row]:
    count = args.flag_sites
    catalog = SiteCatalog()
    catalog.load(
        _site(s.id, s.lat, s.lon, s.connectors, s.online, s.status)
        for s in synthetic_sites(count, args.seed)
    )
    flags = {site_id: site_id % 3 != 0 for site_id in catalog.site_ids()}

    def search(with_flags: dict[int, bool] | None) -> Callable[[float, float], int]:
        def one(lat: float, lon: float) -> int:
            found = catalog.nearby(NearbyQuery(lat=lat, lon=lon, radius_m=RADIUS_M, limit=LIMIT))
            body = nearby_json(((item.site, item.distance_m) for item in found), with_flags)
            return len(found) if body else 0

        return one

    label = f"synthetic {count:,}"
    _say("warm-up: every query point once (fills the answers' JSON memo)")
    _timed(search(None), args.duration)
    _say("catalog.nearby + nearby_json, no flag")
    ceiling = _timed(search(None), args.duration)
    _say("catalog.nearby + nearby_json, likely_free for every site")
    flagged = _timed(search(flags), args.duration)
    _say("catalog.nearby + nearby_json, no flag, again")
    again = _timed(search(None), args.duration)
    if again.qps > ceiling.qps:
        ceiling = again
    rows = [
        Row("memory", label, "nearby + JSON, no flag (ceiling, best of 2)", ceiling),
        Row(
            "memory", label, "nearby + JSON + likely_free", flagged,
            [Ceiling("no flag", ceiling.qps)], "≥ 0.95× no flag",
            flagged.qps >= 0.95 * ceiling.qps,
        ),
    ]  # fmt: skip
    print_table(
        f"nearby with the likely-free flag: {LIMIT} nearest within {RADIUS_M / 1000:.0f} km, "
        f"one query at a time for {args.duration:g} s",
        rows,
        style=args.style,
    )
    return rows
