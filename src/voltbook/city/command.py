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
from voltbook.city.sweep import parse_value, run_sweep, write_sweeps

app = typer.Typer(
    help="A simulated city on a real voltbook server (issue 17).", no_args_is_help=True
)

ArmsOption = Annotated[
    str,
    typer.Option(
        help="Comma-separated arms: B0 nearest, B1 live availability, T1 B1 + reservations, "
        "T2 B1 + offers, T3 B1 + reservations + offers"
    ),
]
SetOption = Annotated[
    list[str] | None,
    typer.Option("--set", help="Change a parameter for this study: section.name=value"),
]
CityOption = Annotated[str, typer.Option(help="boston (bundled AFDC stations) or dense")]


def _params(changes: list[str] | None) -> parameters.Parameters:
    p = parameters.load()
    for change in changes or ():
        name, _, value = change.partition("=")
        try:
            p = p.with_values(**{name.strip().replace(".", "__"): parse_value(value)})
        except (KeyError, ValueError) as error:
            raise typer.BadParameter(f"{change}: {error}") from error
    return p


def _arms(text: str) -> tuple[Arm, ...]:
    try:
        return tuple(Arm(a.strip().upper()) for a in text.split(",") if a.strip())
    except ValueError as error:
        raise typer.BadParameter(str(error)) from error


@app.command()
def run(
    arm: Annotated[str, typer.Option(help="B0, B1, T1, T2 or T3")] = "B1",
    city: CityOption = "boston",
    chargers: Annotated[int | None, typer.Option(help="Boston: chargers (default 300)")] = None,
    days: Annotated[float, typer.Option(help="Simulated days")] = 1.0,
    seed: int = 1,
    stress: Annotated[bool, typer.Option(help="Demand at the stress level")] = False,
    scale: Annotated[float | None, typer.Option(help="Simulated s per real s")] = None,
    memory: Annotated[bool, typer.Option(help="voltbook's rules in memory, no server")] = False,
    changes: SetOption = None,
) -> None:
    """One run; prints its figures as JSON."""
    p = _params(changes)
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
    arms: ArmsOption = "B0,B1,T1,T2,T3",
    city: CityOption = "boston",
    runs: Annotated[int | None, typer.Option(help="Runs per arm (default: parameter file)")] = None,
    days: Annotated[float | None, typer.Option(help="Simulated days per run")] = None,
    stress: Annotated[bool, typer.Option(help="Demand at the stress level")] = True,
    scale: Annotated[float | None, typer.Option(help="Simulated s per real s")] = None,
    memory: Annotated[bool, typer.Option(help="voltbook's rules in memory, no server")] = False,
    out: Annotated[Path, typer.Option(help="The report")] = Path("docs/outcome.md"),
    chargers: Annotated[int | None, typer.Option(help="Chargers (default: parameters)")] = None,
    changes: SetOption = None,
) -> None:
    """Every arm on the same seeds, then the report (results kept in <out>.jsonl)."""
    p = _params(changes)
    plan = Plan(
        city,
        _arms(arms),
        runs or int(p["run.runs_per_arm"]),
        days or p.num("run.days"),
        stress,
        "memory" if memory else "server",
        scale or p.num("run.time_scale"),
        chargers,
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


SWEEPS = {
    "offers.elasticity": "0.3,0.5,0.76,1.0,1.5",
    "reservations.no_show_share": "0.05,0.1,0.15",
}


@app.command()
def sweep(
    parameter: Annotated[
        list[str] | None, typer.Option(help=f"Parameters to sweep (default: {', '.join(SWEEPS)})")
    ] = None,
    values: Annotated[
        str | None, typer.Option(help="Comma-separated values (one parameter)")
    ] = None,
    arms: ArmsOption = "B0,B1,T3",
    city: CityOption = "boston",
    runs: Annotated[int, typer.Option(help="Runs per arm and value")] = 10,
    days: Annotated[float | None, typer.Option(help="Simulated days per run")] = None,
    scale: Annotated[float | None, typer.Option(help="Simulated s per real s")] = None,
    memory: Annotated[bool, typer.Option(help="voltbook's rules in memory, no server")] = False,
    out: Annotated[Path, typer.Option(help="The report")] = Path("docs/outcome-sweeps.md"),
    report_only: Annotated[bool, typer.Option(help="Rewrite the report from kept runs")] = False,
) -> None:
    """Issue 17's targets at several values of a parameter (baselines run once)."""
    p = parameters.load()
    names = parameter or list(SWEEPS)
    plan = Plan(city, _arms(arms), runs, days or p.num("run.days"), True,
                "memory" if memory else "server", scale or p.num("run.time_scale"))  # fmt: skip
    folder = out.with_suffix("")
    for name in names:
        chosen = values if (values and len(names) == 1) else SWEEPS.get(name)
        if chosen is None or name not in p.values:
            raise typer.BadParameter(f"{name}: give --values")
        if not report_only:
            asyncio.run(run_sweep(p, plan, name, [parse_value(v) for v in chosen.split(",")],
                                  folder / name, say=typer.echo))  # fmt: skip
    argv = [a for a in sys.argv[1:] if a != "--report-only"]
    command = "python -m voltbook.city " + " ".join(shlex.quote(a) for a in argv)
    arm = "T3" if Arm.T3 in plan.arms else plan.arms[-1].value
    written = write_sweeps(folder, names, out, command, arm)
    typer.echo(f"wrote {written}")


def main() -> None:
    app()
