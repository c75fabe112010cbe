"""Signals the login service receives from the rooms below it."""

from django.db.models.signals import post_save
from django.dispatch import receiver

from appstore.models import AppClient
from appstore.signals import configuration_published


@receiver(post_save, sender=AppClient, dispatch_uid="provisioning.sync_login_client")
def sync_login_client(sender, instance: AppClient, **kwargs) -> None:
    from .services.clients import sync_login_client

    sync_login_client(instance)


@receiver(configuration_published, dispatch_uid="provisioning.needs_reapproval")
def configuration_widened(sender, app, environment, version, widened, **kwargs) -> None:
    from .services.authorizations import mark_needs_reapproval

    mark_needs_reapproval(app=app, environment=environment, widened=widened)
