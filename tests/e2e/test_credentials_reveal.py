"""On a phone (390 x 844) a new client secret or generated private key is brought into view with
the focus on its Copy button, instead of appearing below the fold."""

import pytest

from accounts.services import ensure_user
from appstore.services.apps import create_app
from appstore.services.partners import create_partner

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True),
              pytest.mark.usefixtures("reference_data")]

PASSWORD = "a-Long-and-unusual-passphrase-42"
PHONE = {"width": 390, "height": 844}


@pytest.fixture
def phone(browser, live_server):
    """A signed-in partner on a phone-sized page, on the sod credentials of a new app."""
    founder = ensure_user(email="ingrid@fjordline.example", password=PASSWORD)
    partner = create_partner(founder=founder, name="Fjordline Software")
    app = create_app(actor=founder, partner=partner, name="Fjordline Ledger", template="server")
    context = browser.new_context(viewport=PHONE)
    context.set_default_timeout(20_000)
    page = context.new_page()
    page.goto(f"{live_server.url}/accounts/login/")
    page.locator("#id_login").fill(founder.email)
    page.locator("#id_password").fill(PASSWORD)
    page.locator("form button[type=submit]").last.click()
    page.wait_for_load_state()
    page.goto(f"{live_server.url}/portal/apps/{app.pk}/credentials/sod/")
    yield page
    context.close()


def _in_view(page, selector: str) -> dict:
    box = page.locator(selector).bounding_box()
    return {"top": box["y"], "bottom": box["y"] + box["height"], "height": box["height"]}


def test_new_secret_is_scrolled_into_view_and_its_copy_button_focused(phone, tmp_path):
    phone.get_by_role("button", name="Create secret").click()
    phone.wait_for_load_state()
    phone.screenshot(path=str(tmp_path / "secret-390.png"))

    box = _in_view(phone, ".reveal-box")
    assert phone.evaluate("window.scrollY") > 0
    assert 0 <= box["top"] and box["bottom"] <= PHONE["height"], box
    assert phone.evaluate("document.activeElement.dataset.copyField") == "new-secret"
    assert phone.get_by_role("heading", name="Your new client secret").is_visible()


def test_new_key_pair_is_scrolled_into_view_heading_first(phone, tmp_path):
    phone.get_by_role("button", name="Generate key pair").click()
    phone.wait_for_load_state()
    phone.screenshot(path=str(tmp_path / "key-390.png"))

    heading = _in_view(phone, "#reveal-key-title")
    copy = _in_view(phone, '[data-copy-field="private-key-pem"]')
    assert phone.evaluate("window.scrollY") > 0
    assert 0 <= heading["top"] < 100, heading  # the box starts at the top of the screen
    assert copy["bottom"] <= PHONE["height"], copy
    assert phone.evaluate("document.activeElement.dataset.copyField") == "private-key-pem"
    # Keyboard users go on from the focused button to the next control in the box.
    phone.keyboard.press("Tab")
    assert phone.evaluate("document.activeElement.dataset.downloadField") == "private-key-pem"
