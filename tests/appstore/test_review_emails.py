"""Review e-mails are plain text: names and reasons arrive exactly as typed, never HTML-escaped."""

import pytest

from appstore.services import listings, review
from tests.factories import AppFactory, ListingFactory, complete_listing

pytestmark = pytest.mark.django_db

REASON = 'The "Pricing" section says <b>free</b> but the plan costs €10 & more.'


@pytest.fixture
def pending(partner_member):
    partner = partner_member.partner
    partner.name = "Eve Tools & More"
    partner.save()
    app = AppFactory(partner=partner, name='Quotes & "Deals" <Pro>',
                     technical_contact=partner_member.user)
    return complete_listing(ListingFactory(app=app, label="1.0"))


def test_publish_request_mail_keeps_names_as_typed(pending, partner_member, app_manager, mailoutbox,
                                                   django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        listings.request_publish(actor=partner_member.user, listing=pending)

    [mail] = mailoutbox
    assert mail.to == [app_manager.email]
    assert mail.subject == 'Review requested: Quotes & "Deals" <Pro> listing 1.0'
    assert mail.body.startswith('Eve Tools & More asks to publish version 1.0 of the store listing '
                                'of Quotes & "Deals" <Pro>.')
    assert "&amp;" not in mail.body + mail.subject and "&quot;" not in mail.body + mail.subject
    assert "&lt;" not in mail.body + mail.subject and "&#x27;" not in mail.body


def test_rejection_mail_keeps_the_reason_as_typed(pending, partner_member, app_manager, mailoutbox,
                                                  django_capture_on_commit_callbacks):
    pending = listings.request_publish(actor=partner_member.user, listing=pending)
    with django_capture_on_commit_callbacks(execute=True):
        review.reject_listing(actor=app_manager, listing=pending, reason=REASON)

    [mail] = mailoutbox
    assert mail.to == [partner_member.user.email]
    assert mail.subject == 'Changes needed: Quotes & "Deals" <Pro> listing 1.0'
    assert REASON in mail.body
    assert 'Quotes & "Deals" <Pro> was not approved.' in mail.body
    assert "&amp;" not in mail.body and "&quot;" not in mail.body and "&lt;b&gt;" not in mail.body


def test_approval_mail_subject_is_one_line(partner_member, app_manager, mailoutbox,
                                           django_capture_on_commit_callbacks):
    app = AppFactory(partner=partner_member.partner, name="Line one\nLine two",
                     technical_contact=partner_member.user)
    listing = listings.request_publish(actor=partner_member.user,
                                       listing=complete_listing(ListingFactory(app=app)))
    mailoutbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        review.approve_listing(actor=app_manager, listing=listing)

    [mail] = mailoutbox
    assert mail.subject == "Published: Line one Line two listing 1.0"
