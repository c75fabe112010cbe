"""Celery tasks run by a real worker that takes them from Redis."""

import pytest
from django.core import mail

from appstore.models import VersionState
from appstore.tasks import notify_listing_reviewed
from tests.factories import AppFactory, ListingFactory, complete_listing

pytestmark = [pytest.mark.redis, pytest.mark.django_db(transaction=True),
              pytest.mark.usefixtures("reference_data")]


def test_review_email_is_sent_by_a_worker_through_redis(partner_member, real_worker):
    app = AppFactory(partner=partner_member.partner, technical_contact=partner_member.user)
    # Set the reviewed state directly: going through the services would queue a second e-mail.
    listing = complete_listing(ListingFactory(app=app, state=VersionState.REJECTED,
                                              review_reason="Screenshots show test data."))

    result = notify_listing_reviewed.delay(listing.pk)
    sent = result.get(timeout=60)

    assert result.successful()
    assert sent == 1
    listing.refresh_from_db()
    assert listing.state == VersionState.REJECTED
    assert [m.to for m in mail.outbox] == [[partner_member.user.email]]
    assert "Screenshots show test data." in mail.outbox[0].body
