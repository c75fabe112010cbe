"""Development to production in Chromium: a partner creates a client secret (shown once) and
requests a stage configuration; staff approve it beside the live version; it is live in stage."""

import pytest

from accounts.services import ensure_user
from appstore.models import ClientSecret, ConfigurationVersion, VersionState
from appstore.services.apps import create_app
from appstore.services.credentials import verify_client_secret
from appstore.services.partners import create_partner

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True),
              pytest.mark.usefixtures("reference_data")]

PASSWORD = "a-Long-and-unusual-passphrase-42"


def _sign_in(page, base, email):
    page.goto(f"{base}/accounts/login/")
    page.locator("#id_login").fill(email)
    page.locator("#id_password").fill(PASSWORD)
    page.locator("form button[type=submit]").last.click()
    page.wait_for_load_state()


def test_secret_once_then_stage_request_approved_by_staff(live_server, new_page):
    base = live_server.url
    founder = ensure_user(email="ingrid@fjordline.example", password=PASSWORD)
    ensure_user(email="reviewer@example.com", password=PASSWORD, is_staff=True, app_manager=True)
    partner = create_partner(founder=founder, name="Fjordline Software")
    app = create_app(actor=founder, partner=partner, name="Fjordline Ledger", template="server")

    # --- The partner creates the sod client secret: shown once, in the page that made it.
    page = new_page()
    _sign_in(page, base, founder.email)
    page.goto(f"{base}/portal/apps/{app.pk}/")
    page.get_by_role("link", name="Credentials: client ID, secret and certificate for Development").click()
    page.get_by_role("button", name="Create secret").click()
    raw = page.locator("#new-secret").inner_text().strip()
    assert len(raw) >= 32
    page.reload()
    assert raw not in page.content()
    client = app.clients.get(environment__code="sod")
    assert ClientSecret.objects.filter(client=client).exists()
    assert verify_client_secret(environment_code="sod", client_id=client.client_id, raw=raw) == client

    # --- ... opens a stage version, completes it and requests publishing.
    page.goto(f"{base}/portal/apps/{app.pk}/configuration/")
    page.get_by_role("button", name="New version for stage").click()
    page.locator("#id_endpoint_state_change_url").fill("https://ledger.fjordline.example/tenant-state")
    page.locator("#id_consent_text").fill("Fjordline Ledger reads companies and sales in your CRM.")
    page.get_by_role("button", name="Save draft").click()
    page.get_by_role("button", name="Request publishing").click()
    page.wait_for_load_state()
    version = ConfigurationVersion.objects.get(app=app, environment__code="stage")
    assert version.state == VersionState.PENDING

    # --- Staff find it under Configurations and approve it.
    staff = new_page()
    _sign_in(staff, base, "reviewer@example.com")
    staff.goto(f"{base}/review/?tab=configurations")
    staff.get_by_role("link", name=f"Review {app.name} configuration {version.label}").click()
    assert "tenant-state" in staff.content()
    staff.get_by_role("button", name=f"Approve {version.label}").click()
    staff.wait_for_load_state()
    version.refresh_from_db()
    assert (version.state, version.reviewed_by.email) == (VersionState.PUBLISHED, "reviewer@example.com")

    # --- The partner sees it live in stage.
    page.goto(f"{base}/portal/apps/{app.pk}/")
    assert f"Configuration {version.label} live" in page.content()
