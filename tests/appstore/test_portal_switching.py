"""A link to an app of another company the user works in switches to that company; for anyone
else such a link stays a 404."""

import pytest
from django.urls import reverse

from appstore.models import ClientSecret, PartnerMember
from appstore.selectors.partners import SESSION_KEY
from appstore.services import profile as profile_services
from audit.models import AuditEntry
from tests.factories import AppFactory, ListingFactory, PartnerFactory, PartnerMemberFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def two_companies(db):
    """One person in Alpha (the current company: first by name) and in Beta; Beta owns the app."""
    alpha, beta = PartnerFactory(name="Alpha Apps"), PartnerFactory(name="Beta Builders")
    in_alpha = PartnerMemberFactory(partner=alpha)
    in_beta = PartnerMemberFactory(partner=beta, user=in_alpha.user)
    app = AppFactory(partner=beta, name="Beta Ledger", technical_contact=in_alpha.user)
    return {"alpha": alpha, "beta": beta, "user": in_alpha.user, "in_beta": in_beta, "app": app}


def signed_in(client, user, current=None):
    client.force_login(user)
    if current is not None:
        session = client.session
        session[SESSION_KEY] = current.pk
        session.save()
    return client


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def test_opening_an_app_of_the_other_company_switches_to_it(client, two_companies):
    world = two_companies
    signed_in(client, world["user"], current=world["alpha"])

    response = client.get(reverse("portal:app", args=[world["app"].pk]))

    assert response.status_code == 200
    assert response.context["app"] == world["app"]
    assert messages_of(response) == ["Switched to Beta Builders, the company this page belongs to."]
    assert client.session[SESSION_KEY] == world["beta"].pk
    # The next page is in Beta too, without another message.
    home = client.get("/portal/")
    assert home.context["member"].partner == world["beta"] and not messages_of(home)


@pytest.mark.parametrize("page", ["listing", "credentials", "configurations"])
def test_deeper_app_links_switch_too(client, two_companies, page):
    world = two_companies
    app = world["app"]
    urls = {"listing": lambda: reverse("portal:listing", args=[app.pk, ListingFactory(app=app).pk]),
            "credentials": lambda: reverse("portal:credentials", args=[app.pk, "sod"]),
            "configurations": lambda: reverse("portal:configurations", args=[app.pk])}
    url = urls[page]()
    signed_in(client, world["user"], current=world["alpha"])

    response = client.get(url)

    assert response.status_code == 200
    assert client.session[SESSION_KEY] == world["beta"].pk
    assert "Switched to Beta Builders" in response.content.decode()


def test_a_form_sent_from_an_older_tab_is_carried_out_in_the_app_s_company(client, two_companies):
    world = two_companies
    signed_in(client, world["user"], current=world["alpha"])

    response = client.post(reverse("portal:secret_create", args=[world["app"].pk, "sod"]))

    assert response.status_code == 200
    assert ClientSecret.objects.filter(client__app=world["app"], client__environment__code="sod").exists()
    assert AuditEntry.objects.get(event_type="client_secret_created").partner_id == world["beta"].pk
    assert client.session[SESSION_KEY] == world["beta"].pk


def test_a_permission_missing_in_the_current_company_does_not_block_the_switch(client, two_companies):
    world = two_companies
    PartnerMember.objects.filter(partner=world["alpha"], user=world["user"]).update(can_read=False)
    signed_in(client, world["user"], current=world["alpha"])

    response = client.get(reverse("portal:app", args=[world["app"].pk]))

    assert response.status_code == 200 and client.session[SESSION_KEY] == world["beta"].pk


def test_after_switching_the_other_company_s_permissions_apply(client, two_companies):
    world = two_companies
    PartnerMember.objects.filter(pk=world["in_beta"].pk).update(can_configuration=False)
    signed_in(client, world["user"], current=world["alpha"])

    response = client.post(reverse("portal:secret_create", args=[world["app"].pk, "sod"]))

    assert response.status_code == 403
    assert not ClientSecret.objects.exists()


def test_someone_in_only_one_of_the_two_companies_still_gets_404(client, two_companies):
    world = two_companies
    outsider = PartnerMemberFactory(partner=world["alpha"])
    signed_in(client, outsider.user)

    for url in (reverse("portal:app", args=[world["app"].pk]),
                reverse("portal:credentials", args=[world["app"].pk, "sod"])):
        assert client.get(url).status_code == 404
    assert client.post(reverse("portal:secret_create", args=[world["app"].pk, "sod"])).status_code == 404
    assert client.session.get(SESSION_KEY) in (None, world["alpha"].pk)
    assert not ClientSecret.objects.exists()


def test_a_member_without_sign_in_in_the_other_company_gets_404(client, two_companies):
    world = two_companies
    PartnerMember.objects.filter(pk=world["in_beta"].pk).update(can_login=False)
    signed_in(client, world["user"], current=world["alpha"])

    assert client.get(reverse("portal:app", args=[world["app"].pk])).status_code == 404
    assert client.session[SESSION_KEY] == world["alpha"].pk


def test_a_missing_object_of_the_current_company_is_a_plain_404(client, two_companies):
    world = two_companies
    own_app = AppFactory(partner=world["alpha"])
    beta_listing = ListingFactory(app=world["app"])
    signed_in(client, world["user"], current=world["alpha"])

    # Own app id with Beta's listing id: not Beta's app page, so no switch.
    response = client.get(reverse("portal:listing", args=[own_app.pk, beta_listing.pk]))

    assert response.status_code == 404 and client.session[SESSION_KEY] == world["alpha"].pk
    assert client.get(reverse("portal:app", args=[987654])).status_code == 404
    assert client.session[SESSION_KEY] == world["alpha"].pk


def test_a_profile_version_link_of_the_other_company_switches_too(client, two_companies):
    world = two_companies
    version = profile_services.create_profile_version(actor=world["user"], partner=world["beta"])
    signed_in(client, world["user"], current=world["alpha"])

    response = client.get(reverse("portal:profile", args=[version.pk]))

    assert response.status_code == 200
    assert client.session[SESSION_KEY] == world["beta"].pk
    assert "Switched to Beta Builders" in response.content.decode()
    outsider = PartnerMemberFactory(partner=world["alpha"])
    signed_in(client, outsider.user)
    assert client.get(reverse("portal:profile", args=[version.pk])).status_code == 404


def test_other_pages_addressed_by_pk_never_switch(client, two_companies):
    world = two_companies
    signed_in(client, world["user"], current=world["alpha"])

    response = client.get(reverse("portal:member", args=[world["in_beta"].pk]))

    assert response.status_code == 404 and client.session[SESSION_KEY] == world["alpha"].pk
