"""A 2.0.1 report's NotifyReport parts put together: in seqNo order, once every part came;
a part sent again counts once; bounds and a closed connection end the wait."""

from __future__ import annotations

from typing import Any

import pytest

from voltbook.core.errors import Unavailable, UpstreamFailed
from voltbook.ocpp.reports import ReportAssembly


def part(seq_no: int, tbc: bool, *names: str, request_id: int = 7) -> dict[str, Any]:
    return {
        "requestId": request_id,
        "seqNo": seq_no,
        "tbc": tbc,
        "generatedAt": "2026-12-07T05:00:00Z",
        "reportData": [{"component": {"name": n}, "variable": {"name": "V"}} for n in names],
    }


async def test_parts_are_put_together_in_order_once_all_came() -> None:
    reports = ReportAssembly()
    whole = reports.expect(7)
    reports.part(part(2, False, "C"))
    reports.part(part(0, True, "A1", "A2"))
    assert not whole.done()  # part 1 is still missing
    reports.part(part(0, True, "again"))  # sent twice: the first one counts
    reports.part(part(1, True, "B"))
    names = [i["component"]["name"] for i in await whole]
    assert names == ["A1", "A2", "B", "C"]


async def test_a_part_of_a_report_nobody_waits_for_is_dropped() -> None:
    reports = ReportAssembly()
    reports.part(part(0, False, "A", request_id=99))
    whole = reports.expect(7)
    reports.part(part(0, False, "B"))
    assert [i["component"]["name"] for i in await whole] == ["B"]


async def test_bounds_and_a_closed_connection_end_the_wait() -> None:
    reports = ReportAssembly(max_items=3, max_parts=10)
    too_many = reports.expect(7)
    reports.part(part(0, True, "A", "B", "C", "D"))
    with pytest.raises(UpstreamFailed):
        await too_many
    endless = reports.expect(8)
    reports.part(part(10, True, "A", request_id=8))
    with pytest.raises(UpstreamFailed):
        await endless
    gone = reports.expect(9)
    reports.gone()
    with pytest.raises(Unavailable):
        await gone
