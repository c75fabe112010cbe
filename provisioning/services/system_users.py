"""System users: a partner signs the tenant's constant system-user token with its registered key
and exchanges it for a ticket ``7T:<random>`` that acts without any user's rights."""

import base64
import binascii
import logging
import secrets
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from django.db import transaction
from django.utils import timezone

from accounts.tokens import token_checksum
from appstore.models import AppClient, ClientCertificate, ClientSecret
from audit.models import AuditEntry
from audit.services import record
from tenants.models import Environment

from ..models import Authorization, AuthorizationError, AuthorizationStatus, SystemUserTicket
from ..oidc.claims import claim
from .signing_keys import sign_jwt

logger = logging.getLogger(__name__)

TIMESTAMP_WINDOW = timedelta(minutes=5)
TICKET_IDLE = timedelta(hours=6)
TICKET_ISSUER = "SuperOffice AS"  # kept for compatibility with partner code
MAX_FIELD = 4096


@dataclass
class ExchangeResult:
    ok: bool
    token: str = ""
    error: str = ""
    code: AuthorizationError = AuthorizationError.NO_ERROR
    bad_input: bool = False


class ExchangeError(Exception):
    def __init__(self, code: AuthorizationError, message: str, *, bad_input: bool = False):
        super().__init__(message)
        self.code = code
        self.message = message
        self.bad_input = bad_input


def _field(payload: dict, name: str) -> str:
    value = payload.get(name)
    if not isinstance(value, str) or not value.strip():
        raise ExchangeError(
            AuthorizationError.DENIED, f"{name} is missing; it must be a non-empty string.", bad_input=True
        )
    if len(value) > MAX_FIELD:
        raise ExchangeError(
            AuthorizationError.DENIED, f"{name} is longer than {MAX_FIELD} characters.", bad_input=True
        )
    return value.strip()


def _parse_signed(signed: str) -> tuple[str, str, bytes]:
    """Split ``<token>.<yyyyMMddHHmm>.<base64 signature>``; the token itself may hold dots."""
    parts = signed.rsplit(".", 2)
    if len(parts) != 3 or not parts[0]:
        raise ExchangeError(
            AuthorizationError.INVALID_SIGNATURE,
            "SignedSystemToken must be <system user token>.<yyyyMMddHHmm>.<signature>.",
            bad_input=True,
        )
    token, stamp, signature = parts
    try:
        raw = base64.b64decode(signature, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ExchangeError(
            AuthorizationError.INVALID_SIGNATURE, "The signature is not standard Base64."
        ) from exc
    return token, stamp, raw


def _check_timestamp(stamp: str, now: datetime) -> None:
    try:
        if len(stamp) != 12 or not stamp.isdigit():
            raise ValueError
        when = datetime.strptime(stamp, "%Y%m%d%H%M").replace(tzinfo=UTC)
    except ValueError as exc:
        raise ExchangeError(
            AuthorizationError.INVALID_TIMESTAMP, "The timestamp must be the UTC time as yyyyMMddHHmm."
        ) from exc
    if abs(now - when) > TIMESTAMP_WINDOW:
        raise ExchangeError(
            AuthorizationError.INVALID_TIMESTAMP,
            "The timestamp is more than 5 minutes from the current UTC time; check the clock.",
        )


def _verify_signature(public_key_pem: str, message: str, signature: bytes) -> None:
    key = serialization.load_pem_public_key(public_key_pem.encode())
    if not isinstance(key, rsa.RSAPublicKey):
        raise ExchangeError(AuthorizationError.INVALID_SIGNATURE, "The registered key is not an RSA key.")
    try:
        key.verify(signature, message.encode("utf-8"), padding.PKCS1v15(), hashes.SHA256())
    except InvalidSignature as exc:
        raise ExchangeError(
            AuthorizationError.INVALID_SIGNATURE,
            "The signature does not verify with the app's registered public key.",
        ) from exc


def _ticket_jwt(environment: Environment, authorization: Authorization, ticket: str) -> str:
    tenant = authorization.tenant
    now = int(time.time())
    claims = {
        "iss": TICKET_ISSUER,
        "aud": f"spn:{tenant.serial}",
        "iat": now,
        "nbf": now,
        "exp": now + int(TICKET_IDLE.total_seconds()),
        "jti": str(uuid.uuid4()),
        claim("ticket"): ticket,
        claim("ctx"): tenant.context_identifier,
        claim("is_system_user"): "True",
    }
    return sign_jwt(environment, claims)


def exchange(*, environment: Environment, payload: object, now: datetime | None = None) -> ExchangeResult:
    """Check a signed system-user token and issue a ticket; failures are audited, never raised."""
    now = now or timezone.now()
    authorization = None
    try:
        if not isinstance(payload, dict):
            raise ExchangeError(AuthorizationError.DENIED, "The body must be a JSON object.", bad_input=True)
        signed = _field(payload, "SignedSystemToken")
        secret = _field(payload, "ApplicationToken")
        ctx = _field(payload, "ContextIdentifier")
        return_type = payload.get("ReturnTokenType", "JWT")
        if return_type not in ("JWT", None):
            raise ExchangeError(AuthorizationError.DENIED, 'ReturnTokenType must be "JWT".', bad_input=True)
        token, stamp, signature = _parse_signed(signed)
        authorization = (
            Authorization.objects.select_related("app__partner", "tenant")
            .filter(
                tenant__environment=environment, tenant__context_identifier=ctx, system_user_token=token
            )
            .first()
        )
        if authorization is None:
            # One answer whether the tenant or the token is unknown: it tells a stranger nothing.
            raise ExchangeError(
                AuthorizationError.DENIED,
                f"The system user token does not belong to an app installed in {ctx[:40]} "
                f"({environment.code}).",
            )
        client = AppClient.objects.filter(app=authorization.app, environment=environment).first()
        stored_secret = ClientSecret.objects.filter(client=client).first() if client else None
        if stored_secret is None or not stored_secret.matches(secret):
            raise ExchangeError(AuthorizationError.DENIED, "ApplicationToken is not the app's client secret.")
        status = authorization.current_status
        if status == AuthorizationStatus.REVOKED:
            raise ExchangeError(AuthorizationError.REVOKED, "The app was uninstalled from this tenant.")
        if status == AuthorizationStatus.EXPIRED:
            raise ExchangeError(AuthorizationError.EXPIRED, "The app's authorization in this tenant expired.")
        if authorization.needs_reapproval:
            raise ExchangeError(
                AuthorizationError.NEEDS_REAPPROVAL, "A tenant administrator must approve the app again."
            )
        _check_timestamp(stamp, now)
        certificate = ClientCertificate.objects.filter(client=client, approved_at__isnull=False).first()
        if certificate is None:
            raise ExchangeError(
                AuthorizationError.INVALID_SIGNATURE,
                f"The app has no approved public key for {environment.code}.",
            )
        _verify_signature(certificate.public_key_pem, f"{token}.{stamp}", signature)
    except ExchangeError as error:
        message = f"System user exchange refused in {environment.code}: {error.code.label}: {error.message}"
        if authorization is not None:
            # The partner's log shows why its app was refused; anonymous noise goes to the server log.
            record(
                event_type="system_user.refused",
                source=AuditEntry.Source.CONSENT,
                partner=authorization.app.partner,
                app=authorization.app,
                tenant=authorization.tenant,
                message=message,
            )
        else:
            logger.info(message)
        return ExchangeResult(
            ok=False, error=f"{error.code.label}: {error.message}", code=error.code, bad_input=error.bad_input
        )
    ticket = "7T:" + secrets.token_urlsafe(32)
    SystemUserTicket.objects.create(
        authorization=authorization, checksum=token_checksum(ticket), last_used_at=now
    )
    return ExchangeResult(ok=True, token=_ticket_jwt(environment, authorization, ticket))


@transaction.atomic
def use_ticket(
    *, environment: Environment, ticket: str, now: datetime | None = None
) -> SystemUserTicket | None:
    """The live ticket (sliding its idle expiry), or None when unknown, idle too long or revoked."""
    now = now or timezone.now()
    row = (
        SystemUserTicket.objects.select_for_update()
        .select_related("authorization__tenant", "authorization__app")
        .filter(checksum=token_checksum(ticket), authorization__tenant__environment=environment)
        .first()
    )
    if row is None:
        return None
    if now - row.last_used_at > TICKET_IDLE or not row.authorization.is_usable:
        row.delete()
        return None
    row.last_used_at = now
    row.save(update_fields=["last_used_at"])
    return row
