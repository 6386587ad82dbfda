"""Drivers register their browsers for Web Push over HTTP; notices then reach the browser.

The server runs for real (uvicorn, the database, the VAPID key in its data dir), and so does
the push service at the other end (it checks VAPID and decrypts with the browser's keys).
"""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator

import httpx
import pytest

from tests.e2e.conftest import running_server, server_settings
from tests.local_push_service import LocalPushService, local_push_service, unb64url
from voltbook.bootstrap import open_services
from voltbook.config import Settings
from voltbook.notices.model import Urgency

PROBLEM = "application/problem+json"
PASSWORD = "correct horse battery staple"
Headers = dict[str, str]


@pytest.fixture(scope="module")
def push_settings(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    # Loopback http endpoints allowed, so the local push service can stand in for a vendor's.
    return server_settings(
        database_url,
        tmp_path_factory.mktemp("push-data"),
        push_allow_insecure=True,
        push_max_subscriptions=2,
    )


@pytest.fixture(scope="module")
async def push_server(push_settings: Settings) -> AsyncIterator[str]:
    async with running_server(push_settings) as url:
        yield url


@pytest.fixture
async def http(push_server: str, engine: object) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=push_server, timeout=10) as client:
        yield client


@pytest.fixture
async def push_service() -> AsyncIterator[LocalPushService]:
    async with local_push_service() as service:
        yield service


async def driver(http: httpx.AsyncClient) -> Headers:
    email = f"driver-{secrets.token_hex(4)}@example.org"
    registered = await http.post(
        "/api/v1/auth/register", json={"email": email, "password": PASSWORD}
    )
    assert registered.status_code == 201
    token = await http.post("/api/v1/auth/token", data={"username": email, "password": PASSWORD})
    return {"Authorization": f"Bearer {token.json()['access_token']}"}


def subscription_json(endpoint: str, p256dh: str, auth: str) -> dict[str, object]:
    """What `PushSubscription.toJSON()` gives in a browser."""
    return {"endpoint": endpoint, "expirationTime": None, "keys": {"p256dh": p256dh, "auth": auth}}


async def test_the_public_key_is_a_raw_p256_point_and_outlives_a_restart(
    http: httpx.AsyncClient, push_settings: Settings
) -> None:
    answer = await http.get("/api/v1/push/key")
    assert answer.status_code == 200
    key = answer.json()["public_key"]
    raw = unb64url(key)
    assert len(raw) == 65
    assert raw[0] == 4
    async with (
        running_server(push_settings) as restarted,
        httpx.AsyncClient(base_url=restarted) as again,
    ):
        assert (await again.get("/api/v1/push/key")).json() == {"public_key": key}


async def test_a_driver_subscribes_a_browser_and_a_notice_reaches_it_decrypted(
    http: httpx.AsyncClient, push_service: LocalPushService, push_settings: Settings
) -> None:
    ann = await driver(http)
    key = (await http.get("/api/v1/push/key")).json()["public_key"]
    endpoint, browser = push_service.subscribe(key)
    created = await http.post(
        "/api/v1/push/subscriptions",
        json=subscription_json(endpoint, browser.p256dh, browser.auth),
        headers=ann,
    )
    assert created.status_code == 201
    assert created.json()["endpoint"] == endpoint
    me = (await http.get("/api/v1/me", headers=ann)).json()
    # The notices service of the same deployment sends (here: from a second node).
    async with open_services(push_settings) as node:
        assert await node.push.push(me["id"], b'{"type":"offer","seq":1}', 300, Urgency.LOW) == 1
    [received] = push_service.to(endpoint)
    assert received.plaintext == b'{"type":"offer","seq":1}'
    assert (received.ttl, received.urgency) == (300, "low")
    assert received.vapid_key == key


async def test_subscribing_and_unsubscribing_needs_a_signed_in_driver(
    http: httpx.AsyncClient, push_service: LocalPushService
) -> None:
    endpoint, browser = push_service.subscribe()
    body = subscription_json(endpoint, browser.p256dh, browser.auth)
    refused = await http.post("/api/v1/push/subscriptions", json=body)
    assert refused.status_code == 401
    assert refused.headers["content-type"] == PROBLEM
    gone = await http.delete("/api/v1/push/subscriptions", params={"endpoint": endpoint})
    assert gone.status_code == 401


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"endpoint": "http://push.example.org/a"}, "invalid-input"),
        ({"endpoint": "https://10.0.0.1/a"}, "invalid-input"),
        ({"endpoint": "not a url"}, "invalid-input"),
        ({"keys": {"p256dh": "BAAA", "auth": "A" * 22}}, "validation-error"),
        ({"keys": {"p256dh": "B" + "A" * 86, "auth": "short"}}, "validation-error"),
        # The right shape, but the first byte is 0x05: not an uncompressed point.
        ({"keys": {"p256dh": "B" + "Q" * 86, "auth": "A" * 22}}, "invalid-input"),
        ({"keys": {"p256dh": "B" + "A" * 86}}, "validation-error"),
        ({"keys": None}, "validation-error"),
        ({"endpoint": "https://push.example.org/" + "x" * 2048}, "validation-error"),
    ],
)
async def test_a_broken_subscription_is_a_422_problem(
    http: httpx.AsyncClient,
    push_service: LocalPushService,
    change: dict[str, object],
    problem: str,
) -> None:
    ann = await driver(http)
    endpoint, browser = push_service.subscribe()
    body = subscription_json(endpoint, browser.p256dh, browser.auth) | change
    answer = await http.post("/api/v1/push/subscriptions", json=body, headers=ann)
    assert answer.status_code == 422
    assert answer.headers["content-type"] == PROBLEM
    assert answer.json()["type"] == f"urn:voltbook:problem:{problem}"


async def test_another_driver_cannot_remove_my_subscription_nor_learn_it_exists(
    http: httpx.AsyncClient, push_service: LocalPushService, push_settings: Settings
) -> None:
    ann, bob = await driver(http), await driver(http)
    endpoint, browser = push_service.subscribe()
    body = subscription_json(endpoint, browser.p256dh, browser.auth)
    assert (
        await http.post("/api/v1/push/subscriptions", json=body, headers=ann)
    ).status_code == 201
    params = {"endpoint": endpoint}
    theirs = await http.delete("/api/v1/push/subscriptions", params=params, headers=bob)
    nothing = await http.delete(
        "/api/v1/push/subscriptions", params={"endpoint": endpoint + "x"}, headers=bob
    )
    assert theirs.status_code == nothing.status_code == 404
    assert theirs.headers["content-type"] == PROBLEM
    assert theirs.json()["detail"] == nothing.json()["detail"]
    # Still mine: a notice reaches it; then I remove it and nothing more does.
    me = (await http.get("/api/v1/me", headers=ann)).json()["id"]
    async with open_services(push_settings) as node:
        assert await node.push.push(me, b"still yours", 60, Urgency.NORMAL) == 1
        mine = await http.delete("/api/v1/push/subscriptions", params=params, headers=ann)
        assert mine.status_code == 204
        assert mine.content == b""
        assert await node.push.push(me, b"after", 60, Urgency.NORMAL) == 0
    assert [r.plaintext for r in push_service.to(endpoint)] == [b"still yours"]
    again = await http.delete("/api/v1/push/subscriptions", params=params, headers=ann)
    assert again.status_code == 404


async def test_a_driver_with_the_most_browsers_allowed_gets_a_409(
    http: httpx.AsyncClient, push_service: LocalPushService
) -> None:
    ann = await driver(http)
    bodies = []
    for _ in range(3):
        endpoint, browser = push_service.subscribe()
        bodies.append(subscription_json(endpoint, browser.p256dh, browser.auth))
    for body in bodies[:2]:
        assert (
            await http.post("/api/v1/push/subscriptions", json=body, headers=ann)
        ).status_code == 201
    third = await http.post("/api/v1/push/subscriptions", json=bodies[2], headers=ann)
    assert third.status_code == 409
    assert third.headers["content-type"] == PROBLEM
    assert third.json()["limit"] == 2
    renewed = await http.post("/api/v1/push/subscriptions", json=bodies[0], headers=ann)
    assert renewed.status_code == 201


async def test_the_openapi_describes_the_push_routes(http: httpx.AsyncClient) -> None:
    paths = (await http.get("/openapi.json")).json()["paths"]
    assert set(paths["/api/v1/push/subscriptions"]) == {"post", "delete"}
    assert "409" in paths["/api/v1/push/subscriptions"]["post"]["responses"]
    assert "404" in paths["/api/v1/push/subscriptions"]["delete"]["responses"]
    assert "get" in paths["/api/v1/push/key"]
