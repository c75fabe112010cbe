"""A tenant administrator sets up an ERP connection in Chromium, against the reference ERP connector
and the CRM sandbox over real HTTP: from the installed-apps page to ERP sync, a new connection
(Test shows the connector's explanation, Save creates it), the field mapping, activation, and a run's
progress updating on the connection page without a reload once a worker has carried the run out."""

import re

import pytest
from playwright.sync_api import expect

from integrations.erp.engine import execute
from integrations.erp.services.runs import queue_run_now
from integrations.models import Direction, ErpConnection, FieldMapping, RunKind, RunState
from tests.factories import PASSWORD
from tests.integrations.conftest import erp_world  # noqa: F401 - the fixture

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("reference_data"),
]

CTX = "Cust10001"
GUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"


def _sign_in(page, base: str, email: str, then: str) -> None:
    page.goto(f"{base}/accounts/login/?next={then}")
    page.locator("#id_login").fill(email)
    page.locator("#id_password").fill(PASSWORD)
    page.locator("main form button[type=submit]").last.click()
    expect(page).to_have_url(f"{base}{then}")


def _message(page):
    return page.locator(".messages .message")


def test_admin_sets_up_an_erp_connection_and_watches_a_run_finish(erp_world, live_server, new_page):  # noqa: F811
    people = erp_world.install(CTX)
    admin = new_page()
    apps_path = f"/my/sod/{CTX}/apps/"
    _sign_in(admin, live_server.url, people.admin.user.email, apps_path)

    # --- Installed apps → ERP sync → New connection.
    admin.get_by_role("link", name="ERP sync of Acme ERP").click()
    expect(admin.get_by_role("heading", name="ERP sync of Acme ERP")).to_be_visible()
    expect(admin.get_by_text("No connections yet", exact=False)).to_be_visible()
    admin.get_by_role("link", name="New connection").first.click()
    expect(admin.get_by_role("heading", name="New ERP connection")).to_be_visible()

    # --- The form the connector described: fill it in and Test.
    expect(admin.get_by_text("Company databases in this ERP: demo, test.")).to_be_visible()
    admin.get_by_label("Name of the connection").fill("Demo books")
    admin.get_by_label("Company database").fill("demo")
    admin.get_by_label("Region").select_option("europe")
    expect(admin.get_by_label("Include suppliers")).to_be_checked()
    admin.get_by_role("button", name="Test", exact=True).click()
    expect(_message(admin)).to_have_text("Test passed: The company database 'demo' is available.")
    expect(admin.get_by_label("Region")).to_have_value("europe")
    expect(admin.get_by_label("Company database")).to_have_value("demo")

    # --- Save: the connection's page, under its GUID.
    admin.get_by_role("button", name="Save", exact=True).click()
    expect(admin.get_by_role("heading", name="Demo books", exact=True)).to_be_visible()
    expect(admin).to_have_url(re.compile(rf"/my/sod/{CTX}/apps/\d+/erp/{GUID}/$"))
    connection = ErpConnection.objects.get()
    expect(admin.locator(".facts")).to_contain_text(str(connection.connection_id))

    # --- The field mapping: Phone of customers is not synced; save.
    admin.get_by_role("link", name="Field mapping").first.click()
    expect(admin.get_by_role("heading", name="Field mapping of Demo books")).to_be_visible()
    admin.locator('select[name="dir-Customer.Phone"]').select_option(Direction.OFF)
    admin.get_by_role("button", name="Save mapping").click()
    expect(_message(admin)).to_have_text("The mapping was saved.")
    phone = FieldMapping.objects.get(
        actor_mapping__connection=connection, actor_mapping__actor_type="Customer", erp_field="Phone"
    )
    assert phone.direction == Direction.OFF

    # --- Back on the connection's page: activate.
    admin.get_by_role("link", name="its page").click()
    admin.get_by_role("button", name="Activate").click()
    expect(_message(admin)).to_have_text("Demo books is active: it syncs every 60 seconds.")
    expect(admin.locator(".page-head .tag")).to_have_text("Active")
    connection.refresh_from_db()
    assert connection.is_active

    # --- A run waits for a worker: the page shows it queued.
    run = queue_run_now(connection=connection, kind=RunKind.FORCE)
    admin.reload()
    box = admin.locator(".erp-progress")
    expect(box.locator('[data-progress="state"]')).to_have_text("Queued")
    expect(box.locator('[data-progress="phase"]')).to_have_text("Waiting for a worker")
    admin.evaluate("window.notReloaded = true")

    # --- A worker carries it out; the box follows without a reload.
    assert execute(run.pk).state == RunState.SUCCEEDED
    run.refresh_from_db()
    expect(box).to_have_attribute("data-finished", "succeeded")
    expect(box.locator('[data-progress="state"]')).to_have_text("Succeeded")
    expect(box.locator('[data-progress="phase"]')).to_have_text("Finished")
    expect(box.locator('[data-progress="numbers"]')).to_have_text(f"{run.processed} of {run.total} records")
    expect(box.locator('[data-progress="counts"]')).to_have_text(
        f"{run.created} created, {run.updated} updated, {run.pushed} pushed, {run.failed_records} skipped"
    )
    expect(box.locator("progress")).to_have_attribute("value", "100")
    assert admin.evaluate("window.notReloaded") is True
    assert run.total > 0 and run.processed == run.total
