"""The Grafana dashboard (docs/grafana/voltbook-dashboard.json) charts only metrics the
server serves: every metric its panels' PromQL names is on a running server's /metrics (a
counter as <name>_total, a histogram as <name>_bucket, _sum and _count)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import httpx

DASHBOARD = Path(__file__).parents[2] / "docs" / "grafana" / "voltbook-dashboard.json"
# PromQL words that are no metric: aggregation modifiers, set and comparison keywords.
KEYWORDS = frozenset(
    {"by", "without", "on", "ignoring", "group_left", "group_right", "and", "or", "unless"}
    | {"bool", "offset", "inf", "nan"}
)


def metric_names(expr: str) -> set[str]:
    """The metric names a PromQL expression reads: what is left once strings, Grafana
    variables, label matchers, ranges and label lists are gone, and is no function call
    or keyword."""
    expr = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)
    expr = re.sub(r"\$\{?\w+\}?", "", expr)
    expr = re.sub(r"\{[^}]*\}|\[[^\]]*\]", "", expr)
    expr = re.sub(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", "", expr)
    names = set()
    for word in re.finditer(r"(?<![\w.])[A-Za-z_:][\w:]*", expr):
        calls = expr[word.end() :].lstrip().startswith("(")
        if not calls and word[0].lower() not in KEYWORDS:
            names.add(word[0])
    return names


def served_names(exposition: str) -> set[str]:
    """The sample names /metrics serves, from its # TYPE lines (so also families that have
    counted nothing yet)."""
    names = set()
    for name, kind in re.findall(r"^# TYPE (\S+) (\S+)$", exposition, re.MULTILINE):
        if kind == "histogram":
            names |= {f"{name}_bucket", f"{name}_sum", f"{name}_count"}
        elif kind == "summary":
            names |= {name, f"{name}_sum", f"{name}_count"}
        else:  # counters are typed by their _total name; gauges and untyped by their own
            names.add(name)
    return names


def test_the_metric_names_of_an_expression_are_read() -> None:
    expr = (
        'histogram_quantile(0.95, sum by (le, route) (rate(voltbook_x_bucket{route=~"/a|b"}'
        "[$__rate_interval]))) / ignoring (le) sum(voltbook_y_total offset 5m) > bool 0"
    )
    assert metric_names(expr) == {"voltbook_x_bucket", "voltbook_y_total"}


async def test_every_metric_the_dashboard_charts_is_served(client: httpx.AsyncClient) -> None:
    dashboard = json.loads(DASHBOARD.read_text("utf-8"))
    charted = {
        name: panel["title"]
        for panel in dashboard["panels"]
        for target in panel.get("targets", [])
        for name in metric_names(target["expr"])
    }
    assert "voltbook_background_errors_total" in charted
    assert "voltbook_ocpp_messages_total" in charted
    served = served_names((await client.get("/metrics")).text)
    assert {name: title for name, title in charted.items() if name not in served} == {}
