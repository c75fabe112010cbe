"""The review queue: pending versions oldest first; a tab of recent decisions."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from appstore.models import VersionState
from appstore.views.review import QUEUE_PAGE_SIZE
from tests.factories import AppFactory, ListingFactory, UserFactory, published_listing

pytestmark = pytest.mark.django_db


def pending_listing(*, app=None, label="1.0", minutes_ago=0, **kwargs):
    return ListingFactory(app=app or AppFactory(), label=label, state=VersionState.PENDING,
                          submitted_by=UserFactory(),
                          submitted_at=timezone.now() - timedelta(minutes=minutes_ago), **kwargs)


def test_queue_lists_only_pending_versions_oldest_first(staff_client):
    newer = pending_listing(minutes_ago=5)
    older = pending_listing(minutes_ago=50)
    ListingFactory(app=AppFactory(name="Draft only"), state=VersionState.DRAFT)
    ListingFactory(app=AppFactory(name="Rejected only"), state=VersionState.REJECTED)
    published_listing(app=AppFactory(name="Published only"))

    response = staff_client.get(reverse("review:queue"))

    assert response.status_code == 200
    assert list(response.context["page"]) == [older, newer]
    html = response.content.decode()
    assert html.index(older.app.name) < html.index(newer.app.name)
    assert older.app.partner.name in html
    assert older.submitted_by.email in html
    for name in ("Draft only", "Rejected only", "Published only"):
        assert name not in html
    assert reverse("review:listing", args=[older.pk]) in html


def test_queue_tells_first_listing_from_update(staff_client):
    live = published_listing(label="2.3")
    update = pending_listing(app=live.app, label="2.4")
    first = pending_listing(label="1.0")

    response = staff_client.get(reverse("review:queue"))

    rows = {listing.pk: listing for listing in response.context["page"]}
    assert rows[update.pk].is_update and rows[update.pk].live_label == "2.3"
    assert not rows[first.pk].is_update
    html = response.content.decode()
    assert "Update of 2.3" in html
    assert "First listing" in html


def test_reviewed_tab_lists_decisions_newest_first(staff_client, app_manager):
    now = timezone.now()
    old = published_listing(reviewed_by=app_manager, reviewed_at=now - timedelta(days=3))
    rejected = ListingFactory(state=VersionState.REJECTED, reviewed_by=app_manager,
                              reviewed_at=now - timedelta(hours=1), review_reason="Blurry icons")
    recent = published_listing(reviewed_by=app_manager, reviewed_at=now)
    waiting = pending_listing()

    response = staff_client.get(reverse("review:queue") + "?tab=reviewed")

    assert list(response.context["page"]) == [recent, rejected, old]
    html = response.content.decode()
    assert "Blurry icons" in html
    assert waiting.app.name not in html


def test_reviewed_tab_is_paginated(staff_client):
    apps = [published_listing(reviewed_at=timezone.now() - timedelta(minutes=i)).app
            for i in range(QUEUE_PAGE_SIZE + 2)]

    first = staff_client.get(reverse("review:queue") + "?tab=reviewed")
    second = staff_client.get(reverse("review:queue") + "?tab=reviewed&page=2")

    assert len(first.context["page"]) == QUEUE_PAGE_SIZE
    assert [x.app for x in second.context["page"]] == apps[QUEUE_PAGE_SIZE:]
    assert "tab=reviewed&amp;page=2" in first.content.decode()


@pytest.mark.parametrize("tab", ["", "?tab=reviewed"])
def test_queue_query_count_does_not_grow_with_rows(staff_client, tab, django_assert_num_queries):
    def add(count):
        for _ in range(count):
            live = published_listing(reviewed_at=timezone.now())
            pending_listing(app=live.app, label="1.1")

    url = reverse("review:queue") + tab
    add(3)
    with CaptureQueriesContext(connection) as three:
        assert staff_client.get(url).status_code == 200
    add(7)
    with django_assert_num_queries(len(three)):
        response = staff_client.get(url)
    assert len(response.context["page"]) == 10

