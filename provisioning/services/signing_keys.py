"""The environments' own RSA signing keys: created on first use, encrypted at rest, rotated with
a grace period during which the retiring key stays in the JWKS."""

import base64
import functools
import hashlib
import json
from datetime import timedelta

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from jwcrypto import jwk, jwt

from audit.models import AuditEntry
from audit.services import record
from tenants.models import Environment

from ..models import SigningKey, SigningKeyState

KEY_BITS = 2048


def _fernet() -> Fernet:
    digest = hashlib.sha256(settings.SIGNING_KEY_ENCRYPTION_KEY.encode()).digest()
    return Fernet(base64.urlsafe_b64encode(digest))


@functools.lru_cache(maxsize=16)
def _decrypted_jwk(kid: str, encrypted: str, encryption_key: str) -> jwk.JWK:
    """Decrypting and parsing a key costs tens of milliseconds; each process keeps the few it uses."""
    digest = hashlib.sha256(encryption_key.encode()).digest()
    try:
        pem = Fernet(base64.urlsafe_b64encode(digest)).decrypt(encrypted.encode())
    except InvalidToken as exc:
        raise RuntimeError(
            f"Signing key {kid} cannot be decrypted: SIGNING_KEY_ENCRYPTION_KEY differs from the "
            "one it was stored with."
        ) from exc
    return jwk.JWK.from_pem(pem)


def _new_key(environment: Environment, state: str = SigningKeyState.ACTIVE) -> SigningKey:
    private = rsa.generate_private_key(public_exponent=65537, key_size=KEY_BITS)
    pem = private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    public = jwk.JWK.from_pem(pem)
    kid = public.thumbprint()
    public_jwk = {**json.loads(public.export_public()), "kid": kid, "use": "sig", "alg": "RS256"}
    return SigningKey.objects.create(
        environment=environment,
        kid=kid,
        state=state,
        public_jwk=public_jwk,
        private_key_encrypted=_fernet().encrypt(pem).decode(),
    )


def active_key(environment: Environment) -> SigningKey:
    """The environment's active key, created on first use."""
    key = SigningKey.objects.filter(environment=environment, state=SigningKeyState.ACTIVE).first()
    if key is not None:
        return key
    try:
        with transaction.atomic():
            return _new_key(environment)
    except IntegrityError:  # another process created it first
        return SigningKey.objects.get(environment=environment, state=SigningKeyState.ACTIVE)


def active_jwk(environment: Environment) -> jwk.JWK:
    """The active private key as a JWK whose thumbprint is its kid."""
    key = active_key(environment)
    return _decrypted_jwk(key.kid, key.private_key_encrypted, settings.SIGNING_KEY_ENCRYPTION_KEY)


def sign_jwt(environment: Environment, claims: dict) -> str:
    """An RS256 JWT signed with the environment's active key, its kid in the header."""
    key = active_jwk(environment)
    token = jwt.JWT(header={"alg": "RS256", "typ": "JWT", "kid": key.thumbprint()},
                    claims=json.dumps(claims, default=str))
    token.make_signed_token(key)
    return token.serialize()


def public_key_set(environment: Environment) -> jwk.JWKSet:
    keys = jwk.JWKSet()
    for public in published_keys(environment):
        keys.add(jwk.JWK(**public))
    return keys


def published_keys(environment: Environment) -> list[dict]:
    """The public JWKs an environment's JWKS lists: the active key and keys still in grace."""
    active_key(environment)
    now = timezone.now()
    keys = (
        SigningKey.objects.filter(environment=environment)
        .filter(Q(state=SigningKeyState.ACTIVE) | Q(state=SigningKeyState.RETIRING, published_until__gt=now))
        .order_by("-created_at")
    )
    return [key.public_jwk for key in keys]


@transaction.atomic
def rotate(
    *, environment: Environment, grace: timedelta | None = None
) -> tuple[SigningKey, SigningKey | None]:
    """Make a new active key; the old one keeps being published for the grace period."""
    if grace is None:
        grace = timedelta(seconds=settings.SIGNING_KEY_GRACE_SECONDS)
    now = timezone.now()
    old = (
        SigningKey.objects.select_for_update()
        .filter(environment=environment, state=SigningKeyState.ACTIVE)
        .first()
    )
    SigningKey.objects.filter(
        environment=environment, state=SigningKeyState.RETIRING, published_until__lte=now
    ).update(state=SigningKeyState.RETIRED)
    if old is not None:
        old.state = SigningKeyState.RETIRING
        old.retiring_since = now
        old.published_until = now + grace
        old.save(update_fields=["state", "retiring_since", "published_until"])
    new = _new_key(environment)
    record(
        event_type="signing_key.rotated",
        source=AuditEntry.Source.SYSTEM,
        message=(
            f"Signing key of {environment.code} rotated: new key {new.kid}"
            + (f"; {old.kid} stays in the JWKS until {old.published_until:%Y-%m-%d %H:%M} UTC" if old else "")
        ),
    )
    return new, old
