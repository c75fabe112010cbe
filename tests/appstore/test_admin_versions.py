"""The admin lists versions, invitations and API tokens read-only, and never shows a token hash."""

import pytest
from django.urls import reverse

from accounts.models import User
from appstore.models import Invitation, PartnerApiToken
from appstore.services.api_tokens import create_api_token
from appstore.services.team import invite_member
from tests.factories import ConfigurationFactory, PartnerMemberFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client):
    client.force_login(User.objects.create_superuser(email="root@example.com", password="x-long-password-1"))
    return client


def test_admin_pages_list_and_hide_hashes(admin_client):
    member = PartnerMemberFactory()
    version = ConfigurationFactory()
    invite_member(actor=member.user, partner=member.partner, email="new@example.com",
                  permissions={"read": True})
    token, raw = create_api_token(actor=member.user, partner=member.partner, name="CI")
    invitation = Invitation.objects.get()
    for url in (reverse("admin:appstore_configurationversion_changelist"),
                reverse("admin:appstore_configurationversion_change", args=[version.pk]),
                reverse("admin:appstore_partnerprofileversion_changelist"),
                reverse("admin:appstore_invitation_change", args=[invitation.pk]),
                reverse("admin:appstore_partnerapitoken_change", args=[token.pk])):
        html = admin_client.get(url).content.decode()
        assert invitation.token_hash not in html and token.token_hash not in html and raw not in html
    assert "CI" in admin_client.get(reverse("admin:appstore_partnerapitoken_changelist")).content.decode()
    # Read-only: the admin cannot change a token.
    response = admin_client.post(reverse("admin:appstore_partnerapitoken_change", args=[token.pk]),
                                 {"name": "renamed"})
    assert response.status_code == 403
    assert PartnerApiToken.objects.get().name == "CI"
