"""Every write of the sandbox: a row change bumps UpdatedDate and records its ChangeRecord in the
same transaction, under a lock on the tenant so its sequence numbers commit in order."""

from datetime import datetime

from django.db import IntegrityError, models, transaction
from django.db.models import Q
from django.utils import timezone

from .entities import Entity, initial_values
from .lists import LISTS
from .models import ChangeAction, ChangeRecord, Contact, ListItem, Person, Sale, SandboxTenant


def sandbox_tenant(*, environment_code: str, context_identifier: str) -> SandboxTenant:
    """The tenant's sandbox, created with its lists on first use."""
    tenant = SandboxTenant.objects.filter(environment_code=environment_code,
                                          context_identifier=context_identifier).first()
    if tenant is not None:
        return tenant
    try:
        with transaction.atomic():
            tenant = SandboxTenant.objects.create(environment_code=environment_code,
                                                  context_identifier=context_identifier)
            ListItem.objects.bulk_create(
                ListItem(tenant=tenant, list_name=list_name, item_id=rank, name=name, code=code, rank=rank)
                for list_name, items in LISTS.items() for rank, (name, code) in enumerate(items, start=1))
            return tenant
    except IntegrityError:  # created by a concurrent first call
        return SandboxTenant.objects.get(environment_code=environment_code,
                                         context_identifier=context_identifier)


def _locked(tenant: SandboxTenant) -> None:
    SandboxTenant.objects.select_for_update().filter(pk=tenant.pk).exists()


def _record(tenant: SandboxTenant, table: str, row_id: int, action: str, at: datetime) -> None:
    ChangeRecord.objects.create(tenant=tenant, table=table, row_id=row_id, action=action, at=at)


@transaction.atomic
def create_row(*, tenant: SandboxTenant, entity: Entity, values: dict) -> models.Model:
    _locked(tenant)
    now = timezone.now()
    row = entity.model(tenant=tenant, created_date=now, updated_date=now,
                       **{**initial_values(entity.name, now), **values})
    row.save()
    _record(tenant, entity.name, row.pk, ChangeAction.INSERT, now)
    return row


@transaction.atomic
def update_row(*, tenant: SandboxTenant, entity: Entity, row: models.Model, values: dict) -> models.Model:
    assert row.tenant_id == tenant.pk
    _locked(tenant)
    now = timezone.now()
    for attr, value in values.items():
        setattr(row, attr, value)
    row.updated_date = now
    row.save()
    _record(tenant, entity.name, row.pk, ChangeAction.UPDATE, now)
    return row


@transaction.atomic
def delete_row(*, tenant: SandboxTenant, entity: Entity, row: models.Model) -> None:
    """Deletes the row; a contact takes its persons with it, and sales pointing at a deleted
    contact or person lose the link (each such change is recorded too)."""
    assert row.tenant_id == tenant.pk
    _locked(tenant)
    now = timezone.now()
    persons: list[int] = []
    if isinstance(row, Contact):
        persons = list(Person.objects.filter(tenant=tenant, contact=row).values_list("pk", flat=True))
        sales = Sale.objects.filter(Q(contact=row) | Q(person_id__in=persons), tenant=tenant)
    elif isinstance(row, Person):
        sales = Sale.objects.filter(tenant=tenant, person=row)
    else:
        sales = Sale.objects.none()
    for sale in sales:
        if sale.contact_id == row.pk and isinstance(row, Contact):
            sale.contact = None
        if sale.person_id in persons or (isinstance(row, Person) and sale.person_id == row.pk):
            sale.person = None
        sale.updated_date = now
        sale.save(update_fields=["contact", "person", "updated_date"])
        _record(tenant, "Sale", sale.pk, ChangeAction.UPDATE, now)
    for person_id in persons:
        Person.objects.filter(pk=person_id).delete()
        _record(tenant, "Person", person_id, ChangeAction.DELETE, now)
    row_id = row.pk
    row.delete()
    _record(tenant, entity.name, row_id, ChangeAction.DELETE, now)
