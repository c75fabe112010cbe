"""The partner's customers page in the portal (/portal/tenants/) and its CSV export: only tenants
that authorized the current partner's apps, search, filters, paging, CSV-injection-safe cells."""

import csv
import io
from datetime import timedelta

import pytest
from django.utils import timezone

from appstore.models import App
from provisioning.models import Authorization, AuthorizationStatus
from provisioning.services.authorizations import system_user_token_for
from provisioning.views_partner_tenants import PAGE_SIZE, safe_cell
from tenants.models import Tenant, TenantState

from ..factories import AppFactory, PartnerMemberFactory, TenantFactory, UserFactory, environment

pytestmark = pytest.mark.django_db

LIST = "/portal/tenants/"
CSV_URL = "/portal/tenants/export.csv"


def authorize(app: App, tenant: Tenant, **fields) -> Authorization:
    defaults = {"approved_by": UserFactory(full_name="Ada Admin"), "approved_at": timezone.now()}
    return Authorization.objects.create(app=app, tenant=tenant, system_user_token=system_user_token_for(app),
                                        **{**defaults, **fields})


def tenant(ctx: str, company: str, env: str = "sod", **fields) -> Tenant:
    return TenantFactory(context_identifier=ctx, company_name=company, environment=environment(env), **fields)


def companies(response) -> list[str]:
    return [authorization.tenant.company_name for authorization in response.context["page"]]


def csv_rows(response) -> list[list[str]]:
    assert response["Content-Type"].startswith("text/csv")
    body = b"".join(response.streaming_content).decode()
    return list(csv.reader(io.StringIO(body)))


@pytest.fixture
def customers(partner_member):
    """The partner's two apps installed in four tenants in every status; another partner's app in
    a fifth tenant and in one of the first four."""
    partner = partner_member.partner
    crm_sync = AppFactory(partner=partner, name="CRM Sync", configured=False)
    mailer = AppFactory(partner=partner, name="Mailer", configured=False)
    north = tenant("Cust10001", "Northwind AS")
    fjord = tenant("Cust10002", "Fjord Fisk", state=TenantState.SUSPENDED)
    online = tenant("Cust10003", "Online Oy", env="online")
    gone = tenant("Cust10004", "Gone GmbH")
    rows = {
        "active": authorize(crm_sync, north),
        "reapproval": authorize(mailer, north, needs_reapproval=True),
        "expired": authorize(crm_sync, fjord, valid_to=timezone.now() - timedelta(days=1)),
        "online": authorize(crm_sync, online),
        "revoked": authorize(mailer, gone, status=AuthorizationStatus.REVOKED, revoked_at=timezone.now()),
    }
    other = PartnerMemberFactory()
    other_app = AppFactory(partner=other.partner, name="Their App", configured=False)
    authorize(other_app, tenant("Cust10005", "Secret Competitor Customer"))
    authorize(other_app, north)
    return {"crm_sync": crm_sync, "mailer": mailer, "other": other, "other_app": other_app, **rows}


def test_lists_the_partners_customers_with_state_status_and_approver(partner_client, customers):
    response = partner_client.get(LIST)
    assert response.status_code == 200
    html = response.content.decode()
    assert companies(response) == ["Fjord Fisk", "Gone GmbH", "Northwind AS", "Northwind AS", "Online Oy"]
    assert "Cust10001" in html and "Suspended" in html and "Ada Admin" in html
    assert ">Revoked<" in html and ">Expired<" in html and ">Needs re-approval<" in html
    assert "Secret Competitor Customer" not in html and "Their App" not in html
    assert 'aria-current="page">Customers</a>' in html
    # Active (re-approval included) tenants per environment: two in sod, one in online.
    counts = {env.code: env.tenant_count for env in response.context["environments"]}
    assert counts == {"sod": 1, "stage": 0, "online": 1}


def test_the_other_partner_sees_only_its_own_customers(client, customers):
    client.force_login(customers["other"].user)
    response = client.get(LIST)
    assert companies(response) == ["Northwind AS", "Secret Competitor Customer"]
    assert "CRM Sync" not in response.content.decode()
    rows = csv_rows(client.get(CSV_URL))
    assert [row[0] for row in rows[1:]] == ["Northwind AS", "Secret Competitor Customer"]
    assert {row[4] for row in rows[1:]} == {"Their App"}


def test_another_partners_app_as_filter_is_refused_and_leaks_nothing(partner_client, customers):
    response = partner_client.get(LIST, {"app": customers["other_app"].pk})
    assert "app" in response.context["form"].errors
    assert "Secret Competitor Customer" not in response.content.decode()
    export = partner_client.get(CSV_URL, {"app": customers["other_app"].pk})
    assert export.status_code == 400 and "Their App" not in export.content.decode()


@pytest.mark.parametrize(("params", "expected"), [
    ({"q": "north"}, ["Northwind AS", "Northwind AS"]),
    ({"q": "cust10002"}, ["Fjord Fisk"]),
    ({"q": "  Fjord  "}, ["Fjord Fisk"]),
    ({"environment": "online"}, ["Online Oy"]),
    ({"environment": "stage"}, []),
    ({"app": "MAILER"}, ["Gone GmbH", "Northwind AS"]),
    ({"status": "active"}, ["Northwind AS", "Online Oy"]),
    ({"status": "needs_reapproval"}, ["Northwind AS"]),
    ({"status": "expired"}, ["Fjord Fisk"]),
    ({"status": "revoked"}, ["Gone GmbH"]),
    ({"status": "active", "environment": "sod", "app": "CRM"}, ["Northwind AS"]),
])
def test_search_and_filters_apply_to_page_and_csv(partner_client, customers, params, expected):
    ids = {"MAILER": customers["mailer"].pk, "CRM": customers["crm_sync"].pk}
    query = {key: ids.get(value, value) for key, value in params.items()}
    assert companies(partner_client.get(LIST, query)) == expected
    rows = csv_rows(partner_client.get(CSV_URL, query))
    assert [row[0] for row in rows[1:]] == expected


@pytest.mark.parametrize("params", [{"environment": "mars"}, {"status": "deleted"}, {"app": "x"},
                                    {"q": "x" * 500}, {"q": "North\x00wind"}])
def test_a_bad_filter_is_named_and_ignored(partner_client, customers, params):
    response = partner_client.get(LIST, params)
    assert response.status_code == 200
    assert set(response.context["form"].errors) == set(params)
    assert len(companies(response)) == 5


def test_stored_expired_status_counts_as_expired(partner_client, customers):
    customers["online"].status = AuthorizationStatus.EXPIRED
    customers["online"].save()
    assert companies(partner_client.get(LIST, {"status": "expired"})) == ["Fjord Fisk", "Online Oy"]


def test_csv_columns_and_values(partner_client, customers):
    response = partner_client.get(CSV_URL, {"status": "needs_reapproval"})
    assert response.status_code == 200
    assert 'attachment; filename="' in response["Content-Disposition"]
    assert response["Content-Disposition"].endswith('.csv"')
    rows = csv_rows(response)
    assert rows[0][:6] == ["Company", "Context identifier", "Environment", "Tenant state", "App", "Status"]
    row = rows[1]
    assert row[:7] == ["Northwind AS", "Cust10001", "sod", "Running", "Mailer", "Active", "yes"]
    assert row[7].startswith("Ada Admin <")
    assert row[8] == customers["reapproval"].approved_at.strftime("%Y-%m-%d %H:%M")


@pytest.mark.parametrize("value", ["=HYPERLINK(\"http://evil\")", "+1+2", "-2+3", "@SUM(A1)", "\t=1", "\r=1"])
def test_csv_cells_that_would_run_as_formulas_are_quoted(partner_client, partner_member, value):
    app = AppFactory(partner=partner_member.partner, name="Safe App", configured=False)
    authorize(app, tenant("Cust10009", value), approved_by=UserFactory(full_name=value))
    row = csv_rows(partner_client.get(CSV_URL))[1]
    assert row[0] == "'" + value
    assert row[7].startswith("'" + value)
    assert safe_cell("Plain = fine") == "Plain = fine" and safe_cell(None) == ""


def test_page_and_csv_need_the_read_permission(client, customers, partner_member):
    partner_member.can_read = False
    partner_member.save()
    client.force_login(partner_member.user)
    for url in (LIST, CSV_URL):
        response = client.get(url)
        assert response.status_code == 403
        assert b"Northwind" not in response.content
    assert "Customers</a>" not in client.get("/portal/audit/").content.decode()


def test_pages_need_sign_in(client, customers):
    for url in (LIST, CSV_URL):
        response = client.get(url)
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_only_reads(partner_client, customers):
    assert partner_client.post(LIST).status_code == 405
    assert partner_client.post(CSV_URL).status_code == 405


def test_paging_fifty_a_page_keeping_the_filters(partner_client, partner_member):
    app = AppFactory(partner=partner_member.partner, name="Bulk App", configured=False)
    for number in range(PAGE_SIZE + 3):
        authorize(app, tenant(f"Cust{30000 + number}", f"Company {number:03d}"))
    first = partner_client.get(LIST, {"q": "Company"})
    assert len(companies(first)) == PAGE_SIZE
    assert "page=2" in first.content.decode() and "q=Company" in first.content.decode()
    second = partner_client.get(LIST, {"q": "Company", "page": 2})
    assert companies(second) == ["Company 050", "Company 051", "Company 052"]
    assert companies(partner_client.get(LIST, {"page": "999"})) == companies(second)
    # The export is the whole filtered list, not one page.
    assert len(csv_rows(partner_client.get(CSV_URL, {"q": "Company", "page": 2}))) == PAGE_SIZE + 3 + 1


def test_query_count_is_flat(partner_client, partner_member, django_assert_num_queries):
    app = AppFactory(partner=partner_member.partner, name="Counted App", configured=False)

    def add(count: int, start: int) -> None:
        for number in range(start, start + count):
            authorize(app, tenant(f"Cust{40000 + number}", f"Counted {number}"),
                      needs_reapproval=number % 2 == 1)

    add(1, 0)
    with django_assert_num_queries(8) as page_one:
        partner_client.get(LIST, {"status": "active", "app": app.pk})
    with django_assert_num_queries(6) as csv_one:
        csv_rows(partner_client.get(CSV_URL, {"app": app.pk}))
    add(20, 1)
    with django_assert_num_queries(len(page_one.captured_queries)):
        html = partner_client.get(LIST, {"status": "active", "app": app.pk}).content.decode()
    assert html.count("Counted App</a>") == 11
    with django_assert_num_queries(len(csv_one.captured_queries)):
        assert len(csv_rows(partner_client.get(CSV_URL, {"app": app.pk}))) == 22


def test_phone_friendly_table(partner_client, customers):
    html = partner_client.get(LIST).content.decode()
    assert 'class="table-wrap' in html and "review-table" in html
    for label in ("Company", "Context identifier", "Environment", "Tenant state", "App", "Status",
                  "Approved"):
        assert f'data-label="{label}"' in html
    assert '<label for="id_q">' in html


@pytest.mark.parametrize(("bad", "field"), [({"q": "x" * 101}, "q"), ({"app": "OTHER"}, "app"),
                                            ({"status": "bogus"}, "status")])
def test_a_bad_filter_keeps_the_valid_ones_and_shows_its_error(partner_client, customers, bad, field):
    bad = {key: customers["other_app"].pk if value == "OTHER" else value for key, value in bad.items()}
    response = partner_client.get(LIST, {"environment": "sod", "app": customers["mailer"].pk,
                                         "status": "revoked", "q": "gone", **bad})
    assert response.status_code == 200
    assert set(response.context["form"].errors) == {field}
    assert companies(response) == ["Gone GmbH"]
    html = response.content.decode()
    assert 'role="alert"' in html and "This filter was not applied" in html
    assert f"({field}):" in html
    assert "Secret Competitor Customer" not in html


def test_no_notice_when_every_filter_is_valid(partner_client, customers):
    html = partner_client.get(LIST, {"status": "revoked"}).content.decode()
    assert "This filter was not applied" not in html


@pytest.mark.parametrize(("bad", "field"), [({"q": "x" * 101}, "q"), ({"app": "OTHER"}, "app"),
                                            ({"status": "bogus"}, "status"), ({"environment": "mars"},
                                                                              "environment")])
def test_the_csv_export_refuses_a_bad_filter_with_400_naming_it(partner_client, customers, bad, field):
    bad = {key: customers["other_app"].pk if value == "OTHER" else value for key, value in bad.items()}
    response = partner_client.get(CSV_URL, {"environment": "sod", **bad})
    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/plain")
    body = response.content.decode()
    assert f"({field}):" in body and "Northwind" not in body and "Company," not in body


@pytest.mark.parametrize("state", [TenantState.DELETED, TenantState.DELETING])
def test_a_deleted_tenant_shows_as_deleted_is_not_in_force_and_can_be_filtered(partner_client, customers,
                                                                                state):
    Tenant.objects.filter(context_identifier="Cust10003").update(state=state)  # Online Oy, active before
    response = partner_client.get(LIST)
    html = response.content.decode()
    assert ">Tenant deleted<" in html and state.label in html
    counts = {env.code: env.tenant_count for env in response.context["environments"]}
    assert counts == {"sod": 1, "stage": 0, "online": 0}
    assert companies(partner_client.get(LIST, {"status": "tenant_deleted"})) == ["Online Oy"]
    assert companies(partner_client.get(LIST, {"status": "active"})) == ["Northwind AS"]
    rows = csv_rows(partner_client.get(CSV_URL, {"status": "tenant_deleted"}))
    assert [(row[0], row[3], row[5]) for row in rows[1:]] == [("Online Oy", state.label, "Tenant deleted")]


def test_a_deleted_tenants_revoked_app_is_listed_as_deleted_not_revoked(partner_client, customers):
    Tenant.objects.filter(context_identifier="Cust10004").update(state=TenantState.DELETED)  # Gone GmbH
    assert companies(partner_client.get(LIST, {"status": "revoked"})) == []
    assert companies(partner_client.get(LIST, {"status": "tenant_deleted"})) == ["Gone GmbH"]
