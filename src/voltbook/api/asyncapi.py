"""The live channel (WS /api/v1/live) described as an AsyncAPI 3.0 document, served beside
the OpenAPI one at /asyncapi.json. docs/live.md tells the same in prose."""

from __future__ import annotations

from typing import Any

_ID = {"type": ["string", "integer"], "description": "Echoed in the answer"}
_SEQ = {"type": "integer", "minimum": 1, "description": "The driver's notice number"}


def _obj(kind: str, description: str, /, **properties: Any) -> dict[str, Any]:
    required = [name for name, spec in properties.items() if not spec.pop("optional", False)]
    return {
        "name": kind,
        "summary": description,
        "payload": {
            "type": "object",
            "required": ["type", *required],
            "properties": {"type": {"const": kind}, **properties},
        },
    }


def _messages() -> tuple[dict[str, Any], dict[str, Any]]:
    """(app → server, server → app) messages."""
    number = {"type": "number"}
    app = {
        "auth": _obj(
            "auth",
            "First message from a browser (within 10 s); a bad token closes with 4401",
            token={"type": "string"},
            since={"type": "integer", "optional": True, "description": "Last seq seen"},
        ),
        "resume": _obj(
            "resume", "Replay every kept notice after `since`", since={"type": "integer"}
        ),
        "ack": _obj("ack", "The app has shown notice `seq`", seq=dict(_SEQ)),
        "subscribe": _obj(
            "subscribe",
            "Follow `reservations`, `station:{id}` or `area:{lat},{lon},{radius_m}`",
            topic={"type": "string"},
            id=dict(_ID, optional=True),
        ),
        "unsubscribe": _obj(
            "unsubscribe",
            "Stop following a topic",
            topic={"type": "string"},
            id=dict(_ID, optional=True),
        ),
        "location": _obj(
            "location",
            "The driver's position (kept only with consent); answers query.location by `id`",
            lat=dict(number, minimum=-90, maximum=90),
            lon=dict(number, minimum=-180, maximum=180),
            accuracy_m=dict(number, optional=True),
            id=dict(_ID, optional=True),
        ),
        "vehicle": _obj(
            "vehicle",
            "A vehicle's state; answers query.vehicle by `id`",
            vehicle_id={"type": "string"},
            soc_percent=dict(number, minimum=0, maximum=100, optional=True),
            range_km=dict(number, minimum=0, optional=True),
            id=dict(_ID, optional=True),
        ),
        "ping": _obj("ping", "Answered with pong", id=dict(_ID, optional=True)),
    }
    server = {
        "welcome": _obj(
            "welcome", "Signed in; `seq` is the newest notice number",
            driver_id={"type": "string"}, seq={"type": "integer"},
        ),
        "query.location": _obj("query.location", "Where are you? Answer with `location`", id=_ID),
        "query.vehicle": _obj(
            "query.vehicle", "Your vehicle's state? Answer with `vehicle`",
            id=_ID, vehicle_id={"type": "string", "optional": True},
        ),
        "reservation.updated": _obj(
            "reservation.updated",
            "A booking changed: created, held, moved, starting_soon, fulfilled, expired, "
            "cancelled, failed (with alternatives)",
            seq=dict(_SEQ), event={"type": "string"}, reservation={"type": "object"},
            reason={"type": "string", "optional": True},
            alternatives={"type": "array", "optional": True},
        ),
        "offer": _obj(
            "offer", "An offer for the driver",
            seq=dict(_SEQ), delivery_id={"type": "integer"}, offer_id={"type": "integer"},
            title={"type": "string"}, kind={"enum": ["percent_off", "price_per_kwh"]},
            value=number, station_id={"type": ["string", "null"]},
            trigger={"type": "string"}, ends_at={"type": "string", "format": "date-time"},
        ),
        "station.status": _obj(
            "station.status", "A followed connector's status (seq only when replayed)",
            station_id={"type": "string"}, evse_id={"type": "integer"},
            connector_id={"type": "integer"}, status={"type": "string"},
            at={"type": "string", "format": "date-time"},
            seq=dict(_SEQ, optional=True),
        ),
        "alarm": _obj("alarm", "Operators: an alarm raised or cleared", seq=dict(_SEQ)),
        "subscribed": _obj("subscribed", "Following", topic={"type": "string"}),
        "unsubscribed": _obj("unsubscribed", "No longer following", topic={"type": "string"}),
        "ok": _obj("ok", "A report was kept", id=_ID),
        "pong": _obj("pong", "Answer to ping"),
        "error": _obj(
            "error", "A refused message; the socket stays open",
            code={"type": "string"}, detail={"type": "string"}, id=dict(_ID, optional=True),
        ),
    }  # fmt: skip
    return app, server


def asyncapi_document(version: str) -> dict[str, Any]:
    app, server = _messages()
    both = app | server
    ref = "#/channels/live/messages/"
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "voltbook live channel",
            "version": version,
            "description": (
                "The app end: notices in sequence with replay, topics, the app's reports "
                "and the server's queries. JSON text frames, each with a `type`."
            ),
        },
        "servers": {
            "voltbook": {"host": "localhost:8000", "protocol": "ws", "pathname": "/api/v1/live"}
        },
        "channels": {
            "live": {
                "address": "/api/v1/live",
                "messages": both,
                "bindings": {"ws": {"method": "GET"}},
            }
        },
        "operations": {
            "appSends": {
                "action": "receive",
                "channel": {"$ref": "#/channels/live"},
                "messages": [{"$ref": ref + name} for name in app],
            },
            "serverSends": {
                "action": "send",
                "channel": {"$ref": "#/channels/live"},
                "messages": [{"$ref": ref + name} for name in server],
            },
        },
    }
