"""The client-ID registry: client IDs, secrets and certificates per environment.

Secrets and private keys leave these functions only as return values, to be shown once:
they are never stored (a secret is kept as a password hash), never audited and never logged.
"""

import secrets
import uuid
from datetime import datetime, timedelta

from django.contrib.auth.hashers import check_password
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.views.decorators.debug import sensitive_variables

from audit import services as audit
from audit.models import AuditEntry
from tenants.models import Environment

from .. import keys
from ..hashers import hash_generated_secret
from ..models import App, AppClient, CertificateOrigin, ClientCertificate, ClientSecret
from ..permissions import require_app_permission

CLIENT_ID_TAKEN = "This Client ID is already in use by another application."
SECRET_EXISTS = "Delete the existing secret before creating a new one."
NO_SECRET = "This client has no secret to delete."
CERTIFICATE_EXISTS = "Delete the existing certificate first."
NO_CERTIFICATE = "This client has no certificate to delete."
EXPIRY_IN_PAST = "Choose an expiry date in the future."
EXPIRY_TOO_FAR = "Choose an expiry date at most 10 years ahead."
DESCRIPTION_TOO_LONG = "Keep the description to 200 characters."

DEFAULT_VALIDITY = timedelta(days=730)  # two years
MAX_VALIDITY = timedelta(days=3653)
SECRET_BYTES = 32
# A raw secret is token_urlsafe(32): 43 characters. Anything much longer is not one of ours.
MAX_SECRET_LENGTH = 256
# The environment where credentials are active at once; elsewhere a publish request decides.
IMMEDIATE_ENVIRONMENT = "sod"


def new_client_id() -> str:
    """32 lowercase hex characters (SPEC §3)."""
    return uuid.uuid4().hex


def create_clients(*, app: App) -> list[AppClient]:
    """One client per environment, made with the app; regenerable later, never typed."""
    return [AppClient.objects.create(app=app, environment=env, client_id=new_client_id())
            for env in Environment.objects.all()]


def default_expiry() -> datetime:
    return timezone.now() + DEFAULT_VALIDITY


# ---------------------------------------------------------------- helpers

def _locked(client: AppClient) -> AppClient:
    """The client row, locked for this transaction, with what the checks below read."""
    return AppClient.objects.select_for_update(of=("self",)).select_related(
        "app__partner", "environment").get(pk=client.pk)


def _authorised(actor, client: AppClient) -> AppClient:
    locked = _locked(client)
    require_app_permission(user=actor, app=locked.app, permission="configuration")
    return locked


def _record(*, actor, client: AppClient, event_type: str, message: str, changes: dict) -> None:
    audit.record(event_type=event_type, actor=actor, source=AuditEntry.Source.PORTAL,
                 partner=client.app.partner, app=client.app, message=message, changes=changes)


def _check_expiry(expires_at: datetime) -> datetime:
    now = timezone.now()
    if expires_at <= now:
        raise ValidationError({"expires_at": EXPIRY_IN_PAST})
    if expires_at > now + MAX_VALIDITY:
        raise ValidationError({"expires_at": EXPIRY_TOO_FAR})
    return expires_at


def _check_description(description: str) -> str:
    description = " ".join((description or "").split())
    if len(description) > ClientCertificate._meta.get_field("description").max_length:
        raise ValidationError({"description": DESCRIPTION_TOO_LONG})
    return description


def secret_of(client: AppClient) -> ClientSecret | None:
    try:
        return client.secret
    except ClientSecret.DoesNotExist:
        return None


def certificate_of(client: AppClient) -> ClientCertificate | None:
    try:
        return client.certificate
    except ClientCertificate.DoesNotExist:
        return None


# ---------------------------------------------------------------- client ID

def client_id_taken(*, environment_id: int, client_id: str) -> bool:
    return AppClient.objects.filter(environment_id=environment_id, client_id=client_id).exists()


@transaction.atomic
def regenerate_client_id(*, actor, client: AppClient) -> AppClient:
    """A new generated client ID; the old one stops working at once."""
    client = _authorised(actor, client)
    old, new = client.client_id, new_client_id()
    if client_id_taken(environment_id=client.environment_id, client_id=new):
        raise ValidationError(CLIENT_ID_TAKEN, code="client_id_taken")
    client.client_id = new
    client.client_id_changed_at = timezone.now()
    try:
        with transaction.atomic():
            client.save(update_fields=["client_id", "client_id_changed_at"])
    except IntegrityError:
        # Taken between the check and the write (client_id_unique_per_environment).
        raise ValidationError(CLIENT_ID_TAKEN, code="client_id_taken") from None
    env = client.environment.code
    _record(actor=actor, client=client, event_type="client_id_regenerated",
            message=f"Client ID regenerated for {env}", changes={"client_id": [old, new]})
    return client


# ---------------------------------------------------------------- client secret

@sensitive_variables("raw")
@transaction.atomic
def create_secret(*, actor, client: AppClient, expires_at: datetime | None = None
                  ) -> tuple[ClientSecret, str]:
    """A new secret; the raw value is returned once, only its hash is stored."""
    client = _authorised(actor, client)
    if ClientSecret.objects.filter(client=client).exists():
        raise ValidationError(SECRET_EXISTS, code="secret_exists")
    expires_at = _check_expiry(expires_at or default_expiry())
    raw = secrets.token_urlsafe(SECRET_BYTES)
    try:
        with transaction.atomic():
            secret = ClientSecret.objects.create(client=client, secret_hash=hash_generated_secret(raw),
                                                 expires_at=expires_at, created_by=actor)
    except IntegrityError:
        raise ValidationError(SECRET_EXISTS, code="secret_exists") from None
    env = client.environment.code
    _record(actor=actor, client=client, event_type="client_secret_created",
            message=f"Client secret created for {env}",
            changes={"client_secret": [None, "created"],
                     "expires_at": [None, expires_at.date().isoformat()]})
    return secret, raw


@transaction.atomic
def delete_secret(*, actor, client: AppClient) -> None:
    client = _authorised(actor, client)
    secret = ClientSecret.objects.filter(client=client).first()
    if secret is None:
        raise ValidationError(NO_SECRET, code="no_secret")
    expires_at = secret.expires_at
    secret.delete()
    env = client.environment.code
    _record(actor=actor, client=client, event_type="client_secret_deleted",
            message=f"Client secret deleted for {env}",
            changes={"client_secret": ["created", None],
                     "expires_at": [expires_at.date().isoformat(), None]})


@sensitive_variables("raw")
def verify_client_secret(*, environment_code: str, client_id: str, raw: str) -> AppClient | None:
    """The client whose secret this is, or None; the comparison is check_password's.

    An unknown client or a client without a secret costs one hash too, so timing does not
    tell which client IDs exist.
    """
    if not isinstance(raw, str) or not raw or len(raw) > MAX_SECRET_LENGTH:
        return None
    client = (AppClient.objects.select_related("app", "environment", "secret")
              .filter(environment__code=environment_code, client_id=client_id).first()
              if isinstance(client_id, str) and client_id else None)
    secret = secret_of(client) if client is not None else None
    if secret is None:
        hash_generated_secret(raw)  # same work as a real check
        return None
    return client if check_password(raw, secret.secret_hash) else None


# ---------------------------------------------------------------- certificate

def _certificate_precheck(actor, client: AppClient, description: str, expires_at: datetime
                          ) -> tuple[AppClient, str, datetime]:
    client = _authorised(actor, client)
    if ClientCertificate.objects.filter(client=client).exists():
        raise ValidationError(CERTIFICATE_EXISTS, code="certificate_exists")
    return client, _check_description(description), _check_expiry(expires_at)


def _store_certificate(*, actor, client: AppClient, info: keys.PublicKeyInfo, description: str,
                       expires_at: datetime, origin: str) -> ClientCertificate:
    immediate = client.environment.code == IMMEDIATE_ENVIRONMENT
    try:
        with transaction.atomic():
            certificate = ClientCertificate.objects.create(
                client=client, public_key_pem=info.pem, key_bits=info.bits,
                fingerprint=info.fingerprint, description=description, expires_at=expires_at,
                origin=origin, created_by=actor, approved_at=timezone.now() if immediate else None)
    except IntegrityError:
        raise ValidationError(CERTIFICATE_EXISTS, code="certificate_exists") from None
    verb = "generated" if origin == CertificateOrigin.GENERATED else "uploaded"
    env = client.environment.code
    _record(actor=actor, client=client, event_type=f"client_certificate_{verb}",
            message=f"Certificate {verb} for {env}"
                    + ("" if immediate else "; active once a configuration for it is approved"),
            changes={"certificate": [None, f"RSA {info.bits}, SHA-256 {info.fingerprint}"],
                     "description": [None, description],
                     "expires_at": [None, expires_at.date().isoformat()]})
    return certificate


@sensitive_variables("pair")
@transaction.atomic
def generate_certificate(*, actor, client: AppClient, description: str, expires_at: datetime,
                         key_bits: int = keys.DEFAULT_KEY_BITS) -> tuple[ClientCertificate, str, str]:
    """A key pair made here: the public key is stored, the private key returned once (PEM, RSA-XML)."""
    client, description, expires_at = _certificate_precheck(actor, client, description, expires_at)
    pair = keys.generate_key_pair(key_bits)
    certificate = _store_certificate(actor=actor, client=client, info=pair.public,
                                     description=description, expires_at=expires_at,
                                     origin=CertificateOrigin.GENERATED)
    return certificate, pair.private_pem, pair.private_xml


@sensitive_variables("public_key_text")
@transaction.atomic
def upload_certificate(*, actor, client: AppClient, public_key_text: str | bytes, description: str,
                       expires_at: datetime) -> ClientCertificate:
    """The partner's own RSA public key (PEM, RSA PUBLIC KEY, X.509 certificate or RSA-XML)."""
    client, description, expires_at = _certificate_precheck(actor, client, description, expires_at)
    try:
        info = keys.parse_public_key(public_key_text)
    except ValidationError as exc:
        raise ValidationError({"public_key": exc.error_list}) from None
    return _store_certificate(actor=actor, client=client, info=info, description=description,
                              expires_at=expires_at, origin=CertificateOrigin.UPLOADED)


@transaction.atomic
def delete_certificate(*, actor, client: AppClient) -> None:
    client = _authorised(actor, client)
    certificate = ClientCertificate.objects.filter(client=client).first()
    if certificate is None:
        raise ValidationError(NO_CERTIFICATE, code="no_certificate")
    summary = f"RSA {certificate.key_bits}, SHA-256 {certificate.fingerprint}"
    certificate.delete()
    env = client.environment.code
    _record(actor=actor, client=client, event_type="client_certificate_deleted",
            message=f"Certificate deleted for {env}", changes={"certificate": [summary, None]})
