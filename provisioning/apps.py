from django.apps import AppConfig


class ProvisioningConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "provisioning"
    verbose_name = "Login service and consent"

    def ready(self) -> None:
        from appstore import installed
        from appstore.selectors import review

        from . import receivers  # noqa: F401
        from .request_selectors import waiting_request_ids
        from .selectors import installed_companies

        installed.installed_lookup = installed_companies
        if waiting_request_ids not in review.extra_pending_queues:
            review.extra_pending_queues.append(waiting_request_ids)
