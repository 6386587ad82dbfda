"""Bodies of the Web Push API: the browser's own PushSubscription JSON goes in as it is."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from voltbook.api.inputs import Input
from voltbook.notices.model import PushSubscription


class PushKeysIn(Input):
    p256dh: str = Field(
        pattern=r"^B[A-Za-z0-9_-]{86}=?$",
        description="base64url of the browser's P-256 public key (65 bytes, uncompressed)",
    )
    auth: str = Field(
        pattern=r"^[A-Za-z0-9_-]{22}(==)?$",
        description="base64url of the 16-byte authentication secret",
    )


class PushSubscriptionIn(Input):
    """`PushSubscription.toJSON()` as the browser makes it."""

    endpoint: str = Field(min_length=1, max_length=2048, description="The push service URL (https)")
    expirationTime: float | None = Field(  # noqa: N815 - the W3C member name
        default=None, description="Accepted and not used: the push service says when it ends"
    )
    keys: PushKeysIn


class PushSubscriptionOut(BaseModel):
    endpoint: str
    created_at: datetime | None

    @classmethod
    def of(cls, subscription: PushSubscription) -> PushSubscriptionOut:
        return cls(endpoint=subscription.endpoint, created_at=subscription.created_at)


class PushKeyOut(BaseModel):
    public_key: str = Field(
        description="The server's VAPID public key: pass it to pushManager.subscribe() as "
        "applicationServerKey (base64url of the uncompressed P-256 point)"
    )
