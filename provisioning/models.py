"""The login service's data: signing keys, tenant authorizations (consent), the OAuth client,
code, token and ID-token rows of django-oauth-toolkit (swapped in here so each carries its
authorization), system-user tickets, custom-app authorization requests and the state-change
notifications sent to apps with their delivery attempts."""

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone
from oauth2_provider.models import (
    AbstractAccessToken,
    AbstractApplication,
    AbstractGrant,
    AbstractIDToken,
    AbstractRefreshToken,
)

from appstore.models import App, AppClient
from tenants.models import Environment, Tenant, TenantState
from tenants.signals import ChangeType

from .oidc.context import current_environment


class SigningKeyState(models.TextChoices):
    ACTIVE = "active", "Active"
    RETIRING = "retiring", "Retiring (still in the JWKS)"
    RETIRED = "retired", "Retired"


class SigningKey(models.Model):
    """One of an environment's RSA keys for id_tokens and system-user JWTs.

    The private key is kept encrypted with a key from the process environment; ``kid`` is the
    RFC 7638 thumbprint of the public key.
    """

    environment = models.ForeignKey(Environment, on_delete=models.PROTECT, related_name="+")
    kid = models.CharField(max_length=64, unique=True)
    private_key_encrypted = models.TextField(editable=False)
    public_jwk = models.JSONField()
    state = models.CharField(max_length=16, choices=SigningKeyState.choices, default=SigningKeyState.ACTIVE)
    created_at = models.DateTimeField(auto_now_add=True)
    retiring_since = models.DateTimeField(null=True, blank=True)
    # While retiring, the key stays in the JWKS until then so tokens it signed still verify.
    published_until = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["environment__rank", "-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["environment"], condition=models.Q(state="active"),
                                    name="one_active_signing_key_per_environment"),
        ]
        indexes = [models.Index(fields=["environment", "state"], name="signing_key_env_state_idx")]

    def __str__(self) -> str:
        return f"{self.environment} key {self.kid[:12]}… ({self.state})"


class AuthorizationStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    EXPIRED = "expired", "Expired"
    REVOKED = "revoked", "Revoked (uninstalled)"


class AuthorizationError(models.IntegerChoices):
    """The login service's authorization error codes, shown on error pages and in logs."""

    NO_ERROR = 0, "NoError"
    REVOKED = 1, "Revoked"
    INVALID_REDIRECT_URL = 2, "InvalidRedirectUrl"
    EXPIRED = 3, "Expired"
    DENIED = 4, "Denied"
    NEEDS_REAPPROVAL = 5, "NeedsReapproval"
    INVALID_TIMESTAMP = 6, "InvalidTimestamp"
    INVALID_SIGNATURE = 7, "InvalidSignature"


# A tenant in these states is gone for good: its apps are neither in force nor uninstallable.
TENANT_GONE_STATES = (TenantState.DELETING, TenantState.DELETED)


def tenant_gone(tenant: Tenant) -> bool:
    return tenant.state in TENANT_GONE_STATES


class Authorization(models.Model):
    """An app installed in one tenant: the tenant admin's consent (or staff activation)."""

    app = models.ForeignKey(App, on_delete=models.CASCADE, related_name="authorizations")
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="authorizations")
    status = models.CharField(max_length=16, choices=AuthorizationStatus.choices,
                              default=AuthorizationStatus.ACTIVE)
    needs_reapproval = models.BooleanField(default=False)
    reapproval_reason = models.CharField(max_length=300, blank=True)
    approved_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                    on_delete=models.SET_NULL, related_name="+")
    approved_at = models.DateTimeField(null=True, blank=True)
    valid_from = models.DateTimeField(default=timezone.now)
    valid_to = models.DateTimeField(null=True, blank=True)
    # The consent text as the approver saw it, and what approving allowed.
    consent_text = models.TextField(blank=True)
    consent_grants = models.JSONField(default=list, blank=True)
    # Constant per app and tenant: "<App name>-<10 letters and digits>".
    system_user_token = models.CharField(max_length=120, unique=True)
    # Set when staff activated a custom (Explicit-level) app for this one tenant.
    activated_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                     on_delete=models.SET_NULL, related_name="+")
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-approved_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["app", "tenant"], name="one_authorization_per_app_tenant"),
        ]
        indexes = [models.Index(fields=["tenant", "status"], name="authorization_tenant_idx")]

    def __str__(self) -> str:
        return f"{self.app} in {self.tenant.context_identifier} ({self.status})"

    @property
    def current_status(self) -> str:
        """The status with the to-date applied: an active row past valid_to is expired."""
        if self.status == AuthorizationStatus.ACTIVE and self.valid_to and self.valid_to <= timezone.now():
            return AuthorizationStatus.EXPIRED
        return self.status

    @property
    def tenant_gone(self) -> bool:
        return tenant_gone(self.tenant)

    @property
    def is_usable(self) -> bool:
        return self.current_status == AuthorizationStatus.ACTIVE and not self.needs_reapproval


class LoginClientManager(models.Manager):
    """Clients of the environment the current login request is for (see oidc.context)."""

    def get_queryset(self):
        queryset = super().get_queryset()
        code = current_environment.get()
        if code is not None:
            queryset = queryset.filter(environment__code=code)
        return queryset


class LoginClient(AbstractApplication):
    """django-oauth-toolkit's application row for one AppClient (an app in one environment).

    The registry in the App Store room stays the source of truth: the client ID is copied from
    it on every save of the AppClient; redirect URLs, secret and key are read from it.
    """

    client_id = models.CharField(max_length=32, db_index=True)
    app_client = models.OneToOneField(AppClient, on_delete=models.CASCADE, related_name="login_client")
    environment = models.ForeignKey(Environment, on_delete=models.PROTECT, related_name="+")

    objects = LoginClientManager()

    class Meta(AbstractApplication.Meta):
        swappable = "OAUTH2_PROVIDER_APPLICATION_MODEL"
        base_manager_name = "objects_all"
        constraints = [
            models.UniqueConstraint(fields=["environment", "client_id"],
                                    name="login_client_unique_per_environment"),
        ]

    objects_all = models.Manager()


class Grant(AbstractGrant):
    """An authorization code, bound to the tenant authorization it was issued under."""

    authorization = models.ForeignKey(Authorization, on_delete=models.CASCADE, related_name="+")
    # Set when the code is exchanged; the row stays until it expires so a replay is recognised.
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta(AbstractGrant.Meta):
        swappable = "OAUTH2_PROVIDER_GRANT_MODEL"


class IDToken(AbstractIDToken):
    class Meta(AbstractIDToken.Meta):
        swappable = "OAUTH2_PROVIDER_ID_TOKEN_MODEL"


class AccessToken(AbstractAccessToken):
    """An opaque access token ``8A:<ctx>.<random>``; only its checksum is stored."""

    authorization = models.ForeignKey(Authorization, on_delete=models.CASCADE, related_name="+")
    # Issued to the platform's integration service (SPEC §9) for a run of the app, not to a person.
    integration_service = models.BooleanField(default=False)

    class Meta(AbstractAccessToken.Meta):
        swappable = "OAUTH2_PROVIDER_ACCESS_TOKEN_MODEL"


class RefreshToken(AbstractRefreshToken):
    authorization = models.ForeignKey(Authorization, on_delete=models.CASCADE, related_name="+")

    class Meta(AbstractRefreshToken.Meta):
        swappable = "OAUTH2_PROVIDER_REFRESH_TOKEN_MODEL"


class SystemUserTicket(models.Model):
    """A ticket ``7T:<random>`` from a system-user exchange; only its SHA-256 is stored."""

    authorization = models.ForeignKey(Authorization, on_delete=models.CASCADE, related_name="tickets")
    checksum = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(db_index=True)  # the hourly clean-up finds idle tickets by it

    def __str__(self) -> str:
        return f"Ticket for {self.authorization}"


class AuthorizationRequestState(models.TextChoices):
    REQUESTED = "requested", "Waiting for staff"
    ACTIVATED = "activated", "Activated; waiting for the customer's confirmation"
    CONFIRMED = "confirmed", "Confirmed by the customer"
    REJECTED = "rejected", "Rejected"


class AuthorizationRequest(models.Model):
    """A partner's request that staff activate a custom app for one customer's tenant."""

    app = models.ForeignKey(App, on_delete=models.CASCADE, related_name="authorization_requests")
    environment = models.ForeignKey(Environment, on_delete=models.PROTECT, related_name="+")
    customer_name = models.CharField(max_length=200)
    context_identifier = models.CharField(max_length=32)
    contact_email = models.EmailField()
    note = models.TextField(blank=True, max_length=2000)
    state = models.CharField(max_length=16, choices=AuthorizationRequestState.choices,
                             default=AuthorizationRequestState.REQUESTED)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL,
                                     related_name="+")
    requested_at = models.DateTimeField(auto_now_add=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_reason = models.TextField(blank=True)
    authorization = models.ForeignKey(Authorization, null=True, blank=True, on_delete=models.SET_NULL,
                                      related_name="requests")
    confirmation_checksum = models.CharField(max_length=64, blank=True, editable=False)
    confirmed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-requested_at", "-id"]
        indexes = [models.Index(fields=["state", "requested_at"], name="authz_request_queue_idx")]

    def __str__(self) -> str:
        return f"{self.app} for {self.context_identifier} ({self.state})"


class ResourceServer(models.Model):
    """A service that introspects any token of its environment (a tenant's CRM API).

    Apps may introspect only their own tokens; a resource server authenticates with its own
    client ID and secret (shown once by ``manage.py create_resource_server``).
    """

    environment = models.ForeignKey(Environment, on_delete=models.PROTECT, related_name="+")
    name = models.CharField(max_length=120)
    client_id = models.CharField(max_length=32, unique=True)
    secret_hash = models.CharField(max_length=256, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.name} ({self.environment})"


class DeliveryState(models.TextChoices):
    PENDING = "pending", "Pending"
    DELIVERED = "delivered", "Delivered"
    FAILED = "failed", "Failed"


class StateChangeNotification(models.Model):
    """One event for one app's customer state change endpoint: a tenant's state changed, or the
    app was installed, re-approved or uninstalled there (SPEC §6).

    ``event_id`` is the Token's ``jti``, the same on every retry and redelivery so the partner can
    ignore an event it has handled; ``body`` is the JSON posted, except the Token, which is signed
    afresh for each attempt.
    """

    event_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    app = models.ForeignKey(App, on_delete=models.CASCADE, related_name="state_change_notifications")
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+")
    authorization = models.ForeignKey(Authorization, on_delete=models.CASCADE, related_name="notifications")
    environment = models.ForeignKey(Environment, on_delete=models.PROTECT, related_name="+")
    change_type = models.PositiveSmallIntegerField(choices=ChangeType.choices)
    body = models.JSONField(default=dict)
    created_at = models.DateTimeField(default=timezone.now)
    state = models.CharField(max_length=16, choices=DeliveryState.choices, default=DeliveryState.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    # Delivery stops failing for good after this many attempts; a redelivery allows one more.
    max_attempts = models.PositiveSmallIntegerField(default=1)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    # The technical contact hears of a failed event once, however often it is redelivered.
    failure_reported_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["app", "-created_at", "-id"], name="notification_app_idx"),
            models.Index(fields=["app", "state", "-created_at"], name="notification_app_state_idx"),
            models.Index(fields=["app", "change_type", "-created_at"], name="notification_app_type_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_change_type_display()} of {self.tenant_id} for {self.app} ({self.state})"


class DeliveryAttempt(models.Model):
    """One HTTP POST of a notification: what came back and how long it took."""

    MAX_ERROR_LENGTH = 500

    notification = models.ForeignKey(StateChangeNotification, on_delete=models.CASCADE,
                                     related_name="delivery_attempts")
    number = models.PositiveSmallIntegerField()
    attempted_at = models.DateTimeField(default=timezone.now)
    url = models.URLField(max_length=2000, blank=True)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    duration_ms = models.PositiveIntegerField(default=0)
    error = models.CharField(max_length=MAX_ERROR_LENGTH, blank=True)

    class Meta:
        ordering = ["notification", "number"]
        constraints = [
            models.UniqueConstraint(fields=["notification", "number"], name="one_attempt_per_number"),
        ]

    def __str__(self) -> str:
        return f"Attempt {self.number} of {self.notification_id}: {self.status_code or self.error[:40]}"

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300
