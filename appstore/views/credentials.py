"""The credentials part of an app's per-environment configuration: client ID, secret, certificate.

A new secret or a generated private key appears exactly once: in the HTML of the response
to the POST that created it, marked no-store. It is not put in the session, a message, a
redirect address or a log line, and the page cannot show it again.
"""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import render
from django.urls import path, reverse
from django.utils import timezone
from django.views.decorators.debug import sensitive_post_parameters, sensitive_variables
from django.views.decorators.http import require_POST

from .. import keys
from ..forms import apply_service_errors
from ..forms.credentials import CertificateGenerateForm, CertificateUploadForm, ConfirmForm
from ..models import AppClient
from ..selectors import credentials as credential_selectors
from ..services import credentials as credential_services
from .common import portal_view, require

CONFIRM_LABELS = {
    "regenerate": "I understand that the current Client ID stops working at once.",
    "secret_delete": "I understand that sign-ins with this secret stop working at once.",
    "certificate_delete": "I understand that tokens signed with this key are no longer accepted.",
}


def get_client(member, app_id: int, env: str) -> AppClient:
    try:
        return credential_selectors.client_of(member.partner, app_id, env)
    except AppClient.DoesNotExist as exc:
        raise Http404("No such app or environment in your company.") from exc


def page_url(client: AppClient) -> str:
    return reverse("portal:credentials", args=[client.app_id, client.environment.code])


def confirm_form(name: str, data=None) -> ConfirmForm:
    return ConfirmForm(data, prefix=name.replace("_", "-"), label=CONFIRM_LABELS[name])


@sensitive_variables("revealed_secret", "revealed_key")
def render_page(request, member, client: AppClient, *, forms: dict | None = None,
                revealed_secret: str = "", revealed_key: dict[str, str] | None = None,
                open_panel: str = ""):
    forms = forms or {}
    app = client.app
    env = client.environment.code
    certificate = credential_services.certificate_of(client)
    response = render(request, "appstore/portal/credentials.html", {
        "member": member, "app": app, "client": client,
        "clients": credential_selectors.clients_of(app),
        "status": credential_selectors.client_status(client),
        "secret": credential_services.secret_of(client),
        "certificate": certificate,
        "fingerprint": keys.fingerprint_display(certificate.fingerprint) if certificate else "",
        "can_configure": member.has("configuration"),
        "regenerate_form": forms.get("regenerate") or confirm_form("regenerate"),
        "secret_delete_form": forms.get("secret_delete") or confirm_form("secret_delete"),
        "certificate_delete_form": forms.get("certificate_delete") or confirm_form("certificate_delete"),
        "generate_form": forms.get("generate") or CertificateGenerateForm(),
        "upload_form": forms.get("upload") or CertificateUploadForm(),
        "open_panel": open_panel,
        "revealed_secret": revealed_secret,
        "revealed_key": revealed_key,
        "key_filename": f"{app.seo_name}-{env}-private-key",
        "now": timezone.now(),
    })
    if revealed_secret or revealed_key:
        # Shown once: no cache, no back-button copy.
        response["Cache-Control"] = "no-store"
        response["Pragma"] = "no-cache"
    return response


def writable_client(member, app_id: int, env: str) -> AppClient:
    """The client (404 when not the partner's), then the configuration permission (403)."""
    client = get_client(member, app_id, env)
    require(member, "configuration")
    return client


def show_errors(request, exc: ValidationError, prefix: str) -> None:
    messages.error(request, f"{prefix}: " + " ".join(exc.messages))


# ---------------------------------------------------------------- page

@portal_view("read")
def credentials(request, member, app_id: int, env: str):
    return render_page(request, member, get_client(member, app_id, env))


# ---------------------------------------------------------------- client ID

@require_POST
@portal_view("read")
def client_id_regenerate(request, member, app_id: int, env: str):
    client = writable_client(member, app_id, env)
    form = confirm_form("regenerate", request.POST)
    if not form.is_valid():
        return render_page(request, member, client, forms={"regenerate": form}, open_panel="regenerate")
    try:
        client = credential_services.regenerate_client_id(actor=request.user, client=client)
    except ValidationError as exc:
        form.add_error(None, exc.messages)
        return render_page(request, member, client, forms={"regenerate": form}, open_panel="regenerate")
    messages.success(request, f"New Client ID for {client.environment.name}: {client.client_id}. "
                              "Update your app; the old ID no longer works.")
    return HttpResponseRedirect(page_url(client))


# ---------------------------------------------------------------- secret

@require_POST
@portal_view("read")
@sensitive_variables("raw")
def secret_create(request, member, app_id: int, env: str):
    client = writable_client(member, app_id, env)
    try:
        _secret, raw = credential_services.create_secret(actor=request.user, client=client)
    except ValidationError as exc:
        show_errors(request, exc, "Client secret")
        return HttpResponseRedirect(page_url(client) + "#secret")
    # The page itself, not a redirect: this response is the one place the secret appears.
    return render_page(request, member, get_client(member, app_id, env), revealed_secret=raw)


@require_POST
@portal_view("read")
def secret_delete(request, member, app_id: int, env: str):
    client = writable_client(member, app_id, env)
    form = confirm_form("secret_delete", request.POST)
    if not form.is_valid():
        return render_page(request, member, client, forms={"secret_delete": form}, open_panel="secret_delete")
    try:
        credential_services.delete_secret(actor=request.user, client=client)
    except ValidationError as exc:
        show_errors(request, exc, "Client secret")
    else:
        messages.success(request, f"The client secret for {client.environment.name} is deleted.")
    return HttpResponseRedirect(page_url(client) + "#secret")


# ---------------------------------------------------------------- certificate

@require_POST
@portal_view("read")
@sensitive_variables("private_pem", "private_xml")
def certificate_generate(request, member, app_id: int, env: str):
    client = writable_client(member, app_id, env)
    form = CertificateGenerateForm(request.POST)
    if not form.is_valid():
        return render_page(request, member, client, forms={"generate": form})
    try:
        _certificate, private_pem, private_xml = credential_services.generate_certificate(
            actor=request.user, client=client, description=form.cleaned_data["description"],
            expires_at=form.expires_at(), key_bits=form.cleaned_data["key_bits"])
    except ValidationError as exc:
        if not hasattr(exc, "error_dict"):  # e.g. a certificate exists: the form is not on the page
            show_errors(request, exc, "Certificate")
            return HttpResponseRedirect(page_url(client) + "#certificate")
        apply_service_errors(form, exc)
        return render_page(request, member, client, forms={"generate": form})
    return render_page(request, member, get_client(member, app_id, env),
                       revealed_key={"pem": private_pem, "xml": private_xml})


@require_POST
@portal_view("read")
@sensitive_post_parameters("upload-public_key")
def certificate_upload(request, member, app_id: int, env: str):
    client = writable_client(member, app_id, env)
    form = CertificateUploadForm(request.POST, request.FILES)
    if not form.is_valid():
        return render_page(request, member, client, forms={"upload": form})
    try:
        certificate = credential_services.upload_certificate(
            actor=request.user, client=client, public_key_text=form.key_text(),
            description=form.cleaned_data["description"], expires_at=form.expires_at())
    except ValidationError as exc:
        if not hasattr(exc, "error_dict"):
            show_errors(request, exc, "Certificate")
            return HttpResponseRedirect(page_url(client) + "#certificate")
        for field, field_errors in exc.error_dict.items():
            if field == "public_key":
                if any(error.code == "private_key" for error in field_errors):
                    form.forget_key_text()  # never echo a private key back into the page
                field = form.key_field
            form.add_error(field if field in form.fields else None, field_errors)
        return render_page(request, member, client, forms={"upload": form})
    messages.success(request, f"Public key uploaded for {client.environment.name} "
                              f"(RSA {certificate.key_bits} bits).")
    return HttpResponseRedirect(page_url(client) + "#certificate")


@require_POST
@portal_view("read")
def certificate_delete(request, member, app_id: int, env: str):
    client = writable_client(member, app_id, env)
    form = confirm_form("certificate_delete", request.POST)
    if not form.is_valid():
        return render_page(request, member, client, forms={"certificate_delete": form},
                           open_panel="certificate_delete")
    try:
        credential_services.delete_certificate(actor=request.user, client=client)
    except ValidationError as exc:
        show_errors(request, exc, "Certificate")
    else:
        messages.success(request, f"The certificate for {client.environment.name} is deleted.")
    return HttpResponseRedirect(page_url(client) + "#certificate")


BASE = "apps/<int:app_id>/credentials/<slug:env>/"

portal_urlpatterns = [
    path(BASE, credentials, name="credentials"),
    path(BASE + "client-id/regenerate/", client_id_regenerate, name="client_id_regenerate"),
    path(BASE + "secret/create/", secret_create, name="secret_create"),
    path(BASE + "secret/delete/", secret_delete, name="secret_delete"),
    path(BASE + "certificate/generate/", certificate_generate, name="certificate_generate"),
    path(BASE + "certificate/upload/", certificate_upload, name="certificate_upload"),
    path(BASE + "certificate/delete/", certificate_delete, name="certificate_delete"),
]
