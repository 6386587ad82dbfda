"""One run of the city on a real voltbook server, start to end."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import simpy

from voltbook.city.demand import DAY_S, faults, needs
from voltbook.city.engine import City
from voltbook.city.ledger import Arm, Ledger
from voltbook.city.listeners import offer_terms
from voltbook.city.memory import run_in_memory
from voltbook.city.metrics import Figures, figures
from voltbook.city.network import Network
from voltbook.city.params import Parameters
from voltbook.city.server import ORIGIN, RealTime, ServerPort, voltbook_server, workdir


@dataclass(frozen=True)
class Run:
    arm: Arm
    seed: int
    days: float
    stress: float
    ledger: Ledger
    figures: Figures
    requests: int  # questions the drivers and chargers put to the server
    errors: int  # of them, failed on the network (counted as refusals)
    max_lag_s: float  # simulated seconds the engine ever fell behind the server's clock
    real_s: float  # wall-clock seconds of the simulated part
    refusals: dict[str, int]  # why chargers refused starts (server runs)
    redeemed: int = 0  # sessions the server counted as redeeming an offer (server runs)


async def run_on_server(
    params: Parameters,
    network: Network,
    arm: Arm,
    days: float,
    seed: int,
    *,
    stress: float = 1.0,
    scale: float | None = None,
    drivers: int = 10,
) -> Run:
    """A fresh server, the network's chargers connected, the seed's drivers and faults."""
    scale = scale or params.num("run.time_scale")
    with workdir() as folder:
        async with voltbook_server(network, scale, Path(folder)) as server:
            port = ServerPort(server, network, drivers)
            drawn = needs(params, network, days, seed, stress=stress)
            terms = offer_terms(params.num("offers.discount_percent"),
                                int(params["offers.idle_minutes"]), ORIGIN, days)  # fmt: skip
            try:
                await port.open(seed, drawn, terms if arm.offers else None)
                env = simpy.Environment()
                bridge = RealTime(env, scale)
                city = City(env, params, network, port, bridge, arm, days * DAY_S, server.grace_s)
                city.start(drawn, faults(params, network, days, seed))
                began = time.monotonic()
                await bridge.run(days * DAY_S)
                real_s = time.monotonic() - began
            finally:
                await port.close()
    ledger = city.finish()
    return Run(arm, seed, days, stress, ledger, figures(ledger), port.requests, port.errors,
               bridge.max_lag_s, real_s, dict(port.refusals), port.redeemed)  # fmt: skip


def run_in_memory_timed(
    params: Parameters, network: Network, arm: Arm, days: float, seed: int, *, stress: float = 1.0
) -> Run:
    """The same run on voltbook's rules in memory (no server): fast, for sweeps and checks."""
    began = time.monotonic()
    ledger = run_in_memory(params, network, arm, days, seed, stress)
    return Run(arm, seed, days, stress, ledger, figures(ledger), 0, 0, 0.0,
               time.monotonic() - began, {})  # fmt: skip
