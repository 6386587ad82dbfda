"""Serves the operator console, a static ES-module client of the API, at /console.

The shell and the console's own modules are revalidated on every load (`no-cache` with an
ETag: an update shows at the next reload, unchanged files cost a 304). Vendored files come
from `/vendor/<package>-<version>/`, cached for a year (web.py). Every answer carries the
same strict Content-Security-Policy as the driver app's.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.responses import JSONResponse
from starlette.responses import Response
from starlette.staticfiles import StaticFiles

from voltbook.api.web import NO_CACHE, WebOptions


class _Files(StaticFiles):
    """Static files with the console's cache and security headers."""

    def __init__(self, options: WebOptions) -> None:
        super().__init__(directory=options.root / "console", html=True)
        self._headers = {
            "Cache-Control": NO_CACHE,
            "Content-Security-Policy": options.csp(),
            "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "no-referrer",
        }

    def file_response(self, *args: Any, **kwargs: Any) -> Response:
        response = super().file_response(*args, **kwargs)
        response.headers.update(self._headers)
        return response


def mount_console(app: FastAPI, options: WebOptions) -> None:
    """Adds /console (the shell and its modules) and /console/config.json (the map tiles)."""

    async def config() -> Response:
        body = {"tile_url": options.tile_url, "tile_attribution": options.tile_attribution}
        return JSONResponse(body, headers={"Cache-Control": NO_CACHE})

    app.add_api_route("/console/config.json", config, include_in_schema=False)
    app.mount("/console", _Files(options), name="console")
