"""Whether a command would interrupt charging: the console warns before sending one."""

from __future__ import annotations

from voltbook.stations.commands import Command, RemoteStop, Reset, UnlockConnector


def interrupted_evses(command: Command, version: str | None, running: dict[int, str]) -> set[int]:
    """The EVSEs whose running session the command would end. `running` maps each EVSE with
    a session to the id the station knows that session by.

    A hard reset ends every session; a soft one too on 1.6 (the station stops its
    transactions first), while 2.0.1's OnIdle reset waits for them to end. Unlocking a
    connector ends its session; RemoteStop ends the one it names. Taking an EVSE out of
    service is only scheduled while it charges, so it interrupts nothing."""
    match command:
        case Reset(hard=hard):
            return set(running) if hard or (version or "1.6").endswith("1.6") else set()
        case UnlockConnector(evse_id=evse):
            return {evse} & set(running)
        case RemoteStop(transaction_id=reference):
            return {evse for evse, ref in running.items() if ref == reference}
    return set()
