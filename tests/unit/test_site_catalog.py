"""The site catalog answers a search with exactly the sites a brute-force scan accepts."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from voltbook.core.geo import great_circle_m
from voltbook.stations.catalog import SiteCatalog
from voltbook.stations.model import (
    Connector,
    ConnectorStatus,
    NearbyQuery,
    PowerType,
    Site,
    SiteDetails,
    Station,
)
from voltbook.stations.standards import Standard

STANDARDS = [Standard.IEC_62196_T1, Standard.IEC_62196_T1_COMBO, Standard.CHADEMO, None]
connectors = st.tuples(
    st.sampled_from(STANDARDS),
    st.sampled_from([PowerType.AC, PowerType.DC, None]),
    st.sampled_from([7.2, 50.0, 150.0, None]),
    st.sampled_from([ConnectorStatus.AVAILABLE, ConnectorStatus.CHARGING, ConnectorStatus.UNKNOWN]),
)
stations = st.tuples(st.booleans(), st.lists(connectors, max_size=3))
sites = st.lists(
    st.tuples(st.floats(42.0, 42.1), st.floats(-71.1, -71.0), st.lists(stations, max_size=2)),
    max_size=40,
)
queries = st.builds(
    NearbyQuery,
    lat=st.floats(42.0, 42.1),
    lon=st.floats(-71.1, -71.0),
    radius_m=st.sampled_from([500.0, 5_000.0, 50_000.0]),
    limit=st.integers(1, 12),
    standards=st.frozensets(st.sampled_from(STANDARDS[:3]), max_size=2),
    min_power_kw=st.sampled_from([None, 40.0]),
    power_type=st.sampled_from([None, PowerType.DC]),
    available_only=st.booleans(),
)


def site(site_id: int, lat: float, lon: float, parts: list[tuple[bool, list]]) -> Site:  # type: ignore[type-arg]
    return Site(
        id=site_id,
        details=SiteDetails(
            "t", str(site_id), "", "", "", "", "", "US", lat, lon, None, "public", None
        ),
        stations=tuple(
            Station(
                f"S{site_id}-{n}",
                site_id,
                online=online,
                connectors=tuple(
                    Connector(f"S{site_id}-{n}", evse, 1, standard, power, kw, status)
                    for evse, (standard, power, kw, status) in enumerate(plugs, start=1)
                ),
            )
            for n, (online, plugs) in enumerate(parts)
        ),
    )


@settings(max_examples=300, deadline=None)
@given(
    places=sites,
    query=queries,
    changed=st.lists(st.tuples(st.integers(0, 39), stations), max_size=5),
)
def test_a_search_finds_what_a_brute_force_scan_of_the_sites_accepts(
    places: list,
    query: NearbyQuery,
    changed: list,  # type: ignore[type-arg]
) -> None:
    built = {n + 1: site(n + 1, lat, lon, parts) for n, (lat, lon, parts) in enumerate(places)}
    catalog = SiteCatalog()
    catalog.load(built.values())
    for n, parts in changed:  # a status, a connector, a station changed since
        if n + 1 in built:
            old = built[n + 1]
            built[n + 1] = site(n + 1, old.details.lat, old.details.lon, [parts])
            catalog.put(built[n + 1])

    found = catalog.nearby(query)

    def accepted(candidate: Site) -> bool:
        return not query.filters_connectors or any(
            query.connector_matches(connector, station.online)
            for station in candidate.stations
            for connector in station.connectors
        )

    scored = sorted(
        (great_circle_m(query.lat, query.lon, s.details.lat, s.details.lon), s.id)
        for s in built.values()
        if accepted(s)
    )
    expected = [site_id for distance, site_id in scored if distance <= query.radius_m]
    assert [item.site.id for item in found] == expected[: query.limit]
    assert all(item.site is built[item.site.id] for item in found)
