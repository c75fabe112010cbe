"""E-mail to the app's technical contact when an ERP sync run fails and the app's ERP sync endpoint
asks for error e-mails (SPEC §10)."""

from django.conf import settings
from django.core.mail import send_mail
from django.template.loader import render_to_string

from provisioning.notifications import technical_recipients

from ..models import RunState, SyncRun
from .services.target import erp_endpoint


def report_failure(run: SyncRun) -> int:
    if run.state != RunState.FAILED:
        return 0
    connection = run.connection
    entry = erp_endpoint(connection.authorization)
    if entry is None or not entry["send_error_emails"]:
        return 0
    recipients = technical_recipients(connection.app)
    if not recipients:
        return 0
    context = {"run": run, "connection": connection, "app": connection.app, "tenant": connection.tenant}
    subject = " ".join(render_to_string("integrations/email/run_failed_subject.txt", context).split())
    body = render_to_string("integrations/email/run_failed_body.txt", context)
    return send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, recipients)
