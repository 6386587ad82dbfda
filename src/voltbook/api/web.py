"""The browser ends, served as static files: the driver app at `/` and the API reference.

The app's own files are served under `/assets/{build}/`, where `build` is a hash of their
contents: they can be cached for a year, and a new release is a new path. Vendored files
carry their version in their folder name (`/vendor/leaflet-1.9.4/…`) and are cached the
same way. The shell (`/`), the service worker and the manifest are never cached, so a
release reaches phones on their next visit. `/console` is left to the operator console.
"""

from __future__ import annotations

import hashlib
import html
import mimetypes
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from urllib.parse import urlsplit

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import FileResponse, JSONResponse, Response

from voltbook.api.asyncapi import asyncapi_document

WEB_ROOT = Path(__file__).resolve().parent.parent / "web"
IMMUTABLE = "public, max-age=31536000, immutable"
NO_CACHE = "no-cache"
_TYPES = {
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".webmanifest": "application/manifest+json",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".json": "application/json",
}


@dataclass(frozen=True)
class WebOptions:
    """What the browser ends are told of the server's settings."""

    tile_url: str = ""  # e.g. https://tile.openstreetmap.org/{z}/{x}/{y}.png; empty: no tiles
    tile_attribution: str = ""
    root: Path = field(default=WEB_ROOT)

    @cached_property
    def build(self) -> str:
        """A hash of the app's files: a new one for every change of them."""
        return self.digest("app")

    def digest(self, folder: str) -> str:
        """A hash of the files below `folder` (names and contents), 12 hex digits."""
        digest = hashlib.sha256()
        for path in sorted((self.root / folder).rglob("*")):
            if path.is_file():
                digest.update(path.relative_to(self.root).as_posix().encode())
                digest.update(path.read_bytes())
        return digest.hexdigest()[:12]

    @cached_property
    def app_files(self) -> list[str]:
        """The app's files below `app/`, for the service worker's offline copy."""
        app = self.root / "app"
        return sorted(
            p.relative_to(app).as_posix()
            for p in app.rglob("*")
            if p.is_file() and p.name not in ("index.html", "sw.js", "manifest.webmanifest")
        )

    @property
    def tile_origin(self) -> str:
        if not self.tile_url:
            return ""
        parts = urlsplit(self.tile_url.replace("{s}", "a"))
        host = parts.netloc
        if "{s}" in self.tile_url:  # Leaflet's subdomains a, b, c
            host = "*." + host.split(".", 1)[1] if "." in host else host
        return f"{parts.scheme}://{host}"

    def csp(self) -> str:
        """A strict policy: only this server's own files, and the tile host's images."""
        tiles = f" {self.tile_origin}" if self.tile_origin else ""
        return (
            "default-src 'self'; script-src 'self'; style-src 'self'; "
            f"img-src 'self' data:{tiles}; connect-src 'self'; worker-src 'self'; "
            "manifest-src 'self'; object-src 'none'; base-uri 'none'; "
            "frame-ancestors 'none'; form-action 'self'"
        )


def install_web(app: FastAPI, options: WebOptions) -> None:
    """Mount the driver app at `/`, vendored files, the API reference and the AsyncAPI
    document; FastAPI's own documentation pages (which load from a CDN) are off."""
    app.include_router(_router(options))


def _router(options: WebOptions) -> APIRouter:
    router = APIRouter(include_in_schema=False)
    shell = (options.root / "app" / "index.html").read_text(encoding="utf-8")
    worker = (options.root / "app" / "sw.js").read_text(encoding="utf-8")
    docs = (options.root / "docs.html").read_text(encoding="utf-8")
    security = {
        "Content-Security-Policy": options.csp(),
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
        "Permissions-Policy": "camera=(), microphone=(), geolocation=(self)",
    }

    @router.get("/")
    async def app_shell() -> Response:
        page = (
            shell.replace("{{build}}", options.build)
            .replace("{{tile_url}}", html.escape(options.tile_url, quote=True))
            .replace("{{tile_attribution}}", html.escape(options.tile_attribution, quote=True))
        )
        headers = security | {"Cache-Control": NO_CACHE}
        return Response(page, media_type="text/html; charset=utf-8", headers=headers)

    @router.get("/sw.js")
    async def service_worker() -> Response:
        files = ", ".join(f'"/assets/{options.build}/{name}"' for name in options.app_files)
        script = worker.replace("{{build}}", options.build).replace('"{{files}}"', files)
        headers = {"Cache-Control": NO_CACHE, "Service-Worker-Allowed": "/"}
        return Response(script, media_type=_TYPES[".js"], headers=headers)

    @router.get("/manifest.webmanifest")
    async def manifest() -> Response:
        text = (options.root / "app" / "manifest.webmanifest").read_text(encoding="utf-8")
        text = text.replace("{{build}}", options.build)
        headers = {"Cache-Control": NO_CACHE}
        return Response(text, media_type=_TYPES[".webmanifest"], headers=headers)

    @router.get("/assets/{build}/{path:path}")
    async def asset(build: str, path: str) -> Response:
        # An old build's path gets today's file, uncached (a phone running an old shell).
        cache = IMMUTABLE if build == options.build else NO_CACHE
        return _file(options.root / "app", path, cache)

    @router.get("/vendor/{path:path}")
    async def vendored(path: str) -> Response:
        return _file(options.root / "vendor", path, IMMUTABLE)

    @router.get("/docs")
    async def reference() -> Response:
        # Swagger UI sets style attributes as it renders: this page alone allows them.
        policy = options.csp().replace("style-src 'self'", "style-src 'self' 'unsafe-inline'")
        headers = security | {"Content-Security-Policy": policy, "Cache-Control": NO_CACHE}
        return Response(docs, media_type="text/html; charset=utf-8", headers=headers)

    @router.get("/docs.js")
    async def reference_script() -> Response:
        return _file(options.root, "docs.js", NO_CACHE)

    @router.get("/asyncapi.json")
    async def asyncapi(request: Request) -> JSONResponse:
        return JSONResponse(asyncapi_document(request.app.version))

    return router


def _file(root: Path, relative: str, cache: str) -> Response:
    """A file below `root` (never outside it), or 404."""
    path = (root / relative).resolve()
    if not path.is_relative_to(root.resolve()) or not path.is_file():
        return Response("not found", status_code=404, media_type="text/plain")
    media = _TYPES.get(path.suffix) or mimetypes.guess_type(path.name)[0] or "text/plain"
    return FileResponse(
        path,
        media_type=media,
        headers={"Cache-Control": cache, "X-Content-Type-Options": "nosniff"},
    )
