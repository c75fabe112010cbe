from django.apps import AppConfig


class CrmSandboxConfig(AppConfig):
    name = "crm_sandbox"
    verbose_name = "CRM sandbox"
    default_auto_field = "django.db.models.BigAutoField"
