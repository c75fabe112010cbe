"""Invitations in Chromium: the e-mailed link is used in a fresh browser to sign up and join, or to
sign in with an existing account and accept. Both end with a same-origin POST from a page whose
URL carries the token, which the CSRF check must let through (the browser must send the real
Origin, not "null")."""

import re

import pytest

from accounts.services import ensure_user
from appstore.models import Invitation, PartnerMember
from appstore.services.partners import create_partner
from appstore.services.team import invite_member

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True),
              pytest.mark.usefixtures("reference_data")]

PASSWORD = "a-Long-and-unusual-passphrase-42"
LINK = re.compile(r"https?://[^/\s]+(/portal/invitations/[\w-]+/)")


def _invite(mailoutbox, email: str, **flags) -> tuple[object, str]:
    """The admin of a new company invites ``email``; returns the partner and the link's path."""
    founder = ensure_user(email="ingrid@fjordline.example", password=PASSWORD, full_name="Ingrid Berg")
    partner = create_partner(founder=founder, name="Fjordline Software")
    invite_member(actor=founder, partner=partner, email=email,
                  permissions={"read": True, "app_store": False, "configuration": False, "users": False,
                               **flags})
    [mail] = [m for m in mailoutbox if m.to == [email]]
    return partner, LINK.search(mail.body).group(1)


def _watch_posts(page) -> list[tuple[str, str | None, int]]:
    """(path, Origin header, status) of every POST the page sends."""
    posts: list[tuple[str, str | None, int]] = []

    def on_response(response):
        request = response.request
        if request.method == "POST":
            posts.append((re.sub(r"^https?://[^/]+", "", request.url), request.headers.get("origin"),
                          response.status))

    page.on("response", on_response)
    return posts


def test_a_new_person_signs_up_through_the_link_and_lands_in_the_company(live_server, new_page, mailoutbox):
    base = live_server.url
    partner, link = _invite(mailoutbox, "ola@fjordline.example", app_store=True)

    page = new_page()
    posts = _watch_posts(page)
    page.goto(base + link)
    assert page.locator('meta[name="referrer"]').get_attribute("content") == "same-origin"
    page.get_by_role("link", name="Create your account").click()
    page.get_by_role("heading", name="Join Fjordline Software").wait_for()
    assert page.get_by_label("Company name").count() == 0
    assert page.get_by_label("Email").input_value() == "ola@fjordline.example"
    page.get_by_label("Your name").fill("Ola Nordmann")
    page.locator("#id_password1").fill(PASSWORD)
    page.locator("#id_password2").fill(PASSWORD)
    page.get_by_role("button", name="Create account and join").click()
    page.wait_for_url(f"{base}/portal/")

    assert page.get_by_role("heading", name="Apps of Fjordline Software").is_visible()
    assert [(path, origin, status) for path, origin, status in posts] == [
        ("/accounts/signup/", base, 302)]
    member = PartnerMember.objects.get(partner=partner, user__email="ola@fjordline.example")
    assert member.can_app_store and not member.can_users
    assert Invitation.objects.get(partner=partner).accepted_by == member.user


def test_an_existing_account_signs_in_and_accepts(live_server, new_page, mailoutbox):
    base = live_server.url
    user = ensure_user(email="kari@example.com", password=PASSWORD, full_name="Kari Holm")
    partner, link = _invite(mailoutbox, "kari@example.com", configuration=True)
    assert not PartnerMember.objects.filter(user=user).exists()  # invited, not added

    page = new_page()
    posts = _watch_posts(page)
    page.goto(base + link)
    page.get_by_role("link", name="I have an account: sign in").click()
    page.locator("#id_login").fill("kari@example.com")
    page.locator("#id_password").fill(PASSWORD)
    page.locator("form button[type=submit]").last.click()
    page.wait_for_url(base + link)
    page.get_by_role("button", name="Accept and join Fjordline Software").click()
    page.wait_for_url(f"{base}/portal/")

    assert page.get_by_text("Welcome to Fjordline Software").is_visible()
    accept = [(origin, status) for path, origin, status in posts if path == link]
    assert accept == [(base, 302)]
    member = PartnerMember.objects.get(partner=partner, user=user)
    assert member.can_login and member.can_configuration and not member.can_users
