"""`voltbook import-stations` creates, updates and skips, on both databases."""

from __future__ import annotations

import asyncio
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine
from typer.testing import CliRunner, Result

from voltbook.cli import app as cli

HEADER = (
    "source_id,name,address,city,region,postal_code,country,latitude,longitude,operator,"
    "access,hours,level2_ports,dc_fast_ports,connector_types,max_power_kw\n"
)
GOOD = "AFDC-1,One,1 Main St,Boston,MA,02110,US,42.35,-71.05,Net,public,24 hours,2,1,J1772;CCS1,\n"
GOOD_2 = "AFDC-2,Two,2 Main St,Boston,MA,02110,US,42.36,-71.06,Net,public,,1,0,J1772,\n"
BAD_LAT = "AFDC-3,Three,3 Main St,Boston,MA,02110,US,95,-71.06,Net,public,,1,0,J1772,\n"
BAD_PLUG = "AFDC-4,Four,4 Main St,Boston,MA,02110,US,42.3,-71.06,Net,public,,1,0,WHATEVER,\n"
BAD_QUOTE = 'AFDC-5,"Fi"ve,5 Main St,Boston,MA,02110,US,42.3,-71.06,Net,public,,1,0,J1772,\n'
NO_LAT = "AFDC-6,Six,6 Main St,Boston,MA,02110,US,,-71.06,Net,public,,1,0,J1772,\n"


async def run_import(database_url: str, data_dir: Path, csv: Path) -> Result:
    return await asyncio.to_thread(
        CliRunner().invoke,
        cli,
        ["import-stations", str(csv)],
        env={"VOLTBOOK_DATABASE_URL": database_url, "VOLTBOOK_DATA_DIR": str(data_dir)},
    )


async def counts(engine: AsyncEngine) -> tuple[int, int, int]:
    async with engine.connect() as connection:
        result = []
        for table in ("sites", "stations", "connectors"):
            value = await connection.scalar(sa.text(f"SELECT count(*) FROM {table}"))
            result.append(int(value or 0))
    return result[0], result[1], result[2]


async def test_bad_rows_are_reported_by_line_and_good_rows_still_land(
    engine: AsyncEngine, database_url: str, tmp_path: Path
) -> None:
    csv = tmp_path / "stations.csv"
    csv.write_text(HEADER + GOOD + BAD_LAT + BAD_PLUG + BAD_QUOTE + NO_LAT + GOOD_2)

    result = await run_import(database_url, tmp_path, csv)

    assert result.exit_code == 0, result.output
    assert "line 3: skipped, latitude 95 is out of range" in result.output
    assert "line 4: skipped, unknown connector standard 'WHATEVER'" in result.output
    assert "line 5: skipped, broken quoting" in result.output
    assert "line 6: skipped, latitude is missing" in result.output
    assert "created 2, updated 0, skipped 4" in result.output
    assert await counts(engine) == (2, 2, 4)  # 3 ports with 1 plug each + 1


async def test_reimporting_updates_and_never_duplicates(
    engine: AsyncEngine, database_url: str, tmp_path: Path
) -> None:
    csv = tmp_path / "stations.csv"
    csv.write_text(HEADER + GOOD + GOOD_2)
    assert (await run_import(database_url, tmp_path, csv)).exit_code == 0

    csv.write_text(HEADER + GOOD.replace(",2,1,J1772;CCS1,", ",3,1,J1772;CCS1,") + GOOD_2)
    again = await run_import(database_url, tmp_path, csv)

    assert "created 0, updated 2, skipped 0" in again.output
    assert await counts(engine) == (2, 2, 5)  # the first site now has a third Level 2 port


async def test_the_bundled_data_set_imports_completely_with_fresh_planner_statistics(
    engine: AsyncEngine, database_url: str, tmp_path: Path
) -> None:
    from voltbook.bootstrap import bundled_stations

    result = await run_import(database_url, tmp_path, bundled_stations())

    assert "created 8925, updated 0, skipped 0" in result.output
    sites, stations, _ = await counts(engine)
    assert sites == stations == 8925
    if engine.dialect.name == "postgresql":  # analysed, so the planner knows the row counts
        async with engine.connect() as connection:
            rows = await connection.execute(
                sa.text(
                    "SELECT relname, reltuples FROM pg_class"
                    " WHERE relname IN ('sites', 'stations') AND relkind = 'r'"
                )
            )
            assert {name: int(n) for name, n in rows.all()} == {"sites": 8925, "stations": 8925}
