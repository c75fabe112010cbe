from django.apps import AppConfig


class ProvisioningConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "provisioning"
    verbose_name = "Login service and consent"

    def ready(self) -> None:
        from appstore import installed

        from . import receivers  # noqa: F401
        from .selectors import installed_companies

        installed.installed_lookup = installed_companies
