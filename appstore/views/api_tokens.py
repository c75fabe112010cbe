"""The portal's API tokens page: list, create (the token is shown once) and revoke.

A member sees their own tokens; a member with the users permission sees, and may revoke,
every token of the company. The raw token appears only in the response to the create
POST: never in the session, messages, logs or a redirect.
"""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import render
from django.urls import path, reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from ..forms import apply_service_errors
from ..forms.api_tokens import ApiTokenForm
from ..models import PartnerApiToken
from ..selectors.api import api_token_for, api_tokens_for
from ..services import api_tokens as token_services
from .common import portal_view


def render_tokens(request, member, *, form=None, created=None, raw_token=""):
    tokens = list(api_tokens_for(member))
    for token in tokens:
        token.may_revoke = token.is_active and token_services.can_revoke(user=request.user, token=token)
    response = render(request, "appstore/portal/api_tokens.html", {
        "member": member, "tokens": tokens, "form": form or ApiTokenForm(),
        "created": created, "raw_token": raw_token, "sees_all": member.has("users"),
    })
    return response


@never_cache
@portal_view("login")
def api_tokens(request, member):
    return render_tokens(request, member)


@never_cache
@portal_view("login")
@require_POST
def api_token_create(request, member):
    form = ApiTokenForm(request.POST)
    if form.is_valid():
        try:
            token, raw = token_services.create_api_token(
                actor=request.user, partner=member.partner, name=form.cleaned_data["name"])
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            # Rendered, not redirected: this response is the only place the token ever appears.
            return render_tokens(request, member, created=token, raw_token=raw)
    return render_tokens(request, member, form=form)


@portal_view("login")
@require_POST
def api_token_revoke(request, member, pk: int):
    try:
        token = api_token_for(member, pk)
    except PartnerApiToken.DoesNotExist as exc:
        raise Http404("No such API token in your company.") from exc
    try:
        token_services.revoke_api_token(actor=request.user, token=token)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, f"API token “{token.name}” is revoked; it no longer works.")
    return HttpResponseRedirect(reverse("portal:api_tokens"))


portal_urlpatterns = [
    path("api-tokens/", api_tokens, name="api_tokens"),
    path("api-tokens/new/", api_token_create, name="api_token_create"),
    path("api-tokens/<int:pk>/revoke/", api_token_revoke, name="api_token_revoke"),
]
