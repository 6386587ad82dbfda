"""Connector standards and the names people use for them (stations/standards.py)."""

from __future__ import annotations

import pytest

from voltbook.core.errors import InvalidInput
from voltbook.stations.standards import (
    COMMON_NAMES,
    Standard,
    carries_ac,
    carries_dc,
    parse_standard,
)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("J1772", Standard.IEC_62196_T1),
        ("j1772", Standard.IEC_62196_T1),
        ("Type 1", Standard.IEC_62196_T1),
        ("type1", Standard.IEC_62196_T1),
        ("T1", Standard.IEC_62196_T1),
        ("CCS1", Standard.IEC_62196_T1_COMBO),
        ("CCS 1", Standard.IEC_62196_T1_COMBO),
        ("J1772COMBO", Standard.IEC_62196_T1_COMBO),
        ("J1772 Combo", Standard.IEC_62196_T1_COMBO),
        ("Combo 1", Standard.IEC_62196_T1_COMBO),
        ("Type 2", Standard.IEC_62196_T2),
        ("Mennekes", Standard.IEC_62196_T2),
        ("CCS2", Standard.IEC_62196_T2_COMBO),
        ("CCS-2", Standard.IEC_62196_T2_COMBO),
        ("CHAdeMO", Standard.CHADEMO),
        ("CHADEMO", Standard.CHADEMO),
        ("NACS", Standard.TESLA_S),
        ("Tesla", Standard.TESLA_S),
        ("J3400", Standard.TESLA_S),
        ("SAE J3400", Standard.TESLA_S),
        ("Schuko", Standard.DOMESTIC_F),
        ("CEE", Standard.IEC_60309_2_three_16),
        ("CEE red", Standard.IEC_60309_2_three_16),
        ("CEE blue", Standard.IEC_60309_2_single_16),
        ("GB/T", Standard.GBT_DC),
        ("GBT", Standard.GBT_DC),
        ("NEMA 14-50", Standard.NEMA_14_50),
        ("NEMA1450", Standard.NEMA_14_50),
        ("NEMA 5-15", Standard.NEMA_5_15),
        ("NEMA_5_20", Standard.NEMA_5_20),
        ("NEMA 6-50", Standard.NEMA_6_50),
        ("  J1772  ", Standard.IEC_62196_T1),
    ],
)
def test_common_names_map_to_their_ocpi_standard(name: str, expected: Standard) -> None:
    assert parse_standard(name) is expected


@pytest.mark.parametrize("standard", list(Standard))
def test_every_ocpi_value_maps_to_itself(standard: Standard) -> None:
    assert parse_standard(standard.value) is standard


@pytest.mark.parametrize("standard", list(Standard))
def test_ocpi_values_are_recognised_in_any_letter_case(standard: Standard) -> None:
    assert parse_standard(standard.value.lower()) is standard


@pytest.mark.parametrize(
    "name", ["", "   ", "USB-C", "Type 3", "CCS3", "J17722", "NEMA 99-99", "Tesla Model Y"]
)
def test_unknown_names_are_refused_with_invalid_input(name: str) -> None:
    with pytest.raises(InvalidInput, match="unknown connector standard"):
        parse_standard(name)


@pytest.mark.parametrize(
    "standard",
    [
        Standard.IEC_62196_T1,
        Standard.IEC_62196_T2,
        Standard.DOMESTIC_F,
        Standard.NEMA_14_50,
        Standard.NEMA_5_15,
        Standard.GBT_AC,
        Standard.IEC_60309_2_three_32,
    ],
)
def test_ac_only_plugs_carry_ac_and_not_dc(standard: Standard) -> None:
    assert carries_ac(standard)
    assert not carries_dc(standard)


@pytest.mark.parametrize(
    "standard",
    [
        Standard.IEC_62196_T1_COMBO,
        Standard.IEC_62196_T2_COMBO,
        Standard.CHADEMO,
        Standard.CHAOJI,
        Standard.GBT_DC,
        Standard.MCS,
        Standard.PANTOGRAPH_TOP_DOWN,
        Standard.PANTOGRAPH_BOTTOM_UP,
    ],
)
def test_dc_only_plugs_carry_dc_and_not_ac(standard: Standard) -> None:
    assert carries_dc(standard)
    assert not carries_ac(standard)


@pytest.mark.parametrize("standard", [Standard.TESLA_S, Standard.TESLA_R])
def test_tesla_plugs_carry_both(standard: Standard) -> None:
    assert carries_ac(standard)
    assert carries_dc(standard)


@pytest.mark.parametrize("standard", list(Standard))
def test_every_plug_carries_at_least_one_kind_of_current(standard: Standard) -> None:
    assert carries_ac(standard) or carries_dc(standard)


def test_nacs_is_shown_with_its_common_name() -> None:
    assert COMMON_NAMES[parse_standard("NACS")] == "NACS (Tesla / SAE J3400)"


@pytest.mark.parametrize(
    "standard",
    [
        Standard.IEC_62196_T1_COMBO,
        Standard.IEC_62196_T2,
        Standard.IEC_62196_T2_COMBO,
        Standard.CHADEMO,
        Standard.DOMESTIC_F,
        Standard.NEMA_5_15,
        Standard.NEMA_5_20,
        Standard.NEMA_14_50,
    ],
)
def test_plain_display_names_parse_back_to_their_standard(standard: Standard) -> None:
    assert parse_standard(COMMON_NAMES[standard]) is standard


def test_simple_display_names_for_gbt_tesla_roadster_and_cee_parse_back() -> None:
    for standard in (
        Standard.GBT_AC,
        Standard.GBT_DC,
        Standard.TESLA_R,
        Standard.IEC_60309_2_three_32,
    ):
        assert parse_standard(COMMON_NAMES[standard]) is standard
