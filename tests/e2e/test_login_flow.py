"""Sign in to a partner app in Chromium, against the reference partner service (examples/partner_service)
over real HTTP: a tenant administrator installs the app on the consent screen and the service acts as
the tenant's system user; a plain member then signs in without a consent screen; after the
administrator uninstalls the app, the member's tokens and next sign-in are refused (Revoked).

The app is registered the way ``load_demo`` registers Acme ERP, with the demo's own functions, but
for the port the partner service really listens on.
"""

import re
import threading
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.conf import settings as django_settings
from django.urls import Resolver404, resolve
from playwright.sync_api import expect
from werkzeug.serving import make_server

from accounts.models import User
from accounts.services import ensure_user
from appstore.demo import (
    CONFIGURED_CONSENT,
    PLATFORM_NAME,
    partner_service_settings,
    register_partner_service,
    write_partner_settings,
)
from appstore.services.apps import create_app
from appstore.services.configuration_fields import live_version
from appstore.services.partners import create_partner
from examples.partner_service.app import create_app as create_partner_service
from provisioning.models import AuthorizationStatus
from provisioning.selectors import authorization_for
from provisioning.services.authorizations import uninstall
from tenants.models import Environment
from tenants.services import ensure_tenant, ensure_tenant_member

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True),
              pytest.mark.usefixtures("reference_data")]

PASSWORD = "a-Long-and-unusual-passphrase-42"
CTX = "Cust10001"
COMPANY = "Fjellheim Eiendom AS"
ADMIN = "admin@cust10001.example.com"
MEMBER = "user@cust10001.example.com"
INSTALLED_APPS = f"/my/sod/{CTX}/apps/"


class PartnerService:
    """The reference partner service on 127.0.0.1 in a thread, reading its settings from ``path``."""

    def __init__(self, path: Path):
        self.settings_path = path
        self.server = make_server("127.0.0.1", 0, create_partner_service(), threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def partner_service(tmp_path, monkeypatch):
    path = tmp_path / "acme.json"
    monkeypatch.setenv("PARTNER_SETTINGS", str(path))
    service = PartnerService(path)
    yield service
    service.close()


@pytest.fixture
def screenshots() -> Path:
    folder = Path(django_settings.VAR_DIR) / "screenshots"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _registered_app(service: PartnerService):
    """Acme ERP of Nordvik Systems, registered in sod for the service's real address."""
    staff = ensure_user(email="staff@example.com", password=PASSWORD, is_staff=True, app_manager=True)
    founder = ensure_user(email="partner@example.com", password=PASSWORD)
    partner = create_partner(founder=founder, name="Nordvik Systems", website="https://www.nordvik.example")
    founder = User.objects.get(pk=founder.pk)  # without the permissions cached before it joined
    # The web template asks for no claim: the SystemToken claim is set on the staff path.
    app = create_app(actor=founder, partner=partner, name="Acme ERP", template="web",
                     redirect_urls=f"{service.url}/callback")
    register_partner_service(app=app, founder=founder, staff=staff, base_url=service.url,
                             consent_text=CONFIGURED_CONSENT)
    data = partner_service_settings(app=app, founder=founder, path=service.settings_path,
                                    base_url=service.url)
    write_partner_settings(service.settings_path, data)
    return app


def _tenant():
    tenant = ensure_tenant(environment_code="sod", context_identifier=CTX, company_name=COMPANY, serial=10001)
    admin = ensure_user(email=ADMIN, password=PASSWORD, full_name=f"{COMPANY} Admin")
    member = ensure_user(email=MEMBER, password=PASSWORD, full_name=f"{COMPANY} User")
    ensure_tenant_member(tenant=tenant, user=admin, is_admin=True)
    ensure_tenant_member(tenant=tenant, user=member, is_admin=False)
    return tenant, admin


def _platform_sign_in(page, email: str) -> None:
    """On the platform's sign-in page the partner service sent the browser to."""
    expect(page.locator("#id_login")).to_be_visible()
    page.locator("#id_login").fill(email)
    page.locator("#id_password").fill(PASSWORD)
    page.locator("form button[type=submit]").last.click()


def _claim(page, name: str):
    """The value cell of a claim the partner service shows by its short name (…/identity/<name>)."""
    heading = page.locator("th", has_text=re.compile(rf"/identity/{name}$"))
    return page.locator("tr", has=heading).locator("td")


def _answer(page, key: str):
    return page.locator("tr", has=page.locator("th", has_text=re.compile(rf"^{key}$"))).locator("td")


def _page_exists(path: str) -> bool:
    try:
        resolve(path)
    except Resolver404:
        return False
    return True


def test_admin_installs_member_signs_in_uninstall_refuses_member(
        live_server, settings, partner_service, new_page, screenshots):
    # The issuer, and every endpoint in discovery, is SITE_URL's.
    settings.SITE_URL = live_server.url
    service = partner_service
    app = _registered_app(service)
    tenant, admin = _tenant()
    sod = Environment.objects.get(code="sod")
    live = live_version(app, sod)
    assert f"{service.url}/callback" in live.urls_for("redirect_urls", "sod")
    assert "SystemToken" in live.claims
    sign_in_link = f"Sign in with {PLATFORM_NAME}"

    # --- The tenant administrator opens the partner's service and signs in with the platform.
    admin_page = new_page()
    admin_page.goto(service.url)
    admin_page.get_by_role("link", name=sign_in_link).click()
    expect(admin_page).to_have_url(re.compile(re.escape(f"{live_server.url}/accounts/login/")))
    _platform_sign_in(admin_page, ADMIN)

    # --- ... is asked to install the app for the tenant, and approves.
    expect(admin_page.get_by_role("heading", name=f"Install Acme ERP for {COMPANY}?")).to_be_visible()
    expect(admin_page).to_have_url(re.compile(re.escape(f"{live_server.url}/sod/login/common/oauth/authorize?")))
    expect(admin_page.locator(".consent-text")).to_contain_text("Acme ERP reads and updates companies")
    expect(admin_page.locator(".consent-grants")).to_contain_text("Act as a system user")
    admin_page.screenshot(path=str(screenshots / "login-consent.png"), full_page=True)
    admin_page.get_by_role("button", name="Approve and install").click()

    # --- ... and is back at the partner's service, signed in, with the verified claims.
    expect(admin_page.get_by_role("heading", name=f"Signed in as {ADMIN}")).to_be_visible()
    expect(admin_page).to_have_url(f"{service.url}/")
    expect(_claim(admin_page, "ctx")).to_have_text(CTX)
    expect(_claim(admin_page, "is_administrator")).to_have_text("True")
    expect(_claim(admin_page, "system_token")).to_have_text(re.compile(r"^Acme ERP-[A-Za-z0-9]{10}$"))
    expect(admin_page.get_by_text("matches the ctx claim")).to_be_visible()
    admin_page.screenshot(path=str(screenshots / "partner-signed-in.png"), full_page=True)

    authorization = authorization_for(app, tenant)
    assert (authorization.status, authorization.approved_by) == (AuthorizationStatus.ACTIVE, admin)
    if _page_exists(INSTALLED_APPS):
        admin_page.goto(f"{live_server.url}{INSTALLED_APPS}")
        expect(admin_page.get_by_text("Acme ERP").first).to_be_visible()
        admin_page.goto(service.url)

    # --- The service acts as the tenant's system user: signed token -> JWT with a ticket.
    admin_page.get_by_role("button", name="Exchange system user token").click()
    expect(admin_page.get_by_text("The platform accepted the signed token.")).to_be_visible()
    expect(_answer(admin_page, "IsSuccessful").first).to_have_text("True")
    expect(_claim(admin_page, "ticket")).to_have_text(re.compile(r"^7T:\S+$"))
    expect(_answer(admin_page, "system_user")).to_have_text("True")
    expect(_answer(admin_page, "active")).to_have_text("True")
    admin_page.screenshot(path=str(screenshots / "partner-system-user.png"), full_page=True)

    # --- ... and introspects the user's access token.
    admin_page.get_by_role("link", name="Back").click()
    admin_page.get_by_role("button", name="Introspect access token").click()
    expect(admin_page.get_by_text("Active", exact=True)).to_be_visible()
    expect(_answer(admin_page, "ctx")).to_have_text(CTX)
    expect(_answer(admin_page, "username")).to_have_text(ADMIN)

    # --- A plain member of the tenant signs in: no consent screen, straight back to the service.
    member_page = new_page()
    authorize_answers: list[int] = []
    member_page.on("response", lambda response: authorize_answers.append(response.status)
                   if urlsplit(response.url).path == "/sod/login/common/oauth/authorize" else None)
    member_page.goto(service.url)
    member_page.get_by_role("link", name=sign_in_link).click()
    _platform_sign_in(member_page, MEMBER)
    expect(member_page.get_by_role("heading", name=f"Signed in as {MEMBER}")).to_be_visible()
    expect(_claim(member_page, "ctx")).to_have_text(CTX)
    expect(_claim(member_page, "is_administrator")).to_have_text("False")
    # Every answer of the authorize endpoint was a redirect (to sign in, then back with the code).
    assert authorize_answers and set(authorize_answers) == {302}, authorize_answers

    # --- The administrator uninstalls the app.
    if _page_exists(INSTALLED_APPS):
        admin_page.goto(f"{live_server.url}{INSTALLED_APPS}")
        admin_page.get_by_role("link", name=re.compile("Uninstall")).first.click()
        confirm = admin_page.get_by_role("button", name=re.compile("Uninstall"))
        if confirm.count():  # a confirmation step, when the page asks for one
            confirm.first.click()
    else:
        uninstall(authorization=authorization, user=admin)
    authorization.refresh_from_db()
    assert authorization.status == AuthorizationStatus.REVOKED
    admin_page.goto(service.url)

    # --- At once the system-user exchange is refused ...
    admin_page.get_by_role("button", name="Exchange system user token").click()
    refused = admin_page.get_by_text(re.compile(r"The platform refused the signed token: Revoked"))
    expect(refused).to_be_visible()

    # --- ... the member's refresh token no longer works ...
    member_page.get_by_role("button", name="Refresh tokens").click()
    expect(member_page.get_by_role("heading", name="The tokens could not be refreshed")).to_be_visible()
    expect(member_page.get_by_text("invalid_grant")).to_be_visible()

    # --- ... and after signing out, the member's next sign-in is refused on the platform's error page.
    member_page.get_by_role("link", name="Back to the home page").click()
    member_page.get_by_role("button", name="Sign out").click()
    expect(member_page.get_by_text("You are signed out here and at the platform.")).to_be_visible()
    member_page.get_by_role("link", name=sign_in_link).click()
    _platform_sign_in(member_page, MEMBER)
    expect(member_page.get_by_role("heading", name="We could not sign you in")).to_be_visible()
    expect(member_page.locator(".login-facts dd").first).to_have_text("Revoked (1)")
    expect(member_page.get_by_text("Acme ERP was uninstalled from Fjellheim Eiendom AS.")).to_be_visible()
    member_page.screenshot(path=str(screenshots / "login-revoked.png"), full_page=True)
