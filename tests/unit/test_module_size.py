"""No module of the server grows past 450 lines: a bigger one gets split along its seams."""

from __future__ import annotations

from pathlib import Path

import voltbook

LIMIT = 450


def test_no_module_in_src_is_over_the_limit() -> None:
    root = Path(voltbook.__file__).parent
    sizes = {
        str(path.relative_to(root)): len(path.read_text(encoding="utf-8").splitlines())
        for path in root.rglob("*.py")
    }
    assert {name: n for name, n in sizes.items() if n > LIMIT} == {}
