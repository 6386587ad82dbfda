"""Accelerated time for a city simulation (ADR 0020): a faster clock every domain time
source follows, and a start-up option that is refused outside a simulation."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from pydantic import ValidationError

from voltbook.bootstrap import clock_for
from voltbook.config import Settings
from voltbook.core.clock import MIN_REAL_PAUSE_S, ScaledClock, SystemClock, real_seconds
from voltbook.wiring.background import every_on
from voltbook.wiring.failures import HandlerFailures

ORIGIN = datetime(2026, 3, 2, 6, 0, tzinfo=UTC)
NAIVE = ORIGIN.replace(tzinfo=None)


def test_a_scaled_clock_starts_at_its_origin_at_its_anchor_and_runs_scale_times_faster() -> None:
    anchor = time.time() - 2.0  # two real seconds ago
    clock = ScaledClock(60, ORIGIN, anchor)
    elapsed = clock.now() - ORIGIN
    assert timedelta(seconds=119) <= elapsed <= timedelta(seconds=125)
    first = clock.monotonic()
    time.sleep(0.05)
    assert 2.5 <= clock.monotonic() - first <= 6.0


def test_two_scaled_clocks_with_the_same_numbers_agree() -> None:
    anchor = time.time()
    one, other = ScaledClock(600, ORIGIN, anchor), ScaledClock(600, ORIGIN, anchor)
    assert abs((one.now() - other.now()).total_seconds()) < 1.0


def test_a_scaled_clock_refuses_nonsense() -> None:
    with pytest.raises(ValueError, match="positive"):
        ScaledClock(0)
    with pytest.raises(ValueError, match="timezone"):
        ScaledClock(10, NAIVE, time.time())


def test_a_loop_period_becomes_a_shorter_real_pause_with_a_floor() -> None:
    clock = ScaledClock(100)
    assert real_seconds(clock, 60) == pytest.approx(0.6)
    assert real_seconds(clock, 1) == MIN_REAL_PAUSE_S  # 10 ms would spin; the floor holds
    assert real_seconds(SystemClock(), 60) == 60


def test_a_time_scale_is_refused_unless_the_simulation_flag_is_set(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="SIMULATION"):
        Settings(data_dir=tmp_path, time_scale=60)
    settings = Settings(data_dir=tmp_path, time_scale=60, simulation=True)
    assert isinstance(clock_for(settings), ScaledClock)
    assert isinstance(clock_for(Settings(data_dir=tmp_path)), SystemClock)


def test_a_time_origin_needs_a_timezone(tmp_path: Path) -> None:
    with pytest.raises(ValidationError):
        Settings(data_dir=tmp_path, simulation=True, time_origin=NAIVE)


def test_the_serve_command_refuses_a_time_scale_outside_a_simulation(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from typer.testing import CliRunner

    from voltbook.cli import app

    monkeypatch.delenv("VOLTBOOK_SIMULATION", raising=False)
    result = CliRunner().invoke(app, ["serve", "--time-scale", "60"])
    assert result.exit_code != 0
    assert "SIMULATION" in result.output


async def test_a_background_loop_runs_its_period_in_scaled_time() -> None:
    rounds = 0

    async def work() -> None:
        nonlocal rounds
        rounds += 1

    task = asyncio.create_task(
        every_on(60, work, "test", HandlerFailures(), clock=ScaledClock(600))
    )
    await asyncio.sleep(0.55)  # 0.55 real s = 330 simulated s: about six rounds of 60 s
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    assert 4 <= rounds <= 7
