"""Reading the station CSV format (columns listed in the bundled SOURCE.md) into site plans.

Each data row is one site. AFDC counts ports, not plugs: every port becomes an EVSE of the
site's station, with one connector per plug standard the row lists that fits the port
(AC standards on Level 2 ports, DC standards on DC fast ports). See docs/adr/0002.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import TextIO

from voltbook.core.errors import InvalidInput
from voltbook.stations.model import PowerType, SiteDetails
from voltbook.stations.ports import ConnectorPlan, SitePlan
from voltbook.stations.standards import Standard, carries_ac, carries_dc, parse_standard

COLUMNS = (
    "source_id", "name", "address", "city", "region", "postal_code", "country",
    "latitude", "longitude", "operator", "access", "hours",
    "level2_ports", "dc_fast_ports", "connector_types", "max_power_kw",
)  # fmt: skip
REQUIRED = ("source_id", "name", "latitude", "longitude", "level2_ports", "dc_fast_ports")
MAX_PORTS = 500


@dataclass(frozen=True, slots=True)
class RowProblem:
    line: int
    reason: str


def read_site_rows(stream: TextIO, source: str) -> Iterator[SitePlan | RowProblem]:
    """Yield a plan for every good row and a problem (with its line number) for every bad one."""
    reader = csv.reader(_lines_without_bom(stream), strict=True)
    try:
        header = next(reader)
    except StopIteration:
        yield RowProblem(1, "the file is empty")
        return
    except csv.Error as error:
        yield RowProblem(1, f"broken header: {error}")
        return
    header = [name.strip() for name in header]
    missing = [name for name in REQUIRED if name not in header]
    if missing:
        yield RowProblem(1, f"header lacks column(s) {', '.join(missing)}")
        return
    index = {name: position for position, name in enumerate(header)}
    while True:
        start_line = reader.line_num + 1
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            yield RowProblem(start_line, f"broken quoting: {error}")
            continue
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(header):
            yield RowProblem(start_line, f"expected {len(header)} fields, found {len(row)}")
            continue
        record = {name: row[position].strip() for name, position in index.items()}
        try:
            yield plan_site(record, source)
        except InvalidInput as error:
            yield RowProblem(start_line, error.detail)


def _lines_without_bom(stream: Iterable[str]) -> Iterator[str]:
    lines = iter(stream)
    for first in lines:
        yield first.removeprefix("\ufeff")
        break
    yield from lines


def plan_site(record: dict[str, str], source: str) -> SitePlan:
    """Turn one CSV record into a site plan, or raise InvalidInput saying what is wrong."""
    source_id = record["source_id"]
    if not source_id:
        raise InvalidInput("source_id is empty")
    name = record.get("name", "")
    if not name:
        raise InvalidInput("name is empty")
    lat = _coordinate(record["latitude"], "latitude", 90.0)
    lon = _coordinate(record["longitude"], "longitude", 180.0)
    level2 = _port_count(record["level2_ports"], "level2_ports")
    dc_fast = _port_count(record["dc_fast_ports"], "dc_fast_ports")
    if level2 + dc_fast == 0:
        raise InvalidInput("the site has no Level 2 or DC fast port")
    standards = _standards(record.get("connector_types", ""))
    max_kw = _optional_power(record.get("max_power_kw", ""))
    details = SiteDetails(
        source=source,
        source_id=source_id,
        name=name,
        address=record.get("address", ""),
        city=record.get("city", ""),
        region=record.get("region", ""),
        postal_code=record.get("postal_code", ""),
        country=record.get("country", "") or "US",
        lat=lat,
        lon=lon,
        operator=record.get("operator") or None,
        access=(record.get("access") or "public").lower(),
        opening_hours=record.get("hours") or None,
    )
    connectors = plan_connectors(standards, level2, dc_fast, max_kw)
    return SitePlan(details=details, station_id=source_id, connectors=connectors)


def plan_connectors(
    standards: list[Standard], level2: int, dc_fast: int, max_kw: float | None
) -> tuple[ConnectorPlan, ...]:
    """EVSEs 1..level2 are AC ports, the next dc_fast are DC ports; plugs per port by standard."""
    dual = [s for s in standards if carries_ac(s) and carries_dc(s)]
    ac_plugs = [s for s in standards if carries_ac(s) and not carries_dc(s)]
    dc_plugs = [s for s in standards if carries_dc(s) and not carries_ac(s)]
    # A plug that carries both (NACS) sits on the fast ports when the site has any.
    if dc_fast:
        dc_plugs += dual
    else:
        ac_plugs += dual
    # A port must have a plug; when the row lists none for its kind, use that kind's
    # North American default (Level 2 is J1772 by definition; DC fast defaults to CCS1).
    ac_plugs = ac_plugs or dual or [Standard.IEC_62196_T1]
    dc_plugs = dc_plugs or dual or [Standard.IEC_62196_T1_COMBO]
    plans: list[ConnectorPlan] = []
    for evse in range(1, level2 + dc_fast + 1):
        is_dc = evse > level2
        plugs = dc_plugs if is_dc else ac_plugs
        power = PowerType.DC if is_dc else PowerType.AC
        # The data gives one figure per site: it belongs to its fastest ports.
        kw = max_kw if (is_dc or not dc_fast) else None
        plans.extend(
            ConnectorPlan(evse, number, standard, power, kw)
            for number, standard in enumerate(plugs, start=1)
        )
    return tuple(plans)


def _coordinate(text: str, field_name: str, bound: float) -> float:
    if not text:
        raise InvalidInput(f"{field_name} is missing")
    try:
        value = float(text)
    except ValueError:
        raise InvalidInput(f"{field_name} {text!r} is not a number") from None
    if not math.isfinite(value) or not -bound <= value <= bound:
        raise InvalidInput(f"{field_name} {text} is out of range")
    return value


def _port_count(text: str, field_name: str) -> int:
    if not text:
        return 0
    try:
        value = int(text)
    except ValueError:
        raise InvalidInput(f"{field_name} {text!r} is not a whole number") from None
    if not 0 <= value <= MAX_PORTS:
        raise InvalidInput(f"{field_name} {value} is out of range 0..{MAX_PORTS}")
    return value


def _standards(text: str) -> list[Standard]:
    names = [part.strip() for part in text.split(";") if part.strip()]
    standards: list[Standard] = []
    for name in names:
        standard = parse_standard(name)
        if standard not in standards:
            standards.append(standard)
    return standards


def _optional_power(text: str) -> float | None:
    if not text:
        return None
    try:
        value = float(text)
    except ValueError:
        raise InvalidInput(f"max_power_kw {text!r} is not a number") from None
    if not math.isfinite(value) or not 0 < value <= 5000:
        raise InvalidInput(f"max_power_kw {text} is out of range")
    return value
