"""Small constructors for domain values, so tests state only what matters to them."""

from __future__ import annotations

from voltbook.stations.model import (
    Connector,
    ConnectorStatus,
    PowerType,
    Site,
    SiteDetails,
    Station,
)
from voltbook.stations.ports import ConnectorPlan, SitePlan
from voltbook.stations.standards import Standard, carries_dc


def details(
    source_id: str = "S-1",
    *,
    lat: float = 42.3555,
    lon: float = -71.0605,
    name: str | None = None,
    source: str = "test",
) -> SiteDetails:
    return SiteDetails(
        source=source,
        source_id=source_id,
        name=name or f"site {source_id}",
        address="1 Main St",
        city="Boston",
        region="MA",
        postal_code="02108",
        country="US",
        lat=lat,
        lon=lon,
        operator=None,
        access="public",
        opening_hours=None,
    )


def plan(
    source_id: str = "S-1",
    *,
    lat: float = 42.3555,
    lon: float = -71.0605,
    name: str | None = None,
    source: str = "test",
    standards: tuple[Standard, ...] = (Standard.IEC_62196_T1,),
    max_power_kw: float | None = None,
) -> SitePlan:
    """A one-EVSE site with one connector per standard."""
    connectors = tuple(
        ConnectorPlan(
            1,
            number,
            standard,
            PowerType.DC if carries_dc(standard) else PowerType.AC,
            max_power_kw,
        )
        for number, standard in enumerate(standards, start=1)
    )
    return SitePlan(
        details=details(source_id, lat=lat, lon=lon, name=name, source=source),
        station_id=source_id,
        connectors=connectors,
    )


def connector(
    station_id: str = "ST-1",
    *,
    standard: Standard = Standard.IEC_62196_T1,
    power_type: PowerType = PowerType.AC,
    max_power_kw: float | None = 7.2,
    status: ConnectorStatus = ConnectorStatus.UNKNOWN,
    evse_id: int = 1,
    connector_id: int = 1,
) -> Connector:
    return Connector(
        station_id=station_id,
        evse_id=evse_id,
        connector_id=connector_id,
        standard=standard,
        power_type=power_type,
        max_power_kw=max_power_kw,
        status=status,
    )


def site(
    site_id: int,
    *,
    lat: float = 42.3555,
    lon: float = -71.0605,
    connectors: tuple[Connector, ...] = (),
    online: bool = False,
) -> Site:
    """A site with one station (id `ST-<site_id>`) holding `connectors`."""
    station_id = f"ST-{site_id}"
    own = tuple(
        Connector(
            station_id=station_id,
            evse_id=c.evse_id,
            connector_id=c.connector_id,
            standard=c.standard,
            power_type=c.power_type,
            max_power_kw=c.max_power_kw,
            status=c.status,
        )
        for c in connectors
    )
    return Site(
        id=site_id,
        details=details(f"SITE-{site_id}", lat=lat, lon=lon),
        stations=(Station(id=station_id, site_id=site_id, online=online, connectors=own),),
    )
