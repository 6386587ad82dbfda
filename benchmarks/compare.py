"""Two checkouts of voltbook, the same benchmarks, interleaved: did a change keep its ratios?

    python -m benchmarks.compare --before OLD --after NEW [--rounds 2] [--names a,b] \\
        [--own-harness a,b] [-- options passed to every benchmark run]

OLD and NEW are checkouts. Both run with this interpreter and its installed dependencies
(the same pinned versions), each importing `voltbook` from its own `src/` (`PYTHONPATH`).
For each benchmark, round after round, the benchmark runs once on OLD and once on NEW
(before, after, before, after, ...) in separate processes, so that whatever else the
machine does in that time hits both alike. By default both run the benchmark code of NEW
(its `benchmarks/`): the figures are measured the same way. Benchmarks named in
`--own-harness` run each checkout's own benchmark code instead (when NEW's no longer runs
on OLD's API).

The figure compared is each row's ratio to its first ceiling (the ceiling measured in the
same process); the table gives the median of the rounds for each side, their change, the
range of the `other %` column (CPU other processes used meanwhile, % of one core), and
whether the change stays within `--tolerance` (default 10 %) of the ratio before.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

Key = tuple[str, str, str, str, int]  # benchmark, database, data set, layer, concurrency


def _run_one(
    side: Path, harness: Path, name: str, extra: list[str], out: Path
) -> dict[Key, dict[str, Any]]:
    command = [sys.executable, "-m", "benchmarks", name, "--style", "markdown", "--json", str(out)]
    # The checkout's own src/ first; a PYTHONPATH of the caller's (a measuring aid, say)
    # stays after it, for both sides alike.
    paths = [str(side / "src"), *filter(None, [os.environ.get("PYTHONPATH")])]
    env = os.environ | {"PYTHONPATH": os.pathsep.join(paths)}
    started = time.perf_counter()
    done = subprocess.run(
        [*command, *extra], check=False, cwd=harness, env=env, capture_output=True, text=True
    )
    took = time.perf_counter() - started
    if done.returncode != 0 and not out.exists():
        tail = "\n".join(done.stderr.splitlines()[-15:])
        print(f"  {side.name}: {name} failed ({done.returncode}):\n{tail}", file=sys.stderr)
        return {}
    print(f"  {side.name}: {name} in {took:.0f} s", file=sys.stderr, flush=True)
    rows: dict[Key, dict[str, Any]] = {}
    for row in json.loads(out.read_text(encoding="utf-8")).get(name, []):
        # A layer's name may carry figures after a colon ("status change 1: last after ...").
        layer = str(row["layer"]).split(":")[0]
        key = (name, row["database"], row["dataset"], layer, int(row["concurrency"]))
        rows[key] = row
    return rows


def _ratio(row: dict[str, Any]) -> float | None:
    ceilings = row.get("ceilings") or []
    return float(ceilings[0]["ratio"]) if ceilings else None


def compare(
    before: Path,
    after: Path,
    names: list[str],
    rounds: int,
    own: set[str],
    extra: list[str],
    tolerance: float,
) -> list[dict[str, Any]]:
    runs: dict[str, list[dict[Key, dict[str, Any]]]] = {"before": [], "after": []}
    with tempfile.TemporaryDirectory(prefix="voltbook-compare-") as tmp:
        for name in names:
            for n in range(rounds):
                print(f"{name}, round {n + 1} of {rounds}", file=sys.stderr, flush=True)
                for label, side in (("before", before), ("after", after)):
                    harness = side if name in own else after
                    out = Path(tmp) / f"{name}-{label}-{n}.json"
                    runs[label].append(_run_one(side, harness, name, extra, out))
    keys: list[Key] = []
    for result in runs["before"] + runs["after"]:
        keys += [k for k in result if k not in keys]
    lines = []
    for key in keys:
        side_rows = {
            label: [r[key] for r in results if key in r] for label, results in runs.items()
        }
        ratios = {
            label: [x for x in (_ratio(r) for r in rows) if x is not None]
            for label, rows in side_rows.items()
        }
        if not ratios["before"] or not ratios["after"]:
            continue
        old, new = statistics.median(ratios["before"]), statistics.median(ratios["after"])
        change = new / old - 1.0 if old > 0 else float("nan")
        others = [
            r["others_cpu_percent"]
            for rows in side_rows.values()
            for r in rows
            if r.get("others_cpu_percent") is not None
        ]
        ceiling = (side_rows["after"][0].get("ceilings") or [{}])[0].get("name", "")
        lines.append(
            {
                "benchmark": key[0],
                "database": key[1],
                "dataset": key[2],
                "layer": key[3],
                "concurrency": key[4],
                "ceiling": ceiling,
                "before": ratios["before"],
                "after": ratios["after"],
                "median_before": old,
                "median_after": new,
                "change": change,
                "others": (min(others), max(others)) if others else None,
                "within": change >= -tolerance,
            }
        )
    return lines


def print_markdown(lines: list[dict[str, Any]]) -> None:
    print(
        "| benchmark | database | data set | layer | conc | ceiling | ratio before (rounds) "
        "| ratio after (rounds) | median before → after | change | other % | within |"
    )
    print("|" + "---|" * 5 + "---|---|---|---|---:|---|---|")
    for line in lines:
        others = line["others"]
        print(
            f"| {line['benchmark']} | {line['database']} | {line['dataset']} | {line['layer']} "
            f"| {line['concurrency']} | {line['ceiling']} "
            f"| {', '.join(f'{x:.3f}' for x in line['before'])} "
            f"| {', '.join(f'{x:.3f}' for x in line['after'])} "
            f"| {line['median_before']:.3f} → {line['median_after']:.3f} "
            f"| {line['change']:+.0%} "
            f"| {f'{others[0]:.0f}–{others[1]:.0f}' if others else ''} "
            f"| {'yes' if line['within'] else '**no**'} |"
        )


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    extra: list[str] = []
    if "--" in argv:
        extra = argv[argv.index("--") + 1 :]
        argv = argv[: argv.index("--")]
    parser = argparse.ArgumentParser(prog="python -m benchmarks.compare", description=__doc__)
    parser.add_argument("--before", type=Path, required=True, help="checkout before the change")
    parser.add_argument("--after", type=Path, required=True, help="checkout after the change")
    parser.add_argument("--rounds", type=int, default=2, help="runs of each side (default 2)")
    parser.add_argument("--names", default="nearby,ocpp_ingest,reservations,fanout,geofence")
    parser.add_argument(
        "--own-harness", default="", help="benchmarks each checkout runs with its own code"
    )
    parser.add_argument("--tolerance", type=float, default=0.10, help="(default 0.10)")
    parser.add_argument("--json", type=Path, help="also write the comparison here")
    args = parser.parse_args(argv)
    lines = compare(
        args.before.resolve(),
        args.after.resolve(),
        [n for n in args.names.split(",") if n],
        args.rounds,
        {n for n in args.own_harness.split(",") if n},
        extra,
        args.tolerance,
    )
    print_markdown(lines)
    if args.json:
        args.json.write_text(json.dumps(lines, indent=2), encoding="utf-8")
    return 0 if all(line["within"] for line in lines) else 1


if __name__ == "__main__":
    sys.exit(main())
