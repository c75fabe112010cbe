"""The connections of an app, setting one up (a form built from the connector's configuration
fields), its page (schedule, activation, runs) and deleting it. Views parse and present; the
services in integrations.erp.services decide, check the administrator again and write."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_safe

from .. import selectors
from ..erp.services import connections as services
from ..erp.services import mapping as mapping_services
from ..erp.services import runs as run_services
from ..erp.services.connections import SetupRefused
from ..erp.services.target import config_values, erp_endpoint
from ..forms import ConfigForm, ScheduleForm
from ..models import RunKind
from .common import Scope, connection_or_404, page_of, scope_or_404

RUNS_PER_PAGE = 20
# The runs an administrator asks for, in the order the buttons show them.
RUN_BUTTONS = [(RunKind.MANUAL, "Sync now"), (RunKind.FORCE, "Force sync"),
               (RunKind.RESYNC, "Resync from CRM"),
               (RunKind.RESYNC_NO_BLANKS, "Resync from CRM (no blank values)")]
RESYNC_KINDS = (RunKind.RESYNC, RunKind.RESYNC_NO_BLANKS)


@never_cache
@require_safe
@login_required
def connections(request: HttpRequest, env: str, ctx: str, authorization_pk: int) -> HttpResponse:
    scope = scope_or_404(request, env, ctx, authorization_pk)
    rows = list(selectors.app_connections(scope.authorization))
    endpoint_on = erp_endpoint(scope.authorization) is not None
    usable = scope.authorization.is_usable
    return render(request, "integrations/connections.html", scope.context(
        connections=rows, endpoint_on=endpoint_on, usable=usable,
        can_set_up=scope.member.is_admin and endpoint_on and usable))


def _config_page(request: HttpRequest, scope: Scope, *, connection=None) -> HttpResponse:
    """The new-connection and edit-configuration page: the fields are fetched from the connector on
    every request (never taken from the client), Test asks the connector, Save creates or saves."""
    scope.require_admin()
    context = scope.context(connection=connection)
    try:
        fields = services.config_fields(user=request.user, authorization=scope.authorization)
        choices = services.list_choices(user=request.user, authorization=scope.authorization, fields=fields)
    except SetupRefused as refused:
        return render(request, "integrations/configure.html", {**context, "unavailable": refused.message})
    saved = config_values(connection) if connection is not None else None
    posted = request.method == "POST"
    # What the administrator just typed may come back after Test; saved passwords never do.
    form = ConfigForm(request.POST if posted else None, fields=fields, choices=choices, saved=saved,
                      with_name=connection is None, echo_passwords=posted and connection is None)
    if posted and form.is_valid():
        try:
            values = services.clean_config(fields, form.raw_values(saved))
        except ValidationError as exc:
            form.add_service_errors(exc.message_dict)
        else:
            if request.POST.get("action") == "test":
                try:  # what Save would refuse before asking the connector, Test says too
                    services.refuse_twin(scope.authorization, values, fields,
                                         exclude=connection.pk if connection is not None else None)
                except ValidationError as exc:
                    form.add_service_errors(exc.message_dict)
                else:
                    result = services.test_config(user=request.user, authorization=scope.authorization,
                                                  values=values)
                    (messages.success if result.ok else messages.error)(
                        request, f"{'Test passed' if result.ok else 'Test failed'}: {result.explanation}")
            else:
                return _save_config(request, scope, form, connection, fields, values) or render(
                    request, "integrations/configure.html", {**context, "form": form})
    return render(request, "integrations/configure.html", {**context, "form": form})


def _save_config(request, scope: Scope, form: ConfigForm, connection, fields, values) -> HttpResponse | None:
    """Create the connection or save its configuration; None (errors on the form) when refused."""
    try:
        if connection is None:
            connection = services.create_connection(
                user=request.user, authorization=scope.authorization, name=form.cleaned_data.get("name", ""),
                values=values, fields=fields)
            messages.success(request, f"The connection {connection.name} was saved. Check the field mapping, "
                                      f"then activate it.")
        else:
            warning = services.update_config(user=request.user, connection=connection, values=values,
                                             fields=fields)
            messages.success(request, f"The configuration of {connection.name} was saved.")
            if warning:
                messages.warning(request, warning)
    except ValidationError as exc:
        form.add_service_errors(exc.message_dict)
        return None
    except SetupRefused as refused:
        form.add_error(None, f"Nothing was saved: {refused.message}")
        return None
    return redirect(scope.url("connection", connection.connection_id))


@never_cache
@require_http_methods(["GET", "POST"])
@login_required
def new_connection(request: HttpRequest, env: str, ctx: str, authorization_pk: int) -> HttpResponse:
    return _config_page(request, scope_or_404(request, env, ctx, authorization_pk))


@never_cache
@require_http_methods(["GET", "POST"])
@login_required
def edit_configuration(request: HttpRequest, env: str, ctx: str, authorization_pk: int, guid) -> HttpResponse:
    scope = scope_or_404(request, env, ctx, authorization_pk)
    return _config_page(request, scope, connection=connection_or_404(scope, guid))


def _act(request: HttpRequest, scope: Scope, connection) -> HttpResponse | ScheduleForm:
    """One of the connection page's buttons; a redirect, or the schedule form with its errors."""
    action, kind, user = request.POST.get("action"), request.POST.get("kind", ""), request.user
    if action == "schedule":
        form = ScheduleForm(request.POST)
        if not form.is_valid():
            return form
        try:
            services.set_schedule(user=user, connection=connection, **form.cleaned_data)
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
            return form
        messages.success(request, "The schedule was saved.")
    elif action in ("activate", "deactivate", "refresh", "run"):
        try:
            if action == "activate":
                services.activate(user=user, connection=connection)
                messages.success(request, f"{connection.name} is active: it syncs every "
                                          f"{connection.sync_interval} seconds.")
            elif action == "deactivate":
                services.deactivate(user=user, connection=connection)
                messages.success(request, f"{connection.name} is inactive: scheduled syncs stopped.")
            elif action == "refresh":
                services.refresh_actor_types(user=user, connection=connection)
                messages.success(request, "The actor types and fields were fetched from the connector again.")
            elif kind in RESYNC_KINDS and request.POST.get("confirm") != "yes":
                messages.error(request, "No run was started: a resync is asked for from its own button, "
                                        "which says what it overwrites.")
            else:
                run = run_services.request_run(user=user, connection=connection, kind=kind)
                messages.success(request, f"{run.get_kind_display()} was queued.")
        except SetupRefused as refused:
            verb = {"activate": "The connection was not activated", "refresh": "The fields were not fetched",
                    "run": "No run was started"}.get(action, "Nothing changed")
            messages.error(request, f"{verb}: {refused.message}")
    else:
        messages.error(request, "Unknown action.")
    return redirect(scope.url("connection", connection.connection_id))


@never_cache
@require_http_methods(["GET", "POST"])
@login_required
def connection_page(request: HttpRequest, env: str, ctx: str, authorization_pk: int, guid) -> HttpResponse:
    scope = scope_or_404(request, env, ctx, authorization_pk)
    connection = connection_or_404(scope, guid)
    schedule_form = ScheduleForm(initial={"sync_interval": connection.sync_interval, "rank": connection.rank})
    if request.method == "POST":
        scope.require_admin()
        outcome = _act(request, scope, connection)
        if isinstance(outcome, HttpResponse):
            return outcome
        schedule_form = outcome
    runs = page_of(request, selectors.connection_runs(connection), RUNS_PER_PAGE)
    return render(request, "integrations/connection.html", scope.context(
        connection=connection, schedule_form=schedule_form, runs=runs, run_buttons=RUN_BUTTONS,
        linked_records=connection.links.filter(crm_id__isnull=False).count() if scope.member.is_admin else 0,
        to_erp_fields=selectors.to_erp_fields(connection) if scope.member.is_admin else [],
        open_run=selectors.open_run(connection),
        problems=[] if connection.is_active else mapping_services.activation_problems(connection)))


@never_cache
@require_http_methods(["GET", "POST"])
@login_required
def delete_connection(request: HttpRequest, env: str, ctx: str, authorization_pk: int, guid) -> HttpResponse:
    scope = scope_or_404(request, env, ctx, authorization_pk)
    connection = connection_or_404(scope, guid)
    scope.require_admin()
    if request.method == "GET":
        return render(request, "integrations/delete.html", scope.context(
            connection=connection, open_run=selectors.open_run(connection)))
    name = connection.name
    try:
        warning = services.delete_connection(user=request.user, connection=connection)
    except SetupRefused as refused:
        messages.error(request, f"{name} was not deleted: {refused.message}")
        return redirect(scope.url("connection", connection.connection_id))
    messages.success(request, f"The connection {name} was deleted.")
    if warning:
        messages.warning(request, warning)
    return redirect(scope.url("connections"))
