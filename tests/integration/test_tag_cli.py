"""`voltbook tag …` manages cards on both databases, as the operator API does."""

from __future__ import annotations

import asyncio
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncEngine
from typer.testing import CliRunner, Result

from tests.unit.fakes import FakeClock
from voltbook.audit.model import AuditFilter
from voltbook.cli import app as cli
from voltbook.storage.unit_of_work import SqlUnitOfWork


async def tag(database_url: str, data_dir: Path, *args: str) -> Result:
    return await asyncio.to_thread(
        CliRunner().invoke,
        cli,
        ["tag", *args],
        env={"VOLTBOOK_DATABASE_URL": database_url, "VOLTBOOK_DATA_DIR": str(data_dir)},
    )


async def test_a_card_is_added_blocked_unblocked_expired_and_listed(
    engine: AsyncEngine, database_url: str, tmp_path: Path
) -> None:
    added = await tag(database_url, tmp_path, "add", "04CAFE", "--expires", "2099-01-01T00:00Z")
    assert added.exit_code == 0, added.output
    assert added.stdout.split("\t")[:3] == ["04CAFE", "rfid", "Accepted"]
    assert (await tag(database_url, tmp_path, "add", "APP-1", "--kind", "app")).exit_code == 0

    twice = await tag(database_url, tmp_path, "add", "04CAFE")
    assert twice.exit_code == 1
    assert "registered already" in twice.output

    assert "\tBlocked\t" in (await tag(database_url, tmp_path, "block", "04CAFE")).stdout
    blocked = await tag(database_url, tmp_path, "list", "--standing", "blocked")
    assert [line.split("\t")[0] for line in blocked.stdout.splitlines()] == ["04CAFE"]
    assert "\tAccepted\t" in (await tag(database_url, tmp_path, "unblock", "04CAFE")).stdout
    assert "\tExpired\t" in (await tag(database_url, tmp_path, "expire", "04CAFE")).stdout

    nobody = await tag(database_url, tmp_path, "assign", "04CAFE", "no-such-driver")
    assert nobody.exit_code == 1
    assert "does not exist" in nobody.output
    listed = await tag(database_url, tmp_path, "list", "--kind", "app")
    assert [line.split("\t")[0] for line in listed.stdout.splitlines()] == ["APP-1"]
    naive = await tag(database_url, tmp_path, "expire", "APP-1", "--at", "2027-01-01T00:00")
    assert naive.exit_code == 1
    assert "offset" in naive.output


async def test_each_change_on_the_command_line_is_in_the_audit_log_done_or_refused(
    engine: AsyncEngine, database_url: str, tmp_path: Path
) -> None:
    assert (await tag(database_url, tmp_path, "add", "04BEEF")).exit_code == 0
    assert (await tag(database_url, tmp_path, "block", "04BEEF")).exit_code == 0
    assert (await tag(database_url, tmp_path, "block", "04BEEF")).exit_code == 1  # twice
    assert (await tag(database_url, tmp_path, "list")).exit_code == 0  # a read: not kept
    async with SqlUnitOfWork(engine, FakeClock(), read_only=True) as uow:
        entries = await uow.audit.find(AuditFilter(), None, 10)
    assert [(e.action, e.target, e.status_code, e.outcome) for e in reversed(entries)] == [
        ("voltbook tag add", "token=04BEEF", 200, "done"),
        ("voltbook tag block", "token=04BEEF", 200, "done"),
        ("voltbook tag block", "token=04BEEF", 409, "conflict"),
    ]
    assert {(e.actor_id[:4], e.actor_role) for e in entries} == {("cli:", "cli")}
    assert entries[-1].answer is not None
    assert '"blocked":false' in entries[-1].answer
