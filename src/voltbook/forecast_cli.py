"""`voltbook forecast …`: train the availability model, and score it against the baselines
on the kept history or on a synthetic network's (docs/forecasts.md)."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console

from voltbook.config import Settings
from voltbook.forecasts import synthetic
from voltbook.forecasts.service import ForecastService
from voltbook.forecasts.training import Evaluation, NotEnoughHistory

forecast_app = typer.Typer(help="Availability forecasts.", no_args_is_help=True)
console = Console(stderr=True)
T = TypeVar("T")


class Source(StrEnum):
    DATABASE = "database"
    SYNTHETIC = "synthetic"


def _run(work: Callable[[ForecastService], Awaitable[T]], train_days: int) -> T:
    from voltbook.bootstrap import clock_for
    from voltbook.storage import migrate
    from voltbook.storage.database import create_engine
    from voltbook.storage.unit_of_work import SqlUnitOfWork

    settings = Settings()

    async def run() -> T:
        engine = create_engine(settings.resolved_database_url(), settings.db_pool_size)
        clock = clock_for(settings)
        try:
            await migrate.upgrade(engine)

            def uow(*, read_only: bool = False) -> SqlUnitOfWork:
                return SqlUnitOfWork(engine, clock, read_only=read_only)

            return await work(ForecastService(uow, clock, train_days=train_days))
        finally:
            await engine.dispose()

    return asyncio.run(run())


@forecast_app.command("train")
def forecast_train(
    days: Annotated[int, typer.Option(min=8, max=90, help="Days of history to learn from")] = 28,
) -> None:
    """Train on the kept status history and bookings, and store the model."""
    started = time.perf_counter()
    model = _run(lambda s: s.train(force=True), days)
    if model is None:
        console.print("[red]not enough history yet: a week and an hour, both outcomes[/]")
        raise typer.Exit(code=1)
    seconds = time.perf_counter() - started
    typer.echo(f"trained on {model.samples} rows at {model.trained_at:%Y-%m-%dT%H:%MZ} "
               f"in {seconds:.1f} s")  # fmt: skip


@forecast_app.command("score")
def forecast_score(
    source: Annotated[Source, typer.Option(case_sensitive=False)] = Source.SYNTHETIC,
    days: Annotated[int, typer.Option(min=8, max=90, help="Days of history in all")] = 28,
    test_days: Annotated[int, typer.Option(min=1, max=14, help="Days held out")] = 7,
    stations: Annotated[int, typer.Option(min=5, max=2000, help="Synthetic stations")] = 120,
    seed: Annotated[int, typer.Option(help="Synthetic network's seed")] = 17,
    occupancy: Annotated[
        float, typer.Option(min=0.01, max=0.9, help="Synthetic stations' median occupancy")
    ] = 0.25,
    out: Annotated[Path | None, typer.Option(help="Write the figures as JSON here")] = None,
) -> None:
    """Balanced accuracy, MCC and Brier score at 15/30/60 min, for the model and the
    last-value and same-hour-last-week baselines, on the last `test-days` days."""
    started = time.perf_counter()
    try:
        if source is Source.DATABASE:
            results = _run(lambda s: s.evaluate(test_days), days)
            where: dict[str, Any] = {"source": "database", "days": days}
        else:
            params = synthetic.Parameters(
                stations=stations, weeks=max(2, -(-days // 7)), seed=seed,
                occupancy_median=occupancy,
            )  # fmt: skip
            results, where = _synthetic(params, test_days)
    except NotEnoughHistory as error:
        console.print(f"[red]not enough history: {error}[/]")
        raise typer.Exit(code=1) from None
    report = {
        **where,
        "test_days": test_days,
        "seconds": round(time.perf_counter() - started, 1),
        "horizons": [r.as_dict() for r in results],
    }
    _print(results)
    if out is not None:
        out.write_text(json.dumps(report, indent=2) + "\n")


def _synthetic(
    params: synthetic.Parameters, test_days: int
) -> tuple[list[Evaluation], dict[str, Any]]:
    from dataclasses import asdict

    from voltbook.forecasts.features import grids
    from voltbook.forecasts.training import evaluate

    history = synthetic.generate(params)
    found = grids(history.rows, history.start, history.end, history.bookings)
    _, results = evaluate(found.values(), datetime.now(UTC), test_days)
    where = {
        "source": "synthetic",
        "parameters": asdict(params),
        "status_rows": len(history.rows),
        "bookings": len(history.bookings),
    }
    return results, where


def _print(results: list[Evaluation]) -> None:
    typer.echo("horizon\tpredictor\tbalanced_accuracy\tmcc\tbrier\trows")
    for r in results:
        for name, s in (
            ("model", r.model),
            ("last_value", r.last_value),
            ("same_hour_last_week", r.last_week),
        ):
            typer.echo(
                f"{r.horizon}\t{name}\t{s.balanced_accuracy:.3f}\t{s.mcc:.3f}\t{s.brier:.3f}"
                f"\t{s.rows}"
            )
