"""Django admin for support staff: browsing and small fixes; workflows stay in the services."""

from django.contrib import admin

from .models import (
    App,
    AppClient,
    Category,
    ClientCertificate,
    ClientSecret,
    ConfigurationVersion,
    Invitation,
    Language,
    ListingVersion,
    Market,
    Partner,
    PartnerApiToken,
    PartnerMember,
    PartnerProfileVersion,
)


class PartnerMemberInline(admin.TabularInline):
    model = PartnerMember
    extra = 0
    raw_id_fields = ["user"]
    readonly_fields = ["joined_at"]


@admin.register(Partner)
class PartnerAdmin(admin.ModelAdmin):
    list_display = ["name", "seo_name", "technical_contact", "created_at"]
    search_fields = ["name", "seo_name"]
    raw_id_fields = ["administrative_contact", "technical_contact"]
    readonly_fields = ["created_at"]
    inlines = [PartnerMemberInline]


@admin.register(App)
class AppAdmin(admin.ModelAdmin):
    list_display = ["name", "partner", "template", "is_custom", "is_beta", "hidden_from_our_apps",
                    "install_count"]
    list_filter = ["template", "is_custom", "is_beta", "hidden_from_our_apps"]
    search_fields = ["name", "seo_name", "partner__name"]
    list_select_related = ["partner"]
    raw_id_fields = ["partner", "developed_by", "technical_contact"]
    readonly_fields = ["install_count", "created_at", "updated_at"]


@admin.register(ListingVersion)
class ListingVersionAdmin(admin.ModelAdmin):
    list_display = ["app", "label", "environment", "state", "submitted_at", "reviewed_at",
                    "published_at", "superseded_at"]
    list_filter = ["state", "environment"]
    search_fields = ["app__name", "app__partner__name", "label"]
    list_select_related = ["app", "environment"]
    raw_id_fields = ["app", "created_by"]
    filter_horizontal = ["categories", "languages", "markets"]
    # The review path owns these: approve and reject on /review/, not here.
    readonly_fields = ["state", "submitted_by", "submitted_at", "reviewed_by", "reviewed_at",
                       "review_reason", "published_at", "superseded_at", "search_text",
                       "created_at", "updated_at"]


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "rank"]
    list_editable = ["rank"]
    prepopulated_fields = {"slug": ["name"]}


@admin.register(Language)
class LanguageAdmin(admin.ModelAdmin):
    list_display = ["name", "code"]
    search_fields = ["name", "code"]


@admin.register(Market)
class MarketAdmin(admin.ModelAdmin):
    list_display = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}


# ---------------------------------------------------------------- client-ID registry (read-only)
# Credentials change only through the portal's services (audited). The admin shows what
# support needs and never a secret: the secret's hash is not even a field here.

class ReadOnlyAdminMixin:
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ClientSecretInline(ReadOnlyAdminMixin, admin.StackedInline):
    model = ClientSecret
    fields = ["expires_at", "created_by", "created_at"]
    readonly_fields = fields
    extra = 0


class ClientCertificateInline(ReadOnlyAdminMixin, admin.StackedInline):
    model = ClientCertificate
    fields = ["origin", "key_bits", "fingerprint", "description", "expires_at", "approved_at",
              "created_by", "created_at"]
    readonly_fields = fields
    extra = 0


@admin.register(AppClient)
class AppClientAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["client_id", "app", "environment", "created_at", "client_id_changed_at"]
    list_filter = ["environment"]
    search_fields = ["client_id", "app__name", "app__partner__name"]
    list_select_related = ["app", "environment"]
    fields = ["app", "environment", "client_id", "created_at", "client_id_changed_at"]
    readonly_fields = fields
    inlines = [ClientSecretInline, ClientCertificateInline]


@admin.register(ClientSecret)
class ClientSecretAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["client", "expires_at", "created_by", "created_at"]
    list_select_related = ["client__app", "client__environment", "created_by"]
    search_fields = ["client__client_id", "client__app__name"]
    exclude = ["secret_hash"]
    fields = ["client", "expires_at", "created_by", "created_at"]
    readonly_fields = fields


@admin.register(ClientCertificate)
class ClientCertificateAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["client", "origin", "key_bits", "expires_at", "approved_at", "created_at"]
    list_filter = ["origin", "client__environment"]
    list_select_related = ["client__app", "client__environment"]
    search_fields = ["client__client_id", "client__app__name", "fingerprint"]
    fields = ["client", "origin", "key_bits", "fingerprint", "public_key_pem", "description",
              "expires_at", "approved_at", "created_by", "created_at"]
    readonly_fields = fields


# Versions change only through the portal and review services (locks, audit, notifications);
# the admin shows them.

@admin.register(ConfigurationVersion)
class ConfigurationVersionAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["app", "label", "environment", "state", "submitted_at", "published_at", "superseded_at"]
    list_filter = ["state", "environment"]
    search_fields = ["app__name", "label"]
    list_select_related = ["app", "environment"]


@admin.register(PartnerProfileVersion)
class PartnerProfileVersionAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["partner", "label", "state", "submitted_at", "published_at"]
    list_filter = ["state"]
    search_fields = ["partner__name", "label"]
    list_select_related = ["partner"]


@admin.register(Invitation)
class InvitationAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["email", "partner", "created_at", "expires_at", "accepted_at", "revoked_at"]
    search_fields = ["email", "partner__name"]
    exclude = ["token_hash"]
    list_select_related = ["partner"]


@admin.register(PartnerApiToken)
class PartnerApiTokenAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["name", "prefix", "partner", "created_by", "created_at", "last_used_at", "revoked_at"]
    search_fields = ["name", "prefix", "partner__name"]
    exclude = ["token_hash"]
    list_select_related = ["partner", "created_by"]
