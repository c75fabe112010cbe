"""Read-only views of the login service's rows; secrets and private keys are never shown."""

from django.contrib import admin

from .models import (
    Authorization,
    DeliveryAttempt,
    LoginClient,
    ResourceServer,
    SigningKey,
    StateChangeNotification,
    SystemUserTicket,
)


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


# The client rows mirror the App Store's registry, which is where they are changed.
admin.site.unregister(LoginClient)


@admin.register(LoginClient)
class LoginClientAdmin(ReadOnlyAdmin):
    list_display = ["client_id", "name", "environment", "created"]
    list_filter = ["environment"]
    search_fields = ["client_id", "name"]
    fields = ["client_id", "name", "environment", "app_client", "created", "updated"]


@admin.register(Authorization)
class AuthorizationAdmin(ReadOnlyAdmin):
    list_display = ["app", "tenant", "status", "needs_reapproval", "approved_by", "approved_at"]
    list_filter = ["status", "needs_reapproval", "tenant__environment"]
    search_fields = ["app__name", "tenant__context_identifier", "tenant__company_name"]
    list_select_related = ["app", "tenant", "approved_by"]
    exclude = ["system_user_token"]


@admin.register(SigningKey)
class SigningKeyAdmin(ReadOnlyAdmin):
    list_display = ["kid", "environment", "state", "created_at", "published_until"]
    list_filter = ["environment", "state"]
    exclude = ["private_key_encrypted"]


@admin.register(ResourceServer)
class ResourceServerAdmin(ReadOnlyAdmin):
    list_display = ["name", "environment", "client_id", "created_at"]
    exclude = ["secret_hash"]


@admin.register(SystemUserTicket)
class SystemUserTicketAdmin(ReadOnlyAdmin):
    list_display = ["authorization", "created_at", "last_used_at"]
    exclude = ["checksum"]


class DeliveryAttemptInline(admin.TabularInline):
    model = DeliveryAttempt
    extra = 0
    can_delete = False
    fields = ["number", "attempted_at", "url", "status_code", "duration_ms", "error"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(StateChangeNotification)
class StateChangeNotificationAdmin(ReadOnlyAdmin):
    list_display = ["event_id", "app", "tenant", "change_type", "state", "attempts", "created_at"]
    list_filter = ["state", "change_type", "environment"]
    search_fields = ["event_id", "app__name", "tenant__context_identifier"]
    list_select_related = ["app", "tenant"]
    inlines = [DeliveryAttemptInline]
