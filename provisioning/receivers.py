"""Signals the login service receives from the rooms below it."""

from django.contrib.auth.signals import user_logged_in
from django.db.models.signals import post_save
from django.dispatch import receiver

from appstore.models import AppClient
from appstore.signals import configuration_published
from tenants.signals import tenant_state_changed


@receiver(post_save, sender=AppClient, dispatch_uid="provisioning.sync_login_client")
def sync_login_client(sender, instance: AppClient, **kwargs) -> None:
    from .services.clients import sync_login_client

    sync_login_client(instance)


@receiver(configuration_published, dispatch_uid="provisioning.needs_reapproval")
def configuration_widened(sender, app, environment, version, widened, **kwargs) -> None:
    from .services.authorizations import mark_needs_reapproval

    mark_needs_reapproval(app=app, environment=environment, widened=widened)


@receiver(user_logged_in, dispatch_uid="provisioning.remember_tenant_membership")
def signed_in(sender, request, user, **kwargs) -> None:
    if request is not None and hasattr(request, "session"):
        from tenants.sessions import remember_tenant_membership

        remember_tenant_membership(request, user)


@receiver(tenant_state_changed, dispatch_uid="provisioning.notify_state_change")
def tenant_state_changed_notify(sender, tenant, change_type, **kwargs) -> None:
    from .services.notifications import notify_tenant_state_changed

    notify_tenant_state_changed(tenant=tenant, change_type=change_type)
