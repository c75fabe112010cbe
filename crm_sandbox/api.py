"""The sandbox's CRM web API under ``/sandbox/<env>/<ctx>/api/v1/``: thin views over the entities,
the query subset, the lists and the change feed. Every call is authenticated by introspection."""

import json
import logging
import time

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from django.utils.decorators import method_decorator
from django.views import View
from django.views.decorators.csrf import csrf_exempt

from . import services
from .auth import IntrospectionUnavailable, Unauthenticated, authenticate
from .entities import CONTACT, ENTITIES, PERSON, Entity, InvalidValue, entity_for_table, iso
from .models import ChangeRecord, ListItem, ListName
from .query import DEFAULT_TOP, MAX_TOP, ListQuery, QueryError, parse_int, parse_list_query

logger = logging.getLogger("crm_sandbox")

MAX_BODY = 64 * 1024


def error(status: int, message: str) -> JsonResponse:
    return JsonResponse({"Error": message}, status=status)


def next_link(request: HttpRequest, skip: int) -> str:
    params = request.GET.copy()
    for key in [k for k in params if k.lower() == "$skip"]:
        del params[key]
    params["$skip"] = str(skip)
    return request.build_absolute_uri(f"{request.path}?{params.urlencode(safe='$,')}")


@method_decorator(csrf_exempt, name="dispatch")
class SandboxApiView(View):
    """Authenticates the caller against the URL's tenant, then hands over to the handler; logs one
    line per call (never a token)."""

    def dispatch(self, request: HttpRequest, *args, env: str, ctx: str, **kwargs) -> HttpResponse:
        started = time.monotonic()
        request.sandbox_caller = None
        response = self._guarded(request, env, ctx, *args, **kwargs)
        caller = request.sandbox_caller
        logger.info("crm_sandbox call method=%s path=%s env=%s ctx=%s client_id=%s integration_service=%s "
                    "status=%s ms=%d", request.method, request.path, env, ctx,
                    caller.client_id if caller else "-", caller.integration_service if caller else "-",
                    response.status_code, (time.monotonic() - started) * 1000)
        return response

    def _guarded(self, request: HttpRequest, env: str, ctx: str, *args, **kwargs) -> HttpResponse:
        try:
            caller = authenticate(request, env)
        except Unauthenticated as exc:
            response = error(401, str(exc))
            response["WWW-Authenticate"] = 'Bearer realm="crm-sandbox"'
            return response
        except IntrospectionUnavailable:
            return error(503, "The login service could not be asked about the token; try again later.")
        request.sandbox_caller = caller
        if caller.ctx != ctx:
            return error(403, f"The token is for another tenant, not {ctx}.")
        handler = getattr(self, request.method.lower(), None)
        if request.method not in self.allowed_methods() or handler is None:
            return error(405, f"{request.method} is not allowed here.")
        if request.method in {"POST", "PUT"}:
            length = request.META.get("CONTENT_LENGTH") or "0"
            if not length.isdigit() or int(length) > MAX_BODY or len(request.body) > MAX_BODY:
                return error(413, f"The body is larger than {MAX_BODY} bytes.")
        self.tenant = services.sandbox_tenant(environment_code=env, context_identifier=ctx)
        return handler(request, *args, **kwargs)

    def allowed_methods(self) -> set[str]:
        return {"GET"}

    def body(self, request: HttpRequest) -> object:
        try:
            return json.loads(request.body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError, RecursionError) as exc:
            raise InvalidValue("The body must be JSON (UTF-8).") from exc

    def list_answer(self, request: HttpRequest, entity: Entity, queryset) -> JsonResponse:
        try:
            query: ListQuery = parse_list_query(entity, request.GET)
        except QueryError as exc:
            return error(400, str(exc))
        rows, more = query.page(queryset)
        answer: dict = {"value": [entity.to_json(row, query.selected) for row in rows]}
        if more:
            answer["odata.nextLink"] = next_link(request, query.skip + query.top)
        return JsonResponse(answer)


def _entity(name: str) -> Entity:
    return ENTITIES[name]


class EntityCollectionView(SandboxApiView):
    def allowed_methods(self) -> set[str]:
        return {"GET", "POST"}

    def get(self, request: HttpRequest, entity: str) -> JsonResponse:
        spec = _entity(entity)
        return self.list_answer(request, spec, spec.queryset(self.tenant))

    def post(self, request: HttpRequest, entity: str) -> JsonResponse:
        spec = _entity(entity)
        try:
            values = spec.parse(self.tenant, self.body(request), creating=True)
        except InvalidValue as exc:
            return error(400, str(exc))
        row = services.create_row(tenant=self.tenant, entity=spec, values=values)
        return JsonResponse(spec.to_json(spec.queryset(self.tenant).get(pk=row.pk)), status=201)


class EntityDefaultView(SandboxApiView):
    def get(self, request: HttpRequest, entity: str) -> JsonResponse:
        return JsonResponse(_entity(entity).blank(self.tenant, timezone.now()))


class EntityItemView(SandboxApiView):
    def allowed_methods(self) -> set[str]:
        return {"GET", "PUT", "DELETE"}

    def _row(self, spec: Entity, pk: str):
        return spec.queryset(self.tenant).filter(pk=int(pk)).first()

    def _missing(self, spec: Entity, pk: str) -> JsonResponse:
        return error(404, f"There is no {spec.name} with {spec.id_name} {pk}.")

    def get(self, request: HttpRequest, entity: str, pk: str) -> JsonResponse:
        spec = _entity(entity)
        row = self._row(spec, pk)
        return JsonResponse(spec.to_json(row)) if row else self._missing(spec, pk)

    def put(self, request: HttpRequest, entity: str, pk: str) -> JsonResponse:
        spec = _entity(entity)
        row = self._row(spec, pk)
        if row is None:
            return self._missing(spec, pk)
        try:
            values = spec.parse(self.tenant, self.body(request), creating=False)
        except InvalidValue as exc:
            return error(400, str(exc))
        services.update_row(tenant=self.tenant, entity=spec, row=row, values=values)
        return JsonResponse(spec.to_json(spec.queryset(self.tenant).get(pk=row.pk)))

    def delete(self, request: HttpRequest, entity: str, pk: str) -> HttpResponse:
        spec = _entity(entity)
        row = self._row(spec, pk)
        if row is None:
            return self._missing(spec, pk)
        services.delete_row(tenant=self.tenant, entity=spec, row=row)
        return HttpResponse(status=204)


class ContactPersonsView(SandboxApiView):
    def get(self, request: HttpRequest, pk: str) -> JsonResponse:
        contact = CONTACT.queryset(self.tenant).filter(pk=int(pk)).first()
        if contact is None:
            return error(404, f"There is no Contact with ContactId {pk}.")
        return self.list_answer(request, PERSON, PERSON.queryset(self.tenant).filter(contact=contact))


class ListItemsView(SandboxApiView):
    def get(self, request: HttpRequest, list_name: str) -> JsonResponse:
        items = ListItem.objects.filter(tenant=self.tenant, list_name=ListName(list_name.lower()))
        return JsonResponse([{"Id": item.item_id, "Name": item.name, "Deleted": False, "Rank": item.rank}
                             for item in items.order_by("rank", "item_id")], safe=False)


class ChangeFeedView(SandboxApiView):
    """Row changes after ``since`` in sequence order (SPEC §9): what a mirror reads to stay current."""

    def get(self, request: HttpRequest) -> JsonResponse:
        params = {key.lower(): value for key, value in request.GET.items()}
        try:
            since = parse_int("since", params.get("since"), default=0, minimum=0, maximum=2**62)
            top = parse_int("$top", params.get("$top"), default=DEFAULT_TOP, minimum=1, maximum=MAX_TOP)
        except QueryError as exc:
            return error(400, str(exc))
        changes = ChangeRecord.objects.filter(tenant=self.tenant, sequence__gt=since)
        table = params.get("table", "").strip()
        if table:
            entity = entity_for_table(table)
            if entity is None:
                return error(400, f"table: unknown table '{table[:40]}'; use one of {', '.join(ENTITIES)}.")
            changes = changes.filter(table=entity.name)
        rows = list(changes.order_by("sequence")[:top + 1])
        page = rows[:top]
        answer: dict = {
            "value": [{"Sequence": c.sequence, "Table": c.table, "RowId": c.row_id, "Action": c.action,
                       "Timestamp": iso(c.at)} for c in page],
            "LastSequence": page[-1].sequence if page else since,
        }
        if len(rows) > top:
            params_next = request.GET.copy()
            for key in [k for k in params_next if k.lower() == "since"]:
                del params_next[key]
            params_next["since"] = str(page[-1].sequence)
            answer["odata.nextLink"] = request.build_absolute_uri(
                f"{request.path}?{params_next.urlencode(safe='$,')}")
        return JsonResponse(answer)


class NotFoundView(SandboxApiView):
    def allowed_methods(self) -> set[str]:
        return {"GET", "POST", "PUT", "DELETE", "PATCH"}

    def _missing(self, request: HttpRequest, rest: str) -> JsonResponse:
        return error(404, "No such resource in this CRM API.")

    get = post = put = delete = patch = _missing
