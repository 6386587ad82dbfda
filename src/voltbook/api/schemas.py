"""Request and response bodies of the HTTP API."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from typing import Any

import pydantic_core
from pydantic import BaseModel, Field

from voltbook.api.inputs import Input
from voltbook.core.memo import Memo
from voltbook.drivers.model import EMAIL_PATTERN, MAX_PASSWORD, MIN_PASSWORD, Driver
from voltbook.stations.model import Connector, ConnectorStatus, PowerType, Site, Station
from voltbook.stations.standards import COMMON_NAMES


class ConnectorOut(BaseModel):
    evse_id: int
    connector_id: int
    standard: str | None = Field(description="OCPI 2.2.1 ConnectorType; null when unknown")
    standard_name: str | None = Field(description="The name drivers use (J1772, CCS1, NACS …)")
    power_type: PowerType | None
    max_power_kw: float | None = Field(description="null when the data source does not say")
    status: ConnectorStatus
    status_since: datetime | None
    error_code: str | None

    @classmethod
    def of(cls, connector: Connector) -> ConnectorOut:
        return cls(
            evse_id=connector.evse_id,
            connector_id=connector.connector_id,
            standard=connector.standard.value if connector.standard else None,
            standard_name=(
                COMMON_NAMES.get(connector.standard, connector.standard.value)
                if connector.standard
                else None
            ),
            power_type=connector.power_type,
            max_power_kw=connector.max_power_kw,
            status=connector.status,
            status_since=connector.status_since,
            error_code=connector.error_code,
        )


class StationOut(BaseModel):
    id: str
    online: bool
    last_seen: datetime | None
    connectors: list[ConnectorOut]

    @classmethod
    def of(cls, station: Station) -> StationOut:
        return cls(
            id=station.id,
            online=station.online,
            last_seen=station.last_seen,
            connectors=[ConnectorOut.of(c) for c in station.connectors],
        )


class SiteOut(BaseModel):
    id: int
    source: str
    source_id: str
    name: str
    address: str
    city: str
    region: str
    postal_code: str
    country: str
    lat: float
    lon: float
    operator: str | None
    access: str
    opening_hours: str | None
    stations: list[StationOut]

    @classmethod
    def of(cls, site: Site) -> SiteOut:
        return cls(**_site_fields(site))


class NearbySiteOut(SiteOut):
    distance_m: float = Field(description="Great-circle distance from the query point, metres")
    likely_free: bool | None = Field(
        None,
        description="Whether a station here is likely to have a free connector in 30 minutes "
        "(the availability forecast, refreshed every few minutes); null when not known",
    )

    @classmethod
    def at(cls, site: Site, distance_m: float, likely_free: bool | None = None) -> NearbySiteOut:
        return cls(**_site_fields(site), distance_m=round(distance_m, 2), likely_free=likely_free)


def _site_fields(site: Site, station: Callable[[Station], Any] = StationOut.of) -> dict[str, Any]:
    d = site.details
    return {
        "id": site.id,
        "source": d.source,
        "source_id": d.source_id,
        "name": d.name,
        "address": d.address,
        "city": d.city,
        "region": d.region,
        "postal_code": d.postal_code,
        "country": d.country,
        "lat": d.lat,
        "lon": d.lon,
        "operator": d.operator,
        "access": d.access,
        "opening_hours": d.opening_hours,
        "stations": [station(s) for s in site.stations],
    }


class NearbyOut(BaseModel):
    items: list[NearbySiteOut]


# The JSON of a site without its distance and closing brace, by site id, with the site it
# was written from: a site is immutable, and storage (or the site catalog, docs/adr/0022)
# hands out the same one for as long as its rows are unchanged; a changed site is another
# object, whose JSON replaces its predecessor's. Sized for every site a catalog holds in a
# city-scale deployment (about 1 KB each).
_SITE_JSON: Memo[int, tuple[Site, bytes]] = Memo(65_536)


def nearby_json(
    found: Iterable[tuple[Site, float]], likely_free: Mapping[int, bool] | None = None
) -> bytes:
    """The JSON of `NearbyOut` for these sites, without building the models (the hot path
    of the API); tests hold it equal to the models' own JSON. `likely_free` is the
    forecasts' flag by site id, precomputed (docs/adr/0028)."""
    flags = likely_free or {}
    items = [
        _site_json(site)
        + b',"distance_m":'
        + pydantic_core.to_json(round(distance_m, 2))
        + _FLAG[flags.get(site.id)]
        for site, distance_m in found
    ]
    return b'{"items":[' + b",".join(items) + b"]}"


_FLAG = {
    True: b',"likely_free":true}',
    False: b',"likely_free":false}',
    None: b',"likely_free":null}',
}


def _site_json(site: Site) -> bytes:
    kept = _SITE_JSON.get(site.id)
    if kept is None or kept[0] is not site:
        whole = pydantic_core.to_json(_site_fields(site, _station_dict))
        kept = _SITE_JSON.put(site.id, (site, whole[:-1]))
    return kept[1]


def _station_dict(station: Station) -> dict[str, Any]:
    return {
        "id": station.id,
        "online": station.online,
        "last_seen": station.last_seen,
        "connectors": [
            {
                "evse_id": c.evse_id,
                "connector_id": c.connector_id,
                "standard": c.standard.value if c.standard else None,
                "standard_name": (
                    COMMON_NAMES.get(c.standard, c.standard.value) if c.standard else None
                ),
                # Plain strings, not the enums: pydantic_core serialises an enum member
                # about ten times slower than a str, and there are dozens per answer.
                "power_type": c.power_type.value if c.power_type else None,
                "max_power_kw": c.max_power_kw,
                "status": c.status.value,
                "status_since": c.status_since,
                "error_code": c.error_code,
            }
            for c in station.connectors
        ],
    }


class RegisterIn(Input):
    email: str = Field(max_length=254, pattern=EMAIL_PATTERN, examples=["driver@example.org"])
    password: str = Field(min_length=MIN_PASSWORD, max_length=MAX_PASSWORD)


class AccountOut(BaseModel):
    id: str
    email: str
    role: str
    consent_location: bool = Field(description="voltbook may keep your last position")
    consent_offers: bool = Field(description="voltbook may send you offers")
    created_at: datetime

    @classmethod
    def of(cls, driver: Driver) -> AccountOut:
        return cls(
            id=driver.id,
            email=driver.email,
            role=driver.role.value,
            consent_location=driver.consent_location,
            consent_offers=driver.consent_offers,
            created_at=driver.created_at,
        )


class TokenOut(BaseModel):
    access_token: str = Field(description="Short-lived; send as `Authorization: Bearer …`")
    token_type: str = "bearer"  # noqa: S105 - the OAuth2 token type, not a secret
    expires_in: int = Field(description="Seconds the access token is valid for")
    refresh_token: str = Field(
        description="Opaque; trade it once at /api/v1/auth/refresh for a new pair. Showing a "
        "used one again signs this sign-in out everywhere."
    )


class RefreshIn(Input):
    refresh_token: str = Field(min_length=1, max_length=128)


class PasswordChangeIn(Input):
    current_password: str = Field(min_length=1, max_length=MAX_PASSWORD)
    new_password: str = Field(min_length=MIN_PASSWORD, max_length=MAX_PASSWORD)
