"""Where sign-in lands: review queue for App managers, portal for partner members, store for others."""

import pytest

from tests.factories import PASSWORD, PartnerMemberFactory, UserFactory

pytestmark = pytest.mark.django_db

LOGIN = "/accounts/login/"


@pytest.fixture(autouse=True)
def _no_rate_limits(settings):
    # These sign-ins test where people land, not throttling; keep them out of the shared counters.
    settings.ACCOUNT_RATE_LIMITS = False


def sign_in(client, email, password=PASSWORD, next_url=None):
    url = LOGIN + (f"?next={next_url}" if next_url else "")
    data = {"login": email, "password": password}
    if next_url:
        data["next"] = next_url
    return client.post(url, data)


def test_app_manager_lands_on_the_review_queue(client, app_manager):
    response = sign_in(client, app_manager.email)
    assert response.status_code == 302
    assert response["Location"] == "/review/"


def test_partner_member_lands_on_the_portal(client):
    member = PartnerMemberFactory()
    response = sign_in(client, member.user.email)
    assert response["Location"] == "/portal/"


def test_person_without_a_company_lands_on_the_store(client):
    user = UserFactory()
    response = sign_in(client, user.email)
    assert response["Location"] == "/"


def test_member_without_sign_in_permission_lands_on_the_store(client):
    member = PartnerMemberFactory(can_login=False)
    response = sign_in(client, member.user.email)
    assert response["Location"] == "/"


def test_a_safe_next_address_wins(client, app_manager):
    response = sign_in(client, app_manager.email, next_url="/portal/audit/")
    assert response["Location"] == "/portal/audit/"


def test_an_unsafe_next_address_is_ignored(client, app_manager):
    response = sign_in(client, app_manager.email, next_url="https://evil.example.com/")
    assert response["Location"] == "/review/"
