"""The reference ERP connector's own record page in Chromium: Save changes the record.

Chromium sends the real Origin with a same-origin form post only when the page's Referrer-Policy allows a
referrer to the site itself; under "no-referrer" it sends "Origin: null", which the connector refuses.
"""

import sqlite3

import pytest
from playwright.sync_api import expect

from examples.erp_connector.server import serve_in_thread

pytestmark = pytest.mark.browser


@pytest.fixture
def connector(tmp_path):
    settings = tmp_path / "acme.json"
    settings.write_text("{}")  # the record pages need no platform settings
    base_url, stop = serve_in_thread(settings, tmp_path / "erp.sqlite3")
    yield base_url, tmp_path / "erp.sqlite3"
    stop()


def test_saving_a_record_on_the_connectors_page_changes_it(connector, new_page):
    base_url, db_path = connector
    page = new_page()
    origins = []
    page.on("request", lambda request: request.method == "POST" and origins.append(
        request.header_value("origin")))

    page.goto(f"{base_url}/companies/demo/CU000005")
    page.locator("#f-Name").fill("Saved In Chromium AS")
    page.get_by_role("button", name="Save").click()

    expect(page.locator("body")).to_contain_text("the CRM gets the change at its next sync")
    assert origins == [base_url]
    with sqlite3.connect(db_path) as db:
        assert db.execute("SELECT name FROM companies WHERE company_db = 'demo' AND erp_key = 'CU000005'"
                          ).fetchall() == [("Saved In Chromium AS",)]
