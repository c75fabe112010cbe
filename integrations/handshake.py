"""The handshake before data flows to a partner's integration endpoint (SPEC §10).

The platform sends an RS256 JWT signed with the environment's key; the partner answers
``<nonce>.<UTC yyyyMMddHHmm>.<Base64 RSA-SHA256 of "nonce.timestamp">`` signed with the app's
private key, which is verified here against the app's registered public key for the environment.
"""

import base64
import binascii
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from django.utils import timezone

from provisioning.services.signing_keys import sign_jwt
from tenants.models import Environment

ISSUER = "SuperOffice AS"
CLAIM_PREFIX = "http://schemes.superoffice.net/identity/"
TOKEN_LIFETIME = timedelta(minutes=6)
REPLY_TOLERANCE = timedelta(minutes=5)


class HandshakeFailed(Exception):  # noqa: N818 - the reason a run stops
    pass


@dataclass(frozen=True)
class Challenge:
    token: str
    nonce: str
    expires_at: datetime


def challenge(*, environment: Environment, client_id: str, context_identifier: str) -> Challenge:
    now = timezone.now()
    nonce = secrets.token_urlsafe(24)
    expires = now + TOKEN_LIFETIME
    token = sign_jwt(
        environment,
        {
            "iss": ISSUER,
            "aud": f"spn:{client_id}",
            "sub": context_identifier,
            f"{CLAIM_PREFIX}ctx": context_identifier,
            "nonce": nonce,
            "iat": int(now.timestamp()),
            "nbf": int(now.timestamp()),
            "exp": int(expires.timestamp()),
        },
    )
    return Challenge(token=token, nonce=nonce, expires_at=expires)


def verify_reply(
    reply: object, *, nonce: str, public_key_pem: str | None, now: datetime | None = None
) -> None:
    """Raise HandshakeFailed with the reason unless ``reply`` is the partner's valid signed answer."""
    if not public_key_pem:
        raise HandshakeFailed("The app has no registered public key in this environment.")
    if not isinstance(reply, str) or reply.count(".") != 2:
        raise HandshakeFailed("The handshake reply is not <nonce>.<timestamp>.<signature>.")
    got_nonce, stamp, signature = reply.split(".")
    if not secrets.compare_digest(got_nonce.encode(), nonce.encode()):
        raise HandshakeFailed("The handshake reply answers another nonce.")
    try:
        signed_at = datetime.strptime(stamp, "%Y%m%d%H%M").replace(tzinfo=UTC)
    except ValueError:
        raise HandshakeFailed("The handshake reply's timestamp is not yyyyMMddHHmm (UTC).") from None
    now = now or timezone.now()
    # The stamp has minute precision: allow the minute it was signed in.
    if not (now - REPLY_TOLERANCE - timedelta(minutes=1) <= signed_at <= now + REPLY_TOLERANCE):
        raise HandshakeFailed(f"The handshake reply is expired or from the future (signed {stamp} UTC).")
    try:
        raw = base64.b64decode(signature, validate=True)
    except (binascii.Error, ValueError):
        raise HandshakeFailed("The handshake reply's signature is not Base64.") from None
    try:
        key = serialization.load_pem_public_key(public_key_pem.encode("ascii"))
    except ValueError:
        raise HandshakeFailed("The app's registered public key cannot be read.") from None
    if not isinstance(key, rsa.RSAPublicKey):
        raise HandshakeFailed("The app's registered key is not an RSA key.")
    try:
        key.verify(raw, f"{got_nonce}.{stamp}".encode(), padding.PKCS1v15(), hashes.SHA256())
    except InvalidSignature:
        raise HandshakeFailed(
            "The handshake reply's signature does not verify with the app's registered public key."
        ) from None
