"""A sweep: the study's arms again with one parameter at several values (issue 17: the
offer elasticity 0.3-1.5, reservation no-shows 5-15 %), the targets checked at each value.

The baselines B0 and B1 use neither offers nor bookings, so they are run once and paired
with every value (common random numbers: a changed share of no-shows or elasticity leaves
every other draw of a need as it was)."""

from __future__ import annotations

import math
import tomllib
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from voltbook.city.ledger import Arm
from voltbook.city.params import Parameters
from voltbook.city.report import by_arm
from voltbook.city.study import Plan, load_results, run_study
from voltbook.city.targets import check

BASELINES = (Arm.B0, Arm.B1)


def parse_value(text: str) -> Any:
    return tomllib.loads(f"v = {text}")["v"]


def _fresh(folder: Path, name: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.unlink(missing_ok=True)
    return path


async def run_sweep(
    params: Parameters,
    plan: Plan,
    name: str,
    values: list[Any],
    folder: Path,
    say: Callable[[str], None] = print,
) -> dict[Any, list[dict[str, Any]]]:
    """Results by value: the baselines once, every other arm of `plan` at each value."""
    base_path = _fresh(folder, "baselines.jsonl")
    baselines = [a for a in plan.arms if a in BASELINES]
    treated = tuple(a for a in plan.arms if a not in BASELINES)
    base = await run_study(params, replace(plan, arms=tuple(baselines)), base_path, say)
    out: dict[Any, list[dict[str, Any]]] = {}
    for value in values:
        changed = params.with_values(**{name.replace(".", "__"): value})
        path = _fresh(folder, f"{name}={value}.jsonl")
        say(f"{name} = {value}")
        out[value] = base + await run_study(changed, replace(plan, arms=treated), path, say)
    return out


def sweep_section(name: str, by_value: dict[Any, list[dict[str, Any]]], arm: str) -> list[str]:
    """A table: each target of issue 17 on `arm`, measured at each value of the parameter."""
    checked = {value: check(by_arm(results), arm) for value, results in by_value.items()}
    targets = [row[0] for row in next(iter(checked.values()), [])]
    lines = [
        f"### `{name}` ({arm})",
        "",
        "| target | " + " | ".join(f"{value}" for value in by_value) + " |",
        "|---|" + "---|" * len(by_value),
    ]
    for i, target in enumerate(targets):
        cells = []
        for rows in checked.values():
            _, shown, verdict = rows[i]
            mark = "met" if verdict == "met" else ("n/a" if shown == "n/a" else "**missed**")
            cells.append(f"{shown} {mark}")
        lines.append(f"| {target} | " + " | ".join(cells) + " |")
    runs = {len({r["seed"] for r in results}) for results in by_value.values()}
    lines += ["", f"Runs per value: {', '.join(str(n) for n in sorted(runs))}.", ""]
    return lines


def load_sweep(folder: Path, name: str) -> dict[Any, list[dict[str, Any]]]:
    base = load_results(folder / "baselines.jsonl")
    found: dict[Any, list[dict[str, Any]]] = {}
    for path in sorted(folder.glob(f"{name}=*.jsonl")):
        value = parse_value(path.stem.split("=", 1)[1])
        found[value] = base + load_results(path)
    return dict(sorted(found.items(), key=lambda kv: float(kv[0]) if not isinstance(
        kv[0], str) else math.inf))  # fmt: skip


def write_sweeps(folder: Path, names: list[str], out: Path, command: str, arm: str) -> Path:
    lines = [
        "# Outcome sweeps: issue 17's targets as one parameter moves",
        "",
        f"Regenerate with `{command}`; each value's runs are in `{folder.name}/`.",
        "A cell is the measured figure with its 95 % interval; a target is met only when the "
        "whole interval lies beyond it.",
        "",
    ]
    for name in names:
        by_value = load_sweep(folder / name, name)
        if by_value:
            first = next(iter(by_value.values()))[0]
            runs = min(len({r["seed"] for r in rs}) for rs in by_value.values())
            reduced = (
                f" **Reduced**: {runs} run(s) of {first['days']:g} day(s) per value, not 10 "
                "runs of 7 days (`./dev study-all`); read the intervals with that in mind."
                if runs < 10 or first["days"] < 7
                else ""
            )
            lines.append(
                f"City {first['city']}, engine {first['engine']}, {first['days']} day(s) per "
                f"run, parameters {first['parameters_sha256'][:12]}….{reduced}"
            )
            lines.append("")
            lines += sweep_section(name, by_value, arm)
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return out
