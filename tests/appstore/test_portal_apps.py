"""The create wizard, the app page, settings, new versions and the dashboard."""

import pytest
from django.urls import reverse

from appstore.models import APP_NAME_FORBIDDEN, App, AppTemplate, ListingVersion, VersionState
from appstore.services.apps import NATIVE_REDIRECT_PATTERN
from tests.factories import (
    AppFactory,
    ListingFactory,
    PartnerMemberFactory,
    published_listing,
)

pytestmark = pytest.mark.django_db

CREATE = "/portal/apps/new/"


def wizard(template="web", **overrides):
    data = {"template": template, "is_custom": "standard", "name": "Ledger Link",
            "redirect_urls": "https://app.example.com/callback",
            "erp_endpoint_url": "https://erp.example.com/connector",
            "quote_endpoint_url": "https://erp.example.com/quote"}
    data.update(overrides)
    return data


@pytest.mark.parametrize(("template", "api", "agents", "claims"), [
    ("web", ["WebAPI"], ["Webhook"], []),
    ("native", ["WebAPI"], ["Webhook"], []),
    ("server", ["WebAPI", "Services88"], ["Webhook"], ["SystemToken"]),
    ("erp", ["WebAPI", "Services88"], ["ErpSync", "Webhook"], ["SystemToken"]),
    ("empty", ["WebAPI", "Services88"], ["Webhook"], []),
])
def test_wizard_applies_template_defaults(partner_client, partner_member, template, api, agents, claims):
    response = partner_client.post(CREATE, wizard(template))

    app = App.objects.get(name="Ledger Link")
    assert response.status_code == 302
    assert response["Location"] == reverse("portal:app", args=[app.pk])
    assert app.partner == partner_member.partner
    config = app.configuration_versions.get()
    assert (config.label, config.state, config.environment.code) == ("1.0", VersionState.PUBLISHED, "sod")
    assert app.template == template
    assert (config.api_endpoints, config.agents, config.claims) == (api, agents, claims)
    assert app.technical_contact == partner_member.user
    assert app.is_native == (template == "native")
    expected_redirects = {"web": ["https://app.example.com/callback"],
                          "native": [NATIVE_REDIRECT_PATTERN]}.get(template)
    assert config.redirect_urls == ({"all": expected_redirects} if expected_redirects else {})
    assert ("erp_sync" in config.endpoints) == (template == "erp")
    assert sorted(app.clients.values_list("environment__code", flat=True)) == ["online", "sod", "stage"]
    assert app.listing_versions.get().state == VersionState.DRAFT


def test_wizard_page_shows_what_each_template_sets(partner_client):
    html = partner_client.get(CREATE).content.decode()
    for label in AppTemplate.labels:
        assert label.replace("&", "&amp;") in html
    assert "Services88" in html and "ErpSync" in html and NATIVE_REDIRECT_PATTERN.replace("\\", "\\") in html
    assert "Development Tools" in html
    assert "Standard apps only" in html


def test_custom_app_warns_about_development_tools_licence(partner_client):
    response = partner_client.post(CREATE, wizard("server", is_custom="custom"), follow=True)
    app = App.objects.get(name="Ledger Link")
    assert app.is_custom and not app.is_beta
    assert "Development Tools licence" in response.content.decode()


def test_erp_template_is_standard_only(partner_client):
    response = partner_client.post(CREATE, wizard("erp", is_custom="custom"))
    assert response.status_code == 200
    assert "standard apps only" in response.context["form"].errors["is_custom"][0]
    assert not App.objects.exists()


def test_web_template_needs_a_safe_redirect_url(partner_client):
    response = partner_client.post(CREATE, wizard("web", redirect_urls=""))
    assert response.context["form"].errors["redirect_urls"]
    response = partner_client.post(CREATE, wizard("web", redirect_urls="http://app.example.com/cb\n^[bad"))
    errors = " ".join(response.context["form"].errors["redirect_urls"])
    assert "https://" in errors and "regular expression" in errors
    assert not App.objects.exists()
    ok = partner_client.post(CREATE, wizard("web", redirect_urls="http://localhost:5000/cb\n^https://x\\.example\\.com/.*$"))
    assert ok.status_code == 302


def test_erp_template_needs_both_endpoints(partner_client):
    response = partner_client.post(CREATE, wizard("erp", erp_endpoint_url="", quote_endpoint_url="ftp://x"))
    errors = response.context["form"].errors
    assert "erp_endpoint_url" in errors and "quote_endpoint_url" in errors
    assert not App.objects.exists()


@pytest.mark.parametrize("char", sorted(APP_NAME_FORBIDDEN))
def test_name_with_forbidden_character_is_refused_on_the_name_field(partner_client, char):
    name = f"Ledger{char}Link"
    response = partner_client.post(CREATE, wizard(name=name))
    assert response.status_code == 200
    assert char in response.context["form"].errors["name"][0]
    assert response.context["form"]["name"].value() == name
    assert not App.objects.exists()


def test_name_longer_than_64_characters_is_refused(partner_client):
    response = partner_client.post(CREATE, wizard(name="x" * 65))
    assert "at most 64" in response.context["form"].errors["name"][0]
    assert not App.objects.exists()


def test_duplicate_name_ignoring_case_is_refused(partner_client):
    AppFactory(name="Ledger Link")  # another partner's app: names are unique in the whole store
    response = partner_client.post(CREATE, wizard(name="LEDGER link", redirect_urls="https://kept.example.com/cb"))
    assert "already exists" in response.context["form"].errors["name"][0]
    html = response.content.decode()
    assert 'value="LEDGER link"' in html and "https://kept.example.com/cb" in html
    assert App.objects.count() == 1


def test_technical_contact_can_be_another_member_but_not_an_outsider(partner_client, partner_member):
    colleague = PartnerMemberFactory(partner=partner_member.partner, can_app_store=False)
    outsider = PartnerMemberFactory()
    response = partner_client.post(CREATE, wizard(technical_contact=outsider.user.pk))
    assert "technical_contact" in response.context["form"].errors
    partner_client.post(CREATE, wizard(technical_contact=colleague.user.pk))
    assert App.objects.get().technical_contact == colleague.user


def test_app_page_shows_settings_and_versions(partner_client, partner_member, app_manager):
    app = AppFactory(partner=partner_member.partner, template="server",
                     configured__claims=["SystemToken"])
    old = published_listing(app=app, label="1.0")
    rejected = ListingFactory(app=app, label="1.1", state=VersionState.REJECTED,
                              review_reason="Screenshots show another product.")
    html = partner_client.get(reverse("portal:app", args=[app.pk])).content.decode()
    assert "SystemToken" in html and "Server-to-server" in html
    assert "Screenshots show another product." in html
    assert 'class="tag tag-state-rejected"' in html and 'class="tag tag-state-published"' in html
    assert reverse("portal:listing", args=[app.pk, rejected.pk]) in html
    assert f"/apps/{app.partner.seo_name}/{app.seo_name}/" in html  # live in the store
    assert reverse("portal:listing_changes", args=[app.pk, old.pk]) in html


def test_new_version_refused_while_one_is_open(partner_client, partner_member):
    app = AppFactory(partner=partner_member.partner)
    ListingFactory(app=app, label="1.0")
    response = partner_client.post(reverse("portal:listing_new", args=[app.pk]), follow=True)
    assert "Finish the open version" in response.content.decode()
    assert app.listing_versions.count() == 1


def test_new_version_copies_the_published_one(partner_client, partner_member):
    app = AppFactory(partner=partner_member.partner)
    published_listing(app=app, label="2.0", header="Header to copy")
    response = partner_client.post(reverse("portal:listing_new", args=[app.pk]))
    new = app.listing_versions.get(state=VersionState.DRAFT)
    assert response["Location"] == reverse("portal:listing", args=[app.pk, new.pk])
    assert (new.label, new.header, new.images.count()) == ("2.1", "Header to copy", 3)


def test_settings_edit_saves_partner_fields(partner_client, partner_member):
    app = AppFactory(partner=partner_member.partner, technical_contact=partner_member.user)
    colleague = PartnerMemberFactory(partner=partner_member.partner)
    response = partner_client.post(reverse("portal:app_settings", args=[app.pk]), {
        "name": "Renamed", "seo_name": "renamed", "technical_contact": colleague.user.pk,
        "error_report_emails": " ops@example.com \n\nalerts@example.com",
        "uninstall_report_emails": "", "is_custom": "on", "is_beta": "on"})
    assert response.status_code == 302
    app.refresh_from_db()
    assert (app.name, app.seo_name, app.technical_contact) == ("Renamed", "renamed", colleague.user)
    assert app.error_report_emails == "ops@example.com\nalerts@example.com"
    assert not app.is_custom and not app.is_beta  # staff-only flags are not editable here


def test_settings_edit_names_the_bad_email_line_and_keeps_input(partner_client, partner_member):
    app = AppFactory(partner=partner_member.partner, technical_contact=partner_member.user)
    response = partner_client.post(reverse("portal:app_settings", args=[app.pk]), {
        "name": app.name, "seo_name": app.seo_name, "technical_contact": partner_member.user.pk,
        "error_report_emails": "ops@example.com\nnot-an-address", "uninstall_report_emails": ""})
    assert response.status_code == 200
    assert "not-an-address" in response.context["form"].errors["error_report_emails"][0]
    assert "ops@example.com\nnot-an-address" in response.content.decode()
    app.refresh_from_db()
    assert app.error_report_emails == ""


def test_settings_page_shows_staff_flags_read_only(partner_client, partner_member):
    app = AppFactory(partner=partner_member.partner, technical_contact=partner_member.user, is_beta=True)
    html = partner_client.get(reverse("portal:app_settings", args=[app.pk])).content.decode()
    assert "Set by platform staff" in html
    assert 'name="is_beta"' not in html and 'name="is_custom"' not in html


def test_dashboard_cards_and_query_count(partner_client, partner_member, django_assert_num_queries):
    partner = partner_member.partner
    live = published_listing(app=AppFactory(partner=partner, name="Live App"), label="3.0")
    draft_app = AppFactory(partner=partner, name="Draft App", is_custom=True)
    ListingFactory(app=draft_app, label="0.9")
    for n in range(5):
        ListingFactory(app=AppFactory(partner=partner, name=f"Extra {n}"))

    with django_assert_num_queries(6):
        response = partner_client.get("/portal/")

    html = response.content.decode()
    assert html.count('class="card app-card"') == 7
    icon = live.images.get(kind="home_icon")
    assert f'src="{icon.image.url}"' in html and f'alt="{icon.alt_text}"' in html
    assert 'class="icon-placeholder"' in html
    assert 'class="tag tag-state-published"' in html and 'class="tag tag-state-draft"' in html
    assert f"/apps/{partner.seo_name}/{live.app.seo_name}/" in html
    assert "Custom" in html and "Server-to-server" not in html


def test_listing_versions_listed_newest_first(partner_member):
    app = AppFactory(partner=partner_member.partner)
    first = published_listing(app=app, label="1.0")
    second = ListingFactory(app=app, label="1.1")
    from appstore.selectors.portal import dashboard_cards

    card = dashboard_cards(partner_member.partner)[0]
    assert card.latest == second and card.live == first
    assert ListingVersion.objects.filter(app=app).count() == 2
