"""Where the domain areas meet (see docs/adr/0005).

- `events.py`: THE event table, one row per event, listing the handlers that act on it.
- one module per consuming area (`alarms.py`, `reservations.py`, `offers.py`, `notices.py`,
  `drivers.py`, `recommendations.py`, `live.py`, `charging.py`, `idtokens.py`, `history.py`,
  `telemetry.py`): that area's reactions to other areas' events and the bridges (adapters of
  other areas' use cases to its ports) it consumes.
- `background.py`: every loop that runs beside the server.
- `table.py`, `failures.py`: how rows are subscribed, and what becomes of a failing handler.

Bootstrap builds the services, passes every collaborator to its constructor, and subscribes the
table; nothing here is set after construction.
"""
