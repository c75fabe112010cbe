"""Tenants created at the same moment get different context identifiers (PostgreSQL row locks)."""

import threading

import pytest
from django.db import connection

from tenants.models import Tenant
from tenants.services import lifecycle


@pytest.mark.postgres
def test_concurrent_creations_get_distinct_identifiers(reference_data, monkeypatch):
    monkeypatch.setattr("django.db.transaction.on_commit", lambda callback, **kwargs: None)
    barrier = threading.Barrier(4)
    errors = []

    def create(n):
        try:
            barrier.wait()
            lifecycle.create_tenant(actor=None, environment_code="sod", company_name=f"Company {n}",
                                    admin_email=f"admin{n}@example.com")
        except Exception as exc:  # collected and asserted below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=create, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    identifiers = list(Tenant.objects.values_list("context_identifier", flat=True))
    assert len(identifiers) == 4 and len(set(identifiers)) == 4
