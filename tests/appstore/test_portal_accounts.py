"""Sign-up as a new company, the no-company page, and allauth's pages in the site layout."""

import pytest
from django.urls import reverse

from accounts.models import User
from appstore.models import Partner, PartnerMember
from appstore.selectors.partners import SESSION_KEY
from tests.factories import PASSWORD, PartnerFactory, UserFactory

pytestmark = pytest.mark.django_db

SIGNUP = "/accounts/signup/"


def signup_data(**overrides):
    data = {"company_name": "Nordic Widgets", "full_name": "Ada Lovelace", "email": "ada@example.com",
            "password1": "a-long-unusual-passphrase-42", "password2": "a-long-unusual-passphrase-42"}
    data.update(overrides)
    return data


def test_signup_creates_partner_with_founder_as_administrator(client):
    response = client.post(SIGNUP, signup_data())

    assert response.status_code == 302
    assert response["Location"] == "/portal/"
    user = User.objects.get(email="ada@example.com")
    assert user.full_name == "Ada Lovelace"
    partner = Partner.objects.get(name="Nordic Widgets")
    member = PartnerMember.objects.get(partner=partner, user=user)
    assert all(member.has(flag) for flag in PartnerMember.PERMISSIONS)
    assert partner.administrative_contact == user
    assert client.session[SESSION_KEY] == partner.pk
    # The founder lands on the dashboard of the new company.
    page = client.get("/portal/")
    assert page.status_code == 200
    assert "Apps of Nordic Widgets" in page.content.decode()


def test_signup_with_taken_company_name_keeps_what_was_typed(client):
    PartnerFactory(name="Nordic Widgets")

    response = client.post(SIGNUP, signup_data(company_name="NORDIC widgets "))

    assert response.status_code == 200
    form = response.context["form"]
    assert "already registered" in form.errors["company_name"][0]
    html = response.content.decode()
    assert 'value="ada@example.com"' in html
    assert 'value="Ada Lovelace"' in html
    assert 'value="NORDIC widgets' in html
    assert 'id="id_company_name_error"' in html and "already registered" in html
    assert not User.objects.filter(email="ada@example.com").exists()
    assert Partner.objects.count() == 1


def test_signup_form_asks_for_company_first(client):
    html = client.get(SIGNUP).content.decode()
    assert html.index('name="company_name"') < html.index('name="email"')
    assert 'class="field' in html and "Become a partner" in html


def test_user_without_partner_sees_register_page_and_can_register(client):
    user = UserFactory()
    client.force_login(user)

    page = client.get("/portal/")
    assert page.status_code == 200
    assert "not in a company yet" in page.content.decode()
    assert 'action="/portal/companies/new/"' in page.content.decode()

    response = client.post(reverse("portal:partner_create"), {"name": "Second Co"})
    assert response.status_code == 302
    member = PartnerMember.objects.get(user=user)
    assert member.partner.name == "Second Co"
    assert member.can_users and member.can_app_store
    assert client.session[SESSION_KEY] == member.partner_id


def test_register_page_rejects_duplicate_name_on_the_field(client):
    PartnerFactory(name="Taken Ltd")
    client.force_login(UserFactory())
    response = client.post(reverse("portal:partner_create"), {"name": "taken ltd"})
    assert response.status_code == 200
    assert response.context["form"].errors["name"]
    assert 'value="taken ltd"' in response.content.decode()
    assert not PartnerMember.objects.exists()


def test_signed_in_member_can_register_another_company(client, partner_member):
    client.force_login(partner_member.user)
    assert client.get(reverse("portal:partner_create")).status_code == 200
    client.post(reverse("portal:partner_create"), {"name": "Side Project AS"})
    names = set(PartnerMember.objects.filter(user=partner_member.user)
                .values_list("partner__name", flat=True))
    assert names == {partner_member.partner.name, "Side Project AS"}


@pytest.mark.parametrize("url", ["/accounts/login/", "/accounts/signup/", "/accounts/password/reset/",
                                 "/accounts/password/reset/done/"])
def test_allauth_pages_render_in_site_layout(client, url):
    response = client.get(url)
    assert response.status_code == 200
    html = response.content.decode()
    assert 'class="site-header"' in html  # our base.html
    assert 'class="card auth-card"' in html
    assert "<strong>Menu:</strong>" not in html  # allauth's bare layout is replaced


def test_login_errors_use_site_form_styles(client):
    UserFactory(email="bob@example.com")
    response = client.post("/accounts/login/", {"login": "bob@example.com", "password": "wrong"})
    html = response.content.decode()
    assert response.status_code == 200
    assert 'class="errorlist nonfield"' in html
    assert 'value="bob@example.com"' in html
    good = client.post("/accounts/login/", {"login": "bob@example.com", "password": PASSWORD})
    assert good.status_code == 302


def test_logout_confirmation_and_password_reset_flow(client, mailoutbox):
    user = UserFactory(email="carol@example.com")
    client.force_login(user)
    page = client.get("/accounts/logout/")
    assert page.status_code == 200
    assert "Are you sure you want to sign out?" in page.content.decode()
    assert 'class="site-header"' in page.content.decode()
    client.post("/accounts/logout/")
    assert "_auth_user_id" not in client.session

    response = client.post("/accounts/password/reset/", {"email": "carol@example.com"})
    assert response.status_code == 302
    assert response["Location"] == "/accounts/password/reset/done/"
    assert len(mailoutbox) == 1


def test_company_taken_between_form_check_and_save_rolls_the_account_back(client, monkeypatch):
    PartnerFactory(name="Nordic Widgets")
    monkeypatch.setattr("appstore.forms.partner_name_taken", lambda name: False)

    response = client.post(SIGNUP, signup_data())

    assert response.status_code == 200
    assert "already registered" in response.context["form"].errors["company_name"][0]
    assert not User.objects.filter(email="ada@example.com").exists()
    assert "_auth_user_id" not in client.session


def test_signup_refuses_addresses_at_an_ip_address_like_the_browser_does(client):
    response = client.post(SIGNUP, signup_data(email="ada@[127.0.0.1]"))

    assert response.status_code == 200
    assert "not accepted" in response.context["form"].errors["email"][0]
    assert not User.objects.exists() and not Partner.objects.exists()
