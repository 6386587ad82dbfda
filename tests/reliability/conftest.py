"""The reliability suite runs against real servers, with the end-to-end tests' fixtures."""

from __future__ import annotations

from tests.e2e.conftest import (
    app_overrides,
    base,
    client,
    http,
    operator,
    own_database,
    route_only,
    served,
    server_url,
    services,
    template_database,
)

__all__ = [
    "app_overrides",
    "base",
    "client",
    "http",
    "operator",
    "own_database",
    "route_only",
    "served",
    "server_url",
    "services",
    "template_database",
]
