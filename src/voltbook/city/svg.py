"""Small bar charts with 95 % interval whiskers, written as SVG by hand (no plotting
dependency): one group of bars per metric, one bar per arm."""

from __future__ import annotations

import math
from html import escape

from voltbook.city.metrics import Interval

COLOURS = ("#7f7f7f", "#1f77b4", "#2ca02c", "#ff7f0e", "#9467bd")


def bars(title: str, unit: str, values: dict[str, Interval], width: int = 420) -> str:
    """One bar per arm (mean) with its interval; nan values are left out."""
    shown = {k: v for k, v in values.items() if not math.isnan(v.mean)}
    height, left, top, bottom = 240, 50, 30, 40
    highs = [v.high if not math.isnan(v.high) else v.mean for v in shown.values()]
    top_value = max([*highs, 1e-9]) * 1.1
    plot_h = height - top - bottom
    step = (width - left - 10) / max(1, len(shown))
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'font-family="sans-serif" font-size="12">',
        f'<text x="{width / 2}" y="18" text-anchor="middle" font-weight="bold">'
        f"{escape(title)}</text>",
        f'<line x1="{left}" y1="{top + plot_h}" x2="{width - 10}" y2="{top + plot_h}" '
        'stroke="black"/>',
        f'<text x="8" y="{top + 10}">{escape(unit)}</text>',
        f'<text x="8" y="{top + plot_h}">0</text>',
        f'<text x="8" y="{top + 24}">{top_value:.3g}</text>',
    ]
    for n, (arm, value) in enumerate(shown.items()):
        x = left + n * step + step * 0.2
        w = step * 0.6
        h = plot_h * value.mean / top_value
        y = top + plot_h - h
        parts.append(
            f'<rect x="{x:.1f}" y="{y:.1f}" width="{w:.1f}" height="{max(h, 0):.1f}" '
            f'fill="{COLOURS[n % len(COLOURS)]}"/>'
        )
        if not math.isnan(value.low):
            y_low = top + plot_h - plot_h * max(value.low, 0) / top_value
            y_high = top + plot_h - plot_h * value.high / top_value
            cx = x + w / 2
            parts.append(
                f'<line x1="{cx:.1f}" y1="{y_low:.1f}" x2="{cx:.1f}" y2="{y_high:.1f}" '
                'stroke="black"/>'
            )
        parts.append(
            f'<text x="{x + w / 2:.1f}" y="{top + plot_h + 16}" text-anchor="middle">'
            f"{escape(arm)}</text>"
        )
        parts.append(
            f'<text x="{x + w / 2:.1f}" y="{max(y - 4, top):.1f}" text-anchor="middle" '
            f'font-size="10">{value.mean:.3g}</text>'
        )
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def stacked(title: str, shares: dict[str, dict[str, float]], width: int = 420) -> str:
    """One stacked bar per arm: the charger time split (shares adding up to 1)."""
    height, left, top, bottom = 260, 50, 30, 90
    plot_h = height - top - bottom
    step = (width - left - 10) / max(1, len(shares))
    kinds = list(next(iter(shares.values())).keys()) if shares else []
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'font-family="sans-serif" font-size="12">',
        f'<text x="{width / 2}" y="18" text-anchor="middle" font-weight="bold">'
        f"{escape(title)}</text>",
    ]
    for n, (arm, split) in enumerate(shares.items()):
        x, w, y = left + n * step + step * 0.2, step * 0.6, float(top + plot_h)
        for k, kind in enumerate(kinds):
            h = plot_h * split[kind]
            y -= h
            parts.append(
                f'<rect x="{x:.1f}" y="{y:.1f}" width="{w:.1f}" height="{h:.1f}" '
                f'fill="{COLOURS[k % len(COLOURS)]}"/>'
            )
        parts.append(
            f'<text x="{x + w / 2:.1f}" y="{top + plot_h + 16}" text-anchor="middle">'
            f"{escape(arm)}</text>"
        )
    for k, kind in enumerate(kinds):
        y = top + plot_h + 32 + 11 * k
        parts.append(f'<rect x="{left}" y="{y - 9}" width="10" height="10" '
                     f'fill="{COLOURS[k % len(COLOURS)]}"/>')  # fmt: skip
        parts.append(f'<text x="{left + 16}" y="{y}">{escape(kind)}</text>')
    parts.append("</svg>")
    return "\n".join(parts) + "\n"
