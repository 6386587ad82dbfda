"""The real-time bridge keeps simpy in step with a scaled clock, and the report is written
from a study's results (both without a server)."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import simpy

from voltbook.city import network, params
from voltbook.city.engine import Wait
from voltbook.city.ledger import Arm
from voltbook.city.report import write_report
from voltbook.city.runs import run_in_memory_timed
from voltbook.city.server import RealTime
from voltbook.city.study import Plan, record


async def test_an_answer_reaches_its_process_at_the_simulated_time_it_arrives() -> None:
    env = simpy.Environment()
    bridge = RealTime(env, scale=100.0)  # 100 simulated seconds per real second
    seen: dict[str, float] = {}

    async def slow_answer() -> str:
        await asyncio.sleep(0.1)  # 0.1 real s: about 10 simulated s
        return "free"

    def driver() -> Wait[None]:
        answer = yield from bridge.ask(slow_answer())
        seen[answer] = env.now

    def timer() -> Wait[None]:
        yield env.timeout(50)
        seen["timer"] = env.now

    env.process(driver())
    env.process(timer())
    began = time.monotonic()
    await bridge.run(until=60)
    assert 8 <= seen["free"] <= 30
    assert seen["timer"] == 50
    assert env.now == 60
    assert 0.5 <= time.monotonic() - began <= 3.0  # 60 simulated s at 100x: 0.6 real s


async def test_questions_still_out_at_the_horizon_are_cancelled() -> None:
    env = simpy.Environment()
    bridge = RealTime(env, scale=1000.0)
    started = asyncio.Event()

    async def never() -> None:
        started.set()
        await asyncio.sleep(3600)

    def driver() -> Wait[Any]:
        yield from bridge.ask(never())

    env.process(driver())
    await bridge.run(until=100)
    assert started.is_set()
    assert not [t for t in asyncio.all_tasks() if t.get_coro().__name__ == "never"]  # type: ignore[union-attr]


def test_the_report_states_each_arm_its_differences_and_the_parameters(tmp_path: Path) -> None:
    p = params.load()
    city = network.boston(p, 40)
    plan = Plan("boston", (Arm.B0, Arm.B1), 2, 0.5, True, "memory", 1.0, 40)
    results = [
        record(run_in_memory_timed(p, city, arm, 0.5, seed, stress=3.0), plan, p, city)
        for seed in (1, 2)
        for arm in plan.arms
    ]
    out = write_report(results, p, tmp_path / "outcome.md", "python -m voltbook.city study")
    text = out.read_text(encoding="utf-8")
    assert p.sha256 in text
    assert "| failed arrivals |" in text
    assert "B1 − B0" in text
    assert "`drivers.faulty_share`" in text
    assert (tmp_path / "outcome" / "failed_share.svg").read_text().startswith("<svg")
    assert (tmp_path / "outcome" / "time_split.svg").exists()
