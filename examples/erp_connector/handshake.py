"""The handshake of the ERP connector protocol: verify the platform's JWT against its JWKS and
answer with the nonce signed by the app's private key. No Flask."""

from __future__ import annotations

import base64
import threading
import time
from datetime import UTC, datetime
from typing import Any

import requests
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from joserfc import jwt
from joserfc.errors import InvalidKeyIdError, JoseError
from joserfc.jwk import KeySet

ISSUER_CLAIM = "SuperOffice AS"  # kept by the platform for compatibility, whatever its own URL
CTX_CLAIM = "http://schemes.superoffice.net/identity/ctx"
HTTP_TIMEOUT = 10  # seconds
JWKS_MAX_AGE = 3600  # seconds: keys are fetched again after an hour anyway
LEEWAY = 60  # seconds of clock difference accepted for exp and nbf


class HandshakeError(Exception):
    """The token does not verify; the message says why (it is logged, not shown to tenants)."""

    status = 401


class KeysUnavailable(HandshakeError):
    """The platform's JWKS could not be fetched: nothing is wrong with the token, so try again later."""

    status = 503


class JwksCache:
    """The platform's signing keys, fetched with requests and kept; an unknown kid fetches them again
    once (the platform rotated its keys), but not more often than every ``min_refetch`` seconds, so
    tokens with made-up kids cannot make the connector hammer the platform."""

    def __init__(self, url: str, min_refetch: float = 10.0) -> None:
        self.url = url
        self.min_refetch = min_refetch
        self.keys: KeySet | None = None
        self.fetched_at = 0.0
        self.fetches = 0
        self.lock = threading.Lock()

    def get(self, force: bool = False) -> KeySet:
        with self.lock:
            age = time.monotonic() - self.fetched_at
            stale = self.keys is None or age > JWKS_MAX_AGE
            if stale or (force and age >= self.min_refetch):
                try:
                    self.keys = self.fetch()
                    self.fetched_at = time.monotonic()
                except KeysUnavailable:
                    if self.keys is None or force:
                        raise
                    # Keep the keys we have while the platform is unreachable; retry in a while.
                    self.fetched_at = time.monotonic() - JWKS_MAX_AGE + self.min_refetch
            assert self.keys is not None
            return self.keys

    def fetch(self) -> KeySet:
        self.fetches += 1
        try:
            response = requests.get(self.url, timeout=HTTP_TIMEOUT, allow_redirects=False)
            response.raise_for_status()
            return KeySet.import_key_set(response.json())
        except (requests.RequestException, ValueError, JoseError) as exc:
            raise KeysUnavailable(f"The platform's keys could not be fetched from {self.url}: {exc}") \
                from None


def verify_token(token: Any, keys: JwksCache, client_id: str) -> dict[str, Any]:
    """The claims of a platform JWT: RS256 by a key of the JWKS, iss "SuperOffice AS", aud
    ``spn:<client_id>``, exp and nbf, and a tenant (ctx). HandshakeError otherwise."""
    if not isinstance(token, str) or not token:
        raise HandshakeError("No token.")
    try:
        try:
            decoded = jwt.decode(token, keys.get(), algorithms=["RS256"])
        except InvalidKeyIdError:
            decoded = jwt.decode(token, keys.get(force=True), algorithms=["RS256"])
        registry = jwt.JWTClaimsRegistry(
            leeway=LEEWAY,
            iss={"essential": True, "value": ISSUER_CLAIM},
            aud={"essential": True, "value": f"spn:{client_id}"},
            exp={"essential": True},
        )
        registry.validate(decoded.claims)
    except JoseError as exc:
        raise HandshakeError(f"{exc.error}: {exc.description or ''}".strip()) from None
    except ValueError as exc:  # not a JWT at all
        raise HandshakeError(f"Malformed token: {exc}") from None
    claims = decoded.claims
    if not isinstance(claims.get(CTX_CLAIM) or claims.get("sub"), str):
        raise HandshakeError("The token names no tenant (ctx).")
    return claims


def tenant_of(claims: dict[str, Any]) -> str:
    return claims.get(CTX_CLAIM) or claims["sub"]


def sign_reply(nonce: str, private_key_pem: str | bytes, now: datetime | None = None) -> str:
    """``<nonce>.<UTC yyyyMMddHHmm>.<standard Base64 RSA PKCS#1 v1.5 SHA-256 signature of
    "nonce.timestamp">``."""
    moment = (now or datetime.now(UTC)).astimezone(UTC)
    stamped = f"{nonce}.{moment:%Y%m%d%H%M}"
    if isinstance(private_key_pem, str):
        private_key_pem = private_key_pem.encode()
    key = serialization.load_pem_private_key(private_key_pem, password=None)
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ValueError("The private key must be an RSA key.")
    signature = key.sign(stamped.encode(), padding.PKCS1v15(), hashes.SHA256())
    return f"{stamped}.{base64.b64encode(signature).decode('ascii')}"
