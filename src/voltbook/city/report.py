"""docs/outcome.md from a study's results: each figure with its 95 % interval, paired
differences between arms on the same seeds, and where voltbook does not help."""

from __future__ import annotations

import math
import statistics
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

from voltbook.city import svg
from voltbook.city.metrics import Interval, mean_interval, paired
from voltbook.city.params import Parameters
from voltbook.city.targets import check

SHOWN = (
    ("failed_share", "failed arrivals", "share", False),
    ("unresolved_share", "needs still unresolved at the end of the run", "share", False),
    ("booked_failed_share", "bookings not honoured (of drivers who came booked)", "share", False),
    ("search_wait_mean_min", "search + wait, mean", "min", False),
    ("search_wait_p95_min", "search + wait, p95", "min", False),
    ("sessions_per_charger_day", "sessions per charger per day", "", True),
    ("kwh_per_charger_day", "kWh per charger per day", "kWh", True),
    ("least_quarter_sessions_per_charger_day", "sessions/charger/day, least-used 1/4", "", True),
    ("least_quarter_kwh_per_charger_day", "kWh/charger/day, least-used quarter", "kWh", True),
    ("utilisation_mean", "utilisation (plugged in), mean", "share", True),
    ("utilisation_cv", "utilisation spread (CV)", "", False),
    ("reserved_of_occupied", "reserved-but-empty share of occupied time", "share", False),
    ("offered_share", "drivers who got an offer", "share", True),
    ("accepted_share", "offers used (of drivers who got one)", "share", True),
    ("moved_share", "drivers an offer sent elsewhere than their own pick", "share", True),
    ("discount_per_charger_day", "discount given, USD per charger per day", "", False),
    (
        "server_answer_mean_min",
        "waiting on voltbook's answers (not in search + wait)",
        "min",
        False,
    ),
)
SPLIT = (
    ("share_charging", "charging"),
    ("share_plugged_not_charging", "plugged, not charging"),
    ("share_reserved_empty", "reserved, empty"),
    ("share_idle", "idle"),
    ("share_faulted", "faulted"),
)
ORDER = ("B0", "B1", "T1", "T2", "T3")


def pairs(arms: dict[str, Any]) -> list[tuple[str, str]]:
    """Every arm against B0, and every treated arm against B1 (the strong baseline)."""
    present = [a for a in ORDER if a in arms]
    return [(t, "B0") for t in present if t != "B0" and "B0" in arms] + [
        (t, "B1") for t in present if t not in ("B0", "B1") and "B1" in arms
    ]


def by_arm(results: list[dict[str, Any]]) -> dict[str, dict[int, dict[str, float]]]:
    arms: dict[str, dict[int, dict[str, float]]] = defaultdict(dict)
    for line in results:
        figures = {key: math.nan for key, *_ in SHOWN} | line["figures"]  # older results
        arms[line["arm"]][int(line["seed"])] = figures
    return dict(arms)


def _fmt(i: Interval, unit: str) -> str:
    if math.isnan(i.mean):
        return "n/a"
    scale = 100.0 if unit in ("share", "pp") else 1.0
    suffix = {"share": " %", "pp": " pp"}.get(unit, "")
    if math.isnan(i.low):
        return f"{i.mean * scale:.3g}{suffix}"
    return f"{i.mean * scale:.3g}{suffix} [{i.low * scale:.3g}, {i.high * scale:.3g}]"


def _limits(arms: dict[str, dict[int, dict[str, float]]], days: float) -> list[str]:
    runs = min((len(v) for v in arms.values()), default=0)
    lines = ["## Limits of this study", ""]
    if runs < 30 or days < 7:
        lines.append(
            f"- **Reduced**: {runs} run(s) per arm of {days:g} simulated day(s), not issue "
            "17's 30 runs of 7 days: the study was cut to what a shared two-core machine "
            "finishes in the time it had. The full study, with the commands and the time each "
            'takes, is in docs/adr/0029-city-offers-sweeps-shenzhen.md ("Running the full '
            'study").'
        )
    return [
        *lines,
        "- Availability forecasts (issue 17, item 5) are scored apart, in "
        "[outcome-forecasts.md](outcome-forecasts.md) (method: [forecasts.md](forecasts.md)).",
        "- Why the offer targets are missed, and which part of it lies in voltbook's offer "
        'engine: docs/adr/0029-city-offers-sweeps-shenzhen.md ("Findings").',
        "- Session lengths and the hourly arrival shape are assumed after published "
        "distributions, not fitted (see their sources below).",
        "",
    ]


def _fidelity(results: list[dict[str, Any]]) -> list[str]:
    lags = [r["max_lag_s"] for r in results]
    errors = sum(r["errors"] for r in results)
    requests = sum(r["requests"] for r in results)
    refusals: Counter[str] = Counter()
    for r in results:
        refusals.update(r.get("refusals", {}))
    arrivals: Counter[str] = Counter()
    redeemed: Counter[str] = Counter()
    for r in results:
        arrivals[r["arm"]] += int(r["figures"]["arrivals"])
        redeemed[r["arm"]] += int(r.get("redeemed", 0))
    offers = [
        "Sessions the server itself counted as redeeming the operator's offer (all runs): "
        + ", ".join(f"{arm} {redeemed[arm]}" for arm in ("T2", "T3") if arm in arrivals)
        + "."
    ] if {"T2", "T3"} & set(arrivals) else []  # fmt: skip
    return [
        *offers,
        f"Server fidelity: {requests} requests and charger sessions, {errors} failed on the "
        f"network; the engine fell behind the server's clock by at most "
        f"{max(lags):.0f} simulated seconds (median of runs {statistics.median(lags):.0f}).",
        "Drivers who finished (charged or gave up), all runs: "
        + ", ".join(f"{arm} {n}" for arm, n in sorted(arrivals.items()))
        + ". Every arm meets the same needs: **an arm with fewer left drivers waiting on "
        "voltbook's answers when the run ended**, and its failure and wait figures leave "
        "them out (see the unresolved share, where the results carry it).",
        "Why chargers refused a start (all runs): "
        + (", ".join(f"{why} {n}" for why, n in refusals.most_common()) or "never")
        + ".",
        "",
    ]


def discount_cost(arms: dict[str, dict[int, dict[str, float]]]) -> list[str]:
    """Discount given per session gained against B1, for the offer arms: the mean discount
    per charger-day over the paired mean of extra sessions per charger-day (its interval
    from the extra sessions' interval; undefined when that interval reaches zero)."""
    rows = []
    for arm in ("T2", "T3"):
        if arm not in arms or "B1" not in arms:
            continue
        seeds = sorted(set(arms[arm]) & set(arms["B1"]))
        key = "sessions_per_charger_day"
        extra = paired([arms[arm][s][key] for s in seeds], [arms["B1"][s][key] for s in seeds])
        cost = mean_interval([arms[arm][s]["discount_per_charger_day"] for s in seeds])
        if math.isnan(extra.low) or extra.low <= 0:
            shown = (f"undefined: extra sessions per charger-day {_fmt(extra, '')} "
                     "(the interval reaches zero or below)")  # fmt: skip
        else:
            shown = (f"{cost.mean / extra.mean:.3g} USD [{cost.mean / extra.high:.3g}, "
                     f"{cost.mean / extra.low:.3g}]")  # fmt: skip
        rows.append(f"| {arm} | {_fmt(cost, '')} | {_fmt(extra, '')} | {shown} |")
    if not rows:
        return []
    return [
        "## Discount cost per extra session (against B1)",
        "",
        "| arm | discount, USD per charger-day | extra sessions per charger-day | cost per "
        "extra session |",
        "|---|---|---|---|",
        *rows,
        "",
    ]


def write_report(
    results: list[dict[str, Any]], params: Parameters, out: Path, command: str
) -> Path:
    """Writes `out` (outcome.md) and its plots beside it, in `<stem>/`."""
    plots = out.parent / out.stem
    plots.mkdir(parents=True, exist_ok=True)
    arms = by_arm(results)
    first = results[0] if results else {}
    lines = [
        "# Outcome: what voltbook changes in a simulated city",
        "",
        f"Regenerate with `{command}` (issue 17; method: docs/adr/0021-city-simulation.md).",
        "",
        "## What was run",
        "",
        f"- City: {first.get('city', '?')}, {first.get('chargers', '?')} chargers.",
        f"- Engine: **{first.get('engine', '?')}** "
        + (
            "(a real voltbook server per run, chargers over OCPP, drivers over HTTP, "
            f"time ×{first.get('scale')})"
            if first.get("engine") == "server"
            else "(voltbook's rules in memory; no server)"
        ),
        f"- Arms: {', '.join(sorted(arms))}; runs per arm: "
        f"{', '.join(f'{a} {len(s)}' for a, s in sorted(arms.items()))}; "
        f"{first.get('days', '?')} simulated day(s) per run; demand ×{first.get('stress', 1):.2f} "
        f"({'stress level' if first.get('stress', 1) > 1 else 'mean level'}).",
        f"- Parameters: `src/voltbook/city/parameters.toml`, SHA-256 `{params.sha256}`"
        + (
            ""
            if all(r.get("parameters_sha256") == params.sha256 for r in results)
            else " (**some runs used another version of the file**)"
        ),
        "- Intervals are 95 % Student-t intervals over runs; differences are paired on the "
        "same seeds (common random numbers: the same drivers, needs and faults in every arm).",
        "",
    ]
    if first.get("engine") == "server":
        lines += _fidelity(results)
    lines += _limits(arms, float(first.get("days", 0)))
    for suffix, what in (
        ("memory", "The same arms on voltbook's rules in memory (no server; longer and more runs)"),
        ("dense", "The denser Shenzhen network"),
        ("sweeps", "The targets at other offer elasticities and no-show shares"),
    ):
        sibling = out.with_name(f"{out.stem}-{suffix}.md")
        if sibling.exists() and sibling != out:
            lines[-1:-1] = [f"- {what}: [{sibling.name}]({sibling.name})."]
    lines += [
        "## Each arm",
        "",
        "| metric | " + " | ".join(sorted(arms)) + " |",
        "|---|" + "---|" * len(arms),
    ]
    for key, label, unit, _more_is_better in SHOWN:
        cells = [
            _fmt(mean_interval([f[key] for f in arms[a].values() if not math.isnan(f[key])]), unit)
            for a in sorted(arms)
        ]
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    lines.append("")
    for key, label, _unit in (
        ("failed_share", "Failed arrivals", "share"),
        ("search_wait_mean_min", "Search + wait, mean", "min"),
        ("search_wait_p95_min", "Search + wait, p95", "min"),
        (
            "least_quarter_sessions_per_charger_day",
            "Sessions per charger per day, least-used quarter",
            "",
        ),
    ):
        values = {a: mean_interval([f[key] for f in arms[a].values()]) for a in sorted(arms)}
        name = f"{key}.svg"
        (plots / name).write_text(svg.bars(label, _unit, values), encoding="utf-8")
        lines.append(f"![{label}]({out.stem}/{name})")
    split = {
        a: {label: statistics.fmean(f[k] for f in arms[a].values()) for k, label in SPLIT}
        for a in sorted(arms)
    }
    (plots / "time_split.svg").write_text(svg.stacked("Charger time split", split), "utf-8")
    lines += [
        f"![Charger time split]({out.stem}/time_split.svg)",
        "",
        "## Paired differences",
        "",
        "| metric | " + " | ".join(f"{t} − {b}" for t, b in pairs(arms)) + " |",
        "|---|" + "---|" * len(pairs(arms)),
    ]
    best = "T3" if "T3" in arms else ("T1" if "T1" in arms else max(arms, default=""))
    no_help: list[str] = []
    for key, label, unit, more_is_better in SHOWN:
        cells = []
        for treated, base in pairs(arms):
            if treated not in arms or base not in arms:
                cells.append("n/a")
                continue
            seeds = sorted(set(arms[treated]) & set(arms[base]))
            diff = paired(
                [arms[treated][s][key] for s in seeds], [arms[base][s][key] for s in seeds]
            )
            base_mean = statistics.fmean(arms[base][s][key] for s in seeds) if seeds else math.nan
            relative = (
                f" ({diff.mean / base_mean:+.0%})"
                if base_mean and not math.isnan(base_mean) and not math.isnan(diff.mean)
                else ""
            )
            cells.append(_fmt(diff, "pp" if unit == "share" else unit) + relative)
            helped = diff.high < 0 if not more_is_better else diff.low > 0
            informative = not math.isnan(diff.low) and (diff.low, diff.high) != (0.0, 0.0)
            if informative and not helped and treated == best and base == "B1":
                no_help.append(
                    f"{label} ({best} − B1: {_fmt(diff, 'pp' if unit == 'share' else unit)})"
                )
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    lines += ["", *discount_cost(arms), f"## Issue 17's targets, checked on {best}", ""]
    if best != "T3":
        lines.append(
            f"The targets are set for T3 (reservations and offers), which this study did not "
            f"run; {best} stands in."
        )
        lines.append("")
    lines += ["| target | measured (95 % interval) | verdict |", "|---|---|---|"]
    lines += [f"| {name} | {shown} | {verdict} |" for name, shown, verdict in check(arms, best)]
    lines += ["", "## Where voltbook does not help (here)", ""]
    lines += [
        f"- {item}: the interval does not lie on the better side of zero." for item in no_help
    ] or ["- Every metric moved the right way with its interval."]
    lines += ["", "## Parameters", "", "| parameter | value | source |", "|---|---|---|"]
    lines += [
        f"| `{k}` | {params.values[k]} | {params.sources[k]} |" for k in sorted(params.values)
    ]
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return out
