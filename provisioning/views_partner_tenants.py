"""The partner's customers in the portal: tenants that authorized one of the partner's apps,
with search, filters, paging and a CSV export of the same filtered list.

Rows come only through the current partner's apps (see partner_tenant_selectors); the page
and the export need the member's ``read`` permission.
"""

import csv
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, StreamingHttpResponse
from django.shortcuts import render
from django.urls import path
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from appstore.models import PartnerMember
from appstore.views.common import portal_view
from tenants.models import Environment

from . import partner_tenant_selectors as selectors
from .models import Authorization, AuthorizationStatus
from .partner_tenant_forms import PartnerTenantFilterForm

PAGE_SIZE = 50
CSV_COLUMNS = ["Company", "Context identifier", "Environment", "Tenant state", "App", "Status",
               "Needs re-approval", "Approved by", "Approved at (UTC)", "Valid to (UTC)"]
# A spreadsheet runs a cell starting with one of these as a formula (OWASP "CSV injection").
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def filter_form(request: HttpRequest, member: PartnerMember, environments) -> PartnerTenantFilterForm:
    form = PartnerTenantFilterForm(request.GET or None, partner=member.partner, environments=environments)
    if form.is_bound:
        form.is_valid()
    return form


def filter_problems(form: PartnerTenantFilterForm) -> list[str]:
    """One line per refused filter: its label and why, for the page's notice and the CSV's 400."""
    return [f"{form.fields[name].label or name.capitalize()} ({name}): {' '.join(errors)}"
            for name, errors in form.errors.items()]


@never_cache
@require_safe
@portal_view("read")
def partner_tenants(request: HttpRequest, member: PartnerMember) -> HttpResponse:
    environments = selectors.authorizing_tenant_counts(member.partner)
    form = filter_form(request, member, environments)
    rows = selectors.partner_authorizations(member.partner, form.filters())
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "provisioning/partner_tenants.html", {
        "member": member, "form": form, "page": page, "environments": environments,
        "filtered": form.is_bound and any(request.GET.get(name) for name in form.fields),
        "filter_problems": filter_problems(form),
    })


def safe_cell(value: object) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def shown_status(authorization: Authorization) -> str:
    if authorization.tenant_gone:
        return "Tenant deleted"
    return AuthorizationStatus(authorization.current_status).label


def approver(authorization: Authorization) -> str:
    if authorization.approved_by is not None:
        user = authorization.approved_by
        name = user.get_full_name()
        return f"{name} <{user.email}>" if name else user.email
    return "Platform staff" if authorization.activated_by_id else ""


def utc(moment: datetime | None) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M") if moment else ""


def csv_row(authorization: Authorization) -> list[str]:
    tenant = authorization.tenant
    return [safe_cell(value) for value in (
        tenant.company_name, tenant.context_identifier, tenant.environment.code, tenant.get_state_display(),
        authorization.app.name, shown_status(authorization),
        "yes" if authorization.needs_reapproval else "no",
        approver(authorization), utc(authorization.approved_at), utc(authorization.valid_to),
    )]


class _Echo:
    """A file-like object whose write returns the line, so csv.writer can feed a stream."""

    def write(self, value: str) -> str:
        return value


def csv_lines(rows: Iterable[Authorization]) -> Iterator[str]:
    writer = csv.writer(_Echo())
    yield writer.writerow(CSV_COLUMNS)
    for authorization in rows:
        yield writer.writerow(csv_row(authorization))


@never_cache
@require_safe
@portal_view("read")
def partner_tenants_csv(request: HttpRequest, member: PartnerMember) -> HttpResponse | StreamingHttpResponse:
    form = filter_form(request, member, Environment.objects.order_by("rank"))
    problems = filter_problems(form)
    if problems:
        # Exporting everything under a filter that was not applied would hand out the wrong list.
        return HttpResponseBadRequest("Nothing exported; fix this filter:\n" + "\n".join(problems) + "\n",
                                      content_type="text/plain; charset=utf-8")
    rows = selectors.partner_authorizations(member.partner, form.filters()).iterator(chunk_size=500)
    response = StreamingHttpResponse(csv_lines(rows), content_type="text/csv; charset=utf-8")
    stamp = timezone.now().strftime("%Y%m%d-%H%M")
    filename = f"{member.partner.seo_name}-customers-{stamp}.csv"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


portal_patterns = ([
    path("tenants/", partner_tenants, name="list"),
    path("tenants/export.csv", partner_tenants_csv, name="csv"),
], "portal-tenants")
