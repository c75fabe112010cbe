"""The partner REST API (/api/v1/): thin DRF views over the appstore services and selectors.

Every view acts in the token's partner only (another partner's object is a 404) and checks
the token creator's current permission flags there: "read" for every request, plus
"app_store" for listing writes and "configuration" for configuration writes.
"""

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions, generics, status
from rest_framework.permissions import SAFE_METHODS, BasePermission, IsAuthenticated
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.serializers import as_serializer_error
from rest_framework.views import exception_handler

from ..models import App, ConfigurationVersion, ListingVersion, VersionState
from ..selectors import api as selectors
from ..selectors import configuration as configuration_selectors
from ..services import configuration as configuration_services
from ..services import listings as listing_services
from . import serializers as s
from .authentication import ApiTokenAuthentication
from .filters import ENVIRONMENT_CHOICES, REQUEST_STATES, PublishRequestFilter
from .parsers import JSONParser

# ---------------------------------------------------------------- plumbing


def api_exception_handler(exc, context):
    """DRF's handler, plus: service ValidationErrors become 400s by field, and every error
    with a ``detail`` also carries its machine-readable ``code``."""
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(as_serializer_error(exc))
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied(" ".join(str(arg) for arg in exc.args) or None)
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound(str(exc) or None)
    response = exception_handler(exc, context)
    if response is not None and isinstance(exc, exceptions.APIException) and \
            isinstance(response.data, dict) and set(response.data) == {"detail"}:
        codes = exc.get_codes()
        if isinstance(codes, dict):
            codes = codes.get("detail")
        response.data["code"] = codes if isinstance(codes, str) else exc.default_code
    return response


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "The version's state does not allow this."
    default_code = "version_locked"


class HasPartnerPermission(BasePermission):
    """The token creator's current flags in the token's partner: read, plus the view's write flag."""

    message = "You do not have the permission this needs."
    code = "permission_denied"

    def has_permission(self, request, view) -> bool:
        member = request.auth.member
        needed = ["read"]
        if request.method not in SAFE_METHODS and view.write_permission:
            needed.append(view.write_permission)
        for permission in needed:
            if not member.has(permission):
                self.message = (f"You need the '{permission}' permission in {member.partner.name}; "
                                "an administrator of your company can grant it.")
                return False
        return True


ERROR_RESPONSES = {
    401: OpenApiResponse(s.ErrorSerializer, description="No token, or an invalid or revoked one."),
    403: OpenApiResponse(s.ErrorSerializer, description="A permission flag is missing; "
                                                        "the message names it."),
    404: OpenApiResponse(s.ErrorSerializer, description="No such object in the token's company."),
}
BAD_REQUEST = OpenApiResponse(s.FIELD_ERRORS_SCHEMA, description=(
    "Invalid input, by field. A field this request does not take (unknown, misspelt or "
    "read-only, such as id or state) is refused by name, never ignored."))
NO_INPUT_REFUSED = OpenApiResponse(s.FIELD_ERRORS_SCHEMA, description=(
    "The body held fields; this action takes none (each is refused by name)."))
PUBLISH_REFUSED = OpenApiResponse(s.PUBLISH_REFUSED_SCHEMA, description=(
    "The version is not complete yet (code incomplete, with missing), or the body held fields, "
    "which this action does not take (refused by name)."))
CONFLICT = OpenApiResponse(s.ErrorSerializer, description="The version's state does not allow this.")


class PartnerApiView(generics.GenericAPIView):
    authentication_classes = [ApiTokenAuthentication]
    parser_classes = [JSONParser]
    renderer_classes = [JSONRenderer]
    permission_classes = [IsAuthenticated, HasPartnerPermission]
    # The flag a write (POST, PATCH) needs besides "read"; None for read-only views.
    write_permission: str | None = None

    def get_exception_handler(self):
        return api_exception_handler

    @property
    def partner(self):
        return self.request.auth.partner

    def get_app(self) -> App:
        try:
            return selectors.api_app_of(self.partner, self.kwargs["app_id"])
        except App.DoesNotExist as exc:
            raise exceptions.NotFound("No such app in your company.") from exc


def incomplete(missing: list[str]) -> Response:
    return Response({"detail": "The version is not complete; see missing.", "code": "incomplete",
                     "missing": missing}, status=status.HTTP_400_BAD_REQUEST)


def codes_of(exc: DjangoValidationError) -> set[str]:
    return {error.code for error in exc.error_list} if hasattr(exc, "error_list") else {
        error.code for errors in exc.error_dict.values() for error in errors}


def refuse_input(request) -> None:
    """Actions without input (publish, withdraw) refuse a body with fields instead of ignoring it."""
    if request.data:
        s.NoInputSerializer(data=request.data).is_valid(raise_exception=True)


def require_editable(version) -> None:
    if not version.is_editable:
        raise Conflict(f"Version {version.label} is {version.get_state_display().lower()} "
                       "and cannot be changed.")


# ---------------------------------------------------------------- apps


@extend_schema(tags=["apps"], responses={200: s.AppSerializer, **ERROR_RESPONSES})
class AppList(PartnerApiView, generics.ListAPIView):
    """The company's apps with their clients per environment."""

    serializer_class = s.AppSerializer

    def get_queryset(self):
        return selectors.api_apps_of(self.partner)


@extend_schema(tags=["apps"], responses={200: s.AppSerializer, **ERROR_RESPONSES})
class AppDetail(PartnerApiView, generics.RetrieveAPIView):
    """One app: settings, review statuses and clients (never secret material)."""

    serializer_class = s.AppSerializer

    def get_object(self):
        return self.get_app()


# ---------------------------------------------------------------- listing versions


class ListingApiView(PartnerApiView):
    write_permission = "app_store"

    def get_listing(self) -> ListingVersion:
        try:
            return selectors.api_listing_of(self.partner, self.kwargs["app_id"], self.kwargs["pk"])
        except ListingVersion.DoesNotExist as exc:
            raise exceptions.NotFound("No such listing version of this app.") from exc

    def detail_response(self, listing: ListingVersion, status_code: int = 200) -> Response:
        listing = selectors.api_listing_of(self.partner, listing.app_id, listing.pk)
        missing = listing_services.missing_for_publish(listing) if listing.is_editable else []
        data = s.ListingDetailSerializer(listing, context={"missing": missing}).data
        return Response(data, status=status_code)


class ListingList(ListingApiView, generics.ListAPIView):
    serializer_class = s.ListingSerializer

    def get_queryset(self):
        self.get_app()
        return selectors.api_listings_of(self.partner, self.kwargs["app_id"])

    @extend_schema(tags=["listings"], summary="The app's store-listing versions, newest first",
                   responses={200: s.ListingSerializer, **ERROR_RESPONSES})
    def get(self, request, *args, **kwargs):
        return self.list(request, *args, **kwargs)

    @extend_schema(tags=["listings"], summary="Open a new listing version (a copy of the latest)",
                   request=s.ListingCreateSerializer,
                   responses={201: s.ListingDetailSerializer, 400: BAD_REQUEST, **ERROR_RESPONSES})
    def post(self, request, *args, **kwargs):
        app = self.get_app()
        serializer = s.ListingCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        listing = listing_services.create_listing_version(
            actor=request.user, app=app, label=serializer.validated_data.get("label", "").strip())
        return self.detail_response(listing, status.HTTP_201_CREATED)


class ListingDetail(ListingApiView):
    http_method_names = ["get", "patch", "head", "options"]
    serializer_class = s.ListingDetailSerializer

    @extend_schema(tags=["listings"], summary="One listing version, with what blocks publishing",
                   responses={200: s.ListingDetailSerializer, **ERROR_RESPONSES})
    def get(self, request, *args, **kwargs):
        return self.detail_response(self.get_listing())

    @extend_schema(tags=["listings"], summary="Change a draft or rejected listing version",
                   request=s.ListingUpdateSerializer,
                   responses={200: s.ListingDetailSerializer, 400: BAD_REQUEST, 409: CONFLICT,
                              **ERROR_RESPONSES})
    def patch(self, request, *args, **kwargs):
        listing = self.get_listing()
        require_editable(listing)
        serializer = s.ListingUpdateSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        listing_services.update_listing(actor=request.user, listing=listing,
                                        **serializer.service_arguments())
        return self.detail_response(listing)


class ListingRequestPublish(ListingApiView):
    serializer_class = s.ListingDetailSerializer

    @extend_schema(tags=["listings"], summary="Request publishing: locks the version for review",
                   request=None,
                   responses={200: s.ListingDetailSerializer, 400: PUBLISH_REFUSED,
                              409: CONFLICT, **ERROR_RESPONSES})
    def post(self, request, *args, **kwargs):
        listing = self.get_listing()
        require_editable(listing)
        refuse_input(request)
        missing = listing_services.missing_for_publish(listing)
        if not missing:
            try:
                listing = listing_services.request_publish(actor=request.user, listing=listing)
            except DjangoValidationError as exc:
                missing = exc.messages
        if missing:
            return incomplete(missing)
        return self.detail_response(listing)


class ListingWithdraw(ListingApiView):
    serializer_class = s.ListingDetailSerializer

    @extend_schema(tags=["listings"], summary="Withdraw a pending request; the version is a draft again",
                   request=None, responses={200: s.ListingDetailSerializer, 400: NO_INPUT_REFUSED,
                                            409: CONFLICT, **ERROR_RESPONSES})
    def post(self, request, *args, **kwargs):
        listing = self.get_listing()
        if listing.state != VersionState.PENDING:
            raise Conflict(f"Version {listing.label} is not pending; only a pending request "
                           "can be withdrawn.")
        refuse_input(request)
        listing = listing_services.withdraw_request(actor=request.user, listing=listing)
        return self.detail_response(listing)


# ---------------------------------------------------------------- configuration versions


STALE_CODE = configuration_services.STALE_FORM_CODE


class ConfigurationApiView(PartnerApiView):
    write_permission = "configuration"

    def get_version(self) -> ConfigurationVersion:
        try:
            return configuration_selectors.configuration_of(self.partner, self.kwargs["app_id"],
                                                            self.kwargs["pk"])
        except ConfigurationVersion.DoesNotExist as exc:
            raise exceptions.NotFound("No such configuration version of this app.") from exc

    def detail_response(self, version: ConfigurationVersion, status_code: int = 200) -> Response:
        version = configuration_selectors.configuration_of(self.partner, version.app_id, version.pk)
        missing = configuration_services.missing_for_publish(version) if version.is_editable else []
        data = s.ConfigurationDetailSerializer(version, context={"missing": missing}).data
        return Response(data, status=status_code)


class ConfigurationList(ConfigurationApiView, generics.ListAPIView):
    serializer_class = s.ConfigurationSerializer

    def get_queryset(self):
        self.get_app()
        return configuration_selectors.configuration_versions_of(self.partner, self.kwargs["app_id"])

    @extend_schema(tags=["configurations"],
                   summary="The app's configuration versions in every environment, newest first",
                   responses={200: s.ConfigurationSerializer, **ERROR_RESPONSES})
    def get(self, request, *args, **kwargs):
        return self.list(request, *args, **kwargs)

    @extend_schema(tags=["configurations"],
                   summary="Open a new configuration version for one environment",
                   description="A copy of the app's latest version in any environment; refused "
                               "while that environment has an open (draft, pending or rejected) one.",
                   request=s.ConfigurationCreateSerializer,
                   responses={201: s.ConfigurationDetailSerializer, 400: BAD_REQUEST, **ERROR_RESPONSES})
    def post(self, request, *args, **kwargs):
        app = self.get_app()
        serializer = s.ConfigurationCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        version = configuration_services.create_configuration_version(
            actor=request.user, app=app, environment=serializer.validated_data["environment"],
            label=serializer.validated_data.get("label", ""))
        return self.detail_response(version, status.HTTP_201_CREATED)


class ConfigurationDetail(ConfigurationApiView):
    http_method_names = ["get", "patch", "head", "options"]
    serializer_class = s.ConfigurationDetailSerializer

    @extend_schema(tags=["configurations"],
                   summary="One configuration version, with what blocks publishing",
                   responses={200: s.ConfigurationDetailSerializer, **ERROR_RESPONSES})
    def get(self, request, *args, **kwargs):
        return self.detail_response(self.get_version())

    @extend_schema(tags=["configurations"], summary="Change a draft or rejected configuration version",
                   request=s.ConfigurationUpdateSerializer,
                   responses={200: s.ConfigurationDetailSerializer, 400: BAD_REQUEST,
                              409: OpenApiResponse(s.ErrorSerializer, description=(
                                  "The version is locked, or changed since seen_updated_at.")),
                              **ERROR_RESPONSES})
    def patch(self, request, *args, **kwargs):
        version = self.get_version()
        require_editable(version)
        serializer = s.ConfigurationUpdateSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        fields = dict(serializer.validated_data)
        seen = fields.pop("seen_updated_at", None)
        try:
            configuration_services.update_configuration_version(
                actor=request.user, version=version, seen_updated_at=seen, **fields)
        except DjangoValidationError as exc:
            if STALE_CODE in codes_of(exc):
                raise Conflict(" ".join(exc.messages), code=STALE_CODE) from exc
            raise
        return self.detail_response(version)


class ConfigurationPublish(ConfigurationApiView):
    serializer_class = s.ConfigurationDetailSerializer

    @extend_schema(tags=["configurations"],
                   summary="Publish (sod) or request publishing (stage, online)",
                   description="A sod version is published at once. A stage or online version is "
                               "locked and waits for staff review (state pending).",
                   request=None,
                   responses={200: s.ConfigurationDetailSerializer, 400: PUBLISH_REFUSED,
                              409: CONFLICT, **ERROR_RESPONSES})
    def post(self, request, *args, **kwargs):
        version = self.get_version()
        require_editable(version)
        refuse_input(request)
        missing = configuration_services.missing_for_publish(version)
        if not missing:
            try:
                version = configuration_services.publish_configuration(actor=request.user, version=version)
            except DjangoValidationError as exc:
                missing = exc.messages
        if missing:
            return incomplete(missing)
        return self.detail_response(version)


class ConfigurationWithdraw(ConfigurationApiView):
    serializer_class = s.ConfigurationDetailSerializer

    @extend_schema(tags=["configurations"],
                   summary="Withdraw a pending request; the version is a draft again",
                   request=None, responses={200: s.ConfigurationDetailSerializer,
                                            400: NO_INPUT_REFUSED, 409: CONFLICT, **ERROR_RESPONSES})
    def post(self, request, *args, **kwargs):
        version = self.get_version()
        if version.state != VersionState.PENDING:
            raise Conflict(f"Version {version.label} is not pending; only a pending request "
                           "can be withdrawn.")
        refuse_input(request)
        version = configuration_services.withdraw_configuration_request(actor=request.user,
                                                                        version=version)
        return self.detail_response(version)


# ---------------------------------------------------------------- publish requests


@extend_schema(
    tags=["requests"],
    parameters=[
        OpenApiParameter("state", str, enum=[value for value, _ in REQUEST_STATES],
                         description="Only requests in this state."),
        OpenApiParameter("kind", str, enum=list(selectors.REQUEST_KINDS),
                         description="Only listing or only configuration versions."),
        OpenApiParameter("app", int, description="Only this app's requests."),
        OpenApiParameter("environment", str, enum=[value for value, _ in ENVIRONMENT_CHOICES],
                         description="Only this environment."),
    ],
    responses={200: s.PublishRequestSerializer, 400: BAD_REQUEST, **ERROR_RESPONSES},
)
class PublishRequestList(PartnerApiView, generics.ListAPIView):
    """The company's publish requests: pending ones, and decided ones with the reviewer's reason."""

    serializer_class = s.PublishRequestSerializer

    def get_queryset(self):
        parts = []
        for kind in selectors.REQUEST_KINDS:
            filterset = PublishRequestFilter(self.request.query_params, kind=kind,
                                             queryset=selectors.publish_requests_of(self.partner, kind))
            if not filterset.is_valid():
                raise exceptions.ValidationError(filterset.errors)
            parts.append(filterset.qs)
        return selectors.combine_publish_requests(*parts)
