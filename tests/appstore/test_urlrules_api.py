"""The partner API applies the same URL and label rules as the portal: a bad entry is a 400 that
names the field, never a server error, and nothing is saved."""

import pytest
from rest_framework.test import APIClient

from appstore.models import ConfigurationVersion

from ..factories import AppFactory, api_token, environment

pytestmark = pytest.mark.django_db


@pytest.fixture
def app(partner_member):
    return AppFactory(partner=partner_member.partner, name="Acme Sync", seo_name="acme-sync")


@pytest.fixture
def configuration(app):
    return ConfigurationVersion.objects.create(app=app, environment=environment("stage"), label="1.1",
                                               consent_text="Acme reads your contacts.")


@pytest.fixture
def api(partner_member):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {api_token(partner_member)}")
    return client


def detail(app, configuration) -> str:
    return f"/api/v1/apps/{app.pk}/configurations/{configuration.pk}/"


@pytest.mark.parametrize(("body", "field", "expected"), [
    ({"redirect_urls": {"all": [r"^https://a{99999999999}$"]}}, "redirect_urls", "at most 2000"),
    ({"post_logout_redirect_urls": {"sod": ["^https://x\\.com/" + "(" * 40 + ")" * 40 + "$"]}},
     "post_logout_redirect_urls", "nested at most"),
    ({"cors_origins": {"all": [r"^https://(a|aa)*b$"]}}, "cors_origins", "contains |"),
    ({"redirect_urls": {"all": [r"^https://.*$"]}}, "redirect_urls", "Write the host name out"),
    ({"cors_origins": {"all": [r"^https://.*$"]}}, "cors_origins", "Write the host name out"),
    ({"redirect_urls": {"all": [r"^https://example.com/.*$"]}}, "redirect_urls", r"^https://example\.com/.*$"),
    ({"redirect_urls": {"all": ["https://app.example.com/\u202ecb"]}}, "redirect_urls", "U+202E"),
    ({"redirect_urls": {"all": [f"https://a.example.com/{n}" for n in range(9000)]}}, "redirect_urls",
     "at most 100 entries; this list has 9,000"),
    ({"endpoints": {"erp_sync": {"url": "https://169.254.169.254/latest/meta-data/", "enabled": True,
                                 "send_error_emails": False}}}, "endpoints", "link-local"),
    ({"endpoints": {"quote": {"url": "https://2130706433/", "enabled": True,
                              "send_error_emails": False}}}, "endpoints", "loopback"),
    ({"label": "1.0"}, "label", "already exists"),
    ({"redirect_urls": {"all": ["https://[zz]/cb"]}}, "redirect_urls", "host is not valid"),
    ({"cors_origins": {"all": ["https://[::1"]}}, "cors_origins", "host is not valid"),
    ({"endpoints": {"erp_sync": {"url": "https://a]/x", "enabled": True, "send_error_emails": False}}},
     "endpoints", "not valid"),
])
def test_refused_entries_are_400_naming_the_field(api, app, configuration, body, field, expected):
    ConfigurationVersion.objects.create(app=app, environment=environment("stage"), label="1.0")
    before = ConfigurationVersion.objects.values().get(pk=configuration.pk)
    response = api.patch(detail(app, configuration), body, format="json")
    assert response.status_code == 400, response.content[:300]
    messages = " ".join(response.json()[field])
    assert expected in messages
    assert len(messages) < 1000
    assert ConfigurationVersion.objects.values().get(pk=configuration.pk) == before


def test_exact_urls_are_stored_in_lower_case_through_the_api(api, app, configuration):
    response = api.patch(detail(app, configuration),
                         {"redirect_urls": {"all": ["HTTPS://Acme.Example.com/CallBack"]}}, format="json")
    assert response.status_code == 200
    assert response.json()["redirect_urls"] == {"all": ["https://acme.example.com/CallBack"]}


def test_creating_a_version_with_a_taken_label_is_refused(api, app):
    response = api.post(f"/api/v1/apps/{app.pk}/configurations/", {"environment": "sod", "label": "1.0"},
                        format="json")
    assert response.status_code == 400
    assert "Version 1.0 for sod already exists" in response.json()["label"][0]
    assert app.configuration_versions.count() == 1


@pytest.mark.parametrize("url", ["https://[zz]/", "https://[::1/", "https://a]/"])
def test_the_tester_explains_a_malformed_host(partner_client, app, url):
    tester = f"/portal/apps/{app.pk}/configuration/url-test/"
    for query in ({"pattern": url, "url": "https://app.example.com/"},
                  {"pattern": "https://app.example.com/", "url": url}):
        response = partner_client.get(tester, query)
        assert response.status_code in (200, 400)
        body = response.json()
        assert body.get("matches") is not True and (body.get("error") or body.get("reason"))


def test_the_wizard_refuses_a_malformed_host(partner_client):
    response = partner_client.post("/portal/apps/new/", {
        "template": "web", "is_custom": "standard", "name": "Bracket App", "redirect_urls": "https://[zz]/cb"})
    assert response.status_code == 200
    assert "redirect_urls" in response.context["form"].errors
