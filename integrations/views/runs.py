"""A run of a connection: its numbers, its sync log (filtered by kind) and its calls; and the small
JSON the connection page polls for the progress bar."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from .. import selectors
from ..models import LogKind, RunState
from .common import connection_or_404, page_of, scope_or_404

ENTRIES_PER_PAGE = 50
CALLS_PER_PAGE = 25


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
