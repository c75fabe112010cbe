from django.contrib import admin

from .models import Environment, Tenant, TenantMember


@admin.register(Environment)
class EnvironmentAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "rank"]


class TenantMemberInline(admin.TabularInline):
    model = TenantMember
    extra = 0
    raw_id_fields = ["user"]


@admin.register(Tenant)
class TenantAdmin(admin.ModelAdmin):
    list_display = ["context_identifier", "environment", "company_name", "state"]
    list_filter = ["environment", "state"]
    search_fields = ["context_identifier", "company_name"]
    inlines = [TenantMemberInline]
    # States change only through the lifecycle services (the staff tenant pages and `manage.py tenant`),
    # which check the transition, audit it and notify the apps.
    readonly_fields = ["state", "state_reason", "state_changed_at"]

    def has_add_permission(self, request) -> bool:
        return False
