"""The query of `GET /api/v1/stations/nearby`, declared once for the route and its fast lane."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, Field

from voltbook.stations.model import MAX_NEARBY_LIMIT, MAX_RADIUS_M, NearbyQuery, PowerType
from voltbook.stations.standards import accepted_names, parse_standard


class NearbyParams(BaseModel):
    lat: Annotated[float, Field(ge=-90, le=90, allow_inf_nan=False)]
    lon: Annotated[float, Field(ge=-180, le=180, allow_inf_nan=False)]
    radius_m: Annotated[float, Field(ge=0, le=MAX_RADIUS_M, allow_inf_nan=False)] = 5000
    limit: Annotated[int, Field(ge=1, le=MAX_NEARBY_LIMIT)] = 10
    connector: Annotated[
        list[str] | None,
        Field(
            description="Connector standard, OCPI name or common name (J1772, CCS1, CCS2, "
            "Type 2, CHAdeMO, NACS …); repeat for any of several. Other spellings of these "
            "(case, spaces, a comma-separated list) are accepted too.",
            max_length=20,
            json_schema_extra={"items": {"type": "string", "enum": accepted_names()}},
        ),
    ] = None
    min_power_kw: Annotated[float | None, Field(ge=0, le=5000, allow_inf_nan=False)] = None
    power_type: PowerType | None = None
    available: Annotated[
        bool, Field(description="Only connectors an online station reports Available")
    ] = False

    def query(self) -> NearbyQuery:
        """The domain's query; InvalidInput for a connector name nobody knows."""
        names = [part for item in self.connector or [] for part in item.split(",") if part.strip()]
        return NearbyQuery(
            lat=self.lat,
            lon=self.lon,
            radius_m=self.radius_m,
            limit=self.limit,
            standards=frozenset(parse_standard(name) for name in names),
            min_power_kw=self.min_power_kw,
            power_type=self.power_type,
            available_only=self.available,
        )
