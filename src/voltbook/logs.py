"""Structured logs (structlog). Nothing logged may hold a secret or a coordinate."""

from __future__ import annotations

import logging
import sys
from collections.abc import MutableMapping
from typing import Any

import structlog

_REDACT = frozenset(
    {"password", "token", "access_token", "authorization", "secret"}
    | {"lat", "lon", "latitude", "longitude", "accuracy_m", "position"}
)


def _redact(_logger: Any, _name: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    for key in list(event):
        if key.lower() in _REDACT:
            event[key] = "[redacted]"
    return event


def _stderr_logger(*_args: Any) -> structlog.PrintLogger:
    return structlog.PrintLogger(file=sys.stderr)


def configure_logging(level: str = "info", json: bool = False) -> None:
    """Route structlog and the standard library through one renderer."""
    renderer: structlog.types.Processor = (
        structlog.processors.JSONRenderer() if json else structlog.dev.ConsoleRenderer(colors=False)
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            _redact,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(
            logging.getLevelNamesMapping().get(level.upper(), logging.INFO)
        ),
        # Looked up on every use: whatever sys.stderr is now (tests swap it), never a stale one.
        logger_factory=_stderr_logger,
        cache_logger_on_first_use=False,
    )
    # The SQLite driver logs every statement with its parameters (positions, hashes) at DEBUG.
    logging.getLogger("aiosqlite").setLevel(logging.INFO)
