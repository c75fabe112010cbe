import getpass

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from tenants.models import Environment, Tenant, TenantState
from tenants.services import lifecycle

# Command-line action → (service action, the options it needs).
ACTIONS = {
    "show": (None, ()),
    "suspend": ("suspend", ()),
    "resume": ("resume", ()),
    "start-maintenance": (None, ()),
    "end-maintenance": ("end_maintenance", ()),
    "upgrade": ("upgrade", ("version",)),
    "move": ("move", ("endpoint",)),
    "restore-backup": ("restore_backup", ()),
    "delete": ("delete", ()),
    "retry-provisioning": ("retry_provisioning", ()),
}


def _os_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no login name nor passwd entry (some containers)
        return "unknown user"


class Command(BaseCommand):
    help = (
        "Operate a tenant through the same services as the staff pages: "
        "`tenant <ctx> <action> [--env sod]` with action one of " + ", ".join(ACTIONS) + "; "
        "or create one: `tenant create --env sod --company \"X\" --admin-email a@b`."
    )

    def add_base_argument(self, parser, *args, **kwargs):
        # --version is the tenant's new version here, not Django's.
        if "--version" not in args:
            super().add_base_argument(parser, *args, **kwargs)

    def add_arguments(self, parser):
        parser.add_argument("ctx", help="the tenant's context identifier (Cust12345), or 'create'")
        parser.add_argument("action", nargs="?", default="", help=", ".join(ACTIONS))
        parser.add_argument("--env", default="sod", help="environment: sod (default), stage or online")
        parser.add_argument("--version", dest="version_label", default="",
                            help="upgrade: the new version label")
        parser.add_argument("--endpoint", default="", help="move: the new public endpoint URL")
        parser.add_argument("--webapi-url", default="",
                            help="move: the new web API URL (default <endpoint>/api/)")
        parser.add_argument("--mode", choices=["online", "offline"], default="online",
                            help="start-maintenance: online (default) or offline")
        parser.add_argument("--reason", default="", help="suspend, start-maintenance, delete: why")
        parser.add_argument("--backup", default="", help="restore-backup: which backup (date or name)")
        parser.add_argument("--company", default="", help="create: the company's name")
        parser.add_argument("--admin-email", default="", help="create: the first administrator's e-mail")

    def handle(self, *args, ctx: str, action: str, env: str, **options):
        if not Environment.objects.filter(code=env).exists():
            codes = ", ".join(Environment.objects.values_list("code", flat=True))
            raise CommandError(f"No environment {env!r}; choose one of: {codes}.")
        try:
            with lifecycle.operated_by(f"manage.py ({_os_user()})"):
                if ctx == "create":
                    return self._create(env, action, options)
                return self._operate(env, ctx, action, options)
        except lifecycle.TenantError as refused:
            raise CommandError(f"{refused.message} Nothing was changed.") from refused
        except ValidationError as invalid:
            raise CommandError(" ".join(invalid.messages) + " Nothing was changed.") from invalid

    def _create(self, env: str, action: str, options: dict) -> None:
        if action:
            raise CommandError(f"'create' takes no action (got {action!r}).")
        if not options["company"] or not options["admin_email"]:
            raise CommandError("create needs --company and --admin-email.")
        tenant = lifecycle.create_tenant(actor=None, environment_code=env, company_name=options["company"],
                                         admin_email=options["admin_email"])
        self.stdout.write(f"{env}: {tenant.context_identifier} created for {tenant.company_name} "
                          f"(Provisioning); {options['admin_email']} invited as administrator.")

    def _operate(self, env: str, ctx: str, action: str, options: dict) -> None:
        if action not in ACTIONS:
            raise CommandError(f"Unknown action {action!r}; choose one of: {', '.join(ACTIONS)}.")
        tenant = Tenant.objects.select_related("environment").filter(
            environment__code=env, context_identifier=ctx).first()
        if tenant is None:
            raise CommandError(f"No tenant {ctx!r} in {env}.")
        if action == "show":
            self._show(tenant)
            return
        for needed in ACTIONS[action][1]:
            if not options[needed if needed != "version" else "version_label"]:
                raise CommandError(f"{action} needs --{needed}.")
        with transaction.atomic():
            self._apply(tenant, action, options)
        tenant.refresh_from_db()
        self.stdout.write(f"{env}: {tenant.context_identifier} is now {TenantState(tenant.state).label}.")

    def _apply(self, tenant: Tenant, action: str, options: dict) -> None:
        if action == "start-maintenance":
            lifecycle.start_maintenance(actor=None, tenant=tenant, online=options["mode"] == "online",
                                        reason=options["reason"])
        elif action == "upgrade":
            lifecycle.upgrade_tenant(actor=None, tenant=tenant, version_label=options["version_label"])
        elif action == "move":
            endpoint = options["endpoint"].strip()
            webapi = options["webapi_url"] or endpoint.rstrip("/") + "/api/"
            lifecycle.move_tenant(actor=None, tenant=tenant, public_endpoint=endpoint, webapi_url=webapi)
        elif action == "restore-backup":
            lifecycle.restore_backup(actor=None, tenant=tenant, backup=options["backup"])
        elif action in ("suspend", "delete"):
            operation = lifecycle.suspend_tenant if action == "suspend" else lifecycle.delete_tenant
            operation(actor=None, tenant=tenant, reason=options["reason"])
        else:
            operation, _ = lifecycle.OPERATIONS[ACTIONS[action][0]]
            operation(actor=None, tenant=tenant)

    def _show(self, tenant: Tenant) -> None:
        allowed = [name for name, (service, _) in ACTIONS.items()
                   if service and tenant.state in lifecycle.TRANSITIONS[service]]
        if tenant.state in lifecycle.TRANSITIONS["start_online_maintenance"] or \
                tenant.state in lifecycle.TRANSITIONS["start_offline_maintenance"]:
            allowed.append("start-maintenance")
        rows = [("Context identifier", tenant.context_identifier), ("Company", tenant.company_name),
                ("Environment", tenant.environment.code), ("State", TenantState(tenant.state).label),
                ("Reason", tenant.state_reason or "—"), ("Version", tenant.version_label or "—"),
                ("Public endpoint", tenant.public_endpoint or "—"), ("Web API URL", tenant.webapi_url or "—"),
                ("Allowed now", ", ".join(allowed) or "nothing")]
        for label, value in rows:
            self.stdout.write(f"{label + ':':<20}{value}")
