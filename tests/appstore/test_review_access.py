"""Only App-manager staff reach /review/: anonymous users sign in first, everyone else gets 403."""

import pytest
from django.urls import reverse

from accounts.services import ensure_user
from appstore.models import VersionState
from tests.factories import AppFactory, ListingFactory, UserFactory, complete_listing

pytestmark = pytest.mark.django_db


@pytest.fixture
def pending(partner_member):
    return complete_listing(ListingFactory(app=AppFactory(partner=partner_member.partner),
                                           state=VersionState.PENDING))


def review_urls(listing) -> list[str]:
    return [reverse("review:queue"), reverse("review:queue") + "?tab=reviewed",
            reverse("review:listing", args=[listing.pk]), reverse("review:audit")]


def test_urls_follow_the_shared_layout():
    assert reverse("review:queue") == "/review/"
    assert reverse("review:listing", args=[7]) == "/review/listings/7/"
    assert reverse("review:audit") == "/review/audit/"


def test_anonymous_is_sent_to_login(client, pending):
    for url in review_urls(pending):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith("/accounts/login/?next=")
    response = client.post(reverse("review:listing", args=[pending.pk]), {"action": "approve"})
    assert response.status_code == 302
    pending.refresh_from_db()
    assert pending.state == VersionState.PENDING


@pytest.mark.parametrize("who", ["partner", "plain_staff", "plain_user"])
def test_everyone_but_app_managers_is_forbidden(client, pending, partner_member, who):
    user = {
        "partner": lambda: partner_member.user,
        "plain_staff": lambda: ensure_user(email="staff@example.com", password="x-password-123",
                                           is_staff=True),
        "plain_user": lambda: UserFactory(),
    }[who]()
    client.force_login(user)
    for url in review_urls(pending):
        assert client.get(url).status_code == 403, url
    for data in ({"action": "approve"}, {"action": "reject", "reason": "No."}):
        assert client.post(reverse("review:listing", args=[pending.pk]), data).status_code == 403
    pending.refresh_from_db()
    assert pending.state == VersionState.PENDING


def test_app_manager_in_group_without_staff_flag_is_forbidden(client, pending):
    user = ensure_user(email="not-staff@example.com", password="x-password-123", app_manager=True)
    client.force_login(user)
    assert client.get(reverse("review:queue")).status_code == 403


def test_app_manager_and_superuser_get_in(client, pending, app_manager, django_user_model):
    for user in (app_manager, django_user_model.objects.create_superuser("root@example.com", "pw-12345678")):
        client.force_login(user)
        for url in review_urls(pending):
            assert client.get(url).status_code == 200, url


def test_unknown_version_is_404(staff_client):
    assert staff_client.get(reverse("review:listing", args=[999999])).status_code == 404
