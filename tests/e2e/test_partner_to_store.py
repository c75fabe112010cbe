"""The main path, in Chromium: a partner signs up and lists an app, staff approves it,
a visitor finds it in the store and follows the green button to the partner's site."""

import re

import pytest
from django.contrib.auth import get_user_model

from accounts.services import ensure_user
from appstore.models import LinkClick, ListingVersion, Partner, VersionState
from tests.factories import png_bytes

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True),
              pytest.mark.usefixtures("reference_data")]

PASSWORD = "a-Long-and-unusual-passphrase-42"


def _png_files(tmp_path):
    files = {}
    for name, size in (("home.png", (488, 488)), ("detail.png", (488, 488)),
                       ("shot.png", (1920, 1080))):
        path = tmp_path / name
        path.write_bytes(png_bytes(*size))
        files[name] = str(path)
    return files


def _sign_in(page, base, email, password):
    page.goto(f"{base}/accounts/login/")
    page.locator("#id_login").fill(email)
    page.locator("#id_password").fill(password)
    page.locator("form button[type=submit]").last.click()
    page.wait_for_load_state()


def test_partner_lists_an_app_staff_approves_visitor_follows_the_green_button(
        live_server, new_page, partner_site, tmp_path):
    base = live_server.url
    files = _png_files(tmp_path)
    ensure_user(email="reviewer@example.com", password=PASSWORD, is_staff=True, app_manager=True)

    # --- A new person signs up a company.
    partner = new_page()
    partner.goto(f"{base}/accounts/signup/")
    partner.get_by_label("Company name").fill("Fjordline Software")
    partner.get_by_label("Your name").fill("Ingrid Berg")
    partner.get_by_label("Email").fill("ingrid@fjordline.example")
    partner.locator("#id_password1").fill(PASSWORD)
    partner.locator("#id_password2").fill(PASSWORD)
    partner.get_by_role("button", name="Create account and company").click()
    partner.wait_for_url(f"{base}/portal/")
    assert Partner.objects.filter(name="Fjordline Software").exists()

    # --- ... creates an app with the wizard.
    partner.goto(f"{base}/portal/apps/new/")
    partner.locator("label.template-card", has_text="Web").first.click()
    partner.locator("#id_name").fill("Fjordline Timesheets")
    partner.locator("#id_redirect_urls").fill("https://timesheets.fjordline.example/callback")
    partner.get_by_role("button", name="Create app").click()
    partner.get_by_role("heading", name="Fjordline Timesheets").first.wait_for()

    listing = ListingVersion.objects.get(app__name="Fjordline Timesheets")
    editor_url = f"{base}/portal/apps/{listing.app_id}/listing/{listing.pk}/"

    # --- ... fills in the listing.
    partner.goto(editor_url)
    request_button = partner.get_by_role("button", name="Request publishing")
    assert request_button.is_disabled()
    partner.locator("#id_header").fill("Timesheets that land in your CRM by themselves")
    partner.locator("#id_about").fill(
        "<p>Track hours against <b>companies and projects</b> in your CRM.</p>")
    partner.locator("#id_key_features").fill("One-click timers\nWeekly approval\nInvoice export")
    partner.get_by_role("checkbox", name="Productivity").check()
    partner.get_by_role("checkbox", name="English").check()
    partner.get_by_role("checkbox", name="Norway").check()
    partner.locator("#id_lowest_price_eur").fill("4.50")
    partner.locator("#id_price_model").select_option("per_user_month")
    partner.locator("#id_terms_url").fill("https://fjordline.example/terms")
    partner.locator("#id_supported_plans").fill("Standard, Premium")
    partner.locator("#id_install_steps").fill("Click Install\nApprove the app for your company")
    partner.locator("#id_requirements").fill("A CRM Online subscription.")
    partner.locator("#id_meta_description").fill(
        "Fjordline Timesheets tracks hours against CRM companies and projects, ready to invoice.")
    partner.locator("#id_keywords").fill("timesheets, hours, invoicing")
    partner.locator("#id_link_install_url").fill(f"{partner_site.url}/start")
    partner.locator("#id_link_install_label").select_option("Start free trial")
    partner.get_by_role("button", name="Save draft").click()
    partner.wait_for_load_state()

    # --- ... uploads icons and a screenshot.
    for kind, file in (("home_icon", files["home.png"]), ("detail_icon", files["detail.png"]),
                       ("screenshot", files["shot.png"])):
        form = partner.locator(f"form.upload-form[action*='/images/{kind}/']")
        form.locator("input[type=file]").set_input_files(file)
        form.locator("input[name$=alt_text]").fill(f"Fjordline Timesheets {kind.replace('_', ' ')}")
        form.locator("button[type=submit]").click()
        partner.wait_for_load_state()
    listing.refresh_from_db()
    assert listing.images.count() == 3

    # --- ... and requests publishing, now that nothing is missing.
    partner.goto(editor_url)
    request_button = partner.get_by_role("button", name="Request publishing")
    assert request_button.is_enabled()
    request_button.click()
    partner.wait_for_load_state()
    listing.refresh_from_db()
    assert listing.state == VersionState.PENDING

    # --- Staff signs in and approves it from the review queue.
    staff = new_page()
    _sign_in(staff, base, "reviewer@example.com", PASSWORD)
    staff.goto(f"{base}/review/")
    staff.get_by_role("link", name=re.compile("Fjordline Timesheets")).first.click()
    staff.get_by_role("button", name=re.compile("^Approve")).click()
    staff.wait_for_url(re.compile(r"/review/$|/review/\?"))
    listing.refresh_from_db()
    assert listing.state == VersionState.PUBLISHED

    # --- An anonymous visitor searches, filters by category and opens the app.
    visitor = new_page()
    visitor.goto(f"{base}/")
    visitor.get_by_role("searchbox").first.fill("timesheets")
    visitor.get_by_role("searchbox").first.press("Enter")
    visitor.wait_for_url(re.compile(r"/apps/\?"))
    visitor.get_by_role("checkbox", name=re.compile("^Productivity")).check()
    visitor.get_by_role("button", name=re.compile("Apply|Filter", re.I)).first.click()
    visitor.wait_for_url(re.compile(r"category=productivity"))
    visitor.get_by_role("link", name=re.compile("Fjordline Timesheets")).first.click()
    visitor.get_by_role("heading", name="Fjordline Timesheets").first.wait_for()
    visitor.screenshot(path=str(tmp_path / "app-page.png"), full_page=True)

    # --- The green button lands on the partner's own site, and the click is counted.
    visitor.get_by_role("link", name="Start free trial").click()
    visitor.get_by_role("heading", name="Welcome to the partner").wait_for()
    assert visitor.url == f"{partner_site.url}/start"
    assert [hit for hit in partner_site.hits if hit != "/favicon.ico"] == ["/start"]
    assert LinkClick.objects.filter(app=listing.app, kind="install").count() == 1
    assert get_user_model().objects.filter(email="ingrid@fjordline.example").exists()
