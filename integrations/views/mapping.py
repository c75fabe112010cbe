"""The mapping page of a connection: per actor type, each ERP field's CRM field and direction, and
below it the ERP list items paired with CRM list items. A refused save shows the error at its row
and saves nothing (the services validate everything first)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from ..crm import CrmApiError
from ..erp.crm_fields import CRM_FIELDS
from ..erp.services import mapping as services
from ..models import Direction, FieldAccess, FieldType, ListItemMapping
from .common import connection_or_404, scope_or_404


def _sections(actors, posted=None, errors=None, offered: set[str] | None = None) -> list[dict]:
    """What the field table shows per actor type, with the posted choices when a save was refused.

    Each row and actor type carries the ids of its controls, so the error summary can link to them."""
    errors = errors or {}
    sections = []
    for s, actor in enumerate(actors, start=1):
        metas = {f["FieldKey"]: f for f in actor.erp_fields}
        order = {f["FieldKey"]: i for i, f in enumerate(actor.erp_fields)}
        rows = []
        def place(m, order=order):
            return m.missing, order.get(m.erp_field, len(order)), m.erp_field.lower()

        for n, current in enumerate(sorted(actor.fields.all(), key=place), start=1):
            key = f"{actor.actor_type}.{current.erp_field}"
            meta = metas.get(current.erp_field)
            rows.append({
                "key": key, "name": current.erp_field, "meta": meta,
                "label": meta["DisplayName"] if meta and meta.get("DisplayName") else current.erp_field,
                "crm_id": f"crm-{s}-{n}", "dir_id": f"dir-{s}-{n}", "error_id": f"error-{s}-{n}",
                "missing": current.missing or meta is None,
                "type": FieldType(meta["FieldType"]).label if meta else "",
                "mandatory": bool(meta and meta["Access"] == FieldAccess.MANDATORY),
                "read_only": bool(meta and meta["Access"] == FieldAccess.READ_ONLY),
                "crm": posted.get(f"crm-{key}", "") if posted is not None else current.crm_field,
                "direction": posted.get(f"dir-{key}", "") if posted is not None else current.direction,
                "errors": errors.get(key, []),
            })
        sections.append({
            "actor": actor, "enabled_id": f"enabled-{s}", "enabled_error_id": f"enabled-{s}-error",
            "offered": offered is None or actor.actor_type in offered,
            "enabled": (f"enabled-{actor.actor_type}" in posted) if posted is not None else actor.enabled,
            "crm_fields": list(CRM_FIELDS.get(actor.crm_entity, {}).values()),
            "rows": rows, "errors": errors.get(f"{actor.actor_type}.enabled", []),
        })
    return sections


def _field_summary(sections: list[dict], errors: dict) -> list[dict]:
    """The refused field save's errors in page order, each linked to its row's control."""
    summary, placed = [], set()
    for section in sections:
        actor_type = section["actor"].actor_type
        placed.add(f"{actor_type}.enabled")
        summary += [{"href": f"#{section['enabled_id']}", "text": f"{actor_type}: {error}"}
                    for error in section["errors"]]
        for row in section["rows"]:
            placed.add(row["key"])
            summary += [{"href": f"#{row['crm_id']}", "text": f"{actor_type} {row['label']}: {error}"}
                        for error in row["errors"]]
    summary += [{"href": "", "text": error} for key, messages in errors.items() if key not in placed
                for error in messages]
    return summary


def _crm_items(request: HttpRequest, connection, items: list[ListItemMapping]) -> tuple[dict, str]:
    """The CRM items per CRM list, or (what each row has now, the reason) when the CRM cannot answer."""
    try:
        found = services.crm_list_choices(connection)
    except CrmApiError as exc:
        kept: dict[str, list[dict]] = {}
        for item in items:
            if item.crm_id is not None:
                kept.setdefault(item.crm_list, []).append({"Id": item.crm_id, "Name": item.crm_name})
        return kept, f"The CRM's lists could not be read ({exc.message}); the current pairs are kept."
    return {name: [i for i in rows if isinstance(i.get("Id"), int)] for name, rows in found.items()}, ""


def _save_fields(request: HttpRequest, connection, actors) -> dict:
    enabled = {actor.actor_type: f"enabled-{actor.actor_type}" in request.POST for actor in actors}
    rows = [services.MappingRow(actor_type=actor.actor_type, erp_field=current.erp_field,
                                crm_field=request.POST.get(f"crm-{actor.actor_type}.{current.erp_field}", ""),
                                direction=request.POST.get(f"dir-{actor.actor_type}.{current.erp_field}", ""))
            for actor in actors for current in actor.fields.all()]
    try:
        services.save_mapping(user=request.user, connection=connection, enabled=enabled, rows=rows)
    except ValidationError as exc:
        return exc.message_dict
    return {}


def _save_lists(request: HttpRequest, connection, items, crm_items) -> dict:
    choices, errors = {}, {}
    for item in items:
        raw = request.POST.get(f"item-{item.pk}")
        if raw is None:
            continue
        try:
            choices[item.pk] = int(raw) if raw else None
        except ValueError:
            errors[f"item-{item.pk}"] = [
                f"{item.erp_value}: choose an item of the CRM's {item.crm_list} list."]
    if errors:
        return errors
    allowed = {name: {i["Id"]: str(i.get("Name", "")) for i in rows} for name, rows in crm_items.items()}
    try:
        services.save_list_mapping(user=request.user, connection=connection, choices=choices, allowed=allowed)
    except ValidationError as exc:
        return exc.message_dict
    return {}


@never_cache
@require_http_methods(["GET", "POST"])
@login_required
def mapping_page(request: HttpRequest, env: str, ctx: str, authorization_pk: int, guid) -> HttpResponse:
    scope = scope_or_404(request, env, ctx, authorization_pk)
    connection = connection_or_404(scope, guid)
    actors = list(connection.actor_mappings.prefetch_related("fields").order_by("id"))
    items = list(ListItemMapping.objects.filter(connection=connection)
                 .order_by("erp_list", "erp_value", "id"))
    crm_items, crm_problem = _crm_items(request, connection, items)
    field_errors, list_errors, posted = {}, {}, None
    if request.method == "POST":
        scope.require_admin()
        if request.POST.get("form") == "lists":
            list_errors = _save_lists(request, connection, items, crm_items)
            if not list_errors:
                messages.success(request, "The list items were saved.")
                return redirect(scope.url("mapping", connection.connection_id) + "#lists")
        else:
            field_errors = _save_fields(request, connection, actors)
            if not field_errors:
                messages.success(request, "The mapping was saved.")
                return redirect(scope.url("mapping", connection.connection_id))
            posted = request.POST
    list_rows = [{"item": item, "choices": crm_items.get(item.crm_list, []),
                  "selected": (request.POST.get(f"item-{item.pk}", "") if list_errors
                               else ("" if item.crm_id is None else str(item.crm_id))),
                  "errors": list_errors.get(f"item-{item.pk}", [])} for item in items]
    sections = _sections(actors, posted, field_errors, offered=set(connection.actor_types or []))
    # A refused save's summary, at the top of the form it concerns.
    count = len(field_errors)
    field_heading = f"Nothing was saved: {count} row{'s need' if count != 1 else ' needs'} attention."
    shown_items = {f"item-{item.pk}" for item in items}
    list_summary = [{"href": f"#item-{row['item'].pk}", "text": error} for row in list_rows
                    for error in row["errors"]]
    list_summary += [{"href": "", "text": error} for key, errors in list_errors.items()
                     if key not in shown_items for error in errors]
    return render(request, "integrations/mapping.html", scope.context(
        connection=connection, sections=sections, directions=Direction.choices,
        list_rows=list_rows, crm_problem=crm_problem, problems=services.activation_problems(connection),
        field_errors=field_errors, field_summary=_field_summary(sections, field_errors),
        field_summary_heading=field_heading,
        list_summary=list_summary, can_edit=scope.member.is_admin))
