from io import StringIO

import pytest
from django.core.management import call_command
from PIL import Image

from accounts.models import User
from appstore.demo import APPS, CONFIGURED_APP, DEMO_PASSWORD, PARTNER_EMAIL, PENDING_APP, STAFF_EMAIL
from appstore.models import (
    App,
    Category,
    ImageKind,
    ListingImage,
    ListingVersion,
    Partner,
    PartnerMember,
    VersionState,
)
from appstore.services.listings import missing_for_publish
from audit.models import AuditEntry
from tenants.models import Tenant, TenantMember

pytestmark = pytest.mark.django_db

DEMO_LOGINS = ["staff@example.com", "partner@example.com", "admin@cust10001.example.com",
               "user@cust10001.example.com", "admin@cust10002.example.com", "user@cust10002.example.com"]


@pytest.fixture(autouse=True)
def _fast_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def load() -> str:
    out = StringIO()
    call_command("load_demo", stdout=out)
    return out.getvalue()


def counts() -> dict[str, int]:
    return {model.__name__: model.objects.count() for model in (
        User, Partner, PartnerMember, App, ListingVersion, ListingImage, AuditEntry, Tenant, TenantMember)}


def live_online():
    return ListingVersion.objects.filter(environment__code="online", state=VersionState.PUBLISHED,
                                         superseded_at__isnull=True)


def test_loading_twice_changes_nothing():
    first_output = load()
    first = counts()
    assert first["App"] == len(APPS) + 2  # the listings, the pending one, the configured app
    assert first["ListingImage"] > 3 * len(APPS)

    second_output = load()
    assert counts() == first
    assert "Created" in first_output
    assert "nothing changed" in second_output
    assert "staff@example.com" in second_output and DEMO_PASSWORD in second_output


def test_demo_accounts_sign_in_with_their_roles(client):
    load()
    for email in DEMO_LOGINS:
        assert client.login(email=email, password=DEMO_PASSWORD), email
        client.logout()

    staff = User.objects.get(email="staff@example.com")
    assert staff.is_staff and staff.is_app_manager
    partner_admin = PartnerMember.objects.get(user__email="partner@example.com")
    assert all(partner_admin.has(p) for p in PartnerMember.PERMISSIONS)
    for ctx in ("Cust10001", "Cust10002"):
        tenant = Tenant.objects.get(environment__code="sod", context_identifier=ctx)
        members = {m.user.email: m.is_admin for m in tenant.members.select_related("user")}
        assert members == {f"admin@{ctx.lower()}.example.com": True, f"user@{ctx.lower()}.example.com": False}


def test_store_is_filled_through_the_review_path():
    load()
    live = list(live_online().prefetch_related("categories", "images", "links"))
    assert len(live) >= 12
    assert {c.slug for listing in live for c in listing.categories.all()} == set(
        Category.objects.values_list("slug", flat=True))
    for listing in live:
        assert missing_for_publish(listing) == [], listing
        assert listing.reviewed_by.email == "staff@example.com"
        assert listing.search_text
        sizes = {(img.kind, img.width, img.height) for img in listing.images.all()}
        assert (ImageKind.HOME_ICON, 488, 488) in sizes
        assert (ImageKind.SCREENSHOT, 1920, 1080) in sizes
        assert all(link.url.startswith(listing.app.partner.website + "/") for link in listing.links.all())
    with Image.open(live[0].images.get(kind=ImageKind.DETAIL_ICON).image.path) as icon:
        assert (icon.format, icon.size) == ("PNG", (488, 488))

    assert any(listing.app.is_featured for listing in live)
    assert any(listing.app.is_beta for listing in live) and not all(listing.app.is_beta for listing in live)
    assert any(listing.is_free for listing in live) and any(not listing.is_free for listing in live)
    assert AuditEntry.objects.filter(event_type="listing_version_published").count() == len(live)

    pending = ListingVersion.objects.get(state=VersionState.PENDING)
    assert pending.app.name == PENDING_APP.name
    assert missing_for_publish(pending) == []
    draft = ListingVersion.objects.exclude(app__name=CONFIGURED_APP).get(state=VersionState.DRAFT)
    assert draft.whats_new and draft.app.listing_versions.filter(state=VersionState.PUBLISHED).exists()


def test_health_check_answers_without_database(client, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = client.get("/healthz")
    assert (response.status_code, response.content) == (200, b"ok")


def test_demo_app_has_a_configuration_in_every_environment(client):
    load()
    app = App.objects.get(name=CONFIGURED_APP)
    states = {(v.environment.code, v.state) for v in app.configuration_versions.select_related("environment")}
    assert states == {("sod", "published"), ("stage", "pending"), ("online", "draft")}
    assert app.partner.members.filter(user__email=PARTNER_EMAIL).exists()
    # The reviewer finds the stage request in the queue.
    client.force_login(User.objects.get(email=STAFF_EMAIL))
    assert CONFIGURED_APP in client.get("/review/?tab=configurations").content.decode()


def test_demo_partners_have_a_live_profile(client):
    load()
    for partner in Partner.objects.all():
        live = partner.profile_versions.get(state="published", superseded_at__isnull=True)
        assert live.logo and live.description and live.logo_alt
    nordvik = Partner.objects.get(members__user__email=PARTNER_EMAIL)
    html = client.get(f"/apps/{nordvik.seo_name}/").content.decode()
    assert f'alt="{nordvik.name} logo"' in html
