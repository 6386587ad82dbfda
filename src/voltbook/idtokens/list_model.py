"""Authorization lists (OCPP Local Authorization List) as plain data: which cards a station
should hold, and the updates that take it from what it holds to that, within its limits.

A full list that does not fit one message goes as a Full update with the first part, then
Differential updates with the rest (what CitrineOS does too); each message has its own,
higher version number, so a station that stopped part-way reports an older version and gets
a full update next time.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from voltbook.idtokens.model import IdToken, Standing, TokenKind

# A conservative guess of an entry's and a message's size in JSON, for BytesPerMessage
# (2.0.1): {"idToken":{"idToken":"…","type":"ISO14443"},"idTokenInfo":{"status":"Accepted"}}
ENTRY_BYTES = 96
MESSAGE_BYTES = 160


class ListMode(StrEnum):
    ALL = "all"  # every station holds every card
    SITES = "sites"  # only stations at the rule's sites hold lists (no site: none does)
    NONE = "none"  # no station holds a list (each is sent an empty one)


@dataclass(frozen=True, slots=True)
class ListRule:
    mode: ListMode = ListMode.NONE
    site_ids: frozenset[int] = frozenset()

    def covers(self, site_id: int | None) -> bool:
        if self.mode is ListMode.ALL:
            return True
        return self.mode is ListMode.SITES and site_id in self.site_ids


@dataclass(frozen=True, slots=True)
class ListLimits:
    """What a station says it can take; None: it did not say."""

    max_entries: int | None = None  # 1.6 LocalAuthListMaxLength
    per_message: int | None = None  # 1.6 SendLocalListMaxLength, 2.0.1 ItemsPerMessage
    bytes_per_message: int | None = None  # 2.0.1 BytesPerMessage
    max_token_length: int | None = None  # 1.6 id tags have at most 20 characters

    def fits(self, token: str) -> bool:
        return self.max_token_length is None or len(token) <= self.max_token_length


@dataclass(frozen=True, slots=True)
class ListEntry:
    token: str
    kind: TokenKind
    standing: Standing | None  # None in a differential update: remove the token


@dataclass(frozen=True, slots=True)
class ListUpdate:
    version: int
    full: bool
    entries: tuple[ListEntry, ...]


@dataclass(frozen=True, slots=True)
class HeldList:
    """A station's list as voltbook last set it."""

    version: int
    entries: dict[str, Standing]


def wanted_list(
    tokens: list[IdToken], rule: ListRule, site_id: int | None, limits: ListLimits, now: datetime
) -> dict[str, ListEntry]:
    """The entries a station should hold: every card (blocked and expired ones too, so the
    station refuses them while offline), accepted ones first when the station's memory is
    short."""
    if not rule.covers(site_id):
        return {}
    fitting = [t for t in tokens if limits.fits(t.token)]
    fitting.sort(key=lambda t: (t.standing(now) is not Standing.ACCEPTED, t.token))
    if limits.max_entries is not None:
        fitting = fitting[: limits.max_entries]
    return {t.token: ListEntry(t.token, t.kind, t.standing(now)) for t in fitting}


def plan_updates(
    held: HeldList | None,
    wanted: dict[str, ListEntry],
    station_version: int | None,
    limits: ListLimits,
    *,
    full: bool = False,
) -> list[ListUpdate]:
    """The messages that bring the station from `held` to `wanted`; a full update when asked,
    when voltbook does not know what it holds, or when the station's version is not the one
    voltbook last set. Nothing when it holds what it should."""
    base = held.version if held is not None else 0
    version = max(base, station_version or 0)
    if full or held is None or station_version != held.version:
        entries = sorted(wanted.values(), key=lambda e: e.token)
        parts = _split(entries, limits) or [[]]
        return [ListUpdate(version + i + 1, i == 0, tuple(part)) for i, part in enumerate(parts)]
    changes = [
        entry
        for token, entry in sorted(wanted.items())
        if held.entries.get(token) is not entry.standing
    ]
    changes += [
        ListEntry(token, TokenKind.RFID, None)
        for token in sorted(held.entries)
        if token not in wanted
    ]
    changes.sort(key=lambda e: e.token)
    return [
        ListUpdate(version + i + 1, False, tuple(part))
        for i, part in enumerate(_split(changes, limits))
    ]


def _split(entries: list[ListEntry], limits: ListLimits) -> list[list[ListEntry]]:
    per_message = max(1, limits.per_message) if limits.per_message else len(entries) or 1
    if limits.bytes_per_message:
        by_bytes = max(1, (limits.bytes_per_message - MESSAGE_BYTES) // ENTRY_BYTES)
        per_message = min(per_message, by_bytes)
    return [entries[i : i + per_message] for i in range(0, len(entries), per_message)]


def after(held: HeldList | None, update: ListUpdate) -> HeldList:
    """What the station holds once it accepted `update`."""
    entries = {} if update.full or held is None else dict(held.entries)
    for entry in update.entries:
        if entry.standing is None:
            entries.pop(entry.token, None)
        else:
            entries[entry.token] = entry.standing
    return HeldList(update.version, entries)


@dataclass(frozen=True, slots=True)
class ListState:
    """What an operator reads about a station's list."""

    station_id: str
    version: int | None
    entries: int
    outcome: str  # Accepted, Failed, NotSupported, VersionMismatch, Unavailable, …
    synced_at: datetime
