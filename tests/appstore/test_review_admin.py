"""The App Store models are browsable in the Django admin; state fields are read-only there."""

import pytest
from django.contrib import admin
from django.urls import reverse

from appstore.models import App, Category, Language, ListingVersion, Market, Partner
from tests.factories import AppFactory, PartnerMemberFactory, published_listing

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client_with_data(admin_client):
    member = PartnerMemberFactory()
    published_listing(app=AppFactory(partner=member.partner))
    return admin_client


@pytest.mark.parametrize("model", [Partner, App, ListingVersion, Category, Language, Market])
def test_changelist_and_change_page_load(admin_client_with_data, model):
    opts = model._meta
    assert model in admin.site._registry
    changelist = admin_client_with_data.get(reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist"))
    assert changelist.status_code == 200
    obj = model.objects.first()
    change = admin_client_with_data.get(
        reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk]))
    assert change.status_code == 200


def test_partner_page_shows_members_inline(admin_client_with_data):
    partner = Partner.objects.get(members__isnull=False)
    response = admin_client_with_data.get(reverse("admin:appstore_partner_change", args=[partner.pk]))
    assert "members-TOTAL_FORMS" in response.content.decode()


def test_listing_state_cannot_be_changed_in_admin(admin_client_with_data):
    listing = ListingVersion.objects.get()
    response = admin_client_with_data.get(reverse("admin:appstore_listingversion_change",
                                                  args=[listing.pk]))
    html = response.content.decode()
    assert 'name="state"' not in html
    assert 'name="superseded_at' not in html
    assert 'name="header"' in html
