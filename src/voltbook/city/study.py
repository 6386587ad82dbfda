"""A study: every arm on the same seeds, each run's figures kept as a line of JSON (a study
cut short keeps what it finished), then the report."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from voltbook.city import network as networks
from voltbook.city.demand import stress_factor
from voltbook.city.ledger import Arm
from voltbook.city.network import Network
from voltbook.city.params import Parameters
from voltbook.city.runs import Run, run_in_memory_timed, run_on_server


@dataclass(frozen=True)
class Plan:
    city: str  # "boston" or "dense"
    arms: tuple[Arm, ...]
    runs: int
    days: float
    stressed: bool
    engine: str  # "server" or "memory"
    scale: float
    chargers: int | None = None  # Boston: fewer than the parameter file's, for smoke tests


def city_network(params: Parameters, plan: Plan) -> Network:
    if plan.city == "dense":
        return networks.dense(params)
    return networks.boston(params, plan.chargers)


def record(run: Run, plan: Plan, params: Parameters, network: Network) -> dict[str, Any]:
    return {
        "arm": run.arm.value,
        "seed": run.seed,
        "days": run.days,
        "stress": run.stress,
        "city": network.name,
        "chargers": len(network.chargers),
        "engine": plan.engine,
        "scale": plan.scale,
        "parameters_sha256": params.sha256,
        "requests": run.requests,
        "errors": run.errors,
        "refusals": run.refusals,
        "redeemed": run.redeemed,
        "max_lag_s": run.max_lag_s,
        "real_s": run.real_s,
        "figures": run.figures.as_dict(),
    }


async def run_study(
    params: Parameters, plan: Plan, results: Path, say: Callable[[str], None] = print
) -> list[dict[str, Any]]:
    network = city_network(params, plan)
    stress = stress_factor(params) if plan.stressed else 1.0
    results.parent.mkdir(parents=True, exist_ok=True)
    done: list[dict[str, Any]] = []
    for seed in range(1, plan.runs + 1):
        for arm in plan.arms:
            if plan.engine == "memory":
                run = run_in_memory_timed(params, network, arm, plan.days, seed, stress=stress)
            else:
                run = await run_on_server(
                    params, network, arm, plan.days, seed, stress=stress, scale=plan.scale
                )
            line = record(run, plan, params, network)
            with results.open("a", encoding="utf-8") as out:
                out.write(json.dumps(line) + "\n")
            done.append(line)
            f = run.figures
            say(
                f"seed {seed} {arm.value}: {f.arrivals} arrivals, failed {f.failed_share:.1%}, "
                f"search+wait {f.search_wait_mean_min:.1f} min ({run.real_s:.0f} s real)"
            )
    return done


def load_results(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
