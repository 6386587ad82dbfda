"""Serves the operator console, a static ES-module client of the API, at /console.

The shell and the console's own modules are revalidated on every load (`no-cache` with an
ETag: an update shows at the next reload, unchanged files cost a 304). Vendored files come
from `/vendor/<package>-<version>/`, cached for a year (web.py). Every answer carries the
same strict Content-Security-Policy as the driver app's.

`/console/sw.js` is the console's own service worker, scoped to `/console` (allowed by its
`Service-Worker-Allowed` header, so that `/console` without its slash is the console's too):
it keeps the console's files for offline use, under a cache named after a hash of them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.responses import JSONResponse
from starlette.responses import Response
from starlette.staticfiles import StaticFiles

from voltbook.api.web import NO_CACHE, WebOptions

SCOPE = "/console"
# Not in the worker's list of files: the shell is kept as `/console/`, the worker is itself.
_NOT_LISTED = ("index.html", "sw.js")


class _Files(StaticFiles):
    """Static files with the console's cache and security headers."""

    def __init__(self, options: WebOptions) -> None:
        super().__init__(directory=options.root / "console", html=True)
        self._headers = _headers(options)

    def file_response(self, *args: Any, **kwargs: Any) -> Response:
        response = super().file_response(*args, **kwargs)
        response.headers.update(self._headers)
        return response


def _headers(options: WebOptions) -> dict[str, str]:
    return {
        "Cache-Control": NO_CACHE,
        "Content-Security-Policy": options.csp(),
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
    }


def console_files(root: Path) -> tuple[str, ...]:
    """The console's files the worker keeps, as the paths the browser asks for."""
    folder = root / "console"
    return tuple(
        f"{SCOPE}/{p.relative_to(folder).as_posix()}"
        for p in sorted(folder.rglob("*"))
        if p.is_file() and p.name not in _NOT_LISTED
    )


def worker_script(options: WebOptions) -> str:
    """The console's service worker with its build (a hash of the console's files) and the
    list of those files filled in."""
    script = (options.root / "console" / "sw.js").read_text(encoding="utf-8")
    files = ", ".join(f'"{path}"' for path in console_files(options.root))
    return script.replace("{{build}}", options.digest("console")).replace('"{{files}}"', files)


def mount_console(app: FastAPI, options: WebOptions) -> None:
    """Adds /console (the shell and its modules), /console/config.json (the map tiles) and
    /console/sw.js (the console's service worker)."""
    worker = worker_script(options)

    async def config() -> Response:
        body = {"tile_url": options.tile_url, "tile_attribution": options.tile_attribution}
        return JSONResponse(body, headers={"Cache-Control": NO_CACHE})

    async def service_worker() -> Response:
        headers = _headers(options) | {"Service-Worker-Allowed": SCOPE}
        return Response(worker, media_type="text/javascript; charset=utf-8", headers=headers)

    app.add_api_route("/console/config.json", config, include_in_schema=False)
    app.add_api_route("/console/sw.js", service_worker, include_in_schema=False)
    app.mount("/console", _Files(options), name="console")
