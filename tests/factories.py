"""Factories for tests; a complete, publishable listing is one call away."""

import io
import uuid
from decimal import Decimal

import factory
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image, ImageDraw

from accounts.models import User
from appstore.models import (
    App,
    AppClient,
    AppTemplate,
    Category,
    ConfigurationVersion,
    ImageKind,
    Language,
    LinkKind,
    ListingImage,
    ListingLink,
    ListingVersion,
    Market,
    Partner,
    PartnerMember,
    VersionState,
)
from appstore.services.listings import build_search_text
from tenants.models import Environment, Tenant, TenantMember, TenantState

PASSWORD = "test-password-123"


def png_bytes(width: int, height: int, color: str = "#0b5d57") -> bytes:
    img = Image.new("RGB", (width, height), color)
    ImageDraw.Draw(img).rectangle([width // 4, height // 4, width // 2, height // 2], fill="#7ee2b8")
    buf = io.BytesIO()
    img.save(buf, format="PNG", optimize=False, compress_level=1)
    return buf.getvalue()


def png_upload(width: int, height: int, name: str = "image.png") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, png_bytes(width, height), content_type="image/png")


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"user{n}@example.com")
    full_name = factory.Faker("name")
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class PartnerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Partner

    name = factory.Sequence(lambda n: f"Partner {n}")
    seo_name = factory.Sequence(lambda n: f"partner-{n}")


class PartnerMemberFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PartnerMember

    partner = factory.SubFactory(PartnerFactory)
    user = factory.SubFactory(UserFactory)
    can_login = True
    can_read = True
    can_app_store = True
    can_configuration = True
    can_users = True


class AppFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = App

    partner = factory.SubFactory(PartnerFactory)
    name = factory.Sequence(lambda n: f"App {n}")
    seo_name = factory.Sequence(lambda n: f"app-{n}")
    template = AppTemplate.WEB

    @factory.post_generation
    def configured(obj, create, extracted, **kwargs):
        """Like create_app: a client per environment and configuration 1.0 published to sod.

        AppFactory(configured=False) skips it; configured__claims=[...] etc. set the version's fields.
        """
        if not create or extracted is False:
            return
        for env in Environment.objects.all():
            AppClient.objects.create(app=obj, environment=env, client_id=uuid.uuid4().hex)
        fields = {"api_endpoints": ["WebAPI"], "agents": ["Webhook"], "claims": [], **kwargs}
        ConfigurationVersion.objects.create(
            app=obj, environment=environment("sod"), label="1.0", state=VersionState.PUBLISHED,
            published_at=timezone.now(), **fields)


def environment(code: str = "online") -> Environment:
    return Environment.objects.get(code=code)


class ListingFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ListingVersion

    app = factory.SubFactory(AppFactory)
    environment = factory.LazyFunction(environment)
    label = "1.0"
    header = factory.LazyAttribute(lambda o: f"{o.app.name} keeps your CRM in step")
    about = "<p>Connects your <b>CRM</b> with the tools your team already uses.</p>"
    key_features = factory.LazyFunction(lambda: ["Two-way sync", "Setup in minutes"])
    is_free = False
    lowest_price_eur = Decimal("9.00")
    price_model = "per_user_month"
    terms_url = "https://partner.example.com/terms"
    supported_plans = "Essential, Standard, Premium"
    install_steps = factory.LazyFunction(lambda: ["Click Install", "Approve the app"])
    requirements = "A CRM Online subscription."
    meta_description = "A listing that is complete enough to publish in the App Store today."
    keywords = "sync, crm"


def complete_listing(listing: ListingVersion, *, category: str = "erp",
                     install_url: str = "https://partner.example.com/install") -> ListingVersion:
    """Give a listing everything a publish request needs."""
    listing.categories.set(Category.objects.filter(slug=category))
    listing.languages.set(Language.objects.filter(code="en"))
    listing.markets.set(Market.objects.filter(slug="norway"))
    ListingLink.objects.update_or_create(listing=listing, kind=LinkKind.INSTALL,
                                         defaults={"url": install_url, "label": "Install"})
    for kind, size in ((ImageKind.HOME_ICON, (488, 488)), (ImageKind.DETAIL_ICON, (488, 488)),
                       (ImageKind.SCREENSHOT, (1920, 1080))):
        if not listing.images.filter(kind=kind).exists():
            image = ListingImage(listing=listing, kind=kind, alt_text=f"{kind} of {listing.app}")
            image.image.save(f"{kind}.png", png_upload(*size), save=False)
            image.save()
    return listing


def published_listing(*, app: App | None = None, category: str = "erp", is_featured: bool = False,
                      **kwargs) -> ListingVersion:
    app = app or AppFactory()
    if app.listed_at is None or is_featured:
        app.listed_at = app.listed_at or timezone.now()
        app.is_featured = app.is_featured or is_featured
        app.save(update_fields=["listed_at", "is_featured"])
    listing = ListingFactory(app=app, **kwargs)
    complete_listing(listing, category=category)
    listing.state = VersionState.PUBLISHED
    listing.published_at = timezone.now()
    listing.search_text = build_search_text(listing)
    listing.save()
    return listing


class TenantFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Tenant

    environment = factory.LazyFunction(lambda: environment("sod"))
    context_identifier = factory.Sequence(lambda n: f"Cust{20000 + n}")
    company_name = factory.Faker("company")
    serial = factory.Sequence(lambda n: 1000 + n)
    state = TenantState.RUNNING


class TenantMemberFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TenantMember

    tenant = factory.SubFactory(TenantFactory)
    user = factory.SubFactory(UserFactory)


def api_token(member: PartnerMember, name: str = "Build server") -> str:
    """A raw partner API token of ``member``, made through the service as the portal does."""
    from appstore.services.api_tokens import create_api_token

    return create_api_token(actor=member.user, partner=member.partner, name=name)[1]


class ConfigurationFactory(factory.django.DjangoModelFactory):
    """A complete configuration draft for stage (publishable once requested); pass environment= to move it."""

    class Meta:
        model = ConfigurationVersion

    app = factory.SubFactory(AppFactory)
    environment = factory.LazyFunction(lambda: environment("stage"))
    label = "1.1"
    redirect_urls = factory.LazyFunction(lambda: {"all": ["https://app.example.com/callback"]})
    endpoints = factory.LazyFunction(lambda: {"state_change": {
        "url": "https://app.example.com/state", "enabled": True, "send_error_emails": True}})
    consent_text = "The app reads and updates companies and contacts in your CRM."
    api_endpoints = factory.LazyFunction(lambda: ["WebAPI"])
    agents = factory.LazyFunction(lambda: ["Webhook"])
    claims = factory.LazyFunction(list)


def truncated_png(width: int, height: int) -> bytes:
    """A PNG with a valid header and intact chunks whose image data stops after a few bytes:
    Pillow's verify() accepts it, decoding it fails."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\x00" * 64))
            + chunk(b"IEND", b""))
