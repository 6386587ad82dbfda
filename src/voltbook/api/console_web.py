"""Serves the operator console, a static ES-module client of the API, at /console.

The shell and the console's own modules are revalidated on every load (`no-cache`: an update
shows at the next reload); vendored files live in versioned folders, so they are cached for a
year. Every answer carries a strict Content-Security-Policy: scripts, styles and connections
to this origin only, images also from the map's tile host.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from fastapi import FastAPI
from fastapi.responses import JSONResponse
from starlette.responses import Response
from starlette.staticfiles import StaticFiles

WEB = Path(__file__).resolve().parent.parent / "web"
NO_CACHE = "no-cache"
IMMUTABLE = "public, max-age=31536000, immutable"


def tile_origin(tile_url: str) -> str | None:
    """The origin map tiles come from, as a CSP source (`{s}` subdomains become `*`)."""
    if not tile_url:
        return None
    parts = urlsplit(tile_url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    host = parts.netloc.replace("{s}", "*")
    return f"{parts.scheme}://{host}"


def content_security_policy(tile_url: str) -> str:
    images = "'self' data:"
    origin = tile_origin(tile_url)
    if origin is not None:
        images += f" {origin}"
    return (
        "default-src 'self'; script-src 'self'; style-src 'self'; "
        f"img-src {images}; connect-src 'self'; font-src 'self'; object-src 'none'; "
        "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    )


class _Files(StaticFiles):
    """Static files with the console's cache and security headers."""

    def __init__(self, directory: Path, cache_control: str, policy: str, **kwargs: Any) -> None:
        super().__init__(directory=directory, **kwargs)
        self._headers = {
            "Cache-Control": cache_control,
            "Content-Security-Policy": policy,
            "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "no-referrer",
        }

    def file_response(self, *args: Any, **kwargs: Any) -> Response:
        response = super().file_response(*args, **kwargs)
        response.headers.update(self._headers)
        return response


def mount_console(app: FastAPI, tile_url: str, tile_attribution: str) -> None:
    """Adds /console (the shell and its modules), /console/vendor and /console/config.json."""
    policy = content_security_policy(tile_url)

    async def config() -> Response:
        return JSONResponse(
            {"tile_url": tile_url, "tile_attribution": tile_attribution},
            headers={"Cache-Control": NO_CACHE},
        )

    app.add_api_route("/console/config.json", config, include_in_schema=False)
    app.mount("/console/vendor", _Files(WEB / "vendor", IMMUTABLE, policy), name="console-vendor")
    app.mount("/console", _Files(WEB / "console", NO_CACHE, policy, html=True), name="console")
