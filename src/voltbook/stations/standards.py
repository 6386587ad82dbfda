"""Connector standards in OCPI 2.2.1's ConnectorType vocabulary, and the names people use."""

from __future__ import annotations

from enum import StrEnum

from voltbook.core.errors import InvalidInput


class Standard(StrEnum):
    CHADEMO = "CHADEMO"
    CHAOJI = "CHAOJI"
    DOMESTIC_A = "DOMESTIC_A"
    DOMESTIC_B = "DOMESTIC_B"
    DOMESTIC_C = "DOMESTIC_C"
    DOMESTIC_D = "DOMESTIC_D"
    DOMESTIC_E = "DOMESTIC_E"
    DOMESTIC_F = "DOMESTIC_F"
    DOMESTIC_G = "DOMESTIC_G"
    DOMESTIC_H = "DOMESTIC_H"
    DOMESTIC_I = "DOMESTIC_I"
    DOMESTIC_J = "DOMESTIC_J"
    DOMESTIC_K = "DOMESTIC_K"
    DOMESTIC_L = "DOMESTIC_L"
    DOMESTIC_M = "DOMESTIC_M"
    DOMESTIC_N = "DOMESTIC_N"
    DOMESTIC_O = "DOMESTIC_O"
    GBT_AC = "GBT_AC"
    GBT_DC = "GBT_DC"
    IEC_60309_2_single_16 = "IEC_60309_2_single_16"
    IEC_60309_2_three_16 = "IEC_60309_2_three_16"
    IEC_60309_2_three_32 = "IEC_60309_2_three_32"
    IEC_60309_2_three_64 = "IEC_60309_2_three_64"
    IEC_62196_T1 = "IEC_62196_T1"
    IEC_62196_T1_COMBO = "IEC_62196_T1_COMBO"
    IEC_62196_T2 = "IEC_62196_T2"
    IEC_62196_T2_COMBO = "IEC_62196_T2_COMBO"
    IEC_62196_T3A = "IEC_62196_T3A"
    IEC_62196_T3C = "IEC_62196_T3C"
    MCS = "MCS"
    NEMA_5_20 = "NEMA_5_20"
    NEMA_6_30 = "NEMA_6_30"
    NEMA_6_50 = "NEMA_6_50"
    NEMA_10_30 = "NEMA_10_30"
    NEMA_10_50 = "NEMA_10_50"
    NEMA_14_30 = "NEMA_14_30"
    NEMA_14_50 = "NEMA_14_50"
    PANTOGRAPH_BOTTOM_UP = "PANTOGRAPH_BOTTOM_UP"
    PANTOGRAPH_TOP_DOWN = "PANTOGRAPH_TOP_DOWN"
    TESLA_R = "TESLA_R"
    TESLA_S = "TESLA_S"
    # Not in OCPI 2.2.1, but on real North American sites (AFDC lists it).
    NEMA_5_15 = "NEMA_5_15"


# What a driver would call it, for display next to the OCPI name.
COMMON_NAMES: dict[Standard, str] = {
    Standard.IEC_62196_T1: "J1772 (Type 1)",
    Standard.IEC_62196_T1_COMBO: "CCS1",
    Standard.IEC_62196_T2: "Type 2",
    Standard.IEC_62196_T2_COMBO: "CCS2",
    Standard.CHADEMO: "CHAdeMO",
    Standard.TESLA_S: "NACS (Tesla / SAE J3400)",
    Standard.TESLA_R: "Tesla Roadster",
    Standard.GBT_AC: "GB/T AC",
    Standard.GBT_DC: "GB/T DC",
    Standard.DOMESTIC_F: "Schuko",
    Standard.NEMA_5_15: "NEMA 5-15",
    Standard.NEMA_5_20: "NEMA 5-20",
    Standard.NEMA_14_50: "NEMA 14-50",
    Standard.IEC_60309_2_single_16: "CEE blue 16 A",
    Standard.IEC_60309_2_three_16: "CEE red 16 A",
    Standard.IEC_60309_2_three_32: "CEE red 32 A",
    Standard.IEC_60309_2_three_64: "CEE red 63 A",
}

_ALIASES: dict[str, Standard] = {
    "J1772": Standard.IEC_62196_T1,
    "TYPE1": Standard.IEC_62196_T1,
    "TYPE_1": Standard.IEC_62196_T1,
    "T1": Standard.IEC_62196_T1,
    "CCS1": Standard.IEC_62196_T1_COMBO,
    "CCS_1": Standard.IEC_62196_T1_COMBO,
    "J1772COMBO": Standard.IEC_62196_T1_COMBO,
    "COMBO1": Standard.IEC_62196_T1_COMBO,
    "TYPE2": Standard.IEC_62196_T2,
    "TYPE_2": Standard.IEC_62196_T2,
    "MENNEKES": Standard.IEC_62196_T2,
    "T2": Standard.IEC_62196_T2,
    "CCS2": Standard.IEC_62196_T2_COMBO,
    "CCS_2": Standard.IEC_62196_T2_COMBO,
    "COMBO2": Standard.IEC_62196_T2_COMBO,
    "CHADEMO": Standard.CHADEMO,
    "NACS": Standard.TESLA_S,
    "J3400": Standard.TESLA_S,
    "SAE_J3400": Standard.TESLA_S,
    "TESLA": Standard.TESLA_S,
    "SCHUKO": Standard.DOMESTIC_F,
    "CEE": Standard.IEC_60309_2_three_16,
    "CEE_BLUE": Standard.IEC_60309_2_single_16,
    "CEE_RED": Standard.IEC_60309_2_three_16,
    "GBT": Standard.GBT_DC,
    "GB/T": Standard.GBT_DC,
    "GB_T": Standard.GBT_DC,
    "NEMA515": Standard.NEMA_5_15,
    "NEMA520": Standard.NEMA_5_20,
    "NEMA1450": Standard.NEMA_14_50,
}

_DC_STANDARDS = frozenset(
    {
        Standard.CHADEMO,
        Standard.CHAOJI,
        Standard.GBT_DC,
        Standard.IEC_62196_T1_COMBO,
        Standard.IEC_62196_T2_COMBO,
        Standard.MCS,
        Standard.PANTOGRAPH_BOTTOM_UP,
        Standard.PANTOGRAPH_TOP_DOWN,
    }
)
# Plugs that carry both AC and DC (the site data decides which a port is). OCPI 2.2.1 has
# no SAE J3400 entry; the NACS plug is the Tesla one, TESLA_S.
_BOTH = frozenset({Standard.TESLA_S, Standard.TESLA_R})


def _key(name: str) -> str:
    return "".join(ch for ch in name.upper() if ch.isalnum())


# Every spelling we accept, folded to letters and digits: OCPI names, the aliases above and
# the display names we hand out (so a client can send back what it was shown).
_LOOKUP: dict[str, Standard] = (
    {_key(member.value): member for member in Standard}
    | {_key(alias): standard for alias, standard in _ALIASES.items()}
    | {_key(shown): standard for standard, shown in COMMON_NAMES.items()}
)


def accepted_names() -> list[str]:
    """Every spelling documented as accepted: OCPI names, common names and aliases."""
    names = [m.value for m in Standard] + list(COMMON_NAMES.values()) + list(_ALIASES)
    return sorted(set(names))


def parse_standard(name: str) -> Standard:
    """Map an OCPI name or a common name (J1772, CCS2, NACS, Schuko, …) to a Standard."""
    try:
        return Standard(name.strip())
    except ValueError:
        pass
    found = _LOOKUP.get(_key(name))
    if found is None:
        raise InvalidInput(f"unknown connector standard {name!r}")
    return found


def carries_dc(standard: Standard) -> bool:
    """Whether a plug of this standard can deliver DC."""
    return standard in _DC_STANDARDS or standard in _BOTH


def carries_ac(standard: Standard) -> bool:
    """Whether a plug of this standard can deliver AC."""
    return standard not in _DC_STANDARDS
