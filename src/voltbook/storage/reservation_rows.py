"""Reservations to table rows and back."""

from __future__ import annotations

from dataclasses import asdict
from datetime import timedelta
from typing import Any

from voltbook.reservations.model import Alternative, HistoryEntry, Reservation, Status
from voltbook.storage.timestamps import as_utc


def new_row(reservation: Reservation) -> dict[str, Any]:
    return row_values(reservation) | {
        "driver_id": reservation.driver_id,
        "any_evse": reservation.any_evse,
        "grace_s": int(reservation.grace.total_seconds()),
        "id_tag": reservation.id_tag,
        "vehicle_id": reservation.vehicle_id,
        "idempotency_key": reservation.idempotency_key,
        "fingerprint": reservation.fingerprint,
        "created_at": reservation.created_at,
    }


def history_row(reservation_id: int, entry: HistoryEntry) -> dict[str, Any]:
    return {
        "reservation_id": reservation_id,
        "at": entry.at,
        "status": entry.status.value,
        "change": entry.change.value if entry.change else None,
        "reason": entry.reason[:255],
        "connector": None if entry.connector is None else str(entry.connector),
    }


def row_values(reservation: Reservation) -> dict[str, Any]:
    return {
        "station_id": reservation.station_id,
        "evse_id": reservation.evse_id,
        "starts_at": reservation.starts_at,
        "ends_at": reservation.ends_at,
        "status": reservation.status.value,
        "alternatives": [asdict(a) for a in reservation.alternatives] or None,
    }


def field_values(reservation: Reservation) -> dict[str, Any]:
    return {name: getattr(reservation, name) for name in Reservation.__dataclass_fields__}


def from_row(row: Any, history: tuple[HistoryEntry, ...]) -> Reservation:
    return Reservation(
        id=row["id"],
        driver_id=row["driver_id"],
        station_id=row["station_id"],
        evse_id=row["evse_id"],
        any_evse=bool(row["any_evse"]),
        starts_at=as_utc(row["starts_at"]),
        ends_at=as_utc(row["ends_at"]),
        grace=timedelta(seconds=row["grace_s"]),
        status=Status(row["status"]),
        id_tag=row["id_tag"],
        created_at=as_utc(row["created_at"]),
        vehicle_id=row["vehicle_id"],
        idempotency_key=row["idempotency_key"],
        fingerprint=row["fingerprint"],
        history=history,
        alternatives=tuple(Alternative(**a) for a in row.get("alternatives") or ()),
    )
