"""Sign a system-user token, the first step of the partner system-user exchange.

The platform gives an approved app a constant system-user token per tenant (it arrives as the
``system_token`` claim of the id_token). To get a ticket for that tenant without a signed-in
user, the app signs ``<system_token>.<UTC now as yyyyMMddHHmm>`` with its private RSA key and
sends the result to ``<issuer>/login/api/PartnerSystemUser/Authenticate``.
"""

from __future__ import annotations

import base64
from datetime import UTC, datetime

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

TIMESTAMP_FORMAT = "%Y%m%d%H%M"  # yyyyMMddHHmm


def sign_system_token(system_token: str, private_key_pem: str | bytes, now: datetime | None = None) -> str:
    """Return ``<system_token>.<yyyyMMddHHmm>.<standard base64 signature>``.

    The signature is RSA PKCS#1 v1.5 with SHA-256 over ``<system_token>.<yyyyMMddHHmm>``.
    ``now`` defaults to the current time; a naive datetime is taken as UTC. The platform
    refuses timestamps more than five minutes away from its clock, so sign just before sending.
    """
    if now is None:
        now = datetime.now(UTC)
    elif now.tzinfo is None:
        now = now.replace(tzinfo=UTC)
    stamped = f"{system_token}.{now.astimezone(UTC).strftime(TIMESTAMP_FORMAT)}"

    if isinstance(private_key_pem, str):
        private_key_pem = private_key_pem.encode()
    key = serialization.load_pem_private_key(private_key_pem, password=None)
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ValueError("The private key must be an RSA key.")

    signature = key.sign(stamped.encode(), padding.PKCS1v15(), hashes.SHA256())
    return f"{stamped}.{base64.b64encode(signature).decode('ascii')}"
