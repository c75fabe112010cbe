"""Keeps the state API's cached answers in step with the tenants they describe."""

from django.db import transaction
from django.db.models.signals import post_delete, post_init, post_save
from django.dispatch import receiver

from .models import Environment, Tenant
from .state import forget_state


def _environment_code(instance: Tenant, environment_id: int) -> str | None:
    if Tenant.environment.is_cached(instance) and instance.environment.pk == environment_id:
        return instance.environment.code
    return Environment.objects.filter(pk=environment_id).values_list("code", flat=True).first()


def _address(instance: Tenant) -> tuple:
    # Read from the instance's dict: a deferred field must not cost a query here.
    return instance.__dict__.get("environment_id"), instance.__dict__.get("context_identifier")


@receiver(post_init, sender=Tenant, dispatch_uid="tenants.remember_state_address")
def remember_address(sender, instance: Tenant, **kwargs) -> None:
    # Where the row was answered for when loaded, so a changed identifier forgets the old answer too.
    instance._state_address = _address(instance)


@receiver(post_save, sender=Tenant, dispatch_uid="tenants.forget_state_on_save")
@receiver(post_delete, sender=Tenant, dispatch_uid="tenants.forget_state_on_delete")
def forget_tenant_state(sender, instance: Tenant, **kwargs) -> None:
    addresses = {_address(instance), getattr(instance, "_state_address", (None, None))}
    keys = set()
    for environment_id, context_identifier in addresses:
        code = _environment_code(instance, environment_id) if environment_id and context_identifier else None
        if code is not None:
            keys.add((code, context_identifier))

    def forget() -> None:
        for code, context_identifier in keys:
            forget_state(environment_code=code, context_identifier=context_identifier)

    # Now, and again once committed, so an answer cached from the old row meanwhile goes too.
    forget()
    transaction.on_commit(forget)
    instance._state_address = _address(instance)
