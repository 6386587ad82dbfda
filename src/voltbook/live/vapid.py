"""The server's VAPID key pair (RFC 8292): made on first start, kept in the data dir.

Browsers bind a push subscription to the public key they were given
(`applicationServerKey`), so the key must outlive restarts: a new key would silently orphan
every subscription. Nodes of one deployment share it (a shared data dir, or the same PEM in
the VOLTBOOK_VAPID_PRIVATE_KEY setting).
"""

from __future__ import annotations

import base64
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec


@dataclass(frozen=True, slots=True)
class VapidKeys:
    private_key: ec.EllipticCurvePrivateKey

    @property
    def public_raw(self) -> bytes:
        """The uncompressed P-256 point (65 bytes, starting 0x04)."""
        return self.private_key.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )

    @property
    def application_server_key(self) -> str:
        """The public key as browsers take it: base64url of the raw point, no padding."""
        return base64.urlsafe_b64encode(self.public_raw).rstrip(b"=").decode("ascii")

    @classmethod
    def from_pem(cls, pem: bytes) -> VapidKeys:
        key = serialization.load_pem_private_key(pem, password=None)
        if not isinstance(key, ec.EllipticCurvePrivateKey) or not isinstance(
            key.curve, ec.SECP256R1
        ):
            raise TypeError("a VAPID key is an EC private key on the P-256 curve")
        return cls(key)

    def private_pem(self) -> bytes:
        return self.private_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )


def vapid_keys(data_dir: Path, configured_pem: str = "") -> VapidKeys:
    """The configured key, else the one in `data_dir/secrets/vapid.pem`, made if missing."""
    if configured_pem.strip():
        return VapidKeys.from_pem(configured_pem.strip().encode("ascii"))
    path = data_dir / "secrets" / "vapid.pem"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        made = VapidKeys(ec.generate_private_key(ec.SECP256R1()))
        # Written whole under a private name, then linked into place: a node starting at the
        # same moment either wins or reads the winner's complete file, never half of one.
        draft = path.with_name(f".vapid-{os.getpid()}-{secrets.token_hex(4)}.pem")
        descriptor = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(made.private_pem())
        try:
            os.link(draft, path)
        except FileExistsError:
            pass
        finally:
            draft.unlink()
    return VapidKeys.from_pem(path.read_bytes())
