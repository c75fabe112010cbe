"""The account's e-mail page, stricter than allauth's about which address may become primary."""

from allauth.account.views import EmailView
from django.contrib import messages
from django.http import HttpResponseRedirect


class EmailAddressesView(EmailView):
    """Only a verified address may become an account's primary address (the one it signs in and is
    found with): otherwise anyone could claim an address, and invitations sent to it, by typing it."""

    def _action_primary(self, request, *args, **kwargs):
        email_address = self._get_email_address(request)
        if email_address is not None and not email_address.verified:
            messages.error(request, f"Confirm {email_address.email} first, with the link we e-mailed to it; "
                                    "then it can become your primary address.")
            return HttpResponseRedirect(self.get_success_url())
        return super()._action_primary(request, *args, **kwargs)
