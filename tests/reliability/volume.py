"""How much of a long variant runs, and what a process holds in memory.

`VOLTBOOK_LONG_SHARE` (default 1) scales the repetitions of every `long` variant, so that a
stated fraction can run where the whole does not fit (e.g. 0.1 for a tenth); the short
variants ignore it."""

from __future__ import annotations

import os
from pathlib import Path


def long_share(repetitions: int) -> int:
    """`repetitions` scaled by VOLTBOOK_LONG_SHARE, at least one."""
    share = float(os.environ.get("VOLTBOOK_LONG_SHARE", "1"))
    return max(1, round(repetitions * share))


def resident_mib() -> float:
    """This process's resident set size (VmRSS), in MiB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS in /proc/self/status")
