"""Bodies of the operator API for id tokens and authorization lists."""

from __future__ import annotations

from datetime import datetime

from pydantic import AwareDatetime, BaseModel, Field

from voltbook.api.inputs import Input
from voltbook.idtokens.list_model import ListMode, ListRule, ListState
from voltbook.idtokens.lists import SyncReport
from voltbook.idtokens.model import TOKEN_PATTERN, IdToken, Standing, TokenKind

TokenField = Field(min_length=1, max_length=36, pattern=TOKEN_PATTERN)
DRIVER_ID_PATTERN = r"^[A-Za-z0-9-]{1,36}$"


class IdTokenIn(Input):
    token: str = TokenField
    kind: TokenKind = TokenKind.RFID
    driver_id: str | None = Field(
        default=None, min_length=1, max_length=36, pattern=DRIVER_ID_PATTERN
    )
    expires_at: AwareDatetime | None = Field(
        default=None, description="Refused from then on (leave out: never expires)"
    )


class IdTokenOut(BaseModel):
    token: str
    kind: TokenKind
    standing: Standing = Field(description="What a station is told now")
    blocked: bool
    driver_id: str | None
    expires_at: datetime | None
    created_at: datetime

    @classmethod
    def of(cls, token: IdToken, now: datetime) -> IdTokenOut:
        return cls(
            token=token.token,
            kind=token.kind,
            standing=token.standing(now),
            blocked=token.blocked,
            driver_id=token.driver_id,
            expires_at=token.expires_at,
            created_at=token.created_at,
        )


class IdTokenPage(BaseModel):
    items: list[IdTokenOut]
    next_cursor: str | None


class ExpireIn(Input):
    at: AwareDatetime | None = Field(default=None, description="Leave out: now")


class AssignIn(Input):
    driver_id: str | None = Field(
        default=None,
        min_length=1,
        max_length=36,
        pattern=DRIVER_ID_PATTERN,
        description="null: the token belongs to nobody",
    )


class ListRuleIo(Input):
    mode: ListMode = Field(
        description="all: every station holds every card; sites: only stations at site_ids; "
        "none: stations hold no list"
    )
    site_ids: list[int] = Field(default_factory=list, max_length=1000)

    def rule(self) -> ListRule:
        return ListRule(self.mode, frozenset(self.site_ids))

    @classmethod
    def of(cls, rule: ListRule) -> ListRuleIo:
        return cls(mode=rule.mode, site_ids=sorted(rule.site_ids))


class ListStateOut(BaseModel):
    station_id: str
    version: int | None = Field(description="The list version voltbook last set; null: unknown")
    entries: int
    outcome: str = Field(description="The station's answer to the last update, or Unavailable")
    synced_at: datetime | None

    @classmethod
    def of(cls, station_id: str, state: ListState | None) -> ListStateOut:
        if state is None:
            return cls(
                station_id=station_id, version=None, entries=0, outcome="Never", synced_at=None
            )
        return cls(
            station_id=station_id,
            version=state.version,
            entries=state.entries,
            outcome=state.outcome,
            synced_at=state.synced_at,
        )


class SyncOut(BaseModel):
    station_id: str
    outcome: str
    messages: int = Field(description="SendLocalList messages sent")
    version: int | None

    @classmethod
    def of(cls, report: SyncReport) -> SyncOut:
        return cls(
            station_id=report.station_id,
            outcome=report.outcome,
            messages=report.messages,
            version=report.version,
        )
