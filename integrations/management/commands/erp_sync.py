"""Run one ERP sync of a connection in this process, as a worker would (for operators and scripts):

    manage.py erp_sync <connection GUID> [--kind force|manual|resync|resync_no_blanks]
"""

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from integrations.erp.engine import execute
from integrations.erp.notifications import report_failure
from integrations.erp.services.runs import queue_run_now
from integrations.models import ErpConnection, RunKind, RunState


class Command(BaseCommand):
    help = "Run one ERP sync of a connection now, in this process, and print how it ended."

    def add_arguments(self, parser):
        parser.add_argument("connection_id", help="the connection's GUID")
        parser.add_argument(
            "--kind",
            default=RunKind.FORCE,
            choices=[RunKind.MANUAL, RunKind.FORCE, RunKind.RESYNC, RunKind.RESYNC_NO_BLANKS],
            help="the kind of run (default: force, which runs even when the connection is inactive)",
        )

    def handle(self, *args, connection_id, kind, **options):
        try:
            connection = ErpConnection.objects.filter(connection_id=connection_id).first()
        except ValidationError:
            connection = None
        if connection is None:
            raise CommandError(f"No ERP connection {connection_id}.")
        run = execute(queue_run_now(connection=connection, kind=kind).pk)
        if run.state == RunState.FAILED:
            report_failure(run)
        self.stdout.write(
            f"Run {run.pk}: {run.get_state_display()}; {run.processed} of {run.total} records, "
            f"{run.created} created, {run.updated} updated, {run.pushed} pushed, "
            f"{run.failed_records} skipped"
            + (f". {run.error}" if run.error else "")
        )
        if run.state not in (RunState.SUCCEEDED,):
            raise CommandError(f"The run ended {run.get_state_display().lower()}.")
