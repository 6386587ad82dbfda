"""`voltbook simulate …` and `python -m voltbook.city …`: one run, a study, its report."""

from __future__ import annotations

import asyncio
import json
import shlex
import sys
from pathlib import Path
from typing import Annotated

import typer

from voltbook.city import params as parameters
from voltbook.city.ledger import Arm
from voltbook.city.report import write_report
from voltbook.city.study import Plan, city_network, load_results, run_study

app = typer.Typer(
    help="A simulated city on a real voltbook server (issue 17).", no_args_is_help=True
)

ArmsOption = Annotated[
    str,
    typer.Option(
        help="Comma-separated arms: B0 nearest, B1 live availability, T1 B1 + reservations"
    ),
]
CityOption = Annotated[str, typer.Option(help="boston (bundled AFDC stations) or dense")]


def _arms(text: str) -> tuple[Arm, ...]:
    try:
        return tuple(Arm(a.strip().upper()) for a in text.split(",") if a.strip())
    except ValueError as error:
        raise typer.BadParameter(str(error)) from error


@app.command()
def run(
    arm: Annotated[str, typer.Option(help="B0, B1 or T1")] = "B1",
    city: CityOption = "boston",
    chargers: Annotated[int | None, typer.Option(help="Boston: chargers (default 300)")] = None,
    days: Annotated[float, typer.Option(help="Simulated days")] = 1.0,
    seed: int = 1,
    stress: Annotated[bool, typer.Option(help="Demand at the stress level")] = False,
    scale: Annotated[float | None, typer.Option(help="Simulated s per real s")] = None,
    memory: Annotated[bool, typer.Option(help="voltbook's rules in memory, no server")] = False,
) -> None:
    """One run; prints its figures as JSON."""
    p = parameters.load()
    plan = Plan(
        city,
        _arms(arm),
        1,
        days,
        stress,
        "memory" if memory else "server",
        scale or p.num("run.time_scale"),
        chargers,
    )
    out = Path(".city-run.jsonl")
    out.unlink(missing_ok=True)
    lines = asyncio.run(run_study(p, plan, out, say=lambda _: None))
    out.unlink(missing_ok=True)
    typer.echo(json.dumps(lines[0], indent=2))


@app.command()
def study(
    arms: ArmsOption = "B0,B1,T1",
    city: CityOption = "boston",
    runs: Annotated[int | None, typer.Option(help="Runs per arm (default: parameter file)")] = None,
    days: Annotated[float | None, typer.Option(help="Simulated days per run")] = None,
    stress: Annotated[bool, typer.Option(help="Demand at the stress level")] = True,
    scale: Annotated[float | None, typer.Option(help="Simulated s per real s")] = None,
    memory: Annotated[bool, typer.Option(help="voltbook's rules in memory, no server")] = False,
    out: Annotated[Path, typer.Option(help="The report")] = Path("docs/outcome.md"),
) -> None:
    """Every arm on the same seeds, then the report (results kept in <out>.jsonl)."""
    p = parameters.load()
    plan = Plan(
        city,
        _arms(arms),
        runs or int(p["run.runs_per_arm"]),
        days or p.num("run.days"),
        stress,
        "memory" if memory else "server",
        scale or p.num("run.time_scale"),
    )
    results = out.with_suffix(".jsonl")
    results.unlink(missing_ok=True)
    network = city_network(p, plan)
    typer.echo(f"{network.name}: {len(network.chargers)} chargers; parameters {p.sha256[:12]}")
    asyncio.run(run_study(p, plan, results, say=typer.echo))
    command = "python -m voltbook.city " + " ".join(shlex.quote(a) for a in sys.argv[1:])
    typer.echo(f"wrote {write_report(load_results(results), p, out, command)}")


@app.command()
def report(
    out: Annotated[Path, typer.Option(help="The report")] = Path("docs/outcome.md"),
) -> None:
    """Rewrite the report from the results a study kept (<out>.jsonl)."""
    results = load_results(out.with_suffix(".jsonl"))
    arms = {r["arm"] for r in results}
    complete = {s for s in {r["seed"] for r in results}
                if {r["arm"] for r in results if r["seed"] == s} == arms}  # fmt: skip
    results = [r for r in results if r["seed"] in complete]  # a seed cut short is left out
    if not results:
        raise typer.BadParameter(f"no results in {out.with_suffix('.jsonl')}")
    typer.echo(
        f"wrote {write_report(results, parameters.load(), out, 'python -m voltbook.city report')}"
    )


def main() -> None:
    app()
