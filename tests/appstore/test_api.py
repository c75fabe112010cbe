"""The partner REST API: scoping to the token's partner, permissions, input errors, version
states, secrets kept out of responses, and constant query counts."""

import json
from datetime import timedelta

import pytest
from django.contrib.auth.hashers import make_password
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from appstore.models import (
    AppClient,
    CertificateOrigin,
    ClientCertificate,
    ClientSecret,
    ListingVersion,
    VersionState,
)
from audit.models import AuditEntry

from ..factories import (
    AppFactory,
    ListingFactory,
    PartnerMemberFactory,
    api_token,
    complete_listing,
    published_listing,
)

pytestmark = pytest.mark.django_db

RAW_SECRET = "raw-client-secret-7Qm2xZ9pLk4vN8sW"


def bearer(raw: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return client


@pytest.fixture
def app(partner_member):
    return AppFactory(partner=partner_member.partner, name="Acme Sync", seo_name="acme-sync")


@pytest.fixture
def listing(app):
    return ListingFactory(app=app)


@pytest.fixture
def api(partner_member):
    return bearer(api_token(partner_member))


@pytest.fixture
def theirs(other_partner_member):
    """Another partner's app with a draft listing, and that partner's own API client."""
    app = AppFactory(partner=other_partner_member.partner, name="Their App")
    listing = ListingFactory(app=app, header="Their header")
    return {"app": app, "listing": listing, "api": bearer(api_token(other_partner_member))}


def urls(app_id: int, listing_id: int) -> dict[str, str]:
    base = f"/api/v1/apps/{app_id}/"
    return {
        "app": base,
        "listings": f"{base}listings/",
        "listing": f"{base}listings/{listing_id}/",
        "request": f"{base}listings/{listing_id}/request-publish/",
        "withdraw": f"{base}listings/{listing_id}/withdraw/",
    }


# (name, method, url key, body, the write flag besides "read")
ENDPOINTS = [
    ("apps", "get", None, None, None),
    ("app", "get", "app", None, None),
    ("listings", "get", "listings", None, None),
    ("listing_create", "post", "listings", {}, "app_store"),
    ("listing", "get", "listing", None, None),
    ("listing_update", "patch", "listing", {"header": "Changed"}, "app_store"),
    ("listing_request", "post", "request", None, "app_store"),
    ("listing_withdraw", "post", "withdraw", None, "app_store"),
    ("requests", "get", None, None, None),
]
LIST_URLS = {"apps": "/api/v1/apps/", "requests": "/api/v1/requests/"}


def call(client, method, url, body=None):
    if method == "get":
        return client.get(url)
    return getattr(client, method)(url, body or {}, format="json")


def endpoint_url(name, key, app_id, listing_id):
    return LIST_URLS[name] if key is None else urls(app_id, listing_id)[key]


# ---------------------------------------------------------------- apps


def test_apps_list_and_detail(api, app, partner_member):
    app.technical_contact = partner_member.user
    app.save()
    response = api.get("/api/v1/apps/")
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 1 and body["next"] is None
    (row,) = body["results"]
    assert row["id"] == app.pk and row["name"] == "Acme Sync" and row["seo_name"] == "acme-sync"
    assert row["template"] == "web" and row["is_custom"] is False and row["is_beta"] is False
    assert row["technical_contact_email"] == partner_member.user.email
    assert row["certification_status"] == "not_started"
    assert row["security_audit_status"] == "not_started"
    assert [c["environment"] for c in row["clients"]] == ["sod", "stage", "online"]
    assert all(len(c["client_id"]) == 32 for c in row["clients"])
    assert api.get(f"/api/v1/apps/{app.pk}/").json() == row


def test_clients_show_facts_never_secret_material(api, app, partner_member):
    client = AppClient.objects.get(app=app, environment__code="stage")
    secret = ClientSecret.objects.create(client=client, secret_hash=make_password(RAW_SECRET),
                                         expires_at=timezone.now() + timedelta(days=700))
    certificate = ClientCertificate.objects.create(
        client=client, public_key_pem="-----BEGIN PUBLIC KEY-----\nMIIBIjANBgkqhki\n-----END PUBLIC KEY-----",
        key_bits=2048, fingerprint="ab" * 32, description="Build key",
        expires_at=timezone.now() + timedelta(days=365), origin=CertificateOrigin.GENERATED)
    for url in ("/api/v1/apps/", f"/api/v1/apps/{app.pk}/"):
        text = api.get(url).content.decode()
        assert RAW_SECRET not in text and secret.secret_hash not in text
        assert secret.secret_hash.split("$")[-1] not in text  # not even the hash's digest part
        assert "BEGIN PUBLIC KEY" not in text
    stage = next(c for c in api.get(f"/api/v1/apps/{app.pk}/").json()["clients"]
                 if c["environment"] == "stage")
    assert stage["has_secret"] is True and stage["has_certificate"] is True
    assert stage["secret_expires_at"] is not None
    assert stage["certificate"]["fingerprint"] == certificate.fingerprint
    assert stage["certificate"]["key_bits"] == 2048
    sod = next(c for c in api.get(f"/api/v1/apps/{app.pk}/").json()["clients"]
               if c["environment"] == "sod")
    assert sod["has_secret"] is False and sod["certificate"] is None


# ---------------------------------------------------------------- two partners


@pytest.mark.parametrize("name,method,key,body,flag", ENDPOINTS, ids=[e[0] for e in ENDPOINTS])
def test_another_partners_objects_are_404(name, method, key, body, flag, api, app, listing, theirs):
    if key is None:
        response = api.get(LIST_URLS[name])
        assert response.status_code == 200
        text = response.content.decode()
        assert "Their App" not in text and f'"app_id":{theirs["app"].pk}' not in text
        return
    before = ListingVersion.objects.filter(app=theirs["app"]).count()
    # Their app's id, and also their listing under our own app's id.
    for app_id, listing_id in ((theirs["app"].pk, theirs["listing"].pk), (app.pk, theirs["listing"].pk)):
        if key in ("app", "listings") and app_id == app.pk:
            continue
        response = call(api, method, urls(app_id, listing_id)[key], body)
        assert response.status_code == 404, (app_id, listing_id)
        assert response.json()["code"] == "not_found"
    theirs["listing"].refresh_from_db()
    assert theirs["listing"].header == "Their header" and theirs["listing"].state == VersionState.DRAFT
    assert ListingVersion.objects.filter(app=theirs["app"]).count() == before


def test_each_partner_sees_only_its_own_apps(api, app, theirs):
    mine = [a["name"] for a in api.get("/api/v1/apps/").json()["results"]]
    their = [a["name"] for a in theirs["api"].get("/api/v1/apps/").json()["results"]]
    assert mine == ["Acme Sync"] and their == ["Their App"]


def test_a_member_of_both_partners_reaches_only_the_tokens_partner(partner_member, app, theirs):
    PartnerMemberFactory(partner=theirs["app"].partner, user=partner_member.user)
    api = bearer(api_token(partner_member))
    assert api.get(f"/api/v1/apps/{theirs['app'].pk}/").status_code == 404
    assert [a["id"] for a in api.get("/api/v1/apps/").json()["results"]] == [app.pk]


# ---------------------------------------------------------------- permissions


def permission_cases():
    for name, method, key, body, flag in ENDPOINTS:
        for missing in ("read", flag) if flag else ("read",):
            yield pytest.param(name, method, key, body, missing, id=f"{name}-without-{missing}")


@pytest.mark.parametrize("name,method,key,body,missing", list(permission_cases()))
def test_missing_flag_is_403_json_naming_it(name, method, key, body, missing, partner_member, app,
                                            listing):
    api = bearer(api_token(partner_member))
    setattr(partner_member, f"can_{missing}", False)
    partner_member.save()
    before = ListingVersion.objects.filter(app=app).count()
    response = call(api, method, endpoint_url(name, key, app.pk, listing.pk), body)
    assert response.status_code == 403
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"detail": response.json()["detail"], "code": "permission_denied"}
    assert f"'{missing}'" in response.json()["detail"]
    listing.refresh_from_db()
    assert listing.header != "Changed" and listing.state == VersionState.DRAFT
    assert ListingVersion.objects.filter(app=app).count() == before


@pytest.mark.parametrize("name,method,key,body,flag", ENDPOINTS, ids=[e[0] for e in ENDPOINTS])
def test_only_the_needed_flags_are_checked(name, method, key, body, flag, partner_member, app, listing):
    """A member with read (and the write flag) but nothing else is not refused."""
    for other in ("app_store", "configuration", "users"):
        setattr(partner_member, f"can_{other}", other == flag)
    partner_member.save()
    if name == "listing_create":
        listing.delete()
    if name == "listing_withdraw":
        ListingVersion.objects.filter(pk=listing.pk).update(state=VersionState.PENDING)
    response = call(bearer(api_token(partner_member)), method,
                    endpoint_url(name, key, app.pk, listing.pk), body)
    assert response.status_code in (200, 201, 400), response.json()
    assert response.status_code != 400 or "missing" in response.json()


# ---------------------------------------------------------------- listings


def test_listing_list_and_detail(api, app, listing):
    published = published_listing(app=app, label="0.9")
    rows = api.get(f"/api/v1/apps/{app.pk}/listings/").json()["results"]
    assert [r["id"] for r in rows] == [published.pk, listing.pk]
    assert rows[0]["state"] == "published" and rows[0]["is_live"] is True
    assert rows[0]["categories"] == ["erp"] and rows[0]["languages"] == ["en"]
    assert rows[0]["links"][0]["kind"] == "install"
    assert {img["kind"] for img in rows[0]["images"]} == {"home_icon", "detail_icon", "screenshot"}
    detail = api.get(f"/api/v1/apps/{app.pk}/listings/{listing.pk}/").json()
    assert detail["header"] == listing.header and detail["environment"] == "online"
    assert "Categories: choose at least one." in detail["missing_for_publish"]


def test_patch_a_draft_through_the_service(api, app, listing, partner_member):
    response = api.patch(f"/api/v1/apps/{app.pk}/listings/{listing.pk}/", {
        "header": "New header", "key_features": ["One", "Two"], "categories": ["erp"],
        "languages": ["en"], "markets": ["norway"],
        "links": [{"kind": "install", "url": "https://acme.example.com/go", "label": "Install"}],
        "videos": [{"youtube_id": "dQw4w9WgXcQ", "description": "Demo"}],
        "about": "<p>Hi <script>alert(1)</script><b>there</b></p>",
    }, format="json")
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["header"] == "New header" and body["key_features"] == ["One", "Two"]
    assert body["categories"] == ["erp"] and body["markets"] == ["norway"]
    assert body["links"] == [{"kind": "install", "url": "https://acme.example.com/go", "label": "Install"}]
    assert body["videos"] == [{"youtube_id": "dQw4w9WgXcQ", "description": "Demo"}]
    assert "<script>" not in body["about"]  # sanitised by the service
    listing.refresh_from_db()
    assert listing.header == "New header"
    entry = AuditEntry.objects.get(event_type="listing_version_updated")
    assert entry.actor == partner_member.user and entry.changes["header"][1] == "New header"


@pytest.mark.parametrize("body,field", [
    ({"label": ""}, "label"),
    ({"label": None}, "label"),
    ({"header": "x" * 99}, "header"),
    ({"terms_url": "not a url"}, "terms_url"),
    ({"key_features": "one line"}, "key_features"),
    ({"categories": ["no-such-category"]}, "categories"),
    ({"price_model": "barter"}, "price_model"),
    ({"lowest_price_eur": "cheap"}, "lowest_price_eur"),
    ({"links": [{"kind": "install", "url": "ftp://x"}]}, "links"),
    ({"links": [{"kind": "install", "url": "https://a.example"},
                {"kind": "install", "url": "https://b.example"}]}, "links"),
    ({"videos": [{"youtube_id": "short", "description": "x"}]}, "videos"),
    ({"about": "<p>" + "word " * 201 + "</p>"}, "about"),  # the service's limit
    ({"key_features": [f"feature {n}" for n in range(11)]}, "key_features"),  # the service's limit
])
def test_bad_input_is_400_naming_the_field(api, app, listing, body, field):
    before = ListingVersion.objects.values().get(pk=listing.pk)
    response = api.patch(f"/api/v1/apps/{app.pk}/listings/{listing.pk}/", body, format="json")
    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    assert field in response.json(), response.json()
    assert ListingVersion.objects.values().get(pk=listing.pk) == before


def test_required_message_is_drf_shaped(api, app, listing):
    response = api.patch(f"/api/v1/apps/{app.pk}/listings/{listing.pk}/", {"label": ""}, format="json")
    assert response.json() == {"label": ["This field may not be blank."]}


def test_non_json_body_is_refused(api, app, listing):
    response = api.patch(f"/api/v1/apps/{app.pk}/listings/{listing.pk}/", "header=x",
                         content_type="application/x-www-form-urlencoded")
    assert response.status_code == 415
    assert response.json()["code"] == "unsupported_media_type"


@pytest.mark.parametrize("state", [VersionState.PENDING, VersionState.PUBLISHED])
def test_locked_versions_are_409_and_unchanged(api, app, listing, state):
    ListingVersion.objects.filter(pk=listing.pk).update(state=state)
    url = f"/api/v1/apps/{app.pk}/listings/{listing.pk}/"
    response = api.patch(url, {"header": "Changed"}, format="json")
    assert response.status_code == 409
    assert response.json()["code"] == "version_locked"
    assert "cannot be changed" in response.json()["detail"]
    listing.refresh_from_db()
    assert listing.header != "Changed"
    assert api.post(url + "request-publish/").status_code == 409
    assert not AuditEntry.objects.filter(event_type__startswith="listing_version").exists()


def test_new_version_then_open_version_refused(api, app):
    published_listing(app=app)
    response = api.post(f"/api/v1/apps/{app.pk}/listings/", {"label": "2.0"}, format="json")
    assert response.status_code == 201
    assert response.json()["label"] == "2.0" and response.json()["state"] == "draft"
    assert response.json()["categories"] == ["erp"]  # copied from the latest version
    again = api.post(f"/api/v1/apps/{app.pk}/listings/", {}, format="json")
    assert again.status_code == 400
    assert "Finish the open version" in again.json()["non_field_errors"][0]
    assert app.listing_versions.count() == 2


def test_request_publish_incomplete_lists_what_is_missing(api, app, listing):
    response = api.post(f"/api/v1/apps/{app.pk}/listings/{listing.pk}/request-publish/")
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "incomplete"
    assert "Categories: choose at least one." in body["missing"]
    assert "Install link (the green button) is required." in body["missing"]
    listing.refresh_from_db()
    assert listing.state == VersionState.DRAFT


def test_request_publish_and_withdraw(api, app, listing):
    complete_listing(listing)
    base = f"/api/v1/apps/{app.pk}/listings/{listing.pk}/"
    assert api.post(base + "withdraw/").status_code == 409  # nothing to withdraw yet
    response = api.post(base + "request-publish/")
    assert response.status_code == 200, response.json()
    assert response.json()["state"] == "pending" and response.json()["submitted_at"]
    listing.refresh_from_db()
    assert listing.state == VersionState.PENDING
    requests = api.get("/api/v1/requests/").json()["results"]
    assert [(r["kind"], r["id"], r["state"]) for r in requests] == [("listing", listing.pk, "pending")]
    response = api.post(base + "withdraw/")
    assert response.status_code == 200 and response.json()["state"] == "draft"
    assert api.get("/api/v1/requests/").json()["count"] == 0


# ---------------------------------------------------------------- publish requests


def test_requests_show_states_and_reasons_filtered(api, app, partner_member, theirs):
    pending = ListingFactory(app=app, label="3.0", state=VersionState.PENDING,
                             submitted_at=timezone.now(), submitted_by=partner_member.user)
    rejected = ListingFactory(app=app, label="2.0", state=VersionState.REJECTED,
                              submitted_at=timezone.now() - timedelta(days=2),
                              reviewed_at=timezone.now() - timedelta(days=1),
                              review_reason="Screenshots show another product.")
    ListingFactory(app=app, label="1.0")  # a draft never requested
    ListingFactory(app=theirs["app"], label="9.0", state=VersionState.PENDING, submitted_at=timezone.now())
    body = api.get("/api/v1/requests/").json()
    assert [(r["id"], r["state"]) for r in body["results"]] == [(pending.pk, "pending"),
                                                                (rejected.pk, "rejected")]
    row = body["results"][1]
    assert row["review_reason"] == "Screenshots show another product."
    assert row["app_name"] == "Acme Sync" and row["environment"] == "online"
    assert row["url"].endswith(f"/api/v1/apps/{app.pk}/listings/{rejected.pk}/")
    assert body["results"][0]["submitted_by"] == partner_member.user.email
    only_rejected = api.get("/api/v1/requests/?state=rejected").json()["results"]
    assert [r["id"] for r in only_rejected] == [rejected.pk]
    assert api.get("/api/v1/requests/?kind=configuration").json()["count"] == 0
    assert api.get(f"/api/v1/requests/?app={app.pk}&kind=listing").json()["count"] == 2
    assert api.get(f"/api/v1/requests/?app={theirs['app'].pk}").json()["count"] == 0
    bad = api.get("/api/v1/requests/?state=sideways")
    assert bad.status_code == 400 and "state" in bad.json()


# ---------------------------------------------------------------- query counts


def count_queries(client, url) -> int:
    with CaptureQueriesContext(connection) as context:
        assert client.get(url).status_code == 200
    return len(context)


def grow_apps(partner, n):
    for _ in range(n):
        app = AppFactory(partner=partner)
        ClientSecret.objects.create(client=app.clients.first(), secret_hash=make_password("x"),
                                    expires_at=timezone.now())


def grow_listings(app, n):
    for _ in range(n):
        complete_listing(ListingFactory(app=app))


def grow_requests(app, n):
    for _ in range(n):
        ListingFactory(app=app, state=VersionState.PENDING, submitted_at=timezone.now())


@pytest.mark.parametrize("url,grow", [
    ("/api/v1/apps/", lambda app: grow_apps(app.partner, 1)),
    ("/api/v1/apps/{app}/listings/", lambda app: grow_listings(app, 1)),
    ("/api/v1/requests/", lambda app: grow_requests(app, 1)),
], ids=["apps", "listings", "requests"])
def test_list_endpoints_have_constant_query_counts(url, grow, api, partner_member,
                                                   django_assert_num_queries):
    app = AppFactory(partner=partner_member.partner)
    ClientSecret.objects.create(client=app.clients.first(), secret_hash=make_password("x"),
                                expires_at=timezone.now())
    url = url.format(app=app.pk)
    grow(app)
    api.get(url)  # the token's last-used time is written on the first call only
    one = count_queries(api, url)
    grow(app)
    grow(app)
    with django_assert_num_queries(one):
        response = api.get(url)
    assert response.json()["count"] in (3, 4)


def test_pagination_is_50(api, partner_member):
    AppFactory.create_batch(51, partner=partner_member.partner, configured=False)
    first = api.get("/api/v1/apps/").json()
    assert first["count"] == 51 and len(first["results"]) == 50 and first["next"]
    assert len(api.get("/api/v1/apps/?page=2").json()["results"]) == 1


def test_no_response_contains_secret_material(api, app, listing, partner_member):
    client = app.clients.get(environment__code="online")
    secret = ClientSecret.objects.create(client=client, secret_hash=make_password(RAW_SECRET),
                                         expires_at=timezone.now())
    texts = [api.get(u).content.decode() for u in (
        "/api/v1/apps/", f"/api/v1/apps/{app.pk}/", f"/api/v1/apps/{app.pk}/listings/",
        f"/api/v1/apps/{app.pk}/listings/{listing.pk}/", "/api/v1/requests/")]
    for text in texts:
        json.loads(text)
        assert RAW_SECRET not in text and secret.secret_hash not in text and "secret_hash" not in text
