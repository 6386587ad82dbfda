"""The console's Content-Security-Policy lets map tiles come only from the tile server."""

from __future__ import annotations

import pytest

from voltbook.api.console_web import content_security_policy, tile_origin


@pytest.mark.parametrize(
    ("url", "origin"),
    [
        ("https://tile.openstreetmap.org/{z}/{x}/{y}.png", "https://tile.openstreetmap.org"),
        ("https://{s}.tiles.example.com:8443/{z}/{x}/{y}.png", "https://*.tiles.example.com:8443"),
        ("", None),
        ("javascript:alert(1)//{z}", None),
        ("/tiles/{z}/{x}/{y}.png", None),
    ],
)
def test_the_tile_servers_origin_is_what_images_may_also_come_from(
    url: str, origin: str | None
) -> None:
    assert tile_origin(url) == origin


def test_without_tiles_images_come_only_from_the_console_itself() -> None:
    policy = content_security_policy("")
    assert "img-src 'self' data:;" in policy
    assert "default-src 'self'" in policy
    assert "'unsafe-inline'" not in policy
    assert "'unsafe-eval'" not in policy


def test_with_tiles_their_host_is_added_to_images_only() -> None:
    policy = content_security_policy("https://tile.openstreetmap.org/{z}/{x}/{y}.png")
    assert "img-src 'self' data: https://tile.openstreetmap.org;" in policy
    assert policy.count("openstreetmap") == 1
