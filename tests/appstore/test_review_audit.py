"""The staff audit log: every partner's entries, filtered and paginated."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from appstore.views.review import AUDIT_PAGE_SIZE
from audit import services as audit
from audit.models import AuditEntry
from tests.factories import AppFactory, PartnerFactory

pytestmark = pytest.mark.django_db

URL = reverse("review:audit")


def entry(partner, *, event_type="app_created", source=AuditEntry.Source.PORTAL, days_ago=0,
          message="", changes=None):
    created = audit.record(event_type=event_type, source=source, partner=partner,
                           app=AppFactory(partner=partner), message=message or event_type,
                           changes=changes)
    if days_ago:
        AuditEntry.objects.filter(pk=created.pk).update(at=timezone.now() - timedelta(days=days_ago))
    return created


@pytest.fixture
def partners():
    return PartnerFactory(name="Acme ERP"), PartnerFactory(name="Beta Quotes")


def shown(response) -> list[int]:
    return [e.pk for e in response.context["page"]]


def test_staff_see_every_partners_entries_newest_first(staff_client, partners):
    acme, beta = partners
    older = entry(acme, days_ago=2, changes={"name": ["Old name", "New name"],
                                             "categories": [["ERP"], ["ERP", "CTI"]]})
    newer = entry(beta)

    response = staff_client.get(URL)

    assert response.status_code == 200
    assert shown(response) == [newer.pk, older.pk]
    html = response.content.decode()
    assert "Acme ERP" in html and "Beta Quotes" in html
    assert "Old name" in html and "New name" in html
    assert "ERP, CTI" in html


def test_filter_by_partner_source_event_and_dates(staff_client, partners):
    acme, beta = partners
    published = entry(acme, event_type="listing_version_published", source="review", days_ago=1)
    created = entry(acme, event_type="app_created", days_ago=10)
    other = entry(beta, event_type="listing_version_published", source="review")

    assert set(shown(staff_client.get(URL, {"partner": acme.pk}))) == {published.pk, created.pk}
    assert set(shown(staff_client.get(URL, {"source": "review"}))) == {published.pk, other.pk}
    assert shown(staff_client.get(URL, {"event_type": "app_created"})) == [created.pk]
    today = timezone.localdate()
    window = {"date_from": today - timedelta(days=3), "date_to": today - timedelta(days=1)}
    assert shown(staff_client.get(URL, window)) == [published.pk]
    both = staff_client.get(URL, {"partner": acme.pk, "source": "review"})
    assert shown(both) == [published.pk]


def test_reversed_date_range_names_the_field_and_keeps_input(staff_client, partners):
    entry(partners[0])
    response = staff_client.get(URL, {"date_from": "2025-05-10", "date_to": "2025-05-01"})
    html = response.content.decode()
    assert "To: The end date is before the start date." in html
    assert 'value="2025-05-10"' in html and 'value="2025-05-01"' in html


def test_audit_log_is_paginated_and_keeps_filters(staff_client, partners):
    acme, _ = partners
    for _ in range(AUDIT_PAGE_SIZE + 3):
        audit.record(event_type="member_added", partner=acme, message="added")

    first = staff_client.get(URL, {"partner": acme.pk})
    second = staff_client.get(URL, {"partner": acme.pk, "page": 2})

    assert len(first.context["page"]) == AUDIT_PAGE_SIZE
    assert len(second.context["page"]) == 3
    assert f"partner={acme.pk}&amp;page=2" in first.content.decode()


def test_audit_query_count_does_not_grow_with_entries(staff_client, partners,
                                                      django_assert_num_queries):
    for partner in partners:
        entry(partner)
    with CaptureQueriesContext(connection) as few:
        staff_client.get(URL)
    for _ in range(8):
        entry(PartnerFactory())
    with django_assert_num_queries(len(few)):
        response = staff_client.get(URL)
    assert len(response.context["page"]) == 10


def test_long_values_are_cut_and_the_page_stays_small(staff_client, partners):
    huge_old, huge_new = "o" * 100_000, "n" * 100_000
    entry(partners[0], event_type="listing_version_updated",
          changes={"requirements": [huge_old, huge_new], "header": ["Short", "Also short"]})

    response = staff_client.get(URL)

    html = response.content.decode()
    assert len(html) < 40_000
    assert "o" * 299 + "…" in html and "n" * 299 + "…" in html
    assert "o" * 5001 not in html and "n" * 5001 not in html
    assert "o" * 5000 in html  # more of it behind "show more"
    assert html.count('<details class="audit-value">') == 2
    assert "100000 characters" in html
    assert "Only the first 5000 of 100000 characters are shown." in html
    # Short values are shown whole, without a disclosure.
    assert '<span class="diff-old">Short</span>' in html
    assert '<span class="diff-new">Also short</span>' in html


def test_a_value_just_over_the_preview_is_shown_whole_behind_show_more(staff_client, partners):
    value = "word " * 100
    entry(partners[0], changes={"about": [None, value.strip()]})
    html = staff_client.get(URL).content.decode()
    assert value.strip() in html
    assert "Only the first" not in html
