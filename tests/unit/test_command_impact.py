"""Which commands end a running session (stations/impact.py): the console warns first."""

from __future__ import annotations

from voltbook.stations.commands import (
    ChangeAvailability,
    ChangeConfiguration,
    ClearCache,
    RemoteStop,
    Reset,
    UnlockConnector,
)
from voltbook.stations.impact import interrupted_evses

RUNNING = {1: "101", 2: "tx-2"}


def test_a_hard_reset_ends_every_session_and_a_soft_one_only_on_16() -> None:
    assert interrupted_evses(Reset(hard=True), "2.0.1", RUNNING) == {1, 2}
    assert interrupted_evses(Reset(hard=False), "1.6", RUNNING) == {1, 2}
    assert interrupted_evses(Reset(hard=False), "2.0.1", RUNNING) == set()  # OnIdle waits


def test_unlocking_or_stopping_ends_that_session_only() -> None:
    assert interrupted_evses(UnlockConnector(2), "1.6", RUNNING) == {2}
    assert interrupted_evses(UnlockConnector(3), "1.6", RUNNING) == set()
    assert interrupted_evses(RemoteStop("101"), "1.6", RUNNING) == {1}


def test_settings_and_availability_changes_interrupt_nothing() -> None:
    for command in (ChangeAvailability(False, 1), ChangeConfiguration("K", "V"), ClearCache()):
        assert interrupted_evses(command, "1.6", RUNNING) == set()
    assert interrupted_evses(Reset(hard=True), "1.6", {}) == set()
