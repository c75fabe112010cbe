"""The partner's team in the portal: members, invitations, permissions, contact roles.

Reading needs the "read" permission; every change needs "users". Members, invitations and
apps are reached only through the current partner: another partner's id is a 404.
"""

from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from ..forms import apply_service_errors
from ..forms.team import (
    PERMISSION_TEXT,
    InviteForm,
    MemberPermissionsForm,
    ReassignContactsForm,
    RemoveMemberForm,
)
from ..models import Invitation, PartnerMember
from ..permissions import membership
from ..selectors import team as team_selectors
from ..selectors.partners import SESSION_KEY, apps_of
from ..services import team as team_services
from .common import portal_view, require


def get_member(member: PartnerMember, pk: int) -> PartnerMember:
    try:
        return team_selectors.member_of(member.partner, pk)
    except PartnerMember.DoesNotExist as exc:
        raise Http404("No such member in your company.") from exc


def get_invitation(member: PartnerMember, pk: int) -> Invitation:
    try:
        return team_selectors.open_invitation_of(member.partner, pk)
    except Invitation.DoesNotExist as exc:
        raise Http404("No such open invitation in your company.") from exc


PERMISSION_COLUMNS = [(name, PERMISSION_TEXT[name][0]) for name in PartnerMember.PERMISSIONS]


# ---------------------------------------------------------------- team

@portal_view("read")
def team(request, member):
    can_manage = member.has("users")
    form = InviteForm(request.POST or None)
    if request.method == "POST":
        require(member, "users")
        if form.is_valid():
            try:
                invitation = team_services.invite_member(
                    actor=request.user, partner=member.partner, email=form.cleaned_data["email"],
                    permissions=form.permissions())
            except ValidationError as exc:
                apply_service_errors(form, exc)
            else:
                # The same answer whether or not the address has an account.
                messages.success(request, f"Invitation sent to {invitation.email}. The link is valid for "
                                          f"{team_services.INVITATION_DAYS} days.")
                return redirect("portal:team")
    return render(request, "appstore/portal/team.html", {
        "member": member, "can_manage": can_manage, "form": form if can_manage else None,
        "members": team_selectors.members_with_roles(member.partner),
        "invitations": team_selectors.open_invitations(member.partner),
        "permission_columns": PERMISSION_COLUMNS,
    })


@portal_view("users")
@require_POST
def invitation_resend(request, member, pk: int):
    invitation = get_invitation(member, pk)
    try:
        team_services.resend_invitation(actor=request.user, invitation=invitation)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, f"Invitation sent again to {invitation.email}; the earlier link "
                                  "no longer works.")
    return redirect("portal:team")


@portal_view("users")
@require_POST
def invitation_revoke(request, member, pk: int):
    invitation = get_invitation(member, pk)
    try:
        team_services.revoke_invitation(actor=request.user, invitation=invitation)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, f"Invitation of {invitation.email} revoked; its link no longer works.")
    return redirect("portal:team")


# ---------------------------------------------------------------- one member

@portal_view("read")
def member_detail(request, member, pk: int):
    target = get_member(member, pk)
    roles = team_selectors.member_roles(target)
    others = team_selectors.other_members(target)
    permissions_form = MemberPermissionsForm(member=target)
    remove_form = RemoveMemberForm(others=others, roles=roles)
    if request.method == "POST":
        require(member, "users")
        action = request.POST.get("action")
        if action == "permissions":
            permissions_form = MemberPermissionsForm(request.POST, member=target)
            if permissions_form.is_valid():
                try:
                    team_services.update_member_permissions(actor=request.user, member=target,
                                                            **permissions_form.flags())
                except ValidationError as exc:
                    apply_service_errors(permissions_form, exc)
                else:
                    messages.success(request, f"Permissions of {target.user.email} saved.")
                    return redirect("portal:member", pk=target.pk)
        elif action == "remove":
            remove_form = RemoveMemberForm(request.POST, others=others, roles=roles)
            if remove_form.is_valid():
                successor = remove_form.cleaned_data["reassign_to"]
                try:
                    team_services.remove_member(actor=request.user, member=target, reassign_to=successor)
                except ValidationError as exc:
                    apply_service_errors(remove_form, exc)
                else:
                    moved = f" Their roles moved to {successor.user.email}." if successor and roles else ""
                    messages.success(request, f"{target.user.email} is no longer a member of "
                                              f"{member.partner.name}.{moved}")
                    if target.user_id == request.user.pk:
                        return redirect("portal:home")
                    return redirect("portal:team")
        else:
            return HttpResponseBadRequest("Unknown action.")
    return render(request, "appstore/portal/team_member.html", {
        "member": member, "target": target, "roles": roles, "can_manage": member.has("users"),
        "permissions_form": permissions_form, "remove_form": remove_form,
        "is_self": target.user_id == request.user.pk,
    })


# ---------------------------------------------------------------- technical contacts

@portal_view("read")
def technical_contacts(request, member):
    partner = member.partner
    form = ReassignContactsForm(request.POST or None, partner=partner)
    if request.method == "POST":
        require(member, "users")
        if form.is_valid():
            to_user = form.cleaned_data["to_user"]
            try:
                changed = team_services.reassign_technical_contacts(
                    actor=request.user, partner=partner, to_user=to_user,
                    app_ids=[app.pk for app in form.cleaned_data["apps"]])
            except ValidationError as exc:
                apply_service_errors(form, exc)
            else:
                messages.success(request, f"{to_user.email} is now the technical contact of "
                                          f"{changed} more app{'s' if changed != 1 else ''}.")
                return redirect("portal:technical_contacts")
    return render(request, "appstore/portal/technical_contacts.html", {
        "member": member, "can_manage": member.has("users"), "form": form,
        "members": team_selectors.members_with_roles(partner),
        "apps": apps_of(partner).order_by("name"), "selected": form.selected(),
    })


# ---------------------------------------------------------------- invitation link

@never_cache
def invitation(request, token: str):
    """Where the e-mailed link lands: accept, or sign in / create an account first."""
    found = team_selectors.invitation_by_token(token)
    if found is None:
        raise Http404("This invitation link is not valid.")
    problem = team_selectors.invitation_problem(found)
    user = request.user
    if request.method == "POST":
        if not user.is_authenticated:
            return redirect(reverse("account_login") + "?" + urlencode({"next": request.path}))
        if not problem:
            try:
                joined = team_services.accept_invitation(user=user, token=token)
            except ValidationError as exc:
                problem = " ".join(exc.messages)
            else:
                request.session[SESSION_KEY] = joined.partner_id
                messages.success(request, f"Welcome to {joined.partner.name}. You are now working in it.")
                return redirect("portal:home")
    elif request.method != "GET":
        return HttpResponseBadRequest("Use GET or POST.")
    return render(request, "appstore/portal/invitation.html", {
        "invitation": found, "problem": problem,
        "signed_in": user.is_authenticated,
        "matches": user.is_authenticated and user.email.lower() == found.email.lower(),
        "already_member": membership(user=user, partner=found.partner) is not None,
        "login_url": reverse("account_login") + "?" + urlencode({"next": request.path}),
        "signup_url": reverse("account_signup") + "?" + urlencode({"invitation": token}),
    })


portal_urlpatterns = [
    path("team/", team, name="team"),
    path("team/technical-contacts/", technical_contacts, name="technical_contacts"),
    path("team/<int:pk>/", member_detail, name="member"),
    path("team/invitations/<int:pk>/resend/", invitation_resend, name="invitation_resend"),
    path("team/invitations/<int:pk>/revoke/", invitation_revoke, name="invitation_revoke"),
    path("invitations/<str:token>/", invitation, name="invitation"),
]
