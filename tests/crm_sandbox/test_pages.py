"""The read-only sandbox pages: companies with search and paging, a company with its persons."""

import pytest
from django.urls import reverse
from django.utils.html import escape

from accounts.services import ensure_user
from crm_sandbox.seed import seed

pytestmark = pytest.mark.django_db

LIST = "/sandbox/sod/Cust10001/"


@pytest.fixture
def seeded():
    seed(environment_code="sod", context_identifier="Cust10001", companies=30)
    seed(environment_code="sod", context_identifier="Cust10002", companies=3)
    from crm_sandbox.models import Contact

    return Contact.objects.filter(tenant__context_identifier="Cust10001").order_by("name").first()


def test_anonymous_visitor_is_sent_to_sign_in(client, seeded):
    response = client.get(LIST)
    assert response.status_code == 302 and response["Location"].startswith(reverse("account_login"))


def test_staff_sees_companies_paged_and_searchable(staff_client, seeded, settings,
                                                   django_assert_max_num_queries):
    settings.CRM_SANDBOX_OPEN_VIEW = False
    with django_assert_max_num_queries(8):
        page = staff_client.get(LIST)
    assert page.status_code == 200
    html = page.content.decode()
    assert "30 companies" in html and escape(seeded.name) in html and "Page 1 of 2" in html
    assert staff_client.get(LIST, {"page": 2}).context["page"].number == 2
    found = staff_client.get(LIST, {"q": seeded.org_nr})
    assert [c.pk for c in found.context["page"]] == [seeded.pk]
    assert "No company matches" in staff_client.get(LIST, {"q": "zzz-nothing"}).content.decode()


def test_company_page_lists_its_persons(staff_client, seeded):
    response = staff_client.get(f"{LIST}companies/{seeded.pk}/")
    assert response.status_code == 200
    html = response.content.decode()
    assert escape(seeded.name) in html and seeded.org_nr in html
    for person in seeded.persons.all():
        assert escape(person.lastname) in html


def test_a_company_of_another_tenant_is_not_found_here(staff_client, seeded):
    response = staff_client.get(f"/sandbox/sod/Cust10002/companies/{seeded.pk}/")
    assert response.status_code == 404


def test_signed_in_user_needs_the_open_setting(client, seeded, settings):
    client.force_login(ensure_user(email="someone@example.com", password="test-password-123"))
    settings.CRM_SANDBOX_OPEN_VIEW = False
    assert client.get(LIST).status_code == 403
    settings.CRM_SANDBOX_OPEN_VIEW = True
    assert client.get(LIST).status_code == 200


def test_a_tenant_without_sandbox_shows_an_empty_page_and_creates_nothing(staff_client, db):
    from crm_sandbox.models import SandboxTenant

    response = staff_client.get("/sandbox/stage/Cust999/")
    assert response.status_code == 200 and "No companies yet" in response.content.decode()
    assert not SandboxTenant.objects.exists()
