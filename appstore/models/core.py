import uuid

from django.conf import settings
from django.contrib.postgres.search import SearchVectorField
from django.core.validators import RegexValidator
from django.db import models

from tenants.models import Environment

from .. import names

seo_name_validator = RegexValidator(
    r"^[a-z0-9]+(?:-[a-z0-9]+)*$",
    "Use lowercase letters, digits and single dashes (for example acme-erp).",
)
APP_NAME_FORBIDDEN = set(".:;?*~#%|=\\/{}<>'\"")


def validate_app_name(value: str) -> None:
    names.validate_name(value, APP_NAME_FORBIDDEN)


# ---------------------------------------------------------------- partners

class Partner(models.Model):
    """An organisation that owns apps."""

    name = models.CharField(max_length=120)
    seo_name = models.SlugField(max_length=64, unique=True, validators=[seo_name_validator])
    administrative_contact = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    technical_contact = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    support_emails = models.TextField(blank=True, help_text="One address per line.")
    uninstall_report_emails = models.TextField(blank=True, help_text="One address per line.")
    website = models.URLField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class PartnerMember(models.Model):
    """A user in a partner, with the five permission flags of the portal."""

    PERMISSIONS = ("login", "read", "app_store", "configuration", "users")

    partner = models.ForeignKey(Partner, on_delete=models.CASCADE, related_name="members")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="partner_memberships")
    can_login = models.BooleanField(default=True)
    can_read = models.BooleanField(default=True)
    can_app_store = models.BooleanField(default=False)
    can_configuration = models.BooleanField(default=False)
    can_users = models.BooleanField(default=False)
    joined_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["partner", "user"], name="partner_member_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.user} @ {self.partner}"

    def has(self, permission: str) -> bool:
        if permission not in self.PERMISSIONS:
            raise ValueError(f"Unknown partner permission {permission!r}")
        return self.can_login and getattr(self, f"can_{permission}")


# ---------------------------------------------------------------- apps

class AppTemplate(models.TextChoices):
    WEB = "web", "Web"
    NATIVE = "native", "Native"
    SERVER_TO_SERVER = "server", "Server-to-server"
    ERP_QUOTE = "erp", "ERP sync & quote"
    EMPTY = "empty", "Empty"


class ReviewStatus(models.TextChoices):
    NOT_STARTED = "not_started", "Not started"
    IN_REVIEW = "in_review", "In review"
    PASSED = "passed", "Passed"
    FAILED = "failed", "Failed"


class App(models.Model):
    """A partner's application: settings and the defaults its template set."""

    partner = models.ForeignKey(Partner, on_delete=models.PROTECT, related_name="apps")
    developed_by = models.ForeignKey(Partner, null=True, blank=True, on_delete=models.SET_NULL,
                                     related_name="developed_apps")
    name = models.CharField(max_length=64, validators=[validate_app_name])
    # name_key(name): names are unique by it, so look-alike spellings count as one name.
    name_key = models.CharField(max_length=200, unique=True, editable=False)
    seo_name = models.SlugField(max_length=64, validators=[seo_name_validator])
    template = models.CharField(max_length=16, choices=AppTemplate.choices)
    is_custom = models.BooleanField(default=False)
    is_beta = models.BooleanField(default=False)
    hidden_from_our_apps = models.BooleanField(default=False)
    is_native = models.BooleanField(default=False)
    technical_contact = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                          on_delete=models.SET_NULL, related_name="+")
    error_report_emails = models.TextField(blank=True, help_text="One address per line.")
    uninstall_report_emails = models.TextField(blank=True, help_text="One address per line.")
    # Standard apps: production credentials stay inactive until both reviews have passed.
    certification_status = models.CharField(max_length=16, choices=ReviewStatus.choices,
                                            default=ReviewStatus.NOT_STARTED)
    security_audit_status = models.CharField(max_length=16, choices=ReviewStatus.choices,
                                             default=ReviewStatus.NOT_STARTED)
    # Custom apps: the one customer the app is built for, asked for after stage approval.
    customer_name = models.CharField(max_length=120, blank=True)
    customer_context_identifier = models.CharField(max_length=20, blank=True)
    customer_requested_at = models.DateTimeField(null=True, blank=True)
    # Store placement, staff-only: kept on the app so it survives new listing versions.
    is_featured = models.BooleanField(default=False)
    # When the app's first listing went live; "newest" in the store sorts by it.
    listed_at = models.DateTimeField(null=True, blank=True, db_index=True)
    # Denormalised: maintained by provisioning when tenants install or uninstall.
    install_count = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["partner", "seo_name"], name="app_seo_unique_per_partner"),
        ]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs) -> None:
        self.name_key = names.name_key(self.name)
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and "name" in update_fields:
            kwargs["update_fields"] = {*update_fields, "name_key"}
        super().save(*args, **kwargs)


# ---------------------------------------------------------------- taxonomy

class Category(models.Model):
    slug = models.SlugField(max_length=64, unique=True)
    name = models.CharField(max_length=80)
    rank = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["rank", "name"]
        verbose_name_plural = "categories"

    def __str__(self) -> str:
        return self.name


class Language(models.Model):
    code = models.CharField(max_length=8, unique=True)
    name = models.CharField(max_length=40)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Market(models.Model):
    slug = models.SlugField(max_length=32, unique=True)
    name = models.CharField(max_length=40)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


# ---------------------------------------------------------------- store listing

class VersionState(models.TextChoices):
    DRAFT = "draft", "Draft"
    PENDING = "pending", "Pending review"
    PUBLISHED = "published", "Published"
    REJECTED = "rejected", "Rejected"


class ReviewedVersion(models.Model):
    """What every versioned stream shares (listing, configuration, partner profile).

    draft (editable) -> pending (locked) -> published (immutable) or rejected (editable).
    """

    label = models.CharField(max_length=64)
    state = models.CharField(max_length=16, choices=VersionState.choices,
                             default=VersionState.DRAFT)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    submitted_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                     on_delete=models.SET_NULL, related_name="+")
    submitted_at = models.DateTimeField(null=True, blank=True)
    reviewed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                    on_delete=models.SET_NULL, related_name="+")
    reviewed_at = models.DateTimeField(null=True, blank=True)
    review_reason = models.TextField(blank=True)
    published_at = models.DateTimeField(null=True, blank=True, db_index=True)
    superseded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        abstract = True

    @property
    def is_editable(self) -> bool:
        return self.state in (VersionState.DRAFT, VersionState.REJECTED)

    @property
    def is_live(self) -> bool:
        return self.state == VersionState.PUBLISHED and self.superseded_at is None


class PriceModel(models.TextChoices):
    PER_USER_MONTH = "per_user_month", "Per user per month"
    PER_SITE_MONTH = "per_site_month", "Per site per month"
    PAY_PER_USE = "pay_per_use", "Pay-per-use"
    FREE = "free", "Free"


class ListingVersion(ReviewedVersion):
    """One version of an app's store listing.

    draft (editable) -> pending (locked) -> published (immutable) or rejected (editable).
    The live listing of an app in an environment is its published version that has not
    been superseded.
    """

    app = models.ForeignKey(App, on_delete=models.CASCADE, related_name="listing_versions")
    environment = models.ForeignKey(Environment, on_delete=models.PROTECT, related_name="+")

    header = models.CharField("short header", max_length=98, blank=True)
    about = models.TextField(blank=True, help_text="At most 200 words; bold, italic, lists, links.")
    key_features = models.JSONField(default=list, blank=True)
    whats_new = models.TextField("what's new", blank=True)
    categories = models.ManyToManyField(Category, blank=True, related_name="listings")
    languages = models.ManyToManyField(Language, blank=True, related_name="listings")
    markets = models.ManyToManyField(Market, blank=True, related_name="listings")

    is_free = models.BooleanField(default=False)
    lowest_price_eur = models.DecimalField("lowest starting price (EUR)", max_digits=10,
                                           decimal_places=2, null=True, blank=True)
    price_model = models.CharField(max_length=20, choices=PriceModel.choices, blank=True)
    startup_cost = models.CharField("start-up cost", max_length=200, blank=True)
    consultancy = models.CharField(max_length=200, blank=True)
    terms_url = models.URLField("terms and conditions URL", blank=True)

    supported_plans = models.CharField(max_length=200, blank=True)
    install_steps = models.JSONField(default=list, blank=True)
    requirements = models.TextField(blank=True)

    meta_description = models.CharField("SEO meta description", max_length=160, blank=True)
    keywords = models.CharField(max_length=250, blank=True)

    # Flattened text of the listing and its partner, for store search. On PostgreSQL a
    # trigger (migration 0004) keeps search_vector = to_tsvector('simple', search_text).
    search_text = models.TextField(blank=True, editable=False)
    search_vector = SearchVectorField(null=True, editable=False)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["app", "environment"],
                condition=models.Q(state="published", superseded_at__isnull=True),
                name="one_live_listing_per_app_environment",
            ),
        ]
        indexes = [
            models.Index(fields=["environment", "state", "superseded_at", "-published_at"],
                         name="listing_live_idx"),
            models.Index(fields=["state", "submitted_at"], name="listing_queue_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.app} listing {self.label}"


class ImageKind(models.TextChoices):
    HOME_ICON = "home_icon", "Home icon"
    DETAIL_ICON = "detail_icon", "Detail icon"
    SCREENSHOT = "screenshot", "Screenshot"


def listing_image_path(instance: "ListingImage", filename: str) -> str:
    """A random name: draft images are served from /media/ too, so their address must not be guessable."""
    return f"listings/{instance.listing.app_id}/{uuid.uuid4().hex}.png"


class ListingImage(models.Model):
    listing = models.ForeignKey(ListingVersion, on_delete=models.CASCADE, related_name="images")
    kind = models.CharField(max_length=16, choices=ImageKind.choices)
    image = models.ImageField(upload_to=listing_image_path, width_field="width",
                              height_field="height")
    width = models.PositiveIntegerField(default=0)
    height = models.PositiveIntegerField(default=0)
    alt_text = models.CharField(max_length=200)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["kind", "position", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["listing", "kind"],
                condition=~models.Q(kind="screenshot"),
                name="one_icon_of_each_kind",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} of {self.listing}"


class ListingVideo(models.Model):
    youtube_id_validator = RegexValidator(r"^[A-Za-z0-9_-]{11}$",
                                          "A YouTube video ID is 11 letters, digits, - or _.")

    listing = models.ForeignKey(ListingVersion, on_delete=models.CASCADE, related_name="videos")
    youtube_id = models.CharField("YouTube ID", max_length=11, validators=[youtube_id_validator])
    description = models.CharField(max_length=200)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return f"{self.youtube_id}: {self.description}"


class LinkKind(models.TextChoices):
    INSTALL = "install", "Install (the green button)"
    CONFIGURE = "configure", "Configure"
    SUPPORT = "support", "Support"
    REPORT_PROBLEM = "report-problem", "Report a problem"
    UNINSTALL = "uninstall", "Uninstall"


GREEN_BUTTON_LABELS = ["Install", "Explore more", "Sign up", "Start free trial",
                       "Get free demo", "Try or buy"]


class ListingLink(models.Model):
    listing = models.ForeignKey(ListingVersion, on_delete=models.CASCADE, related_name="links")
    kind = models.CharField(max_length=16, choices=LinkKind.choices)
    url = models.URLField(max_length=500)
    label = models.CharField(max_length=60)

    class Meta:
        ordering = ["kind"]
        constraints = [
            models.UniqueConstraint(fields=["listing", "kind"], name="one_link_per_kind"),
        ]

    def __str__(self) -> str:
        return f"{self.kind}: {self.url}"


class LinkClick(models.Model):
    """A visitor followed a listing link through /go/ (partner analytics)."""

    app = models.ForeignKey(App, on_delete=models.CASCADE, related_name="link_clicks")
    listing = models.ForeignKey(ListingVersion, on_delete=models.SET_NULL, null=True,
                                related_name="+")
    kind = models.CharField(max_length=16, choices=LinkKind.choices)
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["app", "kind", "at"], name="click_app_kind_at")]

    def __str__(self) -> str:
        return f"{self.kind} click on {self.app_id} at {self.at:%Y-%m-%d %H:%M}"
