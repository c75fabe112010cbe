"""The ERP pages' error summaries and messages in Chromium: the configuration page's summary has no empty
space above its first line; on the mapping page a refused save's summary takes the focus and its links lead
to the controls; messages that came with the page reach the status region once it has loaded; and the
progress card's error is an alert region before a poll brings the error."""

import json
from pathlib import Path

import pytest
from django.conf import settings
from playwright.sync_api import expect

from integrations.models import Direction
from tests.e2e.test_erp_connection import _sign_in
from tests.integrations.conftest import erp_world  # noqa: F401 - the fixture

CTX = "Cust10001"


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("reference_data")
def test_the_configuration_pages_error_summary_has_no_empty_space_above_its_first_line(
        erp_world, live_server, new_page):  # noqa: F811
    people = erp_world.install(CTX)
    path = f"/my/sod/{CTX}/apps/{erp_world.authorizations[CTX].pk}/erp/new/"
    page = new_page()
    _sign_in(page, live_server.url, people.admin.user.email, path)
    page.get_by_label("Company database").fill("nope")
    page.get_by_role("button", name="Save", exact=True).click()

    summary = page.locator(".erp-config-form .error-summary")
    expect(summary).to_contain_text("Nothing was saved: There is no company database called 'nope'")
    gaps = summary.evaluate("""(box) => {
        const style = getComputedStyle(box), outer = box.getBoundingClientRect();
        const top = outer.top + parseFloat(style.borderTopWidth) + parseFloat(style.paddingTop);
        const bottom = outer.bottom - parseFloat(style.borderBottomWidth) - parseFloat(style.paddingBottom);
        return [box.firstElementChild.getBoundingClientRect().top - top,
                bottom - box.lastElementChild.getBoundingClientRect().bottom];
    }""")
    assert gaps == [0, 0]


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("reference_data")
def test_a_refused_mapping_save_focuses_its_summary_whose_links_focus_the_rows(
        erp_world, live_server, new_page):  # noqa: F811
    people = erp_world.install(CTX)
    connection = erp_world.connect(CTX, activate=False)
    authorization = erp_world.authorizations[CTX]
    path = f"/my/sod/{CTX}/apps/{authorization.pk}/erp/{connection.connection_id}/mapping/"
    page = new_page()
    _sign_in(page, live_server.url, people.admin.user.email, path)

    page.get_by_label("CRM field for Customer Country").select_option("Name")
    page.get_by_label("Direction of Customer ERP ID").select_option(Direction.TO_ERP)
    page.get_by_role("button", name="Save mapping").click()

    summary = page.get_by_role("alert").filter(has_text="Nothing was saved: 2 rows need attention.")
    expect(summary).to_be_focused()
    expect(summary.get_by_role("link")).to_have_count(2)
    summary.get_by_role("link", name="Customer ERP ID", exact=False).click()
    expect(page.get_by_label("CRM field for Customer ERP ID")).to_be_focused()
    expect(page.locator("#announcer")).to_have_text("")

    # A saved mapping's message is said by the status region once the page is there.
    page.get_by_label("CRM field for Customer Country").select_option("Country")
    page.get_by_label("Direction of Customer ERP ID").select_option(Direction.OFF)
    page.get_by_role("button", name="Save mapping").click()
    expect(page.locator("main .messages .message")).to_have_text("The mapping was saved.")
    expect(page.get_by_role("status").filter(has_text="The mapping was saved.")).to_have_count(1)
    expect(page.locator("#announcer")).to_have_text("The mapping was saved.")


@pytest.mark.browser
def test_the_progress_cards_error_is_an_alert_region_before_a_poll_fills_it(new_page):
    script = (Path(settings.BASE_DIR) / "static" / "js" / "erp-progress.js").read_text()
    card = """<!doctype html><title>Run</title>
      <section class="erp-progress" data-progress-url="/progress">
        <span data-progress="state">Running</span>
        <progress max="100" value="10" data-progress="bar"></progress>
        <p role="status"><span data-progress="phase">Reading</span> <span data-progress="numbers"></span></p>
        <p data-progress="counts"></p><p data-progress="error" hidden></p>
        <a href="" data-progress="refresh">Refresh</a>
      </section><script src="/erp-progress.js"></script>"""
    answer = {"state": "failed", "state_label": "Failed", "percent": 40, "phase": "Reading customers",
              "finished": True, "processed": 4, "total": 10, "error": "The ERP refused the token.",
              "counts": {"created": 1, "updated": 2, "pushed": 0, "skipped": 1}}
    page = new_page()
    roles_before_the_poll = []

    def serve(route):
        url = route.request.url
        if url.endswith("/erp-progress.js"):
            route.fulfill(body=script, content_type="text/javascript")
        elif url.endswith("/progress"):
            roles_before_the_poll.append(page.evaluate(
                "document.querySelector('[data-progress=error]').getAttribute('role')"))
            route.fulfill(body=json.dumps(answer), content_type="application/json")
        else:
            route.fulfill(body=card, content_type="text/html")

    page.route("http://progress.test/**", serve)
    page.goto("http://progress.test/run")
    error = page.get_by_role("alert")
    expect(error).to_have_text("The ERP refused the token.")
    assert roles_before_the_poll == ["alert"]
