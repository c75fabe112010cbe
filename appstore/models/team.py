"""The partner's team beyond membership: invitations, API tokens, and the versioned profile."""

import uuid

from django.conf import settings
from django.db import models

from .core import Partner, ReviewedVersion


class Invitation(models.Model):
    """An invitation to join a partner, sent by e-mail; the token is kept only as a hash."""

    partner = models.ForeignKey(Partner, on_delete=models.CASCADE, related_name="invitations")
    email = models.EmailField()
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    can_read = models.BooleanField(default=True)
    can_app_store = models.BooleanField(default=False)
    can_configuration = models.BooleanField(default=False)
    can_users = models.BooleanField(default=False)
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
                fields=["partner", "email"],
                condition=models.Q(accepted_at__isnull=True, revoked_at__isnull=True),
                name="one_open_invitation_per_partner_email",
            ),
        ]

    def __str__(self) -> str:
        return f"Invitation of {self.email} to {self.partner}"


class PartnerApiToken(models.Model):
    """A token for the partner REST API: shown once, kept as a SHA-256 hash, revocable.

    It acts for the member who created it, with that member's permissions at the time of
    each request; when the member leaves the partner the token stops working.
    """

    partner = models.ForeignKey(Partner, on_delete=models.CASCADE, related_name="api_tokens")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                                   related_name="+")
    name = models.CharField(max_length=80)
    # The first characters of the token, shown so people can tell their tokens apart.
    prefix = models.CharField(max_length=12, editable=False)
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


def partner_logo_path(instance: "PartnerProfileVersion", filename: str) -> str:
    return f"partners/{instance.partner_id}/{uuid.uuid4().hex}.png"


class PartnerProfileVersion(ReviewedVersion):
    """One version of a partner's public profile (logo, description, links)."""

    partner = models.ForeignKey(Partner, on_delete=models.CASCADE, related_name="profile_versions")
    logo = models.ImageField(upload_to=partner_logo_path, blank=True)
    logo_alt = models.CharField("logo alt text", max_length=200, blank=True)
    description = models.TextField(blank=True)
    meta_description = models.CharField("SEO meta description", max_length=160, blank=True)
    # [{"url": ..., "alt": ...}]
    links = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["partner"],
                condition=models.Q(state="published", superseded_at__isnull=True),
                name="one_live_profile_per_partner",
            ),
        ]
        indexes = [
            models.Index(fields=["state", "submitted_at"], name="profile_queue_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.partner} profile {self.label}"
