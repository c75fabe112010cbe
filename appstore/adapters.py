"""Where people land after signing in: the place their role works in."""

from allauth.account.adapter import DefaultAccountAdapter
from django.urls import reverse

from .selectors.partners import memberships_of


class AccountAdapter(DefaultAccountAdapter):
    def get_login_redirect_url(self, request) -> str:
        """App managers go to the review queue, partner members to the portal, everyone else to the store.

        allauth asks this only when the sign-in carries no safe ?next= address; that one wins.
        """
        user = request.user
        if user.is_app_manager:
            return reverse("review:queue")
        if memberships_of(user).exists():
            return reverse("portal:home")
        return reverse("store:home")
