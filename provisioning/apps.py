from django.apps import AppConfig


class ProvisioningConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "provisioning"
    verbose_name = "Login service and consent"

    def ready(self) -> None:
        from . import receivers  # noqa: F401
