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
    ConfigurationVersion,
    ListingLink,
    ListingVersion,
    ListingVideo,
    VersionState,
)
from appstore.urlrules import MAX_PATTERN_LENGTH, MAX_URL_LENGTH
from audit.models import AuditEntry

from ..factories import (
    AppFactory,
    ListingFactory,
    PartnerMemberFactory,
    api_token,
    complete_listing,
    environment,
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


def stage_draft(app, **fields) -> ConfigurationVersion:
    return ConfigurationVersion.objects.create(app=app, environment=environment("stage"), label="1.1",
                                               **fields)


@pytest.fixture
def configuration(app):
    return stage_draft(app, consent_text="Acme reads your contacts.")


@pytest.fixture
def api(partner_member):
    return bearer(api_token(partner_member))


@pytest.fixture
def theirs(other_partner_member):
    """Another partner's app with a draft listing, and that partner's own API client."""
    app = AppFactory(partner=other_partner_member.partner, name="Their App")
    listing = ListingFactory(app=app, header="Their header")
    configuration = stage_draft(app, consent_text="Their consent")
    return {"app": app, "listing": listing, "configuration": configuration,
            "api": bearer(api_token(other_partner_member))}


def urls(app_id: int, listing_id: int, configuration_id: int = 0) -> dict[str, str]:
    base = f"/api/v1/apps/{app_id}/"
    return {
        "app": base,
        "listings": f"{base}listings/",
        "listing": f"{base}listings/{listing_id}/",
        "request": f"{base}listings/{listing_id}/request-publish/",
        "withdraw": f"{base}listings/{listing_id}/withdraw/",
        "configurations": f"{base}configurations/",
        "configuration": f"{base}configurations/{configuration_id}/",
        "publish": f"{base}configurations/{configuration_id}/publish/",
        "configuration_withdraw": f"{base}configurations/{configuration_id}/withdraw/",
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
    ("configurations", "get", "configurations", None, None),
    ("configuration_create", "post", "configurations", {"environment": "online"}, "configuration"),
    ("configuration", "get", "configuration", None, None),
    ("configuration_update", "patch", "configuration", {"consent_text": "Changed"}, "configuration"),
    ("configuration_publish", "post", "publish", None, "configuration"),
    ("configuration_withdraw", "post", "configuration_withdraw", None, "configuration"),
    ("requests", "get", None, None, None),
]
LIST_URLS = {"apps": "/api/v1/apps/", "requests": "/api/v1/requests/"}


def call(client, method, url, body=None):
    if method == "get":
        return client.get(url)
    return getattr(client, method)(url, body or {}, format="json")


def endpoint_url(name, key, app_id, listing_id, configuration_id):
    return LIST_URLS[name] if key is None else urls(app_id, listing_id, configuration_id)[key]


def unchanged(listing, configuration, app, counts) -> bool:
    listing.refresh_from_db()
    configuration.refresh_from_db()
    return (listing.header != "Changed" and listing.state == VersionState.DRAFT
            and configuration.consent_text != "Changed" and configuration.state == VersionState.DRAFT
            and version_counts(app) == counts)


def version_counts(app) -> tuple[int, int]:
    return (ListingVersion.objects.filter(app=app).count(),
            ConfigurationVersion.objects.filter(app=app).count())


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
def test_another_partners_objects_are_404(name, method, key, body, flag, api, app, listing,
                                          configuration, theirs):
    if key is None:
        response = api.get(LIST_URLS[name])
        assert response.status_code == 200
        text = response.content.decode()
        assert "Their App" not in text and f'"app_id":{theirs["app"].pk}' not in text
        return
    counts = version_counts(theirs["app"])
    # Their app's id; and their versions under our own app's id.
    for app_id in (theirs["app"].pk, app.pk):
        if key in ("app", "listings", "configurations") and app_id == app.pk:
            continue
        url = urls(app_id, theirs["listing"].pk, theirs["configuration"].pk)[key]
        response = call(api, method, url, body)
        assert response.status_code == 404, (url, response.content)
        assert response.json()["code"] == "not_found"
    assert unchanged(theirs["listing"], theirs["configuration"], theirs["app"], counts)
    assert theirs["listing"].header == "Their header"


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
                                            listing, configuration):
    api = bearer(api_token(partner_member))
    setattr(partner_member, f"can_{missing}", False)
    partner_member.save()
    counts = version_counts(app)
    response = call(api, method, endpoint_url(name, key, app.pk, listing.pk, configuration.pk), body)
    assert response.status_code == 403
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"detail": response.json()["detail"], "code": "permission_denied"}
    assert f"'{missing}'" in response.json()["detail"]
    assert unchanged(listing, configuration, app, counts)


@pytest.mark.parametrize("name,method,key,body,flag", ENDPOINTS, ids=[e[0] for e in ENDPOINTS])
def test_only_the_needed_flags_are_checked(name, method, key, body, flag, partner_member, app, listing,
                                           configuration):
    """A member with read (and the write flag) but nothing else is not refused."""
    for other in ("app_store", "configuration", "users"):
        setattr(partner_member, f"can_{other}", other == flag)
    partner_member.save()
    if name == "listing_create":
        listing.delete()
    if name == "listing_withdraw":
        ListingVersion.objects.filter(pk=listing.pk).update(state=VersionState.PENDING)
    if name == "configuration_withdraw":
        ConfigurationVersion.objects.filter(pk=configuration.pk).update(state=VersionState.PENDING)
    response = call(bearer(api_token(partner_member)), method,
                    endpoint_url(name, key, app.pk, listing.pk, configuration.pk), body)
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


# ---------------------------------------------------------------- fields a write does not take

READ_ONLY = ["Read-only; this field cannot be written."]
NO_INPUT = ["This action takes no input; change the version with PATCH first."]
WRITES = [endpoint for endpoint in ENDPOINTS if endpoint[1] != "get"]


@pytest.mark.parametrize("name,method,key,body,flag", WRITES, ids=[e[0] for e in WRITES])
def test_every_write_refuses_an_unknown_field_by_name(name, method, key, body, flag, api, app, listing,
                                                      configuration):
    counts, entries = version_counts(app), AuditEntry.objects.count()
    url = endpoint_url(name, key, app.pk, listing.pk, configuration.pk)
    if name.endswith("withdraw"):  # only a pending request can be withdrawn
        ListingVersion.objects.filter(pk=listing.pk).update(state=VersionState.PENDING)
        ConfigurationVersion.objects.filter(pk=configuration.pk).update(state=VersionState.PENDING)
    response = call(api, method, url, {**(body or {}), "colour": "blue"})
    assert response.status_code == 400, response.json()
    assert list(response.json()) == ["colour"], response.json()
    message = response.json()["colour"][0]
    assert message.startswith("Unknown field;") or [message] == NO_INPUT
    listing.refresh_from_db()
    configuration.refresh_from_db()
    assert listing.header != "Changed" and configuration.consent_text != "Changed"
    assert version_counts(app) == counts and AuditEntry.objects.count() == entries
    if name.endswith("withdraw"):
        assert listing.state == configuration.state == VersionState.PENDING
    else:
        assert listing.state == configuration.state == VersionState.DRAFT


def test_listing_patch_names_unknown_and_read_only_fields(api, app, listing):
    before = listing_state(listing)
    url = f"/api/v1/apps/{app.pk}/listings/{listing.pk}/"
    response = api.patch(url, {"state": "published", "id": 1, "headr": "Typo", "label": "Changed",
                               "header": "x" * 200}, format="json")
    assert response.status_code == 400
    errors = response.json()
    assert set(errors) == {"state", "id", "headr", "header"}  # with the other fields' errors
    assert errors["state"] == errors["id"] == READ_ONLY
    assert errors["headr"][0].startswith("Unknown field; accepted fields: label, header,")
    assert listing_state(listing) == before
    alone = api.patch(url, {"state": "published"}, format="json")
    assert alone.status_code == 400 and alone.json() == {"state": READ_ONLY}
    assert ListingVersion.objects.get(pk=listing.pk).state == VersionState.DRAFT


def test_a_listing_read_back_whole_is_refused_by_its_read_only_fields(api, app, listing):
    url = f"/api/v1/apps/{app.pk}/listings/{listing.pk}/"
    read = api.get(url).json()
    response = api.patch(url, read, format="json")
    assert response.status_code == 400
    errors = response.json()
    assert {"id", "app_id", "environment", "state", "is_live", "images", "missing_for_publish"} <= set(errors)
    assert all(messages == READ_ONLY for messages in errors.values()), errors
    assert not {"label", "header", "links", "videos", "categories"} & set(errors)


def test_create_refuses_fields_it_does_not_take(api, app, listing):
    counts = version_counts(app)
    base = f"/api/v1/apps/{app.pk}/"
    response = api.post(f"{base}listings/", {"label": "2.0", "header": "x", "state": "published",
                                              "lable": "2.1"}, format="json")
    assert response.status_code == 400
    errors = response.json()
    assert errors["header"] == ["Not taken when creating a version; change it with PATCH on the new "
                                "version."]
    assert errors["state"] == READ_ONLY
    assert errors["lable"] == ["Unknown field; accepted fields: label."]
    response = api.post(f"{base}configurations/", {"environment": "online", "consent_text": "x",
                                                   "id": 3}, format="json")
    assert response.status_code == 400
    assert set(response.json()) == {"consent_text", "id"}
    assert response.json()["id"] == READ_ONLY
    assert version_counts(app) == counts


def test_configuration_patch_names_unknown_read_only_and_staff_fields(api, app, configuration):
    before = ConfigurationVersion.objects.values().get(pk=configuration.pk)
    response = api.patch(f"/api/v1/apps/{app.pk}/configurations/{configuration.pk}/",
                         {"environment": "online", "widened": [], "consnt_text": "x", "claims": [],
                          "consent_text": "Changed"}, format="json")
    assert response.status_code == 400
    errors = response.json()
    assert errors["environment"] == errors["widened"] == READ_ONLY
    assert errors["consnt_text"][0].startswith("Unknown field; accepted fields: label, redirect_urls,")
    assert errors["claims"] == ["Only platform staff may change this setting."]
    assert set(errors) == {"environment", "widened", "consnt_text", "claims"}
    assert ConfigurationVersion.objects.values().get(pk=configuration.pk) == before


@pytest.mark.parametrize("body,path", [
    ({"links": [{"kind": "support", "url": "https://acme.example.com/help", "lable": "Help"}]},
     ["links", "0", "lable"]),
    ({"videos": [{"youtube_id": "dQw4w9WgXcQ", "description": "Demo", "position": 3}]},
     ["videos", "0", "position"]),
])
def test_nested_listing_objects_refuse_unknown_fields(api, app, listing, body, path):
    before = listing_state(listing)
    errors = api.patch(f"/api/v1/apps/{app.pk}/listings/{listing.pk}/", body, format="json").json()
    for part in path:
        errors = errors[part]
    assert errors[0].startswith("Unknown field;")
    assert listing_state(listing) == before


def test_nested_endpoint_refuses_unknown_fields(api, app, configuration):
    response = api.patch(f"/api/v1/apps/{app.pk}/configurations/{configuration.pk}/", {
        "endpoints": {"erp_sync": {"url": "https://acme.example.com/erp", "enabled": True,
                                   "send_error_emails": False, "retries": 3}}}, format="json")
    assert response.status_code == 400
    assert response.json() == {"endpoints": {"erp_sync": {"retries": [
        "Unknown field; accepted fields: url, enabled, send_error_emails."]}}}


def test_actions_without_input_still_take_an_empty_body(api, app, configuration):
    url = f"/api/v1/apps/{app.pk}/configurations/{configuration.pk}/"
    api.patch(url, {"redirect_urls": {"all": ["https://acme.example.com/cb"]},
                    "endpoints": {"state_change": {"url": "https://acme.example.com/state",
                                                   "enabled": True, "send_error_emails": True}}},
              format="json")
    refused = api.post(url + "publish/", {"state": "published"}, format="json")
    assert refused.status_code == 400 and refused.json() == {"state": NO_INPUT}
    assert api.post(url + "publish/", {}, format="json").json()["state"] == "pending"
    assert api.post(url + "withdraw/").json()["state"] == "draft"


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


def test_requests_filter_by_environment_and_refuse_an_unknown_one(api, app):
    listing = ListingFactory(app=app, label="3.0", state=VersionState.PENDING, submitted_at=timezone.now())
    stage = stage_draft(app, state=VersionState.PENDING, submitted_at=timezone.now())
    online = api.get("/api/v1/requests/?environment=online").json()["results"]
    assert [(r["kind"], r["id"]) for r in online] == [("listing", listing.pk)]
    staged = api.get("/api/v1/requests/?environment=stage").json()["results"]
    assert [(r["kind"], r["id"]) for r in staged] == [("configuration", stage.pk)]
    assert api.get("/api/v1/requests/?environment=sod").json()["count"] == 0
    for bogus in ("bogus", "all", "STAGE", ""):
        bad = api.get(f"/api/v1/requests/?environment={bogus}")
        if bogus == "":  # an empty value means "no filter", as for the other filters
            assert bad.status_code == 200 and bad.json()["count"] == 2
            continue
        assert bad.status_code == 400, bogus
        assert list(bad.json()) == ["environment"] and "not one of the available choices" in \
            bad.json()["environment"][0]


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


def grow_configurations(app, n):
    for _ in range(n):
        ConfigurationVersion.objects.create(
            app=app, environment=environment("online"), label="2.0", state=VersionState.REJECTED,
            submitted_at=timezone.now(), reviewed_at=timezone.now(), review_reason="No.",
            submitted_by=app.partner.members.first().user, reviewed_by=app.partner.members.first().user)


@pytest.mark.parametrize("url,grow", [
    ("/api/v1/apps/", lambda app: grow_apps(app.partner, 1)),
    ("/api/v1/apps/{app}/listings/", lambda app: grow_listings(app, 1)),
    ("/api/v1/apps/{app}/configurations/", lambda app: grow_configurations(app, 1)),
    ("/api/v1/requests/", lambda app: (grow_requests(app, 1), grow_configurations(app, 1))),
], ids=["apps", "listings", "configurations", "requests"])
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
    assert response.json()["count"] >= 3


def test_pagination_is_50(api, partner_member):
    AppFactory.create_batch(51, partner=partner_member.partner, configured=False)
    first = api.get("/api/v1/apps/").json()
    assert first["count"] == 51 and len(first["results"]) == 50 and first["next"]
    assert len(api.get("/api/v1/apps/?page=2").json()["results"]) == 1


def test_no_response_contains_secret_material(api, app, listing, partner_member):
    client = app.clients.get(environment__code="online")
    secret = ClientSecret.objects.create(client=client, secret_hash=make_password(RAW_SECRET),
                                         expires_at=timezone.now())
    configuration = app.configuration_versions.get()
    texts = [api.get(u).content.decode() for u in (
        "/api/v1/apps/", f"/api/v1/apps/{app.pk}/", f"/api/v1/apps/{app.pk}/listings/",
        f"/api/v1/apps/{app.pk}/listings/{listing.pk}/", f"/api/v1/apps/{app.pk}/configurations/",
        f"/api/v1/apps/{app.pk}/configurations/{configuration.pk}/", "/api/v1/requests/")]
    for text in texts:
        json.loads(text)
        assert RAW_SECRET not in text and secret.secret_hash not in text and "secret_hash" not in text


# ---------------------------------------------------------------- configuration versions


def test_configuration_list_and_detail(api, app, configuration):
    rows = api.get(f"/api/v1/apps/{app.pk}/configurations/").json()["results"]
    assert [(r["id"], r["environment"], r["state"]) for r in rows] == [
        (configuration.pk, "stage", "draft"), (app.configuration_versions.get(label="1.0").pk, "sod",
                                               "published")]
    assert rows[1]["api_endpoints"] == ["WebAPI"] and rows[1]["agents"] == ["Webhook"]
    assert rows[1]["authorization_level"] == "administrator"
    detail = api.get(f"/api/v1/apps/{app.pk}/configurations/{configuration.pk}/").json()
    assert detail["consent_text"] == "Acme reads your contacts."
    assert any("Redirect URLs" in m for m in detail["missing_for_publish"])
    assert any("state change" in m for m in detail["missing_for_publish"])


def test_patch_configuration_partner_fields(api, app, configuration, partner_member):
    response = api.patch(f"/api/v1/apps/{app.pk}/configurations/{configuration.pk}/", {
        "label": "1.2",
        "redirect_urls": {"all": ["https://acme.example.com/callback"],
                          "sod": ["http://localhost:8080/cb"]},
        "cors_origins": {"stage": ["https://app.acme.example.com"]},
        "endpoints": {"state_change": {"url": "https://acme.example.com/state", "enabled": True,
                                       "send_error_emails": False}},
        "consent_text": "Acme reads and writes your contacts.",
    }, format="json")
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["label"] == "1.2"
    assert body["redirect_urls"] == {"all": ["https://acme.example.com/callback"],
                                     "sod": ["http://localhost:8080/cb"]}
    assert body["endpoints"]["state_change"]["url"] == "https://acme.example.com/state"
    assert body["missing_for_publish"] == []
    configuration.refresh_from_db()
    assert configuration.cors_origins == {"stage": ["https://app.acme.example.com"]}
    entry = AuditEntry.objects.get(event_type="configuration_version_updated")
    assert entry.actor == partner_member.user and entry.changes["label"] == ["1.1", "1.2"]


@pytest.mark.parametrize("field", ["api_endpoints", "agents", "claims", "custom_claims",
                                   "authorization_level"])
def test_staff_only_fields_are_read_only(api, app, configuration, field):
    value = {"custom_claims": {"x": "y"}, "authorization_level": "explicit"}.get(field, ["SystemToken"])
    before = ConfigurationVersion.objects.values().get(pk=configuration.pk)
    response = api.patch(f"/api/v1/apps/{app.pk}/configurations/{configuration.pk}/",
                         {field: value, "consent_text": "Sneaky"}, format="json")
    assert response.status_code == 400
    assert response.json() == {field: ["Only platform staff may change this setting."]}
    assert ConfigurationVersion.objects.values().get(pk=configuration.pk) == before


@pytest.mark.parametrize("body,field", [
    ({"label": ""}, "label"),
    ({"label": "x" * 65}, "label"),
    ({"redirect_urls": {"mars": ["https://a.example"]}}, "redirect_urls"),
    ({"redirect_urls": ["https://a.example"]}, "redirect_urls"),
    ({"redirect_urls": {"stage": ["http://acme.example.com/cb"]}}, "redirect_urls"),  # the service's rule
    ({"cors_origins": {"all": ["javascript:alert(1)"]}}, "cors_origins"),
    ({"endpoints": {"erp_sync": {"url": "https://a.example"}}}, "endpoints"),
    ({"endpoints": {"telepathy": {"url": "", "enabled": False, "send_error_emails": False}}}, "endpoints"),
    ({"endpoints": {"erp_sync": {"url": "ftp://a.example", "enabled": True,
                                 "send_error_emails": True}}}, "endpoints"),
    ({"consent_text": "x" * 4001}, "consent_text"),
    ({"seen_updated_at": "yesterday"}, "seen_updated_at"),
])
def test_bad_configuration_input_is_400_naming_the_field(api, app, configuration, body, field):
    before = ConfigurationVersion.objects.values().get(pk=configuration.pk)
    response = api.patch(f"/api/v1/apps/{app.pk}/configurations/{configuration.pk}/", body,
                         format="json")
    assert response.status_code == 400
    assert field in response.json(), response.json()
    assert ConfigurationVersion.objects.values().get(pk=configuration.pk) == before


def long_url(length: int, host: str = "acme.example.com") -> str:
    start = f"https://{host}/cb?state="
    return start + "x" * (length - len(start))


def test_long_urls_the_portal_accepts_round_trip_through_the_api(api, app, configuration):
    """Entries and endpoint URLs follow urlrules' limits, not a shorter one of the API's own."""
    url = f"/api/v1/apps/{app.pk}/configurations/{configuration.pk}/"
    entry, endpoint_url = long_url(725), long_url(MAX_URL_LENGTH)
    configuration.redirect_urls = {"all": [entry]}
    configuration.endpoints = {"state_change": {"url": endpoint_url, "enabled": True,
                                                "send_error_emails": False}}
    configuration.save()
    read = api.get(url).json()
    assert read["redirect_urls"] == {"all": [entry]}
    response = api.patch(url, {"redirect_urls": read["redirect_urls"], "endpoints": read["endpoints"],
                               "post_logout_redirect_urls": {"stage": [long_url(MAX_URL_LENGTH)]}},
                         format="json")
    assert response.status_code == 200, response.json()
    configuration.refresh_from_db()
    assert configuration.redirect_urls == {"all": [entry]}
    assert configuration.endpoints["state_change"]["url"] == endpoint_url
    assert configuration.post_logout_redirect_urls == {"stage": [long_url(MAX_URL_LENGTH)]}


@pytest.mark.parametrize("body,field,limit", [
    ({"redirect_urls": {"all": [long_url(MAX_URL_LENGTH + 1)]}}, "redirect_urls", MAX_URL_LENGTH),
    ({"endpoints": {"erp_sync": {"url": long_url(MAX_URL_LENGTH + 1), "enabled": True,
                                 "send_error_emails": False}}}, "endpoints", MAX_URL_LENGTH),
    # a regular expression keeps urlrules' shorter limit
    ({"redirect_urls": {"all": ["^https://acme\\.example\\.com/" + "a" * MAX_PATTERN_LENGTH + "$"]}},
     "redirect_urls", MAX_PATTERN_LENGTH),
])
def test_urls_beyond_urlrules_limits_are_400(api, app, configuration, body, field, limit):
    before = ConfigurationVersion.objects.values().get(pk=configuration.pk)
    response = api.patch(f"/api/v1/apps/{app.pk}/configurations/{configuration.pk}/", body,
                         format="json")
    assert response.status_code == 400
    assert list(response.json()) == [field], response.json()
    assert f"{limit} characters" in json.dumps(response.json())
    assert ConfigurationVersion.objects.values().get(pk=configuration.pk) == before


def test_create_configuration_needs_an_environment(api, app):
    response = api.post(f"/api/v1/apps/{app.pk}/configurations/", {}, format="json")
    assert response.status_code == 400
    assert response.json() == {"environment": ["This field is required."]}
    bad = api.post(f"/api/v1/apps/{app.pk}/configurations/", {"environment": "mars"}, format="json")
    assert bad.status_code == 400 and "environment" in bad.json()
    assert app.configuration_versions.count() == 1


def test_create_configuration_copies_the_latest(api, app):
    ConfigurationVersion.objects.filter(app=app).update(redirect_urls={"all": ["https://a.example/cb"]})
    response = api.post(f"/api/v1/apps/{app.pk}/configurations/", {"environment": "stage"}, format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["environment"] == "stage" and body["state"] == "draft" and body["label"] == "1.1"
    assert body["redirect_urls"] == {"all": ["https://a.example/cb"]}
    again = api.post(f"/api/v1/apps/{app.pk}/configurations/", {"environment": "stage"}, format="json")
    assert again.status_code == 400 and "still open" in again.json()["non_field_errors"][0]
    assert app.configuration_versions.count() == 2


def test_publish_to_sod_is_immediate(api, app):
    live = app.configuration_versions.get()
    created = api.post(f"/api/v1/apps/{app.pk}/configurations/", {"environment": "sod"}, format="json")
    url = f"/api/v1/apps/{app.pk}/configurations/{created.json()['id']}/"
    incomplete = api.post(url + "publish/")
    assert incomplete.status_code == 400 and incomplete.json()["code"] == "incomplete"
    assert any("Redirect URLs" in m for m in incomplete.json()["missing"])
    api.patch(url, {"redirect_urls": {"all": ["https://acme.example.com/cb"]}}, format="json")
    response = api.post(url + "publish/")
    assert response.status_code == 200, response.json()
    assert response.json()["state"] == "published" and response.json()["is_live"] is True
    live.refresh_from_db()
    assert live.superseded_at is not None
    assert api.get("/api/v1/requests/?kind=configuration").json()["count"] == 0  # no review needed


def test_publish_to_stage_is_a_request_then_withdraw(api, app, configuration):
    url = f"/api/v1/apps/{app.pk}/configurations/{configuration.pk}/"
    assert api.post(url + "withdraw/").status_code == 409
    api.patch(url, {"redirect_urls": {"all": ["https://acme.example.com/cb"]},
                    "endpoints": {"state_change": {"url": "https://acme.example.com/state",
                                                   "enabled": True, "send_error_emails": True}}},
              format="json")
    response = api.post(url + "publish/")
    assert response.status_code == 200, response.json()
    assert response.json()["state"] == "pending"
    rows = api.get("/api/v1/requests/?kind=configuration&state=pending").json()["results"]
    assert [(r["id"], r["environment"]) for r in rows] == [(configuration.pk, "stage")]
    assert rows[0]["url"].endswith(url)
    locked = api.patch(url, {"consent_text": "Changed"}, format="json")
    assert locked.status_code == 409 and locked.json()["code"] == "version_locked"
    assert api.post(url + "publish/").status_code == 409
    response = api.post(url + "withdraw/")
    assert response.status_code == 200 and response.json()["state"] == "draft"
    configuration.refresh_from_db()
    assert configuration.consent_text == "Acme reads your contacts."


def test_published_configuration_is_409_and_unchanged(api, app):
    live = app.configuration_versions.get()
    response = api.patch(f"/api/v1/apps/{app.pk}/configurations/{live.pk}/", {"consent_text": "Changed"},
                         format="json")
    assert response.status_code == 409 and "cannot be changed" in response.json()["detail"]
    live.refresh_from_db()
    assert live.consent_text == ""


def test_stale_seen_updated_at_is_409(api, app, configuration):
    url = f"/api/v1/apps/{app.pk}/configurations/{configuration.pk}/"
    seen = api.get(url).json()["updated_at"]
    first = api.patch(url, {"consent_text": "First", "seen_updated_at": seen}, format="json")
    assert first.status_code == 200
    response = api.patch(url, {"consent_text": "Second", "seen_updated_at": seen}, format="json")
    assert response.status_code == 409 and response.json()["code"] == "stale_version"
    configuration.refresh_from_db()
    assert configuration.consent_text == "First"


# ---------------------------------------------------------------- nested input, deep JSON, listing rules


def listing_state(listing) -> tuple:
    """Everything a listing PATCH could change: the row, its links and its videos."""
    return (ListingVersion.objects.values().get(pk=listing.pk),
            list(listing.links.values_list("kind", "url", "label")),
            list(listing.videos.values_list("youtube_id", "description", "position")))


REQUIRED = ["This field is required."]


# DRF reports a list's errors by index ("0", "1", ...), leaving out the items that are fine.
@pytest.mark.parametrize("body,errors", [
    ({"videos": [{"url": "https://evil.example/x"}]},
     {"videos": {"0": {"youtube_id": REQUIRED, "description": REQUIRED,
                       "url": ["Unknown field; accepted fields: youtube_id, description."]}}}),
    ({"videos": [{"youtube_id": "dQw4w9WgXcQ"}]}, {"videos": {"0": {"description": REQUIRED}}}),
    ({"videos": [{"description": "Demo"}]}, {"videos": {"0": {"youtube_id": REQUIRED}}}),
    ({"videos": [{"youtube_id": "dQw4w9WgXcQ", "description": "Demo"}, {"description": "Two"}]},
     {"videos": {"1": {"youtube_id": REQUIRED}}}),
    ({"videos": [{"youtube_id": "short", "description": ""}]},
     {"videos": {"0": {"youtube_id": ["A YouTube video ID is 11 letters, digits, - or _."],
                       "description": ["This field may not be blank."]}}}),
    ({"links": [{"url": "https://acme.example.com/go"}]}, {"links": {"0": {"kind": REQUIRED}}}),
    ({"links": [{"kind": "support"}]}, {"links": {"0": {"url": REQUIRED}}}),
    ({"links": [{"kind": "install", "url": "https://acme.example.com/go"}, {"label": "Help"}]},
     {"links": {"1": {"kind": REQUIRED, "url": REQUIRED}}}),
])
def test_nested_objects_are_validated_whole_in_a_partial_update(api, app, listing, body, errors):
    before = listing_state(listing)
    response = api.patch(f"/api/v1/apps/{app.pk}/listings/{listing.pk}/", body, format="json")
    assert response.status_code == 400
    assert response.json() == errors
    assert listing_state(listing) == before


@pytest.mark.parametrize("body,field", [
    ({"videos": [None]}, "videos"),
    ({"videos": ["dQw4w9WgXcQ"]}, "videos"),
    ({"videos": None}, "videos"),
    ({"videos": {"youtube_id": "dQw4w9WgXcQ", "description": "Demo"}}, "videos"),
    ({"links": [[]]}, "links"),
    ({"links": "https://acme.example.com"}, "links"),
    ({"key_features": [None]}, "key_features"),
    ({"install_steps": ["  "]}, "install_steps"),
    ({"install_steps": {"1": "Click"}}, "install_steps"),
])
def test_malformed_nested_input_is_400_never_500(api, app, listing, body, field):
    before = listing_state(listing)
    response = api.patch(f"/api/v1/apps/{app.pk}/listings/{listing.pk}/", body, format="json")
    assert response.status_code == 400
    assert list(response.json()) == [field], response.json()
    assert listing_state(listing) == before


def test_endpoints_stay_whole_in_a_partial_update(api, app, configuration):
    response = api.patch(f"/api/v1/apps/{app.pk}/configurations/{configuration.pk}/",
                         {"endpoints": {"erp_sync": {"url": "ftp://a.example"}}}, format="json")
    assert response.status_code == 400
    errors = response.json()["endpoints"]["erp_sync"]
    assert errors["enabled"] == errors["send_error_emails"] == REQUIRED


DEPTH = 3000
DEEP_BODIES = {
    "arrays": "[" * DEPTH + "]" * DEPTH,
    "objects": '{"a":' * DEPTH + "1" + "}" * DEPTH,
    "in-a-field": '{"header": ' + "[" * DEPTH + "]" * DEPTH + "}",
}


@pytest.mark.parametrize("kind", DEEP_BODIES)
@pytest.mark.parametrize("method,key", [("post", "listings"), ("patch", "listing"),
                                        ("post", "configurations"), ("patch", "configuration")])
def test_too_deeply_nested_json_is_a_parse_error(api, app, listing, configuration, method, key, kind):
    before = (listing_state(listing), ConfigurationVersion.objects.values().get(pk=configuration.pk),
              version_counts(app), AuditEntry.objects.count())
    url = urls(app.pk, listing.pk, configuration.pk)[key]
    response = getattr(api, method)(url, DEEP_BODIES[kind], content_type="application/json")
    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert body["code"] == "parse_error" and set(body) == {"detail", "code"}
    assert "nested too deeply" in body["detail"]
    after = (listing_state(listing), ConfigurationVersion.objects.values().get(pk=configuration.pk),
             version_counts(app), AuditEntry.objects.count())
    assert after == before


@pytest.mark.parametrize("raw", ['{"header": "x"', '{"header": NaN}', b'{"header": "\xff"}'])
def test_unparsable_json_is_a_parse_error(api, app, listing, raw):
    response = api.patch(f"/api/v1/apps/{app.pk}/listings/{listing.pk}/", raw,
                         content_type="application/json")
    assert response.status_code == 400
    assert response.json()["code"] == "parse_error"


def test_moderately_nested_json_still_parses(api, app, listing):
    """The parser refuses only what json cannot read: a 50-deep value is a field error."""
    body = '{"header": ' + "[" * 50 + "]" * 50 + "}"
    response = api.patch(f"/api/v1/apps/{app.pk}/listings/{listing.pk}/", body,
                         content_type="application/json")
    assert response.status_code == 400
    assert list(response.json()) == ["header"]


def video(n: int) -> dict:
    return {"youtube_id": f"dQw4w9WgX{n % 100:02d}", "description": f"Video {n}"}


@pytest.mark.parametrize("body,field,message", [
    ({"lowest_price_eur": "-5"}, "lowest_price_eur", "The price cannot be negative."),
    ({"lowest_price_eur": "-0.01", "is_free": False}, "lowest_price_eur", "cannot be negative"),
    ({"lowest_price_eur": "100000.01"}, "lowest_price_eur", "at most 100,000.00 EUR"),
    ({"terms_url": "http://acme.example.com/terms"}, "terms_url", "Use an https:// address"),
    ({"links": [{"kind": "support", "url": "http://acme.example.com/help"}]}, "links",
     "Support link: Use an https:// address"),
    ({"links": [{"kind": "install", "url": "ftp://acme.example.com/x"}]}, "links",
     "Install link: Use an https:// address"),
    ({"links": [{"kind": "install", "url": "https://acme.example.com/go", "label": "Free money"}]},
     "links", "the green button's label is one of"),
    ({"videos": [video(n) for n in range(6)]}, "videos", "6 videos; at most 5 are allowed."),
    ({"videos": [video(n) for n in range(500)]}, "videos", "500 videos; at most 5 are allowed."),
    ({"install_steps": ["Click"] * 21}, "install_steps", "at most 20"),
    ({"key_features": ["x" * 121]}, "key_features", "at most 120 characters"),
    ({"requirements": "r" * 2_001}, "requirements", "at most 2,000"),
    ({"whats_new": "w" * 2_001}, "whats_new", "at most 2,000"),
])
def test_the_portals_listing_rules_hold_for_the_api(api, app, listing, body, field, message):
    ListingLink.objects.create(listing=listing, kind="install", url="https://acme.example.com/go",
                               label="Install")
    ListingVideo.objects.create(listing=listing, youtube_id="dQw4w9WgXcQ", description="Demo")
    before = listing_state(listing)
    response = api.patch(f"/api/v1/apps/{app.pk}/listings/{listing.pk}/",
                         {**body, "header": "Changed"}, format="json")
    assert response.status_code == 400
    assert list(response.json()) == [field], response.json()
    assert message in " ".join(response.json()[field])
    assert listing_state(listing) == before
    assert not AuditEntry.objects.filter(event_type="listing_version_updated").exists()


def test_values_the_portal_accepts_pass_the_api_too(api, app, listing):
    response = api.patch(f"/api/v1/apps/{app.pk}/listings/{listing.pk}/", {
        "lowest_price_eur": "0", "terms_url": "http://localhost:8000/terms",
        "links": [{"kind": "install", "url": "https://acme.example.com/go", "label": "Start free trial"},
                  {"kind": "support", "url": "https://acme.example.com/help", "label": "Help desk"}],
        "videos": [video(n) for n in range(5)],
    }, format="json")
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["lowest_price_eur"] == "0.00" and body["terms_url"] == "http://localhost:8000/terms"
    assert len(body["videos"]) == 5
    assert {link["kind"]: link["label"] for link in body["links"]} == {
        "install": "Start free trial", "support": "Help desk"}
