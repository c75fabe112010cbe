from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models

context_identifier_validator = RegexValidator(
    r"^Cust[0-9]+$", "A context identifier is 'Cust' followed by digits, e.g. Cust12345."
)


class Environment(models.Model):
    """One of sod (development), stage, online (production); created by a data migration."""

    code = models.SlugField(max_length=16, unique=True)
    name = models.CharField(max_length=64)
    rank = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["rank"]

    def __str__(self) -> str:
        return self.code


class TenantState(models.IntegerChoices):
    UNKNOWN = 0, "Unknown"
    PROVISIONING = 1, "Provisioning"
    RUNNING = 2, "Running"
    DELETED = 3, "Deleted"
    SUSPENDED = 4, "Suspended"
    ONLINE_MAINTENANCE = 5, "OnlineMaintenance"
    OFFLINE_MAINTENANCE = 6, "OfflineMaintenance"
    PROVISIONING_FAILED = 8, "ProvisioningFailed"
    DELETING = 10, "Deleting"
    DELETE_FAILED = 11, "DeleteFailed"
    MIGRATION_PENDING = 12, "MigrationPending"


class Tenant(models.Model):
    """One customer's CRM installation in one environment."""

    environment = models.ForeignKey(Environment, on_delete=models.PROTECT, related_name="tenants")
    context_identifier = models.CharField(max_length=32, validators=[context_identifier_validator])
    company_name = models.CharField(max_length=200)
    serial = models.PositiveIntegerField()
    state = models.PositiveSmallIntegerField(choices=TenantState.choices,
                                             default=TenantState.PROVISIONING)
    public_endpoint = models.URLField(blank=True)
    webapi_url = models.URLField(blank=True)
    version_label = models.CharField(max_length=64, blank=True)
    valid_until = models.DateTimeField(null=True, blank=True)
    licences = models.JSONField(default=list, blank=True)
    # Why the tenant is in its state (a provisioning or deletion failure, a suspension); shown to staff.
    state_reason = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    state_changed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["environment__rank", "context_identifier"]
        constraints = [
            models.UniqueConstraint(fields=["environment", "context_identifier"],
                                    name="tenant_ctx_unique_per_environment"),
        ]
        # The staff list filters by state and environment and searches company names.
        indexes = [
            models.Index(fields=["state", "environment"], name="tenant_state_env"),
            models.Index(fields=["company_name"], name="tenant_company_name"),
            # Pattern ops (PostgreSQL only) so a typed prefix of an identifier is looked up by index too.
            models.Index(fields=["context_identifier"], name="tenant_ctx", opclasses=["varchar_pattern_ops"]),
        ]

    def __str__(self) -> str:
        return f"{self.context_identifier} ({self.company_name})"

    @property
    def is_running(self) -> bool:
        return self.state in (TenantState.RUNNING, TenantState.ONLINE_MAINTENANCE)


class TenantMember(models.Model):
    """A user's account in a tenant, with the function rights that make a tenant admin."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="members")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="tenant_memberships")
    is_general_administrator = models.BooleanField(default=False)
    is_user_administrator = models.BooleanField(default=False)
    joined_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["tenant", "user"], name="tenant_member_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.user} @ {self.tenant.context_identifier}"

    @property
    def is_admin(self) -> bool:
        return self.is_general_administrator or self.is_user_administrator


class TenantInvitation(models.Model):
    """An invitation to become a tenant's member, sent by e-mail; the token is kept only as a SHA-256 hash.

    Nobody joins until the person signed in with the invited address accepts it.
    """

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="invitations")
    email = models.EmailField(max_length=254)
    is_admin = models.BooleanField(default=False)
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    invited_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                    on_delete=models.SET_NULL, related_name="+")
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "email"],
                condition=models.Q(accepted_at__isnull=True, revoked_at__isnull=True),
                name="one_open_invitation_per_tenant_email",
            ),
        ]

    def __str__(self) -> str:
        return f"Invitation of {self.email} to {self.tenant.context_identifier}"
