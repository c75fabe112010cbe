"""A form the CSRF check refuses gets the site's own 403 page, not Django's bare yellow one."""

import re

import pytest
from django.test import Client
from django.urls import reverse

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def _main(html: str) -> str:
    return re.search(r'<main id="main"[^>]*>(.*)</main>', html, re.S).group(1)


def _back_link(html: str) -> str:
    return re.search(r'<a class="button" href="([^"]*)">Go back and try again</a>', _main(html)).group(1)


def test_a_sign_in_posted_without_the_token_shows_the_sites_page():
    client = Client(enforce_csrf_checks=True)
    login = reverse("account_login")

    response = client.post(login, {"login": "someone@example.com", "password": "x"},
                           HTTP_REFERER=f"http://testserver{login}")

    assert response.status_code == 403
    html = response.content.decode()
    assert "CSRF verification failed" not in html
    assert '<header class="site-header">' in html and '<a class="skip-link" href="#main">' in html
    main = _main(html)
    assert "<h1>That form could not be accepted</h1>" in main
    assert "expired" in main and "posted from another site" in main
    assert _back_link(html) == f"http://testserver{login}"


def test_the_page_keeps_a_signed_in_visitors_navigation_and_links_home_for_another_sites_referer():
    client = Client(enforce_csrf_checks=True)
    client.force_login(UserFactory())

    response = client.post(reverse("account_logout"), HTTP_REFERER="https://elsewhere.example/form")

    assert response.status_code == 403
    html = response.content.decode()
    assert re.search(r'<nav id="site-nav".*>Sign out</button>.*</nav>', html, re.S)
    assert _back_link(html) == "/"
