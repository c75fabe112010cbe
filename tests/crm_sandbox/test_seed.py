"""manage.py sandbox_seed: realistic, deterministic demo companies with persons; idempotent."""

import io

import pytest
from django.core.management import CommandError, call_command

from crm_sandbox.models import ChangeRecord, Contact, Person, SandboxTenant

pytestmark = pytest.mark.django_db


def seed(env="sod", ctx="Cust10001", companies=40) -> str:
    out = io.StringIO()
    call_command("sandbox_seed", env, ctx, companies=companies, stdout=out)
    return out.getvalue()


def snapshot(ctx: str) -> list[tuple]:
    tenant = SandboxTenant.objects.get(context_identifier=ctx)
    return list(Contact.objects.filter(tenant=tenant).order_by("pk")
                .values_list("name", "org_nr", "number1", "country__code", "category__name"))


def test_seed_creates_companies_with_one_to_three_persons_each():
    assert "40 companies" in seed()
    tenant = SandboxTenant.objects.get(environment_code="sod", context_identifier="Cust10001")
    contacts = Contact.objects.filter(tenant=tenant)
    assert contacts.count() == 40
    assert len(set(contacts.values_list("name", flat=True))) == 40
    for contact in contacts:
        assert 1 <= contact.persons.count() <= 3
        assert contact.org_nr and contact.number1 and contact.country and contact.category
        assert contact.phones[0]["Value"].startswith("+") and "@" in contact.emails[0]["Value"]
        assert contact.urls[0]["Value"].startswith("https://www.")
    assert {c.country.code for c in contacts} <= {"NO", "SE", "DK", "FI", "DE", "NL", "GB"}
    persons = Person.objects.filter(tenant=tenant)
    assert all(p.firstname and p.lastname and p.emails and p.position for p in persons)
    assert ChangeRecord.objects.filter(tenant=tenant, action="insert").count() == 40 + persons.count()


def test_seed_is_idempotent_and_deterministic():
    seed()
    first = snapshot("Cust10001")
    assert "nothing changed" in seed()
    assert Contact.objects.count() == 40
    seed(ctx="Cust10002")
    seed(ctx="Cust10003")
    assert snapshot("Cust10002") != first  # each tenant has its own companies
    Contact.objects.filter(tenant__context_identifier="Cust10001").delete()
    seed()
    assert snapshot("Cust10001") == first  # the same ones again


def test_seeded_data_is_served_by_the_api(api_a):
    seed(companies=5)
    rows = api_a.get("/Contact", {"$select": "Name,Country,Category"}).json()["value"]
    assert len(rows) == 5 and all(row["Country"]["CountryId"] > 0 for row in rows)


@pytest.mark.parametrize(("args", "message"), [
    (["prod", "Cust1"], "environment"), (["sod", "Customer1"], "context identifier"),
    (["sod", "Cust1", "--companies", "0"], "--companies"),
])
def test_command_refuses_bad_arguments(args, message):
    with pytest.raises(CommandError, match=message):
        call_command("sandbox_seed", *args)
    assert not SandboxTenant.objects.exists()
