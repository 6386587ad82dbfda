"""Reading the station CSV format into site plans (stations/importing.py)."""

from __future__ import annotations

import csv
import io
from collections import Counter

import pytest

from voltbook.bootstrap import bundled_stations
from voltbook.stations.importing import COLUMNS, RowProblem, read_site_rows
from voltbook.stations.model import PowerType
from voltbook.stations.ports import ConnectorPlan, SitePlan
from voltbook.stations.standards import Standard

HEADER = ",".join(COLUMNS)
T1 = Standard.IEC_62196_T1
CCS1 = Standard.IEC_62196_T1_COMBO
AC = PowerType.AC
DC = PowerType.DC


def row(**fields: str) -> str:
    """One CSV line in the bundled format; unspecified fields get ordinary values."""
    values = {
        "source_id": "AFDC-1",
        "name": "Seaport Garage",
        "address": "1 Seaport Ln",
        "city": "Boston",
        "region": "MA",
        "postal_code": "02210",
        "country": "US",
        "latitude": "42.349249",
        "longitude": "-71.040928",
        "operator": "ChargePoint Network",
        "access": "public",
        "hours": "24 hours daily",
        "level2_ports": "2",
        "dc_fast_ports": "0",
        "connector_types": "J1772",
        "max_power_kw": "",
    }
    unknown = set(fields) - set(values)
    assert not unknown, f"not a column: {unknown}"
    values.update(fields)
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerow([values[name] for name in COLUMNS])
    return out.getvalue()


def read(text: str) -> list[SitePlan | RowProblem]:
    return list(read_site_rows(io.StringIO(text), "afdc"))


def only_plan(text: str) -> SitePlan:
    (result,) = read(HEADER + "\n" + text)
    assert isinstance(result, SitePlan), result
    return result


def problems(results: list[SitePlan | RowProblem]) -> list[RowProblem]:
    return [r for r in results if isinstance(r, RowProblem)]


def plans(results: list[SitePlan | RowProblem]) -> list[SitePlan]:
    return [r for r in results if isinstance(r, SitePlan)]


# --- good rows ----------------------------------------------------------------------------


def test_a_good_row_becomes_a_site_plan_with_its_details() -> None:
    plan = only_plan(row())
    details = plan.details
    assert (details.source, details.source_id, details.name) == ("afdc", "AFDC-1", "Seaport Garage")
    assert (details.address, details.city, details.region) == ("1 Seaport Ln", "Boston", "MA")
    assert (details.postal_code, details.country) == ("02210", "US")
    assert (details.lat, details.lon) == (42.349249, -71.040928)
    assert details.operator == "ChargePoint Network"
    assert details.access == "public"
    assert details.opening_hours == "24 hours daily"
    assert plan.station_id == "AFDC-1"


def test_blank_optional_fields_get_their_defaults() -> None:
    details = only_plan(row(country="", operator="", access="", hours="", address="")).details
    assert details.country == "US"
    assert details.operator is None
    assert details.access == "public"
    assert details.opening_hours is None
    assert details.address == ""


def test_access_is_lower_cased_and_cells_are_trimmed() -> None:
    details = only_plan(row(access="Private", name="  Padded Name  ")).details
    assert details.access == "private"
    assert details.name == "Padded Name"


def test_level2_ports_and_a_dc_port_get_their_own_plugs() -> None:
    plan = only_plan(row(level2_ports="2", dc_fast_ports="1", connector_types="J1772;CCS1;CHADEMO"))
    assert plan.connectors == (
        ConnectorPlan(1, 1, T1, AC, None),
        ConnectorPlan(2, 1, T1, AC, None),
        ConnectorPlan(3, 1, CCS1, DC, None),
        ConnectorPlan(3, 2, Standard.CHADEMO, DC, None),
    )


def test_a_nacs_only_supercharger_has_nacs_on_every_dc_port() -> None:
    plan = only_plan(row(level2_ports="0", dc_fast_ports="3", connector_types="NACS"))
    assert plan.connectors == tuple(
        ConnectorPlan(evse, 1, Standard.TESLA_S, DC, None) for evse in (1, 2, 3)
    )


def test_a_nacs_only_destination_charger_has_nacs_on_its_ac_ports() -> None:
    plan = only_plan(row(level2_ports="2", dc_fast_ports="0", connector_types="TESLA"))
    assert plan.connectors == (
        ConnectorPlan(1, 1, Standard.TESLA_S, AC, None),
        ConnectorPlan(2, 1, Standard.TESLA_S, AC, None),
    )


def test_nacs_sits_on_the_fast_ports_when_the_site_also_lists_ac_plugs() -> None:
    plan = only_plan(row(level2_ports="1", dc_fast_ports="1", connector_types="J1772;CCS1;NACS"))
    assert plan.connectors == (
        ConnectorPlan(1, 1, T1, AC, None),
        ConnectorPlan(2, 1, CCS1, DC, None),
        ConnectorPlan(2, 2, Standard.TESLA_S, DC, None),
    )


def test_a_port_kind_without_a_listed_plug_gets_the_north_american_default() -> None:
    plan = only_plan(row(level2_ports="1", dc_fast_ports="1", connector_types=""))
    assert plan.connectors == (
        ConnectorPlan(1, 1, T1, AC, None),
        ConnectorPlan(2, 1, CCS1, DC, None),
    )


def test_ac_ports_carry_every_listed_ac_plug() -> None:
    plan = only_plan(row(level2_ports="1", connector_types="J1772;NEMA_5_15"))
    assert plan.connectors == (
        ConnectorPlan(1, 1, T1, AC, None),
        ConnectorPlan(1, 2, Standard.NEMA_5_15, AC, None),
    )


def test_a_plug_listed_twice_is_planned_once() -> None:
    plan = only_plan(row(level2_ports="1", connector_types="J1772; j1772 ;Type 1"))
    assert plan.connectors == (ConnectorPlan(1, 1, T1, AC, None),)


def test_the_site_power_belongs_to_its_fast_ports() -> None:
    plan = only_plan(
        row(level2_ports="1", dc_fast_ports="1", connector_types="J1772;CCS1", max_power_kw="150")
    )
    assert [(c.power_type, c.max_power_kw) for c in plan.connectors] == [(AC, None), (DC, 150.0)]


def test_the_site_power_belongs_to_its_ac_ports_when_it_has_no_fast_ones() -> None:
    plan = only_plan(row(level2_ports="2", max_power_kw="19.2"))
    assert [c.max_power_kw for c in plan.connectors] == [19.2, 19.2]


def test_a_byte_order_mark_at_the_start_is_ignored() -> None:
    (result,) = read("\ufeff" + HEADER + "\n" + row())
    assert isinstance(result, SitePlan)
    assert result.details.source_id == "AFDC-1"


def test_a_header_with_only_the_required_columns_is_enough() -> None:
    text = "source_id,name,latitude,longitude,level2_ports,dc_fast_ports\nX-9,Lot,40.7,-74.0,1,0\n"
    (result,) = read(text)
    assert isinstance(result, SitePlan)
    assert result.details.country == "US"
    assert result.connectors == (ConnectorPlan(1, 1, T1, AC, None),)


def test_blank_lines_are_skipped() -> None:
    results = read(
        HEADER + "\n\n" + row(source_id="A") + "\n,,,,,,,,,,,,,,,\n" + row(source_id="B")
    )
    assert [p.details.source_id for p in plans(results)] == ["A", "B"]
    assert problems(results) == []


def test_crlf_line_endings_are_read() -> None:
    text = (HEADER + "\n" + row() + row(source_id="AFDC-2")).replace("\n", "\r\n")
    assert [p.details.source_id for p in plans(read(text))] == ["AFDC-1", "AFDC-2"]


# --- bad rows -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({"latitude": ""}, "latitude is missing"),
        ({"longitude": ""}, "longitude is missing"),
        ({"latitude": "91"}, "latitude 91 is out of range"),
        ({"latitude": "-90.5"}, "latitude -90.5 is out of range"),
        ({"longitude": "-181"}, "longitude -181 is out of range"),
        ({"longitude": "nan"}, "longitude nan is out of range"),
        ({"latitude": "north"}, "latitude 'north' is not a number"),
        ({"connector_types": "J1772;USB-C"}, "unknown connector standard 'USB-C'"),
        ({"level2_ports": "0", "dc_fast_ports": "0"}, "the site has no Level 2 or DC fast port"),
        ({"level2_ports": "", "dc_fast_ports": ""}, "the site has no Level 2 or DC fast port"),
        ({"level2_ports": "two"}, "level2_ports 'two' is not a whole number"),
        ({"dc_fast_ports": "-1"}, "dc_fast_ports -1 is out of range 0..500"),
        ({"level2_ports": "501"}, "level2_ports 501 is out of range 0..500"),
        ({"max_power_kw": "0"}, "max_power_kw 0 is out of range"),
        ({"max_power_kw": "fast"}, "max_power_kw 'fast' is not a number"),
        ({"source_id": ""}, "source_id is empty"),
        ({"name": ""}, "name is empty"),
    ],
)
def test_a_bad_row_is_reported_with_its_line_and_later_rows_still_come_through(
    fields: dict[str, str], reason: str
) -> None:
    results = read(
        HEADER + "\n" + row(source_id="GOOD-1") + row(**fields) + row(source_id="GOOD-2")
    )
    assert [p.details.source_id for p in plans(results)] == ["GOOD-1", "GOOD-2"]
    (problem,) = problems(results)
    assert problem.line == 3
    assert reason in problem.reason


def test_broken_quoting_is_reported_and_reading_goes_on() -> None:
    broken = (
        'AFDC-9,"Bad "quote" Garage",1 Main St,Boston,MA,02108,US,42.3,-71.0,,public,,1,0,J1772,\n'
    )
    results = read(
        HEADER
        + "\n"
        + row(source_id="GOOD-1")
        + broken
        + row(source_id="GOOD-2")
        + row(source_id="BAD", latitude="")
    )
    assert [p.details.source_id for p in plans(results)] == ["GOOD-1", "GOOD-2"]
    first, second = problems(results)
    assert first.line == 3
    assert first.reason.startswith("broken quoting")
    assert second == RowProblem(5, "latitude is missing")


def test_a_quote_left_open_at_the_end_of_the_file_is_reported() -> None:
    results = read(HEADER + "\n" + row(source_id="GOOD") + 'AFDC-7,"Never closed,Boston\n')
    assert [p.details.source_id for p in plans(results)] == ["GOOD"]
    (problem,) = problems(results)
    assert problem.line == 3
    assert problem.reason.startswith("broken quoting")


def test_a_row_with_the_wrong_number_of_fields_is_reported() -> None:
    results = read(HEADER + "\n" + "AFDC-5,Short Row,42.3,-71.0\n" + row(source_id="GOOD"))
    assert [p.details.source_id for p in plans(results)] == ["GOOD"]
    assert problems(results) == [RowProblem(2, f"expected {len(COLUMNS)} fields, found 4")]


def test_line_numbers_count_lines_inside_quoted_fields_and_blank_lines() -> None:
    two_line_address = row(source_id="MULTI", address="Building 4\nLevel 2")
    text = HEADER + "\n" + two_line_address + "\n" + row(source_id="BAD", latitude="100")
    results = read(text)
    assert [p.details.source_id for p in plans(results)] == ["MULTI"]
    # header 1, MULTI 2-3, blank 4, BAD 5
    assert problems(results) == [RowProblem(5, "latitude 100 is out of range")]


def test_every_bad_row_is_reported_in_order() -> None:
    text = (
        HEADER
        + "\n"
        + row(latitude="")
        + row(source_id="OK")
        + row(connector_types="Type 9")
        + row(level2_ports="0")
    )
    assert [p.line for p in problems(read(text))] == [2, 4, 5]


def test_a_header_without_a_required_column_is_the_only_problem() -> None:
    header = HEADER.replace("latitude,", "lat,")
    results = read(header + "\n" + row() + row())
    assert results == [RowProblem(1, "header lacks column(s) latitude")]


def test_a_header_missing_several_columns_names_them_all() -> None:
    results = read("source_id,name,city\nA,B,C\n")
    assert len(results) == 1
    assert isinstance(results[0], RowProblem)
    assert results[0].line == 1
    for column in ("latitude", "longitude", "level2_ports", "dc_fast_ports"):
        assert column in results[0].reason


def test_an_empty_file_is_one_problem() -> None:
    assert read("") == [RowProblem(1, "the file is empty")]


def test_a_file_with_only_a_header_has_no_rows() -> None:
    assert read(HEADER + "\n") == []


# --- the bundled data set -----------------------------------------------------------------


@pytest.fixture(scope="module")
def bundled() -> list[SitePlan | RowProblem]:
    with bundled_stations().open(encoding="utf-8", newline="") as handle:
        return list(read_site_rows(handle, "afdc"))


def test_the_bundled_file_parses_to_8925_plans_and_no_problems(
    bundled: list[SitePlan | RowProblem],
) -> None:
    assert problems(bundled) == []
    assert len(plans(bundled)) == 8_925
    assert len({p.details.source_id for p in plans(bundled)}) == 8_925


def test_the_bundled_file_has_the_ports_its_source_notes_describe(
    bundled: list[SitePlan | RowProblem],
) -> None:
    # SOURCE.md: 23,699 Level 2 and 3,798 DC fast ports; 1,000 sites have DC fast charging.
    evses = Counter(
        power
        for plan in plans(bundled)
        for power in {c.evse_id: c.power_type for c in plan.connectors}.values()
    )
    assert evses == {AC: 23_699, DC: 3_798}
    with_dc = [p for p in plans(bundled) if any(c.power_type is DC for c in p.connectors)]
    assert len(with_dc) == 1_000


def test_the_bundled_file_lies_in_massachusetts_and_new_york(
    bundled: list[SitePlan | RowProblem],
) -> None:
    regions = Counter(p.details.region for p in plans(bundled))
    assert regions == {"MA": 4_189, "NY": 4_736}
    assert all(40.5 < p.details.lat < 45.0 for p in plans(bundled))
    assert all(-79.8 < p.details.lon < -69.9 for p in plans(bundled))
