"""Authorization lists (OCPP Local Authorization List) as plain data: which cards a station
should hold, and the updates that take it from what it holds to that, within its limits.

A full list that does not fit one message goes as a Full update with the first part, then
Differential updates with the rest (what CitrineOS does too); each message has its own,
higher version number, so a station that stopped part-way reports an older version and gets
a full update next time. A message holds at most the station's number of entries
(ItemsPerMessage, SendLocalListMaxLength) and, where the station says it (2.0.1
BytesPerMessage), at most that many bytes as sent: each message is measured, not estimated.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum

from voltbook.idtokens.model import IdToken, Standing, TokenKind


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


# The bytes of the message that carries an update, as the station receives it (the whole
# frame); the OCPP gateway knows how a message is written, this area only compares sizes.
MessageBytes = Callable[[ListUpdate], int]


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
    size: MessageBytes,
    *,
    full: bool = False,
) -> list[ListUpdate]:
    """The messages that bring the station from `held` to `wanted`; a full update when asked,
    when voltbook does not know what it holds, or when the station's version is not the one
    voltbook last set. Nothing when it holds what it should. `size` measures a message for
    the station's byte limit."""
    base = held.version if held is not None else 0
    version = max(base, station_version or 0)
    if full or held is None or station_version != held.version:
        entries = sorted(wanted.values(), key=lambda e: e.token)
        return _split(entries, limits, size, version + 1, full=True)
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
    return _split(changes, limits, size, version + 1, full=False) if changes else []


def _split(
    entries: list[ListEntry], limits: ListLimits, size: MessageBytes, first: int, *, full: bool
) -> list[ListUpdate]:
    """`entries` in order, in as few messages as the limits allow: versions from `first` on,
    the first message a full update when `full` (a full list of nothing is one message).
    Each message takes as many of the next entries as fit; an entry too big for any message
    goes alone (the station refuses it, and says so)."""
    per_message = limits.per_message or max(1, len(entries))
    updates: list[ListUpdate] = []
    start = 0
    while start < len(entries) or not updates:
        version, whole = first + len(updates), full and not updates
        rest = min(per_message, len(entries) - start)
        if limits.bytes_per_message is not None and rest > 1:
            part = entries[start : start + rest]
            rest = _most_that_fit(
                part, ListUpdate(version, whole, ()), size, limits.bytes_per_message
            )
        updates.append(ListUpdate(version, whole, tuple(entries[start : start + rest])))
        start += rest
    return updates


def _most_that_fit(
    entries: list[ListEntry], empty: ListUpdate, size: MessageBytes, bound: int
) -> int:
    """How many of `entries` (at least one) a message like `empty` holds within `bound`
    bytes. A message of n entries that fits means every shorter one fits: the count doubles,
    then the gap halves, so a message of k entries is measured about 2·log2(k) times."""

    def fits(count: int) -> bool:
        return size(replace(empty, entries=tuple(entries[:count]))) <= bound

    good, probe = 1, 2
    while probe <= len(entries) and fits(probe):
        good, probe = probe, probe * 2
    bad = min(probe, len(entries) + 1)
    while bad - good > 1:
        middle = (good + bad) // 2
        if fits(middle):
            good = middle
        else:
            bad = middle
    return good


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
