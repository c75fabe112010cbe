"""What the partner API shows and accepts. Serializers parse and present; services write.

Nothing here ever reads a client secret's hash or a private key: clients show only whether
a secret or certificate exists, with its public facts (expiry, fingerprint).
"""

import functools
from collections.abc import Mapping

from django.urls import reverse
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from ..models import (
    App,
    Category,
    ClientCertificate,
    ConfigurationVersion,
    EndpointKind,
    Language,
    LinkKind,
    ListingImage,
    ListingLink,
    ListingVersion,
    ListingVideo,
    Market,
    UrlScope,
    VersionState,
)
from ..services.configuration_fields import MAX_CONSENT_LENGTH, STAFF_FIELDS, URL_FIELDS
from ..services.listings import (
    LINK_LABEL_MAX_LENGTH,
    LINK_URL_MAX_LENGTH,
    LISTING_FIELDS,
    MAX_VIDEO_DESCRIPTION_LENGTH,
)
from ..urlrules import MAX_URL_LENGTH
from .filters import REQUEST_KIND_CHOICES

# ---------------------------------------------------------------- errors (documentation only)


class ErrorSerializer(serializers.Serializer):
    detail = serializers.CharField()
    code = serializers.CharField()


FIELD_ERRORS_SCHEMA = {
    "type": "object",
    "description": "Messages per field name (non_field_errors for the version as a whole).",
    "additionalProperties": {},
}
# A publish request refused: the version is incomplete, or the body held fields.
INCOMPLETE_SCHEMA = {
    "type": "object",
    "properties": {"detail": {"type": "string"}, "code": {"type": "string", "enum": ["incomplete"]},
                   "missing": {"type": "array", "items": {"type": "string"},
                               "description": "What still blocks the publish request."}},
    "required": ["detail", "code", "missing"],
}
PUBLISH_REFUSED_SCHEMA = {"anyOf": [INCOMPLETE_SCHEMA, FIELD_ERRORS_SCHEMA]}


# ---------------------------------------------------------------- strict input

READ_ONLY_MESSAGE = "Read-only; this field cannot be written."
SET_WITH_PATCH_MESSAGE = "Not taken when creating a version; change it with PATCH on the new version."
NO_INPUT_MESSAGE = "This action takes no input; change the version with PATCH first."


class StrictInputMixin:
    """Input that names every field it does not take, instead of silently dropping it.

    A field the API shows but never accepts here is refused as read-only (or with the message
    ``refused_messages`` gives for it); any other unknown name is refused with the list of
    accepted fields. The errors are reported together with the other fields' errors.
    """

    def refused_messages(self) -> dict[str, str]:
        """Messages for names this input refuses on purpose, by name."""
        return {}

    def refused_fields(self, data) -> dict[str, list[str]]:
        if not isinstance(data, Mapping):
            return {}
        writable = [name for name, field in self.fields.items() if not field.read_only]
        unknown = [key for key in data if key not in writable]
        if not unknown:
            return {}
        messages = self.refused_messages()
        accepted = ", ".join(writable) if writable else "none (send an empty body)"
        return {key: [messages.get(key) or f"Unknown field; accepted fields: {accepted}."]
                for key in unknown}

    def to_internal_value(self, data):
        refused = self.refused_fields(data)
        try:
            value = super().to_internal_value(data)
        except serializers.ValidationError as exc:
            if not refused or not isinstance(exc.detail, Mapping):
                raise
            raise serializers.ValidationError({**exc.detail, **refused}) from exc
        if refused:
            raise serializers.ValidationError(refused)
        return value


@functools.cache
def field_names(serializer_class: type[serializers.Serializer], *, writable: bool = False) -> frozenset[str]:
    """The names a serializer shows, or (writable=True) the names it takes."""
    return frozenset(name for name, field in serializer_class().fields.items()
                     if not (writable and field.read_only))


def shown_but_not_taken(*, shown: type, taken: type, patch: type | None = None) -> dict[str, str]:
    """Messages for the fields ``shown`` presents that ``taken`` does not accept: read-only, or,
    for a field the ``patch`` serializer accepts, a pointer to PATCH."""
    accepted = field_names(taken, writable=True)
    later = field_names(patch, writable=True) if patch else frozenset()
    return {name: SET_WITH_PATCH_MESSAGE if name in later else READ_ONLY_MESSAGE
            for name in field_names(shown) if name not in accepted}


class NoInputSerializer(StrictInputMixin, serializers.Serializer):
    """The body of an action that takes no input (publish, withdraw): none, or {}."""

    def refused_fields(self, data) -> dict[str, list[str]]:
        if not isinstance(data, Mapping):
            return {}
        return {key: [NO_INPUT_MESSAGE] for key in data}


# ---------------------------------------------------------------- nested input


class WholeObjectSerializer(StrictInputMixin, serializers.Serializer):
    """A nested object that is always given whole, even inside a partial update.

    DRF passes the root's partial=True down to nested fields, which would make every field of
    a video or link optional; here a missing required field is an error at its index instead.
    """

    def to_internal_value(self, data):
        absent = {}
        if isinstance(data, Mapping):
            absent = {name: [field.error_messages["required"]] for name, field in self.fields.items()
                      if field.required and not field.read_only and name not in data}
        try:
            value = super().to_internal_value(data)
        except serializers.ValidationError as exc:
            if not absent or not isinstance(exc.detail, Mapping):
                raise
            raise serializers.ValidationError({**exc.detail, **absent}) from exc
        if absent:
            raise serializers.ValidationError(absent)
        return value


# ---------------------------------------------------------------- apps


class CertificateSerializer(serializers.ModelSerializer):
    class Meta:
        model = ClientCertificate
        fields = ["fingerprint", "key_bits", "description", "origin", "expires_at", "approved_at"]
        read_only_fields = fields


class ClientSerializer(serializers.Serializer):
    """An app's OAuth client in one environment, without any secret material."""

    environment = serializers.CharField(source="environment.code", read_only=True)
    client_id = serializers.CharField(read_only=True)
    has_secret = serializers.SerializerMethodField()
    secret_expires_at = serializers.SerializerMethodField()
    has_certificate = serializers.SerializerMethodField()
    certificate = serializers.SerializerMethodField()

    def get_has_secret(self, client) -> bool:
        return hasattr(client, "secret")

    @extend_schema_field(serializers.DateTimeField(allow_null=True))
    def get_secret_expires_at(self, client):
        secret = getattr(client, "secret", None)
        return serializers.DateTimeField().to_representation(secret.expires_at) if secret else None

    def get_has_certificate(self, client) -> bool:
        return hasattr(client, "certificate")

    @extend_schema_field(CertificateSerializer(allow_null=True))
    def get_certificate(self, client):
        certificate = getattr(client, "certificate", None)
        return CertificateSerializer(certificate).data if certificate else None


class AppSerializer(serializers.ModelSerializer):
    technical_contact_email = serializers.EmailField(source="technical_contact.email", read_only=True,
                                                     allow_null=True)
    clients = ClientSerializer(many=True, read_only=True)

    class Meta:
        model = App
        fields = ["id", "name", "seo_name", "template", "is_custom", "is_beta", "is_native",
                  "technical_contact_email", "certification_status", "security_audit_status",
                  "created_at", "updated_at", "clients"]
        read_only_fields = fields


# ---------------------------------------------------------------- versions (shared)

VERSION_FIELDS = ["id", "app_id", "environment", "label", "state", "is_editable", "is_live",
                  "created_at", "updated_at", "submitted_at", "reviewed_at", "review_reason",
                  "published_at", "superseded_at"]


class VersionSerializer(serializers.ModelSerializer):
    """What every reviewed version shows: its state in the publish workflow."""

    app_id = serializers.IntegerField(read_only=True)
    environment = serializers.CharField(source="environment.code", read_only=True)
    is_editable = serializers.BooleanField(read_only=True)
    is_live = serializers.BooleanField(read_only=True)


# ---------------------------------------------------------------- listing versions


class ListingLinkSerializer(serializers.ModelSerializer):
    class Meta:
        model = ListingLink
        fields = ["kind", "url", "label"]


class ListingVideoSerializer(serializers.ModelSerializer):
    class Meta:
        model = ListingVideo
        fields = ["youtube_id", "description"]


class ListingImageSerializer(serializers.ModelSerializer):
    url = serializers.CharField(source="image.url", read_only=True)

    class Meta:
        model = ListingImage
        fields = ["id", "kind", "url", "alt_text", "width", "height", "position"]
        read_only_fields = fields


class ListingSerializer(VersionSerializer):
    categories = serializers.SlugRelatedField(many=True, read_only=True, slug_field="slug")
    languages = serializers.SlugRelatedField(many=True, read_only=True, slug_field="code")
    markets = serializers.SlugRelatedField(many=True, read_only=True, slug_field="slug")
    key_features = serializers.ListField(child=serializers.CharField(), read_only=True)
    install_steps = serializers.ListField(child=serializers.CharField(), read_only=True)
    links = ListingLinkSerializer(many=True, read_only=True)
    videos = ListingVideoSerializer(many=True, read_only=True)
    images = ListingImageSerializer(many=True, read_only=True)

    class Meta:
        model = ListingVersion
        fields = [*VERSION_FIELDS, *(f for f in LISTING_FIELDS if f != "label"),
                  "categories", "languages", "markets", "links", "videos", "images"]
        read_only_fields = fields


class ListingDetailSerializer(ListingSerializer):
    missing_for_publish = serializers.SerializerMethodField()

    class Meta(ListingSerializer.Meta):
        fields = [*ListingSerializer.Meta.fields, "missing_for_publish"]
        read_only_fields = fields

    def get_missing_for_publish(self, listing) -> list[str]:
        return self.context.get("missing", [])


class ListingCreateSerializer(StrictInputMixin, serializers.Serializer):
    label = serializers.CharField(max_length=64, required=False, allow_blank=True,
                                  help_text="Defaults to the next number after the latest version's.")

    def refused_messages(self) -> dict[str, str]:
        return shown_but_not_taken(shown=ListingDetailSerializer, taken=ListingCreateSerializer,
                                   patch=ListingUpdateSerializer)


class LinkInputSerializer(WholeObjectSerializer):
    kind = serializers.ChoiceField(choices=LinkKind.choices)
    url = serializers.URLField(max_length=LINK_URL_MAX_LENGTH)
    label = serializers.CharField(max_length=LINK_LABEL_MAX_LENGTH, required=False, allow_blank=True)


class VideoInputSerializer(WholeObjectSerializer):
    youtube_id = serializers.CharField(max_length=11, validators=[ListingVideo.youtube_id_validator])
    description = serializers.CharField(max_length=MAX_VIDEO_DESCRIPTION_LENGTH)


class ListingUpdateSerializer(StrictInputMixin, serializers.ModelSerializer):
    """A partial update of a draft or rejected listing version.

    ``links`` and ``videos``, when given, replace the version's whole set.
    """

    key_features = serializers.ListField(child=serializers.CharField(allow_blank=False))
    install_steps = serializers.ListField(child=serializers.CharField(allow_blank=False))
    categories = serializers.SlugRelatedField(many=True, slug_field="slug",
                                              queryset=Category.objects.all())
    languages = serializers.SlugRelatedField(many=True, slug_field="code",
                                             queryset=Language.objects.all())
    markets = serializers.SlugRelatedField(many=True, slug_field="slug", queryset=Market.objects.all())
    links = LinkInputSerializer(many=True)
    videos = VideoInputSerializer(many=True)

    class Meta:
        model = ListingVersion
        fields = [*LISTING_FIELDS, "categories", "languages", "markets", "links", "videos"]

    def refused_messages(self) -> dict[str, str]:
        return shown_but_not_taken(shown=ListingDetailSerializer, taken=ListingUpdateSerializer)

    def validate_links(self, links: list[dict]) -> dict[str, dict]:
        kinds = [link["kind"] for link in links]
        duplicates = sorted({kind for kind in kinds if kinds.count(kind) > 1})
        if duplicates:
            raise serializers.ValidationError(f"One link per kind; repeated: {', '.join(duplicates)}.")
        return {link["kind"]: {"url": link["url"], "label": link.get("label", "")} for link in links}

    def service_arguments(self) -> dict:
        """The validated data as update_listing's keyword arguments."""
        data = dict(self.validated_data)
        relations = {name: data.pop(name) for name in ("categories", "languages", "markets",
                                                       "links", "videos") if name in data}
        return {"fields": data, **relations}


# ---------------------------------------------------------------- configuration versions


class UrlListsSerializer(serializers.Serializer):
    """URL entries per scope: "all" environments or one environment's code.

    An entry may be as long as the portal allows (urlrules.MAX_URL_LENGTH); the service applies
    urlrules, which also holds a regular expression to its shorter limit.
    """

    all = serializers.ListField(child=serializers.CharField(max_length=MAX_URL_LENGTH), required=False)
    sod = serializers.ListField(child=serializers.CharField(max_length=MAX_URL_LENGTH), required=False)
    stage = serializers.ListField(child=serializers.CharField(max_length=MAX_URL_LENGTH), required=False)
    online = serializers.ListField(child=serializers.CharField(max_length=MAX_URL_LENGTH), required=False)

    def to_internal_value(self, data):
        unknown = set(data) - set(self.fields) if isinstance(data, Mapping) else set()
        if unknown:
            raise serializers.ValidationError(
                {key: [f"Unknown scope; use one of {', '.join(UrlScope.values)}."] for key in unknown})
        return super().to_internal_value(data)


class EndpointSerializer(WholeObjectSerializer):
    """An endpoint is given whole, even inside a partial update."""

    url = serializers.CharField(max_length=MAX_URL_LENGTH, allow_blank=True)
    enabled = serializers.BooleanField()
    send_error_emails = serializers.BooleanField()


class EndpointsSerializer(serializers.Serializer):
    """Integration endpoints of the version's environment, by kind."""

    state_change = EndpointSerializer(required=False, help_text=EndpointKind.STATE_CHANGE.label)
    erp_sync = EndpointSerializer(required=False, help_text=EndpointKind.ERP_SYNC.label)
    mirroring = EndpointSerializer(required=False, help_text=EndpointKind.MIRRORING.label)
    quote = EndpointSerializer(required=False, help_text=EndpointKind.QUOTE.label)

    def to_internal_value(self, data):
        unknown = set(data) - set(self.fields) if isinstance(data, Mapping) else set()
        if unknown:
            raise serializers.ValidationError(
                {key: [f"Unknown endpoint kind; use one of {', '.join(EndpointKind.values)}."]
                 for key in unknown})
        return super().to_internal_value(data)


class ConfigurationSerializer(VersionSerializer):
    redirect_urls = UrlListsSerializer(read_only=True)
    post_logout_redirect_urls = UrlListsSerializer(read_only=True)
    cors_origins = UrlListsSerializer(read_only=True)
    endpoints = EndpointsSerializer(read_only=True)
    api_endpoints = serializers.ListField(child=serializers.CharField(), read_only=True)
    agents = serializers.ListField(child=serializers.CharField(), read_only=True)
    claims = serializers.ListField(child=serializers.CharField(), read_only=True)
    custom_claims = serializers.DictField(child=serializers.CharField(), read_only=True)
    widened = serializers.ListField(child=serializers.CharField(), read_only=True)

    class Meta:
        model = ConfigurationVersion
        fields = [*VERSION_FIELDS, *URL_FIELDS, "endpoints", "consent_text",
                  *STAFF_FIELDS, "widened"]
        read_only_fields = fields


class ConfigurationDetailSerializer(ConfigurationSerializer):
    missing_for_publish = serializers.SerializerMethodField()

    class Meta(ConfigurationSerializer.Meta):
        fields = [*ConfigurationSerializer.Meta.fields, "missing_for_publish"]
        read_only_fields = fields

    def get_missing_for_publish(self, version) -> list[str]:
        return self.context.get("missing", [])


class ConfigurationCreateSerializer(StrictInputMixin, serializers.Serializer):
    environment = serializers.ChoiceField(choices=[c for c in UrlScope.choices if c[0] != UrlScope.ALL])
    label = serializers.CharField(max_length=64, required=False, allow_blank=True,
                                  help_text="Defaults to the next number after the latest version's.")

    def refused_messages(self) -> dict[str, str]:
        return shown_but_not_taken(shown=ConfigurationDetailSerializer,
                                   taken=ConfigurationCreateSerializer,
                                   patch=ConfigurationUpdateSerializer)


class ConfigurationUpdateSerializer(StrictInputMixin, serializers.Serializer):
    """A partial update of a draft or rejected configuration version.

    A URL list or ``endpoints``, when given, replaces the stored one as a whole. Staff-only
    settings (agents, claims, …) are refused.
    """

    label = serializers.CharField(max_length=64)
    redirect_urls = UrlListsSerializer()
    post_logout_redirect_urls = UrlListsSerializer()
    cors_origins = UrlListsSerializer()
    endpoints = EndpointsSerializer()
    consent_text = serializers.CharField(allow_blank=True, max_length=MAX_CONSENT_LENGTH)
    seen_updated_at = serializers.DateTimeField(
        write_only=True, help_text="The version's updated_at as you last read it: if the version "
                                   "changed since, nothing is saved (409).")

    def refused_messages(self) -> dict[str, str]:
        return {**shown_but_not_taken(shown=ConfigurationDetailSerializer,
                                      taken=ConfigurationUpdateSerializer),
                **dict.fromkeys(STAFF_FIELDS, "Only platform staff may change this setting.")}


# ---------------------------------------------------------------- publish requests


class PublishRequestSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=REQUEST_KIND_CHOICES, read_only=True)
    id = serializers.IntegerField(read_only=True)
    app_id = serializers.IntegerField(read_only=True)
    app_name = serializers.CharField(read_only=True)
    environment = serializers.CharField(source="environment_code", read_only=True)
    label = serializers.CharField(read_only=True)
    state = serializers.ChoiceField(choices=VersionState.choices, read_only=True)
    submitted_at = serializers.DateTimeField(read_only=True, allow_null=True)
    submitted_by = serializers.EmailField(source="submitted_by_email", read_only=True, allow_null=True)
    reviewed_at = serializers.DateTimeField(read_only=True, allow_null=True)
    review_reason = serializers.CharField(read_only=True)
    published_at = serializers.DateTimeField(read_only=True, allow_null=True)
    superseded_at = serializers.DateTimeField(read_only=True, allow_null=True)
    url = serializers.SerializerMethodField()

    def get_url(self, row) -> str:
        name = "api:listing" if row.kind == "listing" else "api:configuration"
        return self.context["request"].build_absolute_uri(reverse(name, args=[row.app_id, row.id]))
