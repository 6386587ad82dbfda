"""The rules the fast lanes share with the routes they stand in for, each written once:
bearer parsing, the Idempotency-Key rule, and what each lane honours of its route (a test
holds every route's dependencies to it, so a route cannot gain one its lane skips)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from fastapi.security import OAuth2PasswordBearer
from fastapi.security.utils import get_authorization_scheme_param
from starlette.requests import Request

IDEMPOTENCY_KEY_MAX = 255
IDEMPOTENCY_KEY_PATTERN = r"^[\x21-\x7e]+$"  # printable ASCII, no spaces
_KEY = re.compile(rf"[\x21-\x7e]{{1,{IDEMPOTENCY_KEY_MAX}}}")


def idempotency_key_ok(key: str | None) -> bool:
    return key is not None and _KEY.fullmatch(key) is not None


def bearer_token(authorization: str | None) -> str | None:
    """The token of an `Authorization: Bearer <token>` header; None for anything else."""
    scheme, token = get_authorization_scheme_param(authorization)
    return token if scheme.lower() == "bearer" and token else None


class BearerToken(OAuth2PasswordBearer):
    """The routes' bearer dependency (documented as OAuth2 password flow), parsing the header
    with `bearer_token`, as the lanes do."""

    async def __call__(self, request: Request) -> str | None:  # type: ignore[override]
        return bearer_token(request.headers.get("authorization"))


@dataclass(frozen=True, slots=True)
class Honoured:
    """What a fast lane does of its route's dependencies: the dependency functions it
    stands in for, the headers and query parameters it reads, and its body model."""

    dependencies: frozenset[Any]
    headers: frozenset[str] = frozenset()
    query: tuple[type, ...] = ()
    body: tuple[type, ...] = ()
