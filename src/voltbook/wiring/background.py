"""Every loop that runs beside the server, in one place.

Each loop survives a failing round: the failure is recorded (logged with its context and
counted, see `HandlerFailures`) and the next round tries again. A new area's periodic work is
one more line in `loops`.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, Protocol

from voltbook.core.clock import Clock, real_seconds
from voltbook.idtokens.lists import CHANGES_EVERY_S
from voltbook.offers.service import OfferService
from voltbook.services import Services
from voltbook.wiring.failures import HandlerFailures

Loop = Coroutine[Any, Any, None]


def loops(services: Services, failures: HandlerFailures, clock: Clock | None = None) -> list[Loop]:
    """The background work of a running server (started and cancelled by bootstrap); their
    pauses follow `clock` (a simulation's faster time, ADR 0020)."""

    def every(
        seconds: float, work: Callable[[], Awaitable[object]], name: str, *, timed: bool = False
    ) -> Loop:
        # Timed work (purges by age, jobs falling due) follows the clock; batching and
        # sweeps that promise a real-time bound do not.
        return every_on(seconds, work, name, failures, clock if timed else None)

    return [
        # Live meter figures and chargers' SoC readings reach the database once a second,
        # in one transaction each; what fails stays queued for the next round.
        every(1, services.charging.flush, "charging.flush"),
        every(1, services.vehicles.flush, "vehicles.flush"),
        run_reservation_jobs(services.reservations, failures, clock=clock),
        # Notices past the replay window, positions past their time to live, go.
        every(600, services.notices.purge, "notices.purge", timed=True),
        every(60, services.privacy.purge, "privacy.purge", timed=True),
        services.notices.worker.run(),
        run_offer_engine(services.offers, failures, clock=clock),
        # Live channels of ended sign-ins close within 5 s even without the event.
        every(2, services.live.close_ended, "live.close_ended"),
        # The nearby search's sites in memory, kept current (docs/adr/0022).
        *([services.catalog_sync.run()] if services.catalog_sync is not None else []),
        # The operator console's records: authorization lists sent to stations, the OCPP
        # message journal and the status history, written in batches and purged by age.
        services.auth_lists.worker.run(),
        # Card changes made elsewhere (the command line, another node): see ADR 0035.
        every(CHANGES_EVERY_S, services.auth_lists.look_for_changes, "auth_lists.changes"),
        every(1, services.journal.flush, "journal.flush"),
        every(300, services.journal.purge, "journal.purge", timed=True),
        every(1, services.status_history.flush, "status_history.flush"),
        every(3600, services.status_history.purge, "status_history.purge", timed=True),
        every(1, services.meter_series.flush, "meter_series.flush"),
        every(3600, services.meter_series.purge, "meter_series.purge", timed=True),
        # Availability forecasts: a model trained hourly (or taken from another node), and
        # every station's forecast refreshed for search and recommendations (ADR 0028).
        # Real time on purpose: a simulation's faster clock must not multiply their cost.
        *(
            [
                every(3600, services.forecasts.train, "forecasts.train"),
                every(300, services.forecasts.refresh, "forecasts.refresh"),
            ]
            if services.forecasts is not None
            else []
        ),
    ]


async def every_on(
    seconds: float,
    work: Callable[[], Awaitable[object]],
    name: str,
    failures: HandlerFailures,
    clock: Clock | None = None,
) -> None:
    """Run `work` now and then every `seconds` (of `clock`) until cancelled; a round that
    fails is recorded under `name` and the next round tries again."""
    while True:
        try:
            await work()
        except Exception as error:  # storage hiccup: the next round does it
            failures.record(name, error)
        await asyncio.sleep(real_seconds(clock, seconds))


class JobRunner(Protocol):
    """What the job loop needs of the reservations service."""

    wake: asyncio.Event

    async def run_due(self) -> int: ...


async def run_reservation_jobs(
    reservations: JobRunner,
    failures: HandlerFailures,
    every_s: float = 1.0,
    drains: int = 4,
    clock: Clock | None = None,
) -> None:
    """Hand-offs, no-shows and releases, as they fall due (any number of nodes may run this).

    Each wake-up (or every `every_s`) starts a drain unless `drains` run already: a batch
    waiting out a silent charger's timeout does not keep a booking made meanwhile waiting."""

    async def drain() -> None:
        try:
            while await reservations.run_due() > 0:
                pass
        except Exception as error:  # storage hiccup: jobs stay due and run next time
            failures.record("reservations.run_due", error)

    running: set[asyncio.Task[None]] = set()
    try:
        while True:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(real_seconds(clock, every_s)):
                    await reservations.wake.wait()
            reservations.wake.clear()
            if len(running) < drains:
                task = asyncio.create_task(drain())
                running.add(task)
                task.add_done_callback(running.discard)
    finally:
        for task in running:
            task.cancel()
        await asyncio.gather(*running, return_exceptions=True)


async def run_offer_engine(
    offers: OfferService,
    failures: HandlerFailures,
    every_s: float = 15.0,
    refresh_every: int = 4,
    clock: Clock | None = None,
) -> None:
    """Live offers into memory at start and about once a minute after (changes made on other
    nodes); idle-station checks every `every_s` seconds."""
    tick = 0
    while True:
        try:
            if tick % refresh_every == 0:
                await offers.refresh()
            await offers.idle_check()
        except Exception as error:  # storage hiccup: the next tick tries again
            failures.record("offers.engine", error)
        tick += 1
        await asyncio.sleep(real_seconds(clock, every_s))
