"""A run of a connection: its numbers, its sync log (filtered by kind) and its calls; and the small
JSON the connection page polls for the progress bar."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from .. import selectors
from ..erp.crm_fields import CRM_FIELDS
from ..models import Direction, LogKind, RunState
from .common import connection_or_404, page_of, scope_or_404

ENTRIES_PER_PAGE = 50
CALLS_PER_PAGE = 25


def _crm_lists_by_field() -> dict[str, str]:
    """CRM field name → the CRM list its values are ids of, for names that are a list field wherever
    they occur (the log names the CRM field, not its entity)."""
    lists: dict[str, set[str]] = {}
    for fields in CRM_FIELDS.values():
        for field in fields.values():
            lists.setdefault(field.name, set()).add(field.crm_list)
    return {name: found.pop() for name, found in lists.items() if len(found) == 1 and "" not in found}


CRM_LIST_OF_FIELD = _crm_lists_by_field()


def _name_list_items(connection, entries) -> None:
    """Give the log's CRM list ids (a change sent to the CRM) the names of the items they stand for,
    from the connection's list-item pairs, in one query for the page: entry.old_name, entry.new_name."""
    def ids(entry) -> tuple[str, list[int | None]]:
        crm_list = CRM_LIST_OF_FIELD.get(entry.field, "") if entry.direction == Direction.TO_CRM else ""
        return crm_list, [int(value) if crm_list and value.isdigit() else None
                          for value in (entry.old_value, entry.new_value)]

    wanted: dict[str, set[int]] = {}
    for entry in entries:
        crm_list, values = ids(entry)
        wanted.setdefault(crm_list, set()).update(value for value in values if value is not None)
    wanted = {crm_list: items for crm_list, items in wanted.items() if crm_list and items}
    names = selectors.crm_list_item_names(connection, wanted)
    for entry in entries:
        crm_list, (old, new) = ids(entry)
        entry.old_name = names.get((crm_list, old), "")
        entry.new_name = names.get((crm_list, new), "")


def _run_or_404(scope, guid, pk: int):
    connection = connection_or_404(scope, guid)
    run = selectors.connection_run(connection, pk)
    if run is None:
        raise Http404("No such run.")
    run.connection = connection
    return connection, run


@never_cache
@require_safe
@login_required
def run_page(request: HttpRequest, env: str, ctx: str, authorization_pk: int, guid, pk: int) -> HttpResponse:
    scope = scope_or_404(request, env, ctx, authorization_pk)
    connection, run = _run_or_404(scope, guid, pk)
    kind = request.GET.get("kind", "")
    if kind not in LogKind.values:
        kind = ""
    entries = page_of(request, selectors.run_entries(run, kind or None), ENTRIES_PER_PAGE)
    _name_list_items(connection, entries)
    calls = page_of(request, selectors.run_calls(run), CALLS_PER_PAGE, param="calls")
    return render(request, "integrations/run.html", scope.context(
        connection=connection, run=run, entries=entries, calls=calls, kind=kind, kinds=LogKind.choices,
        finished=run.state not in selectors.OPEN_STATES))


def progress(run) -> dict:
    return {
        "id": run.pk,
        "state": run.state,
        "state_label": run.get_state_display(),
        "finished": run.state not in (RunState.QUEUED, RunState.RUNNING),
        "phase": run.phase,
        "processed": run.processed,
        "total": run.total,
        "percent": run.percent,
        "counts": {"created": run.created, "updated": run.updated, "pushed": run.pushed,
                   "skipped": run.failed_records},
        "error": run.error,
    }


@never_cache
@require_safe
@login_required
def run_progress(request: HttpRequest, env: str, ctx: str, authorization_pk: int, guid,
                 pk: int) -> JsonResponse:
    scope = scope_or_404(request, env, ctx, authorization_pk)
    _, run = _run_or_404(scope, guid, pk)
    return JsonResponse(progress(run))
