"""The simulator against the real server: a charger that charges through an outage is
counted once, with the energy it metered."""

from __future__ import annotations

import asyncio
import contextlib

import httpx
import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.e2e.conftest import simulated_station_spec
from tests.polling import eventually
from voltbook.sim import SimOptions, SimulatedStation

Headers = dict[str, str]


@pytest.mark.parametrize("version", ["1.6", "2.0.1"])
async def test_a_session_charged_through_an_outage_is_counted_once(
    client: httpx.AsyncClient,
    operator: Headers,
    server_url: str,
    engine: AsyncEngine,
    version: str,
) -> None:
    spec = await simulated_station_spec(
        client, operator, server_url, engine, f"SIM-{version}", "CARD-SIM"
    )
    options = SimOptions(
        version=version, session_rate=0, meter_interval=0.2, speed=60, id_tags=("CARD-SIM",),
        auto_stop=False, seed=7, reconnect_base=0.1, reconnect_cap=0.5,
    )  # fmt: skip
    station = SimulatedStation(server_url, spec, options)
    running = asyncio.create_task(station.run())
    try:
        await eventually(lambda: station.booted, timeout=20)
        assert await station.start_session(1, "CARD-SIM")
        await asyncio.sleep(0.6)
        await station.go_offline(1.5)  # keeps charging and metering; the messages queue up
        await eventually(lambda: station.connected and station.booted, timeout=20)
        assert await station.stop_session(1)

        async def one_finished_session() -> bool:
            async with engine.connect() as connection:
                rows = (
                    (
                        await connection.execute(
                            sa.text("SELECT * FROM charging_sessions WHERE station_id = :s"),
                            {"s": spec.id},
                        )
                    )
                    .mappings()
                    .all()
                )
            return len(rows) == 1 and rows[0]["stopped_at"] is not None

        await eventually(one_finished_session, timeout=20)
        async with engine.connect() as connection:
            [row] = (
                (
                    await connection.execute(
                        sa.text("SELECT * FROM charging_sessions WHERE station_id = :s"),
                        {"s": spec.id},
                    )
                )
                .mappings()
                .all()
            )
        assert row["energy_wh"] > 0
        assert row["energy_wh"] == pytest.approx(row["meter_stop_wh"] - row["meter_start_wh"])
        assert row["soc_percent"] is not None
    finally:
        await station.stop()
        running.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await running
