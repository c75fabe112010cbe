"""Read-only pages of a tenant's sandbox CRM for demos: companies with search, and one company
with its persons. Signed-in staff see them; any signed-in user when CRM_SANDBOX_OPEN_VIEW is on."""

from django.conf import settings
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views import View

from .models import Contact, Person, SandboxTenant

PAGE_SIZE = 25


class SandboxPageView(LoginRequiredMixin, View):
    http_method_names = ["get", "head"]

    def dispatch(self, request: HttpRequest, *args, env: str, ctx: str, **kwargs) -> HttpResponse:
        if request.user.is_authenticated and not (
                request.user.is_staff or getattr(settings, "CRM_SANDBOX_OPEN_VIEW", False)):
            raise PermissionDenied("Only platform staff may look into a tenant's sandbox CRM.")
        # Read-only: a tenant nobody has called yet simply has no data; nothing is created here.
        self.env, self.ctx = env, ctx
        self.tenant = SandboxTenant.objects.filter(environment_code=env, context_identifier=ctx).first()
        return super().dispatch(request, *args, **kwargs)

    def context(self, **extra) -> dict:
        return {"env": self.env, "ctx": self.ctx, **extra}


class CompanyListView(SandboxPageView):
    def get(self, request: HttpRequest) -> HttpResponse:
        query = " ".join(request.GET.get("q", "").split())[:100]
        companies = Contact.objects.none()
        if self.tenant is not None:
            companies = (Contact.objects.filter(tenant=self.tenant).select_related("country", "category")
                         .annotate(person_count=Count("persons")).order_by("name", "pk"))
            if query:
                companies = companies.filter(Q(name__icontains=query) | Q(org_nr__icontains=query)
                                             | Q(number1__icontains=query) | Q(department__icontains=query))
        page = Paginator(companies, PAGE_SIZE).get_page(request.GET.get("page"))
        return render(request, "crm_sandbox/companies.html", self.context(page=page, q=query))


class CompanyDetailView(SandboxPageView):
    def get(self, request: HttpRequest, pk: str) -> HttpResponse:
        company = (Contact.objects.filter(tenant=self.tenant, pk=int(pk))
                   .select_related("country", "category", "business").first() if self.tenant else None)
        if company is None:
            raise Http404("No such company in this sandbox.")
        persons = (Person.objects.filter(tenant=self.tenant, contact=company).select_related("position")
                   .order_by("lastname", "firstname", "pk"))
        return render(request, "crm_sandbox/company.html", self.context(company=company, persons=persons))
