"""In Chromium: very long unbroken words in partner data never make the staff pages scroll sideways.

The pages are rendered by the test client and laid out in Chromium with the site's stylesheet,
so the test needs no live server (and no transactional database).
"""

from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse

from appstore.services import listings
from audit import services as audit
from tests.conftest import CHROMIUM
from tests.e2e.conftest import CHROMIUM_ARGS
from tests.factories import AppFactory, complete_listing, published_listing

pytestmark = [pytest.mark.browser, pytest.mark.django_db]

WORD = "Unbroken" * 180
STYLESHEET = Path(settings.BASE_DIR) / "static" / "css" / "site.css"


def overflow(page) -> list[str]:
    """Elements whose content sticks out sideways (the page itself, a scrolling table, a cell)."""
    return page.evaluate("""() => Array.from(document.querySelectorAll("html, body *"))
        .filter(e => e.clientWidth > 1 && !e.closest(".sr-only") && e.scrollWidth - e.clientWidth > 1)
        .map(e => `${e.tagName}.${e.className}: ${e.scrollWidth} > ${e.clientWidth}`)""")


@pytest.fixture(scope="module")
def chromium():
    """One browser for this module, closed before any other module starts its own."""
    from playwright.sync_api import sync_playwright

    with pytest.MonkeyPatch.context() as mp:
        # Playwright's sync API keeps an event loop in this thread; the ORM calls stay synchronous.
        mp.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            yield browser
            browser.close()


@pytest.fixture
def new_page(chromium):
    context = chromium.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(20_000)
    yield context.new_page
    context.close()


def show(page, html: str) -> None:
    page.set_content(html, wait_until="domcontentloaded")
    page.add_style_tag(path=str(STYLESHEET))


@pytest.fixture
def pages(staff_client, partner_member):
    """The review page of a version full of long words, and an audit page with huge values."""
    member = partner_member
    member.partner.name = "P" + "x" * 110
    member.partner.save()
    app = AppFactory(partner=member.partner, technical_contact=member.user)
    published_listing(app=app, requirements=WORD)
    pending = listings.create_listing_version(actor=member.user, app=app)
    listings.update_listing(actor=member.user, listing=pending,
                            fields={"requirements": WORD[::-1], "about": f"<p>{WORD}</p>",
                                    "whats_new": WORD},
                            links={"install": {"url": "https://example.com/" + WORD[:180],
                                               "label": "Install"}})
    pending = listings.request_publish(actor=member.user, listing=complete_listing(pending))
    audit.record(event_type="listing_version_updated", partner=member.partner, app=app,
                 message="Saved " + WORD, changes={"requirements": ["y" * 100_000, "z" * 100_000]})
    review = staff_client.get(reverse("review:listing", args=[pending.pk]))
    log = staff_client.get(reverse("review:audit"))
    assert review.status_code == log.status_code == 200
    return review.content.decode(), log.content.decode()


@pytest.mark.parametrize("width", [1280, 375])
def test_long_words_wrap_on_the_review_and_audit_pages(pages, new_page, width):
    review_html, audit_html = pages
    page = new_page()
    page.set_viewport_size({"width": width, "height": 900})

    show(page, review_html)
    assert WORD in page.inner_text("body")
    assert overflow(page) == []

    show(page, audit_html)
    assert overflow(page) == []
    if width >= 720:
        # Wrapping the long values never squeezes the short columns to a letter per line.
        widths = page.eval_on_selector_all(".audit-table thead th",
                                           "cells => cells.map(c => c.getBoundingClientRect().width)")
        assert len(widths) == 5 and min(widths) >= 100, widths
    # Opening the long value keeps it inside the page too.
    page.locator("details.audit-value summary").first.click()
    assert page.locator("details.audit-value").first.get_attribute("open") is not None
    assert overflow(page) == []
