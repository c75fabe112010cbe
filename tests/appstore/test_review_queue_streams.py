"""The review queue has a tab per stream: listings, configurations, partner profiles."""

import pytest
from django.urls import reverse
from django.utils import timezone

from appstore.models import ConfigurationVersion, PartnerProfileVersion, VersionState
from tests.factories import AppFactory, PartnerFactory, environment

pytestmark = pytest.mark.django_db


def pending_configuration(**kwargs) -> ConfigurationVersion:
    return ConfigurationVersion.objects.create(
        app=kwargs.pop("app", None) or AppFactory(), environment=environment("stage"), label="1.1",
        state=VersionState.PENDING, submitted_at=timezone.now(), **kwargs)


def test_configuration_requests_have_their_tab(staff_client):
    waiting = pending_configuration(app=AppFactory(name="Waiting Config"))
    ConfigurationVersion.objects.create(app=AppFactory(name="Draft Config"), environment=environment("stage"),
                                        label="1.1")
    response = staff_client.get(reverse("review:queue"), {"tab": "configurations"})
    html = response.content.decode()
    assert "Waiting Config" in html and "Draft Config" not in html
    assert reverse("review:configuration", args=[waiting.pk]) in html
    assert response.context["counts"]["configurations"] == 1
    assert "First in stage" in html


def test_profile_requests_have_their_tab(staff_client):
    partner = PartnerFactory(name="Profiled Partner")
    version = PartnerProfileVersion.objects.create(partner=partner, label="1.0", state=VersionState.PENDING,
                                                   submitted_at=timezone.now())
    html = staff_client.get(reverse("review:queue"), {"tab": "profiles"}).content.decode()
    assert "Profiled Partner" in html
    assert reverse("review:profile", args=[version.pk]) in html


def test_queue_tabs_keep_queries_flat(staff_client, django_assert_num_queries):
    pending_configuration()
    staff_client.get(reverse("review:queue"), {"tab": "configurations"})
    # session, user, memberships, three counts, page count and rows: the same for 1 or 4 requests
    with django_assert_num_queries(10) as first:
        staff_client.get(reverse("review:queue"), {"tab": "configurations"})
    for _ in range(3):
        pending_configuration()
    with django_assert_num_queries(len(first.captured_queries)):
        staff_client.get(reverse("review:queue"), {"tab": "configurations"})


def test_unknown_tab_shows_listings(staff_client):
    response = staff_client.get(reverse("review:queue"), {"tab": "nonsense"})
    assert response.status_code == 200 and response.context["tab"] == "pending"


def test_header_badge_counts_every_waiting_request(staff_client):
    pending_configuration()
    PartnerProfileVersion.objects.create(partner=PartnerFactory(), label="1.0", state=VersionState.PENDING,
                                         submitted_at=timezone.now())
    html = staff_client.get(reverse("review:apps")).content.decode()
    assert 'Review <span class="badge">2</span>' in html
