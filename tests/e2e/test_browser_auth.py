"""Browser sign-in: the refresh token only ever in an HttpOnly, Secure, SameSite=Strict cookie
scoped to the refresh route, the Origin checked on every call, rotation, and sign-out."""

from __future__ import annotations

import secrets
from http.cookies import SimpleCookie

import httpx

PASSWORD = "a good password 123"


async def _driver(client: httpx.AsyncClient) -> str:
    email = f"browser-{secrets.token_hex(4)}@example.org"
    made = await client.post("/api/v1/auth/register", json={"email": email, "password": PASSWORD})
    assert made.status_code == 201
    return email


def _cookie(answer: httpx.Response) -> tuple[str, dict[str, str]]:
    jar = SimpleCookie()
    jar.load(answer.headers["set-cookie"])
    morsel = jar["vb_app_refresh"]
    return morsel.value, {k: str(v) for k, v in morsel.items() if v}


async def test_the_refresh_token_lives_in_a_strict_cookie_for_the_refresh_route_only(
    client: httpx.AsyncClient, server_url: str
) -> None:
    origin = {"Origin": server_url}
    email = await _driver(client)
    form = {"username": email, "password": PASSWORD}
    signed = await client.post("/api/v1/auth/browser/app/token", data=form, headers=origin)
    assert signed.status_code == 200, signed.text
    assert "refresh_token" not in signed.json()  # never where a script can read it
    assert signed.headers["cache-control"] == "no-store"
    token, attributes = _cookie(signed)
    assert attributes["path"] == "/api/v1/auth/browser/app/refresh"
    assert attributes["httponly"] == "True"
    assert attributes["secure"] == "True"
    assert attributes["samesite"] == "strict"

    cookie = {"Cookie": f"vb_app_refresh={token}"}
    renewed = await client.post("/api/v1/auth/browser/app/refresh", headers=origin | cookie)
    assert renewed.status_code == 200
    rotated, _ = _cookie(renewed)
    assert rotated != token
    me = await client.get(
        "/api/v1/me", headers={"Authorization": f"Bearer {renewed.json()['access_token']}"}
    )
    assert me.json()["email"] == email

    # The console's cookie is another one: an app sign-in does not sign the console in.
    console = await client.post("/api/v1/auth/browser/console/refresh", headers=origin | cookie)
    assert console.status_code == 401


async def test_calls_from_other_origins_or_without_one_are_refused(
    client: httpx.AsyncClient, server_url: str
) -> None:
    email = await _driver(client)
    form = {"username": email, "password": PASSWORD}
    for headers in ({}, {"Origin": "https://evil.example"}, {"Origin": "null"}):
        answer = await client.post("/api/v1/auth/browser/app/token", data=form, headers=headers)
        assert answer.status_code == 403
        assert answer.headers["content-type"] == "application/problem+json"
    signed = await client.post(
        "/api/v1/auth/browser/app/token", data=form, headers={"Origin": server_url}
    )
    token, _ = _cookie(signed)
    stolen = await client.post(
        "/api/v1/auth/browser/app/refresh",
        headers={"Origin": "https://evil.example", "Cookie": f"vb_app_refresh={token}"},
    )
    assert stolen.status_code == 403
    unknown = await client.post(
        "/api/v1/auth/browser/web/token", data=form, headers={"Origin": server_url}
    )
    assert unknown.status_code == 422


async def test_sign_out_ends_the_sign_in_and_removes_the_cookie(
    client: httpx.AsyncClient, server_url: str
) -> None:
    origin = {"Origin": server_url}
    email = await _driver(client)
    signed = await client.post(
        "/api/v1/auth/browser/app/token",
        data={"username": email, "password": PASSWORD},
        headers=origin,
    )
    token, _ = _cookie(signed)
    bearer = {"Authorization": f"Bearer {signed.json()['access_token']}"}
    out = await client.post("/api/v1/auth/browser/app/logout", headers=origin | bearer)
    assert out.status_code == 204
    removed, attributes = _cookie(out)
    assert removed == ""
    assert attributes["max-age"] == "0"
    assert (await client.get("/api/v1/me", headers=bearer)).status_code == 401
    again = await client.post(
        "/api/v1/auth/browser/app/refresh", headers=origin | {"Cookie": f"vb_app_refresh={token}"}
    )
    assert again.status_code == 401
