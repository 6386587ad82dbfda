"""`python -m benchmarks [name ...] [options]`: run all benchmarks, or the ones named."""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import platform
import sys
import time
from collections.abc import Callable, Coroutine
from pathlib import Path
from types import ModuleType
from typing import Any

from benchmarks import (
    fanout,
    geofence,
    nearby,
    nearby_flag,
    nearby_memory,
    ocpp_ingest,
    reservations,
    storm,
)
from benchmarks.common import QUIET, Row

BENCHMARKS: dict[str, ModuleType] = {
    "fanout": fanout,
    "nearby": nearby,
    "nearby_memory": nearby_memory,
    "nearby_flag": nearby_flag,
    "ocpp_ingest": ocpp_ingest,
    "reservations": reservations,
    "geofence": geofence,
    "storm": storm,
}


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description="voltbook benchmarks (docs/benchmarks.md). Runs all when none is named.",
    )
    parser.add_argument("names", nargs="*", metavar="name", help=f"of {', '.join(BENCHMARKS)}")
    parser.add_argument(
        "--duration", type=float, default=4.0, help="seconds measured per figure (default 4)"
    )
    parser.add_argument(
        "--warmup", type=float, default=1.0, help="seconds of warm-up before each (default 1)"
    )
    parser.add_argument(
        "--concurrency",
        type=int,
        default=8,
        help="workers for the throughput figures (default 8); latency is also measured with 1",
    )
    parser.add_argument(
        "--max-others",
        type=float,
        default=QUIET.max_others_percent,
        help="CPU %% of a core other processes may use before a figure is measured again "
        "(default 25; figures still above it are marked '!')",
    )
    parser.add_argument(
        "--retries", type=int, default=QUIET.retries, help="re-measurements per figure (default 2)"
    )
    parser.add_argument("--seed", type=int, default=20261126, help="random seed")
    parser.add_argument(
        "--loop",
        choices=("uvloop", "asyncio"),
        default="uvloop",
        help="event loop of this process (uvicorn's default is uvloop)",
    )
    parser.add_argument(
        "--style",
        choices=("rich", "markdown"),
        default="rich",
        help="result table: rich, or Markdown for docs",
    )
    parser.add_argument("--json", type=Path, help="also write the results to this JSON file")
    parser.add_argument("--check", action="store_true", help="exit with 1 when a target is not met")
    for module in BENCHMARKS.values():
        module.add_arguments(parser)
    return parser


def _loop_factory(name: str) -> Callable[[], asyncio.AbstractEventLoop] | None:
    if name == "uvloop":
        import uvloop

        return uvloop.new_event_loop
    return None


def python_speed() -> float:
    """Millions of steps per second of a plain Python loop (`for i in range(n): s += i`), the
    best of three: how fast this machine runs the interpreter today. Absolute figures of
    runs on machines whose speed differs are comparable only through it (or the ratios)."""
    best = math.inf
    for _ in range(3):
        started = time.perf_counter()
        total = 0
        for i in range(2_000_000):
            total += i
        best = min(best, time.perf_counter() - started)
    return 2.0 / best


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    unknown = [name for name in args.names if name not in BENCHMARKS]
    if unknown:
        parser.error(
            f"unknown benchmark(s) {', '.join(unknown)}; there are {', '.join(BENCHMARKS)}"
        )
    names = args.names or list(BENCHMARKS)
    QUIET.max_others_percent = args.max_others
    QUIET.retries = args.retries
    print(
        f"machine: {os.cpu_count()} CPUs, Python {platform.python_version()}, "
        f"{platform.platform()}; event loop: {args.loop}; load average "
        f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}; "
        f"one core runs {python_speed():.1f} M loop steps/s",
        file=sys.stderr,
    )
    results: dict[str, list[dict[str, object]]] = {}
    started = time.perf_counter()
    with asyncio.Runner(loop_factory=_loop_factory(args.loop)) as runner:
        for name in names:
            work: Coroutine[Any, Any, list[Row]] = BENCHMARKS[name].run(args)
            results[name] = [row.as_dict() for row in runner.run(work)]
    print(
        f"\nall done in {time.perf_counter() - started:.0f} s "
        f"({QUIET.spent_s:.0f} s of it re-measuring figures disturbed by other processes)",
        file=sys.stderr,
    )
    if args.json:
        args.json.write_text(json.dumps(results, indent=2), encoding="utf-8")
    flat = [row for rows in results.values() for row in rows]
    if any(row["errors"] for row in flat):
        print("some requests failed (see the errors in the table)", file=sys.stderr)
        return 1
    if args.check and any(row["met"] is False for row in flat):
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
