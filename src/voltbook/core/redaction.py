"""Secrets taken out of what is kept or shown (the message journal, the audit log): a value
with every secret replaced by `REDACTED`."""

from __future__ import annotations

from typing import Any

REDACTED = "***"
# A setting or field whose name holds one of these carries a secret (1.6 AuthorizationKey,
# 2.0.1 SecurityCtrlr.BasicAuthPassword, a certificate's private key, …).
SECRET_WORDS = ("password", "authorizationkey", "secret", "privatekey")


def _secret_name(name: object) -> bool:
    return isinstance(name, str) and any(w in name.lower() for w in SECRET_WORDS)


def _names_secret(item: dict[str, Any]) -> bool:
    """A configuration key (1.6) or a component's variable (2.0.1) that holds a secret."""
    if _secret_name(item.get("key")):
        return True
    variable = item.get("variable")
    return isinstance(variable, dict) and _secret_name(variable.get("name"))


def redact(value: Any) -> tuple[Any, bool]:
    """The value with every secret replaced, and whether there was one."""
    if isinstance(value, list):
        changed = False
        items = []
        for item in value:
            new, hit = redact(item)
            items.append(new)
            changed |= hit
        return items, changed
    if not isinstance(value, dict):
        return value, False
    secret_holder = _names_secret(value)
    out: dict[str, Any] = {}
    changed = False
    for key, item in value.items():
        if (secret_holder and key in ("value", "attributeValue")) or (
            _secret_name(key) and isinstance(item, str)
        ):
            out[key], changed = REDACTED, True
            continue
        new, hit = redact(item)
        out[key] = new
        changed |= hit
    return out, changed
