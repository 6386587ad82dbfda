"""Access tokens for accounts made straight in the database: each gets a sign-in row (every
request is checked against it) and a token signed with the server's own secret."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncConnection

from voltbook.core.clock import SystemClock
from voltbook.drivers.model import Principal, Role
from voltbook.security.tokens import JwtTokens
from voltbook.storage.tables import sign_ins


async def tokens_for(
    connection: AsyncConnection, secret: str, driver_ids: list[str], role: Role = Role.DRIVER
) -> list[str]:
    """One signed-in access token per account (valid for an hour)."""
    now = datetime.now(UTC)
    await connection.execute(
        sign_ins.insert(),
        [{"id": f"si-{d}", "driver_id": d, "created_at": now} for d in driver_ids],
    )
    tokens = JwtTokens(secret, 3600, SystemClock())
    return [tokens.issue(Principal(d, role, f"si-{d}"))[0] for d in driver_ids]
