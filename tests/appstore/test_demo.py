import json
import stat
from io import StringIO

import pytest
from cryptography.hazmat.primitives import serialization
from django.core.management import call_command
from PIL import Image

from accounts.models import User
from appstore import keys
from appstore.demo import (
    APPS,
    CONFIGURED_APP,
    DEMO_PASSWORD,
    PARTNER_EMAIL,
    PENDING_APP,
    STAFF_EMAIL,
    TENANTS,
)
from appstore.models import (
    App,
    AppClient,
    Category,
    ClientCertificate,
    ClientSecret,
    ImageKind,
    ListingImage,
    ListingVersion,
    Partner,
    PartnerMember,
    VersionState,
)
from appstore.services.configuration_fields import endpoint, live_version
from appstore.services.listings import missing_for_publish
from audit.models import AuditEntry
from provisioning.models import Authorization
from tenants.models import Environment, Tenant, TenantMember

pytestmark = pytest.mark.django_db

DEMO_LOGINS = ["staff@example.com", "partner@example.com", "admin@cust10001.example.com",
               "user@cust10001.example.com", "admin@cust10002.example.com", "user@cust10002.example.com"]


PARTNER_KEYS = {"environment", "issuer", "client_id", "client_secret", "private_key_pem", "redirect_uri",
                "post_logout_redirect_uri", "app_name", "platform_name"}


@pytest.fixture(autouse=True)
def var_dir(settings, tmp_path, monkeypatch):
    """The demo writes the partner service's settings under VAR_DIR: never the checkout's var/ here."""
    settings.VAR_DIR = tmp_path / "var"
    settings.SITE_URL = "http://127.0.0.1:8000"
    monkeypatch.delenv("PARTNER_PORT", raising=False)
    return settings.VAR_DIR


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


# ---------------------------------------------------------------- the reference partner service

def acme_sod_client() -> AppClient:
    return AppClient.objects.select_related("secret", "certificate").get(
        app__name=CONFIGURED_APP, environment__code="sod")


def partner_settings(var_dir) -> dict:
    return json.loads((var_dir / "demo" / "acme.json").read_text())


def test_acme_is_registered_in_sod_for_the_partner_service():
    load()
    app = App.objects.get(name=CONFIGURED_APP)
    live = live_version(app, Environment.objects.get(code="sod"))
    assert "http://127.0.0.1:8001/callback" in live.urls_for("redirect_urls", "sod")
    assert "http://127.0.0.1:8001/" in live.urls_for("post_logout_redirect_urls", "sod")
    assert "SystemToken" in live.claims
    assert live.consent_text.startswith("Acme ERP reads")
    # The partner's stage request and online draft are untouched by it.
    assert {(v.environment.code, v.label) for v in app.configuration_versions.exclude(
        environment__code="sod")} == {("stage", "1.1"), ("online", "1.2")}
    # Installing is the tenant administrator's decision, on the consent screen.
    assert not Authorization.objects.filter(app=app).exists()


def test_acme_json_holds_working_sod_credentials_for_the_owner_only(var_dir):
    output = load()
    path = var_dir / "demo" / "acme.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    data = partner_settings(var_dir)
    assert set(data) == PARTNER_KEYS
    client = acme_sod_client()
    assert data["client_id"] == client.client_id
    assert data["issuer"] == "http://127.0.0.1:8000/sod"
    assert (data["environment"], data["app_name"], data["platform_name"]) == ("sod", CONFIGURED_APP,
                                                                              "CRM App Platform")
    assert (data["redirect_uri"], data["post_logout_redirect_uri"]) == ("http://127.0.0.1:8001/callback",
                                                                        "http://127.0.0.1:8001/")
    assert client.secret.matches(data["client_secret"])
    private = serialization.load_pem_private_key(data["private_key_pem"].encode(), password=None)
    assert keys.describe(private.public_key()).fingerprint == client.certificate.fingerprint
    assert client.certificate.approved_at is not None  # sod keys work at once
    assert f"written to {path}" in output and "development only" in output


def test_loading_again_keeps_valid_credentials_and_the_file(var_dir):
    load()
    path = var_dir / "demo" / "acme.json"
    before, client = path.read_bytes(), acme_sod_client()
    entries = AuditEntry.objects.count()

    output = load()
    again = acme_sod_client()
    assert path.read_bytes() == before
    assert (again.secret.pk, again.certificate.pk) == (client.secret.pk, client.certificate.pk)
    assert AuditEntry.objects.count() == entries
    assert f"unchanged in {path}" in output and "nothing changed" in output


@pytest.mark.parametrize("damage", ["secret", "key", "client_id", "missing", "not json"])
def test_credentials_the_file_no_longer_matches_are_replaced(var_dir, damage):
    load()
    path = var_dir / "demo" / "acme.json"
    data = partner_settings(var_dir)
    old = acme_sod_client()
    if damage == "secret":
        data["client_secret"] = "not-the-secret"
    elif damage == "key":
        data["private_key_pem"] = keys.generate_key_pair().private_pem
    elif damage == "client_id":
        data["client_id"] = "0" * 32
    if damage == "missing":
        path.unlink()
    else:
        path.write_text("{" if damage == "not json" else json.dumps(data))

    output = load()
    fresh, new = partner_settings(var_dir), acme_sod_client()
    assert new.secret.pk != old.secret.pk and new.certificate.pk != old.certificate.pk
    assert ClientSecret.objects.filter(client=new).count() == 1
    assert ClientCertificate.objects.filter(client=new).count() == 1
    assert new.secret.matches(fresh["client_secret"]) and fresh["client_id"] == new.client_id
    private = serialization.load_pem_private_key(fresh["private_key_pem"].encode(), password=None)
    assert keys.describe(private.public_key()).fingerprint == new.certificate.fingerprint
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert {"client_secret_deleted", "client_certificate_deleted", "client_secret_created",
            "client_certificate_generated"} <= set(AuditEntry.objects.filter(
                event_type__startswith="client_").values_list("event_type", flat=True))
    assert f"written to {path}" in output


def test_a_new_address_keeps_the_credentials_and_registers_the_new_callback(var_dir, settings, monkeypatch):
    load()
    old = partner_settings(var_dir)
    monkeypatch.setenv("PARTNER_PORT", "8123")
    settings.SITE_URL = "http://127.0.0.1:9000"
    load()
    data = partner_settings(var_dir)
    assert (data["client_secret"], data["private_key_pem"]) == (old["client_secret"], old["private_key_pem"])
    assert data["issuer"] == "http://127.0.0.1:9000/sod"
    assert data["redirect_uri"] == "http://127.0.0.1:8123/callback"
    live = live_version(App.objects.get(name=CONFIGURED_APP), Environment.objects.get(code="sod"))
    assert "http://127.0.0.1:8123/callback" in live.urls_for("redirect_urls", "sod")
    assert "http://127.0.0.1:8123/" in live.urls_for("post_logout_redirect_urls", "sod")


def test_demo_tenants_point_at_the_crm_sandbox():
    load()
    for ctx, _company, _serial in TENANTS:
        tenant = Tenant.objects.get(environment__code="sod", context_identifier=ctx)
        assert tenant.webapi_url == f"http://127.0.0.1:8000/sandbox/sod/{ctx}/api/"


def test_an_open_sod_draft_is_left_alone_and_named(var_dir, monkeypatch):
    from appstore.services.configuration import create_configuration_version

    load()
    app = App.objects.get(name=CONFIGURED_APP)
    founder = User.objects.get(email=PARTNER_EMAIL)
    draft = create_configuration_version(actor=founder, app=app, environment="sod")
    monkeypatch.setenv("PARTNER_PORT", "8123")

    output = load()
    draft.refresh_from_db()
    assert draft.state == VersionState.DRAFT
    assert "open sod configuration draft" in output
    assert partner_settings(var_dir)["redirect_uri"] == "http://127.0.0.1:8123/callback"


def test_acme_gets_the_partner_service_webhook_where_private_endpoints_are_allowed(settings):
    sod = Environment.objects.get(code="sod")
    load()
    app = App.objects.get(name=CONFIGURED_APP)
    assert endpoint(live_version(app, sod), "state_change")["url"] != "http://127.0.0.1:8001/webhook"

    settings.ALLOW_PRIVATE_PARTNER_URLS = True
    load()
    live = live_version(app, sod)
    assert endpoint(live, "state_change") == {"url": "http://127.0.0.1:8001/webhook", "enabled": True,
                                              "send_error_emails": False}
    assert "http://127.0.0.1:8001/callback" in live.urls_for("redirect_urls", "sod")
    load()
    assert live_version(app, sod).pk == live.pk  # nothing more to change
